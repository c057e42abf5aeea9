import fs from 'node:fs';
import path from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { randomBytes } from 'node:crypto';
import { generateCheckpointKey } from '../src/audit/keys.js';
import { fixedClock, type Clock } from '../src/clock.js';
import { pgGatewayDeps } from '../src/composition.js';
import { loadConfig } from '../src/config.js';
import { createApp } from '../src/http/app.js';
import { importSuiteExport } from '../src/records/import.js';
import { importSuiteExportPg } from '../src/records/import-pg.js';
import { conformant } from './openapi-conformance.js';
import { freshPg } from './pg-support.js';
import { DEMO_IDP_ORGANISATIONS } from '../src/tokens/demo-idp.js';
import { setupApp, tempDir, TODAY } from './support.js';
import { EXAMPLE_EXPORT_FILE } from '../src/demo.js';

/** The trusted test IdP and the gateway's public URL in every token test. */
export const IDP_ISSUER = 'https://login.gemeente.example';
export const IDP_AUDIENCE = 'doelpoort';
export const PUBLIC_URL = 'https://doelpoort.test';
export const EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
/** The registered client of every token test, acting for every organisation, and the RFC 7523 assertion type. */
export const TEST_CLIENT_ID = 'test-client';
export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const fixture = EXAMPLE_EXPORT_FILE;

/** Claims of a login token; undefined drops the claim. */
export type LoginClaims = Record<string, unknown>;

/** Claims of a client assertion; undefined drops the claim. */
export type AssertionClaims = Record<string, unknown>;

/**
 * A real app trusting one IdP whose key pair is generated here (listed in an IdPs file for every organisation, inline
 * JWKS), plus any `extraIdps` entries, and one registered client (`test-client`, for every organisation, its key
 * generated here) plus any `extraClients`, with the example records imported, and helpers to mint logins and client
 * assertions, exchange them and read the audit log.
 */
export async function setupTokens(env: Record<string, string> = {}, options: TokenSetupOptions & { onDisk?: boolean } = {}) {
  const keys = await tokenFixture(env, options);
  const ctx = setupApp(keys.env, {}, { onDisk: options.onDisk });
  await importSuiteExport(ctx.records, fs.createReadStream(fixture), { clock: ctx.clock });

  /** The audit entries written so far, oldest first. */
  function auditEntries(): Array<Record<string, unknown>> {
    const rows = ctx.db.$client.prepare('SELECT entry FROM audit_log ORDER BY seq').all() as Array<{ entry: string }>;
    return rows.map((r) => (JSON.parse(r.entry) as { entry: Record<string, unknown> }).entry);
  }

  const lastAudit = () => auditEntries().at(-1);

  return { ...ctx, ...keys.helpers(ctx), auditEntries, lastAudit };
}

/**
 * The same app on PostgreSQL: a fresh database of its own on the test server (test/pg-support.ts), built by the
 * composition root's `pgGatewayDeps`, the example records imported; the audit entries read from the database
 * (asynchronously). `close()` ends the instance and drops the database.
 */
export async function setupPgTokens(env: Record<string, string> = {}, options: TokenSetupOptions = {}) {
  const keys = await tokenFixture(env, options);
  const db = await freshPg('http');
  const config = loadConfig({ DOELPOORT_DATA_DIR: tempDir(), ...keys.env });
  const clock = fixedClock(`${TODAY}T10:00:00Z`);
  const deps = await pgGatewayDeps({ pg: db.pg, config, clock, pseudonymKey: randomBytes(32), checkpointKey: generateCheckpointKey() });
  await importSuiteExportPg(deps.records, fs.createReadStream(fixture), { clock });
  const ctx = { ...deps, clock, app: conformant(createApp(deps)) };

  /** The audit entries written so far, oldest first. */
  async function auditEntries(): Promise<Array<Record<string, unknown>>> {
    const { rows } = await db.pg.pool.query<{ entry: string }>('SELECT entry FROM audit_log ORDER BY seq');
    return rows.map((r) => (JSON.parse(r.entry) as { entry: Record<string, unknown> }).entry);
  }

  const close = async () => {
    await deps.policies.close();
    await db.drop();
  };
  return { ...ctx, ...keys.helpers(ctx), auditEntries, lastAudit: async () => (await auditEntries()).at(-1), close };
}

interface TokenSetupOptions {
  extraIdps?: unknown[];
  extraClients?: unknown[];
}

/**
 * The trusted IdP's and the registered client's key pairs and files (the environment naming them), and the helpers
 * to mint logins and client assertions and call the token endpoint of an app built on them.
 */
