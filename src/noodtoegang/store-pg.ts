import { changes, type Queryable, rows } from '../pg-query.js';
import { pgParams } from '../sql-filters.js';
import {
  NOODTOEGANG_COLUMNS,
  type NoodtoegangGrant,
  type NoodtoegangQuery,
  type NoodtoegangRecord,
  type NoodtoegangRow,
  type NoodtoegangVerdict,
  personKey,
  queuePage,
  queueSql,
  toRecord,
} from './store.js';

/** The first key of the per-person advisory locks (the two-key form, a key space apart from the one-key locks). */
const PERSON_LOCK = 0x6e6f6f64; // 'nood'

/**
 * The emergency accesses on PostgreSQL: NoodtoegangStore (src/noodtoegang/store.ts) with the same answers and
 * refusals, asynchronous, reached through the unit of work's transaction. SQLite serialises whole transactions;
 * here two instances could both count a person's accesses before either inserts, so `countSince` first takes a
 * transaction-level advisory lock on the person: a second grant of that person waits until the first committed and
 * then counts it. A verdict is set once because the UPDATE asks for a row without one (READ COMMITTED re-reads a
 * row another transaction just judged, and then finds none).
 */
export class PgNoodtoegangStore {
  constructor(readonly q: Queryable) {}

  /** The same store on another queryable (a transaction's client). */
  on(q: Queryable): PgNoodtoegangStore {
    return new PgNoodtoegangStore(q);
  }

  /** Stores a granted emergency access. */
  async record(grant: NoodtoegangGrant): Promise<void> {
    const { actor } = grant;
    await changes(
      this.q,
      `INSERT INTO noodtoegang (id, at, actor_iss, actor_sub, actor_role, actor_org, person, client_id, client_ref, purpose, reden, token_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        grant.id,
        grant.at,
        actor.iss,
        actor.sub,
        actor.role,
        actor.org,
        personKey(actor),
        grant.clientId,
        grant.clientRef,
        grant.purpose,
        grant.reden,
        grant.tokenId,
      ],
    );
  }

  /** How many emergency accesses this person was granted after `since` (epoch ms). */
  async countSince(person: { iss: string; sub: string }, since: number): Promise<number> {
    const key = personKey(person);
    await rows(this.q, 'SELECT pg_advisory_xact_lock($1, hashtext($2))', [PERSON_LOCK, key]);
    const [row] = await rows<{ n: number }>(this.q, 'SELECT count(*)::int AS n FROM noodtoegang WHERE person = $1 AND at > $2', [key, since]);
    return row?.n ?? 0;
  }

  async get(id: string): Promise<NoodtoegangRecord | undefined> {
    const [row] = await rows<NoodtoegangRow>(this.q, `SELECT ${NOODTOEGANG_COLUMNS} FROM noodtoegang WHERE id = $1`, [id]);
    return row && toRecord(row);
  }

  /** One page of the queue, oldest first, and whether there is more after it. */
  async list(query: NoodtoegangQuery): Promise<{ items: NoodtoegangRecord[]; more: boolean }> {
    const { bind, values } = pgParams();
    const sql = queueSql(query, bind);
    return queuePage(await rows<NoodtoegangRow>(this.q, sql, values), query.limit);
  }

  /** Records the verdict on an access that has none yet; false when it has one already (or does not exist). */
  async judge(id: string, verdict: NoodtoegangVerdict): Promise<boolean> {
    const n = await changes(
      this.q,
      `UPDATE noodtoegang SET verdict = $2, verdict_note = $3, verdict_iss = $4, verdict_sub = $5, verdict_at = $6 WHERE id = $1 AND verdict IS NULL`,
      [id, verdict.verdict, verdict.note, verdict.iss, verdict.sub, verdict.at],
    );
    return n === 1;
  }
}
