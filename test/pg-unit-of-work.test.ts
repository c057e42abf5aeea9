import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, expect, it } from 'vitest';
import { generateCheckpointKey } from '../src/audit/keys.js';
import { PgAuditLog } from '../src/audit/log-pg.js';
import type { AuditWriteFailure } from '../src/audit/log.js';
import { fixedClock } from '../src/clock.js';
import { DoelpoortError } from '../src/errors.js';
import { codeToStatus } from '../src/http/problem.js';
import { PgUnitOfWork, type PgTxStores } from '../src/pg-unit-of-work.js';
import type { Queryable } from '../src/postgres.js';
import { appendLine, refuse, type DenyLine, type Tx } from '../src/unit-of-work.js';
import { readEntry } from './audit-support.js';
import { describePg, freshPg, type FreshPg } from './pg-support.js';
import { TODAY } from './support.js';

/**
 * The rules of test/unit-of-work.test.ts, on PostgreSQL: each test has a database of its own, and a second pool
 * (another connection, as another instance would have) looks at what is committed.
 */

const opened: FreshPg[] = [];
const pools: pg.Pool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.end()));
  await Promise.all(opened.splice(0).map((d) => d.drop()));
});

/**
 * A table of the test's own, `work`, written through the transaction the unit of work hands to a store: the record
 * store's slot carries it (`tx.records.get(n)` inserts n), since the real PostgreSQL stores are wired elsewhere.
 */
const workTable: PgTxStores = {
  records: (q: Queryable) =>
    ({
      get: async (n: string) => void (await q.query('INSERT INTO work (n) VALUES ($1)', [Number(n)])),
    }) as unknown as Tx['records'],
};

async function setup(options: { checkpointEvery?: number; stores?: PgTxStores } = {}) {
  const db = await freshPg('pgcore_uow');
  opened.push(db);
  await db.pg.pool.query('CREATE TABLE work (n integer)');
  const failures: AuditWriteFailure[] = [];
  const checkpointKey = generateCheckpointKey();
  const audit = new PgAuditLog(db.pg.pool, {
    clock: fixedClock(`${TODAY}T10:00:00Z`),
    pseudonymKey: randomBytes(32),
    checkpointKey,
    checkpointEvery: options.checkpointEvery ?? 1000,
    onWriteFailure: (f) => failures.push(f),
  });
  const uow = new PgUnitOfWork({ pool: db.pg.pool, audit, stores: options.stores ?? workTable, statusOf: (code) => codeToStatus[code] });
  const reader = new pg.Pool({ connectionString: db.url, max: 2 });
  pools.push(reader);
  const count = async () => Number((await reader.query('SELECT count(*) AS n FROM audit_log')).rows[0].n);
  const written = async () => (await reader.query('SELECT n FROM work ORDER BY n')).rows.map((r) => r.n as number);
  const lines = async () =>
    (await reader.query<{ seq: string; entry: string }>('SELECT seq, entry FROM audit_log ORDER BY seq')).rows.map((r) => ({
      seq: Number(r.seq),
      ...(JSON.parse(r.entry) as { entry: { outcome?: string; reason?: string } & Record<string, unknown> }).entry,
    }));
  return { db, audit, uow, failures, reader, count, written, lines, checkpointKey };
}

const deny = (n: number): DenyLine => {
  const { outcome: _o, reason: _r, httpStatus: _h, ...line } = readEntry(n);
  return line as DenyLine;
};

