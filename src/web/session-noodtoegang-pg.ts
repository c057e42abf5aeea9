import type { Clock } from '../clock.js';
import type { GrantedNoodtoegang } from '../noodtoegang/grant.js';
import { changes, type Queryable, rows } from '../pg-query.js';
import { HELD_COLUMNS, type HeldRow, liveAccess, type SessionNoodtoegangStore } from './session-noodtoegang.js';
import { sha256 } from './sessions.js';

/**
 * The emergency access a web session holds, on PostgreSQL: SessionNoodtoegang (src/web/session-noodtoegang.ts) with
 * the same answers, asynchronous, so that the instance a view reaches reads with the access another one granted.
 */
export class PgSessionNoodtoegang implements SessionNoodtoegangStore {
  constructor(
    readonly q: Queryable,
    readonly clock: Clock,
  ) {}

  /** Keeps the access just granted with the session `sessionId`. */
  async hold(sessionId: string, granted: GrantedNoodtoegang): Promise<void> {
    await changes(
      this.q,
      `UPDATE web_sessions SET noodtoegang_id = $1, noodtoegang_token_id = $2, noodtoegang_client_ref = $3, noodtoegang_purpose = $4, noodtoegang_until = $5
       WHERE id_hash = $6`,
      [granted.id, granted.tokenId, granted.clientRef, granted.purpose, granted.until, sha256(sessionId)],
    );
  }

  /** The session's emergency access while it lasts; undefined once it ended (or when there is none). */
  async live(sessionId: string): Promise<GrantedNoodtoegang | undefined> {
    const [row] = await rows<HeldRow>(this.q, `SELECT ${HELD_COLUMNS} FROM web_sessions WHERE id_hash = $1`, [sha256(sessionId)]);
    return liveAccess(row, this.clock.now());
  }
}
