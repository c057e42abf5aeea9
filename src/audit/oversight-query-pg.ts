import type pg from 'pg';
import { type Queryable, rows } from '../pg-query.js';
import { AUDIT_APPEND_LOCK } from './log-pg.js';
import { OFF_HOURS, WEEKEND } from './office-hours.js';
import { ACCESS_ACTIONS, type Combination, KEPT_SCOPES, type LineCount, lineCountOf, type PersonCount, TOKEN_ACTIONS } from './oversight-query.js';
import type { CountScope, Period } from './reader.js';

/**
 * The oversight counts on PostgreSQL, with the answers of their SQLite twins (src/audit/oversight-query.ts
 * `countLines`, `countPersons`) for the same lines: the same grouping, the same time classes (stored per line,
 * src/audit/office-hours.ts), the same order (SQLite's: its index's, NULL first, text compared byte by byte), and the
 * same kept figures of closed periods in audit_period_counts under the same scope keys. Each count is one grouped
 * statement over the period's range of `audit_at`: PostgreSQL aggregates by hashing, so SQLite's skip through the
 * index is not needed. Reads on the pool, outside any transaction.
 *
 * Keeping a closed period's figures takes the chain's append lock (src/audit/log-pg.ts) for one statement: an append
 * whose line falls in a kept period (a clock set back) drops the kept rows under that lock, in its own transaction,
 * so a keep either sees that line committed (and keeps nothing) or commits before the append drops it. Without the
 * lock an instance could keep figures that miss a line another instance is committing.
 */

/** Only lines with an organisation have an identified actor; `org` narrows to one organisation. */
const orgClause = (org: string | undefined, n: number) => (org === undefined ? 'actor_org IS NOT NULL' : `actor_org = $${n}`);

const COLUMNS = 'actor_org, action, outcome, actor_role, purpose, bsn_lookup, noodtoegang, time_class';
// SQLite's order: that of its index, NULL first, text by bytes (COLLATE "C", whatever the database's collation).
const LINES = (org: string | undefined) => `SELECT ${COLUMNS}, count(*)::int AS lines FROM audit_log
  WHERE at >= $1 AND at < $2 AND action = ANY($3::text[]) AND ${orgClause(org, 4)}
  GROUP BY ${COLUMNS}
  ORDER BY actor_org COLLATE "C", action COLLATE "C", outcome COLLATE "C", actor_role COLLATE "C" NULLS FIRST,
    purpose COLLATE "C" NULLS FIRST, bsn_lookup NULLS FIRST, noodtoegang NULLS FIRST, time_class NULLS FIRST`;

/** `countLines` on PostgreSQL: per period, the lines of each combination of report columns, in the same order. */
export async function countLinesPg(q: Queryable, periods: ReadonlyArray<Period>, scope: CountScope = {}): Promise<LineCount[][]> {
  const last = await head(q);
  const key = scope.org ?? KEPT_SCOPES.every;
  const counted = [...ACCESS_ACTIONS, ...TOKEN_ACTIONS];
  const result: LineCount[][] = [];
  for (const period of periods) {
    const kept = await keptRows<LineCount>(q, '', key, period);
    if (kept !== undefined) {
      result.push(kept);
      continue;
    }
    const found = await rows<Combination & { lines: number }>(q, LINES(scope.org), [
      period.from,
      period.to,
      counted,
      ...(scope.org === undefined ? [] : [scope.org]),
    ]);
    const counts = found.map(({ lines, ...c }) => lineCountOf(c, lines));
    if (last !== undefined && period.to <= last.at) await keepCounts(q, key, period, last.seq, counts);
    result.push(counts);
  }
  return result;
}

const ACCESS = 'action = ANY($3::text[])';
const TOKEN = 'action = ANY($4::text[])';
const PERSONS = (org: string | undefined) => `SELECT actor_org AS org, actor_iss AS iss, actor_sub AS sub, actor_role AS role,
    count(*) FILTER (WHERE ${ACCESS})::int AS accesses,
    count(*) FILTER (WHERE ${ACCESS} AND outcome = 'permit')::int AS permits,
    count(*) FILTER (WHERE ${ACCESS} AND outcome = 'deny')::int AS denials,
    count(*) FILTER (WHERE ${ACCESS} AND time_class & ${OFF_HOURS} <> 0)::int AS "offHours",
    count(*) FILTER (WHERE ${ACCESS} AND time_class >= ${WEEKEND})::int AS weekend,
    count(*) FILTER (WHERE ${ACCESS} AND time_class > 0)::int AS "outsideOfficeHours",
    count(*) FILTER (WHERE ${ACCESS} AND noodtoegang = 1)::int AS emergency,
    count(DISTINCT client_ref) FILTER (WHERE ${ACCESS} AND outcome = 'permit')::int AS "distinctClients",
    count(*) FILTER (WHERE ${TOKEN} AND action = 'token.refused')::int AS "tokenRefusals",
    count(*) FILTER (WHERE ${TOKEN} AND bsn_lookup = 1)::int AS "bsnLookups"
  FROM audit_log
  WHERE at >= $1 AND at < $2 AND (${ACCESS} OR ${TOKEN}) AND ${orgClause(org, 5)}
    AND actor_iss IS NOT NULL AND actor_sub IS NOT NULL AND actor_role IS NOT NULL
  GROUP BY actor_org, actor_iss, actor_sub, actor_role
  HAVING count(*) FILTER (WHERE ${ACCESS}) > 0 OR count(*) FILTER (WHERE ${TOKEN} AND (action = 'token.refused' OR bsn_lookup = 1)) > 0
  ORDER BY actor_org COLLATE "C", actor_iss COLLATE "C", actor_sub COLLATE "C", actor_role COLLATE "C"`;

