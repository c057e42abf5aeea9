/**
 * INVARIANT: the audit log is append-only. Lines are only ever inserted, in sequence order (1, 2, 3, … without
 * gaps), each carrying the hash of the one before it (src/audit/chain.ts). Nothing here updates or deletes a line;
 * triggers (migration 0001) abort UPDATE and DELETE, except retention pruning (src/audit/prune.ts), which blanks a
 * line's content but keeps both hashes, so a pruned chain still verifies. Lines hold field *names*, never values.
 * A line is written in the same transaction as the work it records: no log, no data (fail closed).
 */
import type { Statement, Transaction } from 'better-sqlite3';
import type { Clock } from '../clock.js';
import type { Db } from '../db.js';
import { DoelpoortError } from '../errors.js';
import { chainHash, GENESIS, LINE_COLUMNS, LINE_FORMAT, leafHashV2, lineValues, type LineValues } from './chain.js';
import { signCheckpoint, type Checkpoint } from './checkpoint.js';
import { auditEntryProblem, type AuditEntry, type AuditLine } from './entry.js';
import type { CheckpointKey } from './keys.js';
import { exportLogboekRecords, type LogboekRecord, type LogboekSources } from './export.js';
import { countLines, countPersons, type LineCount, type PersonCount } from './oversight-query.js';
import { linesByAction, listAudit, type AuditQuery, type AuditPage, type AuditScope, type ListStatements } from './query.js';
import type { AuditReader, CountScope, LinesByActionQuery, LogboekRange, Period } from './reader.js';
import { verifyAudit, verifyAuditAsync, type VerifyOptions, type VerifyResult } from './verify.js';
import { verifyAuditParallel } from './verify-parallel.js';
import type { CheckpointWitness } from './witness.js';
import { Pseudonyms } from './pseudonyms.js';

/** How the log is built; `checkpointKey` absent means no checkpoints are written (tests that do not need them). */
export interface AuditLogOptions {
  clock: Clock;
  pseudonymKey: Buffer;
  checkpointKey?: CheckpointKey | undefined;
  /** A checkpoint every this many lines (config `checkpointEvery`). */
  checkpointEvery?: number;
  /** And at least every this many minutes while lines are written (config `checkpointMinutes`). */
  checkpointMinutes?: number;
  /** Where every committed checkpoint is also written, outside the database (config `checkpointDir`). */
  witness?: CheckpointWitness | undefined;
  /** Told of every audit write that failed; by default one JSON line on stderr, for the operator's monitoring. */
  onWriteFailure?: (failure: AuditWriteFailure) => void;
}

/** What an operator learns of a failed audit write: where it failed and the driver's error code, never a value. */
export interface AuditWriteFailure {
  /** `append`: the line itself; `commit`: the transaction around it; `checkpoint`: a checkpoint; `witness`: its copy. */
  stage: 'append' | 'commit' | 'checkpoint' | 'witness';
  /** SQLite's extended result code (`SQLITE_FULL`, `SQLITE_BUSY`, `SQLITE_READONLY`, …), when the driver gave one. */
  sqliteCode?: string;
  /** PostgreSQL's SQLSTATE (`40P01`, `57P01`, `23505`, …), on PostgreSQL (src/audit/log-pg.ts). */
  sqlState?: string;
  /** The kind of a failure without a SQLite code (a closed connection, a malformed entry). */
  error?: string;
  /** How many requests' work the failed commit held (a group commit). */
  requests?: number;
}

/** The default operator log line of a failed audit write: codes only (the driver's message may quote values). */
export function logAuditWriteFailure(failure: AuditWriteFailure): void {
  process.stderr.write(
    `${JSON.stringify({ level: 'error', time: new Date().toISOString(), msg: 'audit write failed', code: 'AUDIT_WRITE_FAILED', ...failure })}\n`,
  );
}

