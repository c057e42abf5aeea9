import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { exchangeToken } from '../src/tokens/exchange.js';
import { type BothCtx, breakAuditWrites, forEachDatabase } from './both-databases.js';
import { IDP_AUDIENCE, IDP_ISSUER, PUBLIC_URL, EXCHANGE_GRANT, JWT_TYPE, TEST_CLIENT_ID } from './token-support.js';

/** A token endpoint response body. */
type TokenBody = { error?: string; error_description?: string; access_token?: string };
const body = async (res: Response) => (await res.json()) as TokenBody;

const ACCESS_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

forEachDatabase((setup) => {
  describe('POST /oauth/token: happy path for every purpose', () => {
    const cases = [
      { purpose: 'overdracht-kp4', role: 'participatiecoach', org: 'GM1960', detail: { client: 'WZR-100001' }, client: 'WZR-100001' },
      { purpose: 'overdracht-kp4', role: 'participatiecoach', org: 'GM1740', detail: { client: 'WZR-100002' }, client: 'WZR-100002' },
      { purpose: 'begeleiding-kp4', role: 'participatiecoach', org: 'GM0668', detail: { client: 'WZR-100005' }, client: 'WZR-100005' },
      { purpose: 'overdracht-kp3', role: 'werkcoach', org: 'WERKZAAK', detail: { client: 'WZR-100003' }, client: 'WZR-100003' },
      { purpose: 'schuldhulpverlening', role: 'schuldhulpverlener', org: 'GM0281', detail: { client: 'WZR-100004' }, client: 'WZR-100004' },
      { purpose: 'schuldhulpverlening', role: 'schuldhulpverlener', org: 'GM0281', detail: { bsn: '101013036' }, client: 'WZR-100004' },
      { purpose: 'schuldhulpverlening', role: 'schuldhulpverlener', org: 'GM0281', detail: {}, client: undefined },
      { purpose: 'toezicht', role: 'privacy-officer', org: 'WERKZAAK', detail: {}, client: undefined },
      { purpose: 'beleidsbeheer', role: 'privacy-officer', org: 'GM1960', detail: {}, client: undefined },
    ] as const;

    for (const c of cases) {
      it(`issues ${c.purpose} to a ${c.role} of ${c.org}${'bsn' in c.detail ? ' (by BSN)' : c.client ? '' : ' (no client)'}`, async () => {
        const t = await setup();
        const res = await t.exchange(t.exchangeForm(await t.login({ role: c.role, org: c.org }), { purpose: c.purpose, ...c.detail }));
        expect(res.status).toBe(200);
        expect(res.headers.get('cache-control')).toBe('no-store');
        const text = await res.text();
        expect(text).not.toContain('101013036');
        const body = JSON.parse(text);
        expect(body).toMatchObject({ issued_token_type: ACCESS_TYPE, token_type: 'Bearer', expires_in: 300 });
        expect(body.authorization_details).toEqual([
          { type: 'doelbinding', purpose: c.purpose, processingActivityId: expect.stringMatching(/^WZR-VA-/), ...(c.client ? { client: c.client } : {}) },
        ]);
        expect(decodeProtectedHeader(body.access_token)).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) });
        const claims = decodeJwt(body.access_token);
        expect(claims).toMatchObject({
          iss: PUBLIC_URL,
          aud: PUBLIC_URL,
          sub: 'user-1',
          role: c.role,
          org: c.org,
          purpose: c.purpose,
          client_id: TEST_CLIENT_ID,
        });
        expect(claims.client).toBe(c.client);
        expect(claims.exp! - claims.iat!).toBe(300);
        expect(await t.lastAudit()).toMatchObject({
          action: 'token.issued',
          outcome: 'permit',
          reason: 'PERMIT',
          httpStatus: 200,
          purpose: c.purpose,
          tokenId: claims.jti,
          clientId: TEST_CLIENT_ID,
          channel: 'api',
          actor: { sub: 'user-1', role: c.role, org: c.org },
          ...(c.client ? { clientRef: c.client } : {}),
        });
        if ('bsn' in c.detail) expect((await t.lastAudit())!.bsnPseudonym).toBe(t.audit.pseudonym('101013036'));
      });
    }

    it('publishes the signing key at /.well-known/jwks.json', async () => {
      const t = await setup();
      const issued = await body(await t.exchange(t.exchangeForm(await t.login(), { purpose: 'overdracht-kp4', client: 'WZR-100001' })));
      const jwks = (await (await t.app.request('/.well-known/jwks.json')).json()) as { keys: Array<Record<string, unknown>> };
      expect(jwks.keys.map((k) => k.kid)).toContain(decodeProtectedHeader(issued.access_token!).kid);
      expect(jwks.keys.every((k) => !('d' in k))).toBe(true);
    });
  });

  describe('POST /oauth/token: refused subject tokens (400 invalid_grant)', () => {
    const matrix: Array<[string, (t: BothCtx) => Promise<string>, string]> = [
      [
        'an untrusted key under the trusted issuer name',
        async (t) => t.login({}, { key: (await generateKeyPair('ES256')).privateKey }),
        'SUBJECT_TOKEN_SIGNATURE_INVALID',
      ],
      ['an untrusted issuer', (t) => t.login({ iss: 'https://evil.example' }), 'SUBJECT_TOKEN_ISSUER_UNTRUSTED'],
      ['an expired token', (t) => t.login({ iat: t.nowSeconds() - 3600, exp: t.nowSeconds() - 61 }), 'SUBJECT_TOKEN_EXPIRED'],
      ['a token not yet valid (nbf)', (t) => t.login({ nbf: t.nowSeconds() + 120 }), 'SUBJECT_TOKEN_NOT_YET_VALID'],
      ['a token issued in the future (iat)', (t) => t.login({ iat: t.nowSeconds() + 120, exp: t.nowSeconds() + 600 }), 'SUBJECT_TOKEN_NOT_YET_VALID'],
      ['a wrong audience', (t) => t.login({ aud: 'someone-else' }), 'SUBJECT_TOKEN_WRONG_AUDIENCE'],
      [
        'alg none',
        async (t) =>
          new UnsecuredJWT({ role: 'participatiecoach', org: 'GM1960' })
            .setIssuer(IDP_ISSUER)
            .setAudience(IDP_AUDIENCE)
            .setSubject('user-1')
            .setIssuedAt(t.nowSeconds())
            .setExpirationTime(t.nowSeconds() + 600)
            .encode(),
        'SUBJECT_TOKEN_ALG_NOT_ALLOWED',
      ],
      [
        'HS256 signed with the public key as secret',
        async (t) =>
          new SignJWT({ role: 'participatiecoach', org: 'GM1960' })
            .setProtectedHeader({ alg: 'HS256', kid: 'idp-1' })
            .setIssuer(IDP_ISSUER)
            .setAudience(IDP_AUDIENCE)
            .setSubject('user-1')
            .setIssuedAt(t.nowSeconds())
            .setExpirationTime(t.nowSeconds() + 600)
            .sign(new TextEncoder().encode(JSON.stringify(t.idpJwk))),
        'SUBJECT_TOKEN_ALG_NOT_ALLOWED',
      ],
      ['a missing role', (t) => t.login({ role: undefined }), 'SUBJECT_TOKEN_CLAIMS_INVALID'],
      ['an unknown role', (t) => t.login({ role: 'boss' }), 'SUBJECT_TOKEN_CLAIMS_INVALID'],
      ['a missing org', (t) => t.login({ org: undefined }), 'SUBJECT_TOKEN_CLAIMS_INVALID'],
      ['an unknown org', (t) => t.login({ org: 'Gemeente X' }), 'SUBJECT_TOKEN_CLAIMS_INVALID'],
      ['a missing sub', (t) => t.login({ sub: undefined }), 'SUBJECT_TOKEN_CLAIMS_INVALID'],
      ['a missing exp', (t) => t.login({ exp: undefined }), 'SUBJECT_TOKEN_CLAIMS_INVALID'],
      ['not a JWT', async () => 'not-a-token', 'SUBJECT_TOKEN_MALFORMED'],
      [
        'our own access token',
        async (t) => {
          const res = await t.exchange(t.exchangeForm(await t.login(), { purpose: 'overdracht-kp4', client: 'WZR-100001' }));
          return ((await res.json()) as { access_token: string }).access_token;
        },
        'SUBJECT_TOKEN_IS_ACCESS_TOKEN',
      ],
    ];

    for (const [name, mint, reason] of matrix) {
      it(`refuses ${name}`, async () => {
        const t = await setup();
        const res = await t.exchange(t.exchangeForm(await mint(t), { purpose: 'overdracht-kp4', client: 'WZR-100001' }));
        expect(res.status).toBe(400);
        const body = await res.json();
        expect(body).toEqual({ error: 'invalid_grant', error_description: expect.any(String) });
        expect(res.headers.get('cache-control')).toBe('no-store');
        expect(await t.lastAudit()).toMatchObject({
          action: 'token.refused',
          outcome: 'deny',
          reason,
          httpStatus: 400,
          purpose: 'overdracht-kp4',
          processingActivityId: 'WZR-VA-011',
        });
        expect((await t.lastAudit())!.actor).toBeUndefined();
      });
    }
  });

  describe('POST /oauth/token: malformed requests (400)', () => {
    const detail = JSON.stringify([{ type: 'doelbinding', purpose: 'overdracht-kp4', client: 'WZR-100001' }]);
    const matrix: Array<[string, (login: string) => Record<string, string> | Array<[string, string]>, string, string]> = [
      [
        'another grant type',
        (login) => ({ grant_type: 'password', subject_token: login, subject_token_type: JWT_TYPE, authorization_details: detail }),
        'unsupported_grant_type',
        'GRANT_TYPE_UNSUPPORTED',
      ],
      [
        'no grant type',
        (login) => ({ subject_token: login, subject_token_type: JWT_TYPE, authorization_details: detail }),
        'invalid_request',
        'GRANT_TYPE_MISSING',
      ],
      [
        'no subject token',
        () => ({ grant_type: EXCHANGE_GRANT, subject_token_type: JWT_TYPE, authorization_details: detail }),
        'invalid_request',
        'PARAMETER_SUBJECT_TOKEN_INVALID',
      ],
      [
        'another subject token type',
        (login) => ({
          grant_type: EXCHANGE_GRANT,
          subject_token: login,
          subject_token_type: 'urn:ietf:params:oauth:token-type:saml2',
          authorization_details: detail,
        }),
        'invalid_request',
        'PARAMETER_SUBJECT_TOKEN_TYPE_INVALID',
      ],
      [
        'no authorization_details',
        (login) => ({ grant_type: EXCHANGE_GRANT, subject_token: login, subject_token_type: JWT_TYPE }),
        'invalid_request',
        'PARAMETER_AUTHORIZATION_DETAILS_INVALID',
      ],
      [
        'authorization_details that are not JSON',
        (login) => ({ grant_type: EXCHANGE_GRANT, subject_token: login, subject_token_type: JWT_TYPE, authorization_details: '[{' }),
        'invalid_request',
        'AUTHORIZATION_DETAILS_INVALID',
      ],
      [
        'authorization_details as an object, not a list',
        (login) => ({
          grant_type: EXCHANGE_GRANT,
          subject_token: login,
          subject_token_type: JWT_TYPE,
          authorization_details: JSON.stringify({ type: 'doelbinding', purpose: 'toezicht' }),
        }),
        'invalid_request',
        'AUTHORIZATION_DETAILS_INVALID',
      ],
      [
        'two authorization_details objects',
        (login) => ({
          grant_type: EXCHANGE_GRANT,
          subject_token: login,
          subject_token_type: JWT_TYPE,
          authorization_details: JSON.stringify([
            { type: 'doelbinding', purpose: 'toezicht' },
            { type: 'doelbinding', purpose: 'beleidsbeheer' },
          ]),
        }),
        'invalid_request',
        'AUTHORIZATION_DETAILS_INVALID',
      ],
      [
        'an empty authorization_details list',
        (login) => ({ grant_type: EXCHANGE_GRANT, subject_token: login, subject_token_type: JWT_TYPE, authorization_details: '[]' }),
        'invalid_request',
        'AUTHORIZATION_DETAILS_INVALID',
      ],
      [
        'another type of authorization detail',
        (login) => ({
          grant_type: EXCHANGE_GRANT,
          subject_token: login,
          subject_token_type: JWT_TYPE,
          authorization_details: JSON.stringify([{ type: 'payment', purpose: 'toezicht' }]),
        }),
        'invalid_request',
        'AUTHORIZATION_DETAILS_INVALID',
      ],
      [
        'an unknown key in the detail',
        (login) => ({
          grant_type: EXCHANGE_GRANT,
          subject_token: login,
          subject_token_type: JWT_TYPE,
          authorization_details: JSON.stringify([{ type: 'doelbinding', purpose: 'overdracht-kp4', client: 'WZR-100001', klant: 'x' }]),
        }),
        'invalid_request',
        'AUTHORIZATION_DETAILS_INVALID',
      ],
      [
        'a repeated authorization_details parameter',
        (login) => [
          ['grant_type', EXCHANGE_GRANT],
          ['subject_token', login],
          ['subject_token_type', JWT_TYPE],
          ['authorization_details', detail],
          ['authorization_details', detail],
        ],
        'invalid_request',
        'PARAMETER_REPEATED',
      ],
      [
        'an unknown purpose',
        (login) => ({
          grant_type: EXCHANGE_GRANT,
          subject_token: login,
          subject_token_type: JWT_TYPE,
          authorization_details: JSON.stringify([{ type: 'doelbinding', purpose: 'marketing', client: 'WZR-100001' }]),
        }),
        'invalid_request',
        'PURPOSE_UNKNOWN',
      ],
      [
        'a client for toezicht',
        (login) => ({
          grant_type: EXCHANGE_GRANT,
          subject_token: login,
          subject_token_type: JWT_TYPE,
          authorization_details: JSON.stringify([{ type: 'doelbinding', purpose: 'toezicht', client: 'WZR-100001' }]),
        }),
        'invalid_request',
        'PURPOSE_TAKES_NO_CLIENT',
      ],
      [
        'a BSN for another purpose than schuldhulpverlening',
        (login) => ({
          grant_type: EXCHANGE_GRANT,
          subject_token: login,
          subject_token_type: JWT_TYPE,
          authorization_details: JSON.stringify([{ type: 'doelbinding', purpose: 'overdracht-kp4', bsn: '101010011' }]),
        }),
        'invalid_request',
        'BSN_NOT_FOR_PURPOSE',
      ],
      [
        'a malformed BSN',
        (login) => ({
          grant_type: EXCHANGE_GRANT,
          subject_token: login,
          subject_token_type: JWT_TYPE,
          authorization_details: JSON.stringify([{ type: 'doelbinding', purpose: 'schuldhulpverlening', bsn: '123456789' }]),
        }),
        'invalid_request',
        'AUTHORIZATION_DETAILS_INVALID',
      ],
    ];

    for (const [name, form, error, reason] of matrix) {
      it(`refuses ${name}`, async () => {
        const t = await setup();
        const res = await t.exchange(form(await t.login()));
        expect(res.status).toBe(400);
        expect(await res.json()).toEqual({ error, error_description: expect.any(String) });
        expect(await t.lastAudit()).toMatchObject({ action: 'token.refused', outcome: 'deny', reason, httpStatus: 400 });
      });
    }

    it('refuses a JSON body (form encoding only)', async () => {
      const t = await setup();
      const res = await t.app.request('/oauth/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(res.status).toBe(400);
      expect((await body(res)).error).toBe('invalid_request');
      expect(await t.lastAudit()).toMatchObject({ action: 'token.refused', reason: 'CONTENT_TYPE_UNSUPPORTED' });
    });

    it('never echoes the subject token or a parameter value in an error', async () => {
      const t = await setup();
      const login = await t.login({ aud: 'someone-else' });
      const text = await (await t.exchange(t.exchangeForm(login, { purpose: 'overdracht-kp4', client: 'WZR-100001' }))).text();
      expect(text).not.toContain(login.split('.')[1]!);
      expect(text).not.toContain('WZR-100001');
    });
  });

  describe('POST /oauth/token: purpose, role, organisation and relationship (403 access_denied)', () => {
    const matrix: Array<[string, Record<string, unknown>, Record<string, unknown>, string]> = [
      [
        'a werkcoach asking overdracht-kp4',
        { role: 'werkcoach', org: 'WERKZAAK' },
        { purpose: 'overdracht-kp4', client: 'WZR-100001' },
        'PURPOSE_NOT_FOR_ROLE',
      ],
      [
        'a schuldhulpverlener asking begeleiding-kp4',
        { role: 'schuldhulpverlener', org: 'GM0668' },
        { purpose: 'begeleiding-kp4', client: 'WZR-100005' },
        'PURPOSE_NOT_FOR_ROLE',
      ],
      [
        'a participatiecoach asking overdracht-kp3',
        { role: 'participatiecoach', org: 'GM0297' },
        { purpose: 'overdracht-kp3', client: 'WZR-100003' },
        'PURPOSE_NOT_FOR_ROLE',
      ],
      [
        'a participatiecoach asking schuldhulpverlening',
        { role: 'participatiecoach', org: 'GM0281' },
        { purpose: 'schuldhulpverlening', client: 'WZR-100004' },
        'PURPOSE_NOT_FOR_ROLE',
      ],
      ['a participatiecoach asking toezicht', { role: 'participatiecoach', org: 'GM1960' }, { purpose: 'toezicht' }, 'PURPOSE_NOT_FOR_ROLE'],
      ['a werkcoach asking beleidsbeheer', { role: 'werkcoach', org: 'WERKZAAK' }, { purpose: 'beleidsbeheer' }, 'PURPOSE_NOT_FOR_ROLE'],
      [
        'a privacy officer asking overdracht-kp4',
        { role: 'privacy-officer', org: 'GM1960' },
        { purpose: 'overdracht-kp4', client: 'WZR-100001' },
        'PURPOSE_NOT_FOR_ROLE',
      ],
      ['a privacy officer asking schuldhulpverlening', { role: 'privacy-officer', org: 'GM0281' }, { purpose: 'schuldhulpverlening' }, 'PURPOSE_NOT_FOR_ROLE'],
      ['a werkcoach of a municipality', { role: 'werkcoach', org: 'GM0297' }, { purpose: 'overdracht-kp3', client: 'WZR-100003' }, 'ORGANISATION_NOT_FOR_ROLE'],
      [
        'a participatiecoach of Werkzaak',
        { role: 'participatiecoach', org: 'WERKZAAK' },
        { purpose: 'overdracht-kp4', client: 'WZR-100001' },
        'ORGANISATION_NOT_FOR_ROLE',
      ],
      [
        'a coach of another municipality (overdracht-kp4)',
        { org: 'GM0214' },
        { purpose: 'overdracht-kp4', client: 'WZR-100001' },
        'NO_HANDOVER_TO_ORGANISATION',
      ],
      ['a handover finished too long ago', { org: 'GM0297' }, { purpose: 'overdracht-kp4', client: 'WZR-100003' }, 'HANDOVER_CLOSED'],
      ['a handover finished 200 days ago', { org: 'GM0214' }, { purpose: 'overdracht-kp4', client: 'WZR-100006' }, 'HANDOVER_CLOSED'],
      ['begeleiding of a client who is not KP4', { org: 'GM1960' }, { purpose: 'begeleiding-kp4', client: 'WZR-100001' }, 'CLIENT_NOT_KP4'],
      [
        'begeleiding of a KP4 client in another municipality',
        { org: 'GM1960' },
        { purpose: 'begeleiding-kp4', client: 'WZR-100005' },
        'CLIENT_IN_OTHER_MUNICIPALITY',
      ],
      [
        'overdracht-kp3 without a KP4→KP3 handover',
        { role: 'werkcoach', org: 'WERKZAAK' },
        { purpose: 'overdracht-kp3', client: 'WZR-100001' },
        'NO_HANDOVER_TO_ORGANISATION',
      ],
      [
        'schuldhulp without a trajectory',
        { role: 'schuldhulpverlener', org: 'GM1960' },
        { purpose: 'schuldhulpverlening', client: 'WZR-100001' },
        'NO_ACTIVE_TRAJECTORY',
      ],
      [
        'schuldhulp by a counsellor of another municipality',
        { role: 'schuldhulpverlener', org: 'GM1960' },
        { purpose: 'schuldhulpverlening', bsn: '101013036' },
        'NO_ACTIVE_TRAJECTORY',
      ],
      ['an unknown client', { org: 'GM1960' }, { purpose: 'overdracht-kp4', client: 'WZR-999999' }, 'CLIENT_UNKNOWN'],
      ['an unknown BSN', { role: 'schuldhulpverlener', org: 'GM0281' }, { purpose: 'schuldhulpverlening', bsn: '111222333' }, 'CLIENT_UNKNOWN'],
    ];

    for (const [name, claims, detail, reason] of matrix) {
      it(`denies ${name}`, async () => {
        const t = await setup();
        const res = await t.exchange(t.exchangeForm(await t.login(claims), detail));
        expect(res.status).toBe(403);
        expect((await body(res)).error).toBe('access_denied');
        const entry = (await t.lastAudit())!;
        expect(entry).toMatchObject({ action: 'token.refused', outcome: 'deny', reason, httpStatus: 403, purpose: detail.purpose, actor: { sub: 'user-1' } });
        expect(entry.tokenId).toBeUndefined();
        if (detail.bsn) expect(entry.bsnPseudonym).toBe(t.audit.pseudonym(String(detail.bsn)));
        expect(JSON.stringify(await t.auditEntries())).not.toContain('101013036');
      });
    }

    it('answers an unknown client exactly like a client without a relationship', async () => {
      const t = await setup();
      const unknown = await t.exchange(t.exchangeForm(await t.login({ org: 'GM0214' }), { purpose: 'overdracht-kp4', client: 'WZR-999999' }));
      const unrelated = await t.exchange(t.exchangeForm(await t.login({ org: 'GM0214' }), { purpose: 'overdracht-kp4', client: 'WZR-100001' }));
      expect(unknown.status).toBe(unrelated.status);
      expect(await unknown.json()).toEqual(await unrelated.json());
    });
  });

  describe('POST /oauth/token: no log, no token', () => {
    it('answers 503 and issues nothing when the audit line cannot be written', async () => {
      const t = await setup();
      await breakAuditWrites(t);
      const res = await t.exchange(t.exchangeForm(await t.login(), { purpose: 'overdracht-kp4', client: 'WZR-100001' }));
      expect(res.status).toBe(503);
      const answer = await body(res);
      expect(answer.error).toBe('temporarily_unavailable');
      expect(answer.access_token).toBeUndefined();
    });
  });

  describe(exchangeToken.name, () => {
    const facts = { trace: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) }, origin: 'cli' };
    const statusOf = (error: string | undefined) => (error === undefined ? 200 : error === 'access_denied' ? 403 : 400);
    const form = (fields: Record<string, string>, auth: Record<string, string>) => ({
      contentType: 'application/x-www-form-urlencoded',
      body: new URLSearchParams({ ...fields, ...auth }).toString(),
      dpopProof: undefined,
      httpAuthentication: false,
    });

    it('is the same verb without HTTP: the outcome as a value, once its line is in the log', async () => {
      const t = await setup();
      const deps = { tokens: t.tokens, records: t.records, uow: t.uow, pseudonym: (bsn: string) => t.audit.pseudonym(bsn), statusOf };
      const before = (await t.auditEntries()).length;
      const outcome = await exchangeToken(
        form(
          t.exchangeForm(await t.login({ role: 'schuldhulpverlener', org: 'GM0281' }), { purpose: 'schuldhulpverlening', bsn: '101013036' }),
          await t.clientAuth(),
        ),
        facts,
        deps,
      );
      expect(outcome.ok).toBe(true);
      if (!outcome.ok) return;
      expect(outcome.value.grant).toMatchObject({ purpose: 'schuldhulpverlening', client: 'WZR-100004' });
      expect((await t.auditEntries()).slice(before)).toEqual([
        expect.objectContaining({
          action: 'token.issued',
          outcome: 'permit',
          origin: 'cli',
          httpStatus: 200,
          clientRef: 'WZR-100004',
          tokenId: outcome.value.issued.jti,
          bsnPseudonym: t.audit.pseudonym('101013036'),
        }),
      ]);

      const refused = await exchangeToken(
        form(t.exchangeForm(await t.login({ org: 'GM0214' }), { purpose: 'overdracht-kp4', client: 'WZR-100001' }), await t.clientAuth()),
        facts,
        deps,
      );
      expect(refused).toMatchObject({ ok: false, error: 'access_denied', reason: 'NO_HANDOVER_TO_ORGANISATION' });
      expect(await t.lastAudit()).toMatchObject({
        action: 'token.refused',
        outcome: 'deny',
        reason: 'NO_HANDOVER_TO_ORGANISATION',
        httpStatus: 403,
        actor: { org: 'GM0214' },
      });
      expect(JSON.stringify(await t.auditEntries())).not.toContain('101013036');
    });

    it('rejects with AUDIT_WRITE_FAILED, and gives no token, when its line cannot be written', async () => {
      const t = await setup();
      const deps = { tokens: t.tokens, records: t.records, uow: t.uow, pseudonym: (bsn: string) => t.audit.pseudonym(bsn), statusOf };
      await breakAuditWrites(t);
      const login = await t.login();
      const input = form(t.exchangeForm(login, { purpose: 'overdracht-kp4', client: 'WZR-100001' }), await t.clientAuth());
      await expect(exchangeToken(input, facts, deps)).rejects.toMatchObject({
        code: 'AUDIT_WRITE_FAILED',
      });
    });
  });
});
