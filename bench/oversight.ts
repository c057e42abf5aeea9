/**
 * Oversight report latency: `npx tsx bench/oversight.ts [--lines N] [--previous N] [--persons N]`. Appends `--lines`
 * lines (default 1,000,000) spread over October 2026 and `--previous` lines (default 150,000) over each of the 6 months
 * before, through the real AuditLog (hashing, chain, report columns, indexes) into a temp file database (WAL,
 * synchronous=FULL, as in production), in transactions of 10,000; then times the real verbs, each with its audit
 * line through the unit of work: the monthly report for a Werkzaak officer (every organisation) and a municipal one,
 * and the per-person report over the month. Prints seconds per report and the figures' sizes, never a value.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { AuditEntry } from '../src/audit/entry.js';
import { auditFacts } from '../src/audit/facts.js';
import { AuditLog } from '../src/audit/log.js';
import { monthBounds, shiftMonth } from '../src/audit/office-hours.js';
import { monthlyReport, userReport } from '../src/audit/oversight.js';
import type { ToezichtCaller } from '../src/audit/toezicht.js';
import type { Clock } from '../src/clock.js';
import { openDatabase, openRecordsDatabase } from '../src/db.js';
import { PolicyVersions } from '../src/policy/versions.js';
import { PURPOSES, type Purpose, type Role } from '../src/purposes.js';
import { RecordStore } from '../src/records/store.js';
import { RIVIERENLAND } from '../src/records/generate.js';
import { SqliteUnitOfWork } from '../src/unit-of-work.js';

const { values } = parseArgs({ options: { lines: { type: 'string' }, previous: { type: 'string' }, persons: { type: 'string' } } });
const LINES = Number(values.lines ?? 1_000_000);
const PREVIOUS = Number(values.previous ?? 150_000);
const PERSONS = Number(values.persons ?? 500);
const MONTH = '2026-10';

let now = Date.parse('2026-11-23T10:00:00Z');
const clock: Clock = { now: () => now };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doelpoort-bench-oversight-'));
const db = openDatabase(path.join(dir, 'bench.db'));
const audit = new AuditLog(db, { clock, pseudonymKey: randomBytes(32), checkpointEvery: 1000 });
const recordsDb = openRecordsDatabase(':memory:');
const uow = new SqliteUnitOfWork({ audit, records: new RecordStore(recordsDb), policies: new PolicyVersions(db, clock) });

const ORGS = [...RIVIERENLAND.map((g) => g.code), 'WERKZAAK'];
/** Person k: an organisation, and a role and purpose that fit it. */
function person(k: number): { sub: string; org: string; role: Role; purpose: Purpose } {
  const org = ORGS[k % ORGS.length]!;
  if (org === 'WERKZAAK') return { sub: `p-${k}`, org, role: 'werkcoach', purpose: 'overdracht-kp3' };
  if (k % 3 === 0) return { sub: `p-${k}`, org, role: 'schuldhulpverlener', purpose: 'schuldhulpverlening' };
  return { sub: `p-${k}`, org, role: 'participatiecoach', purpose: k % 2 ? 'begeleiding-kp4' : 'overdracht-kp4' };
}

let n = 0;
function entry(): AuditEntry {
  n++;
  // Persons, outcomes and token requests drawn independently of each other (a multiplicative hash of n).
  const h = Math.imul(n, 2654435761) >>> 0;
  const p = person(h % PERSONS);
  const deny = (h >>> 12) % 10 === 0;
  const common = {
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    actor: { iss: 'https://login.bench.example', sub: p.sub, role: p.role, org: p.org },
    origin: '127.0.0.1',
    purpose: p.purpose,
    processingActivityId: PURPOSES[p.purpose].processingActivityId,
  };
  if ((h >>> 16) % 20 === 0) {
    const bsn = p.role === 'schuldhulpverlener';
    return deny
      ? { action: 'token.refused', ...common, outcome: 'deny', reason: 'CLIENT_UNKNOWN', httpStatus: 403, ...(bsn ? { bsnPseudonym: 'b'.repeat(64) } : {}) }
      : {
          action: 'token.issued',
          ...common,
          tokenId: `tok-${n}`,
          clientRef: `WZR-${100000 + (n % 5000)}`,
          outcome: 'permit',
          reason: 'PERMIT',
          httpStatus: 200,
        };
  }
  return {
    action: 'record.read',
    ...common,
    outcome: deny ? 'deny' : 'permit',
    reason: deny ? 'NO_HANDOVER_TO_ORGANISATION' : 'PERMIT',
    httpStatus: deny ? 403 : 200,
    tokenId: `tok-${n}`,
    clientRef: `WZR-${100000 + (n % 5000)}`,
    bsnPseudonym: 'c'.repeat(64),
    policyVersion: 'v1-abcdef',
    decisionId: `dec-${n}`,
    released: ['persoon.voornamen', 'persoon.achternaam', 'persoon.adres.postcode', 'klantprofielen', 'ontheffingen[0].soort'],
    withheld: ['belastbaarheidsonderzoeken[0].diagnose', 'belastbaarheidsonderzoeken[0].medicatie', 'bsn'],
    ...(n % 1000 === 0 ? { noodtoegang: true } : {}),
  };
}

