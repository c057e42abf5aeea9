import { auditActor, type AuditEntry } from '../audit/entry.js';
import { auditFacts, type RequestFacts } from '../audit/facts.js';
import { DoelpoortError } from '../errors.js';
import type { AppDeps } from '../http/deps.js';
import { organisationFitsRole } from '../purposes.js';
import type { Result } from '../result.js';
import { appendLine } from '../unit-of-work.js';
import { WEB_CLIENT_ID } from '../tokens/clients.js';
import type { CallbackRefusal } from './oidc.js';
import type { PendingLoginRefusal, SessionEndReason, SessionLogin } from './sessions.js';

/**
 * The web login's verbs: start a login at the person's organisation, complete it at the callback, log out, end an
 * expired session, prune. Each outcome is an audit line (`session.started`, `session.refused`, `session.ended`) on
 * channel `web` with client `doelpoort-web`; a session is created or removed only in the unit of work that writes
 * its line, so there is no session without its line. Lines hold reason codes and the actor, never a claim's value
 * beyond the actor, nor a token.
 */

/** Why a login was refused; the reason of its `session.refused` line. */
export type LoginRefusal = PendingLoginRefusal | CallbackRefusal | 'LOGIN_ORGANISATION_UNKNOWN' | 'LOGIN_ORGANISATION_NOT_FOR_ROLE';

/** What the login verbs need of the gateway, and the HTTP status the caller answers a refusal with (for its line). */
export type LoginDeps = Pick<AppDeps, 'uow' | 'sessions' | 'oidc'> & { statusOf: (reason: LoginRefusal) => number };

/** The facts of a web request's audit lines: its trace and origin, on channel `web`, through client `doelpoort-web`. */
export function webRequestFacts(facts: RequestFacts): RequestFacts {
  return { ...facts, channel: 'web', clientId: WEB_CLIENT_ID };
}

/** Writes the refusal's line, then returns the refusal; the actor only when the login itself was verified. */
async function refuse(deps: LoginDeps, request: RequestFacts, reason: LoginRefusal, actor?: SessionLogin): Promise<{ ok: false; reason: LoginRefusal }> {
  await appendLine(deps.uow, { action: 'session.refused', ...auditFacts(request, actor), outcome: 'deny', reason, httpStatus: deps.statusOf(reason) });
  return { ok: false, reason };
}

/** The line of a session that ended; `httpStatus` absent when no request ended it. */
function endedLine(request: RequestFacts, login: SessionLogin, reason: SessionEndReason, httpStatus?: number): AuditEntry {
  return {
    action: 'session.ended',
    ...auditFacts(request, login),
    actor: auditActor(login),
    outcome: 'permit',
    reason,
    ...(httpStatus === undefined ? {} : { httpStatus }),
  };
}

/**
 * A person chose their organisation: the authorization request to its provider (discovered on first use), kept as a
 * pending login bound to this browser's pre-login cookie (`binding`). The URL to send the browser to, or why not.
 */
export async function startLogin(
  deps: LoginDeps,
  input: { organisation: string; returnTo: string | undefined; binding: string },
  request: RequestFacts,
): Promise<Result<URL, { reason: LoginRefusal }>> {
  const issuer = deps.oidc.issuerFor(input.organisation);
  if (!issuer) return refuse(deps, request, 'LOGIN_ORGANISATION_UNKNOWN');
  let authorization: Awaited<ReturnType<AppDeps['oidc']['authorizationRequest']>>;
  try {
    authorization = await deps.oidc.authorizationRequest(issuer);
  } catch {
    return refuse(deps, request, 'LOGIN_PROVIDER_UNREACHABLE');
  }
  const { state, nonce, codeVerifier, url } = authorization;
  await deps.sessions.beginLogin(state, { nonce, codeVerifier, issuer, returnTo: input.returnTo, binding: input.binding });
  return { ok: true, value: url };
}

/**
 * The provider sent the browser back (`search`: the callback's query string). Steps: the pending login of its `state`,
 * once, from the browser that started it; the provider's answer checked and exchanged (openid-client) and the ID
 * token's claims checked as every login's are; the role fits the organisation. Then, in one unit of work, a new
 * session (a browser's earlier one ends, `REPLACED`) and its `session.started` line. The new session's id (for the
 * cookie only) and where to go, or why not.
 */
