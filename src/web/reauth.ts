import { auditActor } from '../audit/entry.js';
import { auditFacts, type RequestFacts } from '../audit/facts.js';
import type { Statement } from 'better-sqlite3';
import type { Clock } from '../clock.js';
import type { Db } from '../db.js';
import type { AppDeps } from '../http/deps.js';
import type { Result } from '../result.js';
import { CLOCK_TOLERANCE_SECONDS } from '../tokens/algorithms.js';
import { appendLine, type Awaiting } from '../unit-of-work.js';
import type { CallbackRefusal } from './oidc.js';
import { PENDING_LOGIN_MS, type SessionLogin, sha256 } from './sessions.js';

/**
 * Re-authentication: a logged-in person logs in again at their provider (`prompt=login`, `max_age=0`) immediately
 * before a step that asks for it (approving a policy version, an emergency access), and comes back to that step. The
 * new login must be the same person (iss, sub) as the session's, and its `auth_time` must lie after the moment it was
 * asked for; then the session holds a fresh-login grant for that one step, for FRESH_LOGIN_MS, used once.
 *
 * Both the pending re-authentications (`web_reauthentications`) and the grants (columns of `web_sessions`) live in the
 * state database, so that the callback and the step may reach another instance of the gateway than the one that
 * started it, and a restart forgets nothing. A pending one is bound to the session that started it (its id's hash),
 * not to a cookie of its own: the callback must come back in the same session. Ending the session ends its grant.
 */

/** How long a fresh login counts for the step it was asked for. */
export const FRESH_LOGIN_MS = 5 * 60_000;
/** How far the provider's clock (`auth_time`, whole seconds) may be behind ours: the tolerance of every token check. */
const AUTH_TIME_TOLERANCE_MS = CLOCK_TOLERANCE_SECONDS * 1000;

/** Why a re-authentication was refused; the reason of its `session.refused` line. */
export type ReauthRefusal = 'REAUTH_SESSION_MISMATCH' | 'REAUTH_PERSON_MISMATCH' | 'REAUTH_NOT_FRESH' | 'LOGIN_STATE_UNKNOWN' | CallbackRefusal;

/** A re-authentication on its way to the provider, as the callback takes it back. */
export interface PendingReauthentication {
  sessionHash: string;
  issuer: string;
  nonce: string;
  codeVerifier: string;
  /** The step the grant is for (`policy.approve:12`), what it was asked with, and the page to come back to. */
  step: string;
  detail: string | null;
  returnTo: string;
  createdAt: number;
}

/** What `begin` keeps besides the state and the session. */
export interface ReauthenticationStart {
  issuer: string;
  nonce: string;
  codeVerifier: string;
  step: string;
  detail?: string | undefined;
  returnTo: string;
}

/** A session's grant columns as `GRANT_COLUMNS` names them. */
export interface GrantRow {
  step: string | null;
  detail: string | null;
  at: number | null;
}

/** The columns of a `PendingReauthentication`; quoted aliases, which both SQLite and PostgreSQL keep as written. */
export const REAUTH_COLUMNS =
  'session_hash AS "sessionHash", issuer, nonce, code_verifier AS "codeVerifier", step, detail, return_to AS "returnTo", created_at AS "createdAt"';
/** The columns of a `GrantRow`. */
export const GRANT_COLUMNS = 'fresh_step AS step, fresh_detail AS detail, fresh_at AS at';

/** Whether a callback's `state` is worth looking up as a re-authentication's at all. */
export const isPlausibleReauthState = (state: string | null): state is string => state !== null && state.length > 0 && state.length <= 512;

/** The pending re-authentication a `state` led to (taken, so gone whatever the answer), if it is still young enough at `now`. */
export const takenAnswer = (found: PendingReauthentication | undefined, now: number): PendingReauthentication | undefined =>
  found && now - found.createdAt < PENDING_LOGIN_MS ? found : undefined;

/** The live grant of a session's row for `step` at `now`: what the step was asked with ('' when nothing). */
export function grantFor(g: GrantRow | undefined, step: string, now: number): { detail: string } | undefined {
  if (!g || g.step !== step || g.at === null || now - g.at >= FRESH_LOGIN_MS) return undefined;
  return { detail: g.detail ?? '' };
}

