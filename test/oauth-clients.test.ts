import fs from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createLocalJWKSet, type CryptoKey, exportJWK, generateKeyPair, type JWK, jwtVerify, SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../src/clock.js';
import { verifyClientAssertion } from '../src/tokens/client-assertion.js';
import { loadClientRegistry, parseClients, registeredClient } from '../src/tokens/clients.js';
import { loadDemoIdp, signDemoLogin } from '../src/tokens/demo-idp.js';
import { ReplayCache } from '../src/tokens/replay.js';
import { setupApp, TODAY, tempDir } from './support.js';
import { EXCHANGE_GRANT, JWT_BEARER, JWT_TYPE, PUBLIC_URL, setupTokens, TEST_CLIENT_ID } from './token-support.js';

type Ctx = Awaited<ReturnType<typeof setupTokens>>;
type Body = { error?: string; error_description?: string; access_token?: string; token_type?: string };

const TOKEN_ENDPOINT = `${PUBLIC_URL}/oauth/token`;
const coachDetail = { purpose: 'overdracht-kp4', client: 'WZR-100001' };

/** A client of Tiel only, registered beside the test client, with its own key. */
async function tielClient() {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'tiel-1', alg: 'ES256' };
  return { privateKey, entry: { clientId: 'tiel-app', organisations: ['GM0281'], jwks: { keys: [jwk] } } };
}

/** An RFC 7523 assertion for any client and key, as a client library would make it. */
async function assertionFor(clientId: string, key: CryptoKey, kid: string, nowSeconds: number, claims: Record<string, unknown> = {}) {
  return new SignJWT({
    iss: clientId,
    sub: clientId,
    aud: TOKEN_ENDPOINT,
    jti: `${clientId}-${Math.random()}`,
    iat: nowSeconds,
    exp: nowSeconds + 60,
    ...claims,
  })
    .setProtectedHeader({ alg: 'ES256', kid })
    .sign(key);
}

/** The RFC 6749 §5.2 `invalid_client` answer, and its one audit line: no login was looked at, no purpose recorded. */
async function expectInvalidClient(t: Ctx, res: Response, reason: string, clientId?: string) {
  expect(res.status).toBe(401);
  expect(await res.json()).toEqual({ error: 'invalid_client', error_description: expect.any(String) });
  expect(res.headers.get('cache-control')).toBe('no-store');
  const line = t.lastAudit()!;
  expect(line).toMatchObject({ action: 'token.refused', outcome: 'deny', reason, httpStatus: 401, channel: 'api' });
  expect(line.clientId).toBe(clientId);
  expect(line.actor).toBeUndefined();
  expect(line.purpose).toBeUndefined();
  return res;
}

describe('POST /oauth/token: a registered client with private_key_jwt (RFC 7523)', () => {
  it('gets a token that carries its client_id, and the audit line says which client it was', async () => {
    const t = await setupTokens();
    const res = await t.exchange({ ...t.exchangeForm(await t.login(), coachDetail), ...(await t.clientAuth()) });
    expect(res.status).toBe(200);
    const { access_token } = (await res.json()) as Body;
    const jwks = createLocalJWKSet((await (await t.app.request('/.well-known/jwks.json')).json()) as { keys: JWK[] });
    const { payload } = await jwtVerify(access_token!, jwks, { issuer: PUBLIC_URL, audience: PUBLIC_URL, currentDate: new Date(t.clock.now()) });
    expect(payload.client_id).toBe(TEST_CLIENT_ID);
    expect(t.lastAudit()).toMatchObject({ action: 'token.issued', clientId: TEST_CLIENT_ID, channel: 'api', tokenId: payload.jti });

    // Every line of an API request with that token names the client too.
    const read = await t.app.request('/v1/clients/WZR-100001', { headers: { authorization: `Bearer ${access_token}` } });
    expect(read.status).toBe(200);
    expect(t.lastAudit()).toMatchObject({ action: 'record.read', clientId: TEST_CLIENT_ID, channel: 'api' });
  });

  it('accepts the issuer identifier as the audience (RFC 7523bis), and a list naming only our two identifiers', async () => {
    const t = await setupTokens();
    for (const aud of [PUBLIC_URL, [TOKEN_ENDPOINT, PUBLIC_URL]]) {
      const res = await t.exchange({ ...t.exchangeForm(await t.login(), coachDetail), ...(await t.clientAuth({ aud })) });
      expect(res.status, JSON.stringify(aud)).toBe(200);
    }
  });

  it('accepts an assertion that expires exactly 5 minutes ahead', async () => {
    const t = await setupTokens();
    const res = await t.exchange({ ...t.exchangeForm(await t.login(), coachDetail), ...(await t.clientAuth({ exp: t.nowSeconds() + 300 })) });
    expect(res.status).toBe(200);
  });

  it('authenticates the client before it reads anything else of the request', async () => {
    const t = await setupTokens();
    const res = await t.exchange({ grant_type: 'password' }, {}, { authenticate: false });
    await expectInvalidClient(t, res, 'CLIENT_ID_MISSING');
  });
});

