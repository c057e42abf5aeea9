import { READ_ACTIONS, type AuditEntry } from '../audit/entry.js';
import type { AuditReader } from '../audit/reader.js';
import { DAY_MS, isoDate, type Clock } from '../clock.js';
import type { Caller } from '../caller.js';
import { DoelpoortError, isDoelpoortError } from '../errors.js';
import { organisationCouldSee, seesEveryClient, type Purpose, type Role } from '../purposes.js';
import { checkSuiteRecord, type SuiteRecord } from '../records/suite-record.js';
import type { PolicyInForce } from './active.js';
import { checkPolicyDocument, policySetFromDocument, type PolicySet } from './compile.js';
import { ImpactReplay, type ImpactReport } from './impact.js';
import { simulate, type Simulation } from './simulate.js';
import { versionSummary, type PolicyOfficer, type PolicyVersion, type PolicyVersionSummary } from './versions.js';
import type { Awaitable, DenyLine, Tx, UnitOfWork } from '../unit-of-work.js';

/**
 * The policy lifecycle as verbs (api.md, Policies): list and read versions, propose, approve and reject (four eyes),
 * simulate and replay. Every caller (the API, the CLI, the web pages) uses these; each call, refused or not, writes
 * one audit line before its value is returned, and simulation and replay return field names and ids, never a value.
 */

/** Lines replayed per slice of an impact report; the event loop gets a turn between slices. */
const IMPACT_PAGE = 1000;
/** Records of a page read at once. */
const RECORD_BATCH = 64;

/** What a verb needs besides its input. */
export interface PolicyDeps {
  uow: UnitOfWork;
  /** The policy in force, and the compiled sets of stored versions (a cache, outside any transaction). */
  policies: PolicyInForce;
  /** For the impact replay only, which reads the log and the records before its unit of work. */
  audit: Pick<AuditReader, 'linesByAction'>;
  records: { get(clientRef: string): Awaitable<SuiteRecord | undefined> };
  clock: Clock;
}

/** What the verbs on stored versions need: no records, no log reading (the CLI has neither open). */
type VersionDeps = Pick<PolicyDeps, 'uow' | 'policies'>;

type PolicyAction = Extract<AuditEntry['action'], `policy.${string}`>;

/** What a policy audit line may hold beside who, why and when: ids, a hash, a clientRef and field names. */
interface LineFields {
  policyId?: number;
  policyVersion?: string;
  clientRef?: string;
  released?: string[];
  withheld?: string[];
  count?: number;
}

const isPolicyOfficer = (r: Caller['requester']) => r.role === 'privacy-officer' && r.purpose === 'beleidsbeheer';
const officerOf = (r: Caller['requester']): PolicyOfficer => ({ iss: r.issuer, sub: r.sub, org: r.org });

/**
 * Runs `work` in the unit of work after the role and purpose check, with its audit line. `line` is the line so far:
 * what `work` puts into it (an id, a hash, field names) goes into the permit line, and into the deny line when `work`
 * throws a coded error (a refusal: its writes roll back, the deny line is written, the error is thrown once committed).
 */
function audited<T>(deps: Pick<PolicyDeps, 'uow'>, caller: Caller, action: PolicyAction, work: (tx: Tx, line: LineFields) => Promise<T>): Promise<T> {
  // Every policy.* variant has these same fields (entry.ts); TypeScript cannot spread a union discriminant.
  const line = { action, ...caller.facts } as DenyLine & LineFields;
  return deps.uow.run(
    async (tx) => {
      if (!isPolicyOfficer(caller.requester))
        throw new DoelpoortError('PURPOSE_NOT_ALLOWED', 'managing policies needs a privacy officer’s beleidsbeheer token');
      const value = await work(tx, line);
      await tx.audit.append({ ...line, outcome: 'permit', reason: 'PERMIT', ...(caller.done === undefined ? {} : { httpStatus: caller.done }) } as AuditEntry);
      return value;
    },
    { deny: line },
  );
}

async function stored(tx: Tx, id: number): Promise<PolicyVersion> {
  const version = await tx.policies.get(id);
  if (!version) throw new DoelpoortError('POLICY_NOT_FOUND', `no policy version ${id}`);
  return version;
}

/** The versions, newest first, without their documents, and which one is active. */
export async function listPolicyVersions(deps: VersionDeps, caller: Caller): Promise<{ active: number; items: PolicyVersionSummary[] }> {
  const items = await audited(deps, caller, 'policy.read', async (tx, line) => {
    const all = await tx.policies.list();
    line.count = all.length;
    return all.map(versionSummary);
  });
  return { active: deps.policies.version.id, items };
}

