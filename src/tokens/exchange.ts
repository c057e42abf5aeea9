import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { auditActor, type AuditEntry } from '../audit/entry.js';
import { auditFacts, type RequestFacts } from '../audit/facts.js';
import { isoDate } from '../clock.js';
import {
  emergencyBasis,
  NOODTOEGANG_TTL_SECONDS,
  noodtoegangAvailable,
  noodtoegangRequestSchema,
  recordNoodtoegang,
  type NoodtoegangSetting,
} from '../noodtoegang/grant.js';
import type { NoodtoegangGrant } from '../noodtoegang/store.js';
import { organisationFitsRole, PURPOSES, purposeFitsRole, purposeSchema, relationship, type Purpose, type Role } from '../purposes.js';
import type { RecordReader } from '../records/store.js';
import { bsnSchema, clientRefSchema } from '../records/suite-record.js';
import type { Result } from '../result.js';
import type { DenyLine, UnitOfWork } from '../unit-of-work.js';
import { authorizationDetails, issueAccessToken, type Grant, type IssuedToken } from './access-token.js';
import { JWT_BEARER_ASSERTION_TYPE, verifyClientAssertion } from './client-assertion.js';
import type { RegisteredClient } from './clients.js';
import { verifyDpopProof } from './dpop.js';
import type { TokenService } from './service.js';
import { verifyUserToken } from './user-token.js';

/** The longest client assertion read; a JWT with a few claims and a key id is well under 2 KiB. */
const MAX_ASSERTION_LENGTH = 8_192;

/** RFC 8693 identifiers. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** The RFC 6749 §5.2 / RFC 9449 error of a refused exchange; src/http maps it to a status. */
export type ExchangeError = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unsupported_grant_type' | 'access_denied' | 'invalid_dpop_proof';

/** Value-free descriptions per error, safe to send. */
export const EXCHANGE_ERROR_DESCRIPTIONS: Record<ExchangeError, string> = {
  invalid_request: 'the request is missing a parameter, repeats one, or has one that is malformed',
  invalid_client: 'client authentication failed: a registered client_id with a valid private_key_jwt client assertion is required',
  invalid_grant: 'the subject token is not a valid login of a trusted identity provider',
  unsupported_grant_type: 'only token exchange is supported',
  access_denied: 'this purpose is not available to the requester for this client',
  invalid_dpop_proof: 'the DPoP proof is missing or invalid',
};

/** Why a step refused the exchange: the RFC 6749 error, and a stable reason code for the audit line. */
interface ExchangeRefusal {
  error: ExchangeError;
  reason: string;
}

/** What one step gives the next, or why the exchange stops there. */
type Step<T> = Result<T, ExchangeRefusal>;

const refused = (error: ExchangeError, reason: string): { ok: false } & ExchangeRefusal => ({ ok: false, error, reason });
const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });

/**
 * The form parameters of a token request (RFC 8693 §2.1, RFC 7523 §2.2); others are ignored, as RFC 6749 §3.2 asks.
 * The client's parameters are checked by the client authentication step before this schema sees them.
 */
export const tokenRequestSchema = z.object({
  client_id: z.string().max(128),
  client_assertion_type: z.literal(JWT_BEARER_ASSERTION_TYPE).optional(),
  client_assertion: z.string().max(MAX_ASSERTION_LENGTH).optional(),
  grant_type: z.string(),
  subject_token: z.string().min(1).max(16_384),
  subject_token_type: z.literal(JWT_TOKEN_TYPE),
  authorization_details: z.string().max(4_096),
  requested_token_type: z.literal(ACCESS_TOKEN_TYPE).optional(),
});

/**
 * Exactly one `doelbinding` object (RFC 9396); the purpose is checked separately to give it its own reason. It may
 * ask for emergency access (`noodtoegang: { reden }`, src/noodtoegang/grant.ts).
 */
const authorizationDetailsSchema = z
  .array(
    z.strictObject({
      type: z.literal('doelbinding'),
      purpose: z.string().max(64),
      client: clientRefSchema.optional(),
      bsn: bsnSchema.optional(),
      noodtoegang: noodtoegangRequestSchema.optional(),
    }),
  )
  .length(1);

