import type Database from 'better-sqlite3';
import { DAY_MS } from '../clock.js';
import { isBsnLookup } from './bsn-lookup.js';
import { chainHash, GENESIS, LINE_COLUMNS, LINE_FORMAT, leafHash, leafHashV2, type LineValues } from './chain.js';
import type { AuditEntry } from './entry.js';
import { timeClass } from './office-hours.js';

/**
 * The verification of one seq range of the chain: what a worker thread of verifyAuditParallel loads, so it imports
 * nothing but the hashing and the rules of the line formats (src/audit/chain.ts).
 */

/** Why a line (or the checkpoint at that size) does not verify. */
export type VerifyFailureReason =
  /** A line is missing: seq jumps (a deleted line), or is out of order. */
  | 'SEQ_GAP'
  /** The stored content does not hash to the stored leaf hash (a changed line). */
  | 'LEAF_MISMATCH'
  /** The chain hash does not follow from the line before (a changed, inserted or reordered line). */
  | 'CHAIN_MISMATCH'
  /** seq, time or a query column disagrees with the hashed content, or the content is not readable. */
  | 'CONTENT_MISMATCH'
  /** A pruned line still has a query column set. */
  | 'PRUNED_NOT_BLANK'
  /** A line's content is blanked but no earlier `audit.pruned` line covers it (or it is a prune line itself). */
  | 'BLANKED_NOT_PRUNED'
  /** A checkpoint whose signature does not verify under the checkpoint key, or that does not match its row. */
  | 'CHECKPOINT_INVALID'
  /** The chain at a checkpoint's size does not have the checkpoint's head. */
  | 'CHECKPOINT_MISMATCH'
  /** A checkpoint covers more lines than the log holds: the log was truncated. */
  | 'CHECKPOINT_BEYOND_END';

/** Whether a witness directory was compared with, and the checkpoint of it that was. */
export type WitnessReport = { configured: false } | { configured: true; checkpoint: { size: number; head: string; at: number } | null };

/**
 * A row as verification reads it, in either database: the hashed columns, then the format, the stored leaf of a
 * pruned line, the chain hash (VERIFY_COLUMNS, in this order). Integers as numbers.
 */
export type VerifyRow = [...LineValues, format: number | null, prunedLeaf: Buffer | null, chain: Buffer];
/** The columns of a VerifyRow, for a SELECT on audit_log in either database. */
export const VERIFY_COLUMNS = `${LINE_COLUMNS.join(', ')}, format, CASE WHEN entry IS NULL THEN leaf_hash END AS pruned_leaf, chain_hash`;
/** The prune lines, as pruneCoversFrom reads them. */
export const PRUNE_LINES = `SELECT seq, at, entry FROM audit_log WHERE action = 'audit.pruned' AND entry IS NOT NULL ORDER BY seq`;
const FORMAT = 15;
const PRUNED_LEAF = 16;
const CHAIN = 17;
/** The positions of LineValues that pruning blanks (all but seq, at, action, outcome: the query columns and entry). */
const BLANKED_FROM = 4;
const BLANKED_TO = 13;

/** One checkpoint's claim on the chain at its size; `valid` is false when its signature or row does not hold. */
export interface Expectation {
  size: number;
  head: string;
  valid: boolean;
}

/** What an `audit.pruned` line allows: blanking the lines in fromSeq..toSeq (before it) older than `before`. */
export interface PruneCover {
  seq: number;
  fromSeq: number;
  toSeq: number;
  before: number;
}

/**
 * What the chain must agree with, read once before any line is: the checkpoints by size (signatures checked here),
 * and the ranges the prune lines allow to be blank. A prune line's own content is checked when its turn comes.
 */
export interface Expectations {
  checkpoints: Map<number, Expectation[]>;
  prunes: PruneCover[];
  witness: WitnessReport;
}

/**
 * The ranges the stored prune lines allow to be blank: only a line whose `before` lies at least its `retentionDays`
 * before its own time covers anything (the same rule as the prune trigger of migration 0002).
 */
export function loadPruneCovers(s: Database.Database): PruneCover[] {
  return pruneCoversFrom(s.prepare<[], { seq: number; at: number; entry: string }>(PRUNE_LINES).all());
}

