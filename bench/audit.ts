/**
 * Audit log throughput: `npx tsx bench/audit.ts [--lines N] [--single N] [--batch N] [--cache-mb M]`. Appends to a temp file
 * database (WAL, synchronous=FULL, as in production): first `--single` lines each in its own transaction, then the
 * rest up to `--lines` in transactions of `--batch` lines, then a group-commit run (the unit of work, 50 works per
 * event-loop turn), then verifies the whole chain, in one thread and across worker threads. Prints lines/s and seconds.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../src/clock.js';
import { generateCheckpointKey } from '../src/audit/keys.js';
import { AuditLog } from '../src/audit/log.js';
import type { VerifyResult } from '../src/audit/verify.js';
import { openDatabase, openRecordsDatabase } from '../src/db.js';
import { PolicyVersions } from '../src/policy/versions.js';
import { RecordStore } from '../src/records/store.js';
import { appendLine, SqliteUnitOfWork } from '../src/unit-of-work.js';
import { benchEntry } from './audit-entry.js';

const { values } = parseArgs({ options: { lines: { type: 'string' }, single: { type: 'string' }, batch: { type: 'string' }, 'cache-mb': { type: 'string' } } });
const total = Number(values.lines ?? 1_000_000);
const single = Math.min(total, Number(values.single ?? 10_000));
const batch = Number(values.batch ?? 100);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doelpoort-bench-'));
const db = openDatabase(path.join(dir, 'bench.db'));
if (values['cache-mb']) db.$client.pragma(`cache_size = -${Number(values['cache-mb']) * 1024}`);
const audit = new AuditLog(db, { clock: systemClock, pseudonymKey: randomBytes(32), checkpointKey: generateCheckpointKey(), checkpointEvery: 1000 });
const uow = new SqliteUnitOfWork({ audit, records: new RecordStore(openRecordsDatabase(':memory:')), policies: new PolicyVersions(db, systemClock) });
let n = 0;
const entry = () => benchEntry(++n, (bsn) => audit.pseudonym(bsn));
/** `lines` appends in one immediate transaction of their own. */
const inOneTransaction = db.$client.transaction((lines: number) => {
  for (let i = 0; i < lines; i++) audit.appendInTransaction(entry());
});

function time(label: string, lines: number, fn: () => void): void {
  const start = process.hrtime.bigint();
  fn();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(
    `${label.padEnd(34)} ${String(lines).padStart(9)} lines  ${seconds.toFixed(2).padStart(7)} s  ${Math.round(lines / seconds)
      .toLocaleString('en')
      .padStart(10)} lines/s`,
  );
}

async function timeAsync(label: string, lines: number, fn: () => Promise<void>): Promise<void> {
  const start = process.hrtime.bigint();
  await fn();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(
    `${label.padEnd(34)} ${String(lines).padStart(9)} lines  ${seconds.toFixed(2).padStart(7)} s  ${Math.round(lines / seconds)
      .toLocaleString('en')
      .padStart(10)} lines/s`,
  );
}

try {
  time('single (1 line per transaction)', single, () => {
    for (let i = 0; i < single; i++) inOneTransaction.immediate(1);
  });
  const rest = total - single;
  time(`batched (${batch} lines per transaction)`, rest, () => {
    for (let done = 0; done < rest; done += batch) {
      const k = Math.min(batch, rest - done);
      inOneTransaction.immediate(k);
    }
  });
  // Group commit as the HTTP side uses it: `concurrency` works per event-loop turn, each awaiting its line.
  const concurrency = 50;
  const grouped = Math.min(single * 2, 20_000);
  await timeAsync(`group commit (${concurrency} per loop turn)`, grouped, async () => {
    for (let done = 0; done < grouped; done += concurrency) {
      await Promise.all(Array.from({ length: concurrency }, () => appendLine(uow, entry())));
    }
  });
  let result: ReturnType<AuditLog['verify']> | undefined;
  time('verify (whole chain + checkpoints)', total + grouped, () => {
    result = audit.verify();
  });
  console.log(`verify: ${JSON.stringify(result)}`);
  let parallel: VerifyResult | undefined;
  await timeAsync('verify, worker threads (one per core)', total + grouped, async () => {
    parallel = await audit.verifyParallel();
  });
  console.log(`verify, worker threads: ${JSON.stringify(parallel)}`);
  console.log(`database: ${(fs.statSync(path.join(dir, 'bench.db')).size / 1e6).toFixed(0)} MB`);
} finally {
  db.$client.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
