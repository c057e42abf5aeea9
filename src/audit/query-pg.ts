import { type Queryable, rows } from '../pg-query.js';
import { pgParams } from '../sql-filters.js';
import type { AuditLine } from './entry.js';
import { type AuditDialect, type AuditPage, type AuditQuery, type AuditScope, auditListSql, auditPage, type LineRow, lineFromRow } from './query.js';
import type { LinesByActionQuery } from './reader.js';

/**
 * The audit log's queries on PostgreSQL, with the answers of their SQLite twins (src/audit/query.ts `listAudit`,
 * `linesByAction`) for the same lines. The list is built from the same whitelist of filters with numbered
 * parameters. The oversight counts are in src/audit/oversight-query-pg.ts.
 */

const PG: AuditDialect = {
  // The report column, derived from the hashed content and checked against it by verify (SQLite reads the content).
  actorIss: 'actor_iss',
  actionIn: (actions, bind) => `action = ANY(${bind('actions', [...actions])}::text[])`,
};

/** Lines matching the query, newest first, a page at a time: `listAudit` on PostgreSQL. */
export async function listAuditPg(q: Queryable, query: AuditQuery & AuditScope): Promise<AuditPage> {
  const { bind, values } = pgParams();
  const sql = auditListSql(query, bind, PG);
  return auditPage(await rows<LineRow>(q, sql, values), query.limit);
}

const BY_ACTION = `SELECT seq, at, action, outcome, entry, chain_hash AS "chainHash" FROM audit_log
  WHERE at >= $1 AND at <= $2 AND seq > $3 AND action = ANY($4::text[]) ORDER BY seq LIMIT $5`;

/**
 * The first and last positions of the lines with `from <= at <= to`, from the range of `audit_at`. (Asked directly,
 * PostgreSQL answers min and max by walking the primary key from either end until a line in the range turns up:
 * most of the log, for a recent month. The subquery, kept apart by OFFSET 0, reads the range of the index instead.)
 */
export async function seqBoundsPg(q: Queryable, from: number, to: number): Promise<{ lo: number; hi: number } | undefined> {
  const [bounds] = await rows<{ lo: number | null; hi: number | null }>(
    q,
    'SELECT min(seq) AS lo, max(seq) AS hi FROM (SELECT seq FROM audit_log WHERE at >= $1 AND at <= $2 OFFSET 0) AS r',
    [from, to],
  );
  return bounds?.lo == null || bounds.hi == null ? undefined : { lo: Number(bounds.lo), hi: Number(bounds.hi) };
}

/**
 * `linesByAction` on PostgreSQL: one page of the lines of `actions` in a time window, oldest first, after `after`.
 * Each page walks the primary key from `after`; the first (`after` 0) starts at the window's first line instead of
 * the log's, which for a recent window would mean reading the whole log before it.
 */
export async function linesByActionPg(q: Queryable, query: LinesByActionQuery): Promise<AuditLine[]> {
  if (query.actions.length === 0) return [];
  let after = query.after;
  if (after === 0) {
    const bounds = await seqBoundsPg(q, query.from, query.to);
    if (bounds === undefined) return [];
    after = bounds.lo - 1;
  }
  const found = await rows<LineRow>(q, BY_ACTION, [query.from, query.to, after, [...query.actions], query.limit]);
  return found.map((row) => lineFromRow({ ...row, seq: Number(row.seq), at: Number(row.at) }));
}
