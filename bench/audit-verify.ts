/**
 * `audit verify` on its own: `npx tsx bench/audit-verify.ts FILE [--runs N] [--workers N] [--single]`. Verifies the
 * audit log of an existing database file (opened read-only, never migrated) as `doelpoort audit verify` does
 * (verifyAuditParallel: worker threads, one per core), `--runs` times, and prints wall seconds, the process's CPU
 * seconds (every thread) and the load average of each run. `--single` adds one run in the calling thread.
 * A million-line file: `npx tsx bench/audit-db.ts FILE 1000000`.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { verifyAudit } from '../src/audit/verify.js';
import { verifyAuditParallel } from '../src/audit/verify-parallel.js';
import type { Db } from '../src/db.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: 'string' }, workers: { type: 'string' }, single: { type: 'boolean' } },
});
const file = positionals[0];
if (!file) throw new Error('usage: bench/audit-verify.ts FILE [--runs N] [--workers N] [--single]');
const runs = Number(values.runs ?? 3);
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function measure(label: string, run: () => Promise<unknown>): Promise<void> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const result = (await run()) as { ok: boolean; records: number };
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  console.log(
    `${label.padEnd(28)} ${wall.toFixed(2).padStart(6)} s wall  ${cpuSeconds.toFixed(2).padStart(6)} s CPU  ok=${result.ok} lines=${result.records}  load ${load()}`,
  );
}

for (let r = 1; r <= runs; r++) {
  await measure(`verify, workers, run ${r}`, () => verifyAuditParallel(file, values.workers === undefined ? {} : { workers: Number(values.workers) }));
}
if (values.single) {
  const s = new Database(file, { readonly: true, fileMustExist: true });
  await measure('verify, one thread', async () => verifyAudit({ $client: s } as unknown as Db));
  s.close();
}
