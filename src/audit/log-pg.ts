/**
 * INVARIANT: one chain across every instance on one PostgreSQL database. Lines are appended only by `writeLines`,
 * inside the caller's transaction, after all of that transaction's other work: it takes the transaction-level
 * advisory lock AUDIT_APPEND_LOCK (held to COMMIT or ROLLBACK, so appends of all instances are serialised in the
 * database), then reads the head in a statement of its own (READ COMMITTED: that statement's snapshot is taken after
 * the lock was granted, so it sees every line committed before), numbers the lines head + 1, head + 2, … (never a
 * database sequence, which leaves gaps and commits out of order), hashes them with src/audit/chain.ts and inserts
 * them. The primary key on `seq`, the unique chain hash and the linkage trigger (schema/pg-migrations 0001, 0006) refuse a
 * line that does not extend the head, whatever a writer does wrong. Checkpoints are signed under the same lock, so
 * one instance signs at a time. Lines hold field *names*, never values (schema/audit.ts).
 */
import type pg from 'pg';
import type { Clock } from '../clock.js';
import { DoelpoortError } from '../errors.js';
import type { Queryable } from '../postgres.js';
import { chainHash, GENESIS, LINE_COLUMNS, LINE_FORMAT, leafHashV2, lineValues } from './chain.js';
import { signCheckpoint, type Checkpoint } from './checkpoint.js';
import { auditEntryProblem, type AuditEntry, type AuditLine } from './entry.js';
import type { LogboekRecord, LogboekSources } from './export.js';
import { exportLogboekPg } from './export-pg.js';
import { checkpointCadence, logAuditWriteFailure, type AuditLogOptions, type AuditWriteFailure } from './log.js';
import { timeClass } from './office-hours.js';
import type { LineCount, PersonCount } from './oversight-query.js';
import { countLinesPg, countPersonsPg } from './oversight-query-pg.js';
import { linesByActionPg } from './query-pg.js';
import type { AuditReader, CountScope, LinesByActionQuery, LogboekRange, Period } from './reader.js';
import { verifyAuditPg } from './verify-pg.js';
import type { VerifyOptions, VerifyResult } from './verify.js';
import type { CheckpointWitness } from './witness.js';
import { Pseudonyms } from './pseudonyms.js';

/** The advisory lock key of appending to the chain ("doau"); transaction-level, so it ends with the transaction. */
export const AUDIT_APPEND_LOCK = 0x646f_6175;

/**
 * A line checked and waiting to be written at the end of its transaction. `line` is what `tx.audit.append` answered:
 * its position, time and chain hash exist only once the line is written under the lock, so reading them before then
 * is a programming error (TypeError); the unit of work releases a work's value only after COMMIT, when they are set.
 */
export interface PendingLine {
  entry: AuditEntry;
  line: AuditLine;
  /** Sets the written line's position, time and chain hash. */
  settle(seq: number, at: number, chainHash: string): void;
}

/** The failure as the operator log states it: PostgreSQL's SQLSTATE or the error's kind, never its message. */
export function pgFailureOf(stage: AuditWriteFailure['stage'], error: unknown, requests?: number): AuditWriteFailure {
  const code = (error as { code?: unknown } | null)?.code;
  const sqlState = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  const errno = typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
  return {
    stage,
    ...(sqlState ? { sqlState } : { error: errno ?? (error instanceof Error ? error.name : typeof error) }),
    ...(requests === undefined ? {} : { requests }),
  };
}

function pendingLine(entry: AuditEntry): PendingLine {
  const notYet = (name: string) => () => {
    throw new TypeError(`audit line: ${name} is known only once the unit of work has written the line`);
  };
  const line = { action: entry.action, outcome: entry.outcome, entry } as AuditLine;
  for (const name of ['seq', 'at', 'chainHash'] as const) {
    Object.defineProperty(line, name, { get: notYet(name), enumerable: true, configurable: true });
  }
  return {
    entry,
    line,
    settle(seq, at, chain) {
      Object.defineProperties(line, {
        seq: { value: seq, enumerable: true, writable: false, configurable: false },
        at: { value: at, enumerable: true, writable: false, configurable: false },
        chainHash: { value: chain, enumerable: true, writable: false, configurable: false },
      });
    },
  };
}

