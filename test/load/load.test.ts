/**
 * The load test (`npm run test:load`, not part of `npm test`): a generated store served by the real gateway in a
 * child process, many concurrent requesters of every role, and the audit accounting: every request to the token
 * endpoint and the /v1 API is accounted for by exactly one audit line, and the chain still verifies afterwards.
 *
 * Every record a requester receives is compared with the decision the policy engine makes in this process for the
 * same requester and record (no field released that the policy forbids, none withheld that it allows), and every
 * permitted response is matched to its own audit line by decision id.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, demoLogin, freePort, generateStore, startServer, type Server } from '../../bench/procs.js';
import { isoDate } from '../../src/clock.js';
import { decide } from '../../src/policy/decide.js';
import { loadPolicyDirectory } from '../../src/policy/load.js';
import { relationship, type Purpose, type Role } from '../../src/purposes.js';
import type { SuiteRecord } from '../../src/records/suite-record.js';
import { tempDir } from '../support.js';

const CLIENTS = 2000;
const SEED = 7;
/** Concurrent requesters per scenario, and the reads each makes with its token: the bound on the request count. */
const CLIENTS_PER_SCENARIO = 8;
const REQUESTERS_PER_SCENARIO = 3;
const READS_PER_REQUESTER = 5;

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

/** One kind of requester: who logs in, which purpose it asks for, about which client, and what it then reads. */
interface Scenario {
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
interface Tally {
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

let dataDir: string;
let dbFile: string;
let gateway: Server | undefined;
let records: Map<string, SuiteRecord>;
const policy = loadPolicyDirectory(path.resolve('policies'));

function openReadOnly() {
  return new Database(dbFile, { readonly: true, fileMustExist: true });
}

function auditEntries(): Array<Record<string, any>> {
  const db = openReadOnly();
  try {
    return db
      .prepare<[], { entry: string }>('SELECT entry FROM audit_log ORDER BY seq')
      .all()
      .map((r) => (JSON.parse(r.entry) as { entry: Record<string, any> }).entry);
  } finally {
    db.close();
  }
}

/** Requesters of every role, derived from the store with the same relationship rules the gateway applies. */
function scenarios(): Scenario[] {
  const today = isoDate(Date.now());
  const all = [...records.values()];
  const out: Scenario[] = [];
  const pick = (purpose: Purpose, org: (r: SuiteRecord) => string | undefined, holds: boolean) =>
    all
      .flatMap((r) => {
        const o = org(r);
        return o && relationship(purpose, { org: o }, r, today).holds === holds ? [{ record: r, org: o }] : [];
      })
      .slice(0, CLIENTS_PER_SCENARIO);
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

/** Compares what the gateway released with the decision made here for the same requester and record. */
function check(s: Scenario, item: Released, tally: Tally): void {
  const record = records.get(item.clientRef)!;
  const expected = decide(policy, { role: s.role, org: s.org, purpose: s.purpose }, record, { today: isoDate(Date.now()) });
  if (JSON.stringify(item.record) !== JSON.stringify(expected.view)) tally.mismatches.push(`${s.name} ${item.clientRef}: released fields differ`);
  if (JSON.stringify(item.withheld.map((w) => w.field)) !== JSON.stringify(expected.withheld.map((w) => w.field)))
    tally.mismatches.push(`${s.name} ${item.clientRef}: withheld fields differ`);
  tally.decisionIds.push(item.decision.id);
  tally.policyVersions.add(item.decision.policyVersion);
}

/** One requester: exchanges its login for a purpose-bound token, then reads with it; counts, never prints, tokens. */
async function requester(s: Scenario, login: string, tally: Tally): Promise<void> {
  const origin = gateway!.origin;
  const count = (status: number) => (tally.statuses[status] = (tally.statuses[status] ?? 0) + 1);
  const details: Record<string, string> = { type: 'doelbinding', purpose: s.purpose };
  if (s.clientRef) details.client = s.clientRef;
  let token: string | undefined;
  try {
    tally.expectedLines++;
    const res = await fetch(`${origin}/oauth/token`, {
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
  for (let i = 0; i < READS_PER_REQUESTER; i++) {
    try {
      const res = await fetch(origin + s.readPath, { headers: { authorization: `Bearer ${token}` } });
      count(res.status);
      const body = (await res.json()) as Record<string, any>;
      if (res.status !== 200) {
        tally.expectedLines++;
      } else if (s.readPath.startsWith('/v1/clients?')) {
        const items = body.items as Released[];
        // The page's own line, then one per client in a span of its own (an empty page has only its own).
        tally.expectedLines += 1 + items.length;
        for (const item of items) check(s, item, tally);
      } else if (s.readPath.endsWith('/handover-document')) {
        tally.expectedLines++;
        check(s, { clientRef: s.clientRef!, record: body.record, withheld: body.withheld, decision: body.decision }, tally);
      } else if (s.readPath.startsWith('/v1/clients/')) {
        tally.expectedLines++;
        check(s, body as Released, tally);
      } else {
        tally.expectedLines++;
      }
    } catch (error) {
      tally.errors++;
      console.error('load: read failed:', s.name, (error as Error).message, String((error as Error & { cause?: unknown }).cause));
    }
  }
}

describe('the gateway under concurrent load', () => {
  beforeAll(async () => {
    dataDir = tempDir('doelpoort-load-');
    dbFile = path.join(dataDir, 'doelpoort.db');
    await generateStore(dataDir, CLIENTS, SEED);
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DOELPOORT_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      DOELPOORT_DEMO: '1',
      DOELPOORT_TOKEN_TTL: '900',
      DOELPOORT_RATE_LIMIT: '1000000',
    };
    // Every request comes from loopback, and the expected refusals would otherwise soon be answered 429.
    delete env.DOELPOORT_IDPS_FILE;
    gateway = await startServer({ name: 'gateway', args: [BIN, 'serve'], env, port, cores: null, readyPath: '/health' });
    const recordsDb = new Database(path.join(dataDir, 'records.db'), { readonly: true, fileMustExist: true });
    try {
      records = new Map(
        recordsDb
          .prepare<[], { record: string }>('SELECT record FROM clients')
          .all()
          .map((r) => {
            const rec = JSON.parse(r.record) as SuiteRecord;
            return [rec.clientRef, rec];
          }),
      );
    } finally {
      recordsDb.close();
    }
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
  });

  it('serves the generated store from a child process', async () => {
    const res = await fetch(`${gateway!.origin}/health`);
    expect(res.status).toBe(200);
    expect(records.size).toBe(CLIENTS);
  });

  it('has requesters of every role to run', () => {
    const roles = new Set(scenarios().map((s) => s.role));
    expect([...roles].sort()).toEqual(['participatiecoach', 'privacy-officer', 'schuldhulpverlener', 'werkcoach']);
  });

  it('releases exactly what the policy decides to many concurrent requesters of every role, each request with its own audit line', async () => {
    const all = scenarios();
    const logins = new Map<string, string>();
    for (const s of all) {
      const key = `${s.role} ${s.org}`;
      if (!logins.has(key)) logins.set(key, demoLogin(dataDir, s.role, s.org));
    }
    const tally: Tally = { expectedLines: 0, statuses: {}, unexpectedExchanges: [], mismatches: [], decisionIds: [], policyVersions: new Set(), errors: 0 };
    const before = auditEntries().length;
    await Promise.all(all.flatMap((s) => Array.from({ length: REQUESTERS_PER_SCENARIO }, () => requester(s, logins.get(`${s.role} ${s.org}`)!, tally))));
    const lines = auditEntries().slice(before);

    expect(tally.errors).toBe(0);
    expect(tally.unexpectedExchanges).toEqual([]);
    expect(tally.mismatches).toEqual([]);
    // No 5xx under load: a failed audit write would be a 503, and "no log, no data" must never be hit by mere load.
    expect(Object.keys(tally.statuses).filter((s) => Number(s) >= 500)).toEqual([]);
    expect(tally.decisionIds.length).toBeGreaterThan(300);
    expect(lines.length).toBe(tally.expectedLines);
    const logged = new Map(lines.filter((l) => l.decisionId).map((l) => [l.decisionId as string, l]));
    for (const id of tally.decisionIds) expect(logged.get(id)?.outcome).toBe('permit');
    expect(new Set(tally.decisionIds).size).toBe(tally.decisionIds.length);
    expect([...tally.policyVersions]).toEqual([policy.version]);
    expect(lines.filter((l) => l.action === 'token.refused' && l.outcome === 'deny').length).toBe(
      REQUESTERS_PER_SCENARIO * all.filter((s) => !s.expectIssued).length,
    );
  }, 120_000);

  it('leaves an audit chain that `doelpoort audit verify` accepts', async () => {
    await gateway?.stop();
    gateway = undefined;
    const r = spawnSync(process.execPath, [BIN, 'audit', 'verify'], { cwd: ROOT, env: { ...process.env, DOELPOORT_DATA_DIR: dataDir }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ok \d+ lines, head [0-9a-f]{64}/);
  }, 60_000);
});
