import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { AuditEntry } from '../audit/entry.js';
import {
  FIGURE_KEYS,
  listReviews,
  monthlyQuerySchema,
  monthlyReport,
  recordReview,
  reviewInputSchema,
  reviewsQuerySchema,
  STAND_OUT_RULE_IDS,
  userQuerySchema,
  userReport,
  type OversightDeps,
} from '../audit/oversight.js';
import { REVIEW_SUBJECTS } from '../audit/reviews.js';
import type { ToezichtCaller } from '../audit/toezicht.js';
import { DoelpoortError } from '../errors.js';
import { refuse, type DenyLine } from '../unit-of-work.js';
import { requesterFacts } from './context.js';
import type { HonoEnv } from './env.js';
import { protectedProblems, problemSchema, type Operation } from './openapi.js';
import { parseAudited } from './validate.js';

type OversightAction = Extract<AuditEntry['action'], `oversight.${string}`>;

const callerOf = (c: Context<HonoEnv>, done = 200): ToezichtCaller => ({ requester: c.get('requester'), facts: requesterFacts(c), done });
const noStore = { 'cache-control': 'no-store' };

/**
 * The oversight routes (api.md, Oversight) for a privacy officer's `toezicht` token: each validates its input (a
 * refused input is a deny line of the route's action, validate.ts), calls one verb of src/audit/oversight.ts (which
 * checks the token, scopes the report to the officer's organisation and writes the line) and answers.
 */
export function oversightRoutes(deps: OversightDeps) {
  const { uow } = deps;
  const refused = (c: Context<HonoEnv>, action: OversightAction) => (): DenyLine => ({ action, ...requesterFacts(c) });
  const query = <S extends z.ZodObject>(c: Context<HonoEnv>, schema: S): Promise<z.infer<S>> =>
    parseAudited(uow, refused(c, 'oversight.read'), schema, c.req.query(), 'query');

  return new Hono<HonoEnv>()
    .get('/monthly', async (c) => {
      const { month } = await query(c, monthlyQuerySchema);
      return c.json(await monthlyReport(deps, callerOf(c), month), 200, noStore);
    })
    .get('/users', async (c) => {
      const period = await query(c, userQuerySchema);
      return c.json(await userReport(deps, callerOf(c), period), 200, noStore);
    })
    .get('/reviews', async (c) => {
      const page = await query(c, reviewsQuerySchema);
      return c.json(await listReviews(deps, callerOf(c), page), 200, noStore);
    })
    .post('/reviews', async (c) => {
      await parseAudited(uow, refused(c, 'oversight.reviewed'), z.strictObject({}), c.req.query(), 'query');
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return refuse(uow, new DoelpoortError('REQUEST_INVALID', 'the body must be a JSON document'), refused(c, 'oversight.reviewed')());
      }
      const input = await parseAudited(uow, refused(c, 'oversight.reviewed'), reviewInputSchema, body, 'body');
      return c.json(await recordReview(deps, callerOf(c, 201), input), 201, noStore);
    });
}

const problem = (description: string) => ({ description, schema: problemSchema, contentType: 'application/problem+json' });
const badRequest = problem('An invalid, unknown or missing parameter, a period in the future or too long; every problem by its path (refused and logged)');
const common = { tags: ['oversight'], security: 'bearer' as const };

const figureSchema = z.object({
  key: z.enum(FIGURE_KEYS),
  label: z.string().meta({ description: 'Dutch, for a page' }),
  description: z.string().meta({ description: 'What the figure counts, in Dutch' }),
  value: z.number().int(),
  series: z.array(z.object({ month: z.string(), value: z.number().int() })).meta({ description: 'The 6 months before, then the month itself' }),
  previousAverage: z.number().nullable().meta({ description: 'Average over the previous months with any line in scope; null when none has' }),
});
const figureCounts = Object.fromEntries(FIGURE_KEYS.map((k) => [k, z.number().int()])) as Record<(typeof FIGURE_KEYS)[number], z.ZodNumber>;
const monthlySchema = z
  .object({
    month: z.string(),
    from: z.string().meta({ description: 'Local midnight (Europe/Amsterdam) the month starts, as UTC' }),
    to: z.string().meta({ description: 'Local midnight the next month starts (exclusive)' }),
    timeZone: z.literal('Europe/Amsterdam'),
    reikwijdte: z.string().meta({ description: '`alle`, or the organisation whose staff’s lines the report covers' }),
    generatedAt: z.string(),
    months: z.array(z.string()),
    figures: z.array(figureSchema),
    groups: z.array(
      z.object({
        organisation: z.string(),
        organisationName: z.string(),
        role: z.string().nullable(),
        purpose: z.string().nullable(),
        purposeLabel: z.string().nullable(),
        ...figureCounts,
      }),
    ),
  })
  .meta({ id: 'OversightMonthlyReport', description: 'Counts only: no person, client, value or BSN' });