describe('POST /oauth/token: refused client authentication (401 invalid_client)', () => {
  type Variant = (t: Ctx) => Promise<Record<string, string>>;
  const other = async () => (await generateKeyPair('ES256')).privateKey;
  const matrix: Array<[string, Variant, string, string | undefined]> = [
    ['no client_id and no assertion', async () => ({}), 'CLIENT_ID_MISSING', undefined],
    ['a client_id without an assertion', async () => ({ client_id: TEST_CLIENT_ID }), 'CLIENT_ASSERTION_MISSING', TEST_CLIENT_ID],
    [
      'an assertion without client_id',
      async (t) => ({ client_assertion_type: JWT_BEARER, client_assertion: await t.clientAssertion() }),
      'CLIENT_ID_MISSING',
      undefined,
    ],
    ['an unknown client', async (t) => ({ ...(await t.clientAuth()), client_id: 'nobody' }), 'CLIENT_ID_UNKNOWN', undefined],
    ['the demo client outside demo mode', async () => ({ client_id: 'doelpoort-demo' }), 'CLIENT_ID_UNKNOWN', undefined],
    ['the web application, which never uses the token endpoint', async () => ({ client_id: 'doelpoort-web' }), 'CLIENT_ID_UNKNOWN', undefined],
    [
      'another assertion type',
      async (t) => ({ ...(await t.clientAuth()), client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer' }),
      'CLIENT_ASSERTION_TYPE_INVALID',
      TEST_CLIENT_ID,
    ],
    [
      'an assertion signed with another key',
      async (t) => ({ client_id: TEST_CLIENT_ID, client_assertion_type: JWT_BEARER, client_assertion: await t.clientAssertion({}, { key: await other() }) }),
      'CLIENT_ASSERTION_SIGNATURE_INVALID',
      TEST_CLIENT_ID,
    ],
    [
      'an HMAC assertion keyed with the public key',
      async (t) => ({
        client_id: TEST_CLIENT_ID,
        client_assertion_type: JWT_BEARER,
        client_assertion: await new SignJWT({ iss: TEST_CLIENT_ID, sub: TEST_CLIENT_ID, aud: TOKEN_ENDPOINT, jti: 'h1', exp: t.nowSeconds() + 60 })
          .setProtectedHeader({ alg: 'HS256', kid: 'client-1' })
          .sign(new TextEncoder().encode(JSON.stringify(t.clientJwk))),
      }),
      'CLIENT_ASSERTION_ALG_NOT_ALLOWED',
      TEST_CLIENT_ID,
    ],
    [
      'an unsigned assertion (alg none)',
      async (t) => ({
        client_id: TEST_CLIENT_ID,
        client_assertion_type: JWT_BEARER,
        client_assertion: new UnsecuredJWT({ iss: TEST_CLIENT_ID, sub: TEST_CLIENT_ID, aud: TOKEN_ENDPOINT, jti: 'n1', exp: t.nowSeconds() + 60 }).encode(),
      }),
      'CLIENT_ASSERTION_ALG_NOT_ALLOWED',
      TEST_CLIENT_ID,
    ],
    [
      'an assertion for another audience',
      async (t) => t.clientAuth({ aud: 'https://other-server.example/token' }),
      'CLIENT_ASSERTION_AUDIENCE_INVALID',
      TEST_CLIENT_ID,
    ],
    [
      'an assertion also made out to another server',
      async (t) => t.clientAuth({ aud: [TOKEN_ENDPOINT, 'https://other-server.example'] }),
      'CLIENT_ASSERTION_AUDIENCE_INVALID',
      TEST_CLIENT_ID,
    ],
    ['an assertion without aud', async (t) => t.clientAuth({ aud: undefined }), 'CLIENT_ASSERTION_CLAIMS_INVALID', TEST_CLIENT_ID],
    ['iss other than sub', async (t) => t.clientAuth({ sub: 'someone-else' }), 'CLIENT_ASSERTION_ISSUER_INVALID', TEST_CLIENT_ID],
    ['iss and sub naming another client', async (t) => t.clientAuth({ iss: 'tiel-app', sub: 'tiel-app' }), 'CLIENT_ASSERTION_ISSUER_INVALID', TEST_CLIENT_ID],
    ['exp more than 5 minutes ahead', async (t) => t.clientAuth({ exp: t.nowSeconds() + 3600 }), 'CLIENT_ASSERTION_LIFETIME_TOO_LONG', TEST_CLIENT_ID],
    ['an expired assertion', async (t) => t.clientAuth({ iat: t.nowSeconds() - 600, exp: t.nowSeconds() - 61 }), 'CLIENT_ASSERTION_EXPIRED', TEST_CLIENT_ID],
    [
      'an assertion issued in the future',
      async (t) => t.clientAuth({ iat: t.nowSeconds() + 120, exp: t.nowSeconds() + 180 }),
      'CLIENT_ASSERTION_NOT_YET_VALID',
      TEST_CLIENT_ID,
    ],
    ['an assertion without jti', async (t) => t.clientAuth({ jti: undefined }), 'CLIENT_ASSERTION_CLAIMS_INVALID', TEST_CLIENT_ID],
    ['an assertion without exp', async (t) => t.clientAuth({ exp: undefined }), 'CLIENT_ASSERTION_CLAIMS_INVALID', TEST_CLIENT_ID],
    [
      'an assertion in a second spelling (padding appended)',
      async (t) => ({ ...(await t.clientAuth()), client_assertion: `${await t.clientAssertion()}==` }),
      'CLIENT_ASSERTION_MALFORMED',
      TEST_CLIENT_ID,
    ],
    [
      'a login token as the assertion',
      async (t) => ({ ...(await t.clientAuth()), client_assertion: await t.login() }),
      'CLIENT_ASSERTION_SIGNATURE_INVALID',
      TEST_CLIENT_ID,
    ],
  ];

  for (const [name, variant, reason, clientId] of matrix) {
    it(`refuses ${name}`, async () => {
      const t = await setupTokens({}, { extraClients: [(await tielClient()).entry] });
      const res = await t.exchange({ ...t.exchangeForm(await t.login(), coachDetail), ...(await variant(t)) }, {}, { authenticate: false });
      await expectInvalidClient(t, res, reason, clientId);
      expect(res.headers.get('www-authenticate')).toBeNull();
    });
  }

  it('refuses a replayed assertion (its jti), also when the first use was refused for another reason', async () => {
    const t = await setupTokens();
    const auth = await t.clientAuth();
    expect((await t.exchange({ ...t.exchangeForm(await t.login(), coachDetail), ...auth })).status).toBe(200);
    await expectInvalidClient(t, await t.exchange({ ...t.exchangeForm(await t.login(), coachDetail), ...auth }), 'CLIENT_ASSERTION_REPLAYED', TEST_CLIENT_ID);

    const other = await t.clientAuth();
    expect((await t.exchange({ ...t.exchangeForm(await t.login({ org: 'GM0214' }), coachDetail), ...other })).status).toBe(403);
    await expectInvalidClient(t, await t.exchange({ ...t.exchangeForm(await t.login(), coachDetail), ...other }), 'CLIENT_ASSERTION_REPLAYED', TEST_CLIENT_ID);
  });

  it('refuses HTTP client authentication with a challenge in the scheme the client used (RFC 6749 §5.2), even beside an assertion', async () => {
    const t = await setupTokens();
    const basic = { authorization: `Basic ${Buffer.from(`${TEST_CLIENT_ID}:secret`).toString('base64')}` };
    for (const client of [{ client_id: TEST_CLIENT_ID }, await t.clientAuth()]) {
      const res = await t.exchange({ ...t.exchangeForm(await t.login(), coachDetail), ...client }, basic);
      await expectInvalidClient(t, res, 'CLIENT_AUTH_METHOD_UNSUPPORTED');
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="doelpoort"');
    }
  });

  it('refuses a repeated client parameter as a malformed request', async () => {
    const t = await setupTokens();
    const auth = await t.clientAuth();
    const form: Array<[string, string]> = [
      ...Object.entries(t.exchangeForm(await t.login(), coachDetail)),
      ...Object.entries(auth),
      ['client_id', TEST_CLIENT_ID],
    ];
    const res = await t.exchange(form);
    expect(res.status).toBe(400);
    expect(((await res.json()) as Body).error).toBe('invalid_request');
    expect(t.lastAudit()).toMatchObject({ reason: 'PARAMETER_REPEATED' });
  });

  it('never writes an unregistered client_id, whatever it holds, into the log or the answer', async () => {
    const t = await setupTokens();
    const res = await t.exchange({ ...t.exchangeForm(await t.login(), coachDetail), client_id: '101013036' });
    expect(await res.clone().text()).not.toContain('101013036');
    await expectInvalidClient(t, res, 'CLIENT_ID_UNKNOWN');
    expect(JSON.stringify(t.auditEntries())).not.toContain('101013036');
  });
});

describe('POST /oauth/token: the organisations a client acts for (403 access_denied)', () => {
  it('refuses a login of an organisation the client does not act for, after the client authenticated', async () => {
    const tiel = await tielClient();
    const t = await setupTokens({}, { extraClients: [tiel.entry] });
    const client = {
      client_id: 'tiel-app',
      client_assertion_type: JWT_BEARER,
      client_assertion: await assertionFor('tiel-app', tiel.privateKey, 'tiel-1', t.nowSeconds()),
    };
    const res = await t.exchange({ ...t.exchangeForm(await t.login({ org: 'GM1960' }), coachDetail), ...client });
    // 403 access_denied, not 401 invalid_client: the client proved who it is; this login is not one it may bring.
    expect(res.status).toBe(403);
    expect(((await res.json()) as Body).error).toBe('access_denied');
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(t.lastAudit()).toMatchObject({
      action: 'token.refused',
      reason: 'CLIENT_NOT_FOR_ORGANISATION',
      httpStatus: 403,
      clientId: 'tiel-app',
      actor: { sub: 'user-1', org: 'GM1960' },
      purpose: 'overdracht-kp4',
    });
  });

  it('issues to the client for an organisation it acts for', async () => {
    const tiel = await tielClient();
    const t = await setupTokens({}, { extraClients: [tiel.entry] });
    const client = {
      client_id: 'tiel-app',
      client_assertion_type: JWT_BEARER,
      client_assertion: await assertionFor('tiel-app', tiel.privateKey, 'tiel-1', t.nowSeconds()),
    };
    const login = await t.login({ role: 'schuldhulpverlener', org: 'GM0281' });
    const res = await t.exchange({ ...t.exchangeForm(login, { purpose: 'schuldhulpverlening', client: 'WZR-100004' }), ...client });
    expect(res.status).toBe(200);
    expect(t.lastAudit()).toMatchObject({ action: 'token.issued', clientId: 'tiel-app' });
  });
});

describe('demo mode: the public demo client', () => {
  async function demo(env: Record<string, string> = {}) {
    const ctx = setupApp({ DOELPOORT_DEMO: '1', DOELPOORT_PUBLIC_URL: PUBLIC_URL, ...env });
    await ctx.tokens.trust.ready();
    const idp = await loadDemoIdp(ctx.config.dataDir);
    const login = await signDemoLogin(idp, { sub: 'po-1', role: 'privacy-officer', org: 'WERKZAAK' }, Math.floor(ctx.clock.now() / 1000));
    const post = (client: Record<string, string>) =>
      ctx.app.request('/oauth/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: EXCHANGE_GRANT,
          subject_token: login,
          subject_token_type: JWT_TYPE,
          authorization_details: JSON.stringify([{ type: 'doelbinding', purpose: 'toezicht' }]),
          ...client,
        }).toString(),
      });
    const lastAudit = () => {
      const row = ctx.db.$client.prepare('SELECT entry FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { entry: string };
      return (JSON.parse(row.entry) as { entry: Record<string, unknown> }).entry;
    };
    return { ...ctx, post, lastAudit };
  }

  it('sends client_id=doelpoort-demo without an assertion, and its tokens say client_id doelpoort-demo', async () => {
    const d = await demo();
    const res = await d.post({ client_id: 'doelpoort-demo' });
    expect(res.status).toBe(200);
    const { access_token } = (await res.json()) as Body;
    expect(JSON.parse(Buffer.from(access_token!.split('.')[1]!, 'base64url').toString()).client_id).toBe('doelpoort-demo');
    expect(d.lastAudit()).toMatchObject({ action: 'token.issued', clientId: 'doelpoort-demo' });
  });

  it('still needs the client_id: a request naming no client is refused in demo mode too', async () => {
    const d = await demo();
    const res = await d.post({});
    expect(res.status).toBe(401);
    expect(((await res.json()) as Body).error).toBe('invalid_client');
    expect(d.lastAudit()).toMatchObject({ action: 'token.refused', reason: 'CLIENT_ID_MISSING' });
  });

  it('refuses the demo client with an assertion: it is registered without one', async () => {
    const d = await demo();
    const res = await d.post({ client_id: 'doelpoort-demo', client_assertion_type: JWT_BEARER, client_assertion: 'a.b.c' });
    expect(res.status).toBe(401);
    expect(d.lastAudit()).toMatchObject({ reason: 'CLIENT_ASSERTION_UNEXPECTED', clientId: 'doelpoort-demo' });
  });

  it('also serves the clients of a clients file, which cannot register the demo client itself', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const file = path.join(tempDir(), 'clients.json');
    fs.writeFileSync(
      file,
      JSON.stringify({ clients: [{ clientId: 'app', organisations: ['WERKZAAK'], jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'a' }] } }] }),
    );
    const d = await demo({ DOELPOORT_CLIENTS_FILE: file });
    const assertion = await assertionFor('app', privateKey, 'a', Math.floor(d.clock.now() / 1000));
    expect((await d.post({ client_id: 'app', client_assertion_type: JWT_BEARER, client_assertion: assertion })).status).toBe(200);
    expect((await d.post({ client_id: 'doelpoort-demo' })).status).toBe(200);
  });
});

