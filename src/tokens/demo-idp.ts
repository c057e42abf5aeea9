import fs from 'node:fs';
import path from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, calculateJwkThumbprint, type JWK, type CryptoKey } from 'jose';

/**
 * The built-in demo identity provider: a key pair in the data dir that stands in for a municipality's login. It is
 * trusted only in demo mode, never when DOELPOORT_IDPS_FILE is set or DOELPOORT_DEMO=0 (see loadConfig).
 */
export const DEMO_IDP_ISSUER = 'https://demo-idp.doelpoort.invalid';
export const DEMO_IDP_AUDIENCE = 'doelpoort';
const ALG = 'ES256';

export interface DemoIdp {
  issuer: string;
  audience: string;
  privateKey: CryptoKey;
  /** The public JWKS, as an IdPs file would list it. */
  jwks: { keys: JWK[] };
}

/** Loads the demo IdP key from `dataDir`, creating it (mode 0600) on first use. */
export async function loadDemoIdp(dataDir: string): Promise<DemoIdp> {
  const file = path.join(dataDir, 'demo-idp.key.jwk');
  let privateJwk: JWK;
  if (fs.existsSync(file)) {
    privateJwk = JSON.parse(fs.readFileSync(file, 'utf8')) as JWK;
  } else {
    const { privateKey } = await generateKeyPair(ALG, { extractable: true });
    privateJwk = { ...(await exportJWK(privateKey)), alg: ALG, use: 'sig' };
    privateJwk.kid = await calculateJwkThumbprint(privateJwk);
    fs.mkdirSync(dataDir, { recursive: true });
    try {
      fs.writeFileSync(file, JSON.stringify(privateJwk), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // Another caller (the trust store, a concurrent demo-token) created it first: use that key.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      privateJwk = JSON.parse(fs.readFileSync(file, 'utf8')) as JWK;
    }
  }
  const { d: _d, ...publicJwk } = privateJwk;
  return {
    issuer: DEMO_IDP_ISSUER,
    audience: DEMO_IDP_AUDIENCE,
    privateKey: (await importJWK(privateJwk, ALG)) as CryptoKey,
    jwks: { keys: [publicJwk] },
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
