import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, demoLogin, freePort, generateStore, startServer, type Server } from '../bench/procs.js';
import { accessToken, send } from './security-matrix.js';
import { tempDir } from './support.js';
import { setupTokens } from './token-support.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

async function gatewayOn(dataDir: string, env: Record<string, string> = {}): Promise<Server> {
  const port = await freePort();
  return startServer({
    name: 'gateway',
    args: [BIN, 'serve'],
    env: { ...process.env, DOELPOORT_DATA_DIR: dataDir, PORT: String(port), DOELPOORT_DEMO: '1', DOELPOORT_TOKEN_TTL: '900', ...env },
    port,
    cores: null,
    readyPath: '/health',
  });
}

/** A token for a coach and a client with an open KP3→KP4 handover to the coach's municipality, from the store. */
async function coachToken(gateway: Server, dataDir: string): Promise<{ token: string; clientRef: string }> {
  const db = new Database(path.join(dataDir, 'records.db'), { readonly: true });
  const row = db
    .prepare<[], { clientRef: string; org: string }>(
      `SELECT o.client_ref AS clientRef, o.naar_organisatie AS org FROM overdrachten o JOIN clients c USING (client_ref)
       WHERE o.richting = 'KP3-KP4' AND o.status = 'aangevraagd' AND json_extract(c.record, '$.overdrachten[0].bezwaarTegenDelen') = 0 LIMIT 1`,
    )
    .get()!;
  db.close();
  const login = demoLogin(dataDir, 'participatiecoach', row.org);
  const res = await fetch(`${gateway.origin}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: 'doelpoort-demo',
      grant_type: GRANT,
      subject_token: login,
      subject_token_type: JWT_TYPE,
      authorization_details: JSON.stringify([{ type: 'doelbinding', purpose: 'overdracht-kp4', client: row.clientRef }]),
    }),
  });
  expect(res.status).toBe(200);
  return { token: ((await res.json()) as { access_token: string }).access_token, clientRef: row.clientRef };
}

function auditVerify(dataDir: string) {
  return spawnSync(process.execPath, [BIN, 'audit', 'verify'], { cwd: ROOT, env: { ...process.env, DOELPOORT_DATA_DIR: dataDir }, encoding: 'utf8' });
}

describe('faults', () => {
  it('SIGKILL in the middle of load: the chain verifies after restart and every 200 a client received has its audit line', async () => {
    const dataDir = tempDir();
    await generateStore(dataDir, 200, 3);
    const gateway = await gatewayOn(dataDir);
    const { token, clientRef } = await coachToken(gateway, dataDir);
    const decisions: string[] = [];
    let stop = false;
    const worker = async () => {
      while (!stop) {
        try {
          const res = await fetch(`${gateway.origin}/v1/clients/${clientRef}`, { headers: { authorization: `Bearer ${token}` } });
          if (res.status === 200) decisions.push(((await res.json()) as { decision: { id: string } }).decision.id);
          else await res.body?.cancel();
        } catch {
          return; // the server is gone
        }
      }
    };
    const load = Promise.all(Array.from({ length: 16 }, worker));
    await new Promise((r) => setTimeout(r, 700));
    process.kill(gateway.pid, 'SIGKILL');
    stop = true;
    await load;
    expect(decisions.length).toBeGreaterThan(10);

    const verified = auditVerify(dataDir);
    expect(verified.status).toBe(0);
    const db = new Database(path.join(dataDir, 'doelpoort.db'), { readonly: true });
    const logged = new Set(
      db
        .prepare<[], { id: string }>('SELECT decision_id AS id FROM audit_log WHERE decision_id IS NOT NULL')
        .all()
        .map((r) => r.id),
    );
    db.close();
    for (const id of decisions) expect(logged.has(id)).toBe(true);

    const restarted = await gatewayOn(dataDir);
    expect((await fetch(`${restarted.origin}/health`)).status).toBe(200);
    await restarted.stop();
  }, 90_000);

  it('SIGTERM drains in-flight requests: each one the server took gets its whole answer, and the process exits 0', async () => {
    const dataDir = tempDir();
    await generateStore(dataDir, 50, 4);
    const gateway = await gatewayOn(dataDir);
    const { token, clientRef } = await coachToken(gateway, dataDir);
    const read = () =>
      fetch(`${gateway.origin}/v1/clients/${clientRef}`, { headers: { authorization: `Bearer ${token}` } }).then(
        async (r) => ({ status: r.status, id: r.status === 200 ? ((await r.json()) as { decision: { id: string } }).decision.id : undefined }),
        // A connection the server had not accepted yet when it stopped listening: never in flight.
        () => ({ status: 0, id: undefined }),
      );
    const first = read();
    const rest = Array.from({ length: 60 }, read);
    await first;
    process.kill(gateway.pid, 'SIGTERM');
    const answers = [first, ...rest];
    const results = await Promise.all(answers);
    // Wait for the process to finish on its own; stop() would send a second signal.
    for (let waited = 0; !gateway.tail().includes('"msg":"stopped"') && waited < 15_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    expect(gateway.tail()).toContain('"msg":"stopped"');
    await gateway.stop();
    // Whatever the server answered, it answered whole and logged; nothing it took was cut off with a 5xx.
    expect(results.filter((r) => r.status !== 0).every((r) => r.status === 200)).toBe(true);
    const db = new Database(path.join(dataDir, 'doelpoort.db'), { readonly: true });
    const logged = db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM audit_log WHERE action = 'record.read' AND outcome = 'permit'`).get()!.n;
    db.close();
    expect(logged).toBe(results.filter((r) => r.status === 200).length);
    expect(results.filter((r) => r.status === 200).length).toBeGreaterThan(1);
  }, 60_000);

  it('SIGTERM writes the rate-limit summary of the minute in progress: refused requests are never left unlogged', async () => {
    const dataDir = tempDir();
    await generateStore(dataDir, 5, 4);
    const gateway = await gatewayOn(dataDir, { DOELPOORT_RATE_LIMIT: '3' });
    // The limiter counts per clock minute: start well inside one.
    if (Date.now() % 60_000 > 50_000) await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 100));
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await fetch(`${gateway.origin}/v1/clients/WZR-100001`)).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429, 429, 429]);
    process.kill(gateway.pid, 'SIGTERM');
    for (let waited = 0; !gateway.tail().includes('"msg":"stopped"') && waited < 15_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    await gateway.stop();
    const db = new Database(path.join(dataDir, 'doelpoort.db'), { readonly: true });
    const lines = db.prepare<[], { entry: string }>(`SELECT entry FROM audit_log WHERE action = 'request.limited'`).all();
    db.close();
    expect(lines.map((l) => (JSON.parse(l.entry) as { entry: Record<string, unknown> }).entry)).toEqual([
      expect.objectContaining({ reason: 'RATE_LIMITED', count: 5, httpStatus: 429 }),
    ]);
  }, 60_000);

  it('a full disk makes requests fail with 503 and release nothing: no permit line for the refused attempt', async () => {
    const ctx = await setupTokens();
    const token = await accessToken(ctx, { user: { sub: 'c', role: 'participatiecoach', org: 'GM1960' }, purpose: 'overdracht-kp4', client: 'WZR-100001' });
    // No room for another page: the next audit insert fails with SQLITE_FULL, as on a full disk.
    const pages = (ctx.db.$client.pragma('page_count', { simple: true }) as number) + 0;
    ctx.db.$client.pragma(`max_page_count = ${pages}`);
    // Each attempt carries its own trace, so its audit line (or its absence) can be told apart from the others'.
    const traceOf = (i: number) => (i + 1).toString(16).padStart(32, '0');
    const answered: Array<{ traceId: string; status: number; decisionId?: string }> = [];
    for (let i = 0; i < 200 && !answered.some((a) => a.status === 503); i++) {
      const traceId = traceOf(i);
      const res = await send(ctx, { method: 'GET', path: '/v1/clients/WZR-100001' }, token, { traceparent: `00-${traceId}-${'1'.padStart(16, '0')}-01` });
      const body = (await res.json()) as { code?: string; decision?: { id: string } };
      if (res.status === 503) expect(body).toMatchObject({ code: 'AUDIT_WRITE_FAILED' });
      else expect(res.status).toBe(200);
      answered.push({ traceId, status: res.status, decisionId: body.decision?.id });
    }
    const refused = answered.filter((a) => a.status === 503);
    expect(refused).toHaveLength(1);
    const lines = ctx.auditEntries();
    const permitsOf = (traceId: string) => lines.filter((l) => l.traceId === traceId && l.outcome === 'permit');
    expect(permitsOf(refused[0]!.traceId)).toEqual([]);
    // …while every attempt answered with data has exactly its permit line, under the decision id it was given.
    for (const a of answered.filter((a) => a.status === 200)) expect(permitsOf(a.traceId).map((l) => l.decisionId)).toEqual([a.decisionId]);
  });

  it.each([
    [
      'a policy file with a misspelt key',
      (dir: string) =>
        fs.writeFileSync(
          path.join(dir, 'coach.yaml'),
          'rules:\n  - role: participatiecoach\n    purpose: overdracht-kp4\n    action: read\n    subject: Persoon\n    feilds: [voornamen]\n',
        ),
    ],
    ['a policy file that is not YAML', (dir: string) => fs.writeFileSync(path.join(dir, 'coach.yaml'), 'rules: [ {\n')],
    ['no policy files at all', (_dir: string) => undefined],
  ])(
    '%s stops the first start with a clear message',
    (_, write) => {
      const policies = tempDir();
      write(policies);
      const r = spawnSync(process.execPath, [BIN, 'serve'], {
        cwd: ROOT,
        env: { ...process.env, DOELPOORT_DATA_DIR: tempDir(), DOELPOORT_POLICIES_DIR: policies, DOELPOORT_DEMO: '1', PORT: '0' },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^doelpoort: policy set has \d+ problem/m);
    },
    60_000,
  );
});
