import { createHash } from 'node:crypto';
import { auditActor } from '../audit/entry.js';
import { auditFacts, type RequestFacts } from '../audit/facts.js';
import type { Clock } from '../clock.js';
import type { AppDeps } from '../http/deps.js';
import type { Result } from '../result.js';
import { CLOCK_TOLERANCE_SECONDS } from '../tokens/algorithms.js';
import { appendLine } from '../unit-of-work.js';
import type { CallbackRefusal } from './oidc.js';
import { PENDING_LOGIN_MS, type SessionLogin } from './sessions.js';

/**
 * Re-authentication: a logged-in person logs in again at their provider (`prompt=login`, `max_age=0`) immediately
 * before a step that asks for it (approving a policy version), and comes back to that step. The new login must be the
 * same person (iss, sub) as the session's, and its `auth_time` must lie after the moment it was asked for; then the
 * session holds a fresh-login grant for that one step, for FRESH_LOGIN_MS, used once.
 *
 * Both the pending re-authentications and the grants live in this process's memory: a restart forgets them, and the
 * officer logs in again. A pending one is bound to the session that started it (its id's hash), not to a cookie of
 * its own: the callback must come back in the same session.
 */

/** How long a fresh login counts for the step it was asked for. */
export const FRESH_LOGIN_MS = 5 * 60_000;
/** How far the provider's clock (`auth_time`, whole seconds) may be behind ours: the tolerance of every token check. */
const AUTH_TIME_TOLERANCE_MS = CLOCK_TOLERANCE_SECONDS * 1000;

/** Why a re-authentication was refused; the reason of its `session.refused` line. */
export type ReauthRefusal = 'REAUTH_SESSION_MISMATCH' | 'REAUTH_PERSON_MISMATCH' | 'REAUTH_NOT_FRESH' | 'LOGIN_STATE_UNKNOWN' | CallbackRefusal;

interface Pending {
  sessionHash: string;
  login: SessionLogin;
  issuer: string;
  nonce: string;
  codeVerifier: string;
  /** The step the grant is for (`policy.approve:12`), and the page to come back to. */
  step: string;
  returnTo: string;
  createdAt: number;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** The pending re-authentications and the fresh-login grants of this process. */
export class Reauthentications {
  readonly #pending = new Map<string, Pending>();
  readonly #grants = new Map<string, { step: string; at: number }>();

  constructor(readonly clock: Clock) {}

  /** Keeps a re-authentication on its way to the provider under its `state`. */
  begin(state: string, sessionId: string, pending: Omit<Pending, 'sessionHash' | 'createdAt'>): void {
    this.#prune();
    this.#pending.set(sha256(state), { ...pending, sessionHash: sha256(sessionId), createdAt: this.clock.now() });
  }

  /** Whether `state` belongs to a re-authentication (rather than a login). */
  has(state: string | null): boolean {
    return state !== null && this.#pending.has(sha256(state));
  }

  /** Takes the pending re-authentication of `state`, once. */
  take(state: string): Pending | undefined {
    const key = sha256(state);
    const found = this.#pending.get(key);
    this.#pending.delete(key);
    return found && this.clock.now() - found.createdAt < PENDING_LOGIN_MS ? found : undefined;
  }

  /** Gives the session a fresh-login grant for `step`, replacing an earlier one. */
  grant(sessionId: string, step: string): void {
    this.#grants.set(sha256(sessionId), { step, at: this.clock.now() });
  }

  /** Whether the session holds a live grant for `step` (the form is shown), without using it. */
  holds(sessionId: string, step: string): boolean {
    const g = this.#grants.get(sha256(sessionId));
    return g !== undefined && g.step === step && this.clock.now() - g.at < FRESH_LOGIN_MS;
  }

  /** Uses the session's grant for `step`: true once, when it is live; it is gone afterwards either way. */
  consume(sessionId: string, step: string): boolean {
    const live = this.holds(sessionId, step);
    this.#grants.delete(sha256(sessionId));
    return live;
  }

  #prune(): void {
    const now = this.clock.now();
    for (const [k, p] of this.#pending) if (now - p.createdAt >= PENDING_LOGIN_MS) this.#pending.delete(k);
    for (const [k, g] of this.#grants) if (now - g.at >= FRESH_LOGIN_MS) this.#grants.delete(k);
  }
}

type ReauthDeps = Pick<AppDeps, 'uow' | 'oidc'> & { reauth: Reauthentications };

/**
 * Starts a re-authentication of the session's person at their own provider, for `step`; the URL to send the browser
 * to. Rejects when the provider cannot be reached (the caller shows the unavailable page).
 */
export async function startReauthentication(deps: ReauthDeps, input: { sessionId: string; login: SessionLogin; step: string; returnTo: string }): Promise<URL> {
  const { url, state, nonce, codeVerifier } = await deps.oidc.authorizationRequest(input.login.issuer, { reauthenticate: true });
  deps.reauth.begin(state, input.sessionId, {
    login: input.login,
    issuer: input.login.issuer,
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
  const pending = deps.reauth.take(state);
  if (!pending) return refuse('LOGIN_STATE_UNKNOWN');
  if (input.sessionId === undefined || sha256(input.sessionId) !== pending.sessionHash) return refuse('REAUTH_SESSION_MISMATCH', pending.login);
  const answer = await deps.oidc.complete(pending.issuer, input.search, {
    state,
    nonce: pending.nonce,
    codeVerifier: pending.codeVerifier,
    reauthenticate: true,
  });
  if (!answer.ok) return refuse(answer.reason, pending.login);
  const { login, authTime } = answer.value;
  if (login.issuer !== pending.login.issuer || login.sub !== pending.login.sub) return refuse('REAUTH_PERSON_MISMATCH', pending.login);
  if (authTime === undefined || authTime * 1000 < pending.createdAt - AUTH_TIME_TOLERANCE_MS) return refuse('REAUTH_NOT_FRESH', pending.login);
  await appendLine(deps.uow, {
    action: 'session.reauthenticated',
    ...auditFacts(request, pending.login),
    actor: auditActor(pending.login),
    outcome: 'permit',
    reason: 'REAUTHENTICATED',
    httpStatus: 303,
  });
  deps.reauth.grant(input.sessionId, pending.step);
  return { ok: true, value: { returnTo: pending.returnTo } };
}
