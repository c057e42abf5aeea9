// One-off: a 1,000,000-line audit DB in the current (v1) format, kept for verify measurements.
import { randomBytes } from 'node:crypto';
import { systemClock } from '../src/clock.js';
import type { AuditEntry } from '../src/audit/entry.js';
import { generateCheckpointKey } from '../src/audit/keys.js';
import { AuditLog } from '../src/audit/log.js';
import { openDatabase } from '../src/db.js';
const file = process.argv[2]!;
const total = Number(process.argv[3] ?? 1_000_000);
const db = openDatabase(file);
db.$client.pragma('synchronous = OFF');
const audit = new AuditLog(db, { clock: systemClock, pseudonymKey: randomBytes(32), checkpointKey: generateCheckpointKey(), checkpointEvery: 1000 });
let n = 0;
function entry(): AuditEntry {
  n++;
  return {
    action: 'record.read',
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    actor: { iss: 'https://login.bench.example', sub: `coach-${n % 500}`, role: 'participatiecoach', org: 'GM1960' },
    origin: '127.0.0.1',
    outcome: n % 10 === 0 ? 'deny' : 'permit',
    reason: n % 10 === 0 ? 'NO_HANDOVER_TO_ORGANISATION' : 'PERMIT',
    httpStatus: n % 10 === 0 ? 403 : 200,
    purpose: 'overdracht-kp4',
    processingActivityId: 'WZR-VA-011',
    tokenId: `tok-${n}`,
    clientRef: `WZR-${100000 + (n % 5000)}`,
    bsnPseudonym: audit.pseudonym(String(100000000 + (n % 5000))),
    policyVersion: 'v1-abcdef',
    decisionId: `dec-${n}`,
    released: ['persoon.voornamen', 'persoon.achternaam', 'persoon.adres.postcode', 'klantprofielen', 'ontheffingen[0].soort'],
    withheld: ['belastbaarheidsonderzoeken[0].diagnose', 'belastbaarheidsonderzoeken[0].medicatie', 'bsn'],
  };
}
const tx = db.$client.transaction((k: number) => {
  for (let i = 0; i < k; i++) audit.appendInTransaction(entry());
});
const t0 = Date.now();
for (let done = 0; done < total; done += 10000) tx.immediate(Math.min(10000, total - done));
console.log(`${total} lines in ${(Date.now() - t0) / 1000}s`);
db.$client.pragma('wal_checkpoint(TRUNCATE)');
db.$client.close();
