/**
 * `verify` of the audit log on PostgreSQL: the same checks and the same verdicts as src/audit/verify.ts on SQLite
 * (test/pg-audit.test.ts tampers with both alike), line by line through the same rules (src/audit/verify-range.ts
 * `rowLeaf` and `rowProblem`, both line formats), reading the chain in seq order in keyset pages so memory stays
 * flat and no statement runs long. Lines appended while it runs are left for the next verification.
 */
import type { Queryable } from '../postgres.js';
import { chainHash, GENESIS } from './chain.js';
import { type CheckpointRow, combine, expectationsFrom, type Expectations, type RangeResult, type VerifyOptions, type VerifyResult } from './verify.js';
import { checkpointCheck, PRUNE_LINES, pruneCoversFrom, rowLeaf, rowProblem, VERIFY_COLUMNS, type VerifyRow } from './verify-range.js';

const PAGE = `SELECT ${VERIFY_COLUMNS} FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3`;

// Number() on every bigint read: exact below 2^53, whatever INT8 parser the pool was given (src/postgres.ts sets one).

async function loadExpectationsPg(q: Queryable, options: VerifyOptions): Promise<Expectations> {
  const checkpoints = await q.query<CheckpointRow>('SELECT size, head, at, signature FROM audit_checkpoints ORDER BY size');
  const rows = checkpoints.rows.map((r) => ({ ...r, size: Number(r.size), at: Number(r.at) }));
  return expectationsFrom(rows, await loadPruneCoversPg(q), options);
}

async function loadPruneCoversPg(q: Queryable) {
  const { rows } = await q.query<{ seq: number; at: number; entry: string }>(PRUNE_LINES);
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
  const { checkAt, matched } = checkpointCheck(expectations);
  const zero = checkAt(0, GENESIS);
  if (zero) return { ok: false, seq: 0, reason: zero };
  let prunes = expectations.prunes;
  let previous = GENESIS;
  let expected = 1;
  while (expected <= end) {
    const { rows } = await q.query(PAGE, [expected - 1, end, page]);
    if (rows.length === 0) break;
    for (const r of rows) {
      // node-postgres keeps the select list's order in a row's keys; VERIFY_COLUMNS is a VerifyRow's order.
      const row = Object.values(r) as VerifyRow;
      const seq = (row[0] = Number(row[0]));
      row[1] = Number(row[1]);
      if (seq !== expected) return { ok: false, seq: expected, reason: 'SEQ_GAP' };
      const leaf = rowLeaf(row);
      if (leaf === null) return { ok: false, seq, reason: 'CONTENT_MISMATCH' };
      const chain = chainHash(previous, leaf);
      if (!chain.equals(row[17])) {
        const stored = (await q.query<{ leaf_hash: Buffer }>('SELECT leaf_hash FROM audit_log WHERE seq = $1', [seq])).rows[0]?.leaf_hash;
        return { ok: false, seq, reason: stored?.equals(leaf) ? 'CHAIN_MISMATCH' : 'LEAF_MISMATCH' };
      }
      let problem = rowProblem(row, prunes);
      if (problem === 'BLANKED_NOT_PRUNED') {
        // A prune may have committed since the covers were read: read them again before calling the line bad.
        prunes = await loadPruneCoversPg(q);
        problem = rowProblem(row, prunes);
      }
      if (problem) return { ok: false, seq, reason: problem };
      const checkpoint = checkAt(seq, chain);
      if (checkpoint) return { ok: false, seq, reason: checkpoint };
      previous = chain;
      expected++;
    }
  }
  if (expected <= end) return { ok: false, seq: expected, reason: 'SEQ_GAP' };
  return { ok: true, last: expected - 1, head: previous.toString('hex'), checkpoints: matched() };
}
