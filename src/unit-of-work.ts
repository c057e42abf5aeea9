/**
 * INVARIANT: one way to run "read, decide, append the audit line, commit, then answer". A work touches the state only
 * through the `Tx` it is given, and appends its lines only with `tx.audit.append` (explicit, never an ambient
 * transaction). Its result reaches the caller only after COMMIT and its fsync, so no byte of an answer leaves before
 * its line is durable; a work that wrote no line, or whose line could not be written, fails closed (AUDIT_WRITE_FAILED).
 *
 * A refusal is either a value the work returns after appending its own deny line, or a `DoelpoortError` it throws:
 * then everything the work wrote rolls back, and the unit of work appends the deny line the caller gave
 * (`options.deny`, completed with the error's reason and status), in the same transaction. One rule, every caller.
 */
import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import type { AuditEntry, AuditLine } from './audit/entry.js';
import { failureOf, type AuditLog } from './audit/log.js';
import type { AuditPage, AuditQuery, AuditScope } from './audit/query.js';
import type { WalSync } from './durability.js';
import { DoelpoortError, isDoelpoortError, type ErrorCode } from './errors.js';
import { OversightReviews } from './audit/reviews.js';
import { NoodtoegangStore } from './noodtoegang/store.js';
import type { PolicyVersions } from './policy/versions.js';
import type { RecordStore } from './records/store.js';
import type { SessionStore } from './web/sessions.js';

/** A value, or a promise of it: the SQLite unit of work answers at once, an asynchronous driver later. Always `await` it. */
export type Awaitable<T> = T | Promise<T>;