/** The PostgreSQL type of each column a line is inserted with: LINE_COLUMNS, then leaf_hash, chain_hash, format. */
const INSERT_TYPES = ['bigint', 'bigint', ...Array<string>(9).fill('text'), 'integer', 'integer', 'integer', 'text', 'bytea', 'bytea', 'integer'];
const INSERT_LINES = `INSERT INTO audit_log (${LINE_COLUMNS.join(', ')}, leaf_hash, chain_hash, format)
  SELECT * FROM unnest(${INSERT_TYPES.map((type, i) => `$${i + 1}::${type}[]`).join(', ')})`;
const CHAIN = 16;

const HEAD = `SELECT h.seq, h.at, h.chain_hash, c.at AS checkpoint_at FROM (SELECT 1) AS one
  LEFT JOIN LATERAL (SELECT seq, at, chain_hash FROM audit_log ORDER BY seq DESC LIMIT 1) AS h ON true
  LEFT JOIN LATERAL (SELECT at FROM audit_checkpoints ORDER BY size DESC LIMIT 1) AS c ON true`;

/** The audit trail on PostgreSQL: the chain, its checkpoints and verification. See the INVARIANT above. */
export class PgAuditLog implements AuditReader {
  readonly #pool: pg.Pool;
  readonly #clock: Clock;
  readonly #pseudonyms: Pseudonyms;
  readonly #checkpointKey: AuditLogOptions['checkpointKey'];
  readonly #checkpointEvery: number;
  readonly #checkpointMs: number;
  readonly #onWriteFailure: (failure: AuditWriteFailure) => void;
  readonly #witness: CheckpointWitness | undefined;
  #witnessBehind = false;
  #witnessedSize = 0;

  constructor(pool: pg.Pool, options: AuditLogOptions) {
    const { every, minutes } = checkpointCadence('PgAuditLog', options);
    this.#pool = pool;
    this.#clock = options.clock;
    this.#pseudonyms = new Pseudonyms(options.pseudonymKey);
    this.#checkpointKey = options.checkpointKey;
    this.#checkpointEvery = every;
    this.#checkpointMs = minutes * 60_000;
    this.#onWriteFailure = options.onWriteFailure ?? logAuditWriteFailure;
    this.#witness = options.witness;
  }

  /** The keyed pseudonym of a BSN (HMAC-SHA256, hex), the same as the SQLite log's for the same key. */
  pseudonym(bsn: string): string {
    return this.#pseudonyms.of(bsn);
  }

  /** The public checkpoint key as a JWK, for publication; undefined when this log writes no checkpoints. */
  get checkpointJwk() {
    return this.#checkpointKey?.publicJwk;
  }

  /**
   * Checks `entry` at once (the entry guard of src/audit/entry.ts) and returns it as a line to write at the end of
   * the transaction. Throws AUDIT_WRITE_FAILED, and tells the operator log, when it is malformed.
   */
  prepare(given: AuditEntry): PendingLine {
    // A copy, checked and later written as it is now: the caller's object may change before the batch ends.
    let entry: AuditEntry;
    try {
      entry = structuredClone(given);
    } catch {
      this.#onWriteFailure({ stage: 'append', error: 'ENTRY_INVALID' });
      throw new DoelpoortError('AUDIT_WRITE_FAILED', 'audit entry invalid');
    }
    const problem = auditEntryProblem(entry);
    if (problem !== null) {
      this.#onWriteFailure({ stage: 'append', error: 'ENTRY_INVALID' });
      throw new DoelpoortError('AUDIT_WRITE_FAILED', `audit entry invalid at ${problem || '?'}`);
    }
    return pendingLine(entry);
  }