/** `count` lines spread evenly over `month`, in transactions of 10,000. */
const fill = db.$client.transaction((from: number, step: number, start: number, count: number) => {
  for (let i = start; i < start + count; i++) {
    now = from + Math.floor(i * step);
    audit.appendInTransaction(entry());
  }
});
function spread(month: string, count: number): void {
  const { from, to } = monthBounds(month);
  const step = (to - from) / count;
  for (let done = 0; done < count; done += 10_000) fill.immediate(from, step, done, Math.min(10_000, count - done));
}

const officer = (org: string): ToezichtCaller => ({
  requester: { issuer: 'https://login.bench.example', sub: `po-${org}`, role: 'privacy-officer', org, purpose: 'toezicht' },
  facts: auditFacts(
    { trace: { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') }, origin: 'bench' },
    { issuer: 'https://login.bench.example', sub: `po-${org}`, role: 'privacy-officer', org, purpose: 'toezicht' },
  ),
  done: 200,
});

/** Wall seconds, and the process's CPU seconds (on a shared machine the wall is mostly waiting for a core), with the load. */
async function time<T>(label: string, fn: () => Promise<T>, describe: (r: T) => string): Promise<void> {
  const load = os.loadavg()[0]!.toFixed(2);
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const result = await fn();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  console.log(`${label.padEnd(52)} ${seconds.toFixed(2).padStart(6)} s (cpu ${cpuSeconds.toFixed(2)} s, load ${load})  ${describe(result)}`);
}

try {
  const t0 = process.hrtime.bigint();
  for (let k = 6; k >= 1; k--) spread(shiftMonth(MONTH, -k), PREVIOUS);
  spread(MONTH, LINES);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(
    `appended ${LINES.toLocaleString('en')} lines in ${MONTH} and ${PREVIOUS.toLocaleString('en')} in each of the 6 months before: ${seconds.toFixed(0)} s`,
  );
  console.log(
    `load average before the reports: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (${os.cpus().length} cores)`,
  );
  now = Date.parse('2026-11-23T10:00:00Z');
  // Run 1 finds October still open (its newest line is October's); from run 2 on it is closed and its counts are kept.
  for (const round of [1, 2, 3]) {
    await time(
      `monthly report, Werkzaak officer (all), run ${round}`,
      () => monthlyReport({ uow, audit, clock }, officer('WERKZAAK'), MONTH),
      (r) => {
        const accesses = r.figures.find((f) => f.key === 'accesses')!;
        return `${accesses.value.toLocaleString('en')} accesses, ${r.groups.length} groups, series of ${accesses.series.length}`;
      },
    );
    await time(
      `monthly report, West Betuwe officer, run ${round}`,
      () => monthlyReport({ uow, audit, clock }, officer('GM1960'), MONTH),
      (r) => `${r.figures.find((f) => f.key === 'accesses')!.value.toLocaleString('en')} accesses, ${r.groups.length} groups`,
    );
    await time(
      `per-person report over the month, Werkzaak, run ${round}`,
      () => userReport({ uow, audit, clock }, officer('WERKZAAK'), { from: '2026-10-01', to: '2026-10-31' }),
      (r) => `${r.persons.length} persons, ${r.persons.filter((p) => p.standsOut.length > 0).length} stand out`,
    );
  }
  console.log(`database: ${(fs.statSync(path.join(dir, 'bench.db')).size / 1e6).toFixed(0)} MB`);
} finally {
  db.$client.close();
  recordsDb.$client.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
