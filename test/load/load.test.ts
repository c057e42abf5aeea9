/**
 * The load test (`npm run test:load`, not part of `npm test`): a generated store served by the real gateway in a
 * child process, many concurrent requesters of every role, and the audit accounting: every request to the token
 * endpoint and the /v1 API is accounted for by exactly one audit line, and the chain still verifies afterwards.
 *
 * Parts that need routes this branch does not have yet (token exchange, client data, policies, audit API) skip at
 * run time while the routes answer 404, and start running by themselves once they are there; the assertions that
 * need the policy engine's decisions are `it.todo` until it is merged.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, demoLogin, freePort, generateStore, startServer, type Server } from '../../bench/procs.js';
import { isoDate } from '../../src/clock.js';
import { relationship, type Purpose, type Role } from '../../src/purposes.js';
import type { SuiteRecord } from '../../src/records/suite-record.js';
import { tempDir } from '../support.js';

const CLIENTS = 2000;
const SEED = 7;
/** Concurrent requesters per scenario, and the reads each makes with its token: the bound on the request count. */
const REQUESTERS_PER_SCENARIO = 6;
const READS_PER_REQUESTER = 10;

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

/** One kind of requester: who logs in, which purpose it asks for, about which client, and what it then reads. */
interface Scenario {
  name: string;
  role: Role;
  org: string;
  purpose: Purpose;
  /** The client to bind the token to (a clientRef), when the purpose takes one. */
  clientRef?: string;
  /** Whether the relationship holds, so the exchange is expected to succeed. */
  expectIssued: boolean;
  /** The path read with the token (several times). */
  readPath: string;
}

/** What every requester did, for the accounting. */
interface Tally {
  /** Requests to /oauth/token and /v1: each must leave exactly one audit line. */
  auditable: number;
  statuses: Record<string, number>;
  /** Exchanges whose outcome (issued or not) differed from what the relationship predicts. */
  unexpectedExchanges: string[];
  /** Responses without a status (connection errors). */
  errors: number;
}

let dataDir: string;
let dbFile: string;
let gateway: Server | undefined;
let routesPresent = false;

function openReadOnly() {
  return new Database(dbFile, { readonly: true, fileMustExist: true });
}

function auditLines(): number {
  const db = openReadOnly();
  try {
    return db.prepare<[], { n: number }>('SELECT count(*) AS n FROM audit_log').get()!.n;
  } finally {
    db.close();
  }
}

/** Requesters of every role, derived from the store with the same relationship rules the gateway applies. */
function scenarios(): Scenario[] {
  const db = openReadOnly();
  const today = isoDate(Date.now());
  try {
    const records = db
      .prepare<[], { record: string }>('SELECT record FROM clients ORDER BY client_ref')
      .all()
      .map((r) => JSON.parse(r.record) as SuiteRecord);
    const out: Scenario[] = [];
    const first = (purpose: Purpose, org: (r: SuiteRecord) => string | undefined, holds: boolean) => {
      for (const r of records) {
        const o = org(r);
        if (o && relationship(purpose, { org: o }, r, today).holds === holds) return { record: r, org: o };
      }
      return undefined;
    };
    const kp4To = (r: SuiteRecord) => r.overdrachten?.find((o) => o.richting === 'KP3-KP4' && o.status === 'aangevraagd')?.naarOrganisatie;
    const otherMunicipality = (r: SuiteRecord) => (r.persoon.gemeente === 'GM1960' ? 'GM0281' : 'GM1960');
    const client = (name: string, role: Role, purpose: Purpose, found: { record: SuiteRecord; org: string } | undefined, expectIssued: boolean) => {
      if (!found) return;
      const ref = found.record.clientRef;
      out.push({ name, role, org: found.org, purpose, clientRef: ref, expectIssued, readPath: `/v1/clients/${ref}` });
    };
    client('participatiecoach, overdracht-kp4, own handover', 'participatiecoach', 'overdracht-kp4', first('overdracht-kp4', kp4To, true), true);
    client('participatiecoach, overdracht-kp4, other municipality', 'participatiecoach', 'overdracht-kp4', first('overdracht-kp4', otherMunicipality, false), false);
    client('participatiecoach, begeleiding-kp4', 'participatiecoach', 'begeleiding-kp4', first('begeleiding-kp4', (r) => r.persoon.gemeente, true), true);
    client('werkcoach, overdracht-kp3', 'werkcoach', 'overdracht-kp3', first('overdracht-kp3', () => 'WERKZAAK', true), true);
    const traject = first('schuldhulpverlening', (r) => r.schuldhulptrajecten?.[0]?.gemeente, true);
    client('schuldhulpverlener, schuldhulpverlening, client', 'schuldhulpverlener', 'schuldhulpverlening', traject, true);
    if (traject) {
      out.push({ name: 'schuldhulpverlener, caseload', role: 'schuldhulpverlener', org: traject.org, purpose: 'schuldhulpverlening', expectIssued: true, readPath: '/v1/clients' });
    }
    out.push({ name: 'privacy-officer, toezicht', role: 'privacy-officer', org: 'WERKZAAK', purpose: 'toezicht', expectIssued: true, readPath: '/v1/audit' });
    out.push({ name: 'privacy-officer, beleidsbeheer', role: 'privacy-officer', org: 'WERKZAAK', purpose: 'beleidsbeheer', expectIssued: true, readPath: '/v1/policies' });
    return out;
  } finally {
    db.close();
  }
}

