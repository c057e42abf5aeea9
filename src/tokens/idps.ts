import fs from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, customFetch, type FetchImplementation, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import type { Config } from '../config.js';
import { DoelpoortError } from '../errors.js';
import { organisationSchema } from '../purposes.js';
import { DEMO_IDP_ORGANISATIONS, loadDemoIdp } from './demo-idp.js';

const jwksSchema = z.object({ keys: z.array(z.looseObject({ kty: z.string() })).min(1) });
/** One trusted identity provider as the IdPs file lists it: its keys inline (`jwks`) or at an `https:` URL (`jwksUri`). */
const idpSchema = z
  .strictObject({
    issuer: z.url(),
    audience: z.string().min(1).max(512),
    /** The organisations whose logins this provider may vouch for; a login for any other is refused. */
    organisations: z.array(organisationSchema, 'must list the organisations this provider may vouch for').min(1, 'must list at least one organisation'),
    jwks: jwksSchema.optional(),
    jwksUri: z.url({ protocol: /^https$/, error: 'must be an https: URL' }).optional(),
    /**
     * The web login through this provider (OpenID Connect, src/web/oidc.ts): the gateway's client id there and the
     * file with the private JWK it authenticates with (`private_key_jwt`); a relative path is read from the IdPs
     * file's directory.
     */
    oidc: z
      .strictObject({
        clientId: z.string().min(1).max(256),
        privateKeyFile: z.string().min(1),
      })
      .optional(),
  })
  .refine((idp) => (idp.jwks === undefined) !== (idp.jwksUri === undefined), { message: 'needs exactly one of jwks and jwksUri', path: ['jwks'] })
  .refine((idp) => !idp.oidc || idp.issuer.startsWith('https://'), { message: 'a web login needs an https: issuer', path: ['issuer'] })
  // An ID token of the web login must never pass as a subject token of the exchange (it passes through the browser
  // once, as RP-initiated logout's id_token_hint): the two audiences differ.
  .refine((idp) => !idp.oidc || idp.oidc.clientId !== idp.audience, { message: 'must differ from audience', path: ['oidc', 'clientId'] });
export type IdpConfig = z.infer<typeof idpSchema>;

/** The `DOELPOORT_IDPS_FILE` document. */
const idpsFileSchema = z
  .strictObject({ idps: z.array(idpSchema).min(1) })
  .refine((f) => new Set(f.idps.map((i) => i.issuer)).size === f.idps.length, { message: 'issuers must be unique', path: ['idps'] })
  .refine(
    (f) => {
      const offered = f.idps.flatMap((i) => (i.oidc ? i.organisations : []));
      return new Set(offered).size === offered.length;
    },
    { message: 'an organisation may have only one web login (oidc)', path: ['idps'] },
  );

/** How a remote JWKS is fetched: bounded, cached, and never once per request. */
export const REMOTE_JWKS_OPTIONS = { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 } as const;

/** An identity provider whose user tokens doelpoort accepts, with the key set to verify them. */
export interface TrustedIdp {
  issuer: string;
  audience: string;
  /** The organisations this provider may vouch for. */
  organisations: ReadonlySet<string>;
  /** Only this issuer's own keys: a token naming this issuer is verified against nothing else. */
  keys: JWTVerifyGetKey;
}

/**
 * Turns a validated IdP entry into a verifier; a remote key set is fetched lazily and cached by jose. `fetch` replaces
 * the network for a remote key set (tests only).
 */
export function trustedIdp(idp: IdpConfig, options: { fetch?: FetchImplementation } = {}): TrustedIdp {
  const keys = idp.jwks
    ? createLocalJWKSet(idp.jwks as JSONWebKeySet)
    : createRemoteJWKSet(new URL(idp.jwksUri!), { ...REMOTE_JWKS_OPTIONS, ...(options.fetch ? { [customFetch]: options.fetch } : {}) });
  return { issuer: idp.issuer, audience: idp.audience, organisations: new Set(idp.organisations), keys };
}

/** Parses an IdPs document; problems name paths, never values. `file` names the document in the message. */
export function parseIdps(document: unknown, file = 'DOELPOORT_IDPS_FILE'): IdpConfig[] {
  const parsed = idpsFileSchema.safeParse(document);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
    throw new DoelpoortError('CONFIG_INVALID', `${file}: invalid at ${problems[0]!.path}: ${problems[0]!.message}`, problems);
  }
  return parsed.data.idps;
}

/** The entries of the IdPs file at `file`, validated; read synchronously so a bad file stops the process at start. */
export function readIdpsFile(file: string): IdpConfig[] {
  let document: unknown;
  try {
    document = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    throw new DoelpoortError('CONFIG_INVALID', `DOELPOORT_IDPS_FILE ${file}: cannot be read as JSON`);
  }
  return parseIdps(document, `DOELPOORT_IDPS_FILE ${file}`);
}

/** The identity providers doelpoort trusts, looked up by the (still unverified) `iss` of a token. */
export class TrustStore {
  readonly #byIssuer = new Map<string, TrustedIdp>();
  readonly #loading: Promise<void>;

  /** `idps` may be a promise (the demo IdP's key is loaded asynchronously); lookups wait for it. */
  constructor(idps: readonly TrustedIdp[] | Promise<readonly TrustedIdp[]>) {
    this.#loading = Promise.resolve(idps).then((list) => {
      for (const idp of list) this.#byIssuer.set(idp.issuer, idp);
    });
    // A failed load surfaces through ready() and find(); without this it would also be an unhandled rejection.
    this.#loading.catch(() => {});
  }

  /** Resolves once the trusted keys are loaded; rejects when they cannot be (call at start to fail early). */
  ready(): Promise<void> {
    return this.#loading;
  }

  /** The trusted IdP with this issuer identifier, if any. */
  async find(issuer: string): Promise<TrustedIdp | undefined> {
    await this.#loading;
    return this.#byIssuer.get(issuer);
  }
}

/**
 * The trust store the configuration asks for: the IdPs file when set; else, in demo mode only, the demo IdP; else
 * nobody. Reads the file synchronously so a bad file stops the process at start.
 */
export function loadTrustStore(config: Pick<Config, 'idpsFile' | 'demo' | 'dataDir'>): TrustStore {
  if (config.idpsFile) return new TrustStore(readIdpsFile(config.idpsFile).map((idp) => trustedIdp(idp)));
  if (config.demo) {
    return new TrustStore(
      loadDemoIdp(config.dataDir).then((demo) => [
        trustedIdp({
          issuer: demo.issuer,
          audience: demo.audience,
          organisations: [...DEMO_IDP_ORGANISATIONS],
          jwks: { keys: demo.jwks.keys.map((k) => ({ ...k, kty: k.kty ?? '' })) },
        }),
      ]),
    );
  }
  return new TrustStore([]);
}
