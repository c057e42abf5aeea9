import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import { setupApp } from './support.js';
import { EXCHANGE_GRANT, JWT_TYPE, PUBLIC_URL, setupTokens, TEST_CLIENT_ID } from './token-support.js';

type Json = Record<string, unknown>;
type App = { request: (input: string, init?: RequestInit) => Response | Promise<Response> };

const AS_PATH = '/.well-known/oauth-authorization-server';
const PR_PATH = '/.well-known/oauth-protected-resource';
const isAbsoluteUrl = (v: unknown) => typeof v === 'string' && URL.canParse(v);
const isStringList = (v: unknown) => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string');

async function getJson(app: App, path: string): Promise<{ res: Response; body: Json }> {
  const res = await app.request(path);
  expect(res.status, path).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return { res, body: (await res.json()) as Json };
}

/** What RFC 8414 §2 and §3 ask of a metadata document fetched for issuer `issuer`, as a list of broken rules. */
function rfc8414Problems(doc: Json, issuer: string): string[] {
  const problems: string[] = [];
  const url = typeof doc.issuer === 'string' && URL.canParse(doc.issuer) ? new URL(doc.issuer) : undefined;
  if (!url) problems.push('issuer: required, a URL');
  else if (url.search || url.hash) problems.push('issuer: no query or fragment');
  // §3.3: identical to the issuer identifier the well-known path was inserted into.
  if (doc.issuer !== issuer) problems.push('issuer: must be the identifier the document was fetched for');
  if (!isAbsoluteUrl(doc.token_endpoint)) problems.push('token_endpoint: required (a grant other than implicit is supported), a URL');
  if (doc.jwks_uri !== undefined && !isAbsoluteUrl(doc.jwks_uri)) problems.push('jwks_uri: a URL');
  for (const [name, value] of Object.entries(doc)) {
    // §3.2: claims with zero elements must be omitted.
    if (Array.isArray(value) && value.length === 0) problems.push(`${name}: zero elements must be omitted`);
  }
  const methods = (doc.token_endpoint_auth_methods_supported as string[] | undefined) ?? ['client_secret_basic'];
  const algs = doc.token_endpoint_auth_signing_alg_values_supported;
  if (methods.some((m) => m === 'private_key_jwt' || m === 'client_secret_jwt')) {
    if (!isStringList(algs)) problems.push('token_endpoint_auth_signing_alg_values_supported: required with private_key_jwt');
  }
  if (Array.isArray(algs) && algs.includes('none')) problems.push('token_endpoint_auth_signing_alg_values_supported: must not contain none');
  if (doc.grant_types_supported !== undefined && !isStringList(doc.grant_types_supported)) problems.push('grant_types_supported: a list');
  return problems;
}

/** What RFC 9728 §2 and §3 ask of a protected resource metadata document fetched for `resource`. */
function rfc9728Problems(doc: Json, resource: string): string[] {
  const problems: string[] = [];
  if (doc.resource !== resource) problems.push('resource: required, identical to the identifier the document was fetched for');
  if (doc.authorization_servers !== undefined && !(isStringList(doc.authorization_servers) && (doc.authorization_servers as unknown[]).every(isAbsoluteUrl)))
    problems.push('authorization_servers: issuer identifiers');
  const bearer = doc.bearer_methods_supported;
  if (bearer !== undefined && !(Array.isArray(bearer) && bearer.every((m) => ['header', 'body', 'query'].includes(m))))
    problems.push('bearer_methods_supported: header, body or query');
  if (doc.dpop_bound_access_tokens_required !== undefined && typeof doc.dpop_bound_access_tokens_required !== 'boolean')
    problems.push('dpop_bound_access_tokens_required: a boolean');
  if (doc.resource_documentation !== undefined && !isAbsoluteUrl(doc.resource_documentation)) problems.push('resource_documentation: a URL');
  for (const [name, value] of Object.entries(doc)) if (Array.isArray(value) && value.length === 0) problems.push(`${name}: zero elements must be omitted`);
  return problems;
}