describePg('PgUnitOfWork', () => {
  it('commits every work of one event-loop turn in one transaction, each in call order, its lines numbered after the head', async () => {
    const { uow, count, audit } = await setup();
    await appendLine(uow, readEntry(100));
    const seenByReader: number[] = [];
    const pending = [1, 2, 3, 4, 5].map((n) =>
      uow.run(
        async (tx) => {
          seenByReader.push(await count()); // earlier works of the batch are not committed yet
          return tx.audit.append(readEntry(n));
        },
        { deny: deny(n) },
      ),
    );
    const done = await Promise.all(pending);
    expect(done.map((l) => [l.seq, l.entry?.traceId])).toEqual([1, 2, 3, 4, 5].map((n) => [n + 1, readEntry(n).traceId]));
    expect(done.every((l) => /^[0-9a-f]{64}$/.test(l.chainHash) && l.at === Date.parse(`${TODAY}T10:00:00Z`))).toBe(true);
    expect(seenByReader).toEqual([1, 1, 1, 1, 1]);
    expect(await count()).toBe(6);
    expect(await audit.verify()).toMatchObject({ ok: true, records: 6 });
  });

  it('settles no work before the COMMIT of its whole batch', async () => {
    const { uow, count } = await setup();
    const events: string[] = [];
    const visible: Promise<number>[] = [];
    const work = (n: number) =>
      uow
        .run(
          async (tx) => {
            events.push(`work ${n}`);
            await tx.audit.append(readEntry(n));
          },
          { deny: deny(n) },
        )
        .then(() => {
          events.push(`settled ${n}`);
          visible.push(count()); // asked the moment it settles
        });
    await Promise.all([work(1), work(2)]);
    expect(events).toEqual(['work 1', 'work 2', 'settled 1', 'settled 2']);
    expect(await Promise.all(visible)).toEqual([2, 2]);
  });

  it('a line’s position and hash are unknown inside the work, and set once its value is released', async () => {
    const { uow } = await setup();
    let inside: unknown;
    const line = await uow.run(
      async (tx) => {
        const appended = await tx.audit.append(readEntry(1));
        try {
          void appended.seq;
        } catch (error) {
          inside = error;
        }
        return appended;
      },
      { deny: deny(1) },
    );
    expect(inside).toBeInstanceOf(TypeError);
    expect(line.seq).toBe(1);
    expect(JSON.parse(JSON.stringify(line))).toMatchObject({ seq: 1, action: 'record.read', chainHash: line.chainHash });
  });

  it('writes a line as it was appended, whatever the work does to its object afterwards', async () => {
    const { uow, lines } = await setup();
    await uow.run(
      async (tx) => {
        const entry = readEntry(1);
        await tx.audit.append(entry);
        (entry as { clientRef?: string }).clientRef = 'a value never checked';
        (entry.actor as { sub: string }).sub = 'someone else';
      },
      { deny: deny(1) },
    );
    expect((await lines())[0]).toMatchObject({ clientRef: readEntry(1).clientRef, actor: readEntry(1).actor });
  });

  it('a refusal thrown by the work rolls back its writes and writes the deny line it was given', async () => {
    const { uow, written, lines, audit } = await setup();
    const results = await Promise.allSettled([
      uow.run(
        async (tx) => {
          await tx.records.get('1');
          await tx.audit.append(readEntry(1));
        },
        { deny: deny(1) },
      ),
      uow.run(
        async (tx) => {
          await tx.records.get('2');
          await tx.audit.append(readEntry(2)); // a permit line the refusal must take back
          throw new DoelpoortError('RELATIONSHIP_MISSING', 'no relationship', [], { reason: 'NO_HANDOVER_TO_ORGANISATION' });
        },
        { deny: { ...deny(2), clientRef: 'WZR-100002' } },
      ),
    ]);
    expect(results[0]).toMatchObject({ status: 'fulfilled' });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: 'RELATIONSHIP_MISSING' } });
    expect(await written()).toEqual([1]);
    const stored = await lines();
    expect(stored.map((l) => [l.seq, l.outcome, l.reason])).toEqual([
      [1, readEntry(1).outcome, readEntry(1).reason],
      [2, 'deny', 'NO_HANDOVER_TO_ORGANISATION'],
    ]);
    expect(stored[1]).toMatchObject({ action: 'record.read', clientRef: 'WZR-100002', httpStatus: 403, traceId: readEntry(2).traceId });
    expect(await audit.verify()).toMatchObject({ ok: true, records: 2 });
  });

  it('refuse writes the deny line of a refusal without work, with the code as reason when none is given', async () => {
    const { uow, lines } = await setup();
    await expect(refuse(uow, new DoelpoortError('TOKEN_MISSING'), deny(1))).rejects.toMatchObject({ code: 'TOKEN_MISSING' });
    expect((await lines())[0]).toMatchObject({ outcome: 'deny', reason: 'TOKEN_MISSING', httpStatus: 401 });
  });

  it('a work that wrote no line fails closed: AUDIT_WRITE_FAILED, its writes rolled back, the operator told', async () => {
    const { uow, written, failures, count } = await setup();
    await expect(uow.run(async (tx) => void (await tx.records.get('1')), { deny: deny(1) })).rejects.toMatchObject({ code: 'AUDIT_WRITE_FAILED' });
    expect(await written()).toEqual([]);
    expect(await count()).toBe(0);
    expect(failures).toEqual([{ stage: 'append', error: 'NO_LINE_WRITTEN' }]);
  });

  it('a work whose line could not be written fails, even when it caught the error', async () => {
    const { uow, written, failures, count } = await setup();
    const result = uow.run(
      async (tx) => {
        await tx.records.get('1');
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
    expect(await written()).toEqual([]);
    expect(await count()).toBe(0);
    expect(failures).toEqual([{ stage: 'append', error: 'ENTRY_INVALID' }]);
  });

  it('lines that cannot be written fail every work of the batch, the refusals too, and keep nothing', async () => {
    const { uow, db, written, count, failures } = await setup();
    await db.pg.pool.query(
      `CREATE FUNCTION audit_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full' USING ERRCODE = '53100'; END $$`,
    );
    await db.pg.pool.query('CREATE TRIGGER audit_fail BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_fail()');
    const results = await Promise.allSettled([
      uow.run(async (tx) => void (await tx.records.get('1'), await tx.audit.append(readEntry(1))), { deny: deny(1) }),
      refuse(uow, new DoelpoortError('ACCESS_DENIED'), deny(2)),
    ]);
    expect(results).toMatchObject([1, 2].map(() => ({ status: 'rejected', reason: { code: 'AUDIT_WRITE_FAILED' } })));
    expect(await written()).toEqual([]);
    expect(await count()).toBe(0);
    expect(failures).toEqual([{ stage: 'append', sqlState: '53100' }]);
  });

  it('a failed COMMIT rejects every work of the batch with AUDIT_WRITE_FAILED and keeps none of them', async () => {
    const { uow, db, failures, count, audit } = await setup({
      stores: {
        records: (q) => ({ get: async () => void (await q.query('INSERT INTO child (p) VALUES (42)')) }) as unknown as Tx['records'],
      },
    });
    // A deferred foreign key is checked at COMMIT: a dangling one makes exactly the COMMIT fail.
    await db.pg.pool.query('CREATE TABLE parent (id integer PRIMARY KEY); CREATE TABLE child (p integer REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)');
    const results = await Promise.allSettled([
      appendLine(uow, readEntry(1)),
      uow.run(async (tx) => void (await tx.records.get('dangling'), await tx.audit.append(readEntry(2))), { deny: deny(2) }),
      refuse(uow, new DoelpoortError('ACCESS_DENIED'), deny(3)),
    ]);
    expect(results).toMatchObject([1, 2, 3].map(() => ({ status: 'rejected', reason: { code: 'AUDIT_WRITE_FAILED' } })));
    expect(await count()).toBe(0);
    expect(failures).toEqual([{ stage: 'commit', sqlState: '23503', requests: 3 }]);
    // The next turn starts afresh, at seq 1.
    await expect(appendLine(uow, readEntry(4))).resolves.toMatchObject({ seq: 1 });
    expect(await audit.verify()).toMatchObject({ ok: true, records: 1 });
  });

  it('a connection killed in the middle of a batch fails every work of it, leaves no line, and the next batch gets a new one', async () => {
    const { uow, reader, count, written, audit } = await setup({
      stores: {
        ...workTable,
        // The work's own connection is ended from outside, as a crashed server process or a cut network would.
        sessions: (q) =>
          ({
            prune: async () => {
              const { rows } = await q.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
              await reader.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
            },
          }) as unknown as Tx['sessions'],
      },
    });
    const results = await Promise.allSettled([
      uow.run(async (tx) => void (await tx.records.get('1'), await tx.audit.append(readEntry(1))), { deny: deny(1) }),
      uow.run(async (tx) => void (await tx.audit.append(readEntry(2)), await tx.sessions.prune()), { deny: deny(2) }),
      appendLine(uow, readEntry(3)),
    ]);
    expect(results).toMatchObject([1, 2, 3].map(() => ({ status: 'rejected', reason: { code: 'AUDIT_WRITE_FAILED' } })));
    expect(await count()).toBe(0);
    expect(await written()).toEqual([]);
    await expect(appendLine(uow, readEntry(4))).resolves.toMatchObject({ seq: 1 });
    expect(await audit.verify()).toMatchObject({ ok: true, records: 1 });
  });

  it('a statement of a work that failed while the work went on fails that work, and the others of the batch stand', async () => {
    const { uow, written } = await setup({
      stores: {
        ...workTable,
        policies: (q) =>
          ({
            active: async () => {
              await q.query('INSERT INTO work (n) VALUES (7)');
              await q.query('SELECT 1 / 0').catch(() => undefined); // swallowed
            },
          }) as unknown as Tx['policies'],
      },
    });
    const results = await Promise.allSettled([
      uow.run(async (tx) => void (await tx.policies.active(), await tx.audit.append(readEntry(1))), { deny: deny(1) }),
      uow.run(async (tx) => void (await tx.records.get('2'), await tx.audit.append(readEntry(2))), { deny: deny(2) }),
    ]);
    expect(results[0]).toMatchObject({ status: 'rejected', reason: expect.any(TypeError) });
    expect(results[1]).toMatchObject({ status: 'fulfilled' });
    expect(await written()).toEqual([2]);
  });

  it('a work never ends its transaction itself, nor undoes past its own savepoint', async () => {
    let statement = '';
    const { uow, written, count } = await setup({
      stores: {
        records: (q) => ({ get: async () => void (await q.query('INSERT INTO work (n) VALUES (1)'), await q.query(statement)) }) as unknown as Tx['records'],
      },
    });
    const run = () => uow.run(async (tx) => void (await tx.records.get('1'), await tx.audit.append(readEntry(1))), { deny: deny(1) });
    const refused = [
      'COMMIT',
      'commit;',
      ' END',
      'ROLLBACK',
      'rollback work',
      'BEGIN',
      'START TRANSACTION',
      'ROLLBACK TO SAVEPOINT doelpoort_work',
      'rollback to doelpoort_work',
      'RELEASE doelpoort_work',
      'RELEASE SAVEPOINT doelpoort_work',
      'SET SESSION AUTHORIZATION nobody',
      'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE',
    ];
    for (statement of refused) await expect(run(), statement).rejects.toBeInstanceOf(TypeError);
    expect(await written()).toEqual([]);
    expect(await count()).toBe(0);
    // A savepoint of the work's own (a store's atomic step) is the work's business.
    statement = 'SAVEPOINT mine';
    await expect(run()).resolves.toBeUndefined();
    expect(await written()).toEqual([1]);
  });

  it('an error that is not a refusal rolls the work back and passes through, with no deny line', async () => {
    const { uow, count } = await setup();
    const bug = new RangeError('a bug');
    await expect(uow.run(async (tx) => (await tx.audit.append(readEntry(1)), Promise.reject(bug)), { deny: deny(1) })).rejects.toBe(bug);
    expect(await count()).toBe(0);
  });

  it('tx refuses every call outside its work, and a store it was not given on every call', async () => {
    const { uow } = await setup();
    let kept: Tx | undefined;
    await uow.run(async (tx) => ((kept = tx), void (await tx.audit.append(readEntry(1)))), { deny: deny(1) });
    expect(() => kept!.audit.append(readEntry(3))).toThrow(TypeError);
    expect(() => kept!.records.get('1')).toThrow(TypeError);
    await expect(uow.run(async (tx) => (await tx.audit.append(readEntry(2)), tx.reviews.list({} as never)), { deny: deny(2) })).rejects.toThrow(
      /no such store/,
    );
  });

  it('holds the chain’s lock only at the end: another instance appends while a work of this one waits', async () => {
    const { uow, db, audit } = await setup();
    const otherPool = new pg.Pool({ connectionString: db.url, max: 2 });
    pools.push(otherPool);
    const other = new PgUnitOfWork({ pool: otherPool, audit });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const inWork = new Promise<void>((resolve) => (started = resolve));
    const slow = uow.run(async (tx) => (await tx.records.get('1'), started(), await gate, tx.audit.append(readEntry(1))), { deny: deny(1) });
    await inWork;
    // The slow work's transaction is open and has written; the other instance is not held up by it.
    await expect(appendLine(other, readEntry(2))).resolves.toMatchObject({ seq: 1 });
    release();
    await expect(slow).resolves.toMatchObject({ seq: 2 });
    expect(await audit.verify()).toMatchObject({ ok: true, records: 2 });
  });

  it('signs a checkpoint every `checkpointEvery` lines, under the lock, which verify checks with the key', async () => {
    const { uow, audit, reader } = await setup({ checkpointEvery: 4 });
    for (let n = 1; n <= 10; n++) await appendLine(uow, readEntry(n));
    const sizes = (await reader.query('SELECT size FROM audit_checkpoints ORDER BY size')).rows.map((r) => Number(r.size));
    expect(sizes).toEqual([1, 4, 8]); // the first line has none before it; then every fourth
    expect(await audit.checkpoint()).toMatchObject({ size: 10 });
    expect(await audit.checkpoint()).toMatchObject({ size: 10 }); // nothing new: no second checkpoint
    expect(await audit.verify()).toMatchObject({ ok: true, records: 10, checkpoints: 4 });
  });
});
