import { z } from 'zod';
import { auditActor, type AuditEntry } from '../audit/entry.js';
import { auditFacts, type RequestFacts } from '../audit/facts.js';
import { isoDate } from '../clock.js';
import { organisationFitsRole, PURPOSES, purposeFitsRole, purposeSchema, relationship, type Purpose, type Role } from '../purposes.js';
import type { RecordStore } from '../records/store.js';
import { bsnSchema, clientRefSchema } from '../records/suite-record.js';
import type { Result } from '../result.js';
import { appendLine, type UnitOfWork } from '../unit-of-work.js';
import { authorizationDetails, issueAccessToken, type Grant, type IssuedToken } from './access-token.js';
import { verifyDpopProof } from './dpop.js';
import type { TokenService } from './service.js';
import { verifyUserToken } from './user-token.js';

/** RFC 8693 identifiers. */
const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** The RFC 6749 §5.2 / RFC 9449 error of a refused exchange; src/http maps it to a status. */
export type ExchangeError = 'invalid_request' | 'invalid_grant' | 'unsupported_grant_type' | 'access_denied' | 'invalid_dpop_proof';

/** Value-free descriptions per error, safe to send. */
export const EXCHANGE_ERROR_DESCRIPTIONS: Record<ExchangeError, string> = {
  invalid_request: 'the request is missing a parameter, repeats one, or has one that is malformed',
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

/** The form parameters of a token request (RFC 8693 §2.1); others are ignored, as RFC 6749 §3.2 asks. */
export const tokenRequestSchema = z.object({
  grant_type: z.string(),
  subject_token: z.string().min(1).max(16_384),
  subject_token_type: z.literal(JWT_TOKEN_TYPE),
  authorization_details: z.string().max(4_096),
  requested_token_type: z.literal(ACCESS_TOKEN_TYPE).optional(),
});

/** Exactly one `doelbinding` object (RFC 9396); the purpose is checked separately to give it its own reason. */
const authorizationDetailsSchema = z
  .array(z.strictObject({ type: z.literal('doelbinding'), purpose: z.string().max(64), client: clientRefSchema.optional(), bsn: bsnSchema.optional() }))
  .length(1);

/** A token request as it arrived at the endpoint: its body, content type and DPoP header, unread. */
export interface TokenRequestInput {
  contentType: string | undefined;
  body: string;
  dpopProof: string | undefined;
}

/** A well-formed token exchange request. */
interface TokenRequest {
  subjectToken: string;
  authorizationDetails: string;
}

/** The one `doelbinding` object as sent, before its purpose is known to exist. */
interface DoelbindingDetail {
  purpose: string;
  client?: string | undefined;
  bsn?: string | undefined;
}

/** A purpose and the client it names, by clientRef or (schuldhulpverlening) by BSN, as the purpose allows. */
interface Doelbinding {
  purpose: Purpose;
  client: string | undefined;
  bsn: string | undefined;
}

/** A verified login. */
interface Login {
  issuer: string;
  sub: string;
  role: Role;
  org: string;
}

/** Step 1: the form body as single-valued parameters (a repeated one is malformed, RFC 6749 §3.2), and their shape. */
function parseTokenRequest(input: TokenRequestInput): Step<TokenRequest> {
  const type = input.contentType?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return refused('invalid_request', 'CONTENT_TYPE_UNSUPPORTED');
  const params: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(input.body)) {
    if (Object.hasOwn(params, name)) return refused('invalid_request', 'PARAMETER_REPEATED');
    params[name] = value;
  }
  if (params.grant_type === undefined) return refused('invalid_request', 'GRANT_TYPE_MISSING');
  if (params.grant_type !== TOKEN_EXCHANGE_GRANT) return refused('unsupported_grant_type', 'GRANT_TYPE_UNSUPPORTED');
  const form = tokenRequestSchema.safeParse(params);
  if (!form.success) return refused('invalid_request', `PARAMETER_${String(form.error.issues[0]?.path[0] ?? 'FORM').toUpperCase()}_INVALID`);
  return ok({ subjectToken: form.data.subject_token, authorizationDetails: form.data.authorization_details });
}

