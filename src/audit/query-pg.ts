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

/** `linesByAction` on PostgreSQL: one page of the lines of `actions` in a time window, oldest first, after `after`. */
export async function linesByActionPg(q: Queryable, query: LinesByActionQuery): Promise<AuditLine[]> {
  if (query.actions.length === 0) return [];
  const found = await rows<LineRow>(q, BY_ACTION, [query.from, query.to, query.after, [...query.actions], query.limit]);
  return found.map((row) => lineFromRow({ ...row, seq: Number(row.seq), at: Number(row.at) }));
}
