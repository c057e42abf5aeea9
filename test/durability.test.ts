import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { AuditLog, type AuditWriteFailure } from '../src/audit/log.js';
import { generateCheckpointKey } from '../src/audit/keys.js';
import { CheckpointWitness } from '../src/audit/witness.js';
import { fixedClock } from '../src/clock.js';
import { openDatabase, openRecordsDatabase } from '../src/db.js';
import { type Fdatasync, WalSync } from '../src/durability.js';
import { PolicyVersions } from '../src/policy/versions.js';
import { RecordStore } from '../src/records/store.js';
import { appendLine, SqliteUnitOfWork } from '../src/unit-of-work.js';
import { readEntry } from './audit-support.js';
import { TODAY, tempDir } from './support.js';

/** An fdatasync that tells what it sees when it starts and ends, and can be held open or made to fail. */
function probe(look: () => string) {
  const events: string[] = [];
  const held: Array<() => void> = [];
  const state = { hold: false, fail: undefined as string | undefined, calls: 0, inFlight: 0, maxInFlight: 0 };
  const fdatasync: Fdatasync = (fd, done) => {
    state.calls++;
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    events.push(`fdatasync ${state.calls} starts: ${look()}`);
    const go = () =>
      fs.fdatasync(fd, (error) => {
        state.inFlight--;
        events.push(`fdatasync ${state.calls} done`);
        if (state.fail) done(Object.assign(new Error('injected'), { code: state.fail }));
        else done(error);
      });
    if (state.hold) held.push(go);
    else go();
  };
  return { fdatasync, events, state, release: () => held.splice(0).forEach((go) => go()) };
}

