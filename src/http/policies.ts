import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { AuditEntry } from '../audit/entry.js';
import { linesByAction } from '../audit/query.js';
import { isoDate } from '../clock.js';
import { DoelpoortError, isDoelpoortError } from '../errors.js';
import { checkPolicyDocument, policyDocumentSchema, policySetFromDocument, type PolicySet } from '../policy/index.js';
import { DECISION_ACTIONS, ImpactReplay } from '../policy/impact.js';
import { simulate } from '../policy/simulate.js';
import type { PolicyOfficer, PolicyVersion } from '../policy/versions.js';
import { organisationCouldSee, organisationSchema, purposeSchema, roleSchema, seesEveryClient, type Requester } from '../purposes.js';
import { checkSuiteRecord, clientRefSchema, type SuiteRecord } from '../records/suite-record.js';
import type { AppDeps } from './deps.js';
import { requesterFacts } from './context.js';
import type { HonoEnv } from './env.js';
import { protectedProblems, problemSchema, type Operation } from './openapi.js';
import { codeToStatus } from './problem.js';
import { parseInput } from './validate.js';

const DAY_MS = 86_400_000;
/** Lines replayed per slice of an impact report; the event loop gets a turn between slices. */
const IMPACT_PAGE = 1000;

const idParams = z.strictObject({ id: z.coerce.number().int().min(1).max(2 ** 31 - 1).meta({ description: 'The policy version id' }) });
const noQuery = z.strictObject({});
const impactQuery = z.strictObject({ days: z.coerce.number().int().min(1).max(365).default(30).meta({ description: 'The window replayed: the last N days' }) });
const rejectBody = z.strictObject({ reason: z.string().trim().min(1).max(500) });
/** A JSON object, passed on as given: zod would copy it and drop an own `__proto__` key that the checks must see. */
const jsonObject = z.custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v));
const simulateBody = z
  .strictObject({
    policy: z
      .union([z.number().int().min(1), jsonObject])
      .optional()
      .meta({ description: 'A stored version id, or an inline policy document; the active version when absent' }),
    role: roleSchema,
    org: organisationSchema,
    purpose: purposeSchema,
    clientRef: clientRefSchema.optional().meta({ description: 'A real client; only one the officer’s organisation could see (Werkzaak: every client)' }),
    record: jsonObject.optional().meta({ description: 'A hypothetical Suite record (one line of an export), validated as at import' }),
  })
  .refine((b) => (b.clientRef === undefined) !== (b.record === undefined), { message: 'give exactly one of clientRef and record' })
  .meta({ id: 'PolicySimulationRequest', description: 'Exactly one of clientRef and record' });

const versionSummarySchema = z
  .object({
    id: z.number().int(),
    status: z.enum(['draft', 'active', 'retired', 'rejected']),
    hash: z.string().meta({ description: 'SHA-256 of the canonical document: the policyVersion of decisions under it' }),
    author: z.object({ iss: z.string().meta({ description: 'The issuer of the author’s login: a person is (iss, sub)' }), sub: z.string(), org: z.string() }),
    createdAt: z.string(),
    baseVersion: z.number().int().nullable().meta({ description: 'The version that was active when this one was proposed' }),
    decider: z.string().nullable().meta({ description: 'Who approved or rejected it (sub)' }),
    deciderIss: z.string().nullable().meta({ description: 'The issuer of the decider’s login' }),
    decidedAt: z.string().nullable(),
    rejectReason: z.string().nullable(),
  })
  .meta({ id: 'PolicyVersionSummary' });
const versionSchema = versionSummarySchema.extend({ document: policyDocumentSchema }).meta({ id: 'PolicyVersion' });
const listSchema = z.object({ active: z.number().int(), items: z.array(versionSummarySchema) }).meta({ id: 'PolicyVersionList' });
const approvalSchema = z.object({ activated: versionSummarySchema, retired: versionSummarySchema.nullable() }).meta({ id: 'PolicyApproval' });
const simulationSchema = z
  .object({
    decision: z.object({
      allowed: z.boolean(),
      policyVersion: z.string(),
      relationship: z.object({ holds: z.boolean(), reason: z.string().optional() }),
    }),
    released: z.array(z.string()),
    withheld: z.array(z.object({ field: z.string(), reason: z.string(), rule: z.number().int().optional() })),
    matchedRules: z.array(z.number().int()),
  })
  .meta({ id: 'PolicySimulation', description: 'Field names only: a simulation never returns a value' });