async function tokenFixture(env: Record<string, string>, options: TokenSetupOptions) {
  const idp = await generateKeyPair('ES256', { extractable: true });
  const idpJwk: JWK = { ...(await exportJWK(idp.publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' };
  const client = await generateKeyPair('ES256', { extractable: true });
  const clientJwk: JWK = { ...(await exportJWK(client.publicKey)), kid: 'client-1', alg: 'ES256', use: 'sig' };
  const dir = tempDir();
  const idpsFile = path.join(dir, 'idps.json');
  const idps = [
    { issuer: IDP_ISSUER, audience: IDP_AUDIENCE, organisations: [...DEMO_IDP_ORGANISATIONS], jwks: { keys: [idpJwk] } },
    ...(options.extraIdps ?? []),
  ];
  fs.writeFileSync(idpsFile, JSON.stringify({ idps }));
  const clientsFile = path.join(dir, 'clients.json');
  const clients = [{ clientId: TEST_CLIENT_ID, organisations: [...DEMO_IDP_ORGANISATIONS], jwks: { keys: [clientJwk] } }, ...(options.extraClients ?? [])];
  fs.writeFileSync(clientsFile, JSON.stringify({ clients }));
  const fullEnv = { DOELPOORT_IDPS_FILE: idpsFile, DOELPOORT_CLIENTS_FILE: clientsFile, DOELPOORT_PUBLIC_URL: PUBLIC_URL, ...env };

  function helpers(ctx: { clock: Clock; app: { request(path: string, init?: RequestInit): Response | Promise<Response> } }) {
    const nowSeconds = () => Math.floor(ctx.clock.now() / 1000);
    /** A login token of the trusted IdP; `claims` override or (undefined) remove the defaults. */
    async function login(claims: LoginClaims = {}, options: { key?: CryptoKey; header?: Record<string, unknown> } = {}): Promise<string> {
      const iat = nowSeconds();
      const payload: Record<string, unknown> = {
        iss: IDP_ISSUER,
        aud: IDP_AUDIENCE,
        sub: 'user-1',
        iat,
        exp: iat + 600,
        role: 'participatiecoach',
        org: 'GM1960',
        ...claims,
      };
      for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
      return new SignJWT(payload)
        .setProtectedHeader({ alg: 'ES256', kid: 'idp-1', typ: 'JWT', ...options.header } as never)
        .sign(options.key ?? idp.privateKey);
    }

    let assertions = 0;
    /**
     * An RFC 7523 client assertion of the test client for the token endpoint, fresh `jti` each; `claims` override or
     * (undefined) remove the defaults.
     */
    async function clientAssertion(claims: AssertionClaims = {}, options: { key?: CryptoKey; header?: Record<string, unknown> } = {}): Promise<string> {
      const iat = nowSeconds();
      const payload: Record<string, unknown> = {
        iss: TEST_CLIENT_ID,
        sub: TEST_CLIENT_ID,
        aud: `${PUBLIC_URL}/oauth/token`,
        jti: `assertion-${++assertions}`,
        iat,
        exp: iat + 60,
        ...claims,
      };
      for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
      return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: 'client-1', ...options.header } as never).sign(options.key ?? client.privateKey);
    }

    /** The test client's authentication parameters (RFC 7523 §2.2), with a fresh assertion. */
    async function clientAuth(claims: AssertionClaims = {}): Promise<Record<string, string>> {
      return { client_id: TEST_CLIENT_ID, client_assertion_type: JWT_BEARER, client_assertion: await clientAssertion(claims) };
    }

    /**
     * POST /oauth/token with these form parameters (a list allows repeating one). Unless the form names a `client_id`
     * itself, or `authenticate` is false, the test client authenticates with a fresh assertion.
     */
    async function exchange(form: Record<string, string> | Array<[string, string]>, headers: Record<string, string> = {}, { authenticate = true } = {}) {
      const pairs = Array.isArray(form) ? form : Object.entries(form);
      const named = pairs.some(([name]) => name === 'client_id');
      const auth = authenticate && !named ? Object.entries(await clientAuth()) : [];
      return ctx.app.request('/oauth/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams([...pairs, ...auth]).toString(),
      });
    }

    /** A well-formed exchange request for a login and one doelbinding object. */
    function exchangeForm(subjectToken: string, detail: Record<string, unknown>): Record<string, string> {
      return {
        grant_type: EXCHANGE_GRANT,
        subject_token: subjectToken,
        subject_token_type: JWT_TYPE,
        authorization_details: JSON.stringify([{ type: 'doelbinding', ...detail }]),
      };
    }

    return { login, clientAssertion, clientAuth, exchange, exchangeForm, nowSeconds };
  }

  return {
    env: fullEnv,
    idp,
    idpJwk,
    client,
    clientJwk,
    helpers: (ctx: Parameters<typeof helpers>[0]) => ({ idp, idpJwk, client, clientJwk, ...helpers(ctx) }),
  };
}

/** A DPoP key pair and a proof maker (RFC 9449) for it. */
export async function dpopKey() {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  let n = 0;
  async function proof(
    claims: { htm: string; htu: string; iat: number; ath?: string; jti?: string },
    key: CryptoKey = privateKey,
    headerJwk: JWK = jwk,
  ): Promise<string> {
    const { jti, ...rest } = claims;
    return new SignJWT({ ...rest, jti: jti ?? `proof-${++n}-${Math.random()}` })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: headerJwk })
      .sign(key);
  }
  return { privateKey, publicKey, jwk, proof };
}
