import { randomBytes } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { AuditWriteFailure } from '../src/audit/log.js';
import { AuditLog } from '../src/audit/log.js';
import { fixedClock } from '../src/clock.js';
import { openDatabase, openRecordsDatabase, type Db } from '../src/db.js';
import * as schema from '../schema/index.js';
import { DoelpoortError } from '../src/errors.js';
import { codeToStatus } from '../src/http/problem.js';
import { PolicyVersions } from '../src/policy/versions.js';
import { RecordStore } from '../src/records/store.js';
import { appendLine, refuse, SqliteUnitOfWork, type DenyLine, type Tx } from '../src/unit-of-work.js';
import { readEntry } from './audit-support.js';
import { TODAY, tempDir } from './support.js';

const count = (s: Database.Database) => s.prepare('SELECT count(*) FROM audit_log').pluck().get() as number;

/** A unit of work on a fresh state database (a file when a second connection must look), its failures collected. */
function setup({ onDisk = false } = {}) {
  const file = onDisk ? path.join(tempDir(), 'state.db') : ':memory:';
  const db = openDatabase(file);
  const clock = fixedClock(`${TODAY}T10:00:00Z`);
  const failures: AuditWriteFailure[] = [];
  const audit = new AuditLog(db, { clock, pseudonymKey: randomBytes(32), onWriteFailure: (f) => failures.push(f) });
  const records = new RecordStore(openRecordsDatabase(':memory:'));
  const uow = new SqliteUnitOfWork({ audit, records, policies: new PolicyVersions(db, clock), statusOf: (code) => codeToStatus[code] });
  // A table of the work's own, to see its writes kept or rolled back.
  db.$client.exec('CREATE TABLE work (n INTEGER)');
  const insert = db.$client.prepare<[number]>('INSERT INTO work (n) VALUES (?)');
  const written = () => db.$client.prepare('SELECT n FROM work ORDER BY n').pluck().all();
  const reader = onDisk ? new Database(file, { readonly: true }) : undefined;
  return { db, audit, uow, failures, insert, written, reader };
}

const deny = (n: number): DenyLine => {
  const { outcome: _o, reason: _r, httpStatus: _h, ...line } = readEntry(n);
  return line as DenyLine;
};

