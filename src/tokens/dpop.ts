import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { Result } from '../result.js';
import { ASYMMETRIC_ALGORITHMS } from './algorithms.js';
import type { ReplayStore } from './replay.js';

/** How old a DPoP proof may be (by its `iat`), and how far ahead of our clock, in seconds. */
const DPOP_MAX_AGE_SECONDS = 60;
const DPOP_FUTURE_SKEW_SECONDS = 5;

export type DpopRefusal =
  | 'DPOP_PROOF_INVALID'
  | 'DPOP_METHOD_MISMATCH'
  | 'DPOP_URL_MISMATCH'
  | 'DPOP_ATH_MISMATCH'
  | 'DPOP_REPLAYED'
  | 'DPOP_REPLAY_CACHE_FULL';

/** base64url(SHA-256(token)): the `ath` a proof must carry for an access token (RFC 9449 §4.2). */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** The request URL as a proof's `htu` is compared: scheme, host and path, without query or fragment (RFC 9449 §4.3). */
function htuOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return undefined;
  }
}

const proofClaimsSchema = z.object({ jti: z.string().min(1).max(256), htm: z.string(), htu: z.string(), iat: z.number(), ath: z.string().optional() });

/**
 * Verifies a DPoP proof (RFC 9449 §4.3): `typ: dpop+jwt`, an asymmetric algorithm, signed by the public key in its
 * own header, for this method and URL, fresh, not seen before, and (on a resource request) carrying the token's hash.
 * Returns the key's RFC 7638 thumbprint, to compare with or bind as `cnf.jkt`.
 */
export async function verifyDpopProof(
  proof: string,
  request: { method: string; url: string; accessToken?: string | undefined },
  deps: { clock: Clock; replay: ReplayStore },
): Promise<Result<{ jkt: string }, { reason: DpopRefusal }>> {
  const refuse = (reason: DpopRefusal) => ({ ok: false, reason }) as const;
  const now = deps.clock.now();
  let payload: Record<string, unknown>;
  let jwk: unknown;
  try {
    const verified = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: [...ASYMMETRIC_ALGORITHMS],
      requiredClaims: ['jti', 'htm', 'htu', 'iat'],
      maxTokenAge: DPOP_MAX_AGE_SECONDS,
      clockTolerance: DPOP_FUTURE_SKEW_SECONDS,
      currentDate: new Date(now),
    });
    payload = verified.payload;
    jwk = verified.protectedHeader.jwk;
  } catch {
    return refuse('DPOP_PROOF_INVALID');
  }
  const claims = proofClaimsSchema.safeParse(payload);
  if (!claims.success || !jwk) return refuse('DPOP_PROOF_INVALID');
  const { jti, htm, htu, iat, ath } = claims.data;
  if (htm !== request.method) return refuse('DPOP_METHOD_MISMATCH');
  const expected = htuOf(request.url);
  if (!expected || htuOf(htu) !== expected) return refuse('DPOP_URL_MISMATCH');
  if (request.accessToken !== undefined && ath !== accessTokenHash(request.accessToken)) return refuse('DPOP_ATH_MISMATCH');
  const jkt = await calculateJwkThumbprint(jwk as Parameters<typeof calculateJwkThumbprint>[0]);
  const until = (iat + DPOP_MAX_AGE_SECONDS + DPOP_FUTURE_SKEW_SECONDS) * 1000;
  const seen = await deps.replay.remember(`${jkt}.${jti}`, until, now);
  if (seen === 'replayed') return refuse('DPOP_REPLAYED');
  if (seen === 'full') return refuse('DPOP_REPLAY_CACHE_FULL');
  return { ok: true, value: { jkt } };
}
