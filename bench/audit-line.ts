/**
 * The cost of one audit line on the append path, in process: `npx tsx bench/audit-line.ts [--lines N] [--prefill N]
 * [--without index,index] [--runs N]`. Appends `--prefill` lines, then times `--lines` more through the real AuditLog
 * (entry guard, content, hashes, insert into the table and its indexes) in transactions of 100 lines with
 * synchronous=OFF, so neither the commit nor the fsync (the unit of work's, measured elsewhere) is in the figure; then
 * times the parts of building a line on their own. `--without` drops indexes of audit_log first (to price them).
 * Prints µs per line (process CPU), `--runs` times.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as chain from '../src/audit/chain.js';
import { auditEntryProblem, type AuditEntry } from '../src/audit/entry.js';
import { generateCheckpointKey } from '../src/audit/keys.js';
import { AuditLog } from '../src/audit/log.js';
import { systemClock } from '../src/clock.js';
import { openDatabase } from '../src/db.js';
import { benchEntry } from './audit-entry.js';

const { values } = parseArgs({ options: { lines: { type: 'string' }, prefill: { type: 'string' }, without: { type: 'string' }, runs: { type: 'string' } } });
const LINES = Number(values.lines ?? 50_000);
const PREFILL = Number(values.prefill ?? 100_000);
const RUNS = Number(values.runs ?? 3);

const pseudonyms = Array.from({ length: 5000 }, () => randomBytes(32).toString('hex'));
const entry = (n: number) => benchEntry(n, (bsn) => pseudonyms[Number(bsn) % 5000]!);

const cpu = (fn: () => void): number => {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return used.user + used.system;
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doelpoort-bench-line-'));
try {
  const db = openDatabase(path.join(dir, 'bench.db'));
  db.$client.pragma('synchronous = OFF');
  for (const index of (values.without ?? '').split(',').filter(Boolean)) db.$client.exec(`DROP INDEX ${index}`);
  const audit = new AuditLog(db, { clock: systemClock, pseudonymKey: randomBytes(32), checkpointKey: generateCheckpointKey(), checkpointEvery: 1000 });
  const batch = db.$client.transaction((entries: AuditEntry[]) => {
    for (const e of entries) audit.appendInTransaction(e);
  });
  let n = 0;
  const append = (count: number) => {
    const entries = Array.from({ length: count }, () => entry(++n));
    return cpu(() => {
      for (let i = 0; i < count; i += 100) batch.immediate(entries.slice(i, i + 100));
    });
  };
  append(PREFILL);
  const indexes = db.$client
    .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_log' AND sql IS NOT NULL ORDER BY name")
    .pluck()
    .all();
  console.log(
    `indexes on audit_log: ${indexes.join(', ')}; load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const sample = Array.from({ length: 20_000 }, (_, i) => entry(i));
  const per = (us: number, count: number) => (us / count).toFixed(2).padStart(6);
  for (let r = 1; r <= RUNS; r++) {
    const total = append(LINES);
    const guard = cpu(() => {
      for (const e of sample) auditEntryProblem(e);
    });
    const v1 = cpu(() => {
      let previous = chain.GENESIS;
      sample.forEach((e, i) => {
        previous = chain.chainHash(previous, chain.leafHash(chain.lineContent(i + 1, 1_790_000_000_000 + i, e)));
      });
    });
    const v2 = cpu(() => {
      let previous = chain.GENESIS;
      sample.forEach((e, i) => {
        const a = e.actor!;
        const at = 1_790_000_000_000 + i;
        const values = [
          i + 1,
          at,
          e.action,
          e.outcome,
          a.iss,
          a.sub,
          a.role,
          a.org,
          e.clientRef!,
          e.purpose!,
          e.decisionId!,
          null,
          null,
          0,
          chain.storedContent(i + 1, at, e),
        ];
        previous = chain.chainHash(previous, chain.leafHashV2(values));
      });
    });
    console.log(
      `run ${r}: append ${per(total, LINES)} µs/line (CPU, in transactions of 100)  guard ${per(guard, sample.length)}  build format 1 ${per(v1, sample.length)}  format 2 ${per(v2, sample.length)} µs  load ${os.loadavg()[0]!.toFixed(2)}`,
    );
  }
  db.$client.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