/** A token request as it arrived at the endpoint: its body, content type and DPoP header, unread. */
export interface TokenRequestInput {
  contentType: string | undefined;
  body: string;
  dpopProof: string | undefined;
  /** Whether it carried an `Authorization` header: HTTP client authentication, which doelpoort does not support. */
  httpAuthentication: boolean;
}

/** The form body as single-valued parameters. */
type FormParameters = Record<string, string>;

/** A well-formed token exchange request. */
interface TokenRequest {
  subjectToken: string;
  authorizationDetails: string;
}

/** An emergency access as asked for: the written reason (for the review queue only, never a log line). */
interface NoodtoegangRequest {
  reden: string;
}

/** The one `doelbinding` object as sent, before its purpose is known to exist. */
interface DoelbindingDetail {
  purpose: string;
  client?: string | undefined;
  bsn?: string | undefined;
  noodtoegang?: NoodtoegangRequest | undefined;
}

/** A purpose and the client it names, by clientRef or (schuldhulpverlening) by BSN, as the purpose allows. */
interface Doelbinding {
  purpose: Purpose;
  client: string | undefined;
  bsn: string | undefined;
  /** Asked for as an emergency access: then always with a clientRef. */
  noodtoegang: NoodtoegangRequest | undefined;
}

/** A verified login. */
interface Login {
  issuer: string;
  sub: string;
  role: Role;
  org: string;
}

/** Step 1: the form body as single-valued parameters (a repeated one is malformed, RFC 6749 §3.2). */
function readForm(input: TokenRequestInput): Step<FormParameters> {
  const type = input.contentType?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return refused('invalid_request', 'CONTENT_TYPE_UNSUPPORTED');
  const params: FormParameters = {};
  for (const [name, value] of new URLSearchParams(input.body)) {
    if (Object.hasOwn(params, name)) return refused('invalid_request', 'PARAMETER_REPEATED');
    params[name] = value;
  }
  return ok(params);
}

/**
 * Step 2: the registered client the request names (RFC 6749 §2.3). `client_id` is required, also with an assertion
 * (RFC 7521 §4.2 makes it optional there; the NL GOV profile and our contract do not), and HTTP authentication is
 * refused: doelpoort has no client secrets, and a request may use only one method.
 */
function identifyClient(params: FormParameters, httpAuthentication: boolean, tokens: TokenService): Step<RegisteredClient> {
  if (httpAuthentication) return refused('invalid_client', 'CLIENT_AUTH_METHOD_UNSUPPORTED');
  if (params.client_id === undefined) return refused('invalid_client', 'CLIENT_ID_MISSING');
  const client = tokens.clients.find(params.client_id);
  return client ? ok(client) : refused('invalid_client', 'CLIENT_ID_UNKNOWN');
}

/**
 * Step 3: the client proves who it is as it is registered to: an RFC 7523 assertion signed by one of its keys, or
 * nothing at all for the public demo client (which may not pretend to another method either).
 */
async function authenticateClient(client: RegisteredClient, params: FormParameters, tokens: TokenService): Promise<Step<RegisteredClient>> {
  const { client_assertion_type: type, client_assertion: assertion } = params;
  const { authentication } = client;
  if (authentication.method === 'none') {
    return type === undefined && assertion === undefined ? ok(client) : refused('invalid_client', 'CLIENT_ASSERTION_UNEXPECTED');
  }
  if (assertion === undefined) return refused('invalid_client', 'CLIENT_ASSERTION_MISSING');
  if (type !== JWT_BEARER_ASSERTION_TYPE) return refused('invalid_client', 'CLIENT_ASSERTION_TYPE_INVALID');
  if (assertion.length > MAX_ASSERTION_LENGTH) return refused('invalid_client', 'CLIENT_ASSERTION_MALFORMED');
  const verified = await verifyClientAssertion(assertion, {
    clientId: client.clientId,
    keys: authentication.keys,
    audiences: [tokens.tokenEndpoint, tokens.issuer],
    clock: tokens.clock,
    replay: tokens.assertionReplay,
  });
  return verified.ok ? ok(client) : refused('invalid_client', verified.reason);
}

