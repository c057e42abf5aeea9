import { type Queryable, rows } from '../pg-query.js';
import { pgParams } from '../sql-filters.js';
import { OFF_HOURS, WEEKEND } from './office-hours.js';
import { ACCESS_ACTIONS, type Combination, type LineCount, lineCountOf, type PersonCount, TOKEN_ACTIONS } from './oversight-query.js';
import { type AuditDialect, type AuditPage, type AuditQuery, type AuditScope, auditListSql, auditPage, type LineRow } from './query.js';

/**
 * The audit log's queries on PostgreSQL, with the answers of their SQLite twins (src/audit/query.ts `listAudit`,
 * src/audit/oversight-query.ts `countLines` and `countPersons`) for the same lines. The list is built from the same
 * whitelist of filters with numbered parameters. The counts are one grouped statement each: PostgreSQL aggregates a
 * period's lines by hashing, which SQLite cannot, so the skip through the index SQLite needs is not needed here.
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

/** Only lines with an organisation have an identified actor; `org` narrows to one organisation. */
const orgClause = (org: string | undefined, n: number) => (org === undefined ? 'actor_org IS NOT NULL' : `actor_org = $${n}`);

/** `countLines` on PostgreSQL: per period, the lines of each combination of report columns, in the same order. */
export async function countLinesPg(
  q: Queryable,
  periods: ReadonlyArray<{ from: number; to: number }>,
  scope: { org?: string | undefined } = {},
): Promise<LineCount[][]> {
  const columns = 'actor_org, action, outcome, actor_role, purpose, bsn_lookup, noodtoegang, time_class';
  // SQLite's order: that of its index, NULL first.
  const sql = `SELECT ${columns}, count(*)::int AS lines FROM audit_log
    WHERE at >= $1 AND at < $2 AND action = ANY($3::text[]) AND ${orgClause(scope.org, 4)}
    GROUP BY ${columns}
    ORDER BY actor_org, action, outcome, actor_role NULLS FIRST, purpose NULLS FIRST, bsn_lookup NULLS FIRST, noodtoegang NULLS FIRST, time_class NULLS FIRST`;
  const counted = [...ACCESS_ACTIONS, ...TOKEN_ACTIONS];
  const result: LineCount[][] = [];
  for (const { from, to } of periods) {
    const found = await rows<Combination & { lines: number }>(q, sql, [from, to, counted, ...(scope.org === undefined ? [] : [scope.org])]);
    result.push(found.map(({ lines, ...c }) => lineCountOf(c, lines)));
  }
  return result;
}

/** `countPersons` on PostgreSQL: the figures of every person with access or token lines in the period, in the same order. */
export async function countPersonsPg(q: Queryable, period: { from: number; to: number }, scope: { org?: string | undefined } = {}): Promise<PersonCount[]> {
  const access = 'action = ANY($3::text[])';
  const token = 'action = ANY($4::text[])';
  const found = await rows<PersonCount>(
    q,
    `SELECT actor_org AS org, actor_iss AS iss, actor_sub AS sub, actor_role AS role,
       count(*) FILTER (WHERE ${access})::int AS accesses,
       count(*) FILTER (WHERE ${access} AND outcome = 'permit')::int AS permits,
       count(*) FILTER (WHERE ${access} AND outcome = 'deny')::int AS denials,
       count(*) FILTER (WHERE ${access} AND time_class & ${OFF_HOURS} <> 0)::int AS "offHours",
       count(*) FILTER (WHERE ${access} AND time_class >= ${WEEKEND})::int AS weekend,
       count(*) FILTER (WHERE ${access} AND time_class > 0)::int AS "outsideOfficeHours",
       count(*) FILTER (WHERE ${access} AND noodtoegang = 1)::int AS emergency,
       count(DISTINCT client_ref) FILTER (WHERE ${access} AND outcome = 'permit')::int AS "distinctClients",
       count(*) FILTER (WHERE ${token} AND action = 'token.refused')::int AS "tokenRefusals",
       count(*) FILTER (WHERE ${token} AND bsn_lookup = 1)::int AS "bsnLookups"
     FROM audit_log
     WHERE at >= $1 AND at < $2 AND (${access} OR ${token}) AND ${orgClause(scope.org, 5)}
       AND actor_iss IS NOT NULL AND actor_sub IS NOT NULL AND actor_role IS NOT NULL
     GROUP BY actor_org, actor_iss, actor_sub, actor_role
     HAVING count(*) FILTER (WHERE ${access}) > 0 OR count(*) FILTER (WHERE ${token} AND (action = 'token.refused' OR bsn_lookup = 1)) > 0
     ORDER BY actor_org, actor_iss, actor_sub, actor_role`,
    [period.from, period.to, ACCESS_ACTIONS, TOKEN_ACTIONS, ...(scope.org === undefined ? [] : [scope.org])],
  );
  return found;
}
