/**
 * `verify` of the audit log on PostgreSQL: the same checks and the same verdicts as src/audit/verify.ts on SQLite
 * (test/pg-audit.test.ts tampers with both alike), reading the chain in seq order in keyset pages so memory stays
 * flat and no statement runs long. Lines appended while it runs are left for the next verification.
 */
import type { Queryable } from '../postgres.js';
import { chainHash, GENESIS, leafHash } from './chain.js';
import {
  columnsFromContent,
  combine,
  expectationsFrom,
  pruneCovers,
  pruneCoversFrom,
  type CheckpointRow,
  type Columns,
  type Expectations,
  type PruneRow,
  type RangeResult,
  type VerifyFailureReason,
  type VerifyOptions,
  type VerifyResult,
} from './verify.js';

interface LineRow {
  seq: number | string;
  entry: string | null;
  leaf_hash: Buffer;
  chain_hash: Buffer;
  columns: Columns;
}

const PRUNE_ROWS = `SELECT seq, at, entry FROM audit_log WHERE action = 'audit.pruned' AND entry IS NOT NULL ORDER BY seq`;

/** The query columns in the order of `Columns`, as one array per row (one value to decode instead of thirteen). */
const PAGE = `SELECT seq, entry, leaf_hash, chain_hash,
    json_build_array(at, action, outcome, actor_sub, actor_org, client_ref, purpose, decision_id, actor_iss, actor_role,
      bsn_lookup, noodtoegang, time_class) AS columns
  FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3`;

// Number() on every bigint read: exact below 2^53, whatever INT8 parser the pool was given (src/postgres.ts sets one).

async function loadExpectationsPg(q: Queryable, options: VerifyOptions): Promise<Expectations> {
  const checkpoints = await q.query<CheckpointRow>('SELECT size, head, at, signature FROM audit_checkpoints ORDER BY size');
  const rows = checkpoints.rows.map((r) => ({ ...r, size: Number(r.size), at: Number(r.at) }));
  return expectationsFrom(rows, await loadPruneCoversPg(q), options);
}

async function loadPruneCoversPg(q: Queryable) {
  const { rows } = await q.query<PruneRow>(PRUNE_ROWS);
  return pruneCoversFrom(rows.map((r) => ({ ...r, seq: Number(r.seq), at: Number(r.at) })));
}

/** Recomputes the whole chain on PostgreSQL; see verifyAudit (src/audit/verify.ts) for what is checked. */
export async function verifyAuditPg(q: Queryable, options: VerifyOptions & { page?: number } = {}): Promise<VerifyResult> {
  // Expectations first: every checkpoint they hold is then at or below the head read next.
  const expectations = await loadExpectationsPg(q, options);
  const end = Number((await q.query<{ end: number | null }>('SELECT max(seq) AS end FROM audit_log')).rows[0]?.end ?? 0);
  return combine([await verifyPages(q, expectations, end, options.page ?? 5000)], expectations);
}

async function verifyPages(q: Queryable, expectations: Expectations, end: number, page: number): Promise<RangeResult> {
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
  const zero = checkAt(0, GENESIS);
  if (zero) return { ok: false, seq: 0, reason: zero };
  let prunes = expectations.prunes;
  let previous = GENESIS;
  let expected = 1;
  while (expected <= end) {
    const { rows } = await q.query<LineRow>(PAGE, [expected - 1, end, page]);
    if (rows.length === 0) break;
    for (const { seq: storedSeq, entry: content, leaf_hash: storedLeaf, chain_hash: storedChain, columns } of rows) {
      const seq = Number(storedSeq);
      if (seq !== expected) return { ok: false, seq: expected, reason: 'SEQ_GAP' };
      const leaf = content !== null ? leafHash(content) : storedLeaf;
      const chain = chainHash(previous, leaf);
      if (!chain.equals(storedChain)) return { ok: false, seq, reason: storedLeaf.equals(leaf) ? 'CHAIN_MISMATCH' : 'LEAF_MISMATCH' };
      if (content !== null) {
        const fromContent = columnsFromContent(content, seq);
        if (fromContent === null || fromContent.some((v, i) => v !== columns[i])) return { ok: false, seq, reason: 'CONTENT_MISMATCH' };
      } else {
        const [at, action, , ...rest] = columns;
        if (rest.some((v) => v !== null)) return { ok: false, seq, reason: 'PRUNED_NOT_BLANK' };
        if (!pruneCovers(prunes, seq, at, action)) {
          // A prune may have committed since the covers were read: read them again before calling the line bad.
          prunes = await loadPruneCoversPg(q);
          if (!pruneCovers(prunes, seq, at, action)) return { ok: false, seq, reason: 'BLANKED_NOT_PRUNED' };
        }
      }
      const checkpoint = checkAt(seq, chain);
      if (checkpoint) return { ok: false, seq, reason: checkpoint };
      previous = chain;
      expected++;
    }
  }
  if (expected <= end) return { ok: false, seq: expected, reason: 'SEQ_GAP' };
  return { ok: true, last: expected - 1, head: previous.toString('hex'), checkpoints };
}
