import type { Statement } from 'better-sqlite3';
import { z } from 'zod';
import type { Db } from '../db.js';
import { DoelpoortError } from '../errors.js';
import { purposeSchema } from '../purposes.js';
import type { AuditEntry, AuditLine } from './entry.js';
import { DAY_MS } from '../clock.js';
import { CLIENT_REF_PATTERN } from '../records/suite-record.js';
import { type Bind, sqliteParams } from '../sql-filters.js';

/**
 * A moment as a query gives it: epoch milliseconds, an ISO date (`2026-11-23`) or an ISO date-time. A date alone
 * means the start of that day (UTC) for `from` and its end for `to`, so `from=D&to=D` is the whole day D.
 */
function instant(edge: 'start' | 'end') {
  return z.union([z.number(), z.string()]).transform((v, ctx) => {
    const s = String(v).trim();
    if (/^\d{1,15}$/.test(s)) return Number(s);
    const ms = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(s) ? Date.parse(s) : NaN;
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: 'must be epoch milliseconds or an ISO date' });
      return z.NEVER;
    }
    return s.length === 10 && edge === 'end' ? ms + DAY_MS - 1 : ms;
  });
}

/** The filters of `GET /v1/audit` and `doelpoort audit export`; validates query-string values as well. */
export const auditQuerySchema = z.strictObject({
  /** A BSN is refused here too: a caseload or access question by BSN resolves it to a clientRef first. */
  clientRef: z.string().regex(CLIENT_REF_PATTERN).optional(),
  /** The actor's `sub`; a person is (`actorIss`, `actor`), so it is given only with `actorIss`. */
  actor: z.string().min(1).max(256).optional(),
  /** The issuer of the actor's login (`actor.iss` of a line). */
  actorIss: z.string().min(1).max(512).optional(),
  purpose: purposeSchema.optional(),
  outcome: z.enum(['permit', 'deny', 'error']).optional(),
  /** Inclusive. */
  from: instant('start').optional(),
  /** Inclusive. */
  to: instant('end').optional(),
  /** Opaque, from the previous page's `next`. */
  cursor: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/**
 * A restriction the caller imposes, never taken from the query string: a municipal officer sees their own staff's
 * lines; a person's own use is the lines of some actions only.
 */
export interface AuditScope {
  actorOrg?: string | undefined;
  actions?: readonly AuditLine['action'][] | undefined;
}

/** A parsed audit query. */
export type AuditQuery = z.output<typeof auditQuerySchema>;

/** One page of lines, newest first; `next` is the cursor of the following page, null on the last. */
export interface AuditPage {
  items: AuditLine[];
  next: string | null;
}

const CURSOR_PREFIX = 'a1.';

/** The cursor of the page that starts just before line `seq` (its first item is `seq − 1`). */
export function encodeCursor(seq: number): string {
  return CURSOR_PREFIX + Buffer.from(String(seq)).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const seq = cursor.startsWith(CURSOR_PREFIX) ? Number(Buffer.from(cursor.slice(CURSOR_PREFIX.length), 'base64url').toString()) : NaN;
  if (!Number.isSafeInteger(seq) || seq < 1) throw new DoelpoortError('REQUEST_INVALID', 'audit query: cursor is invalid');
  return seq;
}

/** A row of audit_log as `LINE_COLUMNS` names it, in either database. */
export type LineRow = { seq: number; at: number; action: AuditLine['action']; outcome: AuditLine['outcome']; entry: string | null; chainHash: Buffer };
type Row = LineRow;

/** The columns of a `LineRow`; a quoted alias, which both SQLite and PostgreSQL keep as written. */
const LINE_COLUMNS = 'seq, at, action, outcome, entry, chain_hash AS "chainHash"';

/** Prepared list statements by SQL text; at most one per combination of filters. */
export type ListStatements = Map<string, Statement<Record<string, unknown>, Row>>;

/** What the audit list's filters say differently in each database. */
export interface AuditDialect {
  /** The issuer of a line's actor. */
  actorIss: string;
  /** The condition that `action` is one of `actions`; none: no line at all. */
  actionIn(actions: readonly AuditLine['action'][], bind: Bind): string;
}

const SQLITE: AuditDialect = {
  actorIss: "json_extract(entry, '$.entry.actor.iss')",
  actionIn: (actions, bind) => (actions.length === 0 ? '0' : `action IN (${actions.map((a, i) => bind(`action${i}`, a)).join(', ')})`),
};

/**
 * The statement of one page of lines matching the query (`limit + 1`, newest first), in the dialect of `bind`: each
 * filter is a column with an index on (column, seq) (schema/audit.ts), so a page costs a range scan of the index.
 */
export function auditListSql(query: AuditQuery & AuditScope, bind: Bind, dialect: AuditDialect): string {
  const where: string[] = [];
  const add = (clause: (p: string) => string, name: string, value: unknown) => {
    if (value !== undefined) where.push(clause(bind(name, value)));
  };
  add((p) => `client_ref = ${p}`, 'clientRef', query.clientRef);
  if ((query.actor === undefined) !== (query.actorIss === undefined))
    throw new DoelpoortError('REQUEST_INVALID', 'audit query: actor and actorIss go together (a person is issuer and subject)');
  add((p) => `actor_sub = ${p}`, 'actor', query.actor);
  add((p) => `${dialect.actorIss} = ${p}`, 'actorIss', query.actorIss);
  add((p) => `actor_org = ${p}`, 'actorOrg', query.actorOrg);
  add((p) => `purpose = ${p}`, 'purpose', query.purpose);
  add((p) => `outcome = ${p}`, 'outcome', query.outcome);
  add((p) => `at >= ${p}`, 'from', query.from);
  add((p) => `at <= ${p}`, 'to', query.to);
  add((p) => `seq < ${p}`, 'before', query.cursor === undefined ? undefined : decodeCursor(query.cursor));
  if (query.actions !== undefined) where.push(dialect.actionIn(query.actions, bind));
  return `SELECT ${LINE_COLUMNS} FROM audit_log
    ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ${bind('limit', query.limit + 1)}`;
}

/** The page of `limit` lines in rows read by `auditListSql`. */
export function auditPage(rows: LineRow[], limit: number): AuditPage {
  const more = rows.length > limit;
  const items = (more ? rows.slice(0, limit) : rows).map(lineFromRow);
  return { items, next: more ? encodeCursor(items[items.length - 1]!.seq) : null };
}

/** A row as a line: the entry is parsed from the stored content (absent once pruned). */
export function lineFromRow(row: Row): AuditLine {
  const entry = row.entry === null ? undefined : (JSON.parse(row.entry) as { entry: AuditEntry }).entry;
  return { seq: row.seq, at: row.at, action: row.action, outcome: row.outcome, entry, chainHash: row.chainHash.toString('hex') };
}

/**
 * Lines matching the query, newest first. Each filter is a column with an index on (column, seq) (schema/audit.ts),
 * so a page costs a range scan of the index, whatever the size of the log.
 */
export function listAudit(db: Db, query: AuditQuery & AuditScope, cache: ListStatements = new Map()): AuditPage {
  const { bind, params } = sqliteParams();
  const sql = auditListSql(query, bind, SQLITE);
  let statement = cache.get(sql);
  if (!statement) cache.set(sql, (statement = db.$client.prepare<Record<string, unknown>, Row>(sql)));
  return auditPage(statement.all(params), query.limit);
}

/**
 * One page of the lines of `actions` logged from `from` to `to` (epoch ms, inclusive), oldest first, after sequence
 * number `after`: a read-only scan for replays (policy impact), which `listAudit` cannot filter by action.
 */
export function linesByAction(db: Db, query: { actions: readonly AuditLine['action'][]; from: number; to: number; after: number; limit: number }): AuditLine[] {
  if (query.actions.length === 0) return [];
  const placeholders = query.actions.map((_, i) => `@a${i}`).join(', ');
  const params: Record<string, unknown> = { from: query.from, to: query.to, after: query.after, limit: query.limit };
  query.actions.forEach((a, i) => {
    params[`a${i}`] = a;
  });
  const sql = `SELECT seq, at, action, outcome, entry, chain_hash AS chainHash FROM audit_log
    WHERE at >= @from AND at <= @to AND seq > @after AND action IN (${placeholders}) ORDER BY seq LIMIT @limit`;
  return db.$client.prepare<Record<string, unknown>, Row>(sql).all(params).map(lineFromRow);
}
