/**
 * Two gateway instances (`doelpoort serve` child processes) on one PostgreSQL database, as behind a load balancer:
 * the same key files, the same public URL, the demo store (seeded by the first instance on the empty database).
 * Under load across both, every response is what the policy decides and every request has exactly one audit line;
 * an approval on one changes what the other releases within a second; a DPoP proof used on one is refused on the
 * other; one SIGKILLed under load leaves the other serving and no answered 200 without its line; the one chain
 * verifies throughout. Needs the server of DOELPOORT_TEST_PG_URL (test/pg-support.ts: fails under CI without one).
 */
import { spawnSync } from 'node:child_process';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BIN, ROOT, startPgInstances, type PgInstances, type Server } from '../bench/procs.js';
import { webSession } from '../bench/web-login.js';
import { loadConfiguredAuditKeys } from '../src/audit/keys.js';
import { verifyAuditPg } from '../src/audit/verify-pg.js';
import { accessTokenHash } from '../src/tokens/dpop.js';
import { loadDemoIdp, signDemoLogin, type DemoIdp } from '../src/tokens/demo-idp.js';
import type { PolicyDocument } from '../src/policy/document.js';
import { loadPolicyDirectory } from '../src/policy/load.js';
import type { SuiteRecord } from '../src/records/suite-record.js';
import { newTally, requester, scenarios } from './load/requesters.js';
import { describePg, freshPg, type FreshPg } from './pg-support.js';
import { POLICIES_DIR } from './policy-support.js';
import { tempDir } from './support.js';

const CLIENTS_PER_SCENARIO = 5;
const REQUESTERS_PER_SCENARIO = 2;
const READS_PER_REQUESTER = 4;

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

let db: FreshPg;
let instances: PgInstances;
let a: Server;
let b: Server;
let idp: DemoIdp;
let records: Map<string, SuiteRecord>;
const policy = loadPolicyDirectory(POLICIES_DIR);

/** A demo login (the key both instances trust, in their shared data dir); never printed. */
const login = (role: string, org: string, sub = `demo-${role}-${org.toLowerCase()}`) => signDemoLogin(idp, { sub, role, org }, Math.floor(Date.now() / 1000));

