import type { Statement } from 'better-sqlite3';
import type { Db } from '../db.js';
import type { Purpose, Role } from '../purposes.js';
import { type Bind, sqliteParams } from '../sql-filters.js';

/**
 * The emergency accesses in the state database (schema/noodtoegang.ts). Synchronous, prepared once, and reached by
 * the verbs only through their unit of work (`tx.noodtoegang`), so the weekly count, the new row and the token's
 * audit line are one transaction, and two requests of one person cannot both pass the limit.
 */

/** The verdicts a Werkzaak privacy officer may record. */
export const VERDICTS = ['terecht', 'onterecht'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** Who was granted an emergency access: a person is (iss, sub). */
export interface NoodtoegangActor {
  iss: string;
  sub: string;
  role: Role;
  org: string;
}

/** One emergency access as granted. */
export interface NoodtoegangGrant {
  id: string;
  /** Epoch milliseconds. */
  at: number;
  actor: NoodtoegangActor;
  clientId: string;
  clientRef: string;
  purpose: Purpose;
  reden: string;
  tokenId: string;
}

/** The verdict on an emergency access: by whom (iss, sub), when (epoch ms), and the note. */
export interface NoodtoegangVerdict {
  verdict: Verdict;
  note: string;
  iss: string;
  sub: string;
  at: number;
}

/** A stored emergency access, its place in the queue, and its verdict once there is one. */
export interface NoodtoegangRecord extends NoodtoegangGrant {
  seq: number;
  verdict: NoodtoegangVerdict | null;
}

/** Which rows a page of the review queue holds. */
export interface NoodtoegangQuery {
  /** Only those without a verdict. */
  open: boolean;
  /** Only those of this organisation's staff (a municipal officer's scope). */
  actorOrg?: string | undefined;
  /** After this `seq` (the cursor). */
  after: number;
  limit: number;
}

const normalised = (s: string) => s.normalize('NFKC').toLowerCase();

/**
 * The key the weekly limit counts by: issuer and subject, normalised as `samePerson` (src/policy/versions.ts) compares
 * them, so that `Coach-1` and `coach-1` of one provider share one limit (fail closed).
 */
export function personKey(person: { iss: string; sub: string }): string {
  return `${normalised(person.iss)}\n${normalised(person.sub)}`;
}

/** A row of noodtoegang as `NOODTOEGANG_COLUMNS` names it, in either database. */
export interface NoodtoegangRow {
  seq: number;
  id: string;
  at: number;
  actorIss: string;
  actorSub: string;
  actorRole: Role;
  actorOrg: string;
  clientId: string;
  clientRef: string;
  purpose: Purpose;
  reden: string;
  tokenId: string;
  verdict: Verdict | null;
  verdictNote: string | null;
  verdictIss: string | null;
  verdictSub: string | null;
  verdictAt: number | null;
}

/** The columns of a `NoodtoegangRow`; quoted aliases, which both SQLite and PostgreSQL keep as written. */
export const NOODTOEGANG_COLUMNS = `seq, id, at, actor_iss AS "actorIss", actor_sub AS "actorSub", actor_role AS "actorRole", actor_org AS "actorOrg",
  client_id AS "clientId", client_ref AS "clientRef", purpose, reden, token_id AS "tokenId", verdict, verdict_note AS "verdictNote",
  verdict_iss AS "verdictIss", verdict_sub AS "verdictSub", verdict_at AS "verdictAt"`;

/** A stored row as an emergency access. */
export function toRecord(row: NoodtoegangRow): NoodtoegangRecord {
  const { seq, id, at, clientId, clientRef, purpose, reden, tokenId } = row;
  const verdict =
    row.verdict === null
      ? null
      : { verdict: row.verdict, note: row.verdictNote ?? '', iss: row.verdictIss ?? '', sub: row.verdictSub ?? '', at: row.verdictAt ?? 0 };
  return {
    seq,
    id,
    at,
    actor: { iss: row.actorIss, sub: row.actorSub, role: row.actorRole, org: row.actorOrg },
    clientId,
    clientRef,
    purpose,
    reden,
    tokenId,
    verdict,
  };
}

/** The statement of one page of the queue (`limit + 1` rows), in the dialect of `bind`. */
export function queueSql(query: NoodtoegangQuery, bind: Bind): string {
  const where = [`seq > ${bind('after', query.after)}`];
  if (query.open) where.push('verdict IS NULL');
  if (query.actorOrg !== undefined) where.push(`actor_org = ${bind('actorOrg', query.actorOrg)}`);
  return `SELECT ${NOODTOEGANG_COLUMNS} FROM noodtoegang WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ${bind('limit', query.limit + 1)}`;
}

/** The page of `limit` in rows read by `queueSql`. */
export function queuePage(rows: NoodtoegangRow[], limit: number): { items: NoodtoegangRecord[]; more: boolean } {
  const more = rows.length > limit;
  return { items: (more ? rows.slice(0, limit) : rows).map(toRecord), more };
}

/** The emergency accesses: granted (inserted), counted per person, listed for review, judged once. */
export class NoodtoegangStore {
  readonly #insert: Statement<Record<string, unknown>>;
  readonly #count: Statement<{ person: string; since: number }, number>;
  readonly #get: Statement<[string], NoodtoegangRow>;
  readonly #judge: Statement<Record<string, unknown>>;
  readonly #lists = new Map<string, Statement<Record<string, unknown>, NoodtoegangRow>>();
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
    const s = db.$client;
    this.#insert = s.prepare(
      `INSERT INTO noodtoegang (id, at, actor_iss, actor_sub, actor_role, actor_org, person, client_id, client_ref, purpose, reden, token_id)
       VALUES (@id, @at, @actorIss, @actorSub, @actorRole, @actorOrg, @person, @clientId, @clientRef, @purpose, @reden, @tokenId)`,
    );
    this.#count = s.prepare<{ person: string; since: number }, number>('SELECT count(*) FROM noodtoegang WHERE person = @person AND at > @since').pluck();
    this.#get = s.prepare(`SELECT ${NOODTOEGANG_COLUMNS} FROM noodtoegang WHERE id = ?`);
    this.#judge = s.prepare(
      `UPDATE noodtoegang SET verdict = @verdict, verdict_note = @note, verdict_iss = @iss, verdict_sub = @sub, verdict_at = @at
       WHERE id = @id AND verdict IS NULL`,
    );
  }

  /** Stores a granted emergency access. */
  record(grant: NoodtoegangGrant): void {
    const { actor, ...rest } = grant;
    this.#insert.run({ ...rest, actorIss: actor.iss, actorSub: actor.sub, actorRole: actor.role, actorOrg: actor.org, person: personKey(actor) });
  }

  /** How many emergency accesses this person was granted after `since` (epoch ms). */
  countSince(person: { iss: string; sub: string }, since: number): number {
    return this.#count.get({ person: personKey(person), since }) ?? 0;
  }

  get(id: string): NoodtoegangRecord | undefined {
    const row = this.#get.get(id);
    return row && toRecord(row);
  }

  /** One page of the queue, oldest first, and whether there is more after it. */
  list(query: NoodtoegangQuery): { items: NoodtoegangRecord[]; more: boolean } {
    const { bind, params } = sqliteParams();
    const sql = queueSql(query, bind);
    let statement = this.#lists.get(sql);
    if (!statement) this.#lists.set(sql, (statement = this.#db.$client.prepare<Record<string, unknown>, NoodtoegangRow>(sql)));
    return queuePage(statement.all(params), query.limit);
  }

  /** Records the verdict on an access that has none yet; false when it has one already (or does not exist). */
  judge(id: string, verdict: NoodtoegangVerdict): boolean {
    return this.#judge.run({ id, ...verdict }).changes === 1;
  }
}