describe('RFC 8414 authorization server metadata', () => {
  it('is what RFC 8414 asks, and names the token endpoint, the keys and what the endpoint accepts', async () => {
    const t = await setupTokens();
    const { res, body } = await getJson(t.app, AS_PATH);
    expect(rfc8414Problems(body, PUBLIC_URL)).toEqual([]);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect(body).toMatchObject({
      issuer: PUBLIC_URL,
      token_endpoint: `${PUBLIC_URL}/oauth/token`,
      jwks_uri: `${PUBLIC_URL}/.well-known/jwks.json`,
      grant_types_supported: [EXCHANGE_GRANT],
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      authorization_details_types_supported: ['doelbinding'],
      protected_resources: [PUBLIC_URL],
    });
    expect(body.token_endpoint_auth_signing_alg_values_supported).toContain('ES256');
    expect(body.token_endpoint_auth_signing_alg_values_supported).not.toContain('HS256');
    expect(body.dpop_signing_alg_values_supported).toContain('ES256');
    // No authorization endpoint, so no response types; RFC 8414 §3.2 wants the empty list left out.
    expect(body).not.toHaveProperty('response_types_supported');
    // The endpoints it names are there.
    expect((await t.app.request(new URL(body.jwks_uri as string).pathname)).status).toBe(200);
  });

  it('lists `none` among the authentication methods in demo mode only (the public demo client)', async () => {
    const { app } = setupApp({ DOELPOORT_DEMO: '1', DOELPOORT_PUBLIC_URL: PUBLIC_URL });
    const { body } = await getJson(app, AS_PATH);
    expect(rfc8414Problems(body, PUBLIC_URL)).toEqual([]);
    expect(body.token_endpoint_auth_methods_supported).toEqual(['private_key_jwt', 'none']);
  });

  it('the RFC check can fail: a document for another issuer, with an empty list and none as an algorithm', () => {
    expect(
      rfc8414Problems(
        { issuer: 'https://elsewhere.example', token_endpoint: 'x', scopes_supported: [], token_endpoint_auth_signing_alg_values_supported: ['none'] },
        PUBLIC_URL,
      ),
    ).toHaveLength(4);
  });
});

describe('RFC 9728 protected resource metadata', () => {
  it('is what RFC 9728 asks, and points at an authorization server whose metadata names it back', async () => {
    const t = await setupTokens();
    const { body } = await getJson(t.app, PR_PATH);
    expect(rfc9728Problems(body, PUBLIC_URL)).toEqual([]);
    expect(body).toMatchObject({
      resource: PUBLIC_URL,
      authorization_servers: [PUBLIC_URL],
      bearer_methods_supported: ['header'],
      dpop_bound_access_tokens_required: false,
      authorization_details_types_supported: ['doelbinding'],
      resource_documentation: `${PUBLIC_URL}/openapi.json`,
    });
    expect(body).not.toHaveProperty('jwks_uri');
    const server = (await getJson(t.app, AS_PATH)).body;
    expect(server.protected_resources).toContain(body.resource);
  });

  it('says when DPoP-bound tokens are required', async () => {
    const t = await setupTokens({ DOELPOORT_REQUIRE_DPOP: '1' });
    expect((await getJson(t.app, PR_PATH)).body.dpop_bound_access_tokens_required).toBe(true);
  });

  it('is named in the challenge of a refused /v1 request (RFC 9728 §5.1)', async () => {
    const t = await setupTokens();
    const res = await t.app.request('/v1/clients/WZR-100001');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain(`resource_metadata="${PUBLIC_URL}${PR_PATH}"`);
  });

  it('the RFC check can fail: another resource, an unknown bearer method, an empty list', () => {
    expect(rfc9728Problems({ resource: 'https://elsewhere.example', bearer_methods_supported: ['cookie'], scopes_supported: [] }, PUBLIC_URL)).toHaveLength(3);
  });
});

describe('the metadata documents in /openapi.json', () => {
  it('are described, and the served documents validate against the published schemas', async () => {
    const t = await setupTokens();
    const doc = (await (await t.app.request('/openapi.json')).json()) as {
      paths: Record<string, { get?: { responses: Record<string, { content?: Record<string, { schema: object }> }> } }>;
    };
    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    // The whole document as one schema resource, so the operations' `#/components/schemas/…` refs resolve.
    const DOC_ID = 'https://doelpoort.test/openapi.json';
    ajv.addSchema({ ...doc, $id: DOC_ID });
    const pointer = (...parts: string[]) => parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
    for (const path of [AS_PATH, PR_PATH]) {
      const schema = doc.paths[path]?.get?.responses['200']?.content?.['application/json']?.schema;
      expect(schema, path).toBeDefined();
      const validate = ajv.compile({ $ref: `${DOC_ID}#/${pointer('paths', path, 'get', 'responses', '200', 'content', 'application/json', 'schema')}` });
      const served = (await getJson(t.app, path)).body;
      expect(validate(served), `${path}: ${JSON.stringify(validate.errors)}`).toBe(true);
      expect(validate({ ...served, issuer: 1, resource: 1 })).toBe(false);
    }
  });
});