/** The failure as the operator log states it: the driver's code or the error's kind, never its message. */
export function failureOf(stage: AuditWriteFailure['stage'], error: unknown, requests?: number): AuditWriteFailure {
  const code = (error as { code?: unknown } | null)?.code;
  const known = typeof code === 'string' && /^SQLITE_[A-Z_]+$/.test(code);
  const errno = typeof code === 'string' && /^E[A-Z0-9]+$/.test(code);
  return {
    stage,
    ...(known ? { sqliteCode: code } : { error: errno ? code : error instanceof Error ? error.name : typeof error }),
    ...(requests === undefined ? {} : { requests }),
  };
}

type InsertLine = [...LineValues, leaf: Buffer, chain: Buffer, format: number];

/**
 * The audit trail: hashing, chaining, checkpoints, verification and queries. Every method is synchronous. Requests
 * and verbs append through the unit of work (src/unit-of-work.ts: `tx.audit.append` inside `uow.run`), which holds
 * the transaction and calls `appendInTransaction`; nothing here opens a transaction for a caller's line.
 */
/** The options both logs check alike: the key's length, and how often a checkpoint is written (defaults filled in). */
export function checkpointCadence(log: string, options: AuditLogOptions): { every: number; minutes: number } {
  if (options.pseudonymKey.length < 32) throw new TypeError(`${log}: pseudonymKey must be at least 32 bytes`);
  const every = options.checkpointEvery ?? 1000;
  const minutes = options.checkpointMinutes ?? 10;
  if (!Number.isInteger(every) || every < 1) throw new TypeError(`${log}: checkpointEvery must be a positive integer`);
  if (!(minutes > 0)) throw new TypeError(`${log}: checkpointMinutes must be positive`);
  return { every, minutes };
}

export class AuditLog implements AuditReader {
  readonly #s: Db['$client'];
  readonly #head: Statement<[], { seq: number; at: number; chainHash: Buffer }>;
  readonly #insert: Statement<InsertLine>;
  readonly #lastCheckpoint: Statement<[], { size: number; at: number }>;
  readonly #insertCheckpoint: Statement<[number, Buffer, number, string]>;
  readonly #latestCheckpoint: Statement<[], { size: number; head: Buffer; at: number; signature: string }>;
  readonly #checkpointTx: Transaction<() => void>;
  readonly #listStatements: ListStatements = new Map();
  readonly #clock: Clock;
  readonly #pseudonyms: Pseudonyms;
  readonly #checkpointKey: CheckpointKey | undefined;
  readonly #checkpointEvery: number;
  readonly #checkpointMs: number;
  readonly #onWriteFailure: (failure: AuditWriteFailure) => void;
  readonly #witness: CheckpointWitness | undefined;
  /** A checkpoint was written since the witness last caught up (perhaps in a transaction that rolled back). */
  #witnessBehind = false;
  #witnessedSize = 0;

