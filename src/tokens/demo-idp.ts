import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { importJWK, SignJWT, type JWK, type CryptoKey } from 'jose';
import { keyId, readOrCreateKeyFile } from '../data-dir.js';

/**
 * The built-in demo identity provider: a key pair in the data dir that stands in for a municipality's login. It is
 * trusted only in demo mode (DOELPOORT_DEMO=1 or `serve --demo`, never together with DOELPOORT_IDPS_FILE; see loadConfig).
 */
const DEMO_IDP_ISSUER = 'https://demo-idp.doelpoort.invalid';
const DEMO_IDP_AUDIENCE = 'doelpoort';
/** The demo IdP vouches for every organisation of domain.md: Werkzaak and the eight municipalities. */
export const DEMO_IDP_ORGANISATIONS = ['WERKZAAK', 'GM0214', 'GM0216', 'GM0263', 'GM0281', 'GM0297', 'GM0668', 'GM1740', 'GM1960'] as const;
const ALG = 'ES256';

export interface DemoIdp {
  issuer: string;
  audience: string;
  privateKey: CryptoKey;
  /** The public JWKS, as an IdPs file would list it. */
  jwks: { keys: JWK[] };
}

/**
 * The demo IdP's private key as a JWK (with `kid` and `alg`), from `dataDir`, created (mode 0600) on first use. The
 * demo OpenID provider of the web login (src/demo/identity-provider.ts) signs its ID tokens with the same key.
 */
export function readDemoIdpJwk(dataDir: string): JWK {
  const text = readOrCreateKeyFile(dataDir, 'demo-idp.key.jwk', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return JSON.stringify({ ...(privateKey.export({ format: 'jwk' }) as JWK), kid: keyId(publicKey), alg: ALG, use: 'sig' });
  });
  const privateJwk = JSON.parse(text) as JWK;
  privateJwk.kid ??= keyId(createPublicKey({ key: privateJwk as import('node:crypto').JsonWebKey, format: 'jwk' }));
  privateJwk.alg ??= ALG;
  return privateJwk;
}

/** The public half of a private JWK, as a key set lists it. */
export function publicJwk(privateJwk: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, ...rest } = privateJwk;
  return rest;
}

/** Loads the demo IdP key from `dataDir`, creating it (mode 0600) on first use. */
export async function loadDemoIdp(dataDir: string): Promise<DemoIdp> {
  const privateJwk = readDemoIdpJwk(dataDir);
  return {
    issuer: DEMO_IDP_ISSUER,
    audience: DEMO_IDP_AUDIENCE,
    privateKey: (await importJWK(privateJwk, ALG)) as CryptoKey,
    jwks: { keys: [publicJwk(privateJwk)] },
  };
}

/** A user login token as a municipality's IdP would issue it, for `doelpoort demo-token`. */
export async function signDemoLogin(
  idp: DemoIdp,
  claims: { sub: string; role: string; org: string; name?: string },
  nowSeconds: number,
  ttlSeconds = 3600,
): Promise<string> {
  return new SignJWT({ role: claims.role, org: claims.org, ...(claims.name ? { name: claims.name } : {}) })
    .setProtectedHeader({ alg: ALG, kid: idp.jwks.keys[0]!.kid!, typ: 'JWT' })
    .setIssuer(idp.issuer)
    .setAudience(idp.audience)
    .setSubject(claims.sub)
    .setIssuedAt(nowSeconds)
    .setExpirationTime(nowSeconds + ttlSeconds)
    .sign(idp.privateKey);
}
