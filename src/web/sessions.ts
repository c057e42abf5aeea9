import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Clock } from '../clock.js';
import type { Db } from '../db.js';
import type { WebSession } from '../http/env.js';
import type { Role } from '../purposes.js';
import type { Awaiting } from '../unit-of-work.js';

/**
 * INVARIANT: the browser holds a session id, the database only its SHA-256; a copy of the database (or a log of its
 * statements) opens no session. Every login gets a new id (rotation), so an id planted before the login is worthless.
 * The same holds for pending logins: their `state` and the browser-binding cookie are stored as hashes, each row is
 * taken once, and none lives past ten minutes.
 */

/** Who a session belongs to: the verified login (a person is `issuer` + `sub`). */
export type SessionLogin = WebSession['login'];

/** Why a session ended; the reason of its `session.ended` audit line. */
export type SessionEndReason = 'LOGOUT' | 'IDLE_TIMEOUT' | 'ABSOLUTE_TIMEOUT' | 'REPLACED';

/** What a session id from a cookie leads to. */
export type SessionLookup =
  | { status: 'active'; session: WebSession; lastSeenAt: number }
  | { status: 'expired'; reason: 'IDLE_TIMEOUT' | 'ABSOLUTE_TIMEOUT'; login: SessionLogin }
  | { status: 'unknown' };

/** A session just removed: who it was, and the ID token its provider's logout asks for. */
export interface EndedSession {
  login: SessionLogin;
  idToken: string;
}

/** A login on its way through the provider, as the callback takes it back. */
export interface PendingLogin {
  nonce: string;
  codeVerifier: string;
  issuer: string;
  /** The same-origin path to land on afterwards, when one was asked for. */
  returnTo: string | undefined;
}

/** Why a callback's `state` and browser do not lead to a pending login; the reason of its audit line. */
export type PendingLoginRefusal = 'LOGIN_STATE_UNKNOWN' | 'LOGIN_BINDING_MISSING' | 'LOGIN_BINDING_MISMATCH';

/** How long a pending login waits for its callback. */
export const PENDING_LOGIN_MS = 10 * 60_000;
/** A session's `last_seen_at` is written at most this often. */
export const TOUCH_EVERY_MS = 60_000;

/** The shape of the random values this store hands out: 32 bytes, base64url. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
/** Whether `id` has the shape of a session id; anything else is looked up nowhere. */
export const isSessionId = (id: string): boolean => TOKEN.test(id);

/** A fresh random value for a session id, a CSRF token, a browser binding. */
export const randomToken = (): string => randomBytes(32).toString('base64url');
/** The stored form of a session id, a `state` or a browser binding: SHA-256, hex. */
export const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

/** Whether two strings are equal, in time that does not depend on where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  // Digests have one length, so timingSafeEqual can compare them whatever the inputs' lengths.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** A row of web_sessions as `SESSION_COLUMNS` names it, in either database. */
export interface SessionRow {
  issuer: string;
  sub: string;
  role: Role;
  org: string;
  name: string | null;
  idToken: string;
  csrfToken: string;
  lastSeenAt: number;
  expiresAt: number;
}

/** A row of web_pending_logins as `PENDING_COLUMNS` names it. */
export interface PendingRow {
  nonce: string;
  codeVerifier: string;
  issuer: string;
  returnTo: string | null;
  bindingHash: string;
  createdAt: number;
}

/** The columns of a `SessionRow`; quoted aliases, which both SQLite and PostgreSQL keep as written. */
export const SESSION_COLUMNS =
  'issuer, sub, role, org, name, id_token AS "idToken", csrf_token AS "csrfToken", last_seen_at AS "lastSeenAt", expires_at AS "expiresAt"';
/** The columns of a `PendingRow`. */
export const PENDING_COLUMNS =
  'nonce, code_verifier AS "codeVerifier", issuer, return_to AS "returnTo", binding_hash AS "bindingHash", created_at AS "createdAt"';

/** What a stored session is at `now`: past its absolute end, idle for `idleMs`, or active. */
export function lookupOf(row: SessionRow, now: number, idleMs: number): SessionLookup {
  if (now >= row.expiresAt) return { status: 'expired', reason: 'ABSOLUTE_TIMEOUT', login: loginOf(row) };
  if (now - row.lastSeenAt >= idleMs) return { status: 'expired', reason: 'IDLE_TIMEOUT', login: loginOf(row) };
  return { status: 'active', session: { login: loginOf(row), csrfToken: row.csrfToken }, lastSeenAt: row.lastSeenAt };
}

