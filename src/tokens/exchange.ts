import { z } from 'zod';
import { auditActor, type AuditEntry } from '../audit/entry.js';
import { isoDate } from '../clock.js';
import { PURPOSES, purposeFitsRole, purposeSchema, relationship, type Purpose, type Role } from '../purposes.js';
import type { RecordStore } from '../records/store.js';
import { bsnSchema, clientRefSchema } from '../records/suite-record.js';
import { authorizationDetails, issueAccessToken, type Grant, type IssuedToken } from './access-token.js';
import { verifyDpopProof } from './dpop.js';
import type { TokenService } from './service.js';
import { verifyUserToken, type UserIdentity } from './user-token.js';

/** RFC 8693 identifiers. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

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

/** What the audit line of an exchange records besides the outcome. */
export interface ExchangeFacts {
  actor?: Pick<UserIdentity, 'issuer' | 'sub' | 'role' | 'org'>;
  purpose?: Purpose;
  clientRef?: string;
  bsnPseudonym?: string;
}

/** The result of an exchange as a value: a token, or an error and a stable reason code. */
export type ExchangeOutcome =
  | { ok: true; issued: IssuedToken; grant: Grant; tokenType: 'Bearer' | 'DPoP'; facts: ExchangeFacts }
  | { ok: false; error: ExchangeError; reason: string; facts: ExchangeFacts };

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

/** Which organisations a role belongs to (domain.md, Users). */
export function organisationFitsRole(role: Role, org: string): boolean {
  switch (role) {
    case 'participatiecoach':
    case 'schuldhulpverlener':
      return org.startsWith('GM');
    case 'werkcoach':
      return org === 'WERKZAAK';
    case 'privacy-officer':
      return true;
  }
}

/** What an exchange needs besides the request. */
export interface ExchangeDeps {
  tokens: TokenService;
  records: RecordStore;
  /** The audit log's keyed BSN pseudonym. */
  pseudonym: (bsn: string) => string;
}

/**
 * RFC 8693 token exchange: a trusted login plus one purpose (and client) becomes a short-lived access token, when the
 * purpose fits the role and organisation and the relationship to the client holds today. Async work only; the caller
 * appends the audit line and answers.
 */
