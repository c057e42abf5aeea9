import type { Clock } from '../clock.js';
import { changes, type Queryable, rows } from '../pg-query.js';
import {
  FRESH_LOGIN_MS,
  GRANT_COLUMNS,
  type GrantRow,
  grantFor,
  isPlausibleReauthState,
  liveStep,
  type PendingReauthentication,
  REAUTH_COLUMNS,
  type ReauthenticationStart,
  type ReauthStore,
  takenAnswer,
} from './reauth.js';
import { PENDING_LOGIN_MS, sha256 } from './sessions.js';

/**
 * The pending re-authentications and the sessions' fresh-login grants on PostgreSQL, shared by every instance:
 * Reauthentications (src/web/reauth.ts) with the same answers, asynchronous. Single use across instances, each by
 * one statement: `take` deletes the pending row and gets it back in the same DELETE … RETURNING, and `consume` clears
 * the grant with an UPDATE whose WHERE asks for it, so of two instances racing only one finds the row (READ
 * COMMITTED re-checks the WHERE on the row the other one changed, and then it no longer matches).
 */
export class PgReauthentications implements ReauthStore {
  constructor(
    readonly q: Queryable,
    readonly clock: Clock,
  ) {}

  /** Keeps a re-authentication on its way to the provider under its `state`, bound to the session `sessionId`. */
  async begin(state: string, sessionId: string, pending: ReauthenticationStart): Promise<void> {
    const now = this.clock.now();
    await changes(this.q, 'DELETE FROM web_reauthentications WHERE created_at <= $1', [now - PENDING_LOGIN_MS]);
    const { issuer, nonce, codeVerifier, step, detail, returnTo } = pending;
    await changes(
      this.q,
      `INSERT INTO web_reauthentications (state_hash, session_hash, issuer, nonce, code_verifier, step, detail, return_to, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [sha256(state), sha256(sessionId), issuer, nonce, codeVerifier, step, detail ?? null, returnTo, now],
    );
  }

  /** Whether `state` belongs to a re-authentication (rather than a login). */
  async has(state: string | null): Promise<boolean> {
    if (!isPlausibleReauthState(state)) return false;
    return (await rows(this.q, 'SELECT 1 FROM web_reauthentications WHERE state_hash = $1', [sha256(state)])).length > 0;
  }

  /** Takes the pending re-authentication of `state`, once (on any instance). */
  async take(state: string): Promise<PendingReauthentication | undefined> {
    const [found] = await rows<PendingReauthentication>(this.q, `DELETE FROM web_reauthentications WHERE state_hash = $1 RETURNING ${REAUTH_COLUMNS}`, [
      sha256(state),
    ]);
    return takenAnswer(found, this.clock.now());
  }

  /** Gives the session a fresh-login grant for `step` (with what it was asked with), replacing an earlier one. */
  async grant(sessionId: string, step: string, detail: string | null = null): Promise<void> {
    await changes(this.q, 'UPDATE web_sessions SET fresh_step = $1, fresh_detail = $2, fresh_at = $3 WHERE id_hash = $4', [
      step,
      detail,
      this.clock.now(),
      sha256(sessionId),
    ]);
  }

  /** The session's live grant for `step`, without using it: what the step was asked with ('' when nothing). */
  async heldFor(sessionId: string, step: string): Promise<{ detail: string } | undefined> {
    return grantFor(await this.#held(sessionId), step, this.clock.now());
  }

  /** The step of the session's live grant, if any. */
  async heldStep(sessionId: string): Promise<string | undefined> {
    return liveStep(await this.#held(sessionId), this.clock.now());
  }

  /** Whether the session holds a live grant for `step` (the form is shown), without using it. */
  async holds(sessionId: string, step: string): Promise<boolean> {
    return (await this.heldFor(sessionId, step)) !== undefined;
  }

  /**
   * Uses the session's grant for `step`: true once, when it is live, on whichever instance asks first; it is gone
   * afterwards either way. The clearing after a miss is a second statement: a grant given in between (a re-login of
   * the same session completing at that moment) is cleared too, which asks for one more login and never lets a step
   * through.
   */
  async consume(sessionId: string, step: string): Promise<boolean> {
    const hash = sha256(sessionId);
    const used =
      (await changes(
        this.q,
        'UPDATE web_sessions SET fresh_step = NULL, fresh_detail = NULL, fresh_at = NULL WHERE id_hash = $1 AND fresh_step = $2 AND fresh_at > $3',
        [hash, step, this.clock.now() - FRESH_LOGIN_MS],
      )) === 1;
    if (!used) await changes(this.q, 'UPDATE web_sessions SET fresh_step = NULL, fresh_detail = NULL, fresh_at = NULL WHERE id_hash = $1', [hash]);
    return used;
  }

  async #held(sessionId: string): Promise<GrantRow | undefined> {
    const [row] = await rows<GrantRow>(this.q, `SELECT ${GRANT_COLUMNS} FROM web_sessions WHERE id_hash = $1`, [sha256(sessionId)]);
    return row;
  }
}
