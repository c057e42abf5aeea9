import { calculateJwkThumbprint, decodeJwt, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { accessTokenHash } from '../src/tokens/dpop.js';
import { dpopKey, IDP_ISSUER, PUBLIC_URL, setupTokens, TEST_CLIENT_ID } from './token-support.js';

type Problem = { status: number; code: string; detail: string };
type TokenBody = { access_token: string; token_type: string; error?: string };

/** A token app with a test-only `/v1/whoami` route (createApp guards /v1/* with requireAccessToken), and helpers. */
async function setup(env: Record<string, string> = {}) {
  const t = await setupTokens(env);
  t.app.on(['GET', 'POST'], '/v1/whoami', (c) => c.json(c.get('requester')));
  const issue = async (headers: Record<string, string> = {}) => {
    const res = await t.exchange(t.exchangeForm(await t.login(), { purpose: 'overdracht-kp4', client: 'WZR-100001' }), headers);
    return (await res.json()) as TokenBody;
  };
  const whoami = (headers: Record<string, string> = {}, path = '/v1/whoami', method = 'GET') => t.app.request(path, { method, headers });
  /** An access token minted in the test with the gateway's own key, so its claims are visible. */
  const mint = async (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) => {
    const iat = t.nowSeconds();
    const { kid, alg, key } = t.tokens.keys.signing;
    return new SignJWT({
      iss: PUBLIC_URL,
      aud: PUBLIC_URL,
      idp: IDP_ISSUER,
      sub: 'user-1',
      role: 'participatiecoach',
      org: 'GM1960',
      purpose: 'overdracht-kp4',
      client: 'WZR-100001',
      client_id: TEST_CLIENT_ID,
      jti: 'jti-1',
      iat,
      exp: iat + 300,
      ...claims,
    })
      .setProtectedHeader({ alg, kid, typ: 'at+jwt', ...header } as never)
      .sign(key);
  };
  return { ...t, issue, whoami, mint };
}

async function expectRefused(t: Awaited<ReturnType<typeof setup>>, res: Response, code: string, reason: string) {
  expect(res.status).toBe(401);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.headers.get('www-authenticate')).toBeTruthy();
  const problem = (await res.json()) as Problem;
  expect(problem).toMatchObject({ status: 401, code });
  expect(t.lastAudit()).toMatchObject({ action: 'token.refused', outcome: 'deny', reason, httpStatus: 401 });
  return problem;
}

