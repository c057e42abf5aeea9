import type { Context } from 'hono';
import { auditFacts, type AuditFacts } from '../audit/facts.js';
import type { ToezichtCaller } from '../audit/toezicht.js';
import type { Caller } from '../caller.js';
import { DoelpoortError } from '../errors.js';
import type { HonoEnv, WebSession } from '../http/env.js';
import type { GrantedNoodtoegang } from '../noodtoegang/grant.js';
import { organisationFitsRole, purposeFitsRole, type Purpose, type Requester } from '../purposes.js';
import { CLIENT_REF_PATTERN } from '../records/suite-record.js';
import { WEB_CLIENT_ID } from '../tokens/clients.js';
import { refuse, type DenyLine, type UnitOfWork } from '../unit-of-work.js';
import { webFacts } from './session.js';

/**
 * The one place a web page becomes a caller of a verb. A page view is a token exchange and a read in one: the
 * session's login, the page's purpose and the client its URL names form the requester, checked as the exchange checks
 * a token request (the purpose fits the role, the role the organisation); the verb then checks the relationship and
 * decides. Every line says it came through the web application.
 */

/** The actions of the lines a page with a purpose writes. */
export type PageAction = 'record.read' | 'document.read' | 'caseload.read' | 'list.read' | 'client.lookup';

/** What a page asks for: its purpose, the client its URL names (unvalidated), and what its lines are of. */
export interface PageRequest {
  purpose: Purpose;
  /** The `:clientRef` of the URL as it came, or undefined on a page without a client. */
  clientRef?: string | undefined;
  action: PageAction;
  /** The policy version the page's lines name (the verbs' lines do too). */
  policyVersion: string;
  /** The status the page answers a success with (303 for a form that redirects). */
  done?: number;
}

/** The session's login; a page mounted without the session middleware fails closed. */
function loginOf(c: Context<HonoEnv>): WebSession['login'] {
  const session = c.get('session') as WebSession | undefined;
  if (!session) throw new TypeError('web page without a session: mount the role pages behind requireSession');
  return session.login;
}

/** The facts of the session person's lines where no purpose applies (their own use). */
export function sessionFacts(c: Context<HonoEnv>): AuditFacts {
  const login = loginOf(c);
  return auditFacts(webFacts(c), { issuer: login.issuer, sub: login.sub, role: login.role, org: login.org });
}

/**
 * The caller of a page's verb, bound to the page's purpose and to the client of its URL. Refuses, each with its deny
 * line: a clientRef of the wrong shape (400, `CLIENT_REF_INVALID`, the line names no client: nine digits may be a BSN),
 * and a purpose that does not fit the session's role or organisation (403).
 */
export async function webCaller(uow: UnitOfWork, c: Context<HonoEnv>, page: PageRequest): Promise<Caller> {
  const login = loginOf(c);
  const who = { issuer: login.issuer, sub: login.sub, role: login.role, org: login.org, purpose: page.purpose };
  const line = (clientRef: string | undefined) =>
    ({ action: page.action, ...auditFacts(webFacts(c), who), clientRef, policyVersion: page.policyVersion }) as DenyLine;

  if (page.clientRef !== undefined && !CLIENT_REF_PATTERN.test(page.clientRef)) {
    const refusal = new DoelpoortError('REQUEST_INVALID', 'invalid path: clientRef', [{ path: 'path.clientRef', message: 'invalid value' }], {
      reason: 'CLIENT_REF_INVALID',
    });
    return refuse(uow, refusal, line(undefined));
  }
  const requester: Requester = { ...who, client: page.clientRef };
  const facts = auditFacts(webFacts(c), requester);
  const misfit = !purposeFitsRole(page.purpose, login.role)
    ? 'PURPOSE_NOT_FOR_ROLE'
    : !organisationFitsRole(login.role, login.org)
      ? 'ORGANISATION_NOT_FOR_ROLE'
      : undefined;
  if (misfit !== undefined) {
    const refusal = new DoelpoortError('PURPOSE_NOT_ALLOWED', 'this page’s purpose does not fit the role or organisation of the login', [], { reason: misfit });
    return refuse(uow, refusal, line(page.clientRef));
  }
  return { requester, facts, done: page.done ?? 200, clientNamedBy: 'request' };
}

/** The two purposes of the officer's console: reading the log and the reports, and managing the policy. */
export type ConsolePurpose = 'toezicht' | 'beleidsbeheer';

/**
 * The caller of a verb from a console page: the logged-in officer as requester with the page's purpose, through the
 * web client. The verbs check role and purpose themselves, exactly as for an API token, and write the same audit
 * line. `done` is the status the page answers a success with.
 */
export function consoleCaller(c: Context<HonoEnv>, purpose: ConsolePurpose, done = 200): ToezichtCaller {
  const login = loginOf(c);
  const requester: Requester = { issuer: login.issuer, sub: login.sub, role: login.role, org: login.org, purpose, clientId: WEB_CLIENT_ID };
  return { requester, facts: auditFacts(webFacts(c), requester), done };
}

/**
 * The caller of the emergency-access verbs from a web page: the logged-in person with `purpose`, through the web
 * client. Without `access`, the caller of the grant (bound to no client yet); with it, the caller of a reading under
 * that access: bound to its client, naming its token id and its id, so every line of it is flagged `noodtoegang`
 * (auditFacts) and the reading verb checks it is on record as this person's (src/noodtoegang/grant.ts).
 */
export function noodtoegangCaller(c: Context<HonoEnv>, purpose: Purpose, access?: GrantedNoodtoegang, done = 200): Caller {
  const login = loginOf(c);
  const requester: Requester = {
    issuer: login.issuer,
    sub: login.sub,
    role: login.role,
    org: login.org,
    purpose,
    clientId: WEB_CLIENT_ID,
    ...(access ? { client: access.clientRef, tokenId: access.tokenId, noodtoegang: { id: access.id } } : {}),
  };
  return { requester, facts: auditFacts(webFacts(c), requester), done, clientNamedBy: 'token' };
}
