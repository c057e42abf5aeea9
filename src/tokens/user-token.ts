import { decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { organisationSchema, roleSchema, type Role } from '../purposes.js';
import type { Result } from '../result.js';
import { ASYMMETRIC_ALGORITHMS, CLOCK_TOLERANCE_SECONDS } from './algorithms.js';
import { isCanonicalCompactJws } from './compact.js';
import type { TrustedIdp, TrustStore } from './idps.js';
import type { VerifiedLoginCache } from './login-cache.js';

/** Who a verified login token says the user is. */
export interface UserIdentity {
  issuer: string;
  sub: string;
  role: Role;
  org: string;
  name?: string | undefined;
}

/**
 * Why a login was refused, whichever way it came (a subject token, the ID token of a web login): stable codes for the
 * audit line, never shown with values.
 */
export type LoginRefusal =
  | 'MALFORMED'
  | 'IS_ACCESS_TOKEN'
  | 'ALG_NOT_ALLOWED'
  | 'ISSUER_UNTRUSTED'
  | 'SIGNATURE_INVALID'
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  | 'WRONG_AUDIENCE'
  | 'CLAIMS_INVALID'
  | 'LIFETIME_TOO_LONG'
  | 'TOO_OLD'
  | 'ORGANISATION_NOT_VOUCHED'
  | 'KEYS_UNAVAILABLE';

/** Why a subject token was refused: the login's reason, named as a subject token's. */
export type UserTokenRefusal = `SUBJECT_TOKEN_${LoginRefusal}`;

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
 * Verifies a user's login token per RFC 8725: the issuer picked by the unverified `iss`, then every check of
 * `verifyLogin` against that issuer's keys alone and with its configured audience. With `cache`, a token that passed
 * before (the very same string) and is still within its time (login-cache.ts) is not checked again, and one that
 * passes now is remembered; a refused token is never remembered.
 */
export async function verifyUserToken(
  token: string,
  trust: TrustStore,
  clock: Clock,
  cache?: VerifiedLoginCache,
): Promise<Result<UserIdentity, { reason: UserTokenRefusal }>> {
  const refuse = (reason: LoginRefusal) => ({ ok: false, reason: `SUBJECT_TOKEN_${reason}` }) as const;
  const known = cache?.get(token);
  if (known) return { ok: true, value: known };
  if (!isCanonicalCompactJws(token)) return refuse('MALFORMED');
  let iss: unknown;
  try {
    ({ iss } = decodeJwt(token));
  } catch {
    return refuse('MALFORMED');
  }
  const idp = typeof iss === 'string' ? await trust.find(iss) : undefined;
  if (!idp) {
    // A malformed header or an access token is named as such even from an unknown issuer.
    const header = checkHeader(token);
    return refuse(header.ok ? 'ISSUER_UNTRUSTED' : header.reason);
  }
  const login = await checkLogin(token, idp, idp.audience, clock);
  if (!login.ok) return refuse(login.reason);
  cache?.set(token, login.value.identity, login.value.exp);
  return { ok: true, value: login.value.identity };
}

/**
 * The checks every login passes, whichever way it came: a subject token at the token exchange (audience: the IdP
 * entry's `audience`) or the ID token of a web login (audience: the web client's id). One canonical spelling, not an
 * access token or a proof, an asymmetric algorithm, the signature by `idp`'s own keys, its issuer and `audience`, the
 * time claims with a small tolerance and a bounded lifetime, the claims doelpoort needs, and an `org` the issuer may
 * vouch for. Whether the role fits the organisation is the caller's next step (`organisationFitsRole`).
 */
export async function verifyLogin(token: string, idp: TrustedIdp, audience: string, clock: Clock): Promise<Result<UserIdentity, { reason: LoginRefusal }>> {
  const login = await checkLogin(token, idp, audience, clock);
  return login.ok ? { ok: true, value: login.value.identity } : login;
}

/** `verifyLogin`, with the login's `exp` (epoch seconds) beside the identity. */
async function checkLogin(
  token: string,
  idp: TrustedIdp,
  audience: string,
  clock: Clock,
): Promise<Result<{ identity: UserIdentity; exp: number }, { reason: LoginRefusal }>> {
  const refuse = (reason: LoginRefusal) => ({ ok: false, reason }) as const;
  if (!isCanonicalCompactJws(token)) return refuse('MALFORMED');
  const header = checkHeader(token);
  if (!header.ok) return refuse(header.reason);
  const now = clock.now();
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, idp.keys, {
      algorithms: [...ASYMMETRIC_ALGORITHMS],
      issuer: idp.issuer,
      audience,
      requiredClaims: REQUIRED_CLAIMS,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(now),
    }));
  } catch (error) {
    return refuse(refusalFor(error));
  }
  const claims = userClaimsSchema.safeParse(payload);
  if (!claims.success) return refuse('CLAIMS_INVALID');
  // jose checks `iat` against the clock only with maxTokenAge; a login minted in the future is not valid yet.
  const { iat, exp } = claims.data;
  if (iat > now / 1000 + CLOCK_TOLERANCE_SECONDS) return refuse('NOT_YET_VALID');
  if (now / 1000 - iat > LOGIN_MAX_LIFETIME_SECONDS) return refuse('TOO_OLD');
  if (exp - iat > LOGIN_MAX_LIFETIME_SECONDS) return refuse('LIFETIME_TOO_LONG');
  const { sub, role, org, name } = claims.data;
  // Whatever the signature: a provider speaks only for the organisations it is listed for.
  if (!idp.organisations.has(org)) return refuse('ORGANISATION_NOT_VOUCHED');
  return { ok: true, value: { identity: { issuer: idp.issuer, sub, role, org, ...(name !== undefined ? { name } : {}) }, exp } };
}

/** The protected header of a login: readable, not one of our token types, an asymmetric algorithm. */
function checkHeader(token: string): Result<undefined, { reason: LoginRefusal }> {
  let typ: unknown;
  let alg: unknown;
  try {
    ({ typ, alg } = decodeProtectedHeader(token));
  } catch {
    return { ok: false, reason: 'MALFORMED' };
  }
  if (typeof typ === 'string' && NOT_A_LOGIN.has(normalizeTyp(typ))) return { ok: false, reason: 'IS_ACCESS_TOKEN' };
  if (typeof alg !== 'string' || !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) return { ok: false, reason: 'ALG_NOT_ALLOWED' };
  return { ok: true, value: undefined };
}

function refusalFor(error: unknown): LoginRefusal {
  if (error instanceof errors.JWTExpired) return 'EXPIRED';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf' || error.claim === 'iat') return error.reason === 'check_failed' ? 'NOT_YET_VALID' : 'CLAIMS_INVALID';
    if (error.claim === 'aud') return error.reason === 'check_failed' ? 'WRONG_AUDIENCE' : 'CLAIMS_INVALID';
    return 'CLAIMS_INVALID';
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'ALG_NOT_ALLOWED';
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return 'KEYS_UNAVAILABLE';
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys || error instanceof errors.JWSSignatureVerificationFailed) {
    return 'SIGNATURE_INVALID';
  }
  if (error instanceof errors.JOSEError) return 'MALFORMED';
  // A failed fetch of a remote key set is a plain error, not a JOSEError.
  return 'KEYS_UNAVAILABLE';
}