/** Why a pruned session ended. */
export const pruneReason = (row: SessionRow, now: number): 'IDLE_TIMEOUT' | 'ABSOLUTE_TIMEOUT' => (now >= row.expiresAt ? 'ABSOLUTE_TIMEOUT' : 'IDLE_TIMEOUT');

/** Whether a callback's `state` is worth looking up at all. */
export const isPlausibleState = (state: string | undefined): state is string => state !== undefined && state.length > 0 && state.length <= 512;

/** The answer to a callback whose `state` led to `row` (taken, so gone whatever the answer), at `now`, from `binding`. */
export function pendingAnswer(
  row: PendingRow | undefined,
  now: number,
  binding: string | undefined,
): { ok: true; value: PendingLogin } | { ok: false; reason: PendingLoginRefusal } {
  if (!row || now - row.createdAt >= PENDING_LOGIN_MS) return { ok: false, reason: 'LOGIN_STATE_UNKNOWN' };
  if (binding === undefined || binding.length === 0) return { ok: false, reason: 'LOGIN_BINDING_MISSING' };
  if (!constantTimeEqual(sha256(binding), row.bindingHash)) return { ok: false, reason: 'LOGIN_BINDING_MISMATCH' };
  const { nonce, codeVerifier, issuer, returnTo } = row;
  return { ok: true, value: { nonce, codeVerifier, issuer, returnTo: returnTo ?? undefined } };
}

/** The idle timeout and the absolute end in milliseconds; TypeError for a nonsensical configuration. */
export function sessionLimits(options: { idleMinutes: number; maxHours: number }): { idleMs: number; maxMs: number } {
  if (!(options.idleMinutes > 0) || !(options.maxHours > 0)) throw new TypeError('SessionStore: idleMinutes and maxHours must be positive');
  return { idleMs: options.idleMinutes * 60_000, maxMs: options.maxHours * 3_600_000 };
}

/** The login a stored session belongs to. */
export const loginOf = (row: SessionRow): SessionLogin => ({
  issuer: row.issuer,
  sub: row.sub,
  role: row.role,
  org: row.org,
  ...(row.name !== null ? { name: row.name } : {}),
});

/**
 * What the web application asks of the sessions outside a unit of work (the writes that need no audit line), on
 * either database: SessionStore answers at once, PgSessionStore (src/web/sessions-pg.ts) later. Always `await` it.
 */
export type WebSessions = Awaiting<Pick<SessionStore, 'get' | 'touch' | 'beginLogin' | 'takeLogin' | 'prunePendingLogins' | 'hasExpired'>>;

/**
 * The web application's sessions and pending logins, in the state database. Synchronous (better-sqlite3): the writes
 * that need an audit line (create, destroy, prune) run inside a unit of work through `tx.sessions`; `get`, `touch` and
 * the pending logins need none and run directly.
 */
