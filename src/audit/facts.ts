import { PURPOSES, type Purpose, type Role } from '../purposes.js';
import { newSpanId } from '../trace.js';
import { auditActor, type AuditActor } from './entry.js';

/** The longest origin a line holds (entry.ts): an address past it is cut here, in this one place. */
export const ORIGIN_MAX = 64;

/** What every line of a request knows before anything is decided: its trace and where it came from. */
export interface RequestFacts {
  /** The request's span; `parentSpanId` is the caller's, from a valid incoming W3C `traceparent`. */
  trace: { traceId: string; spanId: string; parentSpanId?: string | undefined };
  /** The client address as the socket saw it (or `cli`). */
  origin: string;
  /** Where the request came in; absent on lines written before channels were recorded. */
  channel?: 'api' | 'web' | 'cli' | undefined;
  /** The registered client it came through, when known. */
  clientId?: string | undefined;
}

/** Who acted, as far as known: a verified requester, or a login that has not been given a token yet. */
export interface ActorFacts {
  issuer: string;
  sub: string;
  role: Role;
  org: string;
  purpose?: Purpose | undefined;
  /** The access token's `jti`. */
  tokenId?: string | undefined;
  /** The emergency access (break-glass) the token was granted under, when it was: every line of it is flagged. */
  noodtoegang?: { id: string } | undefined;
}

/** The facts an audit line starts with: trace, origin, and (when known) actor, purpose, processing activity, token. */
export interface AuditFacts {
  traceId: string;
  spanId: string;
  /** The span that started this line's action (entry.ts); `remoteParent` when it is another application's. */
  parentSpanId?: string;
  remoteParent?: true;
  origin: string;
  channel?: 'api' | 'web' | 'cli';
  clientId?: string;
  actor?: AuditActor;
  purpose?: Purpose;
  processingActivityId?: string;
  tokenId?: string | undefined;
  noodtoegang?: true;
  noodtoegangId?: string;
}

/**
 * The one builder of the facts every audit line starts with (the request's trace and origin, the actor, purpose and
 * token), used wherever a line is built: the routes, the edges (authentication, body limit, rate limit), the token
 * exchange and the CLI. Ids and codes only: the actor is (iss, sub, role, org), never a name or a claim value. A
 * requester with an emergency token gets `noodtoegang: true` and its `noodtoegangId` on every line, whatever the route.
 */
export function auditFacts(request: RequestFacts, who?: ActorFacts): AuditFacts {
  const { traceId, spanId, parentSpanId } = request.trace;
  const span = parentSpanId === undefined ? { traceId, spanId } : { traceId, spanId, parentSpanId, remoteParent: true as const };
  const origin = request.origin.length > ORIGIN_MAX ? request.origin.slice(0, ORIGIN_MAX) : request.origin;
  const via = { ...(request.channel ? { channel: request.channel } : {}), ...(request.clientId ? { clientId: request.clientId } : {}) };
  if (who === undefined) return { ...span, origin, ...via };
  if (who.purpose === undefined) return { ...span, origin, ...via, actor: auditActor(who) };
  return {
    ...span,
    origin,
    ...via,
    actor: auditActor(who),
    purpose: who.purpose,
    processingActivityId: PURPOSES[who.purpose].processingActivityId,
    tokenId: who.tokenId,
    ...(who.noodtoegang ? { noodtoegang: true as const, noodtoegangId: who.noodtoegang.id } : {}),
  };
}

/**
 * The facts of one data subject's line in a request that covers several (a caseload page, a list): the Logboek
 * Dataverwerkingen standard wants an action of its own per data subject, so the line gets a new span whose parent is
 * the request's span (the line the request writes for itself). Everything else is the request's.
 */
export function subjectFacts(facts: AuditFacts): AuditFacts {
  const { remoteParent: _, ...request } = facts;
  return { ...request, spanId: newSpanId(), parentSpanId: facts.spanId };
}