/** Step 2: the one `doelbinding` object of `authorization_details`. */
function parseAuthorizationDetails(text: string): Step<DoelbindingDetail> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return refused('invalid_request', 'AUTHORIZATION_DETAILS_INVALID');
  }
  const details = authorizationDetailsSchema.safeParse(raw);
  // A malformed client (nine digits may be a BSN) is refused with its own reason, and never reaches the audit line.
  if (!details.success)
    return refused('invalid_request', details.error.issues.some((i) => i.path[1] === 'client') ? 'CLIENT_REF_INVALID' : 'AUTHORIZATION_DETAILS_INVALID');
  return ok(details.data[0]!);
}

/** Step 3: the purpose named is one of doelpoort's. */
function knownPurpose(detail: DoelbindingDetail): Step<Purpose> {
  const parsed = purposeSchema.safeParse(detail.purpose);
  return parsed.success ? ok(parsed.data) : refused('invalid_request', 'PURPOSE_UNKNOWN');
}

/** Step 4: the doelbinding: the purpose names a client (by clientRef, or by BSN for schuldhulpverlening) as it must. */
function bindClient(purpose: Purpose, detail: DoelbindingDetail): Step<Doelbinding> {
  const { client, bsn } = detail;
  if (client !== undefined && bsn !== undefined) return refused('invalid_request', 'CLIENT_AND_BSN');
  if (bsn !== undefined && purpose !== 'schuldhulpverlening') return refused('invalid_request', 'BSN_NOT_FOR_PURPOSE');
  const named = client !== undefined || bsn !== undefined;
  const rule = PURPOSES[purpose].client;
  if (rule === 'none' && named) return refused('invalid_request', 'PURPOSE_TAKES_NO_CLIENT');
  if (rule === 'required' && !named) return refused('invalid_request', 'CLIENT_REQUIRED');
  return ok({ purpose, client, bsn });
}

/** Step 5: the DPoP proof (RFC 9449) when one came, or none when the gateway allows bearer tokens; its key thumbprint. */
async function checkDpop(proof: string | undefined, tokens: TokenService): Promise<Step<string | undefined>> {
  if (proof === undefined) return tokens.requireDpop ? refused('invalid_dpop_proof', 'DPOP_REQUIRED') : ok(undefined);
  const verified = await verifyDpopProof(proof, { method: 'POST', url: `${tokens.issuer}/oauth/token` }, { clock: tokens.clock, replay: tokens.replay });
  return verified.ok ? ok(verified.value.jkt) : refused('invalid_dpop_proof', verified.reason);
}

/** Step 6: the subject token is a login of a trusted identity provider. */
async function verifyLogin(subjectToken: string, tokens: TokenService): Promise<Step<Login>> {
  const login = await verifyUserToken(subjectToken, tokens.trust, tokens.clock);
  if (!login.ok) return refused('invalid_grant', login.reason);
  const { issuer, sub, role, org } = login.value;
  return ok({ issuer, sub, role, org });
}

/** Step 7: the purpose fits the login's role, and the role its organisation. */
function checkRoleAndOrganisation(purpose: Purpose, user: Login): Step<Login> {
  if (!purposeFitsRole(purpose, user.role)) return refused('access_denied', 'PURPOSE_NOT_FOR_ROLE');
  if (!organisationFitsRole(user.role, user.org)) return refused('access_denied', 'ORGANISATION_NOT_FOR_ROLE');
  return ok(user);
}

/** Step 8: the client named exists and the purpose's relationship to it holds today; its clientRef (none when unnamed). */
async function checkRelationship(binding: Doelbinding, user: Login, records: RecordStore, today: string): Promise<Step<string | undefined>> {
  if (binding.client === undefined && binding.bsn === undefined) return ok(undefined);
  const clientRef = binding.client ?? (await records.clientRefByBsn(binding.bsn!));
  const record = clientRef === undefined ? undefined : await records.get(clientRef);
  // An unknown client is refused like one without a relationship, so the answer does not reveal who exists.
  if (!record) return refused('access_denied', 'CLIENT_UNKNOWN');
  const rel = relationship(binding.purpose, user, record, today);
  return rel.holds ? ok(record.clientRef) : refused('access_denied', rel.reason);
}