export async function completeLogin(
  deps: LoginDeps,
  input: { search: string; binding: string | undefined; previousSessionId: string | undefined },
  request: RequestFacts,
): Promise<Result<{ sessionId: string; returnTo: string | undefined }, { reason: LoginRefusal }>> {
  const state = new URLSearchParams(input.search).get('state') ?? undefined;
  const pending = await deps.sessions.takeLogin(state, input.binding);
  if (!pending.ok) return refuse(deps, request, pending.reason);
  const { issuer, nonce, codeVerifier, returnTo } = pending.value;
  const answer = await deps.oidc.complete(issuer, input.search, { state: state!, nonce, codeVerifier });
  if (!answer.ok) return refuse(deps, request, answer.reason);
  const { login, idToken } = answer.value;
  if (!organisationFitsRole(login.role, login.org)) return refuse(deps, request, 'LOGIN_ORGANISATION_NOT_FOR_ROLE', login);

  const created = await deps.uow.run(
    async (tx) => {
      if (input.previousSessionId !== undefined) {
        const previous = await tx.sessions.destroy(input.previousSessionId);
        if (previous) await tx.audit.append(endedLine(request, previous.login, 'REPLACED', 303));
      }
      const session = await tx.sessions.create(login, idToken);
      await tx.audit.append({
        action: 'session.started',
        ...auditFacts(request, login),
        actor: auditActor(login),
        outcome: 'permit',
        reason: 'LOGIN',
        httpStatus: 303,
      });
      return session;
    },
    { deny: { action: 'session.refused', ...auditFacts(request, login) } },
  );
  return { ok: true, value: { sessionId: created.id, returnTo } };
}

/**
 * Logs out: the session and its line go together; then, when the provider supports RP-initiated logout, where the
 * browser goes to end the session there too. A session that is already gone is a refusal (SESSION_ALREADY_ENDED).
 */
export async function logout(deps: Pick<AppDeps, 'uow' | 'oidc'>, sessionId: string, request: RequestFacts): Promise<{ providerLogout: URL | undefined }> {
  const ended = await deps.uow.run(
    async (tx) => {
      const session = await tx.sessions.destroy(sessionId);
      if (!session) throw new DoelpoortError('ACCESS_DENIED', 'the session has already ended', [], { reason: 'SESSION_ALREADY_ENDED' });
      await tx.audit.append(endedLine(request, session.login, 'LOGOUT', 303));
      return session;
    },
    { deny: { action: 'request.refused', ...auditFacts(request) } },
  );
  return { providerLogout: await deps.oidc.endSessionUrl(ended.login.issuer, ended.idToken) };
}

/** Ends a session found expired on a request (idle, or past its absolute end), with its line. */
export async function endExpiredSession(
  deps: Pick<AppDeps, 'uow'>,
  sessionId: string,
  reason: 'IDLE_TIMEOUT' | 'ABSOLUTE_TIMEOUT',
  request: RequestFacts,
): Promise<void> {
  await deps.uow.run(
    async (tx) => {
      const session = await tx.sessions.destroy(sessionId);
      // Two requests of one browser found it expired together; the first one's line tells it.
      if (!session) throw new DoelpoortError('ACCESS_DENIED', 'the session has already ended', [], { reason: 'SESSION_ALREADY_ENDED' });
      await tx.audit.append(endedLine(request, session.login, reason, 303));
    },
    { deny: { action: 'request.refused', ...auditFacts(request) } },
  );
}

/**
 * Removes the sessions that expired without their browser coming back, each with its `session.ended` line (no status:
 * no request ended it), and the pending logins past ten minutes; how many sessions. For a timer in `serve`.
 */
export async function pruneSessions(deps: Pick<AppDeps, 'uow' | 'sessions'>, request: RequestFacts): Promise<number> {
  await deps.sessions.prunePendingLogins();
  if (!(await deps.sessions.hasExpired())) return 0;
  return deps.uow.run(
    async (tx) => {
      const ended = await tx.sessions.prune();
      for (const { login, reason } of ended) await tx.audit.append(endedLine(request, login, reason));
      return ended.length;
    },
    { deny: { action: 'request.refused', ...auditFacts(request) } },
  );
}