/** Step 4: the grant type, and the shape of the token exchange's parameters. */
function parseTokenRequest(params: FormParameters): Step<TokenRequest> {
  if (params.grant_type === undefined) return refused('invalid_request', 'GRANT_TYPE_MISSING');
  if (params.grant_type !== TOKEN_EXCHANGE_GRANT) return refused('unsupported_grant_type', 'GRANT_TYPE_UNSUPPORTED');
  const form = tokenRequestSchema.safeParse(params);
  if (!form.success) return refused('invalid_request', `PARAMETER_${String(form.error.issues[0]?.path[0] ?? 'FORM').toUpperCase()}_INVALID`);
  return ok({ subjectToken: form.data.subject_token, authorizationDetails: form.data.authorization_details });
}

/** Step 5: the one `doelbinding` object of `authorization_details`. */
function parseAuthorizationDetails(text: string): Step<DoelbindingDetail> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return refused('invalid_request', 'AUTHORIZATION_DETAILS_INVALID');
  }
  const details = authorizationDetailsSchema.safeParse(raw);
  // A malformed client (nine digits may be a BSN) is refused with its own reason, and never reaches the audit line;
  // so is a bad emergency request (a missing or too short reason, which is never echoed either).
  if (!details.success) {
    const { issues } = details.error;
    if (issues.some((i) => i.path[1] === 'client')) return refused('invalid_request', 'CLIENT_REF_INVALID');
    if (issues.some((i) => i.path[1] === 'noodtoegang' && (i.path[2] === 'reden' || (i.path.length === 2 && i.code === 'invalid_type'))))
      return refused('invalid_request', 'NOODTOEGANG_REDEN_INVALID');
    return refused('invalid_request', issues.some((i) => i.path[1] === 'noodtoegang') ? 'NOODTOEGANG_INVALID' : 'AUTHORIZATION_DETAILS_INVALID');
  }
  return ok(details.data[0]!);
}

/** Step 6: the purpose named is one of doelpoort's. */
function knownPurpose(detail: DoelbindingDetail): Step<Purpose> {
  const parsed = purposeSchema.safeParse(detail.purpose);
  return parsed.success ? ok(parsed.data) : refused('invalid_request', 'PURPOSE_UNKNOWN');
}

/** Step 7: the doelbinding: the purpose names a client (by clientRef, or by BSN for schuldhulpverlening) as it must. */
function bindClient(purpose: Purpose, detail: DoelbindingDetail): Step<Doelbinding> {
  const { client, bsn } = detail;
  if (client !== undefined && bsn !== undefined) return refused('invalid_request', 'CLIENT_AND_BSN');
  if (bsn !== undefined && purpose !== 'schuldhulpverlening') return refused('invalid_request', 'BSN_NOT_FOR_PURPOSE');
  const named = client !== undefined || bsn !== undefined;
  if (PURPOSES[purpose].client === 'none' && named) return refused('invalid_request', 'PURPOSE_TAKES_NO_CLIENT');
  // An emergency access is to one client, named by clientRef: never a list, never a look-up by BSN.
  if (detail.noodtoegang !== undefined && client === undefined) return refused('invalid_request', 'NOODTOEGANG_NEEDS_CLIENT');
  return ok({ purpose, client, bsn, noodtoegang: detail.noodtoegang });
}

/** Step 8: the DPoP proof (RFC 9449) when one came, or none when the gateway allows bearer tokens; its key thumbprint. */
async function checkDpop(proof: string | undefined, tokens: TokenService): Promise<Step<string | undefined>> {
  if (proof === undefined) return tokens.requireDpop ? refused('invalid_dpop_proof', 'DPOP_REQUIRED') : ok(undefined);
  const verified = await verifyDpopProof(proof, { method: 'POST', url: tokens.tokenEndpoint }, { clock: tokens.clock, replay: tokens.replay });
  return verified.ok ? ok(verified.value.jkt) : refused('invalid_dpop_proof', verified.reason);
}

