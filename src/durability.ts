/**
 * INVARIANT: `durable()` settles only after an fdatasync of the state database's WAL file that *started after* the
 * call, so everything committed before the call is on disk when it resolves. The unit of work commits with
 * `synchronous=NORMAL` (COMMIT writes its WAL frames, no fsync), then awaits `durable()` before it releases any answer:
 * the fsync runs on libuv's thread pool, off the event loop, and one fsync serves every batch committed before it
 * started. docs/durability.md argues why this is as durable as `synchronous=FULL` for every released answer.
 *
 * A failed fdatasync is final: the kernel may have dropped the dirty pages it could not write and report the next
 * fsync clean, so once one fails every later `durable()` fails too, until the process restarts (fail closed).
 */
import fs from 'node:fs';
import type Database from 'better-sqlite3';

/** The system call, injectable so that a test can make it fail or hold it: `fs.fdatasync` by default. */
export type Fdatasync = (fd: number, done: (error: NodeJS.ErrnoException | null) => void) => void;

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/** Why the WAL's durability can no longer be vouched for; the cause is the system's error (its code is logged). */
export class WalSyncFailed extends Error {
  override readonly name = 'WalSyncFailed';
  readonly code: string;
  constructor(code: string, options?: ErrorOptions) {
    super(`the WAL file could not be made durable (${code})`, options);
    this.code = code;
  }
}

/** The fdatasync of one connection's WAL file, coalesced: at most one in flight, the next one shared by all who wait. */
export class WalSync {
  #fd: number;
  readonly #file: string;
  readonly #fdatasync: Fdatasync;
  /** Committed before the sync in flight started, or before the next one: those wait for the next. */
  #next: Waiter[] = [];
  #inFlight = false;
  /** Called when the sync in flight has ended (see `holdWhileSyncing`). */
  #held: Array<() => void> = [];
  #failed: WalSyncFailed | undefined;
  #closed = false;

  private constructor(fd: number, file: string, fdatasync: Fdatasync) {
    this.#fd = fd;
    this.#file = file;
    this.#fdatasync = fdatasync;
  }

  /**
   * For `connection`, a file database in WAL mode whose WAL exists (any read or write of a WAL database creates it).
   * Opens the `-wal` file read-only (fdatasync needs no write access) and checks it is the file SQLite uses. While the
   * connection stays open SQLite never deletes or replaces that file (docs/durability.md), so the descriptor keeps
   * naming it; each sync checks the file still has a name all the same.
   */
  static open(connection: Database.Database, options: { fdatasync?: Fdatasync } = {}): WalSync {
    if (connection.memory || connection.name === '') throw new TypeError('WalSync: an in-memory database has no WAL');
    const mode = connection.pragma('journal_mode', { simple: true });
    if (mode !== 'wal') throw new TypeError(`WalSync: the database is in journal_mode ${String(mode)}, not wal`);
    const file = `${connection.name}-wal`;
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    const byPath = fs.statSync(file);
    const byFd = fs.fstatSync(fd);
    if (byPath.ino !== byFd.ino || byPath.dev !== byFd.dev) {
      fs.closeSync(fd);
      throw new Error('WalSync: the WAL file changed while it was opened');
    }
    return new WalSync(fd, file, options.fdatasync ?? fs.fdatasync);
  }

  /** The WAL file this syncs. */
  get file(): string {
    return this.#file;
  }

  /** Resolves once an fdatasync that started after this call has completed; rejects with `WalSyncFailed` if any failed. */
  durable(): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (this.#closed) return Promise.reject(new WalSyncFailed('CLOSED'));
    return new Promise<void>((resolve, reject) => {
      this.#next.push({ resolve, reject });
      if (!this.#inFlight) this.#start();
    });
  }

  /**
   * While an fdatasync is in flight, keeps `next` to be called when it has ended (succeeded or failed) and returns
   * true; returns false when none is. The unit of work holds its next batch back this way: a batch committed during
   * the sync would wait for the one after it anyway, and held back it commits together with everything else that
   * arrived meanwhile (fewer, larger transactions, the same latency).
   */
  holdWhileSyncing(next: () => void): boolean {
    if (!this.#inFlight) return false;
    this.#held.push(next);
    return true;
  }

  /** Closes the descriptor once no sync is in flight; later calls to `durable` reject. */
  close(): void {
    this.#closed = true;
    if (!this.#inFlight) this.#release();
  }

  #start(): void {
    const group = this.#next;
    this.#next = [];
    this.#inFlight = true;
    this.#fdatasync(this.#fd, (error) => {
      this.#inFlight = false;
      const failure = error ? new WalSyncFailed(error.code ?? 'EIO', { cause: error }) : this.#unlinked();
      if (failure) {
        this.#failed = failure;
        for (const w of [...group, ...this.#next.splice(0)]) w.reject(failure);
      } else {
        for (const w of group) w.resolve();
      }
      if (!failure && this.#next.length > 0) this.#start();
      else if (failure || this.#closed) this.#release();
      // After the reactions to the settled waiters (a microtask queued later runs later): a batch settles, and copies
      // its checkpoint to the witness, before the next one opens its transaction.
      const held = this.#held.splice(0);
      if (held.length > 0) {
        queueMicrotask(() => {
          for (const next of held) next();
        });
      }
    });
  }

  /** The descriptor no longer names a file (someone deleted the WAL): what it synced is not the database's WAL. */
  #unlinked(): WalSyncFailed | undefined {
    try {
      return fs.fstatSync(this.#fd).nlink > 0 ? undefined : new WalSyncFailed('WAL_UNLINKED');
    } catch (error) {
      return new WalSyncFailed((error as NodeJS.ErrnoException).code ?? 'EIO', { cause: error });
    }
  }

  #release(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    try {
      fs.closeSync(fd);
    } catch {
      // Already closed.
    }
  }
}