  constructor(
    readonly db: Db,
    options: AuditLogOptions,
  ) {
    const { every, minutes } = checkpointCadence('AuditLog', options);
    this.#clock = options.clock;
    this.#pseudonyms = new Pseudonyms(options.pseudonymKey);
    this.#checkpointKey = options.checkpointKey;
    this.#checkpointEvery = every;
    this.#checkpointMs = minutes * 60_000;
    this.#onWriteFailure = options.onWriteFailure ?? logAuditWriteFailure;
    this.#witness = options.witness;
    const s = (this.#s = db.$client);
    // The head is read inside every append's transaction (a rowid lookup): an in-memory cache would go stale when
    // the caller's transaction rolls back or another process appends.
    this.#head = s.prepare('SELECT seq, at, chain_hash AS chainHash FROM audit_log ORDER BY seq DESC LIMIT 1');
    this.#insert = s.prepare(
      `INSERT INTO audit_log (${LINE_COLUMNS.join(', ')}, leaf_hash, chain_hash, format)
       VALUES (${LINE_COLUMNS.map(() => '?').join(', ')}, ?, ?, ?)`,
    );
    this.#lastCheckpoint = s.prepare('SELECT size, at FROM audit_checkpoints ORDER BY size DESC LIMIT 1');
    this.#latestCheckpoint = s.prepare('SELECT size, head, at, signature FROM audit_checkpoints ORDER BY size DESC LIMIT 1');
    this.#insertCheckpoint = s.prepare('INSERT INTO audit_checkpoints (size, head, at, signature) VALUES (?, ?, ?, ?)');
    this.#checkpointTx = s.transaction(() => {
      const head = this.#head.get();
      const last = this.#lastCheckpoint.get();
      if (head && (!last || last.size < head.seq)) this.#writeCheckpoint(head.seq, head.chainHash, this.#clock.now());
    });
  }

  /** The keyed pseudonym of a BSN (HMAC-SHA256, hex): the same client links across lines, the log reveals no BSN. */
  pseudonym(bsn: string): string {
    return this.#pseudonyms.of(bsn);
  }

  /** The public checkpoint key as a JWK, for publication; undefined when this log writes no checkpoints. */
  get checkpointJwk() {
    return this.#checkpointKey?.publicJwk;
  }

  /**
   * Appends one line inside the transaction the caller holds: for the unit of work (src/unit-of-work.ts) only, which
   * holds it; with no transaction open this is a programming error (TypeError), never a transaction of its own.
   * Throws AUDIT_WRITE_FAILED when the entry is malformed or the write fails, and tells the operator log.
   */
  appendInTransaction(entry: AuditEntry): AuditLine {
    if (!this.#s.inTransaction) throw new TypeError('AuditLog.appendInTransaction: no transaction open (use the unit of work)');
    const problem = auditEntryProblem(entry);
    if (problem !== null) {
      this.#failed({ stage: 'append', error: 'ENTRY_INVALID' });
      throw new DoelpoortError('AUDIT_WRITE_FAILED', `audit entry invalid at ${problem || '?'}`);
    }
    try {
      return this.#write(entry);
    } catch (error) {
      this.#failed(failureOf('append', error));
      throw new DoelpoortError('AUDIT_WRITE_FAILED', 'the audit line could not be written', [], { cause: error });
    }
  }

  /** Tells the operator log of a failed audit write the unit of work saw (a commit, a work without a line). */
  reportWriteFailure(failure: AuditWriteFailure): void {
    this.#failed(failure);
  }

  /** After the unit of work committed: copies a checkpoint written in it to the witness. */
  afterCommit(): void {
    this.#catchUpWitness();
  }

  /** Writes a checkpoint of the current head unless the latest one already covers it; returns the latest. */
  checkpoint(): Checkpoint | undefined {
    if (!this.#checkpointKey) throw new TypeError('AuditLog.checkpoint: no checkpoint key');
    try {
      this.#checkpointTx.immediate();
      this.#witnessBehind = true; // also the ones written in transactions this log did not commit itself
      this.#catchUpWitness();
    } catch (error) {
      this.#failed(failureOf('checkpoint', error));
      throw new DoelpoortError('AUDIT_WRITE_FAILED', 'the checkpoint could not be written', [], { cause: error });
    }
    return this.latestCheckpoint();
  }

  /** The newest stored checkpoint, if any. */
  latestCheckpoint(): Checkpoint | undefined {
    const row = this.#latestCheckpoint.get();
    return row && { size: row.size, head: row.head.toString('hex'), at: row.at, signature: row.signature };
  }

  /** Lines matching `query`, newest first, a page at a time. */
  list(query: AuditQuery & AuditScope): AuditPage {
    return listAudit(this.db, query, this.#listStatements);
  }

  /** The oversight report's counts (src/audit/oversight-query.ts `countLines`). */
  countLines(periods: ReadonlyArray<Period>, scope: CountScope = {}): Promise<LineCount[][]> {
    return countLines(this.db, periods, scope);
  }

  /** The per-person report's figures (src/audit/oversight-query.ts `countPersons`). */
  countPersons(period: Period, scope: CountScope = {}): Promise<PersonCount[]> {
    return countPersons(this.db, period, scope);
  }

  /** A page of the impact replay (src/audit/query.ts `linesByAction`). */
  linesByAction(query: LinesByActionQuery): AuditLine[] {
    return linesByAction(this.db, query);
  }

  /** The Logboek export (src/audit/export.ts). */
  exportLogboek(sources: LogboekSources, range: LogboekRange = {}): Promise<LogboekRecord[]> {
    return exportLogboekRecords(this.db, sources, range);
  }

  /**
   * Recomputes the whole chain and checks the stored, any external and the newest witnessed checkpoint under this
   * log's key; the result says whether a witness was configured and which checkpoint of it was compared.
   */
  verify(options: VerifyOptions = {}): VerifyResult {
    return verifyAudit(this.db, this.#verifyOptions(options));
  }

  /**
   * `verify` with the chain split across threads (one per core: this one, which blocks for one range at a time, and
   * workers) when the log is in a file and long enough to pay for them (src/audit/verify-parallel.ts); otherwise
   * `verifyAsync`. The same verdict. For the CLI; a server uses `verifyAsync`.
   */
  verifyParallel(options: VerifyOptions & { workers?: number; parallelFrom?: number } = {}): Promise<VerifyResult> {
    const file = this.#s.name;
    if (this.#s.memory || file === '') return this.verifyAsync(options);
    return verifyAuditParallel(file, this.#verifyOptions(options));
  }

  /** `verify` in slices that yield to the event loop between them: for a running server. */
  verifyAsync(options: VerifyOptions & { slice?: number } = {}): Promise<VerifyResult> {
    return verifyAuditAsync(this.db, this.#verifyOptions(options));
  }

  #verifyOptions<O extends VerifyOptions>(options: O): O {
    return { publicKey: this.#checkpointKey?.publicKey, witness: this.#newestWitnessed(), ...options };
  }

  /** The newest witnessed checkpoint; an unreadable witness is logged and reported as holding none. */
  #newestWitnessed(): string | null | undefined {
    if (!this.#witness) return undefined;
    try {
      return this.#witness.newest();
    } catch (error) {
      this.#failed(failureOf('witness', error));
      return null;
    }
  }

  /**
   * Copies the newest committed checkpoint to the witness, after the commit (a checkpoint of a transaction that
   * rolled back must never be witnessed). The line is durable either way, so a failure here fails no request; it
   * is logged for the operator, and the next checkpoint tries again.
   */
  #catchUpWitness(): void {
    if (!this.#witness || !this.#witnessBehind || this.#s.inTransaction) return;
    this.#witnessBehind = false;
    const latest = this.latestCheckpoint();
    if (!latest || latest.size <= this.#witnessedSize) return;
    try {
      this.#witness.write(latest);
      this.#witnessedSize = latest.size;
    } catch (error) {
      this.#failed(failureOf('witness', error));
    }
  }

  /** One operator log line per failed write. */
  #failed(failure: AuditWriteFailure): void {
    this.#onWriteFailure(failure);
  }

  #write(entry: AuditEntry): AuditLine {
    const head = this.#head.get();
    const seq = (head?.seq ?? 0) + 1;
    const at = this.#clock.now();
    // A line earlier than the line before it (a clock set back) may fall in a period whose counts were kept as
    // closed (src/audit/oversight-query.ts): those counts go, in this transaction.
    if (head && at < head.at) this.#dropKeptCounts(at);
    // Format 2 (src/audit/chain.ts): the leaf covers exactly the values stored, in LINE_COLUMNS order.
    const values = lineValues(seq, at, entry);
    const leaf = leafHashV2(values);
    const chain = chainHash(head?.chainHash ?? GENESIS, leaf);
    this.#insert.run(...values, leaf, chain, LINE_FORMAT);
    if (this.#checkpointKey) {
      const last = this.#lastCheckpoint.get();
      if (seq % this.#checkpointEvery === 0 || !last || at - last.at >= this.#checkpointMs) this.#writeCheckpoint(seq, chain, at);
    }
    return { seq, at, action: entry.action, outcome: entry.outcome, entry, chainHash: chain.toString('hex') };
  }

  #dropKeptCounts(at: number): void {
    this.#s.prepare('DELETE FROM audit_period_counts WHERE "to" > ?').run(at);
  }

  #writeCheckpoint(size: number, head: Buffer, at: number): void {
    const signature = signCheckpoint(this.#checkpointKey!, { size, head: head.toString('hex'), at });
    this.#insertCheckpoint.run(size, head, at, signature);
    this.#witnessBehind = true;
  }
}