/** Step 9: the subject token is a login of a trusted identity provider. */
async function verifyLogin(subjectToken: string, tokens: TokenService): Promise<Step<Login>> {
  const login = await verifyUserToken(subjectToken, tokens.trust, tokens.clock, tokens.logins);
  if (!login.ok) return refused('invalid_grant', login.reason);
  const { issuer, sub, role, org } = login.value;
  return ok({ issuer, sub, role, org });
}

/** Step 10: the client acts for the login's organisation: a client of Tiel cannot exchange a login of Culemborg. */
function checkClientActsFor(client: RegisteredClient, user: Login): Step<Login> {
  return client.organisations.has(user.org) ? ok(user) : refused('access_denied', 'CLIENT_NOT_FOR_ORGANISATION');
}

/** Step 11: the purpose fits the login's role, and the role its organisation. */
function checkRoleAndOrganisation(purpose: Purpose, user: Login): Step<Login> {
  if (!purposeFitsRole(purpose, user.role)) return refused('access_denied', 'PURPOSE_NOT_FOR_ROLE');
  if (!organisationFitsRole(user.role, user.org)) return refused('access_denied', 'ORGANISATION_NOT_FOR_ROLE');
  return ok(user);
}

/**
 * Step 12, for an emergency access only: the policy has an emergency rule (`noodtoegang: true`) for this role and
 * purpose; without one, emergency access is not the requester's to ask for (nor when it is switched off).
 */
function checkNoodtoegangAllowed(binding: Doelbinding, user: Login, emergency: ExchangeDeps['noodtoegang']): Step<Login> {
  if (binding.noodtoegang === undefined) return ok(user);
  return noodtoegangAvailable(emergency, user.role, binding.purpose) ? ok(user) : refused('access_denied', 'NOODTOEGANG_NOT_ALLOWED');
}

/**
 * Step 13: the client named exists and the purpose's relationship to it holds today; its clientRef (none when
 * unnamed). An emergency access is the other way round: it is for when the relationship does not hold, so where it
 * holds it is refused (a normal token is the way).
 */
async function checkRelationship(binding: Doelbinding, user: Login, records: RecordReader, today: string): Promise<Step<string | undefined>> {
  if (binding.client === undefined && binding.bsn === undefined) return ok(undefined);
  const clientRef = binding.client ?? (await records.clientRefByBsn(binding.bsn!));
  const record = clientRef === undefined ? undefined : await records.get(clientRef);
  // An unknown client is refused like one without a relationship, so the answer does not reveal who exists.
  if (!record) return refused('access_denied', 'CLIENT_UNKNOWN');
  if (binding.noodtoegang !== undefined) {
    const basis = emergencyBasis(binding.purpose, user, record, today);
    return basis.ok ? ok(record.clientRef) : refused('invalid_request', basis.reason);
  }
  const rel = relationship(binding.purpose, user, record, today);
  return rel.holds ? ok(record.clientRef) : refused('access_denied', rel.reason);
}

/**
 * Step 14: the access token for the grant, signed by the gateway, bound to the DPoP key when there was a proof; an
 * emergency token lives at most NOODTOEGANG_TTL_SECONDS.
 */
async function issue(grant: Grant, tokens: TokenService): Promise<Issued> {
  const ttlSeconds = grant.noodtoegang ? Math.min(tokens.ttlSeconds, NOODTOEGANG_TTL_SECONDS) : tokens.ttlSeconds;
  const issued = await issueAccessToken(grant, tokens.keys, { issuer: tokens.issuer, ttlSeconds, clock: tokens.clock });
  return { issued, grant, tokenType: grant.jkt ? 'DPoP' : 'Bearer' };
}

/** A token issued, with the grant it carries. */
interface Issued {
  issued: IssuedToken;
  grant: Grant;
  tokenType: 'Bearer' | 'DPoP';
}

/** What the audit line of an exchange records, as far as the steps got. */
interface ExchangeFacts {
  /** The registered client, once the request named one. */
  clientId?: string;
  actor?: Login;
  purpose?: Purpose;
  clientRef?: string;
  bsnPseudonym?: string;
  /** The request asked for emergency access: its line is flagged, whatever the outcome. */
  noodtoegang?: true;
}

