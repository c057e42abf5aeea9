import type { Statement } from 'better-sqlite3';
import type { Clock } from '../clock.js';
import type { Db } from '../db.js';
import type { GrantedNoodtoegang } from '../noodtoegang/grant.js';
import type { Purpose } from '../purposes.js';
import type { Awaiting } from '../unit-of-work.js';
import { sha256 } from './sessions.js';

/** A session's emergency-access columns as `HELD_COLUMNS` names them. */
export interface HeldRow {
  id: string | null;
  tokenId: string | null;
  clientRef: string | null;
  purpose: string | null;
  until: number | null;
}

/** The columns of a `HeldRow`; quoted aliases, which both SQLite and PostgreSQL keep as written. */
export const HELD_COLUMNS =
  'noodtoegang_id AS id, noodtoegang_token_id AS "tokenId", noodtoegang_client_ref AS "clientRef", noodtoegang_purpose AS purpose, noodtoegang_until AS until';

/** The access a session's row holds, while it lasts at `now`; undefined once it ended (or when there is none). */
export function liveAccess(row: HeldRow | undefined, now: number): GrantedNoodtoegang | undefined {
  if (!row || row.id === null || row.tokenId === null || row.clientRef === null || row.purpose === null || row.until === null) return undefined;
  if (now >= row.until) return undefined;
  return { id: row.id, tokenId: row.tokenId, clientRef: row.clientRef, purpose: row.purpose as Purpose, until: row.until };
}

/**
 * The emergency access a web session holds (columns of `web_sessions`): the one granted last in this session, until
 * its end (at most 15 minutes after the grant). Kept in the state database like the session itself, so every instance
 * of the gateway reads with it; ending the session ends it. A new grant replaces the earlier one. The same on
 * PostgreSQL: PgSessionNoodtoegang (src/web/session-noodtoegang-pg.ts).
 */
export class SessionNoodtoegang {
  readonly #set: Statement<[string, string, string, string, number, string]>;
  readonly #get: Statement<[string], HeldRow>;

  constructor(
    db: Db,
    readonly clock: Clock,
  ) {
    const s = db.$client;
    this.#set = s.prepare(
      `UPDATE web_sessions SET noodtoegang_id = ?, noodtoegang_token_id = ?, noodtoegang_client_ref = ?, noodtoegang_purpose = ?, noodtoegang_until = ?
       WHERE id_hash = ?`,
    );
    this.#get = s.prepare(`SELECT ${HELD_COLUMNS} FROM web_sessions WHERE id_hash = ?`);
  }

  /** Keeps the access just granted with the session `sessionId`. */
  hold(sessionId: string, granted: GrantedNoodtoegang): void {
    this.#set.run(granted.id, granted.tokenId, granted.clientRef, granted.purpose, granted.until, sha256(sessionId));
  }

  /** The session's emergency access while it lasts; undefined once it ended (or when there is none). */
  live(sessionId: string): GrantedNoodtoegang | undefined {
    return liveAccess(this.#get.get(sha256(sessionId)), this.clock.now());
  }
}

/** The emergency access of a web session as the web application uses it, on either database. Always `await` it. */
export type SessionNoodtoegangStore = Awaiting<Pick<SessionNoodtoegang, 'hold' | 'live'>>;