export async function exchangeToken(
  request: { params: Record<string, string>; dpopProof?: string | undefined; url: string },
  deps: ExchangeDeps,
): Promise<ExchangeOutcome> {
  const facts: ExchangeFacts = {};
  const refuse = (error: ExchangeError, reason: string): ExchangeOutcome => ({ ok: false, error, reason, facts });
  const { tokens, records } = deps;

  const grantType = request.params.grant_type;
  if (grantType === undefined) return refuse('invalid_request', 'GRANT_TYPE_MISSING');
  if (grantType !== TOKEN_EXCHANGE_GRANT) return refuse('unsupported_grant_type', 'GRANT_TYPE_UNSUPPORTED');
  const form = tokenRequestSchema.safeParse(request.params);
  if (!form.success) return refuse('invalid_request', `PARAMETER_${String(form.error.issues[0]?.path[0] ?? 'FORM').toUpperCase()}_INVALID`);

  let rawDetails: unknown;
  try {
    rawDetails = JSON.parse(form.data.authorization_details);
  } catch {
    return refuse('invalid_request', 'AUTHORIZATION_DETAILS_INVALID');
  }
  const details = authorizationDetailsSchema.safeParse(rawDetails);
  // A malformed client (nine digits may be a BSN) is refused with its own reason, and never reaches the audit line.
  if (!details.success) return refuse('invalid_request', details.error.issues.some((i) => i.path[1] === 'client') ? 'CLIENT_REF_INVALID' : 'AUTHORIZATION_DETAILS_INVALID');
  const detail = details.data[0]!;
  if (detail.bsn !== undefined) facts.bsnPseudonym = deps.pseudonym(detail.bsn);
  if (detail.client !== undefined) facts.clientRef = detail.client;
  const purposeParsed = purposeSchema.safeParse(detail.purpose);
  if (!purposeParsed.success) return refuse('invalid_request', 'PURPOSE_UNKNOWN');
  const purpose = purposeParsed.data;
  facts.purpose = purpose;
  const clientRule = PURPOSES[purpose].client;
  if (detail.client !== undefined && detail.bsn !== undefined) return refuse('invalid_request', 'CLIENT_AND_BSN');
  if (detail.bsn !== undefined && purpose !== 'schuldhulpverlening') return refuse('invalid_request', 'BSN_NOT_FOR_PURPOSE');
  const named = detail.client !== undefined || detail.bsn !== undefined;
  if (clientRule === 'none' && named) return refuse('invalid_request', 'PURPOSE_TAKES_NO_CLIENT');
  if (clientRule === 'required' && !named) return refuse('invalid_request', 'CLIENT_REQUIRED');

  let jkt: string | undefined;
  if (request.dpopProof !== undefined) {
    const proof = await verifyDpopProof(request.dpopProof, { method: 'POST', url: request.url }, { clock: tokens.clock, replay: tokens.replay });
    if (!proof.ok) return refuse('invalid_dpop_proof', proof.reason);
    jkt = proof.value.jkt;
  } else if (tokens.requireDpop) {
    return refuse('invalid_dpop_proof', 'DPOP_REQUIRED');
  }

  const login = await verifyUserToken(form.data.subject_token, tokens.trust, tokens.clock);
  if (!login.ok) return refuse('invalid_grant', login.reason);
  const user = { issuer: login.value.issuer, sub: login.value.sub, role: login.value.role, org: login.value.org };
  facts.actor = user;

  if (!purposeFitsRole(purpose, user.role)) return refuse('access_denied', 'PURPOSE_NOT_FOR_ROLE');
  if (!organisationFitsRole(user.role, user.org)) return refuse('access_denied', 'ORGANISATION_NOT_FOR_ROLE');

  let client: string | undefined;
  if (named) {
    client = detail.client ?? records.clientRefByBsn(detail.bsn!);
    // An unknown client is refused like one without a relationship, so the answer does not reveal who exists.
    const record = client === undefined ? undefined : records.get(client);
    if (!record) return refuse('access_denied', 'CLIENT_UNKNOWN');
    facts.clientRef = record.clientRef;
    const rel = relationship(purpose, user, record, isoDate(tokens.clock.now()));
    if (!rel.holds) return refuse('access_denied', rel.reason);
  }

  const grant: Grant = { user, purpose, client, jkt };
  const issued = await issueAccessToken(grant, tokens.keys, { issuer: tokens.issuer, ttlSeconds: tokens.ttlSeconds, clock: tokens.clock });
  return { ok: true, issued, grant, tokenType: jkt ? 'DPoP' : 'Bearer', facts };
}

/** The RFC 8693 §2.2.1 success body. */
export function exchangeResponse(outcome: Extract<ExchangeOutcome, { ok: true }>) {
  return {
    access_token: outcome.issued.token,
    issued_token_type: ACCESS_TOKEN_TYPE,
    token_type: outcome.tokenType,
    expires_in: outcome.issued.expiresIn,
    authorization_details: authorizationDetails(outcome.grant),
  };
}

/** The audit line of an exchange, whatever its outcome. */
export function exchangeAuditEntry(
  outcome: ExchangeOutcome,
  context: { traceId: string; spanId: string; origin: string; httpStatus: number },
): AuditEntry {
  const { facts } = outcome;
  const common = {
    traceId: context.traceId,
    spanId: context.spanId,
    origin: context.origin.slice(0, 64),
    httpStatus: context.httpStatus,
    ...(facts.purpose ? { purpose: facts.purpose, processingActivityId: PURPOSES[facts.purpose].processingActivityId } : {}),
    ...(facts.clientRef ? { clientRef: facts.clientRef } : {}),
    ...(facts.bsnPseudonym ? { bsnPseudonym: facts.bsnPseudonym } : {}),
  };
  if (outcome.ok) {
    return {
      action: 'token.issued',
      ...common,
      actor: auditActor(outcome.grant.user),
      purpose: outcome.grant.purpose,
      tokenId: outcome.issued.jti,
      outcome: 'permit',
      reason: 'PERMIT',
    };
  }
  return { action: 'token.refused', ...common, ...(facts.actor ? { actor: auditActor(facts.actor) } : {}), outcome: 'deny', reason: outcome.reason };
}
