/**
 * The requesters of the load tests (test/load/load.test.ts on one SQLite instance, test/multi-instance.test.ts on
 * two PostgreSQL ones): many concurrent requesters of every role, each exchanging a demo login for a purpose-bound
 * token and reading with it, and the accounting of what they got. Every record a requester receives is compared with
 * the decision the policy engine makes in this process for the same requester and record (no field released that the
 * policy forbids, none withheld that it allows); every permitted read's decision id is kept, to be matched to its own
 * audit line. Tokens are counted, never printed.
 */
import { isoDate } from '../../src/clock.js';
import { decide } from '../../src/policy/decide.js';
import type { PolicySet } from '../../src/policy/compile.js';
import { relationship, type Purpose, type Role } from '../../src/purposes.js';
import type { SuiteRecord } from '../../src/records/suite-record.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

/** One kind of requester: who logs in, which purpose it asks for, about which client, and what it then reads. */
export interface Scenario {
  name: string;
  role: Role;
  org: string;
  purpose: Purpose;
  /** The client to bind the token to, when the purpose takes one. */
  clientRef?: string;
  /** Whether the relationship holds, so the exchange is expected to succeed. */
  expectIssued: boolean;
  /** The path read with the token (several times). */
  readPath: string;
}

/** What every requester did, for the accounting. */
export interface Tally {
  /** Audit lines the requests must have left: one per exchange and per read, one per client of a caseload page. */
  expectedLines: number;
  statuses: Record<string, number>;
  unexpectedExchanges: string[];
  /** Reads whose released record or withheld fields differ from the in-process decision. */
  mismatches: string[];
  /** Decision ids of the permitted reads, each of which must have its own audit line. */
  decisionIds: string[];
  policyVersions: Set<string>;
  errors: number;
}

export function newTally(): Tally {
  return { expectedLines: 0, statuses: {}, unexpectedExchanges: [], mismatches: [], decisionIds: [], policyVersions: new Set(), errors: 0 };
}

/** Requesters of every role (at most `perScenario` clients each), derived from the store with the gateway's relationship rules. */
export function scenarios(records: Map<string, SuiteRecord>, perScenario: number): Scenario[] {
  const today = isoDate(Date.now());
  const all = [...records.values()];
  const out: Scenario[] = [];
  const pick = (purpose: Purpose, org: (r: SuiteRecord) => string | undefined, holds: boolean) =>
    all
      .flatMap((r) => {
        const o = org(r);
        return o && relationship(purpose, { org: o }, r, today).holds === holds ? [{ record: r, org: o }] : [];
      })
      .slice(0, perScenario);
  const add = (name: string, role: Role, purpose: Purpose, found: Array<{ record: SuiteRecord; org: string }>, expectIssued: boolean, suffix = '') => {
    for (const { record, org } of found)
      out.push({ name, role, org, purpose, clientRef: record.clientRef, expectIssued, readPath: `/v1/clients/${record.clientRef}${suffix}` });
  };
  const kp4To = (r: SuiteRecord) => r.overdrachten?.find((o) => o.richting === 'KP3-KP4' && o.status === 'aangevraagd')?.naarOrganisatie;
  const otherMunicipality = (r: SuiteRecord) => (r.persoon.gemeente === 'GM1960' ? 'GM0281' : 'GM1960');
  add('participatiecoach, overdracht-kp4', 'participatiecoach', 'overdracht-kp4', pick('overdracht-kp4', kp4To, true), true);
  add(
    'participatiecoach, overdracht-kp4, document',
    'participatiecoach',
    'overdracht-kp4',
    pick('overdracht-kp4', kp4To, true).reverse(),
    true,
    '/handover-document',
  );
  add('participatiecoach, overdracht-kp4, other municipality', 'participatiecoach', 'overdracht-kp4', pick('overdracht-kp4', otherMunicipality, false), false);
  add(
    'participatiecoach, begeleiding-kp4',
    'participatiecoach',
    'begeleiding-kp4',
    pick('begeleiding-kp4', (r) => r.persoon.gemeente, true),
    true,
  );
  add(
    'werkcoach, overdracht-kp3',
    'werkcoach',
    'overdracht-kp3',
    pick('overdracht-kp3', () => 'WERKZAAK', true),
    true,
  );
  const trajecten = pick('schuldhulpverlening', (r) => r.schuldhulptrajecten?.[0]?.gemeente, true);
  add('schuldhulpverlener, schuldhulpverlening', 'schuldhulpverlener', 'schuldhulpverlening', trajecten, true);
  for (const org of new Set(trajecten.map((t) => t.org))) {
    out.push({
      name: 'schuldhulpverlener, caseload',
      role: 'schuldhulpverlener',
      org,
      purpose: 'schuldhulpverlening',
      expectIssued: true,
      readPath: '/v1/clients?limit=50',
    });
  }
  out.push({
    name: 'privacy-officer, toezicht',
    role: 'privacy-officer',
    org: 'WERKZAAK',
    purpose: 'toezicht',
    expectIssued: true,
    readPath: '/v1/audit?limit=20',
  });
  out.push({
    name: 'privacy-officer, beleidsbeheer',
    role: 'privacy-officer',
    org: 'GM0297',
    purpose: 'beleidsbeheer',
    expectIssued: true,
    readPath: '/v1/policies',
  });
  return out;
}

