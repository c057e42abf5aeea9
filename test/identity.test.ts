import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { describe, expect, it } from 'vitest';
import { accessToken, send } from './security-matrix.js';
import { type BothCtx, type BothSetup, forEachDatabase } from './both-databases.js';
import { IDP_AUDIENCE, IDP_ISSUER, PUBLIC_URL } from './token-support.js';

/** A provider of Tiel: trusted, but listed only for GM0281. */
const TIEL_ISSUER = 'https://login.tiel.example';
const HOUR = 3600;

async function withTielProvider(setup: BothSetup) {
  const tiel = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(tiel.publicKey)), kid: 'tiel-1', alg: 'ES256' };
  const t = await setup({}, { extraIdps: [{ issuer: TIEL_ISSUER, audience: IDP_AUDIENCE, organisations: ['GM0281'], jwks: { keys: [jwk] } }] });
  const tielLogin = (claims: Record<string, unknown>) => {
    const iat = t.nowSeconds();
    return new SignJWT({ iss: TIEL_ISSUER, aud: IDP_AUDIENCE, sub: 'tiel-user', iat, exp: iat + 600, ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'tiel-1', typ: 'JWT' })
      .sign(tiel.privateKey as CryptoKey);
  };
  return { ...t, tielLogin };
}

forEachDatabase((setup) => {
  describe('an identity provider vouches only for its own organisations', () => {
    it.each([
      ['a participatiecoach of West Betuwe', { role: 'participatiecoach', org: 'GM1960' }, { purpose: 'overdracht-kp4', client: 'WZR-100001' }],
      ['a werkcoach of Werkzaak', { role: 'werkcoach', org: 'WERKZAAK' }, { purpose: 'overdracht-kp3', client: 'WZR-100003' }],
      ['a privacy officer of Werkzaak', { role: 'privacy-officer', org: 'WERKZAAK' }, { purpose: 'toezicht' }],
    ])('refuses the Tiel provider’s login as %s (400 invalid_grant), audited with its own code', async (_, claims, detail) => {
      const t = await withTielProvider(setup);
      const before = (await t.auditEntries()).length;
      const res = await t.exchange(t.exchangeForm(await t.tielLogin(claims), detail));
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
      const lines = (await t.auditEntries()).slice(before);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ action: 'token.refused', outcome: 'deny', reason: 'SUBJECT_TOKEN_ORGANISATION_NOT_VOUCHED', httpStatus: 400 });
      expect(lines[0]!.actor).toBeUndefined();
    });

    it('accepts the same provider’s login for the organisation it is listed for', async () => {
      const t = await withTielProvider(setup);
      const res = await t.exchange(
        t.exchangeForm(await t.tielLogin({ role: 'schuldhulpverlener', org: 'GM0281' }), { purpose: 'schuldhulpverlening', client: 'WZR-100004' }),
      );
      expect(res.status).toBe(200);
    });
  });

  describe('a person is (iss, sub)', () => {
    it('puts the login’s issuer into the access token (idp, beside iss = the gateway), the requester and the audit line', async () => {
      const t = await withTielProvider(setup);
      const res = await t.exchange(
        t.exchangeForm(await t.tielLogin({ role: 'schuldhulpverlener', org: 'GM0281' }), { purpose: 'schuldhulpverlening', client: 'WZR-100004' }),
      );
      const { access_token } = (await res.json()) as { access_token: string };
      expect(decodeJwt(access_token)).toMatchObject({ iss: PUBLIC_URL, idp: TIEL_ISSUER, sub: 'tiel-user' });
      expect(await t.lastAudit()).toMatchObject({
        action: 'token.issued',
        actor: { iss: TIEL_ISSUER, sub: 'tiel-user', role: 'schuldhulpverlener', org: 'GM0281' },
      });
      const read = await send(t, { method: 'GET', path: '/v1/clients/WZR-100004' }, access_token);
      expect(read.status).toBe(200);
      expect(await t.lastAudit()).toMatchObject({ action: 'record.read', actor: { iss: TIEL_ISSUER, sub: 'tiel-user' } });
    });

    it('refuses an access token of ours without the issuer claim (idp)', async () => {
      const t = await setup();
      const iat = t.nowSeconds();
      const { kid, alg, key } = t.tokens.keys.signing;
      const token = await new SignJWT({
        sub: 'user-1',
        role: 'participatiecoach',
        org: 'GM1960',
        purpose: 'overdracht-kp4',
        client: 'WZR-100001',
        jti: 'no-idp',
      })
        .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
        .setIssuer(PUBLIC_URL)
        .setAudience(PUBLIC_URL)
        .setIssuedAt(iat)
        .setExpirationTime(iat + 300)
        .sign(key);
      const res = await send(t, { method: 'GET', path: '/v1/clients/WZR-100001' }, token);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { code: string }).code).toBe('TOKEN_INVALID');
    });

    it('filters the audit log by the person, the pair: actor with actorIss, never the sub alone', async () => {
      const t = await setup();
      const toezicht = await accessToken(t, { user: { sub: 'po-anna', role: 'privacy-officer', org: 'WERKZAAK' }, purpose: 'toezicht' });
      for (const issuer of [IDP_ISSUER, TIEL_ISSUER]) {
        const read = await accessToken(t, {
          user: { issuer, sub: 'coach-1', role: 'participatiecoach', org: 'GM1960' },
          purpose: 'overdracht-kp4',
          client: 'WZR-100001',
        });
        expect((await send(t, { method: 'GET', path: '/v1/clients/WZR-100001' }, read)).status).toBe(200);
      }
      const query = (q: string) => send(t, { method: 'GET', path: `/v1/audit?${q}` }, toezicht);
      const subAlone = await query('actor=coach-1');
      expect(subAlone.status).toBe(400);
      const page = (await (await query(`actor=coach-1&actorIss=${encodeURIComponent(TIEL_ISSUER)}`)).json()) as {
        items: Array<{ entry: { actor: { iss: string } } }>;
      };
      expect(page.items).toHaveLength(1);
      expect(page.items[0]!.entry.actor.iss).toBe(TIEL_ISSUER);
    });
  });

  describe('a login token must expire within 12 hours', () => {
    /** A login signed by the test IdP with exactly these time claims (raw JSON, so 1e309 stays Infinity's spelling). */
    async function loginWith(t: BothCtx, times: { iat: number; exp: number | string }) {
      return t.login({ iat: times.iat, exp: times.exp });
    }
    const exchangeCoach = async (t: BothCtx, login: string) => t.exchange(t.exchangeForm(login, { purpose: 'overdracht-kp4', client: 'WZR-100001' }));

    it('refuses exp = 1e309 (Infinity in JSON)', async () => {
      const t = await setup();
      // SignJWT would write Infinity as null; build the payload text by hand, as an attacker would.
      const now = t.nowSeconds();
      const { CompactSign } = await import('jose');
      const payload = `{"iss":"${IDP_ISSUER}","aud":"${IDP_AUDIENCE}","sub":"user-1","iat":${now},"exp":1e309,"role":"participatiecoach","org":"GM1960"}`;
      const login = await new CompactSign(new TextEncoder().encode(payload))
        .setProtectedHeader({ alg: 'ES256', kid: 'idp-1', typ: 'JWT' })
        .sign(t.idp.privateKey);
      const res = await exchangeCoach(t, login);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
      expect(await t.lastAudit()).toMatchObject({ action: 'token.refused', reason: 'SUBJECT_TOKEN_CLAIMS_INVALID' });
    });

    it.each([
      ['exp in the year 3000', (now: number) => ({ iat: now, exp: Date.parse('3000-01-01T00:00:00Z') / 1000 }), 'SUBJECT_TOKEN_LIFETIME_TOO_LONG'],
      ['a lifetime of 12 h + 1 s', (now: number) => ({ iat: now, exp: now + 12 * HOUR + 1 }), 'SUBJECT_TOKEN_LIFETIME_TOO_LONG'],
      ['iat older than 12 h', (now: number) => ({ iat: now - 13 * HOUR, exp: now + 60 }), 'SUBJECT_TOKEN_TOO_OLD'],
    ])('refuses %s', async (_, times, reason) => {
      const t = await setup();
      const res = await exchangeCoach(t, await loginWith(t, times(t.nowSeconds())));
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
      expect(await t.lastAudit()).toMatchObject({ action: 'token.refused', outcome: 'deny', reason });
    });

    it('accepts a lifetime of exactly 12 h, and an iat 11 h old', async () => {
      const t = await setup();
      const now = t.nowSeconds();
      expect((await exchangeCoach(t, await loginWith(t, { iat: now, exp: now + 12 * HOUR }))).status).toBe(200);
      expect((await exchangeCoach(t, await loginWith(t, { iat: now - 11 * HOUR, exp: now + HOUR }))).status).toBe(200);
    });
  });

  describe('one token, one spelling', () => {
    const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    /** The same token with the signature's last character changed only in its unused low bits: the same bytes. */
    const respelled = (token: string) => token.slice(0, -1) + ALPHABET[ALPHABET.indexOf(token.at(-1)!) ^ 1];

    async function issued() {
      const t = await setup();
      const res = await t.exchange(t.exchangeForm(await t.login(), { purpose: 'overdracht-kp4', client: 'WZR-100001' }));
      const { access_token } = (await res.json()) as { access_token: string };
      return { t, token: access_token };
    }

    it.each([
      ['with == appended', (token: string) => `${token}==`],
      ['with = appended', (token: string) => `${token}=`],
      ['with a non-canonical last character', respelled],
    ])('refuses an access token %s on /v1 (401), also after the canonical one was cached', async (_, variant) => {
      const { t, token } = await issued();
      const read = (bearer: string) => send(t, { method: 'GET', path: '/v1/clients/WZR-100001' }, bearer);
      expect((await read(token)).status).toBe(200);
      const res = await read(variant(token));
      expect(res.status).toBe(401);
      expect(((await res.json()) as { code: string }).code).toBe('TOKEN_INVALID');
      expect(await t.lastAudit()).toMatchObject({ action: 'token.refused', outcome: 'deny', httpStatus: 401 });
    });

    it.each([
      ['with == appended', (token: string) => `${token}==`],
      ['with a non-canonical last character', respelled],
    ])('refuses a login token %s at /oauth/token (invalid_grant)', async (_, variant) => {
      const t = await setup();
      const login = await t.login();
      expect((await t.exchange(t.exchangeForm(login, { purpose: 'overdracht-kp4', client: 'WZR-100001' }))).status).toBe(200);
      const res = await t.exchange(t.exchangeForm(variant(login), { purpose: 'overdracht-kp4', client: 'WZR-100001' }));
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
      expect(await t.lastAudit()).toMatchObject({ action: 'token.refused', reason: 'SUBJECT_TOKEN_MALFORMED' });
    });
  });
});
