import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../src/clock.js';
import { loadDemoIdp, signDemoLogin } from '../src/tokens/demo-idp.js';
import { loadTrustStore, parseIdps, TrustStore, trustedIdp } from '../src/tokens/idps.js';
import { verifyUserToken } from '../src/tokens/user-token.js';
import { setupApp, tempDir, TODAY } from './support.js';
import { EXCHANGE_GRANT, JWT_TYPE, setupTokens } from './token-support.js';

const form = (login: string, client: Record<string, string>) =>
  new URLSearchParams({
    grant_type: EXCHANGE_GRANT,
    subject_token: login,
    subject_token_type: JWT_TYPE,
    authorization_details: JSON.stringify([{ type: 'doelbinding', purpose: 'toezicht' }]),
    ...client,
  }).toString();
/** A token request; demo mode's public client unless the client's parameters are given. */
const post = (app: ReturnType<typeof setupApp>['app'], login: string, client: Record<string, string> = { client_id: 'doelpoort-demo' }) =>
  app.request('/oauth/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form(login, client) });

describe('parseIdps', () => {
  it('refuses a document with problems, naming paths only', () => {
    const bad = {
      idps: [
        { issuer: 'not a url', audience: 'doelpoort', jwks: { keys: [] } },
        { issuer: 'https://a.example', audience: 'x', jwks: { keys: [{ kty: 'EC' }] }, extra: 1 },
      ],
    };
    try {
      parseIdps(bad);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
      expect(JSON.stringify(error)).not.toContain('not a url');
    }
  });

  it('refuses two entries with the same issuer', () => {
    const idp = { issuer: 'https://a.example', audience: 'doelpoort', organisations: ['GM0281'], jwksUri: 'https://a.example/jwks' };
    expect(() => parseIdps({ idps: [idp, idp] })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('accepts inline keys and a key set URL', () => {
    expect(
      parseIdps({
        idps: [
          { issuer: 'https://a.example', audience: 'doelpoort', organisations: ['GM0281'], jwksUri: 'https://a.example/jwks' },
          { issuer: 'https://b.example', audience: 'doelpoort', organisations: ['WERKZAAK', 'GM1960'], jwks: { keys: [{ kty: 'EC' }] } },
        ],
      }),
    ).toHaveLength(2);
  });

  const problemOf = (entry: Record<string, unknown>) => {
    try {
      parseIdps({ idps: [{ issuer: 'https://a.example', audience: 'doelpoort', organisations: ['GM0281'], jwksUri: 'https://a.example/jwks', ...entry }] });
    } catch (error) {
      return (error as { code: string; problems: Array<{ path: string }> }).problems.map((p) => p.path);
    }
    return [];
  };

  it('requires the organisations a provider may vouch for: present, not empty, each WERKZAAK or GMnnnn', () => {
    expect(problemOf({ organisations: undefined })).toEqual(['idps.0.organisations']);
    expect(problemOf({ organisations: [] })).toEqual(['idps.0.organisations']);
    expect(problemOf({ organisations: ['Tiel'] })).toEqual(['idps.0.organisations.0']);
  });

  it('requires an https: jwksUri, and exactly one of jwks and jwksUri', () => {
    expect(problemOf({ jwksUri: 'http://a.example/jwks' })).toEqual(['idps.0.jwksUri']);
    expect(problemOf({ jwksUri: 'file:///etc/jwks.json' })).toEqual(['idps.0.jwksUri']);
    expect(problemOf({ jwks: { keys: [{ kty: 'EC' }] } })).toEqual(['idps.0.jwks']);
    expect(problemOf({ jwksUri: undefined })).toEqual(['idps.0.jwks']);
  });
});

describe('the demo identity provider', () => {
  it('is trusted in demo mode', async () => {
    const { app, config, clock, tokens } = setupApp({ DOELPOORT_DEMO: '1' });
    await tokens.trust.ready();
    const idp = await loadDemoIdp(config.dataDir);
    const login = await signDemoLogin(idp, { sub: 'po-1', role: 'privacy-officer', org: 'WERKZAAK' }, Math.floor(clock.now() / 1000));
    expect((await post(app, login)).status).toBe(200);
  });

  it('is not trusted when an IdPs file is configured', async () => {
    const t = await setupTokens();
    await t.tokens.trust.ready();
    const idp = await loadDemoIdp(t.config.dataDir);
    const login = await signDemoLogin(idp, { sub: 'po-1', role: 'privacy-officer', org: 'WERKZAAK' }, t.nowSeconds());
    const res = await post(t.app, login, await t.clientAuth());
    expect(res.status).toBe(400);
    expect(t.lastAudit()).toMatchObject({ action: 'token.refused', reason: 'SUBJECT_TOKEN_ISSUER_UNTRUSTED' });
  });

  it('is not trusted with DOELPOORT_DEMO=0, and then nobody is', async () => {
    const dataDir = tempDir();
    const store = loadTrustStore({ idpsFile: undefined, demo: false, dataDir });
    const idp = await loadDemoIdp(dataDir);
    const login = await signDemoLogin(idp, { sub: 'po-1', role: 'privacy-officer', org: 'WERKZAAK' }, Math.floor(Date.parse(`${TODAY}T10:00:00Z`) / 1000));
    expect(await verifyUserToken(login, store, fixedClock(`${TODAY}T10:00:00Z`))).toEqual({ ok: false, reason: 'SUBJECT_TOKEN_ISSUER_UNTRUSTED' });
  });
});

describe('a remote key set (jwksUri)', () => {
  it('is fetched once and cached, not once per token', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'r1', alg: 'ES256' };
    let fetches = 0;
    const server = createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const issuer = 'https://login.remote.example';
      // The network is the one thing mocked: the https: URL the file names is served by the plain local server.
      const local = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const [idp] = parseIdps({ idps: [{ issuer, audience: 'doelpoort', organisations: ['WERKZAAK'], jwksUri: 'https://keys.remote.example/jwks.json' }] });
      const store = new TrustStore([trustedIdp(idp!, { fetch: (url, init) => fetch(url.replace('https://keys.remote.example', local), init) })]);
      const clock = { now: () => Date.now() };
      const now = Math.floor(Date.now() / 1000);
      for (let i = 0; i < 5; i++) {
        const login = await new SignJWT({ role: 'werkcoach', org: 'WERKZAAK' })
          .setProtectedHeader({ alg: 'ES256', kid: 'r1' })
          .setIssuer(issuer)
          .setAudience('doelpoort')
          .setSubject(`u${i}`)
          .setIssuedAt(now)
          .setExpirationTime(now + 60)
          .sign(privateKey);
        expect((await verifyUserToken(login, store, clock)).ok).toBe(true);
      }
      expect(fetches).toBe(1);
    } finally {
      server.close();
    }
  });

  it('refuses tokens (value-free) when the key set cannot be fetched', async () => {
    const store = new TrustStore([
      trustedIdp({ issuer: 'https://down.example', audience: 'doelpoort', organisations: ['WERKZAAK'], jwksUri: 'https://127.0.0.1:9/jwks.json' }),
    ]);
    const { privateKey } = await generateKeyPair('ES256');
    const now = Math.floor(Date.now() / 1000);
    const login = await new SignJWT({ role: 'werkcoach', org: 'WERKZAAK' })
      .setProtectedHeader({ alg: 'ES256', kid: 'x' })
      .setIssuer('https://down.example')
      .setAudience('doelpoort')
      .setSubject('u')
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(privateKey);
    expect(await verifyUserToken(login, store, { now: () => Date.now() })).toEqual({ ok: false, reason: 'SUBJECT_TOKEN_KEYS_UNAVAILABLE' });
  });
});