const fieldCounts = z.array(z.object({ field: z.string(), lines: z.number().int() }));
const impactSchema = z
  .object({
    policy: z.object({ id: z.number().int(), status: z.string(), hash: z.string() }),
    window: z.object({ days: z.number().int(), from: z.string(), to: z.string() }),
    policyVersion: z.string(),
    scanned: z.number().int(),
    replayed: z.number().int(),
    changed: z.number().int(),
    skipped: z.record(z.string(), z.number().int()),
    groups: z.array(
      z.object({
        role: z.string(),
        purpose: z.string(),
        replayed: z.number().int(),
        changed: z.number().int(),
        accessGranted: z.number().int(),
        accessRefused: z.number().int(),
        newlyReleased: fieldCounts,
        newlyWithheld: fieldCounts,
      }),
    ),
    examples: z.array(
      z.object({
        auditSeq: z.number().int(),
        clientRef: z.string(),
        decisionId: z.string().optional(),
        role: z.string(),
        purpose: z.string(),
        access: z.enum(['unchanged', 'granted', 'refused']),
        newlyReleased: z.array(z.string()),
        newlyWithheld: z.array(z.string()),
      }),
    ),
    examplesTruncated: z.boolean(),
  })
  .meta({ id: 'PolicyImpact', description: 'What the version would change in the decisions logged over the window, by field name' });

type PolicyAction = Extract<AuditEntry['action'], `policy.${string}`>;
type PolicyLine = Omit<Extract<AuditEntry, { action: 'policy.read' }>, 'action'>;
/** What a policy audit line may hold beside who, why and when: ids, a hash, a clientRef and field names. */
interface LineFields {
  policyId?: number;
  policyVersion?: string;
  clientRef?: string;
  released?: string[];
  withheld?: string[];
  count?: number;
}

/** A value computed before the audited transaction (a body, a replay), or the coded error computing it gave. */
type Prepared<T> = { ok: true; value: T } | { ok: false; error: DoelpoortError };

async function prepare<T>(work: () => Promise<T> | T): Promise<Prepared<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    if (isDoelpoortError(error)) return { ok: false, error };
    throw error;
  }
}

const unwrap = <T>(p: Prepared<T>): T => {
  if (!p.ok) throw p.error;
  return p.value;
};

const isPolicyOfficer = (r: Requester) => r.role === 'privacy-officer' && r.purpose === 'beleidsbeheer';
const officerOf = (r: Requester): PolicyOfficer => ({ iss: r.issuer, sub: r.sub, org: r.org });

const summary = ({ document: _, ...rest }: PolicyVersion) => rest;

/**
 * The policy lifecycle routes (api.md, Policies) for a privacy officer's `beleidsbeheer` token: versions, four-eyes
 * approval, rejection, simulation and impact replay. Every request, refused or not, writes its audit line before it is
 * answered; simulation and impact answer with field names and ids, never a record value.
 */