/** The ranges prune lines (PRUNE_LINES, in seq order, integers as numbers) allow to be blank: any database's. */
export function pruneCoversFrom(rows: ReadonlyArray<{ seq: number; at: number; entry: string }>): PruneCover[] {
  const covers: PruneCover[] = [];
  for (const row of rows) {
    let e: Record<string, unknown> | undefined;
    try {
      e = (JSON.parse(row.entry) as { entry?: Record<string, unknown> }).entry;
    } catch {
      continue; // an unreadable line covers nothing; the chain check names it in its turn
    }
    const { fromSeq, toSeq, before, retentionDays } = e ?? {};
    if (!Number.isSafeInteger(fromSeq) || !Number.isSafeInteger(toSeq) || !Number.isSafeInteger(before) || !Number.isSafeInteger(retentionDays)) continue;
    if ((before as number) > row.at - (retentionDays as number) * DAY_MS) continue;
    covers.push({ seq: row.seq, fromSeq: fromSeq as number, toSeq: toSeq as number, before: before as number });
  }
  return covers;
}

/** Whether a blanked line (seq, time, action) is one that a prune line allowed to blank. */
function pruneCovers(prunes: readonly PruneCover[], seq: number, at: number, action: string): boolean {
  if (action === 'audit.pruned') return false;
  for (const p of prunes) if (p.seq > seq && p.fromSeq <= seq && seq <= p.toSeq && at < p.before) return true;
  return false;
}

/**
 * The checkpoints expected at a chain size, compared with the head computed there (either database's verify):
 * `checkAt` names the first failure, `matched` counts the checkpoints that agreed so far.
 */
export function checkpointCheck(expectations: Expectations): { checkAt(size: number, head: Buffer): VerifyFailureReason | null; matched(): number } {
  let checkpoints = 0;
  return {
    checkAt(size, head) {
      const list = expectations.checkpoints.get(size);
      if (!list) return null;
      const hex = head.toString('hex');
      for (const e of list) {
        if (!e.valid) return 'CHECKPOINT_INVALID';
        if (e.head !== hex) return 'CHECKPOINT_MISMATCH';
        checkpoints++;
      }
      return null;
    },
    matched: () => checkpoints,
  };
}

/** What one seq range says: its last chain hash and the checkpoints it matched, or its first bad line. */
export type RangeResult = { ok: true; last: number; head: string; checkpoints: number } | { ok: false; seq: number; reason: VerifyFailureReason };

/**
 * Verifies lines lo..hi (inclusive) against the stored chain hash of line lo − 1. Every link depends only on the
 * stored hash before it, so ranges verify independently, and all ranges verifying means the whole chain does.
 */
export function verifyRange(s: Database.Database, expectations: Expectations, lo: number, hi = Number.MAX_SAFE_INTEGER): RangeResult {
  const { checkAt, matched } = checkpointCheck(expectations);
  let previous = GENESIS;
  if (lo === 1) {
    const zero = checkAt(0, GENESIS);
    if (zero) return { ok: false, seq: 0, reason: zero };
  } else {
    const stored = s
      .prepare<[number], Buffer>('SELECT chain_hash FROM audit_log WHERE seq = ?')
      .pluck()
      .get(lo - 1);
    if (!stored) return { ok: false, seq: lo - 1, reason: 'SEQ_GAP' };
    previous = stored;
  }
  // Every column as it is stored, in one raw row: a format-2 leaf is recomputed from these values alone, and a
  // format-1 line's columns are compared with its parsed content.
  const rows = s
    .prepare<[number, number]>(`SELECT ${VERIFY_COLUMNS} FROM audit_log WHERE seq >= ? AND seq <= ? ORDER BY seq`)
    .raw()
    .iterate(lo, hi) as IterableIterator<VerifyRow>;
  const storedLeafOf = s.prepare<[number], Buffer>('SELECT leaf_hash FROM audit_log WHERE seq = ?').pluck();
  const stop = (seq: number, reason: VerifyFailureReason): RangeResult => {
    rows.return?.();
    return { ok: false, seq, reason };
  };
  let prunes = expectations.prunes;
  let expected = lo;
  for (const row of rows) {
    const seq = row[0];
    if (seq !== expected) return stop(expected, 'SEQ_GAP');
    const leaf = rowLeaf(row);
    if (leaf === null) return stop(seq, 'CONTENT_MISMATCH');
    const chain = chainHash(previous, leaf);
    if (!chain.equals(row[CHAIN])) {
      // Name the cause: a line that no longer matches its own leaf hash, or a broken link.
      return stop(seq, storedLeafOf.get(seq)!.equals(leaf) ? 'CHAIN_MISMATCH' : 'LEAF_MISMATCH');
    }
    let problem = rowProblem(row, prunes);
    if (problem === 'BLANKED_NOT_PRUNED') {
      // A prune may have committed since the covers were read: read them again before calling the line bad.
      prunes = loadPruneCovers(s);
      problem = rowProblem(row, prunes);
    }
    if (problem) return stop(seq, problem);
    const checkpoint = checkAt(seq, chain);
    if (checkpoint) return stop(seq, checkpoint);
    previous = chain;
    expected++;
  }
  if (hi !== Number.MAX_SAFE_INTEGER && expected <= hi) return { ok: false, seq: expected, reason: 'SEQ_GAP' };
  return { ok: true, last: expected - 1, head: previous.toString('hex'), checkpoints: matched() };
}

