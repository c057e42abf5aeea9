/**
 * INVARIANT: the unit of work on PostgreSQL keeps every rule of src/unit-of-work.ts (read its INVARIANT): group
 * commit, each work in its savepoint, a thrown DoelpoortError rolls the work back and writes its deny line, a work
 * without a line or with a failed append fails closed (AUDIT_WRITE_FAILED), and a work's value is released only
 * after COMMIT. What differs is when the lines are written: `tx.audit.append` checks a line at once and keeps it; the
 * lines of the whole batch are written at its end, under the chain's advisory lock (src/audit/log-pg.ts), which is
 * therefore held only for the few statements between that lock and COMMIT, never while works run. So the `AuditLine`
 * an append answers has its `seq`, `at` and `chainHash` only after the batch wrote it (reading them earlier is a
 * TypeError); a work's value, which may hold it, reaches the caller after COMMIT, when they are set.
 */
import type pg from 'pg';
import type { AuditEntry } from './audit/entry.js';
import type { PendingLine, PgAuditLog } from './audit/log-pg.js';
import { pgFailureOf } from './audit/log-pg.js';
import { DoelpoortError, isDoelpoortError, type ErrorCode } from './errors.js';
import type { Queryable } from './postgres.js';
import type { DenyLine, Queued, RunOptions, Tx, UnitOfWork } from './unit-of-work.js';

/**
 * The PostgreSQL stores a work reaches through `tx`, each built on the batch's transaction (the `Queryable` given
 * runs every statement inside the running work's savepoint). A member left out refuses every call with TypeError.
 */
export interface PgTxStores {
  records?: (q: Queryable) => Tx['records'];
  policies?: (q: Queryable) => Tx['policies'];
  sessions?: (q: Queryable) => Tx['sessions'];
  reviews?: (q: Queryable) => Tx['reviews'];
  noodtoegang?: (q: Queryable) => Tx['noodtoegang'];
  /** The audit list (`tx.audit.list`). */
  auditList?: (q: Queryable) => Tx['audit']['list'];
}

export interface PgUnitOfWorkDeps {
  pool: pg.Pool;
  audit: PgAuditLog;
  stores?: PgTxStores;
  /** Gives a deny line its HTTP status (src/http's one map); without it (the CLI) the line has none. */
  statusOf?: (code: ErrorCode) => number;
  /** Batches of this instance in flight at once (default 1: one transaction at a time, as on SQLite). */
  maxBatches?: number;
}

/** The running work of a batch: its savepoint (taken before its first statement), its statements, its lines. */
interface Running {
  item: Queued;
  savepoint: Promise<unknown> | undefined;
  statements: Set<Promise<unknown>>;
  lines: PendingLine[];
  appendFailed: boolean;
}

const SAVEPOINT = 'doelpoort_work';

const ignore = (): void => {};

/**
 * Whether `text` would end or reshape the unit of work's transaction, or undo past the running work's savepoint: a
 * work never runs such a statement. Savepoints of its own (a store's atomic step) are the work's business.
 */
function controlsTransaction(text: string): boolean {
  const t = text.trimStart().toUpperCase();
  if (/^(BEGIN|COMMIT|END|ABORT|START\s+TRANSACTION|PREPARE\s+TRANSACTION|SET\s+TRANSACTION|SET\s+SESSION)\b/.test(t)) return true;
  const m = /^(ROLLBACK|RELEASE)\b(\s+TO\b)?(\s+SAVEPOINT\b)?\s*(\w*)/.exec(t);
  if (!m) return false;
  if (m[1] === 'ROLLBACK' && !m[2]) return true; // ROLLBACK [WORK | TRANSACTION | AND CHAIN | PREPARED …]
  return m[4] === SAVEPOINT.toUpperCase();
}

/** Thrown when a work calls `tx` outside its own run. */
const outside = (name: string) => new TypeError(`tx.${name}: called outside its unit of work`);

export class PgUnitOfWork implements UnitOfWork {
  readonly #pool: pg.Pool;
  readonly #audit: PgAuditLog;
  readonly #stores: PgTxStores;
  readonly #statusOf: ((code: ErrorCode) => number) | undefined;
  readonly #maxBatches: number;
  #queue: Queued[] = [];
  #scheduled = false;
  #inFlight = 0;