describe(parseClients.name, () => {
  const key = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' };
  const problemOf = (entry: Record<string, unknown>, more: unknown[] = []) => {
    try {
      parseClients({ clients: [{ clientId: 'app', organisations: ['GM0281'], jwks: { keys: [key] }, ...entry }, ...more] });
    } catch (error) {
      expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
      return (error as { problems: Array<{ path: string }> }).problems.map((p) => p.path);
    }
    return [];
  };

  it('accepts inline public keys and an https: key set URL', () => {
    expect(problemOf({})).toEqual([]);
    expect(problemOf({ jwks: undefined, jwksUri: 'https://app.example/jwks.json' })).toEqual([]);
  });

  it('reserves the built-in client ids', () => {
    expect(problemOf({ clientId: 'doelpoort-demo' })).toEqual(['clients.0.clientId']);
    expect(problemOf({ clientId: 'doelpoort-web' })).toEqual(['clients.0.clientId']);
  });

  it('refuses a client id that an audit line could not hold, and duplicates', () => {
    expect(problemOf({ clientId: 'app with spaces' })).toEqual(['clients.0.clientId']);
    expect(problemOf({ clientId: '' })).toEqual(['clients.0.clientId']);
    expect(problemOf({}, [{ clientId: 'app', organisations: ['GM0281'], jwks: { keys: [key] } }])).toEqual(['clients']);
  });

  it('requires the organisations the client acts for', () => {
    expect(problemOf({ organisations: undefined })).toEqual(['clients.0.organisations']);
    expect(problemOf({ organisations: [] })).toEqual(['clients.0.organisations']);
    expect(problemOf({ organisations: ['Tiel'] })).toEqual(['clients.0.organisations.0']);
  });

  it('takes public asymmetric keys only: no symmetric key, no private key material', () => {
    expect(problemOf({ jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } })).toEqual(['clients.0.jwks.keys.0.kty']);
    expect(problemOf({ jwks: { keys: [{ ...key, d: 'private' }] } })).toEqual(['clients.0.jwks.keys.0']);
    expect(problemOf({ jwks: { keys: [] } })).toEqual(['clients.0.jwks.keys']);
  });

  it('requires exactly one of jwks and an https: jwksUri, and refuses unknown keys', () => {
    expect(problemOf({ jwksUri: 'https://app.example/jwks.json' })).toEqual(['clients.0.jwks']);
    expect(problemOf({ jwks: undefined })).toEqual(['clients.0.jwks']);
    expect(problemOf({ jwks: undefined, jwksUri: 'http://app.example/jwks.json' })).toEqual(['clients.0.jwksUri']);
    expect(problemOf({ secret: 's' })).toEqual(['clients.0']);
  });

  it('names the file and the path, never a value, when loading', () => {
    const file = path.join(tempDir(), 'clients.json');
    fs.writeFileSync(file, JSON.stringify({ clients: [{ clientId: 'doelpoort-web', organisations: ['GM0281'], jwks: { keys: [key] } }] }));
    expect(() => loadClientRegistry({ clientsFile: file, demo: false })).toThrow(
      `DOELPOORT_CLIENTS_FILE ${file}: invalid at clients.0.clientId: is reserved for a built-in client`,
    );
    fs.writeFileSync(file, '{ not json');
    expect(() => loadClientRegistry({ clientsFile: file, demo: false })).toThrow(`DOELPOORT_CLIENTS_FILE ${file}: cannot be read as JSON`);
  });

  it('registers nobody without a file outside demo mode, and only the public demo client in demo mode', () => {
    expect(loadClientRegistry({ clientsFile: undefined, demo: false }).find('doelpoort-demo')).toBeUndefined();
    expect(loadClientRegistry({ clientsFile: undefined, demo: true }).find('doelpoort-demo')).toMatchObject({ authentication: { method: 'none' } });
  });
});

