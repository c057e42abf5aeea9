import { decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { organisationSchema, roleSchema, type Role } from '../purposes.js';
import type { Result } from '../result.js';
import { ASYMMETRIC_ALGORITHMS, CLOCK_TOLERANCE_SECONDS } from './algorithms.js';
import { isCanonicalCompactJws } from './compact.js';
import type { TrustStore } from './idps.js';

/** Who a verified login token says the user is. */
export interface UserIdentity {
  issuer: string;
  sub: string;
  role: Role;
  org: string;
  name?: string | undefined;
}

/** Why a subject token was refused; stable codes for the audit line, never shown with values. */
export type UserTokenRefusal =
  | 'SUBJECT_TOKEN_MALFORMED'
  | 'SUBJECT_TOKEN_IS_ACCESS_TOKEN'
  | 'SUBJECT_TOKEN_ALG_NOT_ALLOWED'
  | 'SUBJECT_TOKEN_ISSUER_UNTRUSTED'
  | 'SUBJECT_TOKEN_SIGNATURE_INVALID'
  | 'SUBJECT_TOKEN_EXPIRED'
  | 'SUBJECT_TOKEN_NOT_YET_VALID'
  | 'SUBJECT_TOKEN_WRONG_AUDIENCE'
  | 'SUBJECT_TOKEN_CLAIMS_INVALID'
  | 'SUBJECT_TOKEN_LIFETIME_TOO_LONG'
  | 'SUBJECT_TOKEN_TOO_OLD'
  | 'SUBJECT_TOKEN_ORGANISATION_NOT_VOUCHED'
  | 'SUBJECT_TOKEN_KEYS_UNAVAILABLE';

/** The longest a login may live (`exp − iat`), and the oldest its `iat` may be, in seconds. */
const LOGIN_MAX_LIFETIME_SECONDS = 12 * 3600;

const REQUIRED_CLAIMS = ['iss', 'aud', 'sub', 'iat', 'exp', 'role', 'org'];
/** Token types that are ours or proofs, never logins (RFC 8725 §3.11 explicit typing). */
const NOT_A_LOGIN = new Set(['at+jwt', 'dpop+jwt']);

const userClaimsSchema = z.object({
  sub: z.string().min(1).max(256),
  /** zod's numbers are finite: JSON's 1e309 is Infinity, which jose takes for a token that never expires. */
  iat: z.number(),
  exp: z.number(),
  role: roleSchema,
  org: organisationSchema,
  name: z.string().max(256).optional(),
});

const normalizeTyp = (typ: string) => typ.toLowerCase().replace(/^application\//, '');

/**
 * Verifies a user's login token per RFC 8725: one canonical spelling, asymmetric algorithms only, the issuer picked by
 * the unverified `iss` and the signature checked against that issuer's keys alone, its audience, the time claims with
 * a small tolerance and a bounded lifetime, the claims doelpoort needs, and an `org` the issuer may vouch for.
 */
export async function verifyUserToken(token: string, trust: TrustStore, clock: Clock): Promise<Result<UserIdentity, { reason: UserTokenRefusal }>> {
  const refuse = (reason: UserTokenRefusal) => ({ ok: false, reason }) as const;
  let typ: unknown;
  let alg: unknown;
  let iss: unknown;
  if (!isCanonicalCompactJws(token)) return refuse('SUBJECT_TOKEN_MALFORMED');
  try {
    ({ typ, alg } = decodeProtectedHeader(token));
    ({ iss } = decodeJwt(token));
  } catch {
    return refuse('SUBJECT_TOKEN_MALFORMED');
  }
  if (typeof typ === 'string' && NOT_A_LOGIN.has(normalizeTyp(typ))) return refuse('SUBJECT_TOKEN_IS_ACCESS_TOKEN');
  if (typeof alg !== 'string' || !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) return refuse('SUBJECT_TOKEN_ALG_NOT_ALLOWED');
  const idp = typeof iss === 'string' ? await trust.find(iss) : undefined;
  if (!idp) return refuse('SUBJECT_TOKEN_ISSUER_UNTRUSTED');

  const now = clock.now();
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, idp.keys, {
      algorithms: [...ASYMMETRIC_ALGORITHMS],
      issuer: idp.issuer,
      audience: idp.audience,
      requiredClaims: REQUIRED_CLAIMS,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(now),
    }));
  } catch (error) {
    return refuse(refusalFor(error));
  }
  const claims = userClaimsSchema.safeParse(payload);
  if (!claims.success) return refuse('SUBJECT_TOKEN_CLAIMS_INVALID');
  // jose checks `iat` against the clock only with maxTokenAge; a login minted in the future is not valid yet.
  const { iat, exp } = claims.data;
  if (iat > now / 1000 + CLOCK_TOLERANCE_SECONDS) return refuse('SUBJECT_TOKEN_NOT_YET_VALID');
  if (now / 1000 - iat > LOGIN_MAX_LIFETIME_SECONDS) return refuse('SUBJECT_TOKEN_TOO_OLD');
  if (exp - iat > LOGIN_MAX_LIFETIME_SECONDS) return refuse('SUBJECT_TOKEN_LIFETIME_TOO_LONG');
  const { sub, role, org, name } = claims.data;
  // Whatever the signature: a provider speaks only for the organisations it is listed for.
  if (!idp.organisations.has(org)) return refuse('SUBJECT_TOKEN_ORGANISATION_NOT_VOUCHED');
  return { ok: true, value: { issuer: idp.issuer, sub, role, org, ...(name !== undefined ? { name } : {}) } };
}

function refusalFor(error: unknown): UserTokenRefusal {
  if (error instanceof errors.JWTExpired) return 'SUBJECT_TOKEN_EXPIRED';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf' || error.claim === 'iat') return error.reason === 'check_failed' ? 'SUBJECT_TOKEN_NOT_YET_VALID' : 'SUBJECT_TOKEN_CLAIMS_INVALID';
    if (error.claim === 'aud') return error.reason === 'check_failed' ? 'SUBJECT_TOKEN_WRONG_AUDIENCE' : 'SUBJECT_TOKEN_CLAIMS_INVALID';
    return 'SUBJECT_TOKEN_CLAIMS_INVALID';
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'SUBJECT_TOKEN_ALG_NOT_ALLOWED';
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return 'SUBJECT_TOKEN_KEYS_UNAVAILABLE';
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys || error instanceof errors.JWSSignatureVerificationFailed) {
    return 'SUBJECT_TOKEN_SIGNATURE_INVALID';
  }
  if (error instanceof errors.JOSEError) return 'SUBJECT_TOKEN_MALFORMED';
  // A failed fetch of a remote key set is a plain error, not a JOSEError.
  return 'SUBJECT_TOKEN_KEYS_UNAVAILABLE';
}