/** One requester: exchanges its login for a purpose-bound token, then reads with it; counts, never prints, tokens. */
async function requester(s: Scenario, login: string, tally: Tally): Promise<void> {
  const origin = gateway!.origin;
  const count = (status: number) => (tally.statuses[status] = (tally.statuses[status] ?? 0) + 1);
  const details: Record<string, string> = { type: 'doelbinding', purpose: s.purpose };
  if (s.clientRef) details.client = s.clientRef;
  let token: string | undefined;
  try {
    tally.auditable++;
    const res = await fetch(`${origin}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: GRANT, subject_token: login, subject_token_type: JWT_TYPE, authorization_details: JSON.stringify([details]) }),
    });
    count(res.status);
    const body = (await res.json()) as { access_token?: string; error?: string };
    token = res.status === 200 ? body.access_token : undefined;
    if ((res.status === 200) !== s.expectIssued) tally.unexpectedExchanges.push(`${s.name}: ${res.status} ${body.error ?? ''}`);
  } catch {
    tally.errors++;
  }
  if (!token) return;
  for (let i = 0; i < READS_PER_REQUESTER; i++) {
    try {
      tally.auditable++;
      const res = await fetch(origin + s.readPath, { headers: { authorization: `Bearer ${token}` } });
      count(res.status);
      await res.body?.cancel();
    } catch {
      tally.errors++;
    }
  }
}

describe('the gateway under concurrent load', () => {
  beforeAll(async () => {
    dataDir = tempDir('doelpoort-load-');
    dbFile = path.join(dataDir, 'doelpoort.db');
    await generateStore(dataDir, CLIENTS, SEED);
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, DOELPOORT_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', DOELPOORT_DEMO: '1', DOELPOORT_TOKEN_TTL: '900' };
    delete env.DOELPOORT_IDPS_FILE;
    gateway = await startServer({ name: 'gateway', args: [BIN, 'serve'], env, port, cores: null, readyPath: '/health' });
    const probe = await fetch(`${gateway.origin}/oauth/token`, { method: 'POST' });
    await probe.body?.cancel();
    routesPresent = probe.status !== 404;
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
  });

  it('serves the generated store from a child process', async () => {
    const res = await fetch(`${gateway!.origin}/health`);
    expect(res.status).toBe(200);
    const db = openReadOnly();
    try {
      expect(db.prepare<[], { n: number }>('SELECT count(*) AS n FROM clients').get()!.n).toBe(CLIENTS);
    } finally {
      db.close();
    }
  });

  it('has requesters of every role to run', () => {
    const roles = new Set(scenarios().map((s) => s.role));
    expect([...roles].sort()).toEqual(['participatiecoach', 'privacy-officer', 'schuldhulpverlener', 'werkcoach']);
  });

  it('accounts for every request of many concurrent requesters of every role by exactly one audit line', async (ctx) => {
    if (!routesPresent) ctx.skip();
    const all = scenarios();
    const logins = new Map<string, string>();
    for (const s of all) {
      const key = `${s.role} ${s.org}`;
      if (!logins.has(key)) logins.set(key, demoLogin(dataDir, s.role, s.org));
    }
    const tally: Tally = { auditable: 0, statuses: {}, unexpectedExchanges: [], errors: 0 };
    const before = auditLines();
    await Promise.all(all.flatMap((s) => Array.from({ length: REQUESTERS_PER_SCENARIO }, () => requester(s, logins.get(`${s.role} ${s.org}`)!, tally))));
    const after = auditLines();

    expect(tally.errors).toBe(0);
    expect(tally.unexpectedExchanges).toEqual([]);
    // No 5xx under load: a failed audit write would be a 503, and "no log, no data" must never be hit by mere load.
    expect(Object.keys(tally.statuses).filter((s) => Number(s) >= 500)).toEqual([]);
    expect(after - before).toBe(tally.auditable);
  }, 120_000);

  it('leaves an audit chain that `doelpoort audit verify` accepts', async (ctx) => {
    if (!routesPresent) ctx.skip();
    await gateway?.stop();
    const r = spawnSync(process.execPath, [BIN, 'audit', 'verify'], { cwd: ROOT, env: { ...process.env, DOELPOORT_DATA_DIR: dataDir }, encoding: 'utf8' });
    expect(r.status).toBe(0);
  }, 60_000);

  it.todo('releases to each role only the fields its purpose allows, under load (needs the policy engine)');
  it.todo('withholds belastbaarheidsonderzoeken[].diagnose from every participatiecoach response (needs the policy engine)');
  it.todo('answers a token for another client or purpose with 403 and an audit line with outcome denied (needs GET /v1/clients/{ref})');
  it.todo('matches each response to its own audit line by requestId and decision id, not only by count (needs the audit trail)');
  it.todo('carries the same policyVersion in every decision and audit line of the run (needs the policy engine)');
});