/** A unit of work on a state database file with a WalSync whose fdatasync is the probe's; a second connection looks. */
function setup(options: { witness?: boolean } = {}) {
  const dir = tempDir();
  const file = path.join(dir, 'state.db');
  const db = openDatabase(file);
  const clock = fixedClock(`${TODAY}T10:00:00Z`);
  const failures: AuditWriteFailure[] = [];
  const witnessDir = path.join(dir, 'witness');
  const audit = new AuditLog(db, {
    clock,
    pseudonymKey: randomBytes(32),
    onWriteFailure: (f) => failures.push(f),
    ...(options.witness ? { checkpointKey: generateCheckpointKey(), checkpointEvery: 1, witness: new CheckpointWitness(witnessDir) } : {}),
  });
  const reader = new Database(file, { readonly: true });
  const lines = () => reader.prepare('SELECT count(*) FROM audit_log').pluck().get() as number;
  const p = probe(() => `${lines()} lines committed`);
  const walSync = WalSync.open(db.$client, { fdatasync: p.fdatasync });
  const uow = new SqliteUnitOfWork({ audit, records: new RecordStore(openRecordsDatabase(':memory:')), policies: new PolicyVersions(db, clock), walSync });
  const witnessed = () => (fs.existsSync(witnessDir) ? fs.readdirSync(witnessDir).filter((n) => n.endsWith('.jws')).length : 0);
  return { file, db, audit, uow, failures, lines, walSync, witnessed, ...p };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('the unit of work with a WalSync (fsync off the event loop)', () => {
  it('commits, then fdatasyncs the WAL, then answers', async () => {
    const { uow, events } = setup();
    const settled = [1, 2].map((n) => appendLine(uow, readEntry(n)).then(() => events.push(`work ${n} settled`)));
    await Promise.all(settled);
    expect(events).toEqual(['fdatasync 1 starts: 2 lines committed', 'fdatasync 1 done', 'work 1 settled', 'work 2 settled']);
  });

  it('holds every answer while its fdatasync is in flight, however long it takes', async () => {
    const { uow, state, release, lines } = setup();
    state.hold = true;
    let settled = false;
    const pending = appendLine(uow, readEntry(1)).then(() => (settled = true));
    for (let i = 0; i < 5; i++) await turn();
    expect(lines()).toBe(1); // committed, visible to another connection…
    expect(settled).toBe(false); // …and not answered
    release();
    await pending;
    expect(settled).toBe(true);
  });

  it('a batch queued while an fdatasync is in flight is held back until it has ended, then commits with all queued meanwhile', async () => {
    const { uow, events, state, release, lines } = setup();
    state.hold = true;
    const first = appendLine(uow, readEntry(1)).then(() => events.push('work 1 settled'));
    await turn();
    await turn();
    const later = [2, 3].map((n) => appendLine(uow, readEntry(n)));
    await turn();
    const fourth = appendLine(uow, readEntry(4)); // a turn later: still the same batch
    for (let i = 0; i < 3; i++) await turn();
    expect(lines()).toBe(1); // works 2–4 wait, uncommitted: nothing of theirs is visible before it is durable
    state.hold = false;
    release();
    await Promise.all([first, ...later, fourth]);
    expect(events).toEqual([
      'fdatasync 1 starts: 1 lines committed',
      'fdatasync 1 done',
      'work 1 settled',
      'fdatasync 2 starts: 4 lines committed',
      'fdatasync 2 done',
    ]);
    expect(state.maxInFlight).toBe(1);
  });

  it('a failed fdatasync fails its batch closed with AUDIT_WRITE_FAILED, and every batch after it', async () => {
    const { uow, state, failures, events } = setup();
    state.fail = 'EIO';
    const results = await Promise.allSettled([appendLine(uow, readEntry(1)), appendLine(uow, readEntry(2))]);
    expect(results).toMatchObject([1, 2].map(() => ({ status: 'rejected', reason: { code: 'AUDIT_WRITE_FAILED' } })));
    expect(failures).toEqual([{ stage: 'commit', error: 'EIO', requests: 2 }]);
    // The kernel may report the next fsync clean after losing what it could not write: no second chance.
    state.fail = undefined;
    await expect(appendLine(uow, readEntry(3))).rejects.toMatchObject({ code: 'AUDIT_WRITE_FAILED' });
    expect(failures.at(-1)).toEqual({ stage: 'commit', error: 'EIO', requests: 1 });
    expect(events.filter((e) => e.includes('starts'))).toHaveLength(1);
  });

  it('a WAL file that lost its name (deleted under the server) fails the batch closed', async () => {
    const { uow, file, failures } = setup();
    await appendLine(uow, readEntry(1));
    fs.unlinkSync(`${file}-wal`);
    await expect(appendLine(uow, readEntry(2))).rejects.toMatchObject({ code: 'AUDIT_WRITE_FAILED' });
    expect(failures).toEqual([{ stage: 'commit', error: 'WAL_UNLINKED', requests: 1 }]);
  });

  it('only the batch commits with synchronous=NORMAL: the connection is FULL before and after', async () => {
    const { uow, db } = setup();
    const level = () => db.$client.pragma('synchronous', { simple: true });
    expect(level()).toBe(2);
    let during: unknown;
    await uow.run(
      async (tx) => {
        during = level();
        return tx.audit.append(readEntry(1));
      },
      { deny: readEntry(1) },
    );
    expect(during).toBe(1);
    expect(level()).toBe(2);
  });

  it('keeps syncing the same file across other connections closing and a WAL reset by a checkpoint', async () => {
    const { uow, file, events } = setup();
    const inode = () => fs.statSync(`${file}-wal`).ino;
    await appendLine(uow, readEntry(1));
    const before = inode();
    // Another connection writing and closing: were it the last, SQLite would checkpoint and delete the WAL.
    const other = openDatabase(file);
    other.$client.exec('CREATE TABLE other (n INTEGER); INSERT INTO other VALUES (1)');
    other.$client.close();
    expect(inode()).toBe(before);
    // A full checkpoint and truncation, then the next commit restarts the WAL from its start: the same file still.
    const checkpointer = new Database(file);
    checkpointer.pragma('wal_checkpoint(TRUNCATE)');
    checkpointer.close();
    expect(fs.statSync(`${file}-wal`).size).toBe(0);
    await appendLine(uow, readEntry(2));
    expect(inode()).toBe(before);
    expect(fs.statSync(`${file}-wal`).size).toBeGreaterThan(0);
    expect(events.filter((e) => e.includes('done'))).toHaveLength(2);
  });

  it('copies a checkpoint to the witness only once the batch that wrote it is on disk', async () => {
    const { uow, state, release, witnessed, audit } = setup({ witness: true });
    state.hold = true;
    const pending = appendLine(uow, readEntry(1));
    for (let i = 0; i < 3; i++) await turn();
    expect(audit.latestCheckpoint()).toMatchObject({ size: 1 }); // committed with the line…
    expect(witnessed()).toBe(0); // …but a witness ahead of the disk would make a power cut look like a truncation
    state.hold = false;
    release();
    await pending;
    expect(witnessed()).toBe(1);
  });

  it('a batch copies its checkpoint to the witness before the next batch opens its transaction', async () => {
    const { uow, state, release, witnessed } = setup({ witness: true });
    state.hold = true;
    let atFirst = -1;
    const first = appendLine(uow, readEntry(1)).then(() => (atFirst = witnessed()));
    await turn();
    await turn();
    const second = appendLine(uow, readEntry(2)); // held back, and run as soon as the first fsync has ended
    await turn();
    state.hold = false;
    release();
    await Promise.all([first, second]);
    // Had the second batch opened its transaction first, the first one's checkpoint would wait for a quiet moment.
    expect(atFirst).toBe(1);
    expect(witnessed()).toBe(2);
  });

  it('the state connection must fsync its commits itself when no WalSync is given', () => {
    const file = path.join(tempDir(), 'normal.db');
    const db = openDatabase(file);
    db.$client.pragma('synchronous = NORMAL');
    const clock = fixedClock(`${TODAY}T10:00:00Z`);
    const audit = new AuditLog(db, { clock, pseudonymKey: randomBytes(32) });
    const deps = { audit, records: new RecordStore(openRecordsDatabase(':memory:')), policies: new PolicyVersions(db, clock) };
    expect(() => new SqliteUnitOfWork(deps)).toThrow(/synchronous=FULL/);
    const elsewhere = openDatabase(path.join(tempDir(), 'other.db'));
    expect(() => new SqliteUnitOfWork({ ...deps, walSync: WalSync.open(elsewhere.$client) })).toThrow(/another database/);
  });
});

describe('WalSync.open', () => {
  it('refuses a database without a WAL', () => {
    expect(() => WalSync.open(openDatabase(':memory:').$client)).toThrow(TypeError);
    const file = path.join(tempDir(), 'rollback.db');
    const s = new Database(file);
    s.pragma('journal_mode = DELETE');
    expect(() => WalSync.open(s)).toThrow(/journal_mode delete/);
  });

  it('after close, durable() rejects', async () => {
    const db = openDatabase(path.join(tempDir(), 'closed.db'));
    const sync = WalSync.open(db.$client);
    await sync.durable();
    sync.close();
    await expect(sync.durable()).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