/** The step of a session's row's live grant at `now`, if any. */
export const liveStep = (g: GrantRow | undefined, now: number): string | undefined =>
  g?.step && g.at !== null && now - g.at < FRESH_LOGIN_MS ? g.step : undefined;

/**
 * The pending re-authentications and the sessions' fresh-login grants, in the state database. Synchronous
 * (better-sqlite3); the same on PostgreSQL: PgReauthentications (src/web/reauth-pg.ts). None of it needs an audit
 * line, so it runs outside the unit of work; `take` and `consume` are single use by their one statement each.
 */
export class Reauthentications {
  readonly #sql: {
    insert: Statement<[string, string, string, string, string, string, string | null, string, number]>;
    has: Statement<[string], number>;
    take: Statement<[string], PendingReauthentication>;
    prune: Statement<[number]>;
    grant: Statement<[string, string | null, number, string]>;
    held: Statement<[string], GrantRow>;
    use: Statement<[string, string, number]>;
    clear: Statement<[string]>;
  };

  constructor(
    db: Db,
    readonly clock: Clock,
  ) {
    const s = db.$client;
    this.#sql = {
      insert: s.prepare(
        `INSERT INTO web_reauthentications (state_hash, session_hash, issuer, nonce, code_verifier, step, detail, return_to, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      has: s.prepare<[string], number>('SELECT 1 FROM web_reauthentications WHERE state_hash = ?').pluck(),
      take: s.prepare(`DELETE FROM web_reauthentications WHERE state_hash = ? RETURNING ${REAUTH_COLUMNS}`),
      prune: s.prepare('DELETE FROM web_reauthentications WHERE created_at <= ?'),
      grant: s.prepare('UPDATE web_sessions SET fresh_step = ?, fresh_detail = ?, fresh_at = ? WHERE id_hash = ?'),
      held: s.prepare(`SELECT ${GRANT_COLUMNS} FROM web_sessions WHERE id_hash = ?`),
      // Single use: of two posts with one grant, only the one whose UPDATE still finds it goes on.
      use: s.prepare('UPDATE web_sessions SET fresh_step = NULL, fresh_detail = NULL, fresh_at = NULL WHERE id_hash = ? AND fresh_step = ? AND fresh_at > ?'),
      clear: s.prepare('UPDATE web_sessions SET fresh_step = NULL, fresh_detail = NULL, fresh_at = NULL WHERE id_hash = ?'),
    };
  }

  /** Keeps a re-authentication on its way to the provider under its `state`, bound to the session `sessionId`. */
  begin(state: string, sessionId: string, pending: ReauthenticationStart): void {
    const now = this.clock.now();
    this.#sql.prune.run(now - PENDING_LOGIN_MS);
    const { issuer, nonce, codeVerifier, step, detail, returnTo } = pending;
    this.#sql.insert.run(sha256(state), sha256(sessionId), issuer, nonce, codeVerifier, step, detail ?? null, returnTo, now);
  }

  /** Whether `state` belongs to a re-authentication (rather than a login). */
  has(state: string | null): boolean {
    return isPlausibleReauthState(state) && this.#sql.has.get(sha256(state)) !== undefined;
  }

  /** Takes the pending re-authentication of `state`, once. */
  take(state: string): PendingReauthentication | undefined {
    return takenAnswer(this.#sql.take.get(sha256(state)), this.clock.now());
  }

  /** Gives the session a fresh-login grant for `step` (with what it was asked with), replacing an earlier one. */
  grant(sessionId: string, step: string, detail: string | null = null): void {
    this.#sql.grant.run(step, detail, this.clock.now(), sha256(sessionId));
  }

  /** The session's live grant for `step`, without using it: what the step was asked with ('' when nothing). */
  heldFor(sessionId: string, step: string): { detail: string } | undefined {
    return grantFor(this.#sql.held.get(sha256(sessionId)), step, this.clock.now());
  }

  /** The step of the session's live grant, if any. */
  heldStep(sessionId: string): string | undefined {
    return liveStep(this.#sql.held.get(sha256(sessionId)), this.clock.now());
  }

  /** Whether the session holds a live grant for `step` (the form is shown), without using it. */
  holds(sessionId: string, step: string): boolean {
    return this.heldFor(sessionId, step) !== undefined;
  }

  /** Uses the session's grant for `step`: true once, when it is live; it is gone afterwards either way. */
  consume(sessionId: string, step: string): boolean {
    const hash = sha256(sessionId);
    const used = this.#sql.use.run(hash, step, this.clock.now() - FRESH_LOGIN_MS).changes === 1;
    if (!used) this.#sql.clear.run(hash);
    return used;
  }
}

/** The re-authentications as the web application uses them, on either database. Always `await` it. */
export type ReauthStore = Awaiting<Pick<Reauthentications, 'begin' | 'has' | 'take' | 'grant' | 'heldFor' | 'heldStep' | 'holds' | 'consume'>>;

type ReauthDeps = Pick<AppDeps, 'uow' | 'oidc' | 'sessions' | 'reauthentications'>;

/**
 * Starts a re-authentication of the session's person at their own provider, for `step`; the URL to send the browser
 * to. Rejects when the provider cannot be reached (the caller shows the unavailable page).
 */
export async function startReauthentication(
  deps: ReauthDeps,
  input: { sessionId: string; login: SessionLogin; step: string; detail?: string | undefined; returnTo: string },
): Promise<URL> {
  const { url, state, nonce, codeVerifier } = await deps.oidc.authorizationRequest(input.login.issuer, { reauthenticate: true });
  await deps.reauthentications.begin(state, input.sessionId, {
    issuer: input.login.issuer,
    detail: input.detail,
    nonce,
    codeVerifier,
    step: input.step,
    returnTo: input.returnTo,
  });
  return url;
}

/**
 * The provider sent the browser back from a re-authentication (`search`: the callback's query). The pending one of its
 * `state`, in the session that started it; the answer checked as every login's is, with `max_age=0`; the same
 * person; `auth_time` after the request. Then the grant and a `session.reauthenticated` line; a refusal is a
 * `session.refused` line. Where to go back to, or why not.
 */
export async function completeReauthentication(
  deps: ReauthDeps & { statusOf: (reason: ReauthRefusal) => number },
  input: { search: string; sessionId: string | undefined },
  request: RequestFacts,
): Promise<Result<{ returnTo: string }, { reason: ReauthRefusal }>> {
  const refuse = async (reason: ReauthRefusal, actor?: SessionLogin) => {
    await appendLine(deps.uow, { action: 'session.refused', ...auditFacts(request, actor), outcome: 'deny', reason, httpStatus: deps.statusOf(reason) });
    return { ok: false as const, reason };
  };
  const state = new URLSearchParams(input.search).get('state') ?? '';
  const pending = await deps.reauthentications.take(state);
  if (!pending) return refuse('LOGIN_STATE_UNKNOWN');
  const session = input.sessionId === undefined ? undefined : await deps.sessions.get(input.sessionId);
  if (input.sessionId === undefined || sha256(input.sessionId) !== pending.sessionHash || session?.status !== 'active')
    return refuse('REAUTH_SESSION_MISMATCH');
  const asked = session.session.login;
  const answer = await deps.oidc.complete(pending.issuer, input.search, {
    state,
    nonce: pending.nonce,
    codeVerifier: pending.codeVerifier,
    reauthenticate: true,
  });
  if (!answer.ok) return refuse(answer.reason, asked);
  const { login, authTime } = answer.value;
  if (login.issuer !== asked.issuer || login.sub !== asked.sub) return refuse('REAUTH_PERSON_MISMATCH', asked);
  if (authTime === undefined || authTime * 1000 < pending.createdAt - AUTH_TIME_TOLERANCE_MS) return refuse('REAUTH_NOT_FRESH', asked);
  await appendLine(deps.uow, {
    action: 'session.reauthenticated',
    ...auditFacts(request, asked),
    actor: auditActor(asked),
    outcome: 'permit',
    reason: 'REAUTHENTICATED',
    httpStatus: 303,
  });
  await deps.reauthentications.grant(input.sessionId, pending.step, pending.detail);
  return { ok: true, value: { returnTo: pending.returnTo } };
}
