import type { KeyObject } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Db } from '../db.js';
import { chainHash, GENESIS, leafHash } from './chain.js';
import { openCheckpoint, peekCheckpoint } from './checkpoint.js';
import { DAY_MS } from '../clock.js';
import { isBsnLookup, type AuditEntry } from './entry.js';
import { timeClass } from './office-hours.js';

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

type Raw = [seq: number, entry: string | null, leaf: Buffer | null, chain: Buffer, columns: string];
export type Columns = [
  at: number,
  action: string,
  outcome: string,
  sub: string | null,
  org: string | null,
  clientRef: string | null,
  purpose: string | null,
  decisionId: string | null,
  iss: string | null,
  role: string | null,
  bsnLookup: 1 | null,
  noodtoegang: 1 | null,
  timeClass: number | null,
];
/** Where the stored leaf hash sits in a `columnsOf` row: after the columns. */
const LEAF = 13;

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

/** A stored checkpoint as read. */
export interface CheckpointRow {
  size: number;
  head: Buffer;
  at: number;
  signature: string;
}

/** A stored `audit.pruned` line as read (content not blank). */
export interface PruneRow {
  seq: number;
  at: number;
  entry: string;
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

/**
 * The ranges the stored prune lines allow to be blank: only a line whose `before` lies at least its `retentionDays`
 * before its own time covers anything (the same rule as the prune trigger of migration 0002).
 */
function loadPruneCovers(s: Database.Database): PruneCover[] {
  return pruneCoversFrom(
    s.prepare<[], PruneRow>(`SELECT seq, at, entry FROM audit_log WHERE action = 'audit.pruned' AND entry IS NOT NULL ORDER BY seq`).all(),
  );
}

/** The covers of prune lines as read (in seq order), from any database. */
export function pruneCoversFrom(rows: readonly PruneRow[]): PruneCover[] {
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
export function pruneCovers(prunes: readonly PruneCover[], seq: number, at: number, action: string): boolean {
  if (action === 'audit.pruned') return false;
  for (const p of prunes) if (p.seq > seq && p.fromSeq <= seq && seq <= p.toSeq && at < p.before) return true;
  return false;
}

/** What one seq range says: its last chain hash and the checkpoints it matched, or its first bad line. */
export type RangeResult = { ok: true; last: number; head: string; checkpoints: number } | { ok: false; seq: number; reason: VerifyFailureReason };

/**
 * Verifies lines lo..hi (inclusive) against the stored chain hash of line lo − 1. Every link depends only on the
 * stored hash before it, so ranges verify independently, and all ranges verifying means the whole chain does.
 */
export function verifyRange(s: Database.Database, expectations: Expectations, lo: number, hi = Number.MAX_SAFE_INTEGER): RangeResult {
  let checkpoints = 0;
  const checkAt = (size: number, head: Buffer): VerifyFailureReason | null => {
    const list = expectations.checkpoints.get(size);
    if (!list) return null;
    const hex = head.toString('hex');
    for (const e of list) {
      if (!e.valid) return 'CHECKPOINT_INVALID';
      if (e.head !== hex) return 'CHECKPOINT_MISMATCH';
      checkpoints++;
    }
    return null;
  };
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
  // The query columns come as one JSON array (one value to cross into JS instead of thirteen; parsing the content and
  // comparing is about a third of the time), compared with the same array built from the hashed content. Equal
  // texts mean equal values; on a difference (maybe two spellings of one string) the columns are compared exactly.
  const rows = s
    .prepare<[number, number]>(
      `SELECT seq, entry, CASE WHEN entry IS NULL THEN leaf_hash END, chain_hash,
         json_array(at, action, outcome, actor_sub, actor_org, client_ref, purpose, decision_id, actor_iss, actor_role, bsn_lookup, noodtoegang, time_class)
       FROM audit_log WHERE seq >= ? AND seq <= ? ORDER BY seq`,
    )
    .raw()
    .iterate(lo, hi) as IterableIterator<Raw>;
  const columnsOf = s
    .prepare<[number]>(
      `SELECT at, action, outcome, actor_sub, actor_org, client_ref, purpose, decision_id, actor_iss, actor_role, bsn_lookup, noodtoegang, time_class,
         leaf_hash FROM audit_log WHERE seq = ?`,
    )
    .raw();
  const stop = (seq: number, reason: VerifyFailureReason): RangeResult => {
    rows.return?.();
    return { ok: false, seq, reason };
  };
  let prunes = expectations.prunes;
  let expected = lo;
  for (const [seq, content, prunedLeaf, storedChain, columnsJson] of rows) {
    if (seq !== expected) return stop(expected, 'SEQ_GAP');
    const leaf = content !== null ? leafHash(content) : prunedLeaf!;
    const chain = chainHash(previous, leaf);
    if (!chain.equals(storedChain)) {
      // Name the cause: a content that no longer matches its own leaf hash, or a broken link.
      const storedLeaf = (columnsOf.get(seq) as [...Columns, Buffer])[LEAF];
      return stop(seq, storedLeaf.equals(leaf) ? 'CHAIN_MISMATCH' : 'LEAF_MISMATCH');
    }
    if (content !== null) {
      const fromContent = columnsFromContent(content, seq);
      if (fromContent === null) return stop(seq, 'CONTENT_MISMATCH');
      if (JSON.stringify(fromContent) !== columnsJson) {
        const exact = columnsOf.get(seq) as [...Columns, Buffer];
        if (fromContent.some((v, i) => v !== exact[i])) return stop(seq, 'CONTENT_MISMATCH');
      }
    } else {
      const [at, action, , ...rest] = JSON.parse(columnsJson) as Columns;
      if (rest.some((v) => v !== null)) return stop(seq, 'PRUNED_NOT_BLANK');
      if (!pruneCovers(prunes, seq, at, action)) {
        // A prune may have committed since the covers were read: read them again before calling the line bad.
        prunes = loadPruneCovers(s);
        if (!pruneCovers(prunes, seq, at, action)) return stop(seq, 'BLANKED_NOT_PRUNED');
      }
    }
    const checkpoint = checkAt(seq, chain);
    if (checkpoint) return stop(seq, checkpoint);
    previous = chain;
    expected++;
  }
  if (hi !== Number.MAX_SAFE_INTEGER && expected <= hi) return { ok: false, seq: expected, reason: 'SEQ_GAP' };
  return { ok: true, last: expected - 1, head: previous.toString('hex'), checkpoints };
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

/** The query columns as the hashed content states them, or null when the content is unreadable or misplaced. */
export function columnsFromContent(content: string, seq: number): Columns | null {
  let line: { seq?: unknown; at?: unknown; entry?: Record<string, unknown> & { actor?: { iss?: unknown; sub?: unknown; org?: unknown; role?: unknown } } };
  try {
    line = JSON.parse(content) as typeof line;
  } catch {
    return null;
  }
  const e = line.entry;
  if (line.seq !== seq || typeof line.at !== 'number' || e === undefined || e === null || typeof e !== 'object') return null;
  return [
    line.at,
    e.action as string,
    e.outcome as string,
    (e.actor?.sub ?? null) as string | null,
    (e.actor?.org ?? null) as string | null,
    (e.clientRef ?? null) as string | null,
    (e.purpose ?? null) as string | null,
    (e.decisionId ?? null) as string | null,
    (e.actor?.iss ?? null) as string | null,
    (e.actor?.role ?? null) as string | null,
    isBsnLookup(e as unknown as AuditEntry) ? 1 : null,
    e.noodtoegang === true ? 1 : null,
    timeClass(line.at),
  ];
}
