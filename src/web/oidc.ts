import { WEB_CLIENT_ID } from '../tokens/clients.js';
import { createPrivateKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { importJWK, type CryptoKey, type JWK } from 'jose';
import * as client from 'openid-client';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { keyId, readOrCreateKeyFile } from '../data-dir.js';
import { DoelpoortError } from '../errors.js';
import { ORGANISATIONS } from '../organisations.js';
import type { Result } from '../result.js';
import { ASYMMETRIC_ALGORITHMS } from '../tokens/algorithms.js';
import { DEMO_IDP_ORGANISATIONS, publicJwk, readDemoIdpJwk } from '../tokens/demo-idp.js';
import { readIdpsFile, trustedIdp, type TrustedIdp } from '../tokens/idps.js';
import { verifyLogin, type UserIdentity } from '../tokens/user-token.js';

/**
 * The web application as an OpenID Connect relying party (openid-client): authorization code flow with PKCE (S256),
 * `state` and `nonce`, client authentication `private_key_jwt` (NL GOV OIDC profile), each provider's metadata from
 * its discovery document (`issuer` + `/.well-known/openid-configuration`), read on the first login and kept. Tokens
 * stay on the server: the ID token is checked here and kept with the session for the provider's logout only.
 */

/** Where providers send the browser back after a login, and after a logout. */
export const CALLBACK_PATH = '/auth/callback';
export const LOGGED_OUT_PATH = '/uitgelogd';
/** The path the demo identity provider is mounted at (src/demo/identity-provider.ts). */
export const DEMO_IDP_PATH = '/demo-idp';

/** What the web login asks a provider for: an ID token carrying `sub`, `role`, `org` and optionally `name`. */
const SCOPE = 'openid';
/** How long a request to a provider may take, in seconds. */
const PROVIDER_TIMEOUT_SECONDS = 5;

/** One provider the web login offers: its trust (issuer, organisations, keys) and the gateway's client there. */
export interface WebLoginProvider {
  /** The same trust a subject token of this issuer gets: its organisations, and the keys its ID tokens must verify with. */
  idp: TrustedIdp;
  clientId: string;
  /** The private JWK the gateway authenticates with at the token endpoint (`private_key_jwt`); `alg` set. */
  clientKey: JWK;
  /** Plain `http:` requests to the provider are allowed: only the demo provider in demo mode. */
  allowHttp: boolean;
}

/** Why a login's answer from the provider was refused; the reason of its `session.refused` line. */
export type CallbackRefusal =
  | 'LOGIN_CANCELLED'
  | 'LOGIN_PROVIDER_ERROR'
  | 'LOGIN_PROVIDER_UNREACHABLE'
  | 'LOGIN_ISSUER_MISMATCH'
  | 'LOGIN_NONCE_MISMATCH'
  | 'LOGIN_EXPIRED'
  | `LOGIN_${import('../tokens/user-token.js').LoginRefusal}`;

/** A login sent to the provider: where the browser goes, and the secrets its pending login keeps. */
export interface AuthorizationRequest {
  url: URL;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** A login the provider answered and every check passed: who it is, and the ID token (for the logout only). */
export interface CompletedLogin {
  login: UserIdentity;
  idToken: string;
  /** The ID token's `auth_time` (epoch seconds), when it has one: a re-authentication requires it. */
  authTime: number | undefined;
}

/**
 * The providers of the web login and their discovered metadata. Discovery runs on the first login at a provider, with
 * a bounded wait; a provider that cannot be reached is tried again on the next login, a discovered one is kept.
 */
export class OidcRelyingParty {
  readonly #providers: ReadonlyMap<string, WebLoginProvider>;
  readonly #byOrganisation: ReadonlyMap<string, WebLoginProvider>;
  readonly #publicUrl: string;
  readonly #clock: Clock;
  readonly #configurations = new Map<string, Promise<client.Configuration>>();

  constructor(providers: readonly WebLoginProvider[], options: { publicUrl: string; clock: Clock }) {
    this.#providers = new Map(providers.map((p) => [p.idp.issuer, p]));
    this.#byOrganisation = new Map(providers.flatMap((p) => [...p.idp.organisations].map((org) => [org, p] as const)));
    this.#publicUrl = options.publicUrl;
    this.#clock = options.clock;
  }

  /** The organisations a person can log in with, in the order of ORGANISATIONS (Werkzaak first, then by name). */
  organisations(): Array<{ code: string; name: string }> {
    return ORGANISATIONS.filter((o) => this.#byOrganisation.has(o.code));
  }

  /** The issuer of an organisation's web login, if it has one. */
  issuerFor(organisation: string): string | undefined {
    return this.#byOrganisation.get(organisation)?.idp.issuer;
  }

  /** The origins the login and logout forms redirect to (a page's CSP `form-action` must admit them). */
  formActionOrigins(): string[] {
    const own = new URL(this.#publicUrl).origin;
    return [...new Set([...this.#providers.keys()].map((issuer) => new URL(issuer).origin))].filter((origin) => origin !== own);
  }

  /** The redirect URI registered at every provider. */
  get redirectUri(): string {
    return `${this.#publicUrl}${CALLBACK_PATH}`;
  }

  /**
   * Builds the authorization request of a new login at `issuer` (discovering it first); rejects when unreachable.
   * `reauthenticate`: the person must log in again at the provider whatever session they have there (`prompt=login`,
   * `max_age=0`), so the ID token's `auth_time` is the moment of this login.
   */
  async authorizationRequest(issuer: string, options: { reauthenticate?: boolean } = {}): Promise<AuthorizationRequest> {
    const config = await this.#configuration(issuer);
    const state = client.randomState();
    const nonce = client.randomNonce();
    const codeVerifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri,
      scope: SCOPE,
      response_type: 'code',
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      ...(options.reauthenticate ? { prompt: 'login', max_age: '0' } : {}),
    });
    return { url, state, nonce, codeVerifier };
  }

  /**
   * The provider's answer at the callback (its query string `search`), checked by openid-client against the pending
   * login (issuer, state, nonce, PKCE verifier) and exchanged for tokens; then the ID token passes the checks every
   * login passes (`verifyLogin`: this provider's own keys, its organisations, lifetime, claims).
   */
  async complete(
    issuer: string,
    search: string,
    pending: { state: string; nonce: string; codeVerifier: string; reauthenticate?: boolean },
  ): Promise<Result<CompletedLogin, { reason: CallbackRefusal }>> {
    const provider = this.#providers.get(issuer);
    if (!provider) return { ok: false, reason: 'LOGIN_ISSUER_UNTRUSTED' };
    const answer = new URL(`${this.redirectUri}${search}`);
    let idToken: string | undefined;
    let authTime: number | undefined;
    try {
      const config = await this.#configuration(issuer);
      const tokens = await client.authorizationCodeGrant(config, answer, {
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        pkceCodeVerifier: pending.codeVerifier,
        idTokenExpected: true,
        // A re-authentication asked for max_age=0: openid-client then requires `auth_time` and checks it is recent.
        ...(pending.reauthenticate ? { maxAge: 0 } : {}),
      });
      idToken = tokens.id_token;
      const claimed = tokens.claims()?.auth_time;
      authTime = typeof claimed === 'number' ? claimed : undefined;
    } catch (error) {
      return { ok: false, reason: callbackRefusal(error, answer.searchParams, issuer) };
    }
    if (idToken === undefined) return { ok: false, reason: 'LOGIN_PROVIDER_ERROR' };
    const login = await verifyLogin(idToken, provider.idp, provider.clientId, this.#clock);
    if (!login.ok) return { ok: false, reason: `LOGIN_${login.reason}` };
    return { ok: true, value: { login: login.value, idToken, authTime } };
  }

  /**
   * Where the browser goes to end the session at the provider too (RP-initiated logout, with `id_token_hint` and a
   * way back to /uitgelogd), when the provider's metadata has an `end_session_endpoint`; otherwise undefined.
   */
  async endSessionUrl(issuer: string, idToken: string): Promise<URL | undefined> {
    let config: client.Configuration;
    try {
      config = await this.#configuration(issuer);
    } catch {
      return undefined;
    }
    if (!config.serverMetadata().end_session_endpoint) return undefined;
    return client.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: `${this.#publicUrl}${LOGGED_OUT_PATH}` });
  }

  /** The provider's client configuration, discovered once; a failed discovery is forgotten, so the next login retries. */
  #configuration(issuer: string): Promise<client.Configuration> {
    let configuration = this.#configurations.get(issuer);
    if (!configuration) {
      const provider = this.#providers.get(issuer);
      if (!provider) return Promise.reject(new TypeError('OidcRelyingParty: unknown issuer'));
      configuration = discover(provider);
      this.#configurations.set(issuer, configuration);
      configuration.catch(() => this.#configurations.delete(issuer));
    }
    return configuration;
  }
}

async function discover(provider: WebLoginProvider): Promise<client.Configuration> {
  const key = (await importJWK(provider.clientKey, provider.clientKey.alg)) as CryptoKey;
  const auth = client.PrivateKeyJwt(provider.clientKey.kid ? { key, kid: provider.clientKey.kid } : key);
  return client.discovery(new URL(provider.idp.issuer), provider.clientId, { token_endpoint_auth_method: 'private_key_jwt' }, auth, {
    timeout: PROVIDER_TIMEOUT_SECONDS,
    ...(provider.allowHttp ? { execute: [client.allowInsecureRequests] } : {}),
  });
}

/** The reason code of a failed callback, from openid-client's error; never its message, which may hold values. */
function callbackRefusal(error: unknown, answer: URLSearchParams, issuer: string): CallbackRefusal {
  if (error instanceof client.AuthorizationResponseError) return error.error === 'access_denied' ? 'LOGIN_CANCELLED' : 'LOGIN_PROVIDER_ERROR';
  if (error instanceof client.ResponseBodyError) return 'LOGIN_PROVIDER_ERROR';
  if (error instanceof client.ClientError) {
    switch (error.code) {
      case 'OAUTH_INVALID_RESPONSE':
        // RFC 9207: the answer names the issuer it came from.
        return answer.has('iss') && answer.get('iss') !== issuer ? 'LOGIN_ISSUER_MISMATCH' : 'LOGIN_PROVIDER_ERROR';
      case 'OAUTH_JWT_CLAIM_COMPARISON_FAILED': {
        const claim = (error.cause as { cause?: { claim?: unknown } } | undefined)?.cause?.claim;
        if (claim === 'nonce') return 'LOGIN_NONCE_MISMATCH';
        if (claim === 'iss') return 'LOGIN_ISSUER_MISMATCH';
        if (claim === 'aud' || claim === 'azp') return 'LOGIN_WRONG_AUDIENCE';
        return 'LOGIN_CLAIMS_INVALID';
      }
      case 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED':
        return 'LOGIN_EXPIRED';
      default:
        return 'LOGIN_PROVIDER_ERROR';
    }
  }
  // fetch's own failures: no connection (a TypeError with the network error as its cause), or the timeout.
  if (error instanceof Error && ((error instanceof TypeError && error.cause !== undefined) || error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return 'LOGIN_PROVIDER_UNREACHABLE';
  }
  return 'LOGIN_PROVIDER_ERROR';
}

// -----------------------------------------------------------------------------------------------------------------
// Configuration

/** The JWS algorithm a private key signs with when its JWK does not say. */
function algorithmOf(jwk: JWK): string | undefined {
  if (jwk.alg !== undefined) return (ASYMMETRIC_ALGORITHMS as readonly string[]).includes(jwk.alg) ? jwk.alg : undefined;
  if (jwk.kty === 'EC') return { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[jwk.crv ?? ''];
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  return undefined;
}

/**
 * A client's private key from its file: a private JWK (JSON; PEM is not read), EC, OKP (Ed25519) or RSA, with an
 * asymmetric `alg` (derived for EC and Ed25519 keys; an RSA key must say it). Synchronous, so a bad file stops the
 * start; the message names the file and the problem, never key material.
 */
export function readClientKey(file: string, name: string): JWK {
  const bad = (problem: string) => new DoelpoortError('CONFIG_INVALID', `${name} ${file}: ${problem}`);
  let jwk: JWK;
  try {
    jwk = JSON.parse(fs.readFileSync(file, 'utf8')) as JWK;
  } catch {
    throw bad('cannot be read as a JSON private JWK');
  }
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk) || typeof jwk.d !== 'string') throw bad('must be a private JWK (with "d")');
  try {
    createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch {
    throw bad('is not a valid private key');
  }
  const alg = algorithmOf(jwk);
  if (!alg) throw bad('needs an asymmetric "alg" (ES256, PS256, …)');
  return { ...jwk, alg };
}

/**
 * The gateway's key pair as the demo provider's client (`private_key_jwt`): a private JWK in the data dir, created
 * (0600) on first use; the demo provider registers its public half.
 */
export function readWebClientJwk(dataDir: string): JWK {
  const text = readOrCreateKeyFile(dataDir, 'web-client.key.jwk', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return JSON.stringify({ ...(privateKey.export({ format: 'jwk' }) as JWK), kid: keyId(publicKey), alg: 'ES256', use: 'sig' });
  });
  return JSON.parse(text) as JWK;
}

/** The issuer of the demo provider on this gateway. */
export const demoIssuer = (publicUrl: string): string => `${publicUrl}${DEMO_IDP_PATH}`;

/**
 * The providers of the web login the configuration asks for: the IdPs file's entries that carry `oidc` (their key
 * files read now); in demo mode the demo provider on this gateway, trusted for every organisation of the region;
 * else none.
 */
export function webLoginProviders(config: Pick<Config, 'idpsFile' | 'demo' | 'dataDir' | 'publicUrl'>): WebLoginProvider[] {
  if (config.idpsFile) {
    const dir = path.dirname(config.idpsFile);
    return readIdpsFile(config.idpsFile).flatMap((idp, i) =>
      idp.oidc
        ? [
            {
              idp: trustedIdp(idp),
              clientId: idp.oidc.clientId,
              clientKey: readClientKey(path.resolve(dir, idp.oidc.privateKeyFile), `DOELPOORT_IDPS_FILE idps.${i}.oidc.privateKeyFile`),
              allowHttp: false,
            },
          ]
        : [],
    );
  }
  if (config.demo) {
    const issuer = demoIssuer(config.publicUrl);
    return [
      {
        idp: trustedIdp({
          issuer,
          audience: WEB_CLIENT_ID,
          organisations: [...DEMO_IDP_ORGANISATIONS],
          jwks: { keys: [publicJwk(readDemoIdpJwk(config.dataDir)) as JWK & { kty: string }] },
        }),
        clientId: WEB_CLIENT_ID,
        clientKey: readWebClientJwk(config.dataDir),
        // Demo mode only, and only on a plain-http gateway (http://127.0.0.1:8080): the provider is the gateway itself.
        allowHttp: issuer.startsWith('http:'),
      },
    ];
  }
  return [];
}
