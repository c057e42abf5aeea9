import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { Caller } from '../caller.js';
import { readLine, type ClientReading, type ReadAction } from '../clients/decision.js';
import { readKp4Clients } from '../clients/lists.js';
import { readCaseload, readClientRecord, readHandoverDocument } from '../clients/read.js';
import { clientRecordJson } from '../clients/record-json.js';
import { clientRefSchema } from '../records/suite-record.js';
import type { DenyLine } from '../unit-of-work.js';
import type { AppDeps } from './deps.js';
import { requesterFacts, respondWith } from './context.js';
import type { HonoEnv } from './env.js';
import { usePageCsp } from './security-headers.js';
import { kp4ListSchema, listQuery } from './lists.js';
import { protectedProblems, problemSchema, type Operation } from './openapi.js';
import { handoverDocumentSchema } from '../overdracht/handover-document.js';
import { releasedRecordSchema } from '../policy/release.js';
import { purposeSchema } from '../purposes.js';
import { parseAudited } from './validate.js';
import { handoverPageHtml } from '../web/pages/handover.js';

/** The headers of a client record answer (the body is written by clientRecordJson, as c.json would). */
const JSON_NO_STORE: Record<string, string> = { 'content-type': 'application/json', 'cache-control': 'no-store' };

const clientParams = z.strictObject({ clientRef: clientRefSchema });
/** No query parameter can widen (or narrow) a view: the purpose alone decides. Unknown parameters are refused. */
const noQuery = z.strictObject({});

const withheldSchema = z.object({ field: z.string(), reason: z.string() }).meta({ description: 'A field held back: its name and the policy’s reason' });
const decisionSchema = z
  .object({ id: z.string(), policyVersion: z.string().meta({ description: 'The hash of the policy version the decision was made under' }) })
  .meta({ id: 'DecisionRef' });
const recordResponseSchema = z
  .object({
    clientRef: z.string(),
    purpose: purposeSchema,
    record: releasedRecordSchema,
    withheld: z.array(withheldSchema),
    decision: decisionSchema,
  })
  .meta({ id: 'ClientRecord' });
const handoverResponseSchema = handoverDocumentSchema.extend({ decision: decisionSchema }).meta({ id: 'HandoverDocument' });

/**
 * The client-data routes (api.md, Client data): validate input, call one verb of src/clients/, map the outcome. The
 * verb reads, re-checks, decides and appends the audit line in one unit of work and settles only once it is
 * committed: no log, no data. `reading` is shared with the other routes that decide on clients (its decision cache).
 */
export function clientRoutes(deps: AppDeps, reading: ClientReading) {
  const { uow, policies, clock } = deps;
  const asking = (c: Context<HonoEnv>): Caller => ({ requester: c.get('requester'), facts: requesterFacts(c) });
  /** A refused input is logged as the route's own action (validate.ts says which refusals are). */
  const refused = (c: Context<HonoEnv>, action: ReadAction, clientRef?: string) => (): DenyLine =>
    readLine(action, requesterFacts(c), clientRef, policies.set.version);

  return new Hono<HonoEnv>()
    .get('/:clientRef', async (c) => {
      const { clientRef } = await parseAudited(uow, refused(c, 'record.read'), clientParams, c.req.param(), 'path');
      await parseAudited(uow, refused(c, 'record.read', clientRef), noQuery, c.req.query(), 'query');
      const client = await readClientRecord(uow, reading, asking(c), clientRef);
      return respondWith(c, clientRecordJson(client, c.get('requester').purpose), 200, JSON_NO_STORE);
    })
    .get('/:clientRef/handover-document', async (c) => {
      const { clientRef } = await parseAudited(uow, refused(c, 'document.read'), clientParams, c.req.param(), 'path');
      await parseAudited(uow, refused(c, 'document.read', clientRef), noQuery, c.req.query(), 'query');
      const wantsHtml = prefersHtml(c.req.header('accept'));
      const { document, decision } = await readHandoverDocument(uow, reading, asking(c), clientRef);
      const headers = { 'cache-control': 'no-store', vary: 'accept' };
      if (wantsHtml) return c.html(await handoverPageHtml({ document, decision, generatedAt: clock.now() }, usePageCsp(c)), 200, headers);
      return c.json({ ...document, decision }, 200, headers);
    })
    .get('/', async (c) => {
      // One route, two lists: the participatiecoach's KP4 clients, or the debt counsellor's caseload (whose verb
      // refuses a token of any other purpose, with its deny line).
      const kp4 = c.get('requester').purpose === 'begeleiding-kp4';
      const { cursor, limit } = await parseAudited(uow, refused(c, kp4 ? 'list.read' : 'caseload.read'), listQuery, c.req.query(), 'query');
      const page = kp4 ? await readKp4Clients(uow, reading, asking(c), { cursor, limit }) : await readCaseload(uow, reading, asking(c), { cursor, limit });
      return c.json({ purpose: c.get('requester').purpose, items: page.items, next: page.next }, 200, { 'cache-control': 'no-store' });
    });
}

/** True when the client asks for HTML before JSON (a browser printing the handover page). */
function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const html = accept.indexOf('text/html');
  const json = accept.indexOf('application/json');
  return html !== -1 && (json === -1 || html < json);
}

const caseloadResponseSchema = z
  .object({
    purpose: z.literal('schuldhulpverlening'),
    items: z.array(recordResponseSchema.omit({ purpose: true })),
    next: z.string().nullable().meta({ description: 'Cursor of the next page; null on the last' }),
  })
  .meta({ id: 'Caseload' });

const notFound = { description: 'The client this token is bound to has no record (any more)', schema: problemSchema, contentType: 'application/problem+json' };
const badRequest = { description: 'An invalid path or query parameter', schema: problemSchema, contentType: 'application/problem+json' };

/** The published description of the client-data routes. */
export const clientOperations: Operation[] = [
  {
    method: 'get',
    path: '/v1/clients/{clientRef}',
    operationId: 'getClient',
    summary: 'The client’s record as the token’s purpose may see it',
    tags: ['clients'],
    security: 'bearer',
    params: clientParams,
    query: noQuery,
    responses: {
      200: { description: 'Released fields, and the names of those withheld', schema: recordResponseSchema },
      400: badRequest,
      ...protectedProblems,
      404: notFound,
    },
  },
  {
    method: 'get',
    path: '/v1/clients/{clientRef}/handover-document',
    operationId: 'getHandoverDocument',
    summary: 'The handover document (overdracht-kp4, overdracht-kp3); Accept: text/html gives a printable page',
    tags: ['clients'],
    security: 'bearer',
    params: clientParams,
    query: noQuery,
    responses: {
      200: {
        description: 'The handover document (JSON), or the printable Dutch page when Accept prefers text/html',
        schema: handoverResponseSchema,
        alternatives: { 'text/html': z.string().meta({ description: 'The printable page (HTML, lang nl)' }) },
      },
      400: badRequest,
      ...protectedProblems,
      404: notFound,
    },
  },
  {
    method: 'get',
    path: '/v1/clients',
    operationId: 'listCaseload',
    summary:
      'A list of clients: with a schuldhulpverlening token without a client the debt counsellor’s caseload (each client as the purpose may see it); with a begeleiding-kp4 token without a client the KP4 clients living in the coach’s municipality (minimal fields)',
    tags: ['clients'],
    security: 'bearer',
    query: listQuery,
    responses: {
      200: { description: 'One page of the list the token’s purpose serves', schema: z.discriminatedUnion('purpose', [caseloadResponseSchema, kp4ListSchema]) },
      400: badRequest,
      ...protectedProblems,
    },
  },
];
