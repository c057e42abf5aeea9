import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DoelpoortError } from '../src/errors.js';
import { tempDir } from './support.js';
import { appendOne, dropTriggers, readEntry, setupAudit } from './audit-support.js';

const count = (s: Database.Database, table = 'audit_log') => s.prepare(`SELECT count(*) FROM ${table}`).pluck().get();

describe('AuditLog.runDurable (group commit)', () => {
  it('commits every work of one event-loop turn together, and settles only once committed', async () => {
    const file = path.join(tempDir(), 'group.db');
    const { audit } = setupAudit({ file });
    const reader = new Database(file, { readonly: true });
    const pending = [1, 2, 3, 4, 5].map((n) => audit.runDurable(() => audit.append(readEntry(n)).seq));
    expect(count(reader)).toBe(0); // nothing is written before the turn ends
    const seqs = await Promise.all(pending);
    expect(seqs).toEqual([1, 2, 3, 4, 5]);
    expect(count(reader)).toBe(5); // another connection sees every line once the promises have settled
    expect(audit.verify()).toMatchObject({ ok: true, records: 5 });
    reader.close();
  });

  it('a failing work rejects with its own error and undoes only its own writes', async () => {
    const { db, audit } = setupAudit();
    const insert = db.$client.prepare(
      `INSERT INTO policy_versions (id, document, hash, status, author_sub, author_org, created_at) VALUES (?, '{}', 'h', 'draft', 'po-1', 'WERKZAAK', 0)`,
    );
    const results = await Promise.allSettled([
      audit.runDurable(() => (insert.run(1), audit.append(readEntry(1)))),
      audit.runDurable(() => {
        insert.run(2);
        audit.append(readEntry(2));
        throw new DoelpoortError('RECORD_NOT_FOUND');
      }),
      audit.runDurable(() => insert.run(3)), // no audit line: refused
      audit.appendDurable(readEntry(4)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect(results[1]).toMatchObject({ reason: { code: 'RECORD_NOT_FOUND' } });
    expect(results[2]).toMatchObject({ reason: { code: 'AUDIT_WRITE_FAILED' } });
    expect(db.$client.prepare('SELECT id FROM policy_versions ORDER BY id').pluck().all()).toEqual([1]);
    expect(count(db.$client)).toBe(2);
    expect(audit.verify()).toMatchObject({ ok: true, records: 2 });
  });

  it('when the shared commit fails, every work of the batch rejects with AUDIT_WRITE_FAILED', async () => {
    const { db, audit } = setupAudit();
    const pending = [audit.appendDurable(readEntry(1)), audit.appendDurable(readEntry(2))];
    db.$client.close();
    const results = await Promise.allSettled(pending);
    expect(results).toMatchObject([
      { status: 'rejected', reason: { code: 'AUDIT_WRITE_FAILED' } },
      { status: 'rejected', reason: { code: 'AUDIT_WRITE_FAILED' } },
    ]);
  });

  it('run passes an error of the work through unchanged', () => {
    const { audit } = setupAudit();
    expect(() =>
      audit.run(() => {
        audit.append(readEntry(1));
        throw new DoelpoortError('RECORD_NOT_FOUND');
      }),
    ).toThrow(expect.objectContaining({ code: 'RECORD_NOT_FOUND' }));
  });
});

describe('AuditLog.run', () => {
  it('does not count a line whose savepoint was rolled back', () => {
    const { db, audit } = setupAudit();
    const error = (() => {
      try {
        audit.run(() => {
          try {
            audit.run(() => {
              audit.append(readEntry(1));
              throw new DoelpoortError('RECORD_NOT_FOUND');
            });
          } catch {
            // swallowed: the inner line is gone with its savepoint
          }
        });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toMatchObject({ code: 'AUDIT_WRITE_FAILED' });
    expect(count(db.$client)).toBe(0);
  });
});

describe('AuditLog.verifyAsync', () => {
  it('gives the same verdicts as verify, slice by slice', async () => {
    const { db, audit, clock } = setupAudit({ checkpointEvery: 10, checkpointMinutes: 100_000 });
    expect(await audit.verifyAsync({ slice: 7 })).toEqual(audit.verify());
    for (let n = 1; n <= 40; n++) appendOne(audit, readEntry(n)), clock.advance(1000);
    expect(await audit.verifyAsync({ slice: 7 })).toEqual(audit.verify());
    expect(audit.verify()).toMatchObject({ ok: true, records: 40 });
    dropTriggers(db);
    db.$client.prepare('DELETE FROM audit_log WHERE seq = 15').run(); // the first line of a slice
    expect(await audit.verifyAsync({ slice: 7 })).toEqual({ ok: false, records: 14, firstBad: { seq: 15, reason: 'SEQ_GAP' }, witness: { configured: false } });
    db.$client.prepare('DELETE FROM audit_log WHERE seq >= 15').run();
    expect(await audit.verifyAsync({ slice: 7 })).toEqual({ ok: false, records: 14, firstBad: { seq: 20, reason: 'CHECKPOINT_BEYOND_END' }, witness: { configured: false } });
    db.$client.prepare(`UPDATE audit_log SET entry = replace(entry, 'coach-', 'coaxh-') WHERE seq = 8`).run();
    expect(await audit.verifyAsync({ slice: 7 })).toEqual(audit.verify());
    expect(audit.verify()).toMatchObject({ firstBad: { seq: 8, reason: 'LEAF_MISMATCH' } });
  });
});