  /**
   * Writes `lines` in the transaction open on `client`, as the last work of that transaction (see the INVARIANT);
   * settles each line. Throws AUDIT_WRITE_FAILED when they cannot be written: then the transaction must roll back.
   */
  async writeLines(client: Queryable, lines: readonly PendingLine[]): Promise<void> {
    if (lines.length === 0) return;
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_APPEND_LOCK]);
      const head = (await client.query<{ seq: number | null; at: number | null; chain_hash: Buffer | null; checkpoint_at: number | null }>(HEAD)).rows[0];
      // Number(): exact below 2^53, and whatever INT8 parser the pool was given (src/postgres.ts sets one).
      const first = Number(head?.seq ?? 0) + 1;
      let previous = head?.chain_hash ?? GENESIS;
      let seq = first - 1;
      let lastCheckpointAt = head?.checkpoint_at == null ? null : Number(head.checkpoint_at);
      const at = this.#clock.now();
      // Lines earlier than the line before them (a clock set back) may fall in periods whose counts were kept as
      // closed (audit_period_counts, src/audit/oversight-query.ts): those counts go, in this transaction.
      if (head?.at != null && at < Number(head.at)) await client.query('DELETE FROM audit_period_counts WHERE "to" > $1', [at]);
      const tc = timeClass(at);
      const cols: unknown[][] = INSERT_TYPES.map(() => []);
      const checkpoints: { size: number; head: Buffer; at: number }[] = [];
      for (const { entry: e } of lines) {
        seq++;
        // Format 2 (src/audit/chain.ts), as the SQLite log writes it: the leaf covers exactly the values stored.
        const values = lineValues(seq, at, e, tc);
        const leaf = leafHashV2(values);
        // A fresh Buffer: chainHash answers a new one per call, safe to keep.
        const chain = chainHash(previous, leaf);
        const row = [...values, leaf, chain, LINE_FORMAT];
        for (let i = 0; i < row.length; i++) cols[i]!.push(row[i]);
        if (this.#checkpointKey && (seq % this.#checkpointEvery === 0 || lastCheckpointAt === null || at - lastCheckpointAt >= this.#checkpointMs)) {
          checkpoints.push({ size: seq, head: chain, at });
          lastCheckpointAt = at;
        }
        previous = chain;
      }
      await client.query(INSERT_LINES, cols);
      for (const c of checkpoints) await this.#insertCheckpoint(client, c);
      for (let i = 0; i < lines.length; i++) lines[i]!.settle(first + i, at, (cols[CHAIN]![i] as Buffer).toString('hex'));
    } catch (error) {
      this.#onWriteFailure(pgFailureOf('append', error));
      throw new DoelpoortError('AUDIT_WRITE_FAILED', 'the audit lines could not be written', [], { cause: error });
    }
  }

  async #insertCheckpoint(client: Queryable, c: { size: number; head: Buffer; at: number }): Promise<void> {
    const signature = signCheckpoint(this.#checkpointKey!, { size: c.size, head: c.head.toString('hex'), at: c.at });
    await client.query('INSERT INTO audit_checkpoints (size, head, at, signature) VALUES ($1, $2, $3, $4)', [c.size, c.head, c.at, signature]);
    this.#witnessBehind = true;
  }

  /** Tells the operator log of a failed audit write the unit of work saw (a commit, a work without a line). */
  reportWriteFailure(failure: AuditWriteFailure): void {
    this.#onWriteFailure(failure);
  }

  /**
   * After a transaction that wrote lines committed: copies a checkpoint written in it to the witness. The lines are
   * durable either way, so a failure here fails no request; it is logged, and the next checkpoint tries again.
   */
  async afterCommit(): Promise<void> {
    if (!this.#witness || !this.#witnessBehind) return;
    this.#witnessBehind = false;
    try {
      const latest = await this.latestCheckpoint();
      if (!latest || latest.size <= this.#witnessedSize) return;
      this.#witness.write(latest);
      this.#witnessedSize = latest.size;
    } catch (error) {
      this.#onWriteFailure(pgFailureOf('witness', error));
    }
  }

  /** Writes a checkpoint of the current head unless the latest one already covers it (under the append lock); returns the latest. */
  async checkpoint(): Promise<Checkpoint | undefined> {
    if (!this.#checkpointKey) throw new TypeError('PgAuditLog.checkpoint: no checkpoint key');
    const client = await this.#pool.connect();
    const ignore = () => {}; // a dropped connection fails the statement in flight; unheard, its 'error' would end the process
    client.on('error', ignore);
    let broken: unknown;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_APPEND_LOCK]);
      const head = (await client.query<{ seq: number | null; chain_hash: Buffer | null }>(HEAD)).rows[0];
      const last = (await client.query<{ size: number }>('SELECT size FROM audit_checkpoints ORDER BY size DESC LIMIT 1')).rows[0];
      if (head?.seq && head.chain_hash && (!last || Number(last.size) < Number(head.seq))) {
        await this.#insertCheckpoint(client, { size: Number(head.seq), head: head.chain_hash, at: this.#clock.now() });
      }
      await client.query('COMMIT');
    } catch (error) {
      broken = error;
      await client.query('ROLLBACK').catch(() => {});
      this.#onWriteFailure(pgFailureOf('checkpoint', error));
      throw new DoelpoortError('AUDIT_WRITE_FAILED', 'the checkpoint could not be written', [], { cause: error });
    } finally {
      client.off('error', ignore);
      client.release(broken instanceof Error ? broken : undefined);
    }
    this.#witnessBehind = true; // also the ones other instances wrote
    await this.afterCommit();
    return this.latestCheckpoint();
  }

  /** The newest stored checkpoint, if any. */
  async latestCheckpoint(): Promise<Checkpoint | undefined> {
    const row = (
      await this.#pool.query<{ size: number; head: Buffer; at: number; signature: string }>(
        'SELECT size, head, at, signature FROM audit_checkpoints ORDER BY size DESC LIMIT 1',
      )
    ).rows[0];
    return row && { size: Number(row.size), head: row.head.toString('hex'), at: Number(row.at), signature: row.signature };
  }

  /** The oversight report's counts, with closed periods' kept (src/audit/oversight-query-pg.ts). */
  countLines(periods: ReadonlyArray<Period>, scope: CountScope = {}): Promise<LineCount[][]> {
    return countLinesPg(this.#pool, periods, scope);
  }

  /** The per-person report's figures (src/audit/oversight-query-pg.ts). */
  countPersons(period: Period, scope: CountScope = {}): Promise<PersonCount[]> {
    return countPersonsPg(this.#pool, period, scope);
  }

  /** A page of the impact replay (src/audit/query-pg.ts). */
  linesByAction(query: LinesByActionQuery): Promise<AuditLine[]> {
    return linesByActionPg(this.#pool, query);
  }

  /** The Logboek export (src/audit/export-pg.ts). */
  exportLogboek(sources: LogboekSources, range: LogboekRange = {}): Promise<LogboekRecord[]> {
    return exportLogboekPg(this.#pool, sources, range);
  }

  /** `verify`: it reads in pages and awaits each, so it never blocks the event loop for long. */
  verifyAsync(options: VerifyOptions = {}): Promise<VerifyResult> {
    return this.verify(options);
  }

  /** Recomputes the whole chain, as the SQLite log's `verify` does, with the same verdicts. */
  verify(options: VerifyOptions = {}): Promise<VerifyResult> {
    let witness: string | null | undefined;
    if (this.#witness) {
      try {
        witness = this.#witness.newest();
      } catch (error) {
        this.#onWriteFailure(pgFailureOf('witness', error));
        witness = null;
      }
    }
    return verifyAuditPg(this.#pool, { publicKey: this.#checkpointKey?.publicKey, witness, ...options });
  }
}
