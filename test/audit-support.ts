import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { chainHash, GENESIS, LINE_COLUMNS, leafHash, leafHashV2, lineContent } from '../src/audit/chain.js';
import { timeClass } from '../src/audit/office-hours.js';
import { generateCheckpointKey, type CheckpointKey } from '../src/audit/keys.js';
import type { AuditEntry, AuditLine } from '../src/audit/entry.js';
import { AuditLog } from '../src/audit/log.js';
import type { CheckpointWitness } from '../src/audit/witness.js';
import { fixedClock } from '../src/clock.js';
import { openDatabase, type Db } from '../src/db.js';
import type { SuiteRecord } from '../src/records/suite-record.js';
import { TODAY } from './support.js';
import { EXAMPLE_EXPORT_FILE } from '../src/demo.js';

/** The first client of the example Suite export: real-looking values that must never reach a log line. */
export function fixtureRecord(): SuiteRecord {
  const line = fs.readFileSync(EXAMPLE_EXPORT_FILE, 'utf8').split('\n')[0]!;
  return JSON.parse(line) as SuiteRecord;
}

/** A fresh migrated database (in memory unless a file is given), a fixed clock and an audit log with a checkpoint key. */
export function setupAudit(
  options: { file?: string; checkpointEvery?: number; checkpointMinutes?: number; checkpointKey?: CheckpointKey | null; witness?: CheckpointWitness } = {},
) {
  const db = openDatabase(options.file ?? ':memory:');
  const clock = fixedClock(`${TODAY}T10:00:00Z`);
  const checkpointKey = options.checkpointKey === null ? undefined : (options.checkpointKey ?? generateCheckpointKey());
  const audit = new AuditLog(db, {
    clock,
    pseudonymKey: randomBytes(32),
    checkpointKey,
    checkpointEvery: options.checkpointEvery ?? 1000,
    checkpointMinutes: options.checkpointMinutes ?? 10,
    witness: options.witness,
  });
  return { db, clock, audit, checkpointKey };
}

/** A record.read line for `n`, varying actor, client, purpose and outcome so filters have something to select. */
export function readEntry(n: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  const deny = n % 3 === 0;
  return {
    action: 'record.read',
    traceId: n.toString(16).padStart(32, '0'),
    spanId: n.toString(16).padStart(16, '0'),
    actor: { iss: 'https://login.gemeente.example', sub: `coach-${n % 4}`, role: 'participatiecoach', org: 'GM1960' },
    origin: '127.0.0.1',
    outcome: deny ? 'deny' : 'permit',
    reason: deny ? 'NO_HANDOVER_TO_ORGANISATION' : 'PERMIT',
    httpStatus: deny ? 403 : 200,
    purpose: n % 2 === 0 ? 'overdracht-kp4' : 'begeleiding-kp4',
    processingActivityId: n % 2 === 0 ? 'WZR-VA-011' : 'WZR-VA-012',
    tokenId: `tok-${n}`,
    clientRef: `WZR-${100000 + (n % 5)}`,
    decisionId: `dec-${n}`,
    policyVersion: 'v1',
    released: deny ? [] : ['persoon.voornamen', 'klantprofielen'],
    withheld: deny ? [] : ['belastbaarheidsonderzoeken[0].diagnose'],
    ...overrides,
  } as AuditEntry;
}

/** Runs `work` in one immediate transaction of its own, as the unit of work runs a batch: for tests of the log itself. */
export function inTransaction<T>(audit: AuditLog, work: () => T): T {
  const result = audit.db.$client.transaction(work).immediate();
  audit.afterCommit();
  return result;
}

/** Appends one line in a transaction of its own (explicitly, as the unit of work does). */
export function appendOne(audit: AuditLog, entry: AuditEntry): AuditLine {
  return inTransaction(audit, () => audit.appendInTransaction(entry));
}

/** Appends lines 1..count, one minute apart. */
export function appendMany(audit: AuditLog, clock: { advance(ms: number): void }, count: number): void {
  for (let n = 1; n <= count; n++) {
    appendOne(audit, readEntry(n));
    clock.advance(60_000);
  }
}

/** Removes the append-only triggers, as an attacker holding the database file would. */
export function dropTriggers(db: Db): void {
  db.$client.exec(
    'DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_log_prune_only; DROP TRIGGER audit_checkpoints_no_update; DROP TRIGGER audit_checkpoints_no_delete;',
  );
}

/** What `fn` threw; fails the test when it did not throw. */
export function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

/** The format-2 leaf hash of line `seq` as it is stored now: what a forger who rewrites a line recomputes. */
export function storedLeaf(db: Db, seq: number): Buffer {
  const row = db.$client
    .prepare(`SELECT ${LINE_COLUMNS.join(', ')} FROM audit_log WHERE seq = ?`)
    .raw()
    .get(seq) as unknown[];
  return leafHashV2(row);
}

/**
 * Appends `count` lines (readEntry(n) for n = 1..count, one minute apart) as the version before format 2 wrote them:
 * format NULL, the leaf over the canonical JSON content, the report columns as migration 0006 computes them.
 */
export function appendFormat1(db: Db, clock: { now(): number; advance(ms: number): void }, count: number, first = 1): void {
  const s = db.$client;
  const head = s.prepare('SELECT seq, chain_hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; chain_hash: Buffer } | undefined;
  let previous = head?.chain_hash ?? GENESIS;
  const insert = s.prepare(
    `INSERT INTO audit_log (seq, at, action, outcome, actor_sub, actor_org, client_ref, purpose, decision_id, entry, leaf_hash, chain_hash,
       actor_iss, actor_role, bsn_lookup, noodtoegang, time_class) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (let n = first; n < first + count; n++) {
    const seq = (head?.seq ?? 0) + n - first + 1;
    const entry = readEntry(n);
    const at = clock.now();
    const content = lineContent(seq, at, entry);
    const leaf = leafHash(content);
    previous = chainHash(previous, leaf);
    const a = entry.actor;
    insert.run(
      seq,
      at,
      entry.action,
      entry.outcome,
      a?.sub ?? null,
      a?.org ?? null,
      entry.clientRef ?? null,
      entry.purpose ?? null,
      entry.decisionId ?? null,
      content,
      leaf,
      previous,
      a?.iss ?? null,
      a?.role ?? null,
      null,
      null,
      timeClass(at),
    );
    clock.advance(60_000);
  }
}