export function policyRoutes(deps: AppDeps) {
  const { audit, policies, records, clock } = deps;
  const versions = policies.versions;

  /**
   * Runs `work` in the audited transaction after the role and purpose check. A coded error thrown by `work` becomes a
   * refusal: its line is appended (with whatever `work` put into `line` so far) and the error is thrown once committed.
   * `work` must throw before its own writes, or make them in a nested transaction, so a refusal changes nothing.
   */
  function audited<T>(c: Context<HonoEnv>, action: PolicyAction, work: (line: LineFields) => T, status = 200): T {
    const requester = c.get('requester');
    const outcome = audit.run(() => {
      const line: LineFields = {};
      let result: Prepared<T>;
      if (!isPolicyOfficer(requester)) {
        result = { ok: false, error: new DoelpoortError('PURPOSE_NOT_ALLOWED', 'managing policies needs a privacy officer’s beleidsbeheer token') };
      } else {
        try {
          result = { ok: true, value: work(line) };
        } catch (error) {
          if (!isDoelpoortError(error)) throw error;
          result = { ok: false, error };
        }
      }
      const base = { ...requesterFacts(c), ...line };
      const fields: PolicyLine = result.ok
        ? { ...base, outcome: 'permit', reason: 'PERMIT', httpStatus: status }
        : { ...base, outcome: 'deny', reason: result.error.code, httpStatus: codeToStatus[result.error.code] };
      // Every policy.* variant has these same fields (entry.ts); TypeScript cannot spread a union discriminant.
      audit.append({ ...fields, action } as AuditEntry);
      return result;
    });
    return unwrap(outcome);
  }

  /** The request body as JSON, or REQUEST_INVALID (read before the transaction: reading is async). */
  const jsonBody = (c: Context<HonoEnv>) =>
    prepare(async () => {
      try {
        return (await c.req.json()) as unknown;
      } catch {
        throw new DoelpoortError('REQUEST_INVALID', 'the body must be a JSON document');
      }
    });

  const stored = (id: number): PolicyVersion => {
    const version = versions.get(id);
    if (!version) throw new DoelpoortError('POLICY_NOT_FOUND', `no policy version ${id}`);
    return version;
  };

  /** The policy set a simulation runs under: the active version, a stored one by id, or an inline document. */
  function simulatedSet(policy: number | Record<string, unknown> | undefined, line: LineFields): PolicySet {
    if (policy === undefined) {
      line.policyId = policies.version.id;
      line.policyVersion = policies.set.version;
      return policies.set;
    }
    if (typeof policy === 'number') {
      const version = stored(policy);
      line.policyId = version.id;
      const set = policies.compile(version);
      line.policyVersion = set.version;
      return set;
    }
    const checked = checkPolicyDocument(policy, 'policy');
    if (!checked.ok) throw new DoelpoortError('POLICY_INVALID', `the policy document has ${checked.problems.length} problem(s)`, checked.problems);
    // Not through policies.compile: its cache is for stored versions, and inline drafts would grow it without end.
    const set = policySetFromDocument(checked.document);
    line.policyVersion = set.version;
    return set;
  }

  /**
   * A real client's record, for an officer whose organisation could see that client. An unknown client is refused
   * like a foreign one, so that the answer says nothing about who is on record; only Werkzaak, which could see every
   * client, learns that a client is unknown.
   */
  function visibleRecord(org: string, clientRef: string, today: string): SuiteRecord {
    const record = records.get(clientRef);
    if (record && organisationCouldSee(org, record, today)) return record;
    if (!record && seesEveryClient(org)) throw new DoelpoortError('RECORD_NOT_FOUND', 'no record for this client');
    throw new DoelpoortError('CLIENT_NOT_ALLOWED', 'your organisation cannot simulate on this client; give a hypothetical record instead');
  }

  /** A hypothetical record, validated exactly as an import line, with the same value-free problems. */
  function hypotheticalRecord(value: unknown): SuiteRecord {
    const checked = checkSuiteRecord(value);
    if (checked.ok) return checked.record;
    const problems = checked.problems.map((p) => ({ path: p.field ? `record.${p.field}` : 'record', message: p.message }));
    throw new DoelpoortError('RECORD_INVALID', `the hypothetical record has ${problems.length} problem(s)`, problems);
  }

  /**
   * Replays the decision lines of the window under `version`, a slice at a time, outside any transaction; for a
   * municipal officer only the lines of clients its organisation could see.
   */
  async function impactOf(version: PolicyVersion, days: number, org: string) {
    const set = policies.compile(version);
    const to = clock.now();
    const from = to - days * DAY_MS;
    const today = isoDate(to);
    const couldSee = seesEveryClient(org) ? undefined : (record: SuiteRecord) => organisationCouldSee(org, record, today);
    const replay = new ImpactReplay(set, (ref) => records.get(ref), couldSee ? { couldSee } : {});
    for (let after = 0; ; ) {
      const page = linesByAction(audit.db, { actions: DECISION_ACTIONS, from, to, after, limit: IMPACT_PAGE });
      for (const line of page) replay.add(line);
      if (page.length < IMPACT_PAGE) break;
      after = page[page.length - 1]!.seq;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return {
      policy: { id: version.id, status: version.status, hash: version.hash },
      window: { days, from: new Date(from).toISOString(), to: new Date(to).toISOString() },
      ...replay.report(),
    };
  }

  return new Hono<HonoEnv>()
    .get('/', (c) => {
      const items = audited(c, 'policy.read', (line) => {
        parseInput(noQuery, c.req.query(), 'query');
        const all = versions.list();
        line.count = all.length;
        return all.map(summary);
      });
      return c.json({ active: policies.version.id, items }, 200, { 'cache-control': 'no-store' });
    })
    .post('/', async (c) => {
      const body = await jsonBody(c);
      const version = audited(
        c,
        'policy.proposed',
        (line) => {
          const checked = checkPolicyDocument(unwrap(body));
          if (!checked.ok) throw new DoelpoortError('POLICY_INVALID', `the policy document has ${checked.problems.length} problem(s)`, checked.problems);
          const requester = c.get('requester');
          const proposed = versions.propose(checked.document, officerOf(requester));
          Object.assign(line, { policyId: proposed.id, policyVersion: proposed.hash });
          return proposed;
        },
        201,
      );
      return c.json(version, 201, { location: `/v1/policies/${version.id}`, 'cache-control': 'no-store' });
    })
    .post('/simulate', async (c) => {
      const body = await jsonBody(c);
      const result = audited(c, 'policy.simulated', (line) => {
        const input = parseInput(simulateBody, unwrap(body), 'body');
        if (input.clientRef !== undefined) line.clientRef = input.clientRef;
        const set = simulatedSet(input.policy, line);
        const today = isoDate(clock.now());
        const record = input.clientRef !== undefined ? visibleRecord(c.get('requester').org, input.clientRef, today) : hypotheticalRecord(input.record);
        const simulation = simulate(set, input, record, today);
        line.released = simulation.released;
        line.withheld = simulation.withheld.map((w) => w.field);
        return simulation;
      });
      return c.json(result, 200, { 'cache-control': 'no-store' });
    })
    .get('/:id', (c) => {
      const version = audited(c, 'policy.read', (line) => {
        const { id } = parseInput(idParams, c.req.param(), 'path');
        parseInput(noQuery, c.req.query(), 'query');
        line.policyId = id;
        const found = stored(id);
        line.policyVersion = found.hash;
        return found;
      });
      return c.json(version, 200, { 'cache-control': 'no-store' });
    })
    .post('/:id/approve', async (c) => {
      const result = audited(c, 'policy.approved', (line) => {
        const { id } = parseInput(idParams, c.req.param(), 'path');
        parseInput(noQuery, c.req.query(), 'query');
        line.policyId = id;
        const draft = stored(id);
        line.policyVersion = draft.hash;
        // Compiled (and cached) before it is activated, so the refresh after commit cannot fail on it.
        policies.compile(draft);
        return versions.approve(id, officerOf(c.get('requester')));
      });
      policies.refresh();
      return c.json({ activated: summary(result.activated), retired: result.retired ? summary(result.retired) : null }, 200, { 'cache-control': 'no-store' });
    })
    .post('/:id/reject', async (c) => {
      const body = await jsonBody(c);
      const rejected = audited(c, 'policy.rejected', (line) => {
        const { id } = parseInput(idParams, c.req.param(), 'path');
        line.policyId = id;
        const { reason } = parseInput(rejectBody, unwrap(body), 'body');
        const draft = stored(id);
        line.policyVersion = draft.hash;
        // The reason is the officer's own text: it is kept with the version, not in the audit line.
        return versions.reject(id, officerOf(c.get('requester')), reason);
      });
      return c.json(summary(rejected), 200, { 'cache-control': 'no-store' });
    })
    .get('/:id/impact', async (c) => {
      const requester = c.get('requester');
      const report = await prepare(async () => {
        // The replay is the expensive part: not for a token that will be refused anyway.
        if (!isPolicyOfficer(requester)) return undefined;
        const { id } = parseInput(idParams, c.req.param(), 'path');
        const { days } = parseInput(impactQuery, c.req.query(), 'query');
        return impactOf(stored(id), days, requester.org);
      });
      const result = audited(c, 'policy.impact', (line) => {
        const value = unwrap(report)!;
        Object.assign(line, { policyId: value.policy.id, policyVersion: value.policy.hash, count: value.replayed });
        return value;
      });
      return c.json(result, 200, { 'cache-control': 'no-store' });
    });
}

const problem = (description: string) => ({ description, schema: problemSchema, contentType: 'application/problem+json' });
const badRequest = problem('An invalid path or query parameter, or a body that is not JSON of the expected shape');
const notFound = problem('No policy version with this id (POLICY_NOT_FOUND)');
const invalid = problem('The policy document is invalid or breaks a guardrail (POLICY_INVALID); `problems` lists every problem with its path');
const json = (schema: z.ZodType) => ({ contentType: 'application/json', schema });
const common = { tags: ['policies'], security: 'bearer' as const };

/** The published description of the policy lifecycle routes. */
export const policyOperations: Operation[] = [
  {
    ...common,
    method: 'get',
    path: '/v1/policies',
    operationId: 'listPolicyVersions',
    summary: 'The policy versions, newest first, and which one is active',
    query: noQuery,
    responses: { 200: { description: 'The versions, without their documents', schema: listSchema }, 400: badRequest, ...protectedProblems },
  },
  {
    ...common,
    method: 'post',
    path: '/v1/policies',
    operationId: 'proposePolicyVersion',
    summary: 'Propose a new policy version: validated as at load, stored as a draft',
    body: json(policyDocumentSchema),
    responses: { 201: { description: 'The stored draft', schema: versionSchema }, 400: badRequest, ...protectedProblems, 422: invalid },
  },
  {
    ...common,
    method: 'post',
    path: '/v1/policies/simulate',
    operationId: 'simulatePolicy',
    summary: 'What a version (active, stored or inline) would release and withhold for a role, purpose and client (a visible one, or a hypothetical record): names only',
    body: json(simulateBody),
    responses: {
      200: { description: 'The decision and the field names', schema: simulationSchema },
      400: badRequest,
      ...protectedProblems,
      403: problem('The token does not allow this (PURPOSE_NOT_ALLOWED), or the officer’s organisation could not see this client (CLIENT_NOT_ALLOWED; also for a client not on record)'),
      404: problem('No such policy version (POLICY_NOT_FOUND), or, for a Werkzaak officer, no such client (RECORD_NOT_FOUND)'),
      422: problem('The policy document is invalid or breaks a guardrail (POLICY_INVALID), or the hypothetical record is not a valid Suite record (RECORD_INVALID); `problems` lists every problem with its path'),
    },
  },
  {
    ...common,
    method: 'get',
    path: '/v1/policies/{id}',
    operationId: 'getPolicyVersion',
    summary: 'One policy version with its document',
    params: idParams,
    query: noQuery,
    responses: { 200: { description: 'The version', schema: versionSchema }, 400: badRequest, ...protectedProblems, 404: notFound },
  },
  {
    ...common,
    method: 'post',
    path: '/v1/policies/{id}/approve',
    operationId: 'approvePolicyVersion',
    summary: 'Approve a draft (four eyes: a privacy officer of WERKZAAK, not its author); it becomes active at once and the previous version is retired',
    params: idParams,
    query: noQuery,
    responses: {
      200: { description: 'The activated and the retired version', schema: approvalSchema },
      400: badRequest,
      ...protectedProblems,
      403: problem(
        'The token does not allow this (PURPOSE_NOT_ALLOWED), its holder is not a privacy officer of WERKZAAK (POLICY_DECIDER_NOT_CONTROLLER), or is the same person (iss, sub) as the draft’s author (POLICY_SELF_APPROVAL)',
      ),
      404: notFound,
      409: problem('The version is not a draft (POLICY_NOT_DRAFT), or the active version changed since it was proposed (POLICY_STALE)'),
    },
  },
  {
    ...common,
    method: 'post',
    path: '/v1/policies/{id}/reject',
    operationId: 'rejectPolicyVersion',
    summary: 'Reject a draft with a reason, as a privacy officer of WERKZAAK (its author may withdraw it this way)',
    params: idParams,
    body: json(rejectBody),
    responses: {
      200: { description: 'The rejected version', schema: versionSummarySchema },
      400: badRequest,
      ...protectedProblems,
      403: problem('The token does not allow this (PURPOSE_NOT_ALLOWED), or its holder is not a privacy officer of WERKZAAK (POLICY_DECIDER_NOT_CONTROLLER)'),
      404: notFound,
      409: problem('The version is not a draft (POLICY_NOT_DRAFT)'),
    },
  },
  {
    ...common,
    method: 'get',
    path: '/v1/policies/{id}/impact',
    operationId: 'policyImpact',
    summary: 'Replay the decisions logged over the last N days under this version and list what would change (field names only)',
    params: idParams,
    query: impactQuery,
    responses: { 200: { description: 'The changes, by role and purpose, with examples', schema: impactSchema }, 400: badRequest, ...protectedProblems, 404: notFound },
  },
];
