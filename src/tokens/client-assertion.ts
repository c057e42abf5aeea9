import { decodeProtectedHeader, errors, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { Result } from '../result.js';
import { ASYMMETRIC_ALGORITHMS, CLOCK_TOLERANCE_SECONDS } from './algorithms.js';
import { isCanonicalCompactJws } from './compact.js';
import type { ReplayStore } from './replay.js';

/** RFC 7523 §2.2: the `client_assertion_type` of a JWT client assertion. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** How far ahead of the gateway's clock an assertion's `exp` may lie (api.md: at most 5 minutes), in seconds. */
const ASSERTION_MAX_LIFETIME_SECONDS = 300;

/** Why a client assertion was refused; stable codes for the audit line, never shown with values. */
export type ClientAssertionRefusal =
  | 'CLIENT_ASSERTION_MALFORMED'
  | 'CLIENT_ASSERTION_ALG_NOT_ALLOWED'
  | 'CLIENT_ASSERTION_SIGNATURE_INVALID'
  | 'CLIENT_ASSERTION_KEYS_UNAVAILABLE'
  | 'CLIENT_ASSERTION_ISSUER_INVALID'
  | 'CLIENT_ASSERTION_AUDIENCE_INVALID'
  | 'CLIENT_ASSERTION_CLAIMS_INVALID'
  | 'CLIENT_ASSERTION_EXPIRED'
  | 'CLIENT_ASSERTION_NOT_YET_VALID'
  | 'CLIENT_ASSERTION_LIFETIME_TOO_LONG'
  | 'CLIENT_ASSERTION_REPLAYED'
  | 'CLIENT_ASSERTION_REPLAY_CACHE_FULL';

const assertionClaimsSchema = z.object({
  jti: z.string().min(1).max(256),
  /** zod's numbers are finite: JSON's 1e309 is Infinity, which would be an assertion that never expires. */
  exp: z.number(),
  iat: z.number().optional(),
  aud: z.union([z.string(), z.array(z.string()).min(1)]),
});

/** What an assertion must be addressed to and checked against. */
export interface AssertionContext {
  clientId: string;
  keys: JWTVerifyGetKey;
  /** The audiences accepted: the token endpoint's URL (RFC 7523 §3) and the issuer identifier (RFC 7523bis). */
  audiences: readonly string[];
  clock: Clock;
  replay: ReplayStore;
}

/**
 * Verifies an RFC 7523 client assertion (`private_key_jwt`): one canonical spelling, an asymmetric algorithm, signed
 * by one of the client's own keys, `iss` = `sub` = the client id, every audience it names one of ours (so an assertion
 * made out to another server as well is refused), `exp` in the future but at most 5 minutes ahead, and a `jti` not
 * seen before while the assertion could still be valid. Checked last, so only an otherwise valid assertion uses up
 * its `jti`.
 */
export async function verifyClientAssertion(assertion: string, context: AssertionContext): Promise<Result<void, { reason: ClientAssertionRefusal }>> {
  const refuse = (reason: ClientAssertionRefusal) => ({ ok: false, reason }) as const;
  if (!isCanonicalCompactJws(assertion)) return refuse('CLIENT_ASSERTION_MALFORMED');
  let alg: unknown;
  try {
    ({ alg } = decodeProtectedHeader(assertion));
  } catch {
    return refuse('CLIENT_ASSERTION_MALFORMED');
  }
  if (typeof alg !== 'string' || !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) return refuse('CLIENT_ASSERTION_ALG_NOT_ALLOWED');

  const now = context.clock.now();
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(assertion, context.keys, {
      algorithms: [...ASYMMETRIC_ALGORITHMS],
      issuer: context.clientId,
      subject: context.clientId,
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'jti'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(now),
    }));
  } catch (error) {
    return refuse(refusalFor(error));
  }
  const claims = assertionClaimsSchema.safeParse(payload);
  if (!claims.success) return refuse('CLIENT_ASSERTION_CLAIMS_INVALID');
  const { jti, exp, iat, aud } = claims.data;
  const audiences = typeof aud === 'string' ? [aud] : aud;
  if (!audiences.every((a) => context.audiences.includes(a))) return refuse('CLIENT_ASSERTION_AUDIENCE_INVALID');
  const nowSeconds = now / 1000;
  if (iat !== undefined && iat > nowSeconds + CLOCK_TOLERANCE_SECONDS) return refuse('CLIENT_ASSERTION_NOT_YET_VALID');
  if (exp > nowSeconds + ASSERTION_MAX_LIFETIME_SECONDS + CLOCK_TOLERANCE_SECONDS) return refuse('CLIENT_ASSERTION_LIFETIME_TOO_LONG');
  // Remembered for as long as jose would still accept the assertion: past that its `exp` refuses it anyway.
  const seen = await context.replay.remember(`${context.clientId}\u0000${jti}`, (exp + CLOCK_TOLERANCE_SECONDS) * 1000, now);
  if (seen === 'replayed') return refuse('CLIENT_ASSERTION_REPLAYED');
  if (seen === 'full') return refuse('CLIENT_ASSERTION_REPLAY_CACHE_FULL');
  return { ok: true, value: undefined };
}

function refusalFor(error: unknown): ClientAssertionRefusal {
  if (error instanceof errors.JWTExpired) return 'CLIENT_ASSERTION_EXPIRED';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason !== 'check_failed') return 'CLIENT_ASSERTION_CLAIMS_INVALID';
    if (error.claim === 'iss' || error.claim === 'sub') return 'CLIENT_ASSERTION_ISSUER_INVALID';
    if (error.claim === 'nbf' || error.claim === 'iat') return 'CLIENT_ASSERTION_NOT_YET_VALID';
    return 'CLIENT_ASSERTION_CLAIMS_INVALID';
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'CLIENT_ASSERTION_ALG_NOT_ALLOWED';
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return 'CLIENT_ASSERTION_KEYS_UNAVAILABLE';
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys || error instanceof errors.JWSSignatureVerificationFailed) {
    return 'CLIENT_ASSERTION_SIGNATURE_INVALID';
  }
  if (error instanceof errors.JOSEError) return 'CLIENT_ASSERTION_MALFORMED';
  // A failed fetch of a remote key set is a plain error, not a JOSEError.
  return 'CLIENT_ASSERTION_KEYS_UNAVAILABLE';
}
