import type { Clock } from '../clock.js';
import { changes, type Queryable, rows } from '../pg-query.js';
import {
  type EndedSession,
  isPlausibleState,
  isSessionId,
  loginOf,
  lookupOf,
  PENDING_COLUMNS,
  PENDING_LOGIN_MS,
  type PendingLogin,
  type PendingLoginRefusal,
  type PendingRow,
  pendingAnswer,
  pruneReason,
  randomToken,
  SESSION_COLUMNS,
  type SessionLogin,
  type SessionLookup,
  type SessionRow,
  sessionLimits,
  sha256,
  TOUCH_EVERY_MS,
} from './sessions.js';

/**
 * The web application's sessions and pending logins on PostgreSQL, shared by every instance: SessionStore
 * (src/web/sessions.ts, whose INVARIANT holds here too: only hashes of ids, states and bindings are stored) with
 * the same answers, asynchronous. Each row is taken once even across instances: a destroy, a prune and a callback
 * take theirs with DELETE … RETURNING, so of two instances only one gets the row.
 */
export class PgSessionStore {
  readonly #idleMs: number;
  readonly #maxMs: number;

  /** `idleMinutes` and `maxHours`: DOELPOORT_SESSION_IDLE_MINUTES and DOELPOORT_SESSION_MAX_HOURS. */
  constructor(
    readonly q: Queryable,
    readonly clock: Clock,
    readonly options: { idleMinutes: number; maxHours: number },
  ) {
    ({ idleMs: this.#idleMs, maxMs: this.#maxMs } = sessionLimits(options));
  }

  /** The same sessions on another queryable (a transaction's client). */
  on(q: Queryable): PgSessionStore {
    return new PgSessionStore(q, this.clock, this.options);
  }

  /** A new session for a verified login: a new random id (rotation) and CSRF token. The id goes to the cookie only. */
  async create(login: SessionLogin, idToken: string): Promise<{ id: string; csrfToken: string }> {
    const id = randomToken();
    const csrfToken = randomToken();
    const now = this.clock.now();
    const { issuer, sub, role, org, name } = login;
    await changes(
      this.q,
      `INSERT INTO web_sessions (id_hash, issuer, sub, role, org, name, id_token, csrf_token, created_at, last_seen_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)`,
      [sha256(id), issuer, sub, role, org, name ?? null, idToken, csrfToken, now, now + this.#maxMs],
    );
    return { id, csrfToken };
  }

  /** The session a cookie's id leads to: active, expired (idle or past its absolute end; still stored), or unknown. */
  async get(id: string): Promise<SessionLookup> {
    if (!isSessionId(id)) return { status: 'unknown' };
    const [row] = await rows<SessionRow>(this.q, `SELECT ${SESSION_COLUMNS} FROM web_sessions WHERE id_hash = $1`, [sha256(id)]);
    return row ? lookupOf(row, this.clock.now(), this.#idleMs) : { status: 'unknown' };
  }

  /** Records activity, writing only when the last write is at least a minute old; whether it wrote. */
  async touch(id: string): Promise<boolean> {
    if (!isSessionId(id)) return false;
    const now = this.clock.now();
    return (
      (await changes(this.q, 'UPDATE web_sessions SET last_seen_at = $1 WHERE id_hash = $2 AND last_seen_at <= $3', [now, sha256(id), now - TOUCH_EVERY_MS])) >
      0
    );
  }

  /** Removes a session (logout, or one found expired); what it was, or undefined when it was already gone. */
  async destroy(id: string): Promise<EndedSession | undefined> {
    if (!isSessionId(id)) return undefined;
    const [row] = await rows<SessionRow>(this.q, `DELETE FROM web_sessions WHERE id_hash = $1 RETURNING ${SESSION_COLUMNS}`, [sha256(id)]);
    return row ? { login: loginOf(row), idToken: row.idToken } : undefined;
  }

  /** Whether any stored session has expired (so that `prune` has lines to write). */
  async hasExpired(): Promise<boolean> {
    const now = this.clock.now();
    return (await rows(this.q, 'SELECT 1 FROM web_sessions WHERE expires_at <= $1 OR last_seen_at <= $2 LIMIT 1', [now, now - this.#idleMs])).length > 0;
  }

  /** Removes every expired session, oldest first; who each was and why it ended, for their audit lines. */
  async prune(): Promise<Array<{ login: SessionLogin; reason: 'IDLE_TIMEOUT' | 'ABSOLUTE_TIMEOUT' }>> {
    const now = this.clock.now();
    const gone = await rows<SessionRow>(
      this.q,
      `WITH gone AS (DELETE FROM web_sessions WHERE expires_at <= $1 OR last_seen_at <= $2 RETURNING created_at, id_hash, ${SESSION_COLUMNS})
       SELECT * FROM gone ORDER BY created_at, id_hash`,
      [now, now - this.#idleMs],
    );
    return gone.map((row) => ({ login: loginOf(row), reason: pruneReason(row, now) }));
  }

  /** Stores a login on its way to the provider, under its `state`, bound to the browser's pre-login cookie. */
  async beginLogin(state: string, pending: PendingLogin & { binding: string }): Promise<void> {
    const now = this.clock.now();
    await this.#prunePending(now);
    const { nonce, codeVerifier, issuer, returnTo, binding } = pending;
    await changes(
      this.q,
      `INSERT INTO web_pending_logins (state_hash, nonce, code_verifier, issuer, return_to, binding_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [sha256(state), nonce, codeVerifier, issuer, returnTo ?? null, sha256(binding), now],
    );
  }

  /**
   * Takes the pending login of a callback's `state`, once (on any instance): it is gone afterwards, whatever the
   * answer. It must be younger than ten minutes and come back to the browser that started it.
   */
  async takeLogin(
    state: string | undefined,
    binding: string | undefined,
  ): Promise<{ ok: true; value: PendingLogin } | { ok: false; reason: PendingLoginRefusal }> {
    if (!isPlausibleState(state)) return { ok: false, reason: 'LOGIN_STATE_UNKNOWN' };
    const [row] = await rows<PendingRow>(this.q, `DELETE FROM web_pending_logins WHERE state_hash = $1 RETURNING ${PENDING_COLUMNS}`, [sha256(state)]);
    return pendingAnswer(row, this.clock.now(), binding);
  }

  /** Removes pending logins older than ten minutes. */
  async prunePendingLogins(): Promise<number> {
    return this.#prunePending(this.clock.now());
  }

  #prunePending(now: number): Promise<number> {
    return changes(this.q, 'DELETE FROM web_pending_logins WHERE created_at <= $1', [now - PENDING_LOGIN_MS]);
  }
}
