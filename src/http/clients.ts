import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { AuditEntry } from '../audit/entry.js';
import { isoDate } from '../clock.js';
import { DoelpoortError, type ErrorCode } from '../errors.js';
import { handoverDocument } from '../overdracht/handover-document.js';
import { groundingOverdracht } from '../policy/context.js';
import { DecisionCache, type Decision } from '../policy/index.js';
import { relationship, type Purpose, type Requester } from '../purposes.js';
import { clientRefSchema, type SuiteRecord } from '../records/suite-record.js';
import type { AppDeps } from './deps.js';
import { requesterFacts } from './context.js';
import { codeToStatus } from './problem.js';
import type { HonoEnv } from './env.js';
import { handoverPage } from './handover-page.js';
import { usePageCsp } from './security-headers.js';
import { protectedProblems, problemSchema, type Operation } from './openapi.js';
import { parseInput, parseInputLogged } from './validate.js';

/** The purposes that read a client's record, and the two that have a handover document. */
const RECORD_PURPOSES: readonly Purpose[] = ['overdracht-kp4', 'begeleiding-kp4', 'overdracht-kp3', 'schuldhulpverlening'];
const HANDOVER_PURPOSES = ['overdracht-kp4', 'overdracht-kp3'] as const;

const clientParams = z.strictObject({ clientRef: clientRefSchema });
/** No query parameter can widen (or narrow) a view: the purpose alone decides. Unknown parameters are refused. */
const noQuery = z.strictObject({});
const caseloadQuery = z.strictObject({
  cursor: clientRefSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

const withheldSchema = z.object({ field: z.string(), reason: z.string() });
const decisionSchema = z.object({ id: z.string(), policyVersion: z.string() });
const recordResponseSchema = z
  .object({
    clientRef: z.string(),
    purpose: z.string(),
    record: z.record(z.string(), z.unknown()).meta({ description: 'Released sections and fields, named as in the Suite export' }),
    withheld: z.array(withheldSchema),
    decision: decisionSchema,
  })
  .meta({ id: 'ClientRecord' });

/** A refusal as a value: the error to answer with and the reason code for the audit line. */
interface Refusal {
  code: ErrorCode;
  reason: string;
  detail: string;
}
type Refused = { ok: false; refusal: Refusal };
type Outcome = { ok: true; record: SuiteRecord; decision: Decision & { decisionId: string } } | Refused;

const refuse = (code: ErrorCode, reason: string, detail: string): Refused => ({ ok: false, refusal: { code, reason, detail } });

/**
 * The client-data routes (api.md, Client data). Each request reads, re-checks the purpose relationship, decides and
 * appends its audit line in one unit (a savepoint of the event-loop turn's group commit) and answers only once that
 * transaction is committed: no log, no data.
 */
export function clientRoutes(deps: AppDeps) {
  const { records, audit, policies, clock } = deps;
  const decisions = new DecisionCache();

  /** Read, re-check, decide: synchronous, inside the audited transaction. */
  function decideFor(requester: Requester, clientRef: string, purposes: readonly Purpose[]): Outcome {
    if (!purposes.includes(requester.purpose)) return refuse('PURPOSE_NOT_ALLOWED', 'PURPOSE_NOT_FOR_ROUTE', 'this token’s purpose does not cover this resource');
    if (requester.client !== clientRef) return refuse('CLIENT_NOT_ALLOWED', 'TOKEN_FOR_OTHER_CLIENT', 'this token is bound to another client, or to none');
    const record = records.get(clientRef);
    // The token names this client, so its holder knew of it: saying it is gone reveals nothing new.
    if (!record) return refuse('RECORD_NOT_FOUND', 'RECORD_NOT_FOUND', 'no record for this client');
    return decideOn(requester, record);
  }

  function decideOn(requester: Requester, record: SuiteRecord): Outcome {
    const today = isoDate(clock.now());
    const rel = relationship(requester.purpose, requester, record, today);
    if (!rel.holds) return refuse('RELATIONSHIP_MISSING', rel.reason, 'the relationship this purpose needs with the client does not hold (any more)');
    const decision = decisions.decide(policies.set, requester, record, { today, decisionId: randomUUID() });
    if (!decision.allowed) return refuse('ACCESS_DENIED', 'POLICY_DENIES', 'the policy releases nothing for this purpose');
    return { ok: true, record, decision: { ...decision, decisionId: decision.decisionId! } };
  }

  function auditEntry(c: Context<HonoEnv>, action: 'record.read' | 'document.read' | 'caseload.read', clientRef: string | undefined, outcome: Outcome): AuditEntry {
    const base = {
      action,
      ...requesterFacts(c),
      clientRef,
      policyVersion: policies.set.version,
    } as const;
    if (!outcome.ok) {
      return { ...base, outcome: 'deny', reason: outcome.refusal.reason, httpStatus: codeToStatus[outcome.refusal.code] };
    }
    const { decision, record } = outcome;
    return {
      ...base,
      outcome: 'permit',
      reason: 'PERMIT',
      httpStatus: 200,
      bsnPseudonym: audit.pseudonym(record.bsn),
      decisionId: decision.decisionId,
      released: decision.released,
      withheld: decision.withheld.map((w) => w.field),
    };
  }

  /** One client, read under the token's purpose; the audited outcome, or the refusal thrown after it was logged. */
  async function readClient(c: Context<HonoEnv>, action: 'record.read' | 'document.read', purposes: readonly Purpose[]) {
    // A malformed reference (a BSN, say) is refused and logged without it.
    const { clientRef } = await parseInputLogged(clientParams, c.req.param(), 'path', () =>
      audit.appendDurable({ action, ...requesterFacts(c), policyVersion: policies.set.version, outcome: 'deny', reason: 'CLIENT_REF_INVALID', httpStatus: 400 }),
    );
    // Group commit: the work runs in its own savepoint of the turn's shared transaction; this settles after COMMIT.
    const outcome = await audit.runDurable(() => {
      const o = decideFor(c.get('requester'), clientRef, purposes);
      audit.append(auditEntry(c, action, clientRef, o));
      return o;
    });
    if (!outcome.ok) throw new DoelpoortError(outcome.refusal.code, outcome.refusal.detail);
    return { clientRef, ...outcome };
  }

  return new Hono<HonoEnv>()
    .get('/:clientRef', async (c) => {
      parseInput(noQuery, c.req.query(), 'query');
      const { clientRef, decision } = await readClient(c, 'record.read', RECORD_PURPOSES);
      return c.json(
        {
          clientRef,
          purpose: c.get('requester').purpose,
          ...releasedBody(decision),
        },
        200,
        { 'cache-control': 'no-store' },
      );
    })
    .get('/:clientRef/handover-document', async (c) => {
      parseInput(noQuery, c.req.query(), 'query');
      const wantsHtml = prefersHtml(c.req.header('accept'));
      const { clientRef, decision, record: full } = await readClient(c, 'document.read', HANDOVER_PURPOSES);
      const { record, withheld, decision: meta } = releasedBody(decision);
      const requester = c.get('requester');
      const overdrachtId = groundingOverdracht(requester.purpose, requester.org, full, isoDate(clock.now()))?.id;
      const document = handoverDocument({ clientRef, purpose: requester.purpose as (typeof HANDOVER_PURPOSES)[number], record, withheld, overdrachtId });
      const headers = { 'cache-control': 'no-store', vary: 'accept' };
      if (wantsHtml) return c.html(await handoverPage(document, meta, new Date(clock.now()).toISOString(), usePageCsp(c)), 200, headers);
      return c.json({ ...document, decision: meta }, 200, headers);
    })
    .get('/', async (c) => {
      const { cursor, limit } = parseInput(caseloadQuery, c.req.query(), 'query');
      const requester = c.get('requester');
      const items = await audit.runDurable(() => {
        if (requester.purpose !== 'schuldhulpverlening' || requester.client !== undefined) {
          const o = refuse('PURPOSE_NOT_ALLOWED', 'NOT_A_CASELOAD_TOKEN', 'listing clients needs a schuldhulpverlening token without a client');
          audit.append(auditEntry(c, 'caseload.read', undefined, o));
          return o;
        }
        const page = records.caseload(requester.org, isoDate(clock.now()), { after: cursor, limit });
        const released = [];
        for (const ref of page.items) {
          const record = records.get(ref);
          if (!record) continue;
          const o = decideOn(requester, record);
          // Every client whose data leaves is its own audit line, so a citizen's access report shows the caseload too.
          audit.append(auditEntry(c, 'caseload.read', ref, o));
          if (o.ok) released.push({ clientRef: ref, ...releasedBody(o.decision) });
        }
        // An empty page is an access too: the counsellor learns that no client is in their caseload.
        if (page.items.length === 0) {
          audit.append({ action: 'caseload.read', ...requesterFacts(c), policyVersion: policies.set.version, outcome: 'permit', reason: 'CASELOAD_EMPTY', httpStatus: 200 });
        }
        return { ok: true as const, items: released, next: page.next };
      });
      if (!items.ok) throw new DoelpoortError(items.refusal.code, items.refusal.detail);
      return c.json({ purpose: requester.purpose, items: items.items, next: items.next }, 200, { 'cache-control': 'no-store' });
    });
}

/** What a response says of a decision: the released view, the withheld names with reasons (no rule index), its id. */
function releasedBody(decision: Decision & { decisionId: string }) {
  return {
    record: decision.view,
    withheld: decision.withheld.map(({ field, reason }) => ({ field, reason })),
    decision: { id: decision.decisionId, policyVersion: decision.policyVersion },
  };
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
    responses: { 200: { description: 'Released fields, and the names of those withheld', schema: recordResponseSchema }, 400: badRequest, ...protectedProblems, 404: notFound },
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
      200: { description: 'The handover document (JSON), or the printable page (text/html)', schema: z.record(z.string(), z.unknown()) },
      400: badRequest,
      ...protectedProblems,
      404: notFound,
    },
  },
  {
    method: 'get',
    path: '/v1/clients',
    operationId: 'listCaseload',
    summary: 'The debt counsellor’s caseload: clients in their municipality’s active trajectories, each as the purpose may see it',
    tags: ['clients'],
    security: 'bearer',
    query: caseloadQuery,
    responses: { 200: { description: 'One page of the caseload', schema: caseloadResponseSchema }, 400: badRequest, ...protectedProblems },
  },
];

