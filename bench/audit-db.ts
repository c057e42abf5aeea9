// One-off: a 1,000,000-line audit DB in the current (v1) format, kept for verify measurements.
import { randomBytes } from 'node:crypto';
import { systemClock } from '../src/clock.js';
import { generateCheckpointKey } from '../src/audit/keys.js';
import { AuditLog } from '../src/audit/log.js';
import { openDatabase } from '../src/db.js';
import { benchEntry } from './audit-entry.js';
const file = process.argv[2]!;
const total = Number(process.argv[3] ?? 1_000_000);
const db = openDatabase(file);
db.$client.pragma('synchronous = OFF');
const audit = new AuditLog(db, { clock: systemClock, pseudonymKey: randomBytes(32), checkpointKey: generateCheckpointKey(), checkpointEvery: 1000 });
let n = 0;
const entry = () => benchEntry(++n, (bsn) => audit.pseudonym(bsn));
const tx = db.$client.transaction((k: number) => {
  for (let i = 0; i < k; i++) audit.appendInTransaction(entry());
});
const t0 = Date.now();
for (let done = 0; done < total; done += 10000) tx.immediate(Math.min(10000, total - done));
console.log(`${total} lines in ${(Date.now() - t0) / 1000}s`);
db.$client.pragma('wal_checkpoint(TRUNCATE)');
db.$client.close();