describe('SqliteUnitOfWork', () => {
  it('commits every work of one event-loop turn in one transaction, each in call order', async () => {
    const { uow, reader } = setup({ onDisk: true });
    const seenByReader: number[] = [];
    const pending = [1, 2, 3, 4, 5].map((n) =>
      uow.run(
        async (tx) => {
          seenByReader.push(count(reader!)); // earlier works of the batch are not committed yet
          return (await tx.audit.append(readEntry(n))).seq;
        },
        { deny: deny(n) },
      ),
    );
    expect(count(reader!)).toBe(0); // nothing runs before the turn ends
    expect(await Promise.all(pending)).toEqual([1, 2, 3, 4, 5]);
    expect(seenByReader).toEqual([0, 0, 0, 0, 0]);
    expect(count(reader!)).toBe(5);
  });

  it('settles no work before the COMMIT of its whole batch', async () => {
    const { uow, reader } = setup({ onDisk: true });
    const events: string[] = [];
    const work = (n: number) =>
      uow
        .run(
          async (tx) => {
            events.push(`work ${n}`);
            await tx.audit.append(readEntry(n));
          },
          { deny: deny(n) },
        )
        .then(() => events.push(`settled ${n}: ${count(reader!)} lines visible`));
    await Promise.all([work(1), work(2)]);
    expect(events).toEqual(['work 1', 'work 2', 'settled 1: 2 lines visible', 'settled 2: 2 lines visible']);
  });

  it('a refusal thrown by the work rolls back its writes and writes the deny line it was given', async () => {
    const { db, uow, insert, written, audit } = setup();
    const results = await Promise.allSettled([
      uow.run(
        async (tx) => {
          insert.run(1);
          await tx.audit.append(readEntry(1));
        },
        { deny: deny(1) },
      ),
      uow.run(
        async (tx) => {
          insert.run(2);
          await tx.audit.append(readEntry(2)); // a permit line the refusal must take back
          throw new DoelpoortError('RELATIONSHIP_MISSING', 'no relationship', [], { reason: 'NO_HANDOVER_TO_ORGANISATION' });
        },
        { deny: { ...deny(2), clientRef: 'WZR-100002' } },
      ),
    ]);
    expect(results[0]).toMatchObject({ status: 'fulfilled' });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: 'RELATIONSHIP_MISSING' } });
    expect(written()).toEqual([1]);
    const lines = audit.list({ limit: 10 }).items;
    expect(lines.map((l) => [l.seq, l.entry?.outcome, l.entry?.reason])).toEqual([
      [2, 'deny', 'NO_HANDOVER_TO_ORGANISATION'],
      [1, readEntry(1).outcome, readEntry(1).reason],
    ]);
    expect(lines[0]!.entry).toMatchObject({ action: 'record.read', clientRef: 'WZR-100002', httpStatus: 403, traceId: readEntry(2).traceId });
    expect(count(db.$client)).toBe(2);
    expect(audit.verify()).toMatchObject({ ok: true, records: 2 });
  });

  it('refuse writes the deny line of a refusal without work, with the code as reason when none is given', async () => {
    const { uow, audit } = setup();
    await expect(refuse(uow, new DoelpoortError('TOKEN_MISSING'), deny(1))).rejects.toMatchObject({ code: 'TOKEN_MISSING' });
    expect(audit.list({ limit: 10 }).items[0]!.entry).toMatchObject({ outcome: 'deny', reason: 'TOKEN_MISSING', httpStatus: 401 });
  });

  it('a work that wrote no line fails closed: AUDIT_WRITE_FAILED, its writes rolled back, the operator told', async () => {
    const { uow, insert, written, failures, db } = setup();
    await expect(uow.run(async () => void insert.run(1), { deny: deny(1) })).rejects.toMatchObject({ code: 'AUDIT_WRITE_FAILED' });
    expect(written()).toEqual([]);
    expect(count(db.$client)).toBe(0);
    expect(failures).toEqual([{ stage: 'append', error: 'NO_LINE_WRITTEN' }]);
  });

  it('a work whose line could not be written fails, even when it caught the error', async () => {
    const { uow, insert, written, failures, db } = setup();
    const result = uow.run(
      async (tx) => {
        insert.run(1);
        await tx.audit.append(readEntry(1));
        try {
          await tx.audit.append({ ...readEntry(2), traceId: 'not-hex' });
        } catch {
          // swallowed: the unit of work still knows
        }
        return 'data';
      },
      { deny: deny(1) },
    );
    await expect(result).rejects.toMatchObject({ code: 'AUDIT_WRITE_FAILED' });
    expect(written()).toEqual([]);
    expect(count(db.$client)).toBe(0);
    expect(failures).toEqual([{ stage: 'append', error: 'ENTRY_INVALID' }]);
  });

  it('a refusal whose deny line cannot be written becomes AUDIT_WRITE_FAILED', async () => {
    const { uow, db } = setup();
    db.$client.exec(`CREATE TRIGGER audit_fail BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
    await expect(refuse(uow, new DoelpoortError('ACCESS_DENIED'), deny(1))).rejects.toMatchObject({ code: 'AUDIT_WRITE_FAILED' });
  });

  it('a failed COMMIT rejects every work of the batch with AUDIT_WRITE_FAILED and keeps none of them', async () => {
    const { db, uow, failures, audit } = setup();
    // A deferred foreign key is checked at COMMIT: a dangling one makes exactly the COMMIT fail.
    db.$client.exec('CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE child (p INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)');
    const dangling = db.$client.prepare('INSERT INTO child (p) VALUES (42)');
    const results = await Promise.allSettled([
      uow.run(async (tx) => void (await tx.audit.append(readEntry(1))), { deny: deny(1) }),
      uow.run(async (tx) => void (dangling.run(), await tx.audit.append(readEntry(2))), { deny: deny(2) }),
      refuse(uow, new DoelpoortError('ACCESS_DENIED'), deny(3)),
    ]);
    expect(results).toMatchObject([1, 2, 3].map(() => ({ status: 'rejected', reason: { code: 'AUDIT_WRITE_FAILED' } })));
    expect(count(db.$client)).toBe(0);
    expect(failures).toEqual([{ stage: 'commit', sqliteCode: 'SQLITE_CONSTRAINT_FOREIGNKEY', requests: 3 }]);
    // The next turn starts afresh.
    await expect(appendLine(uow, readEntry(4))).resolves.toMatchObject({ seq: 1 });
    expect(audit.verify()).toMatchObject({ ok: true, records: 1 });
  });

  it('when BEGIN fails, every work of the batch rejects with AUDIT_WRITE_FAILED', async () => {
    const { db, uow } = setup();
    const pending = [appendLine(uow, readEntry(1)), appendLine(uow, readEntry(2))];
    db.$client.close();
    expect(await Promise.allSettled(pending)).toMatchObject([
      { status: 'rejected', reason: { code: 'AUDIT_WRITE_FAILED' } },
      { status: 'rejected', reason: { code: 'AUDIT_WRITE_FAILED' } },
    ]);
  });

  it('a connection lost in the middle of a batch fails every work of it, and none hangs', async () => {
    const { db, uow } = setup();
    const results = await Promise.allSettled([
      uow.run(async (tx) => void (await tx.audit.append(readEntry(1)), db.$client.close()), { deny: deny(1) }),
      appendLine(uow, readEntry(2)),
    ]);
    expect(results).toMatchObject([
      { status: 'rejected', reason: { code: 'AUDIT_WRITE_FAILED' } },
      { status: 'rejected', reason: { code: 'AUDIT_WRITE_FAILED' } },
    ]);
  });

  it('a statement of the batch failing (a work that meddled with its savepoint) fails every work of it, and none hangs', async () => {
    const { db, uow } = setup();
    const results = await Promise.allSettled([
      uow.run(async (tx) => void (await tx.audit.append(readEntry(1)), db.$client.exec('RELEASE work')), { deny: deny(1) }),
      appendLine(uow, readEntry(2)),
    ]);
    expect(results).toMatchObject([
      { status: 'rejected', reason: { code: 'AUDIT_WRITE_FAILED' } },
      { status: 'rejected', reason: { code: 'AUDIT_WRITE_FAILED' } },
    ]);
    expect(count(db.$client)).toBe(0);
  });

  it('a read-only database fails every work with AUDIT_WRITE_FAILED, told to the operator with SQLite’s code', async () => {
    const file = path.join(tempDir(), 'ro.db');
    openDatabase(file).$client.close();
    const db = drizzle(new Database(file, { readonly: true }), { schema }) as Db;
    const failures: AuditWriteFailure[] = [];
    const clock = fixedClock(`${TODAY}T10:00:00Z`);
    const audit = new AuditLog(db, { clock, pseudonymKey: randomBytes(32), onWriteFailure: (f) => failures.push(f) });
    const uow = new SqliteUnitOfWork({ audit, records: new RecordStore(openRecordsDatabase(':memory:')), policies: new PolicyVersions(db, clock) });
    await expect(appendLine(uow, readEntry(1))).rejects.toMatchObject({ code: 'AUDIT_WRITE_FAILED' });
    expect(failures).toEqual([
      expect.objectContaining({ stage: expect.stringMatching(/^(commit|append)$/), sqliteCode: expect.stringMatching(/^SQLITE_READONLY/) }),
    ]);
    db.$client.close();
  });

  it('a work that awaits real I/O inside its transaction fails with TypeError, and the others of the batch stand', async () => {
    const { uow, insert, written } = setup();
    const results = await Promise.allSettled([
      uow.run(
        async (tx) => {
          insert.run(1);
          await tx.audit.append(readEntry(1));
          await new Promise((resolve) => setTimeout(resolve, 5)); // a network call, say
        },
        { deny: deny(1) },
      ),
      uow.run(async (tx) => void (insert.run(2), await tx.audit.append(readEntry(2))), { deny: deny(2) }),
    ]);
    expect(results[0]).toMatchObject({ status: 'rejected', reason: expect.any(TypeError) });
    expect(results[1]).toMatchObject({ status: 'fulfilled' });
    expect(written()).toEqual([2]);
  });

  it('an error that is not a refusal rolls the work back and passes through, with no deny line', async () => {
    const { uow, db } = setup();
    const bug = new RangeError('a bug');
    await expect(uow.run(async (tx) => (await tx.audit.append(readEntry(1)), Promise.reject(bug)), { deny: deny(1) })).rejects.toBe(bug);
    expect(count(db.$client)).toBe(0);
  });

  it('tx refuses every call outside its work', async () => {
    const { uow } = setup();
    let kept: Tx | undefined;
    await appendLine(uow, readEntry(1));
    await uow.run(async (tx) => ((kept = tx), void (await tx.audit.append(readEntry(2)))), { deny: deny(2) });
    expect(() => kept!.audit.append(readEntry(3))).toThrow(TypeError);
    expect(() => kept!.records.get('WZR-100001')).toThrow(TypeError);
  });
});

describe('AuditLog.appendInTransaction', () => {
  it('never opens a transaction of its own', () => {
    const { audit } = setup();
    expect(() => audit.appendInTransaction(readEntry(1))).toThrow(TypeError);
  });
});