describe('openid-client (v6) as an independent OAuth client', () => {
  /** openid-client's fetch, answered by the app in-process; its clock set to the tests' fixed clock. */
  async function discover(t: Awaited<ReturnType<typeof setupTokens>>) {
    const fetchApp: oidc.CustomFetch = (url, options) =>
      Promise.resolve(t.app.request(url, { method: options.method, headers: options.headers, body: options.body as RequestInit['body'] }));
    const skew = Math.round((t.clock.now() - Date.now()) / 1000);
    return oidc.discovery(new URL(PUBLIC_URL), TEST_CLIENT_ID, { [oidc.clockSkew]: skew }, oidc.PrivateKeyJwt({ key: t.client.privateKey, kid: 'client-1' }), {
      algorithm: 'oauth2',
      [oidc.customFetch]: fetchApp,
    });
  }

  const exchangeParameters = async (t: Awaited<ReturnType<typeof setupTokens>>) => ({
    subject_token: await t.login(),
    subject_token_type: JWT_TYPE,
    authorization_details: JSON.stringify([{ type: 'doelbinding', purpose: 'overdracht-kp4', client: 'WZR-100001' }]),
  });

  it('discovers the server (RFC 8414), exchanges with private_key_jwt and DPoP, and reads the client with its proofs', async () => {
    const t = await setupTokens();
    const config = await discover(t);
    expect(config.serverMetadata().token_endpoint).toBe(`${PUBLIC_URL}/oauth/token`);
    const DPoP = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
    const tokens = await oidc.genericGrantRequest(config, EXCHANGE_GRANT, await exchangeParameters(t), { DPoP });
    expect(tokens.token_type).toBe('dpop');
    expect(t.lastAudit()).toMatchObject({ action: 'token.issued', clientId: TEST_CLIENT_ID });

    const res = await oidc.fetchProtectedResource(config, tokens.access_token, new URL(`${PUBLIC_URL}/v1/clients/WZR-100001`), 'GET', undefined, undefined, {
      DPoP,
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Json).clientRef).toBe('WZR-100001');
    expect(t.lastAudit()).toMatchObject({ action: 'record.read', clientId: TEST_CLIENT_ID, outcome: 'permit' });
  });

  it('exchanges for a bearer token without DPoP, and reads with it', async () => {
    const t = await setupTokens();
    const config = await discover(t);
    const tokens = await oidc.genericGrantRequest(config, EXCHANGE_GRANT, await exchangeParameters(t));
    expect(tokens.token_type).toBe('bearer');
    const res = await oidc.fetchProtectedResource(config, tokens.access_token, new URL(`${PUBLIC_URL}/v1/clients/WZR-100001`), 'GET');
    expect(res.status).toBe(200);
  });

  it('sees a DPoP error at the token endpoint as the OAuth error it is, not as a challenge (RFC 9449 §5)', async () => {
    const t = await setupTokens({ DOELPOORT_REQUIRE_DPOP: '1' });
    const config = await discover(t);
    const failure = await oidc.genericGrantRequest(config, EXCHANGE_GRANT, await exchangeParameters(t)).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(oidc.ResponseBodyError);
    expect(failure).not.toBeInstanceOf(oidc.WWWAuthenticateChallengeError);
    expect(failure).toMatchObject({ error: 'invalid_dpop_proof', status: 400 });
    expect(t.lastAudit()).toMatchObject({ action: 'token.refused', reason: 'DPOP_REQUIRED', clientId: TEST_CLIENT_ID });
  });

  it('while the resource server keeps its challenge: a DPoP-bound token sent without a proof', async () => {
    const t = await setupTokens();
    const config = await discover(t);
    const DPoP = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
    const tokens = await oidc.genericGrantRequest(config, EXCHANGE_GRANT, await exchangeParameters(t), { DPoP });
    const url = new URL(`${PUBLIC_URL}/v1/clients/WZR-100001`);
    const failure = await oidc.fetchProtectedResource(config, tokens.access_token, url, 'GET').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(oidc.WWWAuthenticateChallengeError);
    expect((failure as oidc.WWWAuthenticateChallengeError).cause.map((c) => c.scheme)).toContain('dpop');
    expect(t.lastAudit()).toMatchObject({ action: 'token.refused', reason: 'DPOP_SCHEME_REQUIRED', clientId: TEST_CLIENT_ID });
  });

  it('is refused as invalid_client when its key is not the registered one', async () => {
    const t = await setupTokens();
    const other = await oidc.randomDPoPKeyPair('ES256');
    const fetchApp: oidc.CustomFetch = (url, options) =>
      Promise.resolve(t.app.request(url, { method: options.method, headers: options.headers, body: options.body as RequestInit['body'] }));
    const config = await oidc.discovery(
      new URL(PUBLIC_URL),
      TEST_CLIENT_ID,
      { [oidc.clockSkew]: Math.round((t.clock.now() - Date.now()) / 1000) },
      oidc.PrivateKeyJwt({ key: other.privateKey, kid: 'client-1' }),
      { algorithm: 'oauth2', [oidc.customFetch]: fetchApp },
    );
    const failure = await oidc.genericGrantRequest(config, EXCHANGE_GRANT, await exchangeParameters(t)).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(oidc.ResponseBodyError);
    expect(failure).toMatchObject({ error: 'invalid_client', status: 401 });
    expect(t.lastAudit()).toMatchObject({ reason: 'CLIENT_ASSERTION_SIGNATURE_INVALID', clientId: TEST_CLIENT_ID });
  });
});