describe('a client with a remote key set (jwksUri)', () => {
  const clock = fixedClock(`${TODAY}T10:00:00Z`);
  const now = Math.floor(clock.now() / 1000);
  const context = (keys: ReturnType<typeof registeredClient>) => ({
    clientId: 'remote-app',
    keys: (keys.authentication as { keys: Parameters<typeof verifyClientAssertion>[1]['keys'] }).keys,
    audiences: [TOKEN_ENDPOINT, PUBLIC_URL],
    clock,
    replay: new ReplayCache(),
  });

  it('is fetched once and cached, not once per assertion', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'r1', alg: 'ES256' };
    let fetches = 0;
    const server = createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      // The network is the one thing mocked: the https: URL the file names is served by the plain local server.
      const local = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const [entry] = parseClients({ clients: [{ clientId: 'remote-app', organisations: ['GM0281'], jwksUri: 'https://keys.app.example/jwks.json' }] });
      const client = registeredClient(entry!, { fetch: (url, init) => fetch(url.replace('https://keys.app.example', local), init) });
      for (let i = 0; i < 3; i++) {
        expect(await verifyClientAssertion(await assertionFor('remote-app', privateKey, 'r1', now), context(client))).toEqual({ ok: true, value: undefined });
      }
      expect(fetches).toBe(1);
    } finally {
      server.close();
    }
  });

  it('refuses assertions (value-free) when the key set cannot be fetched', async () => {
    const [entry] = parseClients({ clients: [{ clientId: 'remote-app', organisations: ['GM0281'], jwksUri: 'https://127.0.0.1:9/jwks.json' }] });
    const { privateKey } = await generateKeyPair('ES256');
    const result = await verifyClientAssertion(await assertionFor('remote-app', privateKey, 'x', now), context(registeredClient(entry!)));
    expect(result).toEqual({ ok: false, reason: 'CLIENT_ASSERTION_KEYS_UNAVAILABLE' });
  });
});

