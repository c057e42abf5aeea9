import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { auditFacts } from '../src/audit/facts.js';
import { AuditLog } from '../src/audit/log.js';
import type { Caller } from '../src/caller.js';
import { fixedClock } from '../src/clock.js';
import { openDatabase, openRecordsDatabase } from '../src/db.js';
import { DoelpoortError } from '../src/errors.js';
import { codeToStatus } from '../src/http/problem.js';
import { ActivePolicy } from '../src/policy/active.js';
import { approvePolicy, listPolicyVersions, proposePolicy, rejectPolicy, simulatePolicy } from '../src/policy/lifecycle.js';
import { PolicyVersions } from '../src/policy/versions.js';
import type { Role } from '../src/purposes.js';
import { RecordStore } from '../src/records/store.js';
import { SqliteUnitOfWork } from '../src/unit-of-work.js';
import { fixtureRecords, POLICIES_DIR } from './policy-support.js';
import { TODAY } from './support.js';

const ISS = 'https://login.werkzaak.example';

/** The policy verbs on fresh databases with a real unit of work: with `statusOf` as the API has it, or without (the CLI). */
function setup({ http = true } = {}) {
  const db = openDatabase(':memory:');
  const clock = fixedClock(`${TODAY}T10:00:00Z`);
  const audit = new AuditLog(db, { clock, pseudonymKey: randomBytes(32) });
  const records = new RecordStore(openRecordsDatabase(':memory:'));
  for (const record of fixtureRecords()) records.replace(record, clock.now());
  const policies = ActivePolicy.bootstrap(new PolicyVersions(db, clock), POLICIES_DIR);
  const uow = new SqliteUnitOfWork({ audit, records, policies: policies.versions, ...(http ? { statusOf: (code) => codeToStatus[code] } : {}) });
  const lines = () =>
    (db.$client.prepare('SELECT entry FROM audit_log ORDER BY seq').pluck().all() as string[]).map(
      (e) => (JSON.parse(e) as { entry: Record<string, unknown> }).entry,
    );
  const deps = { uow, policies, audit, records, clock };
  return { deps, lines, versions: () => policies.versions.list(), document: () => policies.set.document };
}

let n = 0;
/** A caller as a channel builds one: an officer (by default with a beleidsbeheer token), their facts, a success status. */
function caller(
  sub: string,
  org = 'WERKZAAK',
  options: { role?: Role; purpose?: Caller['requester']['purpose']; done?: number; origin?: string } = {},
): Caller {
  const requester = { issuer: ISS, sub, org, role: options.role ?? 'privacy-officer', purpose: options.purpose ?? 'beleidsbeheer' } as const;
  n++;
  const trace = { traceId: n.toString(16).padStart(32, '0'), spanId: n.toString(16).padStart(16, '0') };
  return {
    requester,
    facts: auditFacts({ trace, origin: options.origin ?? '127.0.0.1' }, requester),
    ...(options.done === undefined ? {} : { done: options.done }),
  };
}

const rejection = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DoelpoortError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
};

describe(proposePolicy.name, () => {
  it('stores a draft and writes its permit line; without a status map (the CLI) the line has no httpStatus', async () => {
    const { deps, lines, document } = setup({ http: false });
    const draft = await proposePolicy(deps, caller('po-anna', 'WERKZAAK', { origin: 'cli' }), document());
    expect(draft).toMatchObject({ id: 2, status: 'draft', baseVersion: 1, author: { iss: ISS, sub: 'po-anna', org: 'WERKZAAK' } });
    const line = lines().at(-1)!;
    expect(line).toMatchObject({ action: 'policy.proposed', outcome: 'permit', reason: 'PERMIT', policyId: 2, policyVersion: draft.hash, origin: 'cli' });
    expect(line).not.toHaveProperty('httpStatus');
  });

  it('refuses an invalid document with every problem, prefixed with its source, stores nothing and logs the refusal', async () => {
    const { deps, lines, versions } = setup({ http: false });
    const bad = { rules: [{ role: 'werkcoach', purpose: 'overdracht-kp3', action: 'read', subject: 'Belastbaarheidsonderzoek', fields: ['diagnose'] }] };
    const error = await rejection(proposePolicy(deps, caller('po-anna'), bad, 'v2.yaml'));
    expect(error.code).toBe('POLICY_INVALID');
    expect(error.problems.map((p) => p.path)).toEqual(['v2.yaml: rules[0].fields[0]']);
    expect(versions()).toHaveLength(1);
    expect(lines().at(-1)).toMatchObject({ action: 'policy.proposed', outcome: 'deny', reason: 'POLICY_INVALID' });
  });

  it('refuses anyone but a privacy officer with a beleidsbeheer token (PURPOSE_NOT_ALLOWED), with the status of the code', async () => {
    const { deps, lines, document, versions } = setup();
    const coach = caller('coach-1', 'GM1960', { role: 'participatiecoach', purpose: 'overdracht-kp4', done: 201 });
    expect((await rejection(proposePolicy(deps, coach, document()))).code).toBe('PURPOSE_NOT_ALLOWED');
    expect(lines().at(-1)).toMatchObject({
      action: 'policy.proposed',
      outcome: 'deny',
      reason: 'PURPOSE_NOT_ALLOWED',
      httpStatus: 403,
      actor: { sub: 'coach-1' },
    });
    const toezicht = caller('po-anna', 'WERKZAAK', { purpose: 'toezicht' });
    expect((await rejection(proposePolicy(deps, toezicht, document()))).code).toBe('PURPOSE_NOT_ALLOWED');
    expect(versions()).toHaveLength(1);
  });
});

