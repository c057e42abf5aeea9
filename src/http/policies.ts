import type { Caller } from '../caller.js';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { DoelpoortError } from '../errors.js';
import { policyDocumentSchema } from '../policy/document.js';
import {
  approvePolicy,
  listPolicyVersions,
  policyImpact,
  proposePolicy,
  readPolicyVersion,
  rejectPolicy,
  simulatePolicy,
  type PolicyDeps,
} from '../policy/lifecycle.js';
import { versionSummary } from '../policy/versions.js';
import { refuse, type DenyLine } from '../unit-of-work.js';
import type { AuditEntry } from '../audit/entry.js';
import { organisationSchema, purposeSchema, roleSchema } from '../purposes.js';
import { clientRefSchema } from '../records/suite-record.js';
import { requesterFacts } from './context.js';
import type { HonoEnv } from './env.js';
import { protectedProblems, problemSchema, type Operation } from './openapi.js';
import { parseAudited } from './validate.js';

const idParams = z.strictObject({
  id: z.coerce
    .number()
    .int()
    .min(1)
    .max(2 ** 31 - 1)
    .meta({ description: 'The policy version id' }),
});
const noQuery = z.strictObject({});

type PolicyAction = Extract<AuditEntry['action'], `policy.${string}`>;
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
    noodtoegang: z.boolean().optional().meta({
      description:
        'Simulate an emergency access (break-glass): granted only where the relationship does not hold and the version has an emergency rule for the role and purpose, then decided by those rules alone',
    }),
  })
  .refine((b) => (b.clientRef === undefined) !== (b.record === undefined), { message: 'give exactly one of clientRef and record' })
  .meta({ id: 'PolicySimulationRequest', description: 'Exactly one of clientRef and record' });

const versionSummarySchema = z
  .object({
    id: z.number().int(),
    status: z.enum(['draft', 'active', 'retired', 'rejected']),
    hash: z.string().meta({ description: 'SHA-256 of the canonical document: the policyVersion of decisions under it' }),
    author: z.object({ iss: z.string().meta({ description: 'The issuer of the author’s login: a person is (iss, sub)' }), sub: z.string(), org: z.string() }),
    createdAt: z.iso.datetime(),
    baseVersion: z.number().int().nullable().meta({ description: 'The version that was active when this one was proposed' }),
    decider: z.string().nullable().meta({ description: 'Who approved or rejected it (sub)' }),
    deciderIss: z.string().nullable().meta({ description: 'The issuer of the decider’s login' }),
    decidedAt: z.iso.datetime().nullable(),
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
    window: z.object({ days: z.number().int(), from: z.iso.datetime(), to: z.iso.datetime() }),
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

/** The caller of a policy verb: the requester, their line's facts, and this route's status when it succeeds. */
const callerOf = (c: Context<HonoEnv>, done = 200): Caller => ({ requester: c.get('requester'), facts: requesterFacts(c), done });

const noStore = { 'cache-control': 'no-store' };

/**
 * The policy lifecycle routes (api.md, Policies) for a privacy officer's `beleidsbeheer` token: each validates its
 * input (a refused input is a deny line of the route's action, validate.ts), calls one verb of
 * src/policy/lifecycle.ts (which checks the token and writes the audit line) and answers.
 */
export function policyRoutes(deps: PolicyDeps) {
  const { uow } = deps;
  /** The deny line of a refused input: the route's action, and the version id once the path has given it. */
  const refused = (c: Context<HonoEnv>, action: PolicyAction, policyId?: number) => (): DenyLine =>
    ({ action, ...requesterFacts(c), ...(policyId === undefined ? {} : { policyId }) }) as DenyLine;
  const versionId = async (c: Context<HonoEnv>, action: PolicyAction) => (await parseAudited(uow, refused(c, action), idParams, c.req.param(), 'path')).id;
  const emptyQuery = (c: Context<HonoEnv>, action: PolicyAction, policyId?: number) =>
    parseAudited(uow, refused(c, action, policyId), noQuery, c.req.query(), 'query');
  /** The request body as JSON; a body that is not JSON is refused (and logged) like any other bad input. */
  const jsonBody = async (c: Context<HonoEnv>, action: PolicyAction, policyId?: number): Promise<unknown> => {
    try {
      return (await c.req.json()) as unknown;
    } catch {
      return refuse(uow, new DoelpoortError('REQUEST_INVALID', 'the body must be a JSON document'), refused(c, action, policyId)());
    }
  };

  return new Hono<HonoEnv>()
    .get('/', async (c) => {
      await emptyQuery(c, 'policy.read');
      return c.json(await listPolicyVersions(deps, callerOf(c)), 200, noStore);
    })
    .post('/', async (c) => {
      const version = await proposePolicy(deps, callerOf(c, 201), await jsonBody(c, 'policy.proposed'));
      return c.json(version, 201, { location: `/v1/policies/${version.id}`, ...noStore });
    })
    .post('/simulate', async (c) => {
      const request = await parseAudited(uow, refused(c, 'policy.simulated'), simulateBody, await jsonBody(c, 'policy.simulated'), 'body');
      return c.json(await simulatePolicy(deps, callerOf(c), request), 200, noStore);
    })
    .get('/:id', async (c) => {
      const id = await versionId(c, 'policy.read');
      await emptyQuery(c, 'policy.read', id);
      return c.json(await readPolicyVersion(deps, callerOf(c), id), 200, noStore);
    })
    .post('/:id/approve', async (c) => {
      const id = await versionId(c, 'policy.approved');
      await emptyQuery(c, 'policy.approved', id);
      const { activated, retired } = await approvePolicy(deps, callerOf(c), id);
      return c.json({ activated: versionSummary(activated), retired: retired ? versionSummary(retired) : null }, 200, noStore);
    })
    .post('/:id/reject', async (c) => {
      const id = await versionId(c, 'policy.rejected');
      const { reason } = await parseAudited(uow, refused(c, 'policy.rejected', id), rejectBody, await jsonBody(c, 'policy.rejected', id), 'body');
      return c.json(versionSummary(await rejectPolicy(deps, callerOf(c), id, reason)), 200, noStore);
    })
    .get('/:id/impact', async (c) => {
      const id = await versionId(c, 'policy.impact');
      const { days } = await parseAudited(uow, refused(c, 'policy.impact', id), impactQuery, c.req.query(), 'query');
      return c.json(await policyImpact(deps, callerOf(c), { id, days }), 200, noStore);
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
    summary:
      'What a version (active, stored or inline) would release and withhold for a role, purpose and client (a visible one, or a hypothetical record): names only',
    body: json(simulateBody),
    responses: {
      200: { description: 'The decision and the field names', schema: simulationSchema },
      400: badRequest,
      ...protectedProblems,
      403: problem(
        'The token does not allow this (PURPOSE_NOT_ALLOWED), or the officer’s organisation could not see this client (CLIENT_NOT_ALLOWED; also for a client not on record)',
      ),
      404: problem('No such policy version (POLICY_NOT_FOUND), or, for a Werkzaak officer, no such client (RECORD_NOT_FOUND)'),
      422: problem(
        'The policy document is invalid or breaks a guardrail (POLICY_INVALID), or the hypothetical record is not a valid Suite record (RECORD_INVALID); `problems` lists every problem with its path',
      ),
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
    responses: {
      200: { description: 'The changes, by role and purpose, with examples', schema: impactSchema },
      400: badRequest,
      ...protectedProblems,
      404: notFound,
    },
  },
];