describe('access tokens as RFC 9068 reads them', () => {
  const RFC_9068_REQUIRED = ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'];

  it('pass jose’s jwtVerify with typ at+jwt and every claim RFC 9068 §2.2 requires', async () => {
    const t = await setupTokens();
    const { access_token } = (await (await t.exchange(t.exchangeForm(await t.login(), coachDetail))).json()) as Body;
    const jwks = createLocalJWKSet((await (await t.app.request('/.well-known/jwks.json')).json()) as { keys: JWK[] });
    const { payload, protectedHeader } = await jwtVerify(access_token!, jwks, {
      typ: 'at+jwt',
      issuer: PUBLIC_URL,
      audience: PUBLIC_URL,
      requiredClaims: RFC_9068_REQUIRED,
      currentDate: new Date(t.clock.now()),
    });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload).toMatchObject({ client_id: TEST_CLIENT_ID, sub: 'user-1' });
  });

  it('that check refuses a token without client_id, so it can tell', async () => {
    const t = await setupTokens();
    const { key, kid, alg } = t.tokens.keys.signing;
    const iat = t.nowSeconds();
    const without = await new SignJWT({ sub: 'user-1', jti: 'j' })
      .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
      .setIssuer(PUBLIC_URL)
      .setAudience(PUBLIC_URL)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 60)
      .sign(key);
    const jwks = createLocalJWKSet({ keys: t.tokens.keys.published() as JWK[] });
    await expect(
      jwtVerify(without, jwks, {
        typ: 'at+jwt',
        issuer: PUBLIC_URL,
        audience: PUBLIC_URL,
        requiredClaims: RFC_9068_REQUIRED,
        currentDate: new Date(t.clock.now()),
      }),
    ).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'client_id' });
  });
});