interface Released {
  clientRef: string;
  record: unknown;
  withheld: Array<{ field: string }>;
  decision: { id: string; policyVersion: string };
}

/** What a requester's reads are compared against: the policy in force and the records as the gateway holds them. */
export interface Expectation {
  policy: PolicySet;
  records: Map<string, SuiteRecord>;
}

/** Compares what the gateway released with the decision made here for the same requester and record. */
function check(s: Scenario, item: Released, tally: Tally, expect: Expectation): void {
  const record = expect.records.get(item.clientRef)!;
  const expected = decide(expect.policy, { role: s.role, org: s.org, purpose: s.purpose }, record, { today: isoDate(Date.now()) });
  if (JSON.stringify(item.record) !== JSON.stringify(expected.view)) tally.mismatches.push(`${s.name} ${item.clientRef}: released fields differ`);
  if (JSON.stringify(item.withheld.map((w) => w.field)) !== JSON.stringify(expected.withheld.map((w) => w.field)))
    tally.mismatches.push(`${s.name} ${item.clientRef}: withheld fields differ`);
  tally.decisionIds.push(item.decision.id);
  tally.policyVersions.add(item.decision.policyVersion);
}

/**
 * One requester: exchanges its login for a purpose-bound token, then makes `reads` reads with it. Request n (0 is the
 * exchange) goes to `origin(n)`, so requests may alternate between instances.
 */
export async function requester(
  s: Scenario,
  login: string,
  tally: Tally,
  options: { origin: (n: number) => string; reads: number; expect: Expectation },
): Promise<void> {
  const count = (status: number) => (tally.statuses[status] = (tally.statuses[status] ?? 0) + 1);
  const details: Record<string, string> = { type: 'doelbinding', purpose: s.purpose };
  if (s.clientRef) details.client = s.clientRef;
  let token: string | undefined;
  try {
    tally.expectedLines++;
    const res = await fetch(`${options.origin(0)}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: 'doelpoort-demo',
        grant_type: GRANT,
        subject_token: login,
        subject_token_type: JWT_TYPE,
        authorization_details: JSON.stringify([details]),
      }),
    });
    count(res.status);
    const body = (await res.json()) as { access_token?: string; error?: string };
    token = res.status === 200 ? body.access_token : undefined;
    if ((res.status === 200) !== s.expectIssued) tally.unexpectedExchanges.push(`${s.name}: ${res.status} ${body.error ?? ''}`);
  } catch (error) {
    tally.errors++;
    console.error('load: exchange failed:', s.name, (error as Error).message, String((error as Error & { cause?: unknown }).cause));
  }
  if (!token) return;
  for (let i = 0; i < options.reads; i++) {
    try {
      const res = await fetch(options.origin(i + 1) + s.readPath, { headers: { authorization: `Bearer ${token}` } });
      count(res.status);
      const body = (await res.json()) as Record<string, any>;
      if (res.status !== 200) {
        tally.expectedLines++;
      } else if (s.readPath.startsWith('/v1/clients?')) {
        const items = body.items as Released[];
        // The page's own line, then one per client in a span of its own (an empty page has only its own).
        tally.expectedLines += 1 + items.length;
        for (const item of items) check(s, item, tally, options.expect);
      } else if (s.readPath.endsWith('/handover-document')) {
        tally.expectedLines++;
        check(s, { clientRef: s.clientRef!, record: body.record, withheld: body.withheld, decision: body.decision }, tally, options.expect);
      } else if (s.readPath.startsWith('/v1/clients/')) {
        tally.expectedLines++;
        check(s, body as Released, tally, options.expect);
      } else {
        tally.expectedLines++;
      }
    } catch (error) {
      tally.errors++;
      console.error('load: read failed:', s.name, (error as Error).message, String((error as Error & { cause?: unknown }).cause));
    }
  }
}
