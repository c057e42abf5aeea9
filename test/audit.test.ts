import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chainHash, GENESIS, LINE_COLUMNS, leafHashV2, storedContent } from '../src/audit/chain.js';
import { canonicalJson } from '../src/canonical-json.js';
import type { AuditEntry } from '../src/audit/entry.js';
import { AuditLog } from '../src/audit/log.js';
import { pruneAudit } from '../src/audit/prune.js';
import { PURPOSE_NAMES } from '../src/purposes.js';
import { tempDir } from './support.js';
import {
  appendFormat1,
  appendMany,
  appendOne,
  dropTriggers,
  fixtureRecord,
  inTransaction,
  readEntry,
  setupAudit,
  catchError,
  storedLeaf,
} from './audit-support.js';
import path from 'node:path';
import type { Db } from '../src/db.js';

const DAY = 86_400_000;

function setup(lines = 40) {
  const ctx = setupAudit({ checkpointMinutes: 100_000 });
  appendMany(ctx.audit, ctx.clock, lines);
  return ctx;
}

describe(AuditLog.name, () => {
  it('numbers lines 1, 2, 3 … and the chain verifies after many appends', () => {
    const { audit } = setup(500);
    const result = audit.verify();
    expect(result).toMatchObject({ ok: true, records: 500 });
    const head = audit.db.$client.prepare('SELECT seq, chain_hash AS h FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; h: Buffer };
    expect(head.seq).toBe(500);
    expect(result.ok && result.head).toBe(head.h.toString('hex'));
  });

  it('chains each line to the one before it, RFC 6962 style, the leaf over exactly the stored columns (format 2)', () => {
    const { audit } = setup(2);
    const s = audit.db.$client;
    const rows = s
      .prepare(`SELECT ${LINE_COLUMNS.join(', ')}, format, leaf_hash, chain_hash FROM audit_log ORDER BY seq`)
      .raw()
      .all() as unknown[][];
    const [first, second] = rows as [unknown[], unknown[]];
    expect(first[14]).toBe(storedContent(1, first[1] as number, readEntry(1)));
    expect(JSON.parse(first[14] as string)).toEqual({ seq: 1, at: first[1], entry: readEntry(1) });
    expect(first[15]).toBe(2);
    // The encoding spelled out: the tag, then each column as its length, a colon and its text, or ~ for NULL.
    const e = readEntry(1);
    const text = [
      1,
      first[1],
      'record.read',
      e.outcome,
      e.actor!.iss,
      e.actor!.sub,
      'participatiecoach',
      'GM1960',
      e.clientRef,
      e.purpose,
      e.decisionId,
      null,
      null,
      first[13],
      first[14],
    ]
      .map((v) => (v === null ? '~' : `${String(v).length}:${String(v)}`))
      .join('');
    expect(first[16]).toEqual(createHash('sha256').update(`\u00002${text}`).digest());
    expect(first[16]).toEqual(leafHashV2(first));
    expect(first[17]).toEqual(chainHash(GENESIS, first[16] as Buffer));
    expect(second[17]).toEqual(chainHash(first[17] as Buffer, second[16] as Buffer));
  });

  it('hashes one canonical text per entry: keys sorted at every level, undefined left out', () => {
    expect(canonicalJson({ b: 1, a: [{ d: undefined, c: 'x', b: null }], e: 'é"\\' })).toBe('{"a":[{"b":null,"c":"x"}],"b":1,"e":"é\\"\\\\"}');
  });

  it('verifies lines whose actor sub needs escaping', () => {
    const { audit } = setupAudit();
    for (const sub of ['a"b\\c', 'tab\there', 'ünïcödé ✓', '\u0001ctl', '\u2028sep']) {
      appendOne(audit, readEntry(1, { actor: { iss: 'https://login.gemeente.example', sub, role: 'participatiecoach', org: 'GM1960' } }));
    }
    expect(audit.verify()).toMatchObject({ ok: true, records: 5 });
  });

  it('verifies an empty log', () => {
    const { audit } = setupAudit();
    expect(audit.verify()).toEqual({ ok: true, records: 0, head: '0'.repeat(64), checkpoints: 0, witness: { configured: false } });
  });

  describe('tampering by someone holding the database file (triggers dropped)', () => {
    it('detects a changed line and names it', () => {
      const { db, audit } = setup();
      dropTriggers(db);
      db.$client.prepare(`UPDATE audit_log SET entry = replace(entry, 'coach-', 'coaxh-') WHERE seq = 17`).run();
      expect(audit.verify()).toEqual({ ok: false, records: 16, firstBad: { seq: 17, reason: 'LEAF_MISMATCH' }, witness: { configured: false } });
    });

    it('detects a changed query column: at that line, for format 2 as a changed leaf, for format 1 against the content', () => {
      const { db, audit } = setup();
      dropTriggers(db);
      db.$client.prepare(`UPDATE audit_log SET client_ref = 'WZR-999999' WHERE seq = 23`).run();
      expect(audit.verify()).toMatchObject({ ok: false, firstBad: { seq: 23, reason: 'LEAF_MISMATCH' } });
      const old = setupAudit({ checkpointKey: null });
      appendFormat1(old.db, old.clock, 40);
      expect(old.audit.verify()).toMatchObject({ ok: true, records: 40 });
      dropTriggers(old.db);
      old.db.$client.prepare(`UPDATE audit_log SET client_ref = 'WZR-999999' WHERE seq = 23`).run();
      expect(old.audit.verify()).toMatchObject({ ok: false, firstBad: { seq: 23, reason: 'CONTENT_MISMATCH' } });
    });

    it('detects a changed time or outcome column', () => {
      const { db, audit } = setup();
      dropTriggers(db);
      db.$client.prepare(`UPDATE audit_log SET outcome = 'permit' WHERE seq = 9`).run();
      expect(audit.verify()).toMatchObject({ ok: false, firstBad: { seq: 9, reason: 'LEAF_MISMATCH' } });
      const old = setupAudit({ checkpointKey: null });
      appendFormat1(old.db, old.clock, 40);
      dropTriggers(old.db);
      old.db.$client.prepare(`UPDATE audit_log SET outcome = 'permit' WHERE seq = 9`).run();
      expect(old.audit.verify()).toMatchObject({ ok: false, firstBad: { seq: 9, reason: 'CONTENT_MISMATCH' } });
    });

    it('format 2: a change to any stored column of a line fails verification at that line', () => {
      const changes: Record<(typeof LINE_COLUMNS)[number], string> = {
        seq: 'seq = 1000',
        at: 'at = at + 1',
        action: `action = 'document.read'`,
        outcome: `outcome = 'error'`,
        actor_iss: `actor_iss = 'https://elders.example'`,
        actor_sub: `actor_sub = 'coach-9'`,
        actor_role: `actor_role = 'werkcoach'`,
        actor_org: `actor_org = 'GM0000'`,
        client_ref: `client_ref = NULL`,
        purpose: `purpose = 'toezicht'`,
        decision_id: `decision_id = 'dec-x'`,
        bsn_lookup: 'bsn_lookup = 1',
        noodtoegang: 'noodtoegang = 1',
        time_class: 'time_class = 3 - time_class',
        entry: `entry = replace(entry, 'PERMIT', 'PERMIX')`,
      };
      for (const [column, change] of Object.entries(changes)) {
        const { db, audit } = setup(30);
        dropTriggers(db);
        db.$client.exec(`UPDATE audit_log SET ${change} WHERE seq = 17`);
        const result = audit.verify();
        expect(result, column).toMatchObject({ ok: false, firstBad: { seq: 17 } });
        expect(result.ok === false && result.firstBad.reason, column).toBe(column === 'seq' ? 'SEQ_GAP' : 'LEAF_MISMATCH');
      }
    });

    it('format 2: a value of the wrong type (a blob of the same bytes, an integer as text), or a changed format, fails at that line', () => {
      for (const change of [
        'actor_sub = CAST(actor_sub AS BLOB)',
        'entry = CAST(entry AS BLOB)',
        `action = CAST(action AS BLOB)`,
        'format = 3',
        'format = NULL',
      ]) {
        const { db, audit } = setup(30);
        dropTriggers(db);
        db.$client.exec(`UPDATE audit_log SET ${change} WHERE seq = 12`);
        expect(audit.verify(), change).toMatchObject({ ok: false, firstBad: { seq: 12 } });
      }
    });

    it('a log of format-1 lines followed by format-2 lines verifies (one thread, async, parallel), also pruned', async () => {
      const file = path.join(tempDir(), 'mixed.db');
      const { db, audit, clock } = setupAudit({ file, checkpointKey: null });
      appendFormat1(db, clock, 30);
      appendMany(audit, clock, 30);
      const formats = db.$client.prepare('SELECT format, count(*) AS n FROM audit_log GROUP BY format ORDER BY format').all();
      expect(formats).toEqual([
        { format: null, n: 30 },
        { format: 2, n: 30 },
      ]);
      expect(audit.verify()).toMatchObject({ ok: true, records: 60 });
      expect(await audit.verifyAsync({ slice: 7 })).toMatchObject({ ok: true, records: 60 });
      expect(await audit.verifyParallel({ parallelFrom: 1, workers: 2 })).toMatchObject({ ok: true, records: 60 });
      clock.advance(6 * 365 * DAY);
      const middle = db.$client.prepare('SELECT at FROM audit_log WHERE seq = 45').pluck().get() as number;
      // Lines of both formats blanked, with the clock moved so that `before` lies outside the retention period.
      const retentionDays = Math.floor((clock.now() - middle) / DAY) - 1;
      expect(pruneAudit(audit, { before: middle, now: clock.now(), retentionDays })).toMatchObject({ pruned: 44 });
      expect(audit.verify()).toMatchObject({ ok: true, records: 61 });
      expect(await audit.verifyParallel({ parallelFrom: 1, workers: 2 })).toMatchObject({ ok: true, records: 61 });
      dropTriggers(db);
      db.$client.exec("UPDATE audit_log SET actor_org = 'GM1960' WHERE seq = 40");
      expect(audit.verify()).toMatchObject({ ok: false, firstBad: { seq: 40, reason: 'PRUNED_NOT_BLANK' } });
    });

    it('detects a query column set again on a pruned line', () => {
      const { db, audit, clock } = setup();
      clock.advance(6 * 365 * DAY);
      pruneAudit(audit, { before: clock.now() - 5 * 365 * DAY, now: clock.now(), retentionDays: 5 * 365 });
      expect(audit.verify()).toMatchObject({ ok: true });
      dropTriggers(db);
      db.$client.prepare(`UPDATE audit_log SET client_ref = 'WZR-100003' WHERE seq = 5`).run();
      expect(audit.verify()).toMatchObject({ ok: false, firstBad: { seq: 5, reason: 'PRUNED_NOT_BLANK' } });
    });

    it('detects a deleted line', () => {
      const { db, audit } = setup();
      dropTriggers(db);
      db.$client.prepare('DELETE FROM audit_log WHERE seq = 12').run();
      expect(audit.verify()).toMatchObject({ ok: false, firstBad: { seq: 12, reason: 'SEQ_GAP' } });
    });

    it('detects two lines swapped', () => {
      const { db, audit } = setup();
      dropTriggers(db);
      const s = db.$client;
      s.exec(`
        CREATE TEMP TABLE swap AS SELECT * FROM audit_log WHERE seq IN (30, 31);
        UPDATE audit_log SET at = t.at, action = t.action, outcome = t.outcome, actor_sub = t.actor_sub, actor_org = t.actor_org,
          client_ref = t.client_ref, purpose = t.purpose, decision_id = t.decision_id, entry = t.entry, leaf_hash = t.leaf_hash, chain_hash = t.chain_hash
        FROM swap t WHERE audit_log.seq IN (30, 31) AND t.seq = 61 - audit_log.seq;`);
      expect(audit.verify()).toMatchObject({ ok: false, firstBad: { seq: 30 } });
    });

    it('detects a line whose hashes were recomputed, at the next line', () => {
      const { db, audit } = setup();
      dropTriggers(db);
      const s = db.$client;
      const previous = s.prepare('SELECT chain_hash FROM audit_log WHERE seq = 20').pluck().get() as Buffer;
      s.prepare(`UPDATE audit_log SET outcome = 'permit', entry = replace(entry, '"outcome":"deny"', '"outcome":"permit"') WHERE seq = 21`).run();
      const leaf = storedLeaf(db, 21);
      s.prepare('UPDATE audit_log SET leaf_hash = ?, chain_hash = ? WHERE seq = 21').run(leaf, chainHash(previous, leaf));
      expect(audit.verify()).toMatchObject({ ok: false, firstBad: { seq: 22, reason: 'CHAIN_MISMATCH' } });
    });

    it('detects a rewritten tail by the signed checkpoints', () => {
      const { db, audit } = setupAudit({ checkpointEvery: 10, checkpointMinutes: 100_000 });
      appendMany(audit, { advance: () => {} }, 40);
      dropTriggers(db);
      rewriteFrom(db, 15);
      // Every link holds again; only the checkpoints at 20, 30 and 40 remember the old chain.
      expect(audit.verify()).toMatchObject({ ok: false, firstBad: { seq: 20, reason: 'CHECKPOINT_MISMATCH' } });
    });

    it('detects a truncated log by the checkpoints', () => {
      const { db, audit } = setupAudit({ checkpointEvery: 10, checkpointMinutes: 100_000 });
      appendMany(audit, { advance: () => {} }, 40);
      dropTriggers(db);
      db.$client.prepare('DELETE FROM audit_log WHERE seq > 35').run();
      expect(audit.verify()).toEqual({ ok: false, records: 35, firstBad: { seq: 40, reason: 'CHECKPOINT_BEYOND_END' }, witness: { configured: false } });
    });
  });

  describe('append-only triggers', () => {
    it('refuse UPDATE and DELETE of a line, and of a checkpoint', () => {
      const { db } = setupAudit({ checkpointEvery: 5 });
      const { audit, clock } = { audit: new AuditLog(db, { clock: { now: () => 0 }, pseudonymKey: Buffer.alloc(32, 1) }), clock: { advance: () => {} } };
      appendMany(audit, clock, 3);
      const s = db.$client;
      for (const sql of [
        `UPDATE audit_log SET outcome = 'permit' WHERE seq = 3`,
        `UPDATE audit_log SET entry = NULL WHERE seq = 2`, // blanking without clearing the query columns is no prune
        `UPDATE audit_log SET chain_hash = zeroblob(32) WHERE seq = 1`,
        'DELETE FROM audit_log WHERE seq = 3',
      ]) {
        expect(
          catchError(() => s.prepare(sql).run()),
          sql,
        ).toMatchObject({ code: 'SQLITE_CONSTRAINT_TRIGGER' });
      }
      s.prepare('INSERT INTO audit_checkpoints (size, head, at, signature) VALUES (1, zeroblob(32), 0, ?)').run('x.y.z');
      expect(catchError(() => s.prepare('UPDATE audit_checkpoints SET size = 2').run())).toMatchObject({ code: 'SQLITE_CONSTRAINT_TRIGGER' });
      expect(catchError(() => s.prepare('DELETE FROM audit_checkpoints').run())).toMatchObject({ code: 'SQLITE_CONSTRAINT_TRIGGER' });
      expect(s.prepare('SELECT count(*) FROM audit_log').pluck().get()).toBe(3);
    });
  });

  describe('blanking a line (only pruning may)', () => {
    const blank = (seq: number) =>
      `UPDATE audit_log SET entry = NULL, actor_sub = NULL, actor_org = NULL, client_ref = NULL, purpose = NULL, decision_id = NULL,
        actor_iss = NULL, actor_role = NULL, bsn_lookup = NULL, noodtoegang = NULL, time_class = NULL WHERE seq = ${seq}`;
    const RETENTION = 5 * 365;

    it('the trigger refuses blanking a recent line, and an old line that no prune line names', () => {
      const { db, audit, clock } = setup();
      const s = db.$client;
      expect(catchError(() => s.prepare(blank(38)).run())).toMatchObject({ code: 'SQLITE_CONSTRAINT_TRIGGER' });
      clock.advance(6 * 365 * DAY);
      expect(catchError(() => s.prepare(blank(3)).run())).toMatchObject({ code: 'SQLITE_CONSTRAINT_TRIGGER' });
      expect(s.prepare('SELECT count(*) FROM audit_log WHERE entry IS NULL').pluck().get()).toBe(0);
      expect(audit.verify()).toMatchObject({ ok: true, records: 40 });
    });

    it('the trigger refuses a blanking outside the prune line’s range or time, one inside the retention period it states, and a prune line itself', () => {
      const { db, audit, clock } = setup();
      const s = db.$client;
      clock.advance(6 * 365 * DAY);
      const old = clock.now() - RETENTION * DAY;
      const pruneLine = (fields: Record<string, number>) =>
        appendOne(audit, {
          action: 'audit.pruned',
          traceId: '1'.repeat(32),
          spanId: '1'.repeat(16),
          origin: 'cli',
          outcome: 'permit',
          reason: 'RETENTION_EXPIRED',
          before: old,
          retentionDays: RETENTION,
          count: 1,
          ...fields,
        }).seq;
      const at = (seq: number) => s.prepare('SELECT at FROM audit_log WHERE seq = ?').pluck().get(seq) as number;
      pruneLine({ fromSeq: 1, toSeq: 10 });
      expect(catchError(() => s.prepare(blank(11)).run())).toMatchObject({ code: 'SQLITE_CONSTRAINT_TRIGGER' }); // outside the range
      pruneLine({ fromSeq: 20, toSeq: 25, before: at(22) });
      expect(catchError(() => s.prepare(blank(23)).run())).toMatchObject({ code: 'SQLITE_CONSTRAINT_TRIGGER' }); // not older than before
      pruneLine({ fromSeq: 30, toSeq: 40, before: clock.now(), retentionDays: 1 });
      expect(catchError(() => s.prepare(blank(35)).run())).toMatchObject({ code: 'SQLITE_CONSTRAINT_TRIGGER' }); // before inside its retention
      const prune = pruneLine({ fromSeq: 1, toSeq: 50 });
      expect(catchError(() => s.prepare(blank(prune - 1)).run())).toMatchObject({ code: 'SQLITE_CONSTRAINT_TRIGGER' }); // a prune line
      s.prepare(blank(5)).run(); // covered: in range, older than before, before outside the retention period
      expect(s.prepare('SELECT group_concat(seq) FROM audit_log WHERE entry IS NULL').pluck().get()).toBe('5');
      expect(audit.verify()).toMatchObject({ ok: true });
    });

    it('with the triggers dropped, verify (single, async, parallel) names the first blanked line no prune line covers', async () => {
      const file = path.join(tempDir(), 'blank.db');
      const { db, audit, clock } = setupAudit({ file, checkpointEvery: 10, checkpointMinutes: 100_000 });
      appendMany(audit, clock, 40);
      clock.advance(6 * 365 * DAY);
      const before = db.$client.prepare('SELECT at FROM audit_log WHERE seq = 11').pluck().get() as number;
      expect(pruneAudit(audit, { before, now: clock.now(), retentionDays: RETENTION })).toEqual({ pruned: 10, seqs: [41] });
      expect(audit.verify()).toMatchObject({ ok: true, records: 41 });
      dropTriggers(db);
      db.$client.prepare(blank(33)).run();
      db.$client.prepare(blank(37)).run();
      const verdict = { ok: false, records: 32, firstBad: { seq: 33, reason: 'BLANKED_NOT_PRUNED' }, witness: { configured: false } };
      expect(audit.verify()).toEqual(verdict);
      expect(await audit.verifyAsync({ slice: 7 })).toEqual(verdict);
      expect(await audit.verifyParallel({ workers: 2, parallelFrom: 1 })).toEqual(verdict);
      db.$client.close();
    });

    it('with the triggers dropped, a blanked prune line leaves the lines it covered uncovered', () => {
      const { db, audit, clock } = setup();
      clock.advance(6 * 365 * DAY);
      const { seqs } = pruneAudit(audit, { before: clock.now() - RETENTION * DAY, now: clock.now(), retentionDays: RETENTION });
      dropTriggers(db);
      db.$client.prepare(blank(seqs[0]!)).run();
      expect(audit.verify()).toMatchObject({ ok: false, firstBad: { seq: 1, reason: 'BLANKED_NOT_PRUNED' } });
    });
  });

  describe('fail closed', () => {
    const workInsert = (db: Db) =>
      db.$client
        .prepare(
          `INSERT INTO policy_versions (id, document, hash, status, author_sub, author_org, created_at) VALUES (1, '{}', 'h', 'draft', 'po-1', 'WERKZAAK', 0)`,
        )
        .run();
    const workDone = (db: Db) => db.$client.prepare('SELECT count(*) FROM policy_versions').pluck().get();

    it('an invalid entry throws AUDIT_WRITE_FAILED and rolls back the work of the same transaction', () => {
      const { db, audit } = setupAudit();
      const error = catchError(() =>
        inTransaction(audit, () => {
          workInsert(db);
          audit.appendInTransaction({ ...readEntry(1), traceId: 'not-hex' } as AuditEntry);
        }),
      );
      expect(error).toMatchObject({ code: 'AUDIT_WRITE_FAILED' });
      expect(workDone(db)).toBe(0);
      expect(db.$client.prepare('SELECT count(*) FROM audit_log').pluck().get()).toBe(0);
    });

    it('a failing write rolls back the work of the same transaction', () => {
      const { db, audit } = setupAudit();
      // Stands in for a full disk or an I/O error on the audit table only, after the work's own write succeeded.
      db.$client.exec(`CREATE TRIGGER fail_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
      const error = catchError(() => db.$client.transaction(() => (workInsert(db), audit.appendInTransaction(readEntry(1))))());
      expect(error).toMatchObject({ code: 'AUDIT_WRITE_FAILED' });
      expect(workDone(db)).toBe(0);
    });
  });

  describe('privacy', () => {
    it('no record value, BSN or token reaches a line', () => {
      const { db, audit } = setupAudit({ checkpointEvery: 2 });
      const record = fixtureRecord();
      const released = ['persoon.voornamen', 'persoon.achternaam', 'persoon.adres.postcode', 'belastbaarheidsonderzoeken[0].advies'];
      const withheld = ['bsn', 'belastbaarheidsonderzoeken[0].diagnose', 'belastbaarheidsonderzoeken[0].medicatie'];
      appendOne(audit, readEntry(1, { clientRef: record.clientRef, bsnPseudonym: audit.pseudonym(record.bsn), released, withheld }));
      appendOne(audit, { ...readEntry(2), action: 'token.issued', purpose: 'overdracht-kp4', clientRef: record.clientRef } as AuditEntry);
      appendOne(audit, { ...readEntry(3), action: 'caseload.read', count: 3 } as AuditEntry);

      const stored = (db.$client.prepare('SELECT * FROM audit_log').all() as Record<string, unknown>[])
        .map((row) =>
          Object.values(row)
            .map((v) => (Buffer.isBuffer(v) ? v.toString('hex') : String(v)))
            .join('|'),
        )
        .join('\n');
      // Not values: the clientRef and organisation codes are ids a line must hold; a category such as 'overdracht' is
      // part of a purpose name.
      const isId = (v: string) => v === record.clientRef || /^(WERKZAAK|GM\d{4})$/.test(v) || PURPOSE_NAMES.some((p) => p.includes(v));
      const values = leafValues(record).filter((v) => v.length >= 4 && !isId(v));
      expect(values.length).toBeGreaterThan(30);
      // Runs of 16 or more hex digits are hashes, the keyed BSN pseudonym, trace and span ids: one-way or random, so a
      // short value such as a year or a postcode's digits turns up inside them by chance (one run in a few dozen).
      const scrub = (text: string) => text.replace(/[0-9a-f]{16,}/g, '#');
      const readable = scrub(stored);
      expect(scrub(`${stored}|${values[0]}`)).toContain(values[0]); // the scrub hides no ordinary value
      expect(values.filter((v) => scrub(v) !== v)).toEqual([]); // nor any of this record's
      const leaked = values.filter((v) => readable.includes(v));
      expect(leaked.length, 'record values in the log').toBe(0);
      expect(stored.includes(record.bsn)).toBe(false);
    });

    it('refuses an entry that carries a value, a BSN or a whole token', () => {
      const { audit } = setupAudit();
      const record = fixtureRecord();
      const attempts: unknown[] = [
        { ...readEntry(1), record },
        { ...readEntry(1), bsn: record.bsn },
        { ...readEntry(1), clientRef: record.bsn },
        { ...readEntry(1), released: [record.persoon.achternaam] },
        { ...readEntry(1), tokenId: 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln' },
      ];
      for (const entry of attempts) expect(catchError(() => appendOne(audit, entry as AuditEntry))).toMatchObject({ code: 'AUDIT_WRITE_FAILED' });
    });

    it('an error detail names no value', () => {
      const { audit } = setupAudit();
      const record = fixtureRecord();
      const error = catchError(() => appendOne(audit, { ...readEntry(1), clientRef: record.bsn })) as Error;
      expect(error.message).not.toContain(record.bsn);
    });
  });
});

/** Every string and number inside a record, as strings. */
function leafValues(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.flatMap(leafValues);
  if (typeof value === 'object') return Object.values(value).flatMap(leafValues);
  return [String(value)];
}

/** Rewrites every line from `from` on with a changed outcome and recomputed hashes: a consistent forged chain. */
function rewriteFrom(db: Db, from: number): void {
  const s = db.$client;
  let previous = s
    .prepare('SELECT chain_hash FROM audit_log WHERE seq = ?')
    .pluck()
    .get(from - 1) as Buffer;
  const rows = s.prepare('SELECT seq, at, entry FROM audit_log WHERE seq >= ? ORDER BY seq').all(from) as { seq: number; at: number; entry: string }[];
  const update = s.prepare('UPDATE audit_log SET entry = ?, outcome = ? WHERE seq = ?');
  const rehash = s.prepare('UPDATE audit_log SET leaf_hash = ?, chain_hash = ? WHERE seq = ?');
  for (const row of rows) {
    const entry = { ...(JSON.parse(row.entry) as { entry: AuditEntry }).entry, outcome: 'permit' } as AuditEntry;
    update.run(storedContent(row.seq, row.at, entry), 'permit', row.seq);
    const leaf = storedLeaf(db, row.seq);
    previous = chainHash(previous, leaf);
    rehash.run(leaf, previous, row.seq);
  }
}
