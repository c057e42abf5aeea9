import type pg from 'pg';
import { DoelpoortError, isDoelpoortError } from '../errors.js';
import { rows } from '../pg-query.js';
import { type PgAuditLog, pgFailureOf } from './log-pg.js';
import { PRUNE_CHUNK, type PruneOptions, type PruneResult, pruneEntry, refuseInsideRetention } from './prune.js';

/**
 * Retention pruning on PostgreSQL, as src/audit/prune.ts does it on SQLite: the content and query columns of every
 * line older than `before` are blanked, seq, time, action, outcome and both hashes kept (so the chain still
 * verifies); prune lines stay whole; a `before` inside the retention period is REQUEST_INVALID. Each chunk is one
 * transaction: its `audit.pruned` line is appended first (under the chain's lock, src/audit/log-pg.ts), then exactly
 * the lines it names are blanked, which the guard trigger (schema/pg-migrations `audit_log_prune_only`) allows only
 * for lines an earlier-committed or same-transaction prune line covers. The lock is held while a chunk is blanked, as
 * SQLite's write lock is: appends of every instance wait that long.
 */

const CANDIDATES = `seq > $1 AND at < $2 AND entry IS NOT NULL AND action <> 'audit.pruned'`;
const CHUNK = `SELECT min(seq) AS "fromSeq", max(seq) AS "toSeq", count(*)::int AS n FROM (SELECT seq FROM audit_log WHERE ${CANDIDATES} ORDER BY seq LIMIT $3) AS c`;
const BLANK = `UPDATE audit_log SET entry = NULL, actor_sub = NULL, actor_org = NULL, client_ref = NULL, purpose = NULL, decision_id = NULL,
    actor_iss = NULL, actor_role = NULL, bsn_lookup = NULL, noodtoegang = NULL, time_class = NULL
  WHERE ${CANDIDATES} AND seq <= $3`;

/** `pruneAudit` on PostgreSQL: the same result (the lines blanked, the prune lines' positions). */
export async function pruneAuditPg(pool: pg.Pool, audit: PgAuditLog, options: PruneOptions): Promise<PruneResult> {
  refuseInsideRetention(options);
  const { before } = options;
  const limit = options.chunk ?? PRUNE_CHUNK;
  const result: PruneResult = { pruned: 0, seqs: [] };
  let after = 0;
  for (;;) {
    if (result.seqs.length > 0) {
      const [more] = await rows<{ n: number }>(pool, CHUNK, [after, before, 1]);
      if (!more || more.n === 0) return result;
    }
    const blanked = await chunk(pool, audit, async (client) => {
      const [found] = await rows<{ fromSeq: number | null; toSeq: number | null; n: number }>(client, CHUNK, [after, before, limit]);
      const n = found?.n ?? 0;
      if (n === 0 || found?.fromSeq == null || found.toSeq == null) {
        return { n: 0, seq: await appendPruneLine(client, audit, pruneEntry(options, 0, undefined)) };
      }
      const range = { fromSeq: Number(found.fromSeq), toSeq: Number(found.toSeq) };
      const seq = await appendPruneLine(client, audit, pruneEntry(options, n, range));
      const changed = (await client.query(BLANK, [after, before, range.toSeq])).rowCount ?? 0;
      // Counts kept of closed periods (src/audit/oversight-query-pg.ts) that held a line blanked now no longer hold.
      await client.query('DELETE FROM audit_period_counts WHERE "from" < $1', [before]);
      if (changed !== n) throw new DoelpoortError('AUDIT_WRITE_FAILED', 'prune: the lines changed while they were blanked');
      after = range.toSeq;
      return { n, seq };
    });
    result.seqs.push(blanked.seq);
    result.pruned += blanked.n;
    if (blanked.n === 0) return result;
  }
}

/** Appends one prune line on `client` (its transaction) and answers its position. */
async function appendPruneLine(client: pg.PoolClient, audit: PgAuditLog, entry: ReturnType<typeof pruneEntry>): Promise<number> {
  const line = audit.prepare(entry);
  await audit.writeLines(client, [line]);
  return line.line.seq;
}

/** One chunk in a transaction of its own; BEGIN or COMMIT failing is AUDIT_WRITE_FAILED, told to the operator log. */
async function chunk<T>(pool: pg.Pool, audit: PgAuditLog, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    audit.reportWriteFailure(pgFailureOf('commit', error));
    throw new DoelpoortError('AUDIT_WRITE_FAILED', 'prune: no connection to the database', [], { cause: error });
  }
  let broken: unknown;
  try {
    await client.query('BEGIN');
    const value = await work(client);
    await client.query('COMMIT');
    await audit.afterCommit();
    return value;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    if (isDoelpoortError(error) || error instanceof TypeError) throw error;
    broken = error;
    audit.reportWriteFailure(pgFailureOf('commit', error));
    throw new DoelpoortError('AUDIT_WRITE_FAILED', 'prune: the transaction could not be committed', [], { cause: error });
  } finally {
    client.release(broken instanceof Error ? broken : undefined);
  }
}