/** An exchange as a value: the issued token and its grant, or the refusal; with the facts its audit line holds. */
export type ExchangeOutcome = Result<Issued, ExchangeRefusal> & { facts: ExchangeFacts };

/** The steps' outcome, and the emergency access to record with it (the written reason travels only here). */
interface Stepped {
  outcome: ExchangeOutcome;
  noodtoegang?: NoodtoegangGrant;
}

/** The steps of the exchange, one after another, each taking what the one before gave. Async work only: no line yet. */
async function runSteps(input: TokenRequestInput, deps: ExchangeDeps): Promise<Stepped> {
  const { tokens, records, pseudonym } = deps;
  const facts: ExchangeFacts = {};
  const stop = (refusal: ExchangeRefusal): Stepped => ({ outcome: { ok: false, error: refusal.error, reason: refusal.reason, facts } });

  const form = readForm(input);
  if (!form.ok) return stop(form);
  const named = identifyClient(form.value, input.httpAuthentication, tokens);
  if (!named.ok) return stop(named);
  facts.clientId = named.value.clientId;
  const client = await authenticateClient(named.value, form.value, tokens);
  if (!client.ok) return stop(client);
  const request = parseTokenRequest(form.value);
  if (!request.ok) return stop(request);
  const detail = parseAuthorizationDetails(request.value.authorizationDetails);
  if (!detail.ok) return stop(detail);
  if (detail.value.bsn !== undefined) facts.bsnPseudonym = pseudonym(detail.value.bsn);
  if (detail.value.client !== undefined) facts.clientRef = detail.value.client;
  if (detail.value.noodtoegang !== undefined) facts.noodtoegang = true;
  const purpose = knownPurpose(detail.value);
  if (!purpose.ok) return stop(purpose);
  facts.purpose = purpose.value;
  const binding = bindClient(purpose.value, detail.value);
  if (!binding.ok) return stop(binding);
  const jkt = await checkDpop(input.dpopProof, tokens);
  if (!jkt.ok) return stop(jkt);
  const login = await verifyLogin(request.value.subjectToken, tokens);
  if (!login.ok) return stop(login);
  facts.actor = login.value;
  const actsFor = checkClientActsFor(client.value, login.value);
  if (!actsFor.ok) return stop(actsFor);
  const user = checkRoleAndOrganisation(binding.value.purpose, actsFor.value);
  if (!user.ok) return stop(user);
  const emergency = checkNoodtoegangAllowed(binding.value, user.value, deps.noodtoegang);
  if (!emergency.ok) return stop(emergency);
  const clientRef = await checkRelationship(binding.value, user.value, records, isoDate(tokens.clock.now()));
  if (!clientRef.ok) return stop(clientRef);
  if (clientRef.value !== undefined) facts.clientRef = clientRef.value;

  const noodtoegangId = binding.value.noodtoegang === undefined ? undefined : randomUUID();
  const grant: Grant = {
    user: user.value,
    purpose: binding.value.purpose,
    client: clientRef.value,
    clientId: client.value.clientId,
    jkt: jkt.value,
    ...(noodtoegangId === undefined ? {} : { noodtoegang: { id: noodtoegangId } }),
  };
  const issued = await issue(grant, tokens);
  const outcome: ExchangeOutcome = { ok: true, value: issued, facts };
  if (noodtoegangId === undefined) return { outcome };
  const { issuer: iss, sub, role, org } = user.value;
  return {
    outcome,
    noodtoegang: {
      id: noodtoegangId,
      at: tokens.clock.now(),
      actor: { iss, sub, role, org },
      clientId: client.value.clientId,
      clientRef: clientRef.value!,
      purpose: binding.value.purpose,
      reden: binding.value.noodtoegang!.reden,
      tokenId: issued.issued.jti,
    },
  };
}

