/**
 * Appends per second to one audit chain on PostgreSQL from two instances (two pools), each with `--clients`
 * concurrent callers through its PgUnitOfWork, then verify; and the control: the same code with the advisory lock
 * statement dropped on its way to the server, which shows what the lock prevents (the database's guards refuse the
 * lines written on a stale head, so those appends fail instead of breaking the chain).
 *
 *   DOELPOORT_TEST_PG_URL=postgres://postgres@127.0.0.1:55432/postgres npx tsx bench/pg-append.ts --lines 8000
 *
 * Creates a database of its own (`pgbench_append_<random>`) on that server and drops it afterwards.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { AuditEntry } from '../src/audit/entry.js';
import { generateCheckpointKey } from '../src/audit/keys.js';
import { PgAuditLog } from '../src/audit/log-pg.js';
import { systemClock } from '../src/clock.js';
import { PgUnitOfWork } from '../src/pg-unit-of-work.js';
import { openPostgres } from '../src/postgres.js';
import { appendLine } from '../src/unit-of-work.js';

const { values } = parseArgs({ options: { lines: { type: 'string', default: '8000' }, clients: { type: 'string', default: '8' } } });
const url = process.env.DOELPOORT_TEST_PG_URL;
if (!url) throw new Error('set DOELPOORT_TEST_PG_URL');
const clients = Number(values.clients);
const perClient = Math.ceil(Number(values.lines) / (2 * clients));

function entry(n: number): AuditEntry {
  return {
    action: 'record.read',
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    actor: { iss: 'https://login.gemeente.example', sub: `coach-${n % 4}`, role: 'participatiecoach', org: 'GM1960' },
    origin: '127.0.0.1',
    outcome: 'permit',
    reason: 'PERMIT',
    httpStatus: 200,
    purpose: 'overdracht-kp4',
    processingActivityId: 'WZR-VA-011',
    tokenId: `tok-${n}`,
    clientRef: `WZR-${100000 + (n % 50)}`,
    decisionId: `dec-${n}`,
    policyVersion: 'v1',
    released: ['persoon.voornamen', 'klantprofielen'],
    withheld: ['belastbaarheidsonderzoeken[0].diagnose'],
  } as AuditEntry;
}

/** A pool whose clients never send the append lock: the control, for measurement only. */
function withoutLock(pool: pg.Pool): pg.Pool {
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  // Only the promise form (the unit of work's); pool.query's callback form is left as it is.
  (pool as { connect: unknown }).connect = async (...args: unknown[]) => {
    if (args.length > 0) return (connect as (...a: unknown[]) => unknown)(...args);
    const client = await connect();
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = (text: unknown, ...rest: unknown[]) =>
      typeof text === 'string' && text.startsWith('SELECT pg_advisory_xact_lock') ? query('SELECT 1') : query(text, ...rest);
    return client;
  };
  return pool;
}

async function run(lock: boolean) {
  const name = `pgbench_append_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const dbUrl = new URL(url!);
  dbUrl.pathname = `/${name}`;
  try {
    await measure(dbUrl.toString(), lock);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

async function measure(dbUrl: string, lock: boolean) {
  const key = generateCheckpointKey();
  const opened = await Promise.all([0, 1].map(() => openPostgres(dbUrl, { max: clients })));
  let failed = 0;
  const start = performance.now();
  await Promise.all(
    opened.flatMap(({ pool }) => {
      const audit = new PgAuditLog(lock ? pool : withoutLock(pool), {
        clock: systemClock,
        pseudonymKey: randomBytes(32),
        checkpointKey: key,
        onWriteFailure: () => {},
      });
      const uow = new PgUnitOfWork({ pool, audit, maxBatches: clients });
      return Array.from({ length: clients }, async (_, c) => {
        for (let k = 0; k < perClient; k++) await appendLine(uow, entry(c * perClient + k)).catch(() => failed++);
      });
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const written = Number((await opened[0]!.pool.query('SELECT count(*) AS n FROM audit_log')).rows[0].n);
  const verdict = await new PgAuditLog(opened[0]!.pool, { clock: systemClock, pseudonymKey: randomBytes(32) }).verify({ publicKey: key.publicKey });
  await Promise.all(opened.map((o) => o.close()));
  const attempted = 2 * clients * perClient;
  console.log(
    `${lock ? 'with the lock   ' : 'without the lock'}: ${attempted} appends from 2 × ${clients} clients in ${seconds.toFixed(1)} s = ` +
      `${Math.round(written / seconds)} lines/s written; ${failed} refused; verify ${verdict.ok ? `ok (${verdict.records} lines)` : JSON.stringify(verdict)}`,
  );
}

console.log(
  `load average before: ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} on ${os.cpus().length} cores`,
);
await run(true);
await run(false);