/** One stored version with its document. */
export function readPolicyVersion(deps: VersionDeps, caller: Caller, id: number): Promise<PolicyVersion> {
  return audited(deps, caller, 'policy.read', async (tx, line) => {
    line.policyId = id;
    const found = await stored(tx, id);
    line.policyVersion = found.hash;
    return found;
  });
}

/**
 * Stores a document as a draft of the caller, validated as at load (shape, condition fields, guardrails, compilation):
 * POLICY_INVALID lists every problem by path, prefixed with `source` when given (a file name). Any privacy officer
 * may propose.
 */
export function proposePolicy(deps: VersionDeps, caller: Caller, document: unknown, source = ''): Promise<PolicyVersion> {
  return audited(deps, caller, 'policy.proposed', async (tx, line) => {
    const checked = checkPolicyDocument(document, source);
    if (!checked.ok) throw new DoelpoortError('POLICY_INVALID', `the policy document has ${checked.problems.length} problem(s)`, checked.problems);
    const proposed = await tx.policies.propose(checked.value, officerOf(caller.requester));
    Object.assign(line, { policyId: proposed.id, policyVersion: proposed.hash });
    return proposed;
  });
}

/**
 * Activates a draft (four eyes: a privacy officer of WERKZAAK who is another person, (iss, sub), than its author) and
 * retires the version in force; once committed, the next decision is made under it.
 */
export async function approvePolicy(deps: VersionDeps, caller: Caller, id: number): Promise<{ activated: PolicyVersion; retired: PolicyVersion | undefined }> {
  const result = await audited(deps, caller, 'policy.approved', async (tx, line) => {
    line.policyId = id;
    const draft = await stored(tx, id);
    line.policyVersion = draft.hash;
    // Compiled (and cached) before it is activated, so the refresh after commit cannot fail on it.
    deps.policies.compile(draft);
    return tx.policies.approve(id, officerOf(caller.requester));
  });
  await deps.policies.refresh();
  return result;
}

/** Rejects a draft with a reason, as a privacy officer of WERKZAAK (its author may withdraw it this way). */
export function rejectPolicy(deps: VersionDeps, caller: Caller, id: number, reason: string): Promise<PolicyVersion> {
  return audited(deps, caller, 'policy.rejected', async (tx, line) => {
    line.policyId = id;
    line.policyVersion = (await stored(tx, id)).hash;
    // The reason is the officer's own text: it is kept with the version, not in the audit line.
    return tx.policies.reject(id, officerOf(caller.requester), reason);
  });
}

/** What to simulate: a version (active when absent, a stored id, or an inline document), who asks, and on what record. */
export interface SimulationRequest {
  policy?: number | Record<string, unknown> | undefined;
  role: Role;
  org: string;
  purpose: Purpose;
  /** A real client, which only an officer whose organisation could see it may simulate on. */
  clientRef?: string | undefined;
  /** A hypothetical Suite record, validated as an import line. */
  record?: Record<string, unknown> | undefined;
  /** Simulate an emergency access (break-glass): the version's emergency rules, where the relationship does not hold. */
  noodtoegang?: boolean | undefined;
}

/**
 * What a version would release and withhold for a role, organisation and purpose on a client's record, as names only.
 * A real client can be simulated only by an officer whose organisation could see it; otherwise a hypothetical record.
 */
export function simulatePolicy(deps: Pick<PolicyDeps, 'uow' | 'policies' | 'clock'>, caller: Caller, input: SimulationRequest): Promise<Simulation> {
  return audited(deps, caller, 'policy.simulated', async (tx, line) => {
    if (input.clientRef !== undefined) line.clientRef = input.clientRef;
    const set = await simulatedSet(tx, deps.policies, input.policy, line);
    const today = isoDate(deps.clock.now());
    const record = input.clientRef !== undefined ? await visibleRecord(tx, caller.requester.org, input.clientRef, today) : hypotheticalRecord(input.record);
    const simulation = simulate(set, input, record, today, { noodtoegang: input.noodtoegang === true });
    line.released = simulation.released;
    line.withheld = simulation.withheld.map((w) => w.field);
    return simulation;
  });
}

/** The policy set a simulation runs under: the active version, a stored one by id, or an inline document. */
async function simulatedSet(tx: Tx, policies: PolicyInForce, policy: SimulationRequest['policy'], line: LineFields): Promise<PolicySet> {
  if (policy === undefined) {
    line.policyId = policies.version.id;
    line.policyVersion = policies.set.version;
    return policies.set;
  }
  if (typeof policy === 'number') {
    const version = await stored(tx, policy);
    line.policyId = version.id;
    const set = policies.compile(version);
    line.policyVersion = set.version;
    return set;
  }
  const checked = checkPolicyDocument(policy, 'policy');
  if (!checked.ok) throw new DoelpoortError('POLICY_INVALID', `the policy document has ${checked.problems.length} problem(s)`, checked.problems);
  // Not through policies.compile: its cache is for stored versions, and inline drafts would grow it without end.
  const set = policySetFromDocument(checked.value);
  line.policyVersion = set.version;
  return set;
}