const ruleSchema = z.object({
  id: z.enum(STAND_OUT_RULE_IDS),
  label: z.string(),
  description: z.string(),
  measure: z.enum(['accesses', 'denialShare', 'outsideOfficeHoursShare']),
  factor: z.number(),
  floor: z.number(),
  minimum: z.number().int(),
});
const personSchema = z.object({
  iss: z.string(),
  sub: z.string(),
  role: z.string(),
  organisation: z.string(),
  organisationName: z.string(),
  accesses: z.number().int(),
  permits: z.number().int(),
  denials: z.number().int(),
  tokenRefusals: z.number().int(),
  distinctClients: z.number().int(),
  offHours: z.number().int(),
  weekend: z.number().int(),
  outsideOfficeHours: z.number().int(),
  offHoursShare: z.number(),
  outsideOfficeHoursShare: z.number(),
  denialShare: z.number(),
  emergency: z.number().int(),
  bsnLookups: z.number().int(),
  peers: z.number().int(),
  peerMedian: z.object({ accesses: z.number(), denialShare: z.number(), outsideOfficeHoursShare: z.number() }).nullable(),
  standsOut: z.array(z.object({ rule: z.enum(STAND_OUT_RULE_IDS), value: z.number(), threshold: z.number() })),
});
const usersSchema = z
  .object({
    fromDate: z.string(),
    toDate: z.string(),
    from: z.string(),
    to: z.string(),
    timeZone: z.literal('Europe/Amsterdam'),
    reikwijdte: z.string(),
    generatedAt: z.string(),
    minimumPeers: z.number().int(),
    rules: z.array(ruleSchema),
    persons: z.array(personSchema),
  })
  .meta({ id: 'OversightUserReport' });
const reviewSchema = z
  .object({
    id: z.number().int(),
    at: z.number().int().meta({ description: 'Epoch milliseconds' }),
    officer: z.object({ iss: z.string(), sub: z.string(), org: z.string() }),
    subject: z.enum(REVIEW_SUBJECTS),
    periodFrom: z.string(),
    periodTo: z.string(),
    note: z.string(),
  })
  .meta({ id: 'OversightReview' });

/** The published description of the oversight routes. */
export const oversightOperations: Operation[] = [
  {
    ...common,
    method: 'get',
    path: '/v1/oversight/monthly',
    operationId: 'oversightMonthly',
    summary:
      'The monthly anonymous report: accesses per organisation, role and purpose, permits and denials, look-ups by BSN, off-hours and weekend accesses, emergency accesses, each with the 6 months before',
    query: monthlyQuerySchema,
    responses: { 200: { description: 'The figures', schema: monthlySchema }, 400: badRequest, ...protectedProblems },
  },
  {
    ...common,
    method: 'get',
    path: '/v1/oversight/users',
    operationId: 'oversightUsers',
    summary:
      'The per-person report over local days (at most 92): accesses, distinct clients, denials, off-hours share, emergency accesses, and who stands out against their peers, with the rules',
    query: userQuerySchema,
    responses: { 200: { description: 'The persons, those who stand out first', schema: usersSchema }, 400: badRequest, ...protectedProblems },
  },
  {
    ...common,
    method: 'post',
    path: '/v1/oversight/reviews',
    operationId: 'recordOversightReview',
    summary: 'Record that a report or a period was reviewed, with a note (the review trail)',
    body: { contentType: 'application/json', schema: reviewInputSchema },
    responses: { 201: { description: 'The recorded review', schema: reviewSchema }, 400: badRequest, ...protectedProblems },
  },
  {
    ...common,
    method: 'get',
    path: '/v1/oversight/reviews',
    operationId: 'listOversightReviews',
    summary: 'The reviews, newest first: the officer’s organisation’s, or all for a Werkzaak officer',
    query: reviewsQuerySchema,
    responses: {
      200: { description: 'One page of reviews', schema: z.object({ items: z.array(reviewSchema), next: z.string().nullable() }) },
      400: badRequest,
      ...protectedProblems,
    },
  },
];