describe(approvePolicy.name, () => {
  it('refuses the author (four eyes on (iss, sub)) with a deny line that names the draft by id and hash, and changes nothing', async () => {
    const { deps, lines } = setup();
    const draft = await proposePolicy(deps, caller('po-anna'), { rules: deps.policies.set.document.rules.slice(1) });
    const error = await rejection(approvePolicy(deps, caller('PO-ANNA', 'WERKZAAK', { done: 200 }), draft.id));
    expect(error.code).toBe('POLICY_SELF_APPROVAL');
    expect(lines().at(-1)).toMatchObject({
      action: 'policy.approved',
      outcome: 'deny',
      reason: 'POLICY_SELF_APPROVAL',
      httpStatus: 403,
      policyId: draft.id,
      policyVersion: draft.hash,
    });
    expect(deps.policies.version.id).toBe(1);
  });

  it('activates the draft for another Werkzaak officer, and the policy in force follows once committed', async () => {
    const { deps, lines } = setup();
    const draft = await proposePolicy(deps, caller('po-anna'), { rules: deps.policies.set.document.rules.slice(1) });
    const { activated, retired } = await approvePolicy(deps, caller('po-bram', 'WERKZAAK', { done: 200 }), draft.id);
    expect([activated.status, retired?.id]).toEqual(['active', 1]);
    expect(deps.policies.version.id).toBe(draft.id);
    expect(lines().at(-1)).toMatchObject({ action: 'policy.approved', outcome: 'permit', httpStatus: 200, policyId: draft.id });
  });

  it('refuses a municipal officer (WERKZAAK only) and rolls back nothing it had not written', async () => {
    const { deps, lines, versions } = setup();
    const draft = await proposePolicy(deps, caller('po-anna'), { rules: deps.policies.set.document.rules.slice(1) });
    expect((await rejection(approvePolicy(deps, caller('po-tiel', 'GM0281'), draft.id))).code).toBe('POLICY_DECIDER_NOT_CONTROLLER');
    expect((await rejection(rejectPolicy(deps, caller('po-tiel', 'GM0281'), draft.id, 'nee'))).code).toBe('POLICY_DECIDER_NOT_CONTROLLER');
    expect(versions().map((v) => v.status)).toEqual(['draft', 'active']);
    expect(
      lines()
        .slice(-2)
        .map((l) => [l.action, l.reason]),
    ).toEqual([
      ['policy.approved', 'POLICY_DECIDER_NOT_CONTROLLER'],
      ['policy.rejected', 'POLICY_DECIDER_NOT_CONTROLLER'],
    ]);
  });
});

describe(simulatePolicy.name, () => {
  it('answers with names only, and refuses a client the officer’s organisation could not see, naming it in the line', async () => {
    const { deps, lines } = setup();
    const request = { role: 'participatiecoach' as const, org: 'GM1960', purpose: 'overdracht-kp4' as const, clientRef: 'WZR-100001' };
    const simulation = await simulatePolicy(deps, caller('po-anna', 'WERKZAAK', { done: 200 }), request);
    expect(simulation.released).toContain('persoon.achternaam');
    expect(JSON.stringify(simulation)).not.toContain('de Vries');
    expect(lines().at(-1)).toMatchObject({ action: 'policy.simulated', outcome: 'permit', clientRef: 'WZR-100001', policyId: 1 });
    expect((await rejection(simulatePolicy(deps, caller('po-tiel', 'GM0281'), request))).code).toBe('CLIENT_NOT_ALLOWED');
    expect(lines().at(-1)).toMatchObject({ action: 'policy.simulated', outcome: 'deny', reason: 'CLIENT_NOT_ALLOWED', clientRef: 'WZR-100001' });
  });
});

describe(listPolicyVersions.name, () => {
  it('lists the versions without documents and counts them in its line', async () => {
    const { deps, lines } = setup();
    const list = await listPolicyVersions(deps, caller('po-tiel', 'GM0281', { done: 200 }));
    expect(list.active).toBe(1);
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).not.toHaveProperty('document');
    expect(lines().at(-1)).toMatchObject({ action: 'policy.read', outcome: 'permit', count: 1, httpStatus: 200 });
  });
});