/** `countPersons` on PostgreSQL: the figures of every person with access or token lines in the period, in the same order. */
export async function countPersonsPg(q: Queryable, period: Period, scope: CountScope = {}): Promise<PersonCount[]> {
  const last = await head(q);
  const org = scope.org ?? KEPT_SCOPES.every;
  const kept = await keptRows<PersonCount>(q, KEPT_SCOPES.persons, org, period);
  if (kept !== undefined) return kept;
  const counted = await rows<PersonCount>(q, PERSONS(scope.org), [
    period.from,
    period.to,
    ACCESS_ACTIONS,
    TOKEN_ACTIONS,
    ...(scope.org === undefined ? [] : [scope.org]),
  ]);
  if (last !== undefined && period.to <= last.at) await keepCounts(q, KEPT_SCOPES.persons + org, period, last.seq, counted);
  return counted;
}

/** The newest line's position and time (a backward step of the primary key). */
async function head(q: Queryable): Promise<{ seq: number; at: number } | undefined> {
  const [row] = await rows<{ seq: number; at: number }>(q, 'SELECT seq, at FROM audit_log ORDER BY seq DESC LIMIT 1');
  return row && { seq: Number(row.seq), at: Number(row.at) };
}

/**
 * The rows kept for a closed period under `kind` ('' the line counts, `persons:` the per-person figures) in scope
 * `org`: its own row, or for an organisation the every-organisation row filtered to it; never another organisation's.
 */
async function keptRows<T extends { org: string }>(q: Queryable, kind: string, org: string, period: Period): Promise<T[] | undefined> {
  const own = kind + org;
  const every = kind + KEPT_SCOPES.every;
  const found = await rows<{ scope: string; counts: string }>(
    q,
    'SELECT scope, counts FROM audit_period_counts WHERE scope = ANY($1::text[]) AND "from" = $2 AND "to" = $3',
    [[own, every], period.from, period.to],
  );
  const mine = found.find((r) => r.scope === own);
  if (mine) return JSON.parse(mine.counts) as T[];
  if (org === KEPT_SCOPES.every) return undefined;
  const all = found.find((r) => r.scope === every);
  return all === undefined ? undefined : (JSON.parse(all.counts) as T[]).filter((c) => c.org === org);
}

const isPool = (q: Queryable): q is pg.Pool => 'totalCount' in q && 'connect' in q;

/**
 * Keeps a closed period's counts, taken with line `throughSeq` the newest, unless a line appended since lies in the
 * period; under the append lock (see above). A cache: on anything but the pool (a transaction the caller holds, whose
 * lock would last to its end) nothing is kept, and a database error leaves them untaken, never the report.
 */
async function keepCounts(q: Queryable, scope: string, period: Period, throughSeq: number, counts: readonly object[]): Promise<void> {
  if (!isPool(q)) return;
  let client: pg.PoolClient | undefined;
  try {
    client = await q.connect();
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_APPEND_LOCK]);
    await client.query(
      `INSERT INTO audit_period_counts (scope, "from", "to", through_seq, counts)
       SELECT $1::text, $2::bigint, $3::bigint, $4::bigint, $5::text WHERE NOT EXISTS (SELECT 1 FROM audit_log WHERE seq > $4 AND at < $3)
       ON CONFLICT (scope, "from", "to") DO UPDATE SET through_seq = EXCLUDED.through_seq, counts = EXCLUDED.counts`,
      [scope, period.from, period.to, throughSeq, JSON.stringify(counts)],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client?.query('ROLLBACK').catch(() => {});
    if (!isSqlState(error)) throw error;
  } finally {
    client?.release();
  }
}

/** Whether `error` is one PostgreSQL answered (it has a SQLSTATE), not one of the connection or of our code. */
function isSqlState(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}
