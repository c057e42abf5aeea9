import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { organisationSchema, PURPOSES, purposeSchema, roleSchema, type Purpose, type Requester } from '../purposes.js';
import type { Result } from '../result.js';
import { clientRefSchema } from '../records/suite-record.js';
import { clientIdSchema } from './clients.js';
import { isCanonicalCompactJws } from './compact.js';
import { GATEWAY_ALGORITHMS, type GatewayKeys } from './gateway-keys.js';
import type { UserIdentity } from './user-token.js';

/** The JWT `typ` of doelpoort's access tokens (RFC 9068). */
const ACCESS_TOKEN_TYP = 'at+jwt';

/** What one access token grants: who, for which purpose, for which client, bound to which DPoP key. */
export interface Grant {
  /** A person is (`issuer`, `sub`): the login's issuer goes into the token as `idp`. */
  user: Pick<UserIdentity, 'issuer' | 'sub' | 'role' | 'org'>;
  purpose: Purpose;
  client?: string | undefined;
  /** The registered client the token was issued to (RFC 9068 §2.2 `client_id`). */
  clientId: string;
  /** RFC 7638 thumbprint of the DPoP key the token is bound to (RFC 9449 `cnf.jkt`). */
  jkt?: string | undefined;
  /** The emergency access (break-glass) this grant is, when it is one: always bound to a client. */
  noodtoegang?: { id: string } | undefined;
}

/**
 * The RFC 9396 authorization details of a grant, as the token and the token response carry them. An emergency grant
 * says `noodtoegang: true`; its written reason is never echoed (it stays in the review queue).
 */
export function authorizationDetails(grant: Pick<Grant, 'purpose' | 'client' | 'noodtoegang'>) {
  return [
    {
      type: 'doelbinding' as const,
      purpose: grant.purpose,
      processingActivityId: PURPOSES[grant.purpose].processingActivityId,
      ...(grant.client ? { client: grant.client } : {}),
      ...(grant.noodtoegang ? { noodtoegang: true as const } : {}),
    },
  ];
}

/** An issued token with the facts the audit line and the response need. */
export interface IssuedToken {
  token: string;
  jti: string;
  expiresIn: number;
}

/**
 * Signs an access token for a grant with the gateway's current key; `iss` and `aud` are the gateway itself, `idp` is
 * the issuer of the login it was exchanged for, `client_id` the client it was issued to; an emergency grant adds
 * `noodtoegang: true` and `noodtoegang_id`, the access it is.
 */
export async function issueAccessToken(grant: Grant, keys: GatewayKeys, options: { issuer: string; ttlSeconds: number; clock: Clock }): Promise<IssuedToken> {
  const { kid, alg, key } = keys.signing;
  const iat = Math.floor(options.clock.now() / 1000);
  const jti = randomUUID();
  const token = await new SignJWT({
    idp: grant.user.issuer,
    role: grant.user.role,
    org: grant.user.org,
    purpose: grant.purpose,
    ...(grant.client ? { client: grant.client } : {}),
    client_id: grant.clientId,
    authorization_details: authorizationDetails(grant),
    ...(grant.noodtoegang ? { noodtoegang: true, noodtoegang_id: grant.noodtoegang.id } : {}),
    ...(grant.jkt ? { cnf: { jkt: grant.jkt } } : {}),
  })
    .setProtectedHeader({ alg, kid, typ: ACCESS_TOKEN_TYP })
    .setIssuer(options.issuer)
    .setAudience(options.issuer)
    .setSubject(grant.user.sub)
    .setJti(jti)
    .setIssuedAt(iat)
    .setExpirationTime(iat + options.ttlSeconds)
    .sign(key);
  return { token, jti, expiresIn: options.ttlSeconds };
}

const accessClaimsSchema = z.object({
  idp: z.string().min(1).max(512),
  sub: z.string().min(1).max(256),
  role: roleSchema,
  org: organisationSchema,
  purpose: purposeSchema,
  client: clientRefSchema.optional(),
  client_id: clientIdSchema,
  jti: z.string().min(1).max(128),
  exp: z.number(),
  cnf: z.object({ jkt: z.string().min(1) }).optional(),
  noodtoegang: z.literal(true).optional(),
  noodtoegang_id: z.uuid().optional(),
});

/** A verified access token: the requester it speaks for, its DPoP binding and its expiry (epoch seconds). */
export interface AccessToken {
  requester: Requester;
  jkt: string | undefined;
  exp: number;
}

export type AccessTokenRefusal = 'TOKEN_INVALID' | 'TOKEN_EXPIRED';

/**
 * Verifies one of our own access tokens: its one canonical spelling, our keys, our algorithms, `typ: at+jwt`, issuer
 * and audience the gateway, the claims RFC 9068 §2.2 requires (`client_id` among them), and the login issuer (`idp`)
 * that makes `sub` a person.
 */
export async function verifyAccessToken(
  token: string,
  keys: GatewayKeys,
  options: { issuer: string; clock: Clock },
): Promise<Result<AccessToken, { reason: AccessTokenRefusal }>> {
  if (!isCanonicalCompactJws(token)) return { ok: false, reason: 'TOKEN_INVALID' };
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, keys.getKey, {
      algorithms: [...GATEWAY_ALGORITHMS],
      typ: ACCESS_TOKEN_TYP,
      issuer: options.issuer,
      audience: options.issuer,
      requiredClaims: ['idp', 'sub', 'client_id', 'jti', 'iat', 'exp', 'role', 'org', 'purpose'],
      currentDate: new Date(options.clock.now()),
    }));
  } catch (error) {
    return { ok: false, reason: error instanceof errors.JWTExpired ? 'TOKEN_EXPIRED' : 'TOKEN_INVALID' };
  }
  const claims = accessClaimsSchema.safeParse(payload);
  if (!claims.success) return { ok: false, reason: 'TOKEN_INVALID' };
  const c = claims.data;
  // An emergency token names its access and its one client; anything else is not one we issued.
  const emergency = c.noodtoegang === true;
  if (emergency !== (c.noodtoegang_id !== undefined) || (emergency && c.client === undefined)) return { ok: false, reason: 'TOKEN_INVALID' };
  const noodtoegang = emergency ? { noodtoegang: { id: c.noodtoegang_id! } } : {};
  return {
    ok: true,
    value: {
      requester: {
        issuer: c.idp,
        sub: c.sub,
        role: c.role,
        org: c.org,
        purpose: c.purpose,
        client: c.client,
        clientId: c.client_id,
        tokenId: c.jti,
        ...noodtoegang,
      },
      jkt: c.cnf?.jkt,
      exp: c.exp,
    },
  };
}

/**
 * Access tokens verified before, keyed by the exact token string, so a request with a known token skips the signature
 * check. Bounded (oldest first out) and an entry never outlives the token's `exp`. The DPoP proof is still checked on
 * every request: the cached value carries the binding, not a proof.
 */
export class VerifiedTokenCache {
  readonly #entries = new Map<string, AccessToken>();

  constructor(
    readonly maxEntries = 10_000,
    readonly clock: Clock,
  ) {}

  /** The verified token, when cached and not yet expired. */
  get(token: string): AccessToken | undefined {
    const hit = this.#entries.get(token);
    if (!hit) return undefined;
    if (hit.exp * 1000 <= this.clock.now()) {
      this.#entries.delete(token);
      return undefined;
    }
    return hit;
  }

  set(token: string, verified: AccessToken): void {
    if (this.#entries.size >= this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(token, verified);
  }
}