async function exchange(origin: string, subjectToken: string, details: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(`${origin}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({
      client_id: 'doelpoort-demo',
      grant_type: GRANT,
      subject_token: subjectToken,
      subject_token_type: JWT_TYPE,
      authorization_details: JSON.stringify([{ type: 'doelbinding', ...details }]),
    }),
  });
}

async function tokenFor(origin: string, role: string, org: string, details: Record<string, string>, sub?: string): Promise<string> {
  const res = await exchange(origin, await login(role, org, sub), details);
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** The audit lines after `afterSeq`, as the entries the gateway wrote. */
async function auditEntries(afterSeq = 0): Promise<Array<Record<string, any>>> {
  const { rows } = await db.pg.pool.query<{ entry: string }>('SELECT entry FROM audit_log WHERE seq > $1 ORDER BY seq', [afterSeq]);
  return rows.map((r) => (JSON.parse(r.entry) as { entry: Record<string, any> }).entry);
}

async function head(): Promise<number> {
  const { rows } = await db.pg.pool.query<{ seq: string | null }>('SELECT max(seq) AS seq FROM audit_log');
  return Number(rows[0]?.seq ?? 0);
}

/** The whole chain, with the checkpoints' signatures checked against the shared checkpoint key. */
async function verifyChain() {
  const { checkpointKey } = loadConfiguredAuditKeys({
    dataDir: instances.env.DOELPOORT_DATA_DIR!,
    pseudonymKeyFile: instances.env.DOELPOORT_PSEUDONYM_KEY_FILE,
    checkpointKeyFile: instances.env.DOELPOORT_CHECKPOINT_KEY_FILE,
  });
  return verifyAuditPg(db.pg.pool, { publicKey: checkpointKey.publicKey });
}

/** A client whose KP3→KP4 handover to a municipality is open and who did not object: its coach reads the phone number. */
function handoverClient(): { clientRef: string; org: string } {
  for (const r of records.values()) {
    const o = r.overdrachten?.find((h) => h.richting === 'KP3-KP4' && h.status === 'aangevraagd' && h.naarOrganisatie.startsWith('GM'));
    if (o?.clientGeinformeerd && !o.bezwaarTegenDelen && r.persoon.telefoon) return { clientRef: r.clientRef, org: o.naarOrganisatie };
  }
  throw new Error('the demo store has no client with an open KP3→KP4 handover');
}

/** The default policy with `persoon.telefoon` no longer released to participatiecoaches (as test/policies.test.ts). */
function withoutCoachPhone(document: PolicyDocument): PolicyDocument {
  return {
    rules: document.rules.map((r) =>
      r.role === 'participatiecoach' && r.subject === 'Persoon' && !r.inverted && r.fields ? { ...r, fields: r.fields.filter((f) => f !== 'telefoon') } : r,
    ),
  };
}

describePg('two gateway instances on one PostgreSQL database', () => {
  beforeAll(async () => {
    db = await freshPg('multi');
    const env: NodeJS.ProcessEnv = { ...process.env, DOELPOORT_DEMO: '1', DOELPOORT_TOKEN_TTL: '900', DOELPOORT_RATE_LIMIT: '1000000' };
    // Every request comes from loopback, and the expected refusals would otherwise soon be answered 429.
    delete env.DOELPOORT_IDPS_FILE;
    instances = await startPgInstances({ databaseUrl: db.url, count: 2, dataDir: tempDir('doelpoort-multi-'), keysDir: tempDir('doelpoort-multi-keys-'), env });
    [a, b] = instances.servers as [Server, Server];
    idp = await loadDemoIdp(instances.env.DOELPOORT_DATA_DIR!);
    const { rows } = await db.pg.pool.query<{ record: string }>('SELECT record FROM clients');
    records = new Map(rows.map((r) => JSON.parse(r.record) as SuiteRecord).map((r) => [r.clientRef, r]));
  }, 90_000);

  afterAll(async () => {
    await instances?.stop();
    await db?.drop();
  }, 30_000);

  it('serves the demo store seeded once from both instances, with one policy version', async () => {
    expect((await fetch(`${a.origin}/health`)).status).toBe(200);
    expect((await fetch(`${b.origin}/health`)).status).toBe(200);
    expect(records.size).toBeGreaterThan(300);
    const { rows } = await db.pg.pool.query<{ n: string }>('SELECT count(*) AS n FROM imports');
    expect(Number(rows[0]!.n)).toBe(1);
    const versions = await db.pg.pool.query<{ status: string }>('SELECT status FROM policy_versions');
    expect(versions.rows.map((r) => r.status)).toEqual(['active']);
  });

  it('releases exactly what the policy decides to concurrent requesters alternating between both instances, each request with one audit line', async () => {
    const all = scenarios(records, CLIENTS_PER_SCENARIO);
    expect([...new Set(all.map((s) => s.role))].sort()).toEqual(['participatiecoach', 'privacy-officer', 'schuldhulpverlener', 'werkcoach']);
    const logins = new Map<string, string>();
    for (const s of all) {
      const key = `${s.role} ${s.org}`;
      if (!logins.has(key)) logins.set(key, await login(s.role, s.org));
    }
    const tally = newTally();
    const before = await head();
    const origins = [a.origin, b.origin];
    const served = [0, 0];
    let k = 0;
    await Promise.all(
      all.flatMap((s) =>
        Array.from({ length: REQUESTERS_PER_SCENARIO }, () => {
          // Requester k starts on instance k mod 2 and alternates: its token is issued by one and read on both.
          const first = k++ % 2;
          const origin = (n: number) => {
            served[(first + n) % 2]!++;
            return origins[(first + n) % 2]!;
          };
          return requester(s, logins.get(`${s.role} ${s.org}`)!, tally, { origin, reads: READS_PER_REQUESTER, expect: { policy, records } });
        }),
      ),
    );
    const lines = await auditEntries(before);

    expect(tally.errors).toBe(0);
    expect(tally.unexpectedExchanges).toEqual([]);
    expect(tally.mismatches).toEqual([]);
    expect(Object.keys(tally.statuses).filter((s) => Number(s) >= 500)).toEqual([]);
    expect(Math.min(...served)).toBeGreaterThan(100);
    expect(tally.decisionIds.length).toBeGreaterThan(150);
    expect(lines.length).toBe(tally.expectedLines);
    const logged = new Map(lines.filter((l) => l.decisionId).map((l) => [l.decisionId as string, l]));
    for (const id of tally.decisionIds) expect(logged.get(id)?.outcome).toBe('permit');
    expect(new Set(tally.decisionIds).size).toBe(tally.decisionIds.length);
    expect([...tally.policyVersions]).toEqual([policy.version]);
    expect(lines.filter((l) => l.action === 'token.refused' && l.outcome === 'deny').length).toBe(
      REQUESTERS_PER_SCENARIO * all.filter((s) => !s.expectIssued).length,
    );
    expect(await verifyChain()).toMatchObject({ ok: true });
  }, 60_000);

  it('refuses on B a DPoP proof used on A: 401 DPOP_INVALID, with its audit line', async () => {
    const { clientRef, org } = handoverClient();
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    const proof = (htm: string, path: string, ath?: string) =>
      new SignJWT({ htm, htu: `${instances.publicUrl}${path}`, iat: Math.floor(Date.now() / 1000), jti: crypto.randomUUID(), ...(ath ? { ath } : {}) })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
        .sign(privateKey);
    const issued = await exchange(
      a.origin,
      await login('participatiecoach', org),
      { purpose: 'overdracht-kp4', client: clientRef },
      { dpop: await proof('POST', '/oauth/token') },
    );
    expect(issued.status).toBe(200);
    const { access_token: token, token_type } = (await issued.json()) as { access_token: string; token_type: string };
    expect(token_type.toLowerCase()).toBe('dpop');
    const path = `/v1/clients/${clientRef}`;
    const used = await proof('GET', path, accessTokenHash(token));
    const headers = { authorization: `DPoP ${token}`, dpop: used };

    const before = await head();
    const onA = await fetch(a.origin + path, { headers });
    expect(onA.status).toBe(200);
    const { decision } = (await onA.json()) as { decision: { id: string } };
    const onB = await fetch(b.origin + path, { headers });
    expect(onB.status).toBe(401);
    expect(((await onB.json()) as { code: string }).code).toBe('DPOP_INVALID');
    expect(onB.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_dpop_proof"/);
    // A fresh proof for the same token is accepted on B: the refusal was the replay, not the instance.
    const fresh = await fetch(b.origin + path, { headers: { authorization: `DPoP ${token}`, dpop: await proof('GET', path, accessTokenHash(token)) } });
    expect(fresh.status).toBe(200);
    await fresh.body?.cancel();

    const lines = await auditEntries(before);
    expect(lines.map((l) => [l.action, l.outcome])).toEqual([
      ['record.read', 'permit'],
      ['token.refused', 'deny'],
      ['record.read', 'permit'],
    ]);
    expect(lines[0]!.decisionId).toBe(decision.id);
    expect(lines[1]).toMatchObject({ reason: 'DPOP_REPLAYED', httpStatus: 401 });
  }, 30_000);

  it('an approval on A changes what B releases within a second', async () => {
    const { clientRef, org } = handoverClient();
    const coach = await tokenFor(b.origin, 'participatiecoach', org, { purpose: 'overdracht-kp4', client: clientRef });
    const readOnB = async () => {
      const res = await fetch(`${b.origin}/v1/clients/${clientRef}`, { headers: { authorization: `Bearer ${coach}` } });
      expect(res.status).toBe(200);
      return (await res.json()) as { record: { persoon: Record<string, unknown> }; decision: { policyVersion: string } };
    };
    const beforeRead = await readOnB();
    expect(beforeRead.record.persoon.telefoon).toBeDefined();

    const anna = await tokenFor(a.origin, 'privacy-officer', 'WERKZAAK', { purpose: 'beleidsbeheer' }, 'po-anna');
    const bram = await tokenFor(a.origin, 'privacy-officer', 'WERKZAAK', { purpose: 'beleidsbeheer' }, 'po-bram');
    const proposed = await fetch(`${a.origin}/v1/policies`, {
      method: 'POST',
      headers: { authorization: `Bearer ${anna}`, 'content-type': 'application/json' },
      body: JSON.stringify(withoutCoachPhone(policy.document)),
    });
    expect(proposed.status).toBe(201);
    const draft = (await proposed.json()) as { id: number; hash: string };
    // A draft changes nothing anywhere.
    expect((await readOnB()).record.persoon.telefoon).toBeDefined();

    const approved = await fetch(`${a.origin}/v1/policies/${draft.id}/approve`, { method: 'POST', headers: { authorization: `Bearer ${bram}` } });
    expect(approved.status).toBe(200);
    const at = performance.now();
    await approved.body?.cancel();
    let after = await readOnB();
    while (after.record.persoon.telefoon !== undefined && performance.now() - at < 3000) after = await readOnB();
    const elapsed = performance.now() - at;
    expect(after.record.persoon.telefoon).toBeUndefined();
    expect(after.decision.policyVersion).toBe(draft.hash);
    expect(elapsed).toBeLessThan(1000);
    // And A, where it was approved, decides under it too.
    const onA = await fetch(`${a.origin}/v1/clients/${clientRef}`, { headers: { authorization: `Bearer ${coach}` } });
    expect(((await onA.json()) as { decision: { policyVersion: string } }).decision.policyVersion).toBe(draft.hash);
  }, 30_000);

  it('a web session started on A is the same session on B, and a logout on B ends it on A', async () => {
    const org = 'GM1960';
    const cookie = await webSession(a.origin, org, `demo-participatiecoach-${org.toLowerCase()}`);
    const page = (origin: string) => fetch(`${origin}/overdrachten`, { headers: { cookie }, redirect: 'manual' });
    const before = await head();
    const onB = await page(b.origin);
    expect(onB.status).toBe(200);
    const html = await onB.text();
    expect(html).toContain('<h1');
    const onA = await page(a.origin);
    expect(onA.status).toBe(200);
    await onA.body?.cancel();
    // Both pages wrote their lines on the one chain, as web pages of the web client.
    const lines = await auditEntries(before);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.every((l) => l.channel === 'web' && l.clientId === 'doelpoort-web')).toBe(true);

    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
    expect(csrf).toBeDefined();
    const out = await fetch(`${b.origin}/logout`, {
      method: 'POST',
      headers: { cookie, origin: instances.publicUrl, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: csrf! }).toString(),
      redirect: 'manual',
    });
    expect(out.status).toBe(303);
    await out.body?.cancel();
    const after = await page(a.origin);
    expect(after.status).toBe(303);
    expect(new URL(after.headers.get('location')!, a.origin).pathname).not.toBe('/overdrachten');
    await after.body?.cancel();
  }, 30_000);

  it('SIGKILL of one instance under load: the other keeps serving, and every 200 either answered has its audit line', async () => {
    const { clientRef, org } = handoverClient();
    const token = await tokenFor(a.origin, 'participatiecoach', org, { purpose: 'overdracht-kp4', client: clientRef });
    const decisions: string[] = [];
    const otherStatuses: number[] = [];
    let killedAt = Number.POSITIVE_INFINITY;
    let servedAfterKill = 0;
    let servedByKilled = 0;
    let survivorFailures = 0;
    let stop = false;
    const worker = (server: Server) => async () => {
      while (!stop) {
        try {
          const res = await fetch(`${server.origin}/v1/clients/${clientRef}`, { headers: { authorization: `Bearer ${token}` } });
          if (res.status === 200) {
            decisions.push(((await res.json()) as { decision: { id: string } }).decision.id);
            if (server === b) servedByKilled++;
            else if (performance.now() > killedAt) servedAfterKill++;
          } else {
            otherStatuses.push(res.status);
            await res.body?.cancel();
          }
        } catch {
          if (server === b) return; // the killed instance is gone
          survivorFailures++;
        }
      }
    };
    const load = Promise.all([...Array.from({ length: 8 }, worker(a)), ...Array.from({ length: 8 }, worker(b))]);
    await new Promise((r) => setTimeout(r, 1500));
    process.kill(b.pid, 'SIGKILL');
    killedAt = performance.now();
    await new Promise((r) => setTimeout(r, 2000));
    stop = true;
    await load;
    await b.stop();

    expect(survivorFailures).toBe(0);
    expect(otherStatuses).toEqual([]);
    expect(servedByKilled).toBeGreaterThan(10);
    expect(servedAfterKill).toBeGreaterThan(10);
    const { rows } = await db.pg.pool.query<{ id: string }>('SELECT decision_id AS id FROM audit_log WHERE decision_id IS NOT NULL');
    const logged = new Set(rows.map((r) => r.id));
    const missing = decisions.filter((id) => !logged.has(id));
    expect(missing).toEqual([]);
    expect(await verifyChain()).toMatchObject({ ok: true });
    // And as an operator checks it, with the instances' configuration.
    const verified = spawnSync(process.execPath, [BIN, 'audit', 'verify'], { cwd: ROOT, env: instances.env, encoding: 'utf8' });
    expect(verified.stdout).toMatch(/^ok \d+ lines, head [0-9a-f]{64}/);
    expect(verified.status).toBe(0);
    // A is still serving once the load is over.
    const res = await fetch(`${a.origin}/v1/clients/${clientRef}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    await res.body?.cancel();
  }, 30_000);
});
