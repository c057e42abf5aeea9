import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { ToezichtCaller } from '../audit/toezicht.js';
import { DoelpoortError } from '../errors.js';
import { judgeNoodtoegang, listNoodtoegang, noodtoegangQuerySchema, verdictBodySchema, type ReviewDeps } from '../noodtoegang/review.js';
import { purposeSchema, roleSchema } from '../purposes.js';
import { refuse, type DenyLine } from '../unit-of-work.js';
import { requesterFacts } from './context.js';
import type { HonoEnv } from './env.js';
import { problemSchema, protectedProblems, type Operation } from './openapi.js';
import { parseAudited } from './validate.js';

const idParams = z.strictObject({ id: z.uuid().meta({ description: 'The emergency access’s id' }) });
const noQuery = z.strictObject({});

const itemSchema = z
  .object({
    id: z.uuid(),
    at: z.iso.datetime().meta({ description: 'When the emergency token was granted' }),
    clientRef: z.string(),
    purpose: purposeSchema,
    actor: z
      .object({ iss: z.string(), sub: z.string(), role: roleSchema, org: z.string() })
      .meta({ description: 'Who was granted it: a person is (iss, sub)' }),
    clientId: z.string().meta({ description: 'The registered client the token was issued to' }),
    reden: z.string().meta({ description: 'The reason the requester wrote' }),
    verdict: z.enum(['terecht', 'onterecht']).nullable(),
    review: z
      .object({ note: z.string(), by: z.object({ iss: z.string(), sub: z.string() }), at: z.iso.datetime() })
      .nullable()
      .meta({ description: 'Who recorded the verdict, when, and the note; null while there is none' }),
    overdue: z.boolean().meta({ description: 'No verdict yet, and granted more than 7 days ago' }),
  })
  .meta({ id: 'Noodtoegang' });
const pageSchema = z
  .object({ items: z.array(itemSchema), next: z.string().nullable().meta({ description: 'Cursor of the next page; null on the last' }) })
  .meta({ id: 'NoodtoegangQueue' });

/** The caller of a review verb: the requester, their line's facts, and the status of a success. */
const callerOf = (c: Context<HonoEnv>): ToezichtCaller => ({ requester: c.get('requester'), facts: requesterFacts(c), done: 200 });
const noStore = { 'cache-control': 'no-store' };

/**
 * The review queue of emergency accesses (`toezicht` token), mounted at `/v1/oversight/break-glass`: validate, call
 * one verb of src/noodtoegang/review.ts (which checks the token, scopes the queue and writes the line), answer.
 */
export function breakGlassRoutes(deps: ReviewDeps) {
  const { uow } = deps;
  const refused = (c: Context<HonoEnv>, action: 'noodtoegang.read' | 'noodtoegang.verdict', id?: string) => (): DenyLine => ({
    action,
    ...requesterFacts(c),
    ...(id === undefined ? {} : { noodtoegangId: id }),
  });
  return new Hono<HonoEnv>()
    .get('/', async (c) => {
      const query = await parseAudited(uow, refused(c, 'noodtoegang.read'), noodtoegangQuerySchema, c.req.query(), 'query');
      return c.json(await listNoodtoegang(deps, callerOf(c), query), 200, noStore);
    })
    .post('/:id/verdict', async (c) => {
      const { id } = await parseAudited(uow, refused(c, 'noodtoegang.verdict'), idParams, c.req.param(), 'path');
      await parseAudited(uow, refused(c, 'noodtoegang.verdict', id), noQuery, c.req.query(), 'query');
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return refuse(uow, new DoelpoortError('REQUEST_INVALID', 'the body must be a JSON document'), refused(c, 'noodtoegang.verdict', id)());
      }
      const verdict = await parseAudited(uow, refused(c, 'noodtoegang.verdict', id), verdictBodySchema, body, 'body');
      return c.json(await judgeNoodtoegang(deps, callerOf(c), id, verdict), 200, noStore);
    });
}

const problem = (description: string) => ({ description, schema: problemSchema, contentType: 'application/problem+json' });
const common = { tags: ['oversight'], security: 'bearer' as const };

/** The published description of the review queue. */
export const breakGlassOperations: Operation[] = [
  {
    ...common,
    method: 'get',
    path: '/v1/oversight/break-glass',
    operationId: 'listNoodtoegang',
    summary:
      'The review queue of emergency accesses (break-glass), oldest first, with the written reason: every one for a Werkzaak officer, those of the own organisation’s staff for a municipal officer (toezicht)',
    query: noodtoegangQuerySchema,
    responses: {
      200: { description: 'One page of the queue', schema: pageSchema },
      400: problem('An invalid query parameter or cursor'),
      ...protectedProblems,
    },
  },
  {
    ...common,
    method: 'post',
    path: '/v1/oversight/break-glass/{id}/verdict',
    operationId: 'judgeNoodtoegang',
    summary: 'Record the verdict (terecht / onterecht) on an emergency access, with a note: a privacy officer of WERKZAAK, once, never on their own',
    params: idParams,
    query: noQuery,
    body: { contentType: 'application/json', schema: verdictBodySchema },
    responses: {
      200: { description: 'The emergency access with its verdict', schema: itemSchema },
      400: problem('An invalid id, or a body that is not JSON of this shape'),
      ...protectedProblems,
      403: problem(
        'The token does not allow this (PURPOSE_NOT_ALLOWED), its holder is not a privacy officer of WERKZAAK (NOODTOEGANG_NOT_CONTROLLER), or is the person who was granted the access (NOODTOEGANG_SELF_REVIEW)',
      ),
      404: problem('No emergency access with this id (NOODTOEGANG_NOT_FOUND)'),
      409: problem('The emergency access has a verdict already (NOODTOEGANG_JUDGED)'),
      413: problem('A body over 16 KiB'),
    },
  },
];