/** Step 9: the access token for the grant, signed by the gateway, bound to the DPoP key when there was a proof. */
async function issue(grant: Grant, tokens: TokenService): Promise<Issued> {
  const issued = await issueAccessToken(grant, tokens.keys, { issuer: tokens.issuer, ttlSeconds: tokens.ttlSeconds, clock: tokens.clock });
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
  actor?: Login;
  purpose?: Purpose;
  clientRef?: string;
  bsnPseudonym?: string;
}

/** An exchange as a value: the issued token and its grant, or the refusal; with the facts its audit line holds. */
export type ExchangeOutcome = Result<Issued, ExchangeRefusal> & { facts: ExchangeFacts };

/** The steps of the exchange, one after another, each taking what the one before gave. Async work only: no line yet. */
async function runSteps(input: TokenRequestInput, tokens: TokenService, records: RecordStore, pseudonym: (bsn: string) => string): Promise<ExchangeOutcome> {
  const facts: ExchangeFacts = {};
  const stop = (refusal: ExchangeRefusal): ExchangeOutcome => ({ ok: false, error: refusal.error, reason: refusal.reason, facts });

  const request = parseTokenRequest(input);
  if (!request.ok) return stop(request);
  const detail = parseAuthorizationDetails(request.value.authorizationDetails);
  if (!detail.ok) return stop(detail);
  if (detail.value.bsn !== undefined) facts.bsnPseudonym = pseudonym(detail.value.bsn);
  if (detail.value.client !== undefined) facts.clientRef = detail.value.client;
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
  const user = checkRoleAndOrganisation(binding.value.purpose, login.value);
  if (!user.ok) return stop(user);
  const client = await checkRelationship(binding.value, user.value, records, isoDate(tokens.clock.now()));
  if (!client.ok) return stop(client);
  if (client.value !== undefined) facts.clientRef = client.value;

  const grant: Grant = { user: user.value, purpose: binding.value.purpose, client: client.value, jkt: jkt.value };
  return { ok: true, value: await issue(grant, tokens), facts };
}

/** The audit line of an exchange, whatever its outcome. */
function exchangeAuditEntry(outcome: ExchangeOutcome, request: RequestFacts, httpStatus: number): AuditEntry {
  const { facts } = outcome;
  const purpose = facts.purpose ? { purpose: facts.purpose, processingActivityId: PURPOSES[facts.purpose].processingActivityId } : {};
  const client = { ...(facts.clientRef ? { clientRef: facts.clientRef } : {}), ...(facts.bsnPseudonym ? { bsnPseudonym: facts.bsnPseudonym } : {}) };
  if (outcome.ok) {
    const { grant, issued } = outcome.value;
    const who = auditFacts(request, { ...grant.user, purpose: grant.purpose, tokenId: issued.jti });
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
  return { action: 'token.refused', ...auditFacts(request, facts.actor), ...purpose, ...client, httpStatus, outcome: 'deny', reason: outcome.reason };
}

/** What an exchange needs besides the request. */
export interface ExchangeDeps {
  tokens: TokenService;
  records: RecordStore;
  uow: UnitOfWork;
  /** The audit log's keyed BSN pseudonym. */
  pseudonym: (bsn: string) => string;
  /** The HTTP status the caller answers an outcome with, for its audit line: `undefined` is a token issued. */
  statusOf: (error: ExchangeError | undefined) => number;
}

/**
 * RFC 8693 token exchange, the verb `/oauth/token` calls: a trusted login plus one purpose (and client) becomes a
 * short-lived access token, when the purpose fits the role and organisation and the relationship to the client holds
 * today. The steps run first (they verify signatures, so they cannot run inside the unit of work); then the one audit
 * line of the outcome, permit or deny, goes through the unit of work, and the outcome is returned once it is durable.
 * Rejects with AUDIT_WRITE_FAILED when it cannot be written: no line, no token.
 */
export async function exchangeToken(input: TokenRequestInput, request: RequestFacts, deps: ExchangeDeps): Promise<ExchangeOutcome> {
  const outcome = await runSteps(input, deps.tokens, deps.records, deps.pseudonym);
  await appendLine(deps.uow, exchangeAuditEntry(outcome, request, deps.statusOf(outcome.ok ? undefined : outcome.error)));
  return outcome;
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