  constructor(deps: PgUnitOfWorkDeps) {
    this.#pool = deps.pool;
    this.#audit = deps.audit;
    this.#stores = deps.stores ?? {};
    this.#statusOf = deps.statusOf;
    this.#maxBatches = deps.maxBatches ?? 1;
    if (!Number.isInteger(this.#maxBatches) || this.#maxBatches < 1) throw new TypeError('PgUnitOfWork: maxBatches must be a positive integer');
  }

  run<T>(work: (tx: Tx) => Promise<T>, options: RunOptions): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, deny: options.deny, resolve: resolve as (value: unknown) => void, reject, outcome: undefined });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#queue.length === 0) return;
    this.#scheduled = true;
    setImmediate(this.#turnEnded);
  }

  /** At the end of the turn the queue becomes a batch, unless this instance has as many in flight as it may. */
  readonly #turnEnded = (): void => {
    this.#scheduled = false;
    if (this.#inFlight >= this.#maxBatches) return; // the batch in flight schedules the next when it ends
    const batch = this.#queue;
    this.#queue = [];
    this.#inFlight++;
    void this.#runBatch(batch).finally(() => {
      this.#inFlight--;
      this.#schedule();
    });
  };

  /** One batch: BEGIN, each work in its savepoint, the lines under the lock, COMMIT, then every work settles. */
  async #runBatch(batch: Queued[]): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      this.#failBatch(batch, error, false);
      return;
    }
    // A checked-out client whose connection drops emits 'error'; unheard, it would end the process. The statement
    // in flight fails too, and that is where the batch learns of it.
    client.on('error', ignore);
    let failureLogged = false;
    let broken = false;
    try {
      await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      const lines: PendingLine[] = [];
      let running: Running | undefined;
      const tx = this.#tx(() => running, client);
      for (const item of batch) {
        const current: Running = (running = { item, savepoint: undefined, statements: new Set(), lines: [], appendFailed: false });
        let outcome: Queued['outcome'];
        try {
          outcome = { ok: true, value: await item.work(tx) };
        } catch (error) {
          outcome = { ok: false, error };
        }
        running = undefined;
        // A statement the work started and did not await still belongs to its savepoint.
        await Promise.allSettled(current.statements);
        if (current.appendFailed) {
          failureLogged = true;
          outcome = { ok: false, error: new DoelpoortError('AUDIT_WRITE_FAILED', 'an audit line of the work could not be written') };
        } else if (outcome.ok && current.lines.length === 0) {
          this.#audit.reportWriteFailure({ stage: 'append', error: 'NO_LINE_WRITTEN' });
          failureLogged = true;
          outcome = { ok: false, error: new DoelpoortError('AUDIT_WRITE_FAILED', 'the work wrote no audit line') };
        }
        if (outcome.ok && current.savepoint) {
          try {
            await client.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
          } catch (error) {
            // A statement of the work failed and the work went on: PostgreSQL has aborted its part of the transaction.
            if ((error as { code?: unknown }).code !== '25P02') throw error;
            outcome = { ok: false, error: new TypeError('unit of work: a statement of the work failed and the work went on') };
          }
        }
        if (outcome.ok) lines.push(...current.lines);
        else {
          if (current.savepoint) {
            await client.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
            await client.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
          }
          outcome = this.#denied(item, outcome.error, lines);
          if (isDoelpoortError(outcome.error) && outcome.error.code === 'AUDIT_WRITE_FAILED') failureLogged = true;
        }
        item.outcome = outcome;
      }
      try {
        await this.#audit.writeLines(client, lines);
      } catch (error) {
        failureLogged = true;
        throw error;
      }
      await client.query('COMMIT');
    } catch (error) {
      broken = true;
      await client.query('ROLLBACK').catch(() => {});
      client.off('error', ignore);
      client.release(true); // a connection in an unknown state is closed, never reused
      this.#failBatch(batch, error, failureLogged);
      return;
    } finally {
      if (!broken) {
        client.off('error', ignore);
        client.release();
      }
    }
    await this.#audit.afterCommit();
    for (const item of batch) {
      const outcome = item.outcome!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    }
  }

  /** After a refused work rolled back: its deny line, kept for the batch; the refusal, or why it is not logged. */
  #denied(item: Queued, error: unknown, lines: PendingLine[]): { ok: false; error: unknown } {
    if (!isDoelpoortError(error) || error.code === 'AUDIT_WRITE_FAILED') return { ok: false, error };
    try {
      lines.push(this.#audit.prepare(this.#denyLine(item.deny, error)));
      return { ok: false, error };
    } catch (failed) {
      return { ok: false, error: failed };
    }
  }

  /** The one rule of a deny line: what the caller gave, the refusal's reason, the status of its code. */
  #denyLine(deny: DenyLine, refusal: DoelpoortError): AuditEntry {
    const status = this.#statusOf?.(refusal.code);
    return { ...deny, outcome: 'deny', reason: refusal.reason, ...(status === undefined ? {} : { httpStatus: status }) } as AuditEntry;
  }

  /** The connection, BEGIN, the lines or COMMIT failed: nothing of the batch is durable, so every work of it fails. */
  #failBatch(batch: Queued[], cause: unknown, failureLogged: boolean): void {
    if (!failureLogged) this.#audit.reportWriteFailure(pgFailureOf('commit', cause, batch.length));
    const failed = new DoelpoortError('AUDIT_WRITE_FAILED', 'the audited transaction could not be committed', [], { cause });
    for (const item of batch) item.reject(failed);
  }

  /** The `tx` of one batch: every member refuses a call outside the running work; statements go to its savepoint. */
  #tx(running: () => Running | undefined, client: pg.PoolClient): Tx {
    const current = (name: string): Running => {
      const r = running();
      if (!r) throw outside(name);
      return r;
    };
    const q: Queryable = {
      query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
        const r = current('query');
        if (controlsTransaction(text)) throw new TypeError('unit of work: a work never ends or reshapes its transaction');
        r.savepoint ??= client.query(`SAVEPOINT ${SAVEPOINT}`);
        const statement = r.savepoint.then(() => client.query<R>(text, values));
        r.statements.add(statement);
        return statement;
      },
    };
    const stores = this.#stores;
    const missing = (name: string) => (): never => {
      throw new TypeError(`tx.${name}: this PostgreSQL unit of work has no such store yet`);
    };
    // Every call checks that its work is running (`current`) before it reaches the store.
    const guarded = <S extends object>(name: string, make: ((q: Queryable) => S) | undefined, methods: readonly (keyof S & string)[]): S => {
      const store = make?.(q);
      const out = {} as Record<string, unknown>;
      for (const m of methods) {
        out[m] = store
          ? (...args: unknown[]) => {
              current(`${name}.${m}`);
              return (store[m] as (...a: unknown[]) => unknown).apply(store, args);
            }
          : (..._args: unknown[]) => {
              current(`${name}.${m}`);
              return missing(`${name}.${m}`)();
            };
      }
      return out as S;
    };
    const append = (entry: AuditEntry) => {
      const r = current('audit.append');
      try {
        const pending = this.#audit.prepare(entry);
        r.lines.push(pending);
        return pending.line;
      } catch (error) {
        r.appendFailed = true;
        throw error;
      }
    };
    const list = stores.auditList?.(q);
    return {
      audit: {
        append,
        refused: (line, refusal) => append(this.#denyLine(line, refusal)),
        pseudonym: (bsn) => this.#audit.pseudonym(bsn),
        list: (query) => {
          current('audit.list');
          if (!list) return missing('audit.list')();
          return list(query);
        },
      },
      records: guarded('records', stores.records, ['get', 'clientRefByBsn', 'caseload', 'inbox', 'kp4Clients']),
      policies: guarded('policies', stores.policies, ['active', 'get', 'list', 'propose', 'approve', 'reject']),
      sessions: guarded('sessions', stores.sessions, ['create', 'destroy', 'prune']),
      reviews: guarded('reviews', stores.reviews, ['record', 'list']),
      noodtoegang: guarded('noodtoegang', stores.noodtoegang, ['record', 'countSince', 'get', 'list', 'judge']),
    };
  }
}