/**
 * The leaf hash a row's line must have: recomputed by its format from what is stored (format 2 from the columns,
 * format 1 from the content), the stored one of a pruned line; null when the row is no line of a known format.
 */
export function rowLeaf(row: VerifyRow): Buffer | null {
  const content = row[14];
  const format = row[FORMAT];
  if (format !== null && format !== LINE_FORMAT) return null;
  if (content === null) return row[PRUNED_LEAF];
  if (format === LINE_FORMAT) return typesHold(row) ? leafHashV2(row) : null;
  return leafHash(content);
}

/**
 * Once a row's chain hash held: what is wrong with its columns, or null. A pruned line must be blank and covered by
 * one of `prunes`; a format-1 line's query columns must say what its content says (its leaf covers the content only).
 */
export function rowProblem(row: VerifyRow, prunes: readonly PruneCover[]): 'PRUNED_NOT_BLANK' | 'BLANKED_NOT_PRUNED' | 'CONTENT_MISMATCH' | null {
  const seq = row[0];
  const content = row[14];
  if (content === null) {
    for (let i = BLANKED_FROM; i <= BLANKED_TO; i++) if (row[i] !== null) return 'PRUNED_NOT_BLANK';
    return pruneCovers(prunes, seq, row[1], row[2]) ? null : 'BLANKED_NOT_PRUNED';
  }
  if (row[FORMAT] === null) {
    const fromContent = columnsFromContent(content, seq);
    if (fromContent === null) return 'CONTENT_MISMATCH';
    for (let i = 1; i < 14; i++) if (fromContent[i] !== row[i]) return 'CONTENT_MISMATCH';
  }
  return null;
}

/**
 * Whether a format-2 row holds a value of its column's type in every column (text, or an integer; NULL where
 * allowed): its encoding does not tell an integer from its decimal text, nor text from a blob of the same bytes.
 */
function typesHold(row: VerifyRow): boolean {
  if (typeof row[1] !== 'number' || typeof row[2] !== 'string' || typeof row[3] !== 'string' || typeof row[14] !== 'string') return false;
  for (let i = 4; i < 11; i++) if (row[i] !== null && typeof row[i] !== 'string') return false;
  for (let i = 11; i < 14; i++) if (row[i] !== null && typeof row[i] !== 'number') return false;
  return true;
}

/** A format-1 line's column values (LineValues positions 1–13) as its hashed content states them, or null when unreadable or misplaced. */
function columnsFromContent(content: string, seq: number): Array<string | number | null> | null {
  let line: { seq?: unknown; at?: unknown; entry?: Record<string, unknown> & { actor?: { iss?: unknown; sub?: unknown; org?: unknown; role?: unknown } } };
  try {
    line = JSON.parse(content) as typeof line;
  } catch {
    return null;
  }
  const e = line.entry;
  if (line.seq !== seq || typeof line.at !== 'number' || e === undefined || e === null || typeof e !== 'object') return null;
  return [
    seq,
    line.at,
    e.action as string,
    e.outcome as string,
    (e.actor?.iss ?? null) as string | null,
    (e.actor?.sub ?? null) as string | null,
    (e.actor?.role ?? null) as string | null,
    (e.actor?.org ?? null) as string | null,
    (e.clientRef ?? null) as string | null,
    (e.purpose ?? null) as string | null,
    (e.decisionId ?? null) as string | null,
    isBsnLookup(e as unknown as AuditEntry) ? 1 : null,
    e.noodtoegang === true ? 1 : null,
    timeClass(line.at),
  ];
}

/** For the threads of verifyAuditParallel, which share `control`: [next range, first failed range]. The next range to verify, or undefined when none is left or every one left lies after a failed one. */
export function takeRange(control: Int32Array, count: number): number | undefined {
  const i = Atomics.add(control, 0, 1);
  return i >= count || i > Atomics.load(control, 1) ? undefined : i;
}

/** Records that range `i` failed: the ranges after it are not taken any more (those before it still decide the first bad line). */
export function failRange(control: Int32Array, i: number): void {
  for (let seen = Atomics.load(control, 1); i < seen; seen = Atomics.load(control, 1)) {
    if (Atomics.compareExchange(control, 1, seen, i) === seen) return;
  }
}
