import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { accessReport } from '../audit/access-report.js';
import type { AuditLine } from '../audit/entry.js';
import { auditQuerySchema } from '../audit/query.js';
import { queryAudit, verifyAuditTrail, type ToezichtCaller, type ToezichtDeps } from '../audit/toezicht.js';
import type { Clock } from '../clock.js';
import { clientRefSchema } from '../records/suite-record.js';
import type { DenyLine } from '../unit-of-work.js';
import { requesterFacts } from './context.js';
import type { HonoEnv } from './env.js';
import { protectedProblems, problemSchema, type Operation } from './openapi.js';
import { parseAudited } from './validate.js';

const clientParams = z.strictObject({ clientRef: clientRefSchema });
const noQuery = z.strictObject({});

const lineSchema = z.object({
  seq: z.number().int(),
  at: z.iso.datetime(),
  action: z.string(),
  outcome: z.string(),
  chainHash: z.string(),
  entry: z.record(z.string(), z.unknown()).nullable(),
});
const accessSchema = z.object({
  datum: z.iso.date().meta({ description: 'The day of the consultation (UTC)' }),
  organisatie: z.string(),
  rol: z.string(),
  doel: z.string(),
  verwerkingsactiviteit: z.string(),
  gegevenscategorieen: z.array(z.string()),
});

/** The caller of an audit verb: the requester, their line's facts, and the status of a success. */
const callerOf = (c: Context<HonoEnv>): ToezichtCaller => ({ requester: c.get('requester'), facts: requesterFacts(c), done: 200 });

const noStore = { 'cache-control': 'no-store' };
const toJson = (l: AuditLine) => ({
  seq: l.seq,
  at: new Date(l.at).toISOString(),
  action: l.action,
  outcome: l.outcome,
  chainHash: l.chainHash,
  entry: l.entry ?? null,
});

/**
 * The privacy officer's reading routes (`toezicht` token): the audit log, its verification, and a citizen's access
 * report. Each validates its input, calls one verb of src/audit/ (which checks the token, scopes the reading to the
 * officer's organisation and writes the audit line) and answers.
 */
export function auditRoutes(deps: ToezichtDeps & { clock: Clock }) {
  const { uow } = deps;
  /** The deny line of a refused input: the route's action (validate.ts says which refusals are logged). */
  const refused = (c: Context<HonoEnv>, action: 'audit.read' | 'access-report.read', clientRef?: string) => (): DenyLine => ({
    action,
    ...requesterFacts(c),
    ...(clientRef === undefined ? {} : { clientRef }),
  });

  return new Hono<HonoEnv>()
    .get('/audit', async (c) => {
      const query = await parseAudited(uow, refused(c, 'audit.read'), auditQuerySchema, c.req.query(), 'query');
      const page = await queryAudit(deps, callerOf(c), query);
      return c.json({ items: page.items.map(toJson), next: page.next }, 200, noStore);
    })
    .get('/audit/verify', async (c) => {
      await parseAudited(uow, refused(c, 'audit.read'), noQuery, c.req.query(), 'query');
      return c.json(await verifyAuditTrail(deps, callerOf(c)), 200, noStore);
    })
    .get('/clients/:clientRef/access-report', async (c) => {
      // A malformed reference (a BSN, say) is refused and logged without it (CLIENT_REF_INVALID).
      const { clientRef } = await parseAudited(uow, refused(c, 'access-report.read'), clientParams, c.req.param(), 'path');
      await parseAudited(uow, refused(c, 'access-report.read', clientRef), noQuery, c.req.query(), 'query');
      return c.json(await accessReport(deps, callerOf(c), clientRef), 200, noStore);
    });
}

/** The published description of the audit routes. */
export const auditOperations: Operation[] = [
  {
    method: 'get',
    path: '/v1/audit',
    operationId: 'listAudit',
    summary: 'Audit lines, newest first, filtered and paginated (toezicht)',
    tags: ['audit'],
    security: 'bearer',
    query: auditQuerySchema,
    responses: {
      200: { description: 'One page of lines', schema: z.object({ items: z.array(lineSchema), next: z.string().nullable() }) },
      400: { description: 'An invalid filter', schema: problemSchema, contentType: 'application/problem+json' },
      ...protectedProblems,
    },
  },
  {
    method: 'get',
    path: '/v1/audit/verify',
    operationId: 'verifyAudit',
    summary: 'Recomputes the hash chain and checks the signed checkpoints (toezicht)',
    tags: ['audit'],
    security: 'bearer',
    query: noQuery,
    responses: {
      200: {
        description:
          '{ ok: true, records, head } or { ok: false, records, firstBad }; `witness` says whether a witness directory is configured and which of its checkpoints was compared',
        schema: z.object({
          ok: z.boolean(),
          records: z.number(),
          head: z.string().optional(),
          checkpoints: z.number().optional(),
          firstBad: z.object({ seq: z.number(), reason: z.string() }).optional(),
          witness: z.object({
            configured: z.boolean(),
            checkpoint: z
              .object({ size: z.number().int(), head: z.string(), at: z.number().int().meta({ description: 'When it was signed, in epoch milliseconds' }) })
              .nullable()
              .optional(),
          }),
        }),
      },
      400: { description: 'A query parameter (this route takes none)', schema: problemSchema, contentType: 'application/problem+json' },
      ...protectedProblems,
    },
  },
  {
    method: 'get',
    path: '/v1/clients/{clientRef}/access-report',
    operationId: 'accessReport',
    summary: 'For a citizen’s access request (AVG art. 15): when, which organisation and role, which purpose, which data categories; no staff names',
    tags: ['audit'],
    security: 'bearer',
    params: clientParams,
    query: noQuery,
    responses: {
      200: {
        description: 'The consultations of this client’s data: by the officer’s own organisation, or by all for a Werkzaak officer',
        schema: z.object({
          clientRef: z.string(),
          opgesteld: z.iso.datetime(),
          reikwijdte: z.string().meta({ description: '`alle`, or the organisation whose accesses the report covers' }),
          raadplegingen: z.array(accessSchema),
        }),
      },
      400: { description: 'A malformed clientRef (refused and logged without it)', schema: problemSchema, contentType: 'application/problem+json' },
      ...protectedProblems,
    },
  },
];