export class SessionStore {
  readonly #clock: Clock;
  readonly #idleMs: number;
  readonly #maxMs: number;
  readonly #sql: {
    insert: Statement<[string, string, string, string, string, string | null, string, string, number, number, number]>;
    get: Statement<[string], SessionRow>;
    touch: Statement<[number, string, number]>;
    delete: Statement<[string], SessionRow>;
    expired: Statement<[number, number], SessionRow & { idHash: string }>;
    deleteHash: Statement<[string]>;
    hasExpired: Statement<[number, number], number>;
    insertPending: Statement<[string, string, string, string, string | null, string, number]>;
    takePending: Statement<[string], PendingRow>;
    prunePending: Statement<[number]>;
  };

  /** `idleMinutes` and `maxHours`: DOELPOORT_SESSION_IDLE_MINUTES and DOELPOORT_SESSION_MAX_HOURS. */
  constructor(db: Db, clock: Clock, options: { idleMinutes: number; maxHours: number }) {
    this.#clock = clock;
    ({ idleMs: this.#idleMs, maxMs: this.#maxMs } = sessionLimits(options));
    const s = db.$client;
    const columns = SESSION_COLUMNS;
    this.#sql = {
      insert: s.prepare(
        `INSERT INTO web_sessions (id_hash, issuer, sub, role, org, name, id_token, csrf_token, created_at, last_seen_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      get: s.prepare(`SELECT ${columns} FROM web_sessions WHERE id_hash = ?`),
      touch: s.prepare('UPDATE web_sessions SET last_seen_at = ? WHERE id_hash = ? AND last_seen_at <= ?'),
      delete: s.prepare(`DELETE FROM web_sessions WHERE id_hash = ? RETURNING ${columns}`),
      expired: s.prepare(`SELECT id_hash AS idHash, ${columns} FROM web_sessions WHERE expires_at <= ? OR last_seen_at <= ?`),
      deleteHash: s.prepare('DELETE FROM web_sessions WHERE id_hash = ?'),
      hasExpired: s.prepare<[number, number], number>('SELECT 1 FROM web_sessions WHERE expires_at <= ? OR last_seen_at <= ? LIMIT 1').pluck(),
      insertPending: s.prepare(
        `INSERT INTO web_pending_logins (state_hash, nonce, code_verifier, issuer, return_to, binding_hash, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      takePending: s.prepare(
        `DELETE FROM web_pending_logins WHERE state_hash = ?
         RETURNING ${PENDING_COLUMNS}`,
      ),
      prunePending: s.prepare('DELETE FROM web_pending_logins WHERE created_at <= ?'),
    };
  }

  /** A new session for a verified login: a new random id (rotation) and CSRF token. The id goes to the cookie only. */
  create(login: SessionLogin, idToken: string): { id: string; csrfToken: string } {
    const id = randomToken();
    const csrfToken = randomToken();
    const now = this.#clock.now();
    const { issuer, sub, role, org, name } = login;
    this.#sql.insert.run(sha256(id), issuer, sub, role, org, name ?? null, idToken, csrfToken, now, now, now + this.#maxMs);
    return { id, csrfToken };
  }

  /** The session a cookie's id leads to: active, expired (idle or past its absolute end; still stored), or unknown. */
  get(id: string): SessionLookup {
    if (!isSessionId(id)) return { status: 'unknown' };
    const row = this.#sql.get.get(sha256(id));
    return row ? lookupOf(row, this.#clock.now(), this.#idleMs) : { status: 'unknown' };
  }

  /** Records activity, writing only when the last write is at least a minute old; whether it wrote. */
  touch(id: string): boolean {
    if (!isSessionId(id)) return false;
    const now = this.#clock.now();
    return this.#sql.touch.run(now, sha256(id), now - TOUCH_EVERY_MS).changes > 0;
  }

  /** Removes a session (logout, or one found expired); what it was, or undefined when it was already gone. */
  destroy(id: string): EndedSession | undefined {
    if (!isSessionId(id)) return undefined;
    const row = this.#sql.delete.get(sha256(id));
    return row ? { login: loginOf(row), idToken: row.idToken } : undefined;
  }

  /** Whether any stored session has expired (so that `prune` has lines to write). */
  hasExpired(): boolean {
    const now = this.#clock.now();
    return this.#sql.hasExpired.get(now, now - this.#idleMs) !== undefined;
  }

  /** Removes every expired session; who each was and why it ended, for their audit lines. */
  prune(): Array<{ login: SessionLogin; reason: 'IDLE_TIMEOUT' | 'ABSOLUTE_TIMEOUT' }> {
    const now = this.#clock.now();
    return this.#sql.expired.all(now, now - this.#idleMs).map((row) => {
      this.#sql.deleteHash.run(row.idHash);
      return { login: loginOf(row), reason: pruneReason(row, now) };
    });
  }

  /** Stores a login on its way to the provider, under its `state`, bound to the browser's pre-login cookie. */
  beginLogin(state: string, pending: PendingLogin & { binding: string }): void {
    const now = this.#clock.now();
    this.#sql.prunePending.run(now - PENDING_LOGIN_MS);
    const { nonce, codeVerifier, issuer, returnTo, binding } = pending;
    this.#sql.insertPending.run(sha256(state), nonce, codeVerifier, issuer, returnTo ?? null, sha256(binding), now);
  }

  /**
   * Takes the pending login of a callback's `state`, once: it is gone afterwards, whatever the answer. It must be
   * younger than ten minutes and come back to the browser that started it (`binding`, its pre-login cookie).
   */
  takeLogin(state: string | undefined, binding: string | undefined): { ok: true; value: PendingLogin } | { ok: false; reason: PendingLoginRefusal } {
    if (!isPlausibleState(state)) return { ok: false, reason: 'LOGIN_STATE_UNKNOWN' };
    return pendingAnswer(this.#sql.takePending.get(sha256(state)), this.#clock.now(), binding);
  }

  /** Removes pending logins older than ten minutes. */
  prunePendingLogins(): number {
    return this.#sql.prunePending.run(this.#clock.now() - PENDING_LOGIN_MS).changes;
  }
}