/** The audit line of an exchange, whatever its outcome. */
function exchangeAuditEntry(outcome: ExchangeOutcome, requestFacts: RequestFacts, httpStatus: number): AuditEntry {
  const { facts } = outcome;
  const request = facts.clientId ? { ...requestFacts, clientId: facts.clientId } : requestFacts;
  const purpose = facts.purpose ? { purpose: facts.purpose, processingActivityId: PURPOSES[facts.purpose].processingActivityId } : {};
  const client = { ...(facts.clientRef ? { clientRef: facts.clientRef } : {}), ...(facts.bsnPseudonym ? { bsnPseudonym: facts.bsnPseudonym } : {}) };
  if (outcome.ok) {
    const { grant, issued } = outcome.value;
    const who = auditFacts(request, { ...grant.user, purpose: grant.purpose, tokenId: issued.jti, noodtoegang: grant.noodtoegang });
    return {
      action: 'token.issued',
      ...who,
      actor: auditActor(grant.user),
      purpose: grant.purpose,
      tokenId: issued.jti,
      ...client,
      httpStatus,
      outcome: 'permit',
      reason: 'PERMIT',
    };
  }
  const flag = facts.noodtoegang ? { noodtoegang: true as const } : {};
  return { action: 'token.refused', ...auditFacts(request, facts.actor), ...purpose, ...client, ...flag, httpStatus, outcome: 'deny', reason: outcome.reason };
}

/** What an exchange needs besides the request. */
export interface ExchangeDeps {
  tokens: TokenService;
  records: RecordReader;
  uow: UnitOfWork;
  /** The audit log's keyed BSN pseudonym. */
  pseudonym: (bsn: string) => string;
  /** The HTTP status the caller answers an outcome with, for its audit line: `undefined` is a token issued. */
  statusOf: (error: ExchangeError | undefined) => number;
  /**
   * Emergency access: the policy whose emergency rules allow it, and how many a person may have in any 7 days
   * (DOELPOORT_NOODTOEGANG_PER_WEEK). Without it, every request for emergency access is refused.
   */
  noodtoegang?: NoodtoegangSetting | undefined;
}

/**
 * RFC 8693 token exchange, the verb `/oauth/token` calls: a registered client, authenticated, brings a trusted login
 * plus one purpose (and client) and gets a short-lived access token, when the client acts for the login's
 * organisation, the purpose fits the role and organisation and the relationship to the client holds today (or, for
 * an emergency access, the policy allows one and the relationship does not hold). The steps run first (they verify
 * signatures, so they cannot run inside the unit of work); then, in the unit of work, an emergency access is counted
 * against the weekly limit and recorded, and the one audit line of the outcome, permit or deny, is appended; the
 * outcome is returned once it is durable. Rejects with AUDIT_WRITE_FAILED when it cannot be written: no line, no token.
 */
export async function exchangeToken(input: TokenRequestInput, request: RequestFacts, deps: ExchangeDeps): Promise<ExchangeOutcome> {
  const stepped = await runSteps(input, deps);
  const line = (outcome: ExchangeOutcome) => exchangeAuditEntry(outcome, request, deps.statusOf(outcome.ok ? undefined : outcome.error));
  const { outcome: _o, reason: _r, httpStatus: _h, ...deny } = line(stepped.outcome);
  return deps.uow.run(
    async (tx) => {
      let outcome = stepped.outcome;
      const emergency = stepped.noodtoegang;
      // The token signed for an emergency access past the limit is never handed out.
      if (emergency && !(await recordNoodtoegang(tx, emergency, deps.noodtoegang?.perWeek ?? 0))) {
        outcome = { ok: false, error: 'access_denied', reason: 'NOODTOEGANG_LIMIT', facts: outcome.facts };
      }
      await tx.audit.append(line(outcome));
      return outcome;
    },
    { deny: deny as DenyLine },
  );
}

/** The RFC 8693 §2.2.1 success body. */
export function exchangeResponse({ issued, grant, tokenType }: Issued) {
  return {
    access_token: issued.token,
    issued_token_type: ACCESS_TOKEN_TYPE,
    token_type: tokenType,
    expires_in: issued.expiresIn,
    authorization_details: authorizationDetails(grant),
  };
}
