import type { KeyObject } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Db } from '../db.js';
import { GENESIS } from './chain.js';
import { openCheckpoint, peekCheckpoint } from './checkpoint.js';
import {
  loadPruneCovers,
  verifyRange,
  type Expectation,
  type Expectations,
  type PruneCover,
  type RangeResult,
  type VerifyFailureReason,
  type WitnessReport,
} from './verify-range.js';

export type { Expectations, RangeResult, VerifyFailureReason, WitnessReport } from './verify-range.js';

/** The outcome of a verification: a value, never an exception. */
export type VerifyResult = (
  | { ok: true; records: number; head: string; checkpoints: number }
  | { ok: false; records: number; firstBad: { seq: number; reason: VerifyFailureReason } }
) & { witness: WitnessReport };

/** What to check besides the chain itself. */
export interface VerifyOptions {
  /** The checkpoint public key; without it, stored checkpoints are compared by head only, their signatures unchecked. */
  publicKey?: KeyObject | undefined;
  /** Checkpoints kept outside the server (compact JWS), checked like stored ones; signatures need `publicKey`. */
  external?: string[];
  /**
   * The newest checkpoint of the witness directory (compact JWS), checked like an external one: undefined when no
   * witness is configured, null when it holds none yet.
   */
  witness?: string | null | undefined;
}

/** A stored checkpoint as read. */
export interface CheckpointRow {
  size: number;
  head: Buffer;
  at: number;
  signature: string;
}

/** The stored and external checkpoints, and the stored prune lines, as expectations on the chain. */
export function loadExpectations(s: Database.Database, options: VerifyOptions): Expectations {
  const rows = s.prepare<[], CheckpointRow>('SELECT size, head, at, signature FROM audit_checkpoints ORDER BY size').all();
  return expectationsFrom(rows, loadPruneCovers(s), options);
}

/** The expectations of stored checkpoint rows (in size order), prune covers and the options: any database's. */
export function expectationsFrom(rows: readonly CheckpointRow[], prunes: PruneCover[], options: VerifyOptions): Expectations {
  const checkpoints = new Map<number, Expectation[]>();
  const expect = (jws: string, row?: { size: number; head: Buffer; at: number }) => {
    const claim = options.publicKey ? openCheckpoint(jws, options.publicKey) : peekCheckpoint(jws);
    const matchesRow = !row || (claim !== null && claim.size === row.size && claim.at === row.at && claim.head === row.head.toString('hex'));
    // An unverifiable checkpoint is reported at the size it claims, for lack of a better place.
    const size = claim?.size ?? row?.size ?? peekCheckpoint(jws)?.size ?? 0;
    const list = checkpoints.get(size) ?? [];
    list.push({ size, head: claim?.head ?? '', valid: claim !== null && matchesRow });
    checkpoints.set(size, list);
  };
  for (const row of rows) expect(row.signature, row);
  for (const jws of options.external ?? []) expect(jws);
  let witness: WitnessReport = { configured: false };
  if (options.witness !== undefined) {
    if (options.witness !== null) expect(options.witness);
    const claim = options.witness === null ? null : peekCheckpoint(options.witness);
    witness = { configured: true, checkpoint: claim && { size: claim.size, head: claim.head, at: claim.at } };
  }
  return { checkpoints, prunes, witness };
}

/** The verdict on the whole log from its ranges in seq order (the first failure wins) and the expectations. */
export function combine(results: RangeResult[], expectations: Expectations): VerifyResult {
  let checkpoints = 0;
  let last = 0;
  let head = GENESIS.toString('hex');
  for (const r of results) {
    if (!r.ok) return { ok: false, records: Math.max(0, r.seq - 1), firstBad: { seq: r.seq, reason: r.reason }, witness: expectations.witness };
    checkpoints += r.checkpoints;
    last = r.last;
    head = r.head;
  }
  const beyond = [...expectations.checkpoints.keys()].filter((size) => size > last).sort((a, b) => a - b)[0];
  if (beyond !== undefined) return { ok: false, records: last, firstBad: { seq: beyond, reason: 'CHECKPOINT_BEYOND_END' }, witness: expectations.witness };
  return { ok: true, records: last, head, checkpoints, witness: expectations.witness };
}

/**
 * Recomputes the whole chain from the rows in seq order: the leaf from the content where present (the stored leaf
 * hash of a pruned line), every chain hash, the absence of gaps, and that the query columns say what the hashed
 * content says; a blanked line must be covered by a later prune line. Every stored and external checkpoint must match the chain at its size. Returns the first bad line
 * in seq order. Streams the table with a raw iterator, so memory stays flat;
 * roughly a third of the time each goes to SQLite, to hashing and to checking the columns.
 */
export function verifyAudit(db: Db, options: VerifyOptions = {}): VerifyResult {
  const expectations = loadExpectations(db.$client, options);
  return combine([verifyRange(db.$client, expectations, 1)], expectations);
}

/**
 * verifyAudit in slices of `slice` lines with a turn of the event loop between them, so a server stays responsive
 * while it verifies a long log (the synchronous version blocks for seconds per million lines). The same verdict;
 * lines appended meanwhile are left for the next verification.
 */
export async function verifyAuditAsync(db: Db, options: VerifyOptions & { slice?: number } = {}): Promise<VerifyResult> {
  const s = db.$client;
  // Expectations first: every checkpoint they hold is then at or below the head read next.
  const expectations = loadExpectations(s, options);
  const end = s.prepare<[], number | null>('SELECT max(seq) FROM audit_log').pluck().get() ?? 0;
  const slice = options.slice ?? 20_000;
  const results: RangeResult[] = [];
  for (let lo = 1; lo <= Math.max(end, 1); lo += slice) {
    const result = verifyRange(s, expectations, lo, end === 0 ? 0 : Math.min(end, lo + slice - 1));
    results.push(result);
    if (!result.ok) break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return combine(results, expectations);
}