/**
 * A real client's record, for an officer whose organisation could see that client. An unknown client is refused like
 * a foreign one, so that the answer says nothing about who is on record; only Werkzaak, which could see every client,
 * learns that a client is unknown.
 */
async function visibleRecord(tx: Tx, org: string, clientRef: string, today: string): Promise<SuiteRecord> {
  const record = await tx.records.get(clientRef);
  if (record && organisationCouldSee(org, record, today)) return record;
  if (!record && seesEveryClient(org)) throw new DoelpoortError('RECORD_NOT_FOUND', 'no record for this client');
  throw new DoelpoortError('CLIENT_NOT_ALLOWED', 'your organisation cannot simulate on this client; give a hypothetical record instead');
}

/** A hypothetical record, validated exactly as an import line, with the same value-free problems. */
function hypotheticalRecord(value: unknown): SuiteRecord {
  const checked = checkSuiteRecord(value);
  if (checked.ok) return checked.value;
  const problems = checked.problems.map((p) => ({ path: p.field ? `record.${p.field}` : 'record', message: p.message }));
  throw new DoelpoortError('RECORD_INVALID', `the hypothetical record has ${problems.length} problem(s)`, problems);
}

/** An impact report: what the version would change in the decisions logged over the window. */
export interface PolicyImpact extends ImpactReport {
  policy: { id: number; status: PolicyVersion['status']; hash: string };
  window: { days: number; from: string; to: string };
}

/**
 * Replays the decisions logged over the last `days` days under version `id` (a municipal officer's: only those of
 * clients its organisation could see) and reports what would change, by field name. The replay runs before the
 * audited transaction, a slice at a time, and only for a caller who may have it.
 */
export async function policyImpact(deps: PolicyDeps, caller: Caller, input: { id: number; days: number }): Promise<PolicyImpact> {
  // The replay is the expensive part: only for a caller the work below will not refuse anyway.
  let replayed: PolicyImpact | DoelpoortError | undefined;
  if (isPolicyOfficer(caller.requester)) {
    try {
      const version = await deps.policies.versions.get(input.id);
      if (!version) throw new DoelpoortError('POLICY_NOT_FOUND', `no policy version ${input.id}`);
      replayed = await replay(deps, version, input.days, caller.requester.org);
    } catch (error) {
      if (!isDoelpoortError(error)) throw error;
      replayed = error;
    }
  }
  return audited(deps, caller, 'policy.impact', async (_tx, line) => {
    if (replayed instanceof DoelpoortError || replayed === undefined) throw replayed ?? new TypeError('policyImpact: no replay for an officer');
    Object.assign(line, { policyId: replayed.policy.id, policyVersion: replayed.policy.hash, count: replayed.replayed });
    return replayed;
  });
}

async function replay(deps: PolicyDeps, version: PolicyVersion, days: number, org: string): Promise<PolicyImpact> {
  const set = deps.policies.compile(version);
  const to = deps.clock.now();
  const from = to - days * DAY_MS;
  const today = isoDate(to);
  const couldSee = seesEveryClient(org) ? undefined : (record: SuiteRecord) => organisationCouldSee(org, record, today);
  // The records of a page's clients are read before the page is replayed (they may be read over the network).
  const records = new Map<string, SuiteRecord | undefined>();
  const impact = new ImpactReplay(set, (ref) => records.get(ref), couldSee ? { couldSee } : {});
  for (let after = 0; ; ) {
    const page = await deps.audit.linesByAction({ actions: READ_ACTIONS, from, to, after, limit: IMPACT_PAGE });
    records.clear();
    const refs = [...new Set(page.flatMap((line) => line.entry?.clientRef ?? []))];
    for (let i = 0; i < refs.length; i += RECORD_BATCH) {
      const batch = refs.slice(i, i + RECORD_BATCH);
      const found = await Promise.all(batch.map((ref) => deps.records.get(ref)));
      for (const [k, ref] of batch.entries()) records.set(ref, found[k]);
    }
    for (const line of page) impact.add(line);
    if (page.length < IMPACT_PAGE) break;
    after = page[page.length - 1]!.seq;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return {
    policy: { id: version.id, status: version.status, hash: version.hash },
    window: { days, from: new Date(from).toISOString(), to: new Date(to).toISOString() },
    ...impact.report(),
  };
}
