/**
 * The request path's CPU cost in process, without sockets (issue 15: in-process figures for decisions, steadier than
 * load on a shared machine): `npx tsx bench/request-path.ts [seconds]`. A real app on in-memory SQLite with the
 * example records, in demo mode (its identity provider and public client); measures CPU µs per request
 * (process.cpuUsage, this thread and SQLite's) of (1) the token exchange repeating one login, the way a coach's
 * client exchanges it per client, and (2) `GET /v1/clients/WZR-100001` with one bearer token. Prints JSON lines.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { systemClock } from '../src/clock.js';
import { gatewayDeps } from '../src/composition.js';
import { loadConfig } from '../src/config.js';
import { openDatabase, openRecordsDatabase } from '../src/db.js';
import { EXAMPLE_EXPORT_FILE } from '../src/demo.js';
import { createApp } from '../src/http/app.js';
import { importSuiteExport } from '../src/records/import.js';
import { loadDemoIdp, signDemoLogin } from '../src/tokens/demo-idp.js';

const seconds = Number(process.argv[2] ?? 4);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doelpoort-bench-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
// Demo mode: its identity provider (a key in the data dir) signs the login, its public client needs no assertion, so
// the figure is the exchange's own work.
const config = loadConfig({ DOELPOORT_DATA_DIR: dir, DOELPOORT_DEMO: '1' });
const deps = gatewayDeps({
  db: openDatabase(':memory:'),
  recordsDb: openRecordsDatabase(':memory:'),
  config,
  clock: systemClock,
  pseudonymKey: randomBytes(32),
});
await deps.tokens.trust.ready();
await importSuiteExport(deps.records, fs.createReadStream(EXAMPLE_EXPORT_FILE), { clock: systemClock });
const app = createApp(deps);
const login = await signDemoLogin(
  await loadDemoIdp(dir),
  { sub: 'demo-participatiecoach-gm1960', role: 'participatiecoach', org: 'GM1960' },
  Math.floor(Date.now() / 1000),
);
const body = new URLSearchParams({
  client_id: 'doelpoort-demo',
  grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
  subject_token: login,
  subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
  authorization_details: JSON.stringify([{ type: 'doelbinding', purpose: 'overdracht-kp4', client: 'WZR-100001' }]),
}).toString();
const form = { 'content-type': 'application/x-www-form-urlencoded' };

async function expectOk(res: Response): Promise<void> {
  if (res.status !== 200) throw new Error(`bench: unexpected status ${res.status}`);
  await res.arrayBuffer();
}

/** Runs `op` from 32 loops for `seconds` after a warm-up; CPU µs per request and wall req/s. */
async function measure(name: string, op: () => Promise<void>): Promise<void> {
  for (let i = 0; i < 300; i++) await op();
  let done = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (performance.now() < deadline) {
        await op();
        done++;
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const elapsed = (performance.now() - started) / 1000;
  console.log(
    JSON.stringify({ bench: name, requests: done, cpuUsPerRequest: Math.round((cpu.user + cpu.system) / done), perSecond: Math.round(done / elapsed) }),
  );
}

await measure('token-exchange, one login repeated', async () => expectOk(await app.request('/oauth/token', { method: 'POST', headers: form, body })));
const issued = (await (await app.request('/oauth/token', { method: 'POST', headers: form, body })).json()) as { access_token: string };
const authorization = `Bearer ${issued.access_token}`;
await measure('GET /v1/clients/WZR-100001', async () => expectOk(await app.request('/v1/clients/WZR-100001', { headers: { authorization } })));
