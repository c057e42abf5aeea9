/**
 * Token exchanges per second, in-process through `app.request` (no sockets): a real app on a SQLite database with the
 * example records, one trusted IdP and one registered client with keys generated here, ES256 verify of the client
 * assertion (private_key_jwt) + ES256 verify of the login + ES256 sign of the access token + one audit line per
 * exchange; then /v1 requests through the token middleware with one bearer token. The client assertions (one per
 * exchange: their `jti` is single-use) are signed before the clock starts, so the figure is the gateway's work alone.
 * Run: `npx tsx bench/exchange.ts [seconds] [concurrency]`. BENCH_DB=file puts the database in a temp file (WAL, synchronous=FULL) instead of memory.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { systemClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { openDatabase, openRecordsDatabase } from '../src/db.js';
import { gatewayDeps } from '../src/composition.js';
import { createApp } from '../src/http/app.js';
import { importSuiteExport } from '../src/records/import.js';
import { EXAMPLE_EXPORT_FILE } from '../src/demo.js';

const seconds = Number(process.argv[2] ?? 5);
const concurrency = Number(process.argv[3] ?? 32);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doelpoort-bench-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
const issuer = 'https://login.bench.example';
const idp = await generateKeyPair('ES256');
const jwk = { ...(await exportJWK(idp.publicKey)), kid: 'bench', alg: 'ES256' };
fs.writeFileSync(path.join(dir, 'idps.json'), JSON.stringify({ idps: [{ issuer, audience: 'doelpoort', organisations: ['GM1960'], jwks: { keys: [jwk] } }] }));
const clientId = 'bench-client';
const client = await generateKeyPair('ES256');
const clientJwk = { ...(await exportJWK(client.publicKey)), kid: 'bench-client', alg: 'ES256' };
fs.writeFileSync(path.join(dir, 'clients.json'), JSON.stringify({ clients: [{ clientId, organisations: ['GM1960'], jwks: { keys: [clientJwk] } }] }));

const config = loadConfig({
  DOELPOORT_DATA_DIR: dir,
  DOELPOORT_IDPS_FILE: path.join(dir, 'idps.json'),
  DOELPOORT_CLIENTS_FILE: path.join(dir, 'clients.json'),
});
const db = openDatabase(process.env.BENCH_DB === 'file' ? path.join(dir, 'bench.db') : ':memory:');
const recordsDb = openRecordsDatabase(process.env.BENCH_DB === 'file' ? path.join(dir, 'records.db') : ':memory:');
const deps = gatewayDeps({ db, recordsDb, config, clock: systemClock, pseudonymKey: randomBytes(32) });
await importSuiteExport(deps.records, fs.createReadStream(EXAMPLE_EXPORT_FILE), { clock: systemClock });
const app = createApp(deps);
// A stand-in /v1 route (createApp guards /v1/*), to measure the token middleware (verified-token cache included).
app.get('/v1/whoami', (c) => c.json(c.get('requester')));

const now = Math.floor(Date.now() / 1000);
const login = await new SignJWT({ role: 'participatiecoach', org: 'GM1960' })
  .setProtectedHeader({ alg: 'ES256', kid: 'bench', typ: 'JWT' })
  .setIssuer(issuer)
  .setAudience('doelpoort')
  .setSubject('bench-user')
  .setIssuedAt(now)
  .setExpirationTime(now + 3600)
  .sign(idp.privateKey);
const form = new URLSearchParams({
  grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
  subject_token: login,
  subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
  authorization_details: JSON.stringify([{ type: 'doelbinding', purpose: 'overdracht-kp4', client: 'WZR-100001' }]),
}).toString();

let minted = 0;
/** One exchange's body: the form plus the client's authentication with a fresh assertion (RFC 7523). */
async function exchangeBody(): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({ aud: `${config.publicUrl}/oauth/token` })
    .setProtectedHeader({ alg: 'ES256', kid: 'bench-client' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setJti(`bench-${++minted}`)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 300)
    .sign(client.privateKey);
  return `${form}&${new URLSearchParams({ client_id: clientId, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion })}`;
}
// Enough for the warm-up and a little over 2,500 exchanges a second; past that the loop signs its own (and is slower).
const bodies = await Promise.all(Array.from({ length: 200 + seconds * 2_500 }, exchangeBody));

const exchange = async () => {
  const body = bodies.pop() ?? (await exchangeBody());
  const res = await app.request('/oauth/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  if (res.status !== 200) throw new Error(`bench: unexpected status ${res.status}`);
  await res.arrayBuffer();
};

/** Runs `op` from `concurrency` loops for `seconds` and prints the rate. */
async function measure(name: string, op: () => Promise<void>) {
  for (let i = 0; i < 200; i++) await op(); // warm-up
  let done = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await op();
        done++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  console.log(
    JSON.stringify({
      bench: name,
      mode: 'in-process app.request',
      db: process.env.BENCH_DB === 'file' ? 'file' : 'memory',
      concurrency,
      seconds: +elapsed.toFixed(2),
      requests: done,
      perSecond: Math.round(done / elapsed),
    }),
  );
}

await measure('token-exchange', exchange);

const issued = (await (
  await app.request('/oauth/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: await exchangeBody() })
).json()) as { access_token: string };
const authorization = `Bearer ${issued.access_token}`;
await measure('v1-bearer-middleware', async () => {
  const res = await app.request('/v1/whoami', { headers: { authorization } });
  if (res.status !== 200) throw new Error(`bench: unexpected status ${res.status}`);
  await res.arrayBuffer();
});
db.$client.close();
