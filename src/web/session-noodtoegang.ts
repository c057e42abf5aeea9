import { createHash } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Clock } from '../clock.js';
import type { Db } from '../db.js';
import type { GrantedNoodtoegang } from '../noodtoegang/grant.js';
import type { Purpose } from '../purposes.js';

/**
 * The emergency access a web session holds (columns of `web_sessions`): the one granted last in this session, until
 * its end (at most 15 minutes after the grant). Kept in the state database like the session itself, so every instance
 * of the gateway reads with it; ending the session ends it. A new grant replaces the earlier one.
 */
export class SessionNoodtoegang {
  readonly #set: Statement<[string, string, string, string, number, string]>;
  readonly #get: Statement<[string], { id: string | null; tokenId: string | null; clientRef: string | null; purpose: string | null; until: number | null }>;

  constructor(
    db: Db,
    readonly clock: Clock,
  ) {
    const s = db.$client;
    this.#set = s.prepare(
      `UPDATE web_sessions SET noodtoegang_id = ?, noodtoegang_token_id = ?, noodtoegang_client_ref = ?, noodtoegang_purpose = ?, noodtoegang_until = ?
       WHERE id_hash = ?`,
    );
    this.#get = s.prepare(
      `SELECT noodtoegang_id AS id, noodtoegang_token_id AS tokenId, noodtoegang_client_ref AS clientRef, noodtoegang_purpose AS purpose,
         noodtoegang_until AS until FROM web_sessions WHERE id_hash = ?`,
    );
  }

  /** Keeps the access just granted with the session `sessionId`. */
  hold(sessionId: string, granted: GrantedNoodtoegang): void {
    this.#set.run(granted.id, granted.tokenId, granted.clientRef, granted.purpose, granted.until, sha256(sessionId));
  }

  /** The session's emergency access while it lasts; undefined once it ended (or when there is none). */
  live(sessionId: string): GrantedNoodtoegang | undefined {
    const row = this.#get.get(sha256(sessionId));
    if (!row || row.id === null || row.tokenId === null || row.clientRef === null || row.purpose === null || row.until === null) return undefined;
    if (this.clock.now() >= row.until) return undefined;
    return { id: row.id, tokenId: row.tokenId, clientRef: row.clientRef, purpose: row.purpose as Purpose, until: row.until };
  }
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