/** The methods of `T`, each answering an `Awaitable`: what a verb may call, whatever the driver. */
export type Awaiting<T> = { readonly [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Awaitable<R> : never };

/** The audit log as a work sees it: append inside this transaction, and the BSN pseudonym for its lines. */
export interface TxAudit {
  /** Appends one line in the work's transaction; AUDIT_WRITE_FAILED when it cannot, and then the work fails whole. */
  append(entry: AuditEntry): Awaitable<AuditLine>;
  /**
   * Appends the deny line of a refusal the work goes on after (one client of a list, say): `line` with the
   * refusal's reason and the status of its code, as the unit of work writes it for a refusal that is thrown.
   */
  refused(line: DenyLine, refusal: DoelpoortError): Awaitable<AuditLine>;
  /** The keyed pseudonym of a BSN (never the BSN itself in a line). */
  pseudonym(bsn: string): string;
  /** Lines matching `query`, newest first, a page at a time (a privacy officer's reading of the log). */
  list(query: AuditQuery & AuditScope): Awaitable<AuditPage>;
}

/** What a work may touch inside the transaction. */
export interface Tx {
  audit: TxAudit;
  /** The Suite copy, read only. */
  records: Awaiting<Pick<RecordStore, 'get' | 'clientRefByBsn' | 'caseload' | 'inbox' | 'kp4Clients'>>;
  /** The stored policy versions; their writes roll back with a refused work. */
  policies: Awaiting<Pick<PolicyVersions, 'active' | 'get' | 'list' | 'propose' | 'approve' | 'reject'>>;
  /** The web sessions whose start and end are audited: a session exists only if its line was written. */
  sessions: Awaiting<Pick<SessionStore, 'create' | 'destroy' | 'prune'>>;
  /** The oversight review trail; a review written by a refused work rolls back with it. */
  reviews: Awaiting<Pick<OversightReviews, 'record' | 'list'>>;
  /** The emergency accesses (weekly count, grant, review queue, verdict); their writes roll back with a refused work. */
  noodtoegang: Awaiting<Pick<NoodtoegangStore, 'record' | 'countSince' | 'get' | 'list' | 'judge'>>;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The deny line of a refused work, but for what the refusal itself says: outcome, reason and status. */
export type DenyLine = DistributiveOmit<AuditEntry, 'outcome' | 'reason' | 'httpStatus'>;

/** How one work runs. */
export interface RunOptions {
  /** The line written when the work throws a `DoelpoortError` (its `reason`, and the status of its code, are added). */
  deny: DenyLine;
}

/** The one way to run audited work. */
export interface UnitOfWork {
  /**
   * Runs `work` in a transaction and settles after that transaction committed: with the work's value, or with the
   * error it threw (its deny line written, its other writes rolled back), or with AUDIT_WRITE_FAILED.
   */
  run<T>(work: (tx: Tx) => Promise<T>, options: RunOptions): Promise<T>;
}

/** Writes the deny line of a refusal that needed no work (an edge refusing a request), then rejects with it. */
export function refuse(uow: UnitOfWork, refusal: DoelpoortError, deny: DenyLine): Promise<never> {
  return uow.run(() => Promise.reject(refusal), { deny });
}

/** Appends one line that is all the work there is (a summary, say); settles once it is durable. */
export async function appendLine(uow: UnitOfWork, entry: AuditEntry): Promise<AuditLine> {
  const { outcome: _o, reason: _r, httpStatus: _h, ...deny } = entry;
  return uow.run(async (tx) => tx.audit.append(entry), { deny: deny as DenyLine });
}

/** A work waiting for the next group commit, and what became of it (either database's unit of work). */
export interface Queued {
  work: (tx: Tx) => Promise<unknown>;
  deny: DenyLine;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  outcome: { ok: true; value: unknown } | { ok: false; error: unknown } | undefined;
}

/**
 * The unit of work on SQLite (better-sqlite3, synchronous): group commit. Every work queued in one event-loop turn
 * shares one `BEGIN IMMEDIATE … COMMIT`, each in its own savepoint, run one after another when the turn ends. With a
 * `walSync` (the serving connection) COMMIT runs with `synchronous=NORMAL`, writing the WAL without an fsync, and the
 * batch settles once an fdatasync of the WAL that started after that COMMIT has completed: the fsync waits on libuv's
 * thread pool instead of the event loop, and the next batch is held back until it has ended, then commits all that
 * was queued meanwhile (src/durability.ts, docs/durability.md). Without one (the CLI) COMMIT itself fsyncs
 * (`synchronous=FULL`). A work is awaited, but may await only what `tx` gives it (answers at once, so the awaits are
 * microtasks and no two works interleave on the connection); a work that awaits real I/O (a timer, a socket, a file) holds the
 * write lock across turns, which is a programming error: it fails with TypeError and its writes roll back. Verify
 * tokens, read bodies and replay logs before the unit of work.
 */
export class SqliteUnitOfWork implements UnitOfWork {
  readonly #audit: AuditLog;
  readonly #s: Database.Database;
  readonly #statusOf: ((code: ErrorCode) => number) | undefined;
  readonly #sql: Record<'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollbackTo', Statement<[]>>;
  readonly #tx: Tx;
  readonly #walSync: WalSync | undefined;
  /** The connection's own `synchronous` level, restored after each batch that committed with NORMAL. */
  readonly #restoreSync: string;
  #queue: Queued[] = [];
  #flushing: Promise<void> | undefined;
  /** The work now running, if any: `tx` refuses every call outside it. */
  #inWork = false;
  /** Lines the running work appended, and whether one of its appends failed. */
  #lines = 0;
  #appendFailed = false;
  /** An append failed in this batch: its operator log line already tells of the commit failing after it. */
  #failureLogged = false;

  /**
   * `statusOf` gives a deny line its HTTP status (src/http's one map); without it (the CLI) the line has none.
   * Without `sessions` (the CLI) a work that touches `tx.sessions` fails with TypeError. `walSync`, for the same
   * connection's WAL, moves the fsync off the event loop; without it a file database must be `synchronous=FULL`.
   */
  constructor(deps: {
    audit: AuditLog;
    records: RecordStore;
    policies: PolicyVersions;
    sessions?: SessionStore;
    statusOf?: (code: ErrorCode) => number;
    walSync?: WalSync | undefined;
  }) {
    this.#audit = deps.audit;
    this.#s = deps.audit.db.$client;
    this.#statusOf = deps.statusOf;
    this.#walSync = deps.walSync;
    const level = Number(this.#s.pragma('synchronous', { simple: true }));
    // 2 is FULL, 3 EXTRA: a COMMIT that fsyncs. Anything less would release answers whose lines a power cut can take.
    if (!this.#s.memory && !this.#s.readonly && this.#s.name !== '' && level < 2 && !this.#walSync) {
      throw new TypeError('SqliteUnitOfWork: a file database needs synchronous=FULL, or a walSync');
    }
    if (this.#walSync && this.#walSync.file !== `${this.#s.name}-wal`) throw new TypeError('SqliteUnitOfWork: walSync is for another database');
    this.#restoreSync = level >= 2 ? String(level) : 'FULL';
    const prepare = (sql: string) => this.#s.prepare<[]>(sql);
    this.#sql = {
      begin: prepare('BEGIN IMMEDIATE'),
      commit: prepare('COMMIT'),
      rollback: prepare('ROLLBACK'),
      savepoint: prepare('SAVEPOINT work'),
      release: prepare('RELEASE work'),
      rollbackTo: prepare('ROLLBACK TO work'),
    };
    // Plain wrappers, no rest parameters: records.get and audit.append are on every request's path.
    const inWork = (name: string) => {
      if (!this.#inWork) throw new TypeError(`tx.${name}: called outside its unit of work`);
    };
    const { records, policies, audit, sessions } = deps;
    // The emergency accesses live in the state database, on the connection this unit of work commits.
    const noodtoegang = new NoodtoegangStore(audit.db);
    // In the state database beside the lines, on the same connection: a review and its line share the transaction.
    const reviews = new OversightReviews(audit.db);
    const sessionStore = (name: string): SessionStore => {
      inWork(name);
      if (!sessions) throw new TypeError(`tx.${name}: this unit of work has no session store`);
      return sessions;
    };
    const append = (entry: AuditEntry) => {
      inWork('audit.append');
      try {
        const line = audit.appendInTransaction(entry);
        this.#lines++;
        return line;
      } catch (error) {
        this.#appendFailed = true;
        this.#failureLogged = true;
        throw error;
      }
    };
    type Versions = PolicyVersions;
    this.#tx = {
      audit: {
        append,
        refused: (line, refusal) => append(this.#denyLine(line, refusal)),
        pseudonym: (bsn) => audit.pseudonym(bsn),
        list: (query) => {
          inWork('audit.list');
          return audit.list(query);
        },
      },
      records: {
        get: (clientRef) => {
          inWork('records.get');
          return records.get(clientRef);
        },
        clientRefByBsn: (bsn) => {
          inWork('records.clientRefByBsn');
          return records.clientRefByBsn(bsn);
        },
        caseload: (gemeente, today, options) => {
          inWork('records.caseload');
          return records.caseload(gemeente, today, options);
        },
        inbox: (open, options) => {
          inWork('records.inbox');
          return records.inbox(open, options);
        },
        kp4Clients: (gemeente, today, options) => {
          inWork('records.kp4Clients');
          return records.kp4Clients(gemeente, today, options);
        },
      },
      policies: {
        active: () => {
          inWork('policies.active');
          return policies.active();
        },
        get: (id) => {
          inWork('policies.get');
          return policies.get(id);
        },
        list: () => {
          inWork('policies.list');
          return policies.list();
        },
        propose: (document: unknown, author: Parameters<Versions['propose']>[1]) => {
          inWork('policies.propose');
          return policies.propose(document, author);
        },
        approve: (id: number, approver: Parameters<Versions['approve']>[1]) => {
          inWork('policies.approve');
          return policies.approve(id, approver);
        },
        reject: (id: number, decider: Parameters<Versions['reject']>[1], reason: string) => {
          inWork('policies.reject');
          return policies.reject(id, decider, reason);
        },
      },
      sessions: {
        create: (login, idToken) => sessionStore('sessions.create').create(login, idToken),
        destroy: (id) => sessionStore('sessions.destroy').destroy(id),
        prune: () => sessionStore('sessions.prune').prune(),
      },
      reviews: {
        record: (review) => {
          inWork('reviews.record');
          return reviews.record(review);
        },
        list: (query) => {
          inWork('reviews.list');
          return reviews.list(query);
        },
      },
      noodtoegang: {
        record: (grant) => {
          inWork('noodtoegang.record');
          return noodtoegang.record(grant);
        },
        countSince: (person, since) => {
          inWork('noodtoegang.countSince');
          return noodtoegang.countSince(person, since);
        },
        get: (id) => {
          inWork('noodtoegang.get');
          return noodtoegang.get(id);
        },
        list: (query) => {
          inWork('noodtoegang.list');
          return noodtoegang.list(query);
        },
        judge: (id, verdict) => {
          inWork('noodtoegang.judge');
          return noodtoegang.judge(id, verdict);
        },
      },
    };
  }

  run<T>(work: (tx: Tx) => Promise<T>, options: RunOptions): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, deny: options.deny, resolve: resolve as (value: unknown) => void, reject, outcome: undefined });
      if (this.#queue.length === 1) setImmediate(this.#turnEnded);
    });
  }

  /**
   * At the end of the turn the queue is flushed; while a batch is still running (a work misbehaved), after it; while
   * the WAL's fdatasync is in flight, when it has ended, with everything queued meanwhile.
   */
  readonly #turnEnded = (): void => {
    if (this.#flushing) {
      void this.#flushing.then(this.#turnEnded);
      return;
    }
    if (this.#queue.length === 0) return; // an earlier call took it
    if (this.#walSync?.holdWhileSyncing(this.#turnEnded)) return;
    this.#flushing = this.#flush().finally(() => (this.#flushing = undefined));
  };

  async #flush(): Promise<void> {
    const batch = this.#queue;
    this.#queue = [];
    this.#failureLogged = false;
    try {
      // Outside any transaction: SQLite refuses to change the level inside one. Only this batch's COMMIT skips the
      // fsync; every other transaction on the connection (a checkpoint, a migration) keeps the connection's own level.
      if (this.#walSync) this.#s.exec('PRAGMA synchronous = NORMAL');
      await this.#runBatch(batch);
    } catch (error) {
      // A statement of the batch itself failed (a savepoint on a connection gone, say): nothing of it is durable.
      this.#inWork = false;
      this.#failBatch(batch, error);
    } finally {
      if (this.#walSync && this.#s.open && !this.#s.inTransaction) this.#s.exec(`PRAGMA synchronous = ${this.#restoreSync}`);
    }
  }

  /** One batch: BEGIN, each work in its savepoint, COMMIT, then every work settles. */
  async #runBatch(batch: Queued[]): Promise<void> {
    try {
      this.#sql.begin.run();
    } catch (error) {
      this.#failBatch(batch, error);
      return;
    }
    // Fires only if a work awaited something that is not a microtask: the turn ended inside the transaction.
    let stalled = false;
    let guard = setImmediate(() => (stalled = true));
    for (const item of batch) {
      this.#sql.savepoint.run();
      this.#lines = 0;
      this.#appendFailed = false;
      this.#inWork = true;
      let outcome: Queued['outcome'];
      try {
        const value = await item.work(this.#tx);
        outcome = { ok: true, value };
      } catch (error) {
        outcome = { ok: false, error };
      }
      this.#inWork = false;
      if (stalled) {
        outcome = { ok: false, error: new TypeError('unit of work: the work awaited I/O inside its transaction') };
        stalled = false;
        clearImmediate(guard);
        guard = setImmediate(() => (stalled = true));
      } else if (this.#appendFailed) {
        outcome = { ok: false, error: new DoelpoortError('AUDIT_WRITE_FAILED', 'an audit line of the work could not be written') };
      } else if (outcome.ok && this.#lines === 0) {
        this.#audit.reportWriteFailure({ stage: 'append', error: 'NO_LINE_WRITTEN' });
        this.#failureLogged = true;
        outcome = { ok: false, error: new DoelpoortError('AUDIT_WRITE_FAILED', 'the work wrote no audit line') };
      }
      // SQLite rolls a whole transaction back on some errors (a full disk): every work of the batch is lost with it.
      if (!this.#s.inTransaction) {
        clearImmediate(guard);
        this.#failBatch(batch, outcome.ok ? new Error('transaction lost') : outcome.error);
        return;
      }
      if (outcome.ok) this.#sql.release.run();
      else {
        this.#sql.rollbackTo.run();
        this.#sql.release.run();
        outcome = this.#denied(item, outcome.error);
        if (!this.#s.inTransaction) {
          clearImmediate(guard);
          this.#failBatch(batch, outcome.ok ? undefined : outcome.error);
          return;
        }
      }
      item.outcome = outcome;
    }
    clearImmediate(guard);
    try {
      this.#sql.commit.run();
    } catch (error) {
      this.#failBatch(batch, error); // rolls back what a failed COMMIT left open (a deferred constraint, say)
      return;
    }
    if (!this.#walSync) {
      this.#settle(batch);
      return;
    }
    this.#walSync.durable().then(
      () => this.#settle(batch),
      (error: unknown) => {
        // Committed, but not known to be on disk: no answer of the batch leaves. Its lines stay in the log.
        this.#audit.reportWriteFailure({ stage: 'commit', error: (error as { code?: string }).code ?? 'EIO', requests: batch.length });
        const failed = new DoelpoortError('AUDIT_WRITE_FAILED', 'the audited transaction could not be made durable', [], { cause: error });
        for (const item of batch) item.reject(failed);
      },
    );
  }

  /**
   * The batch is durable: a checkpoint it wrote goes to the witness, then every work settles. With a walSync no other
   * batch has committed meanwhile (the next one is held back until the fsync has ended, and opens its transaction
   * only after this), so the newest checkpoint is on disk: a witness ahead of the log after a power cut would make
   * the log look truncated.
   */
  #settle(batch: Queued[]): void {
    this.#audit.afterCommit();
    for (const item of batch) {
      const outcome = item.outcome!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    }
  }

  /** After a refused work rolled back: its deny line, in a savepoint of its own; the refusal, or why it is not logged. */
  #denied(item: Queued, error: unknown): { ok: false; error: unknown } {
    if (!isDoelpoortError(error) || error.code === 'AUDIT_WRITE_FAILED') return { ok: false, error };
    const line = this.#denyLine(item.deny, error);
    this.#sql.savepoint.run();
    try {
      this.#audit.appendInTransaction(line);
      this.#sql.release.run();
      return { ok: false, error };
    } catch (failed) {
      this.#failureLogged = true;
      if (this.#s.inTransaction) {
        this.#sql.rollbackTo.run();
        this.#sql.release.run();
      }
      return {
        ok: false,
        error: isDoelpoortError(failed) ? failed : new DoelpoortError('AUDIT_WRITE_FAILED', 'the deny line could not be written', [], { cause: failed }),
      };
    }
  }

  /** The one rule of a deny line: what the caller gave, the refusal's reason, the status of its code. */
  #denyLine(deny: DenyLine, refusal: DoelpoortError): AuditEntry {
    const status = this.#statusOf?.(refusal.code);
    return { ...deny, outcome: 'deny', reason: refusal.reason, ...(status === undefined ? {} : { httpStatus: status }) } as AuditEntry;
  }

  /** BEGIN, COMMIT or the transaction itself failed: nothing of the batch is durable, so every work of it fails. */
  #failBatch(batch: Queued[], cause: unknown): void {
    if (this.#s.inTransaction) {
      try {
        this.#sql.rollback.run();
      } catch {
        // Already gone.
      }
    }
    if (!this.#failureLogged) this.#audit.reportWriteFailure(failureOf('commit', cause, batch.length));
    const failed = new DoelpoortError('AUDIT_WRITE_FAILED', 'the audited transaction could not be committed', [], { cause });
    for (const item of batch) item.reject(failed);
  }
}