describe('requireAccessToken: bearer tokens', () => {
  it('lets a valid token through and exposes the requester', async () => {
    const t = await setup();
    const { access_token } = await t.issue();
    const res = await t.whoami({ authorization: `Bearer ${access_token}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      issuer: IDP_ISSUER,
      sub: 'user-1',
      role: 'participatiecoach',
      org: 'GM1960',
      purpose: 'overdracht-kp4',
      client: 'WZR-100001',
      clientId: TEST_CLIENT_ID,
      tokenId: decodeJwt(access_token).jti,
    });
    // Second use hits the verified-token cache and gives the same answer.
    expect((await t.whoami({ authorization: `Bearer ${access_token}` })).status).toBe(200);
  });

  it('refuses a request without a token', async () => {
    const t = await setup();
    const res = await t.whoami();
    await expectRefused(t, res, 'TOKEN_MISSING', 'TOKEN_MISSING');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="doelpoort"/);
  });

  it('guards every /v1 path, also one that does not exist, before revealing anything', async () => {
    const t = await setup();
    await expectRefused(t, await t.whoami({}, '/v1/clients/WZR-100001'), 'TOKEN_MISSING', 'TOKEN_MISSING');
  });

  it('refuses a malformed Authorization header', async () => {
    const t = await setup();
    await expectRefused(t, await t.whoami({ authorization: 'Basic dXNlcjpwYXNz' }), 'TOKEN_INVALID', 'AUTHORIZATION_MALFORMED');
  });

  it('refuses a token whose payload was tampered with', async () => {
    const t = await setup();
    const { access_token } = await t.issue();
    const [h, p, s] = access_token.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, client: 'WZR-100005' })).toString('base64url');
    const res = await t.whoami({ authorization: `Bearer ${h}.${forged}.${s}` });
    await expectRefused(t, res, 'TOKEN_INVALID', 'TOKEN_INVALID');
    expect(res.headers.get('www-authenticate')).toBe(`Bearer error="invalid_token", resource_metadata="${PUBLIC_URL}/.well-known/oauth-protected-resource"`);
  });

  it('refuses a token of ours without client_id (RFC 9068 §2.2 requires it)', async () => {
    const t = await setup();
    const res = await t.whoami({ authorization: `Bearer ${await t.mint({ client_id: undefined })}` });
    await expectRefused(t, res, 'TOKEN_INVALID', 'TOKEN_INVALID');
  });

  it('writes the token’s client_id into the audit line of a refusal after verification', async () => {
    const t = await setup({ DOELPOORT_REQUIRE_DPOP: '1' });
    await expectRefused(t, await t.whoami({ authorization: `Bearer ${await t.mint()}` }), 'DPOP_INVALID', 'DPOP_REQUIRED');
    expect(t.lastAudit()).toMatchObject({ channel: 'api', clientId: TEST_CLIENT_ID, actor: { sub: 'user-1' } });
  });

  it('refuses an expired token, also one verified (and cached) before', async () => {
    const t = await setup();
    const { access_token } = await t.issue();
    expect((await t.whoami({ authorization: `Bearer ${access_token}` })).status).toBe(200);
    t.clock.advance(301_000);
    await expectRefused(t, await t.whoami({ authorization: `Bearer ${access_token}` }), 'TOKEN_EXPIRED', 'TOKEN_EXPIRED');
  });

  it('refuses a token for another audience', async () => {
    const t = await setup();
    await expectRefused(t, await t.whoami({ authorization: `Bearer ${await t.mint({ aud: 'https://elsewhere.example' })}` }), 'TOKEN_INVALID', 'TOKEN_INVALID');
  });

  it('refuses a token of another issuer signed with our key', async () => {
    const t = await setup();
    await expectRefused(t, await t.whoami({ authorization: `Bearer ${await t.mint({ iss: 'https://elsewhere.example' })}` }), 'TOKEN_INVALID', 'TOKEN_INVALID');
  });

  it('refuses a token of ours without typ at+jwt', async () => {
    const t = await setup();
    await expectRefused(t, await t.whoami({ authorization: `Bearer ${await t.mint({}, { typ: 'JWT' })}` }), 'TOKEN_INVALID', 'TOKEN_INVALID');
  });

  it('refuses a token of ours with an unknown purpose', async () => {
    const t = await setup();
    await expectRefused(t, await t.whoami({ authorization: `Bearer ${await t.mint({ purpose: 'marketing' })}` }), 'TOKEN_INVALID', 'TOKEN_INVALID');
  });

  it('refuses an IdP login token instead of ours', async () => {
    const t = await setup();
    await expectRefused(t, await t.whoami({ authorization: `Bearer ${await t.login()}` }), 'TOKEN_INVALID', 'TOKEN_INVALID');
  });

  it('answers 503 when the refusal cannot be logged', async () => {
    const t = await setup();
    t.db.$client.exec("CREATE TRIGGER audit_fail BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    const res = await t.whoami();
    expect(res.status).toBe(503);
    expect(((await res.json()) as Problem).code).toBe('AUDIT_WRITE_FAILED');
  });
});

describe('requireAccessToken: DPoP-bound tokens (RFC 9449)', () => {
  const url = `${PUBLIC_URL}/v1/whoami`;

  async function bound(env: Record<string, string> = {}) {
    const t = await setup(env);
    const key = await dpopKey();
    const body = await t.issue({ dpop: await key.proof({ htm: 'POST', htu: `${PUBLIC_URL}/oauth/token`, iat: t.nowSeconds() }) });
    const token = body.access_token;
    const proofFor = (claims: Partial<{ htm: string; htu: string; iat: number; ath: string; jti: string }> = {}) =>
      key.proof({ htm: 'GET', htu: url, iat: t.nowSeconds(), ath: accessTokenHash(token), ...claims });
    return { ...t, key, body, token, proofFor };
  }

  it('binds the token to the proof key at the exchange', async () => {
    const t = await bound();
    expect(t.body.token_type).toBe('DPoP');
    expect(decodeJwt(t.token).cnf).toEqual({ jkt: await calculateJwkThumbprint(t.key.jwk) });
    expect(t.lastAudit()).toMatchObject({ action: 'token.issued' });
  });

  it('lets a bound token through with a matching proof, ignoring the query', async () => {
    const t = await bound();
    expect((await t.whoami({ authorization: `DPoP ${t.token}`, dpop: await t.proofFor() })).status).toBe(200);
    expect((await t.whoami({ authorization: `DPoP ${t.token}`, dpop: await t.proofFor() }, '/v1/whoami?x=1')).status).toBe(200);
  });

  it('refuses a bound token without a proof', async () => {
    const t = await bound();
    const res = await t.whoami({ authorization: `DPoP ${t.token}` });
    await expectRefused(t, res, 'DPOP_INVALID', 'DPOP_PROOF_MISSING');
    expect(res.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_dpop_proof"/);
    expect(t.lastAudit()).toMatchObject({ actor: { sub: 'user-1' }, purpose: 'overdracht-kp4', tokenId: decodeJwt(t.token).jti, clientRef: 'WZR-100001' });
  });

  it('refuses a bound token presented as a bearer token', async () => {
    const t = await bound();
    await expectRefused(t, await t.whoami({ authorization: `Bearer ${t.token}`, dpop: await t.proofFor() }), 'DPOP_INVALID', 'DPOP_SCHEME_REQUIRED');
  });

  it('refuses a replayed proof', async () => {
    const t = await bound();
    const proof = await t.proofFor();
    expect((await t.whoami({ authorization: `DPoP ${t.token}`, dpop: proof })).status).toBe(200);
    await expectRefused(t, await t.whoami({ authorization: `DPoP ${t.token}`, dpop: proof }), 'DPOP_INVALID', 'DPOP_REPLAYED');
  });

  it('refuses a proof for another URL', async () => {
    const t = await bound();
    await expectRefused(
      t,
      await t.whoami({ authorization: `DPoP ${t.token}`, dpop: await t.proofFor({ htu: `${PUBLIC_URL}/v1/clients` }) }),
      'DPOP_INVALID',
      'DPOP_URL_MISMATCH',
    );
    await expectRefused(
      t,
      await t.whoami({ authorization: `DPoP ${t.token}`, dpop: await t.proofFor({ htu: 'https://elsewhere.example/v1/whoami' }) }),
      'DPOP_INVALID',
      'DPOP_URL_MISMATCH',
    );
  });

  it('refuses a proof for another method', async () => {
    const t = await bound();
    await expectRefused(
      t,
      await t.whoami({ authorization: `DPoP ${t.token}`, dpop: await t.proofFor({ htm: 'POST' }) }),
      'DPOP_INVALID',
      'DPOP_METHOD_MISMATCH',
    );
  });

  it('refuses a proof made with another key', async () => {
    const t = await bound();
    const other = await dpopKey();
    const proof = await other.proof({ htm: 'GET', htu: url, iat: t.nowSeconds(), ath: accessTokenHash(t.token) });
    await expectRefused(t, await t.whoami({ authorization: `DPoP ${t.token}`, dpop: proof }), 'DPOP_INVALID', 'DPOP_KEY_MISMATCH');
  });

  it('refuses a proof whose header key did not sign it', async () => {
    const t = await bound();
    const other = await dpopKey();
    const proof = await t.key.proof({ htm: 'GET', htu: url, iat: t.nowSeconds(), ath: accessTokenHash(t.token) }, other.privateKey);
    await expectRefused(t, await t.whoami({ authorization: `DPoP ${t.token}`, dpop: proof }), 'DPOP_INVALID', 'DPOP_PROOF_INVALID');
  });

  it('refuses a proof without the hash of this token', async () => {
    const t = await bound();
    await expectRefused(
      t,
      await t.whoami({ authorization: `DPoP ${t.token}`, dpop: await t.proofFor({ ath: accessTokenHash('another token') }) }),
      'DPOP_INVALID',
      'DPOP_ATH_MISMATCH',
    );
  });

  it('refuses a stale proof', async () => {
    const t = await bound();
    await expectRefused(
      t,
      await t.whoami({ authorization: `DPoP ${t.token}`, dpop: await t.proofFor({ iat: t.nowSeconds() - 120 }) }),
      'DPOP_INVALID',
      'DPOP_PROOF_INVALID',
    );
  });

  it('refuses an exchange with an invalid proof', async () => {
    const t = await setup();
    const key = await dpopKey();
    const res = await t.exchange(t.exchangeForm(await t.login(), { purpose: 'overdracht-kp4', client: 'WZR-100001' }), {
      dpop: await key.proof({ htm: 'POST', htu: `${PUBLIC_URL}/v1/whoami`, iat: t.nowSeconds() }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as TokenBody).error).toBe('invalid_dpop_proof');
    // RFC 9449 §5: the token endpoint answers with the RFC 6749 body only; the challenge is the resource server's.
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(t.lastAudit()).toMatchObject({ action: 'token.refused', reason: 'DPOP_URL_MISMATCH' });
  });
});

describe('requireAccessToken: DOELPOORT_REQUIRE_DPOP=1', () => {
  it('refuses an exchange without a proof', async () => {
    const t = await setup({ DOELPOORT_REQUIRE_DPOP: '1' });
    const res = await t.exchange(t.exchangeForm(await t.login(), { purpose: 'overdracht-kp4', client: 'WZR-100001' }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as TokenBody).error).toBe('invalid_dpop_proof');
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(t.lastAudit()).toMatchObject({ action: 'token.refused', reason: 'DPOP_REQUIRED' });
  });

  it('refuses a bearer token', async () => {
    const t = await setup({ DOELPOORT_REQUIRE_DPOP: '1' });
    const res = await t.whoami({ authorization: `Bearer ${await t.mint()}` });
    await expectRefused(t, res, 'DPOP_INVALID', 'DPOP_REQUIRED');
  });

  it('still accepts a DPoP-bound token with its proof', async () => {
    const t = await setup({ DOELPOORT_REQUIRE_DPOP: '1' });
    const key = await dpopKey();
    const { access_token } = await t.issue({ dpop: await key.proof({ htm: 'POST', htu: `${PUBLIC_URL}/oauth/token`, iat: t.nowSeconds() }) });
    const proof = await key.proof({ htm: 'GET', htu: `${PUBLIC_URL}/v1/whoami`, iat: t.nowSeconds(), ath: accessTokenHash(access_token) });
    expect((await t.whoami({ authorization: `DPoP ${access_token}`, dpop: proof })).status).toBe(200);
  });
});
