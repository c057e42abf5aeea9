import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEMO_ACCOUNTS } from '../src/demo/accounts.js';
import { DEMO_IDP_ORGANISATIONS } from '../src/tokens/demo-idp.js';
import { trustedIdp } from '../src/tokens/idps.js';
import { webRequestFacts, pruneSessions } from '../src/web/login.js';
import { OidcRelyingParty, webLoginProviders } from '../src/web/oidc.js';
import { BINDING_COOKIE, SESSION_COOKIE, safeReturnPath } from '../src/web/session.js';
import { type Database, forEachDatabase } from './both-databases.js';
import { setupApp, tempDir } from './support.js';
import { beginLogin, type BothWebServer, chooseAccount, csrfTokenIn, loginAs, startWebServer, WebAgent } from './web-support.js';

const COACH = 'demo-participatiecoach-gm1960';
const JWT = /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/;

let server: BothWebServer | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await server?.close();
  server = undefined;
});

/** The web application on `database`, without example records. */
async function startOn(database: Database, options: Parameters<typeof startWebServer>[0] = {}): Promise<BothWebServer> {
  server = await startWebServer({ records: false, ...options, database });
  return server;
}

const countOf = async (web: BothWebServer, table: string) => Number((await web.sql(`SELECT count(*) AS n FROM ${table}`))[0]!.n);
const sessionRows = (web: BothWebServer) => countOf(web, 'web_sessions');
const lastLine = async (web: BothWebServer) => (await web.auditEntries()).at(-1)!;

/** Makes every further `session.started` line fail to be written (a trigger refusing the insert). */
async function refuseSessionLines(web: BothWebServer): Promise<void> {
  if (web.database === 'sqlite') {
    await web.sql(`CREATE TRIGGER no_session_line BEFORE INSERT ON audit_log WHEN NEW.action = 'session.started' BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
    return;
  }
  await web.sql(`CREATE FUNCTION no_session_line() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$`);
  await web.sql(
    `CREATE TRIGGER no_session_line BEFORE INSERT ON audit_log FOR EACH ROW WHEN (NEW.action = 'session.started') EXECUTE FUNCTION no_session_line()`,
  );
}

/** A refused login: a Dutch page with the reason's code, no session, and one `session.refused` line with that reason. */
async function expectRefused(web: BothWebServer, res: Response, status: number, reason: string, actor?: Record<string, unknown>) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  expect(res.headers.get('cache-control')).toBe('no-store');
  const html = await res.text();
  expect(html).toContain('<html lang="nl">');
  expect(html).toContain(`<code>${reason}</code>`);
  expect(html).toContain('href="/">Opnieuw inloggen');
  expect(html).not.toMatch(JWT);
  expect(res.headers.getSetCookie().some((c) => c.startsWith(`${SESSION_COOKIE}=`) && !/Max-Age=0/.test(c))).toBe(false);
  expect(await sessionRows(web)).toBe(0);
  const line = await lastLine(web);
  expect(line).toMatchObject({ action: 'session.refused', outcome: 'deny', reason, httpStatus: status, channel: 'web', clientId: 'doelpoort-web' });
  if (actor) expect(line.actor).toEqual(actor);
  else expect(line.actor).toBeUndefined();
  expect(JSON.stringify(await web.auditEntries())).not.toMatch(JWT);
}

/** Begins a login as `sub` and stops at the provider's redirect back to the gateway. */
async function callbackFor(web: BothWebServer, sub: string, organisation?: string) {
  const agent = new WebAgent(web.origin);
  const account = DEMO_ACCOUNTS.find((a) => a.sub === sub);
  const callback = await chooseAccount(agent, await beginLogin(agent, organisation ?? account?.org ?? 'GM1960'), sub);
  return { agent, callback };
}

forEachDatabase((setup, database) => {
  const start = (options: Parameters<typeof startWebServer>[0] = {}) => startOn(database, options);

  describe('a login through the demo provider', () => {
    it('starts a session: the opaque cookie (HttpOnly, Secure, SameSite=Lax, Path=/, no Domain), the landing page, its line', async () => {
      const web = await start();
      const { agent, callback } = await callbackFor(web, COACH);
      expect(callback.searchParams.get('iss')).toBe(`${web.origin}/demo-idp`);
      const res = await agent.request(callback);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/start');
      const cookies = res.headers.getSetCookie();
      const session = cookies.find((c) => c.startsWith(`${SESSION_COOKIE}=`))!;
      expect(session).toMatch(/^__Host-doelpoort-sessie=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
      expect(cookies.some((c) => c.startsWith(`${BINDING_COOKIE}=;`) && /Max-Age=0/.test(c))).toBe(true);
      expect(agent.cookies.has(BINDING_COOKIE)).toBe(false);
      expect(await lastLine(web)).toEqual({
        action: 'session.started',
        traceId: expect.any(String),
        spanId: expect.any(String),
        origin: '127.0.0.1',
        channel: 'web',
        clientId: 'doelpoort-web',
        actor: { iss: `${web.origin}/demo-idp`, sub: COACH, role: 'participatiecoach', org: 'GM1960' },
        outcome: 'permit',
        reason: 'LOGIN',
        httpStatus: 303,
      });
      const landing = await agent.request('/start');
      const html = await landing.text();
      expect(html).toContain('Participatiecoach · West Betuwe');
      expect(html).not.toMatch(JWT);
      expect(csrfTokenIn(html)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });

    it('lands on the page asked for before the login, and never on another origin', async () => {
      const web = await start();
      expect((await loginAs(web, COACH, { returnTo: '/start?tab=2' })).landing.href).toBe(`${web.origin}/start?tab=2`);
      for (const evil of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', '/logout']) {
        expect((await loginAs(web, COACH, { returnTo: evil })).landing.href).toBe(`${web.origin}/start`);
      }
    });

    it('a new login in the same browser replaces the session: a new id, the old one ended (REPLACED)', async () => {
      const web = await start();
      const first = await loginAs(web, COACH);
      const { agent } = first;
      const callback = await chooseAccount(agent, await beginLogin(agent, 'GM0281'), 'demo-schuldhulpverlener-gm0281');
      await agent.request(callback);
      const second = agent.cookies.get(SESSION_COOKIE)!.value;
      expect(`${SESSION_COOKIE}=${second}`).not.toBe(first.cookie);
      expect(await sessionRows(web)).toBe(1);
      expect((await web.auditEntries()).map((e) => [e.action, e.reason])).toEqual([
        ['session.started', 'LOGIN'],
        ['session.ended', 'REPLACED'],
        ['session.started', 'LOGIN'],
      ]);
      expect((await web.app.request('/start', { headers: { cookie: first.cookie } })).status).toBe(303);
    });

    it('no line, no session: when session.started cannot be written, a 503 page and nothing stored', async () => {
      const web = await start();
      vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      await refuseSessionLines(web);
      const { agent, callback } = await callbackFor(web, COACH);
      const res = await agent.request(callback);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('doelpoort is tijdelijk niet beschikbaar');
      expect(res.headers.getSetCookie().some((c) => c.startsWith(`${SESSION_COOKIE}=`) && !/Max-Age=0/.test(c))).toBe(false);
      expect(await sessionRows(web)).toBe(0);
    });
  });

  describe('the callback refuses', () => {
    it('a state it never issued (and the real one still works afterwards)', async () => {
      const web = await start();
      const { agent, callback } = await callbackFor(web, COACH);
      const forged = new URL(callback);
      forged.searchParams.set('state', randomBytes(32).toString('base64url'));
      await expectRefused(web, await agent.request(forged), 400, 'LOGIN_STATE_UNKNOWN');
      // The forged answer cleared the pre-login cookie; the browser's own answer needs it.
      const again = await callbackFor(web, COACH);
      expect((await again.agent.request(again.callback)).status).toBe(303);
    });

    it('a replayed state: a callback is taken once', async () => {
      const web = await start();
      const { agent, callback } = await callbackFor(web, COACH);
      const binding = agent.cookies.get(BINDING_COOKIE)!;
      expect((await agent.request(callback)).status).toBe(303);
      const sessionsAfterLogin = await sessionRows(web);
      agent.cookies.delete(SESSION_COOKIE);
      agent.cookies.set(BINDING_COOKIE, binding); // the replay comes with everything the first answer had
      const replay = await agent.request(callback);
      expect(replay.status).toBe(400);
      expect(await replay.text()).toContain('<code>LOGIN_STATE_UNKNOWN</code>');
      expect(await sessionRows(web)).toBe(sessionsAfterLogin);
      expect(await lastLine(web)).toMatchObject({ action: 'session.refused', reason: 'LOGIN_STATE_UNKNOWN', httpStatus: 400 });
    });

    it('an ID token whose nonce is not the pending login’s', async () => {
      const web = await start();
      const agent = new WebAgent(web.origin);
      const authorization = await beginLogin(agent, 'GM1960');
      await web.sql('UPDATE web_pending_logins SET nonce = ?', randomBytes(16).toString('base64url'));
      const callback = await chooseAccount(agent, authorization, COACH);
      await expectRefused(web, await agent.request(callback), 403, 'LOGIN_NONCE_MISMATCH');
    });

    it('an answer that names another issuer (RFC 9207 iss)', async () => {
      const web = await start();
      const { agent, callback } = await callbackFor(web, COACH);
      callback.searchParams.set('iss', 'https://login.elders.example');
      await expectRefused(web, await agent.request(callback), 403, 'LOGIN_ISSUER_MISMATCH');
    });

    it('an organisation its provider may not vouch for, whatever the signature', async () => {
      const web = await start({ organisations: ['GM1960'] });
      const { agent, callback } = await callbackFor(web, 'demo-participatiecoach-gm0281', 'GM1960');
      await expectRefused(web, await agent.request(callback), 403, 'LOGIN_ORGANISATION_NOT_VOUCHED');
    });

    it('a role that does not fit the organisation (a werkcoach of a municipality)', async () => {
      const misfit = { sub: 'demo-werkcoach-gm1960', role: 'werkcoach', org: 'GM1960', name: 'Mis Plaatst', label: 'Werkcoach — West Betuwe' } as const;
      const web = await start({ accounts: [...DEMO_ACCOUNTS, misfit] });
      const { agent, callback } = await callbackFor(web, misfit.sub, 'GM1960');
      await expectRefused(web, await agent.request(callback), 403, 'LOGIN_ORGANISATION_NOT_FOR_ROLE', {
        iss: `${web.origin}/demo-idp`,
        sub: misfit.sub,
        role: 'werkcoach',
        org: 'GM1960',
      });
    });

    it('an answer without the pre-login cookie of the browser that started the login', async () => {
      const web = await start();
      const { agent, callback } = await callbackFor(web, COACH);
      agent.cookies.delete(BINDING_COOKIE);
      await expectRefused(web, await agent.request(callback), 400, 'LOGIN_BINDING_MISSING');
    });

    it('an answer carried into another browser (login CSRF: the attacker’s own login planted on a victim)', async () => {
      const web = await start();
      const attacker = await callbackFor(web, COACH);
      const victim = new WebAgent(web.origin);
      await beginLogin(victim, 'GM0281'); // the victim has a pre-login cookie of their own
      await expectRefused(web, await victim.request(attacker.callback), 400, 'LOGIN_BINDING_MISMATCH');
    });

    it('a login the person cancelled at the provider', async () => {
      const web = await start();
      const agent = new WebAgent(web.origin);
      const { res, visited } = await agent.follow(await agent.request(await beginLogin(agent, 'GM1960')), web.origin);
      const abort = /<form method="post" action="([^"]+\/abort)"/.exec(await res.text())![1]!;
      const back = await agent.request(new URL(abort, visited.at(-1)), { form: {} });
      const callback = new URL(back.headers.get('location')!, web.origin);
      const resumed = await agent.request(callback);
      const answer = new URL(resumed.headers.get('location')!, web.origin);
      expect(answer.searchParams.get('error')).toBe('access_denied');
      await expectRefused(web, await agent.request(answer), 400, 'LOGIN_CANCELLED');
    });

    it('a provider that cannot be reached: a Dutch 502 page at the start of the login, and a line', async () => {
      const ctx = await setup({ DOELPOORT_PUBLIC_URL: 'https://doelpoort.test' });
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const unreachable = new OidcRelyingParty(
        [
          {
            idp: trustedIdp({ issuer: 'http://127.0.0.1:9/nergens', audience: 'x', organisations: ['GM0281'], jwks: { keys: [{ kty: 'EC' }] } }),
            clientId: 'doelpoort-web',
            clientKey: { ...(privateKey.export({ format: 'jwk' }) as object), alg: 'ES256' },
            allowHttp: true,
          },
        ],
        { publicUrl: 'https://doelpoort.test', clock: ctx.clock },
      );
      const deps = { ...ctx, oidc: unreachable };
      const app = (await import('../src/http/app.js')).createApp(deps);
      const res = await app.request('/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://doelpoort.test' },
        body: 'organisatie=GM0281',
      });
      expect(res.status).toBe(502);
      const html = await res.text();
      expect(html).toContain('De inlogdienst is niet bereikbaar');
      expect(html).toContain('<code>LOGIN_PROVIDER_UNREACHABLE</code>');
      expect(await ctx.lastAudit()).toMatchObject({ action: 'session.refused', reason: 'LOGIN_PROVIDER_UNREACHABLE', httpStatus: 502, channel: 'web' });
      // An organisation without a web login is refused before any provider is asked.
      const other = await app.request('/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://doelpoort.test' },
        body: 'organisatie=GM1960',
      });
      expect(other.status).toBe(400);
      expect(await other.text()).toContain('<code>LOGIN_ORGANISATION_UNKNOWN</code>');
    });
  });

  describe('logout', () => {
    it('ends the session (the old cookie opens nothing) and at the provider, with id_token_hint, back to /uitgelogd', async () => {
      const web = await start();
      const { agent, cookie, csrfToken } = await loginAs(web, COACH);
      const res = await agent.request('/logout', { form: { csrf: csrfToken } });
      expect(res.status).toBe(303);
      const to = new URL(res.headers.get('location')!);
      expect(`${to.origin}${to.pathname}`).toBe(`${web.origin}/demo-idp/session/end`);
      expect(to.searchParams.get('id_token_hint')).toMatch(JWT);
      expect(to.searchParams.get('post_logout_redirect_uri')).toBe(`${web.origin}/uitgelogd`);
      expect(res.headers.getSetCookie().some((c) => c.startsWith(`${SESSION_COOKIE}=;`) && /Max-Age=0/.test(c))).toBe(true);
      expect(await sessionRows(web)).toBe(0);
      expect(await lastLine(web)).toMatchObject({ action: 'session.ended', reason: 'LOGOUT', httpStatus: 303, actor: { sub: COACH }, channel: 'web' });
      // The old cookie, replayed by someone who kept it: nothing.
      const replay = await web.app.request('/start', { headers: { cookie } });
      expect(replay.status).toBe(303);
      expect(replay.headers.get('location')).toBe('/?terug=%2Fstart');

      // At the provider: a Dutch confirmation, then back to /uitgelogd; the next login asks for an account again.
      const confirm = await agent.request(to);
      const page = await confirm.text();
      expect(page).toContain('Ook uitloggen bij de demo-inlogdienst?');
      const action = /<form id="op.logoutForm" method="post" action="([^"]+)"><input type="hidden" name="xsrf" value="([^"]+)"/.exec(page)!;
      const done = await agent.request(new URL(action[1]!, to), { form: { xsrf: action[2]!, logout: 'yes' } });
      expect(done.status).toBe(303);
      expect(done.headers.get('location')).toBe(`${web.origin}/uitgelogd`);
      const out = await agent.request('/uitgelogd');
      expect(await out.text()).toContain('U bent uitgelogd');
      const again = await agent.follow(await agent.request(await beginLogin(agent, 'GM1960')), web.origin);
      expect(again.res.status).toBe(200);
      expect(await again.res.text()).toContain('Inloggen bij de demo-inlogdienst');
    });

    it('refuses a form post without the session’s token, or from another origin, with a Dutch 403 page and a line', async () => {
      const web = await start();
      const { agent, csrfToken } = await loginAs(web, COACH);
      const attempts: Array<[Record<string, string>, Record<string, string>, string]> = [
        [{ csrf: 'wrong' }, {}, 'CSRF_TOKEN_INVALID'],
        [{}, {}, 'CSRF_TOKEN_INVALID'],
        [{ csrf: csrfToken }, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, 'CSRF_ORIGIN_MISMATCH'],
        [{ csrf: csrfToken }, { origin: 'null', 'sec-fetch-site': 'cross-site' }, 'CSRF_ORIGIN_MISMATCH'],
        [{ csrf: csrfToken }, { origin: 'null', 'sec-fetch-site': '' }, 'CSRF_ORIGIN_MISMATCH'],
        [{ csrf: csrfToken }, { origin: '', 'sec-fetch-site': 'same-origin' }, 'CSRF_ORIGIN_MISMATCH'],
      ];
      for (const [form, headers, reason] of attempts) {
        const res = await agent.request('/logout', { form, headers });
        expect(res.status).toBe(403);
        const html = await res.text();
        expect(html).toContain('Dit verzoek is geweigerd');
        expect(res.headers.get('cache-control')).toBe('no-store');
        expect(await lastLine(web)).toMatchObject({
          action: 'request.refused',
          reason,
          httpStatus: 403,
          outcome: 'deny',
          actor: { sub: COACH },
          channel: 'web',
        });
      }
      expect(await sessionRows(web)).toBe(1);
      // The gateway's own origin in Origin is accepted as well as `null` with Sec-Fetch-Site: same-origin.
      const ok = await agent.request('/logout', { form: { csrf: csrfToken }, headers: { origin: web.origin, 'sec-fetch-site': 'same-origin' } });
      expect(ok.status).toBe(303);
    });

    it('the login form too must come from the gateway’s own pages', async () => {
      const web = await start();
      const agent = new WebAgent(web.origin);
      const attempts: Array<Record<string, string>> = [{ origin: '' }, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }];
      for (const headers of attempts) {
        const res = await agent.request('/login', { form: { organisatie: 'GM1960' }, headers });
        expect(res.status).toBe(403);
        expect(await lastLine(web)).toMatchObject({ action: 'request.refused', reason: 'CSRF_ORIGIN_MISMATCH', channel: 'web' });
      }
      expect(await countOf(web, 'web_pending_logins')).toBe(0);
    });
  });

  describe('requireSession', () => {
    it('sends a visitor without a session to the start page, remembering the page asked for', async () => {
      const web = await start();
      const res = await web.app.request('/start?tab=2');
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/?terug=%2Fstart%3Ftab%3D2');
      const page = await web.app.request('/?terug=%2Fstart%3Ftab%3D2');
      expect(await page.text()).toContain('<input type="hidden" name="terug" value="/start?tab=2"/>');
      const evil = await web.app.request('/?terug=%2F%2Fevil.example');
      expect(await evil.text()).not.toContain('name="terug"');
    });

    it('ends an idle session with its line, says so on the start page, and returns the person to the wanted page', async () => {
      const web = await start({ env: { DOELPOORT_SESSION_IDLE_MINUTES: '1' } });
      const { agent } = await loginAs(web, COACH);
      web.clock.advance(61_000);
      const res = await agent.request('/start?tab=2');
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/?terug=%2Fstart%3Ftab%3D2&verlopen=1');
      expect(res.headers.getSetCookie().some((c) => c.startsWith(`${SESSION_COOKIE}=;`))).toBe(true);
      expect(await lastLine(web)).toMatchObject({ action: 'session.ended', reason: 'IDLE_TIMEOUT', actor: { sub: COACH }, httpStatus: 303 });
      const startPage = await agent.request(res.headers.get('location')!);
      expect(await startPage.text()).toContain('Uw sessie is verlopen');
      // The provider still knows the person: logging in again needs no account choice, and lands on the wanted page.
      const callback = await chooseAccount(agent, await beginLogin(agent, 'GM1960', '/start?tab=2'), COACH);
      const back = await agent.request(callback);
      expect(back.headers.get('location')).toBe('/start?tab=2');
    });

    it('the prune ends sessions whose browser never came back, each with its line', async () => {
      const web = await start();
      await loginAs(web, COACH);
      await loginAs(web, 'demo-werkcoach-werkzaak');
      const facts = webRequestFacts({ trace: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) }, origin: 'internal' });
      expect(await pruneSessions(web.deps, facts)).toBe(0);
      web.clock.advance(15 * 60_000);
      expect(await pruneSessions(web.deps, facts)).toBe(2);
      const ended = (await web.auditEntries()).filter((e) => e.action === 'session.ended');
      expect(ended.map((e) => [e.reason, (e.actor as { sub: string }).sub, e.httpStatus])).toEqual([
        ['IDLE_TIMEOUT', COACH, undefined],
        ['IDLE_TIMEOUT', 'demo-werkcoach-werkzaak', undefined],
      ]);
      expect(await sessionRows(web)).toBe(0);
    });
  });
});

describe(safeReturnPath.name, () => {
  const base = 'http://127.0.0.1:8080';
  it.each([
    ['/inbox', '/inbox'],
    ['/clients/WZR-100001?tab=overdracht', '/clients/WZR-100001?tab=overdracht'],
    ['/a/../b', '/b'],
  ])('keeps %s', (input, expected) => expect(safeReturnPath(input, base)).toBe(expected));
  it.each([
    '//evil.example',
    '///evil.example',
    '/\\evil.example',
    'https://evil.example/',
    'evil',
    '',
    ' /inbox',
    '/in box',
    '/inbox\n',
    '/\u0000',
    '/',
    '/login',
    '/logout',
    '/auth/callback',
    '/uitgelogd',
    `/${'a'.repeat(600)}`,
    undefined,
    ['/inbox'],
  ])('refuses %j', (input) => expect(safeReturnPath(input, base)).toBeUndefined());
});

describe('pages of the login', () => {
  it('carry no-store and a CSP whose form-action admits the gateway and its providers, nothing else', async () => {
    const dir = tempDir();
    const key = await generateKeyPair('ES256', { extractable: true });
    fs.writeFileSync(path.join(dir, 'client.jwk'), JSON.stringify({ ...(await exportJWK(key.privateKey)), alg: 'ES256' }));
    const entry = (issuer: string, organisations: string[]) => ({
      issuer,
      audience: 'doelpoort',
      organisations,
      jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] },
      oidc: { clientId: 'doelpoort-web', privateKeyFile: 'client.jwk' },
    });
    fs.writeFileSync(
      path.join(dir, 'idps.json'),
      JSON.stringify({ idps: [entry('https://login.tiel.example', ['GM0281']), entry('https://login.werkzaak.example/oidc', ['WERKZAAK'])] }),
    );
    const ctx = setupApp({ DOELPOORT_IDPS_FILE: path.join(dir, 'idps.json'), DOELPOORT_PUBLIC_URL: 'https://doelpoort.test' });
    for (const p of ['/', '/uitgelogd']) {
      const res = await ctx.app.request(p);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toMatch(
        /^default-src 'none'; style-src 'nonce-[A-Za-z0-9+/=]{22,}'; base-uri 'none'; form-action 'self' https:\/\/login\.tiel\.example https:\/\/login\.werkzaak\.example; frame-ancestors 'none'$/,
      );
      expect(csp).not.toContain('unsafe-inline');
    }
    const html = await (await ctx.app.request('/')).text();
    expect([...html.matchAll(/name="organisatie" value="([^"]+)"[^>]*>([^<]+)</g)].map((m) => [m[1], m[2]])).toEqual([
      ['WERKZAAK', 'Werkzaak Rivierenland'],
      ['GM0281', 'Tiel'],
    ]);
    // The API keeps its own policy.
    expect((await ctx.app.request('/health')).headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
  });
});

describe(webLoginProviders.name, () => {
  async function idpsFile(entry: Record<string, unknown>, key?: unknown, extra: unknown[] = []) {
    const dir = tempDir();
    if (key !== undefined) fs.writeFileSync(path.join(dir, 'client.jwk'), typeof key === 'string' ? key : JSON.stringify(key));
    const file = path.join(dir, 'idps.json');
    const base = { issuer: 'https://login.tiel.example', audience: 'doelpoort', organisations: ['GM0281'], jwks: { keys: [{ kty: 'EC' }] } };
    fs.writeFileSync(file, JSON.stringify({ idps: [{ ...base, oidc: { clientId: 'doelpoort-web', privateKeyFile: 'client.jwk' }, ...entry }, ...extra] }));
    return { idpsFile: file, demo: false, dataDir: dir, publicUrl: 'https://doelpoort.test' };
  }
  const privateJwk = async (alg = 'ES256') => ({ ...(await exportJWK((await generateKeyPair(alg, { extractable: true })).privateKey)) });

  it('reads an entry’s private JWK beside the IdPs file; an EC key’s alg is derived', async () => {
    const [provider] = webLoginProviders(await idpsFile({}, await privateJwk()));
    expect(provider).toMatchObject({ clientId: 'doelpoort-web', allowHttp: false, clientKey: { kty: 'EC', alg: 'ES256' } });
    expect([...provider!.idp.organisations]).toEqual(['GM0281']);
  });

  it('stops the start with one line naming the file for a key that is missing, public, not a key, or without an alg', async () => {
    const { d: _d, ...publicOnly } = await privateJwk();
    const { alg: _a, ...rsaWithoutAlg } = { ...(await privateJwk('RS256')), alg: undefined };
    for (const [key, problem] of [
      [undefined, 'cannot be read'],
      ['-----BEGIN PRIVATE KEY-----', 'cannot be read'],
      [publicOnly, 'must be a private JWK'],
      [{ kty: 'EC', crv: 'P-256', d: 'AAAA', x: 'AAAA', y: 'AAAA' }, 'is not a valid private key'],
      [{ kty: 'oct', k: 'c2VjcmV0', d: 'x' }, 'is not a valid private key'],
      [rsaWithoutAlg, 'needs an asymmetric "alg"'],
      [{ ...(await privateJwk()), alg: 'HS256' }, 'needs an asymmetric "alg"'],
    ] as const) {
      const config = await idpsFile({}, key);
      let message = '';
      try {
        webLoginProviders(config);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain('CONFIG_INVALID: DOELPOORT_IDPS_FILE idps.0.oidc.privateKeyFile');
      expect(message).toContain(problem);
      expect(message).not.toContain('\n');
      expect(message).not.toContain('AAAA');
    }
  });

  it('refuses a web login over http:, with the subject tokens’ own audience, or two for one organisation', async () => {
    const key = await privateJwk();
    await expect(idpsFile({ issuer: 'http://login.tiel.example' }, key).then(webLoginProviders)).rejects.toThrow(
      /idps\.0\.issuer: a web login needs an https: issuer/,
    );
    await expect(idpsFile({ oidc: { clientId: 'doelpoort', privateKeyFile: 'client.jwk' } }, key).then(webLoginProviders)).rejects.toThrow(
      /idps\.0\.oidc\.clientId: must differ from audience/,
    );
    const twice = {
      issuer: 'https://login.tweede.example',
      audience: 'doelpoort',
      organisations: ['GM0281'],
      jwks: { keys: [{ kty: 'EC' }] },
      oidc: { clientId: 'c', privateKeyFile: 'client.jwk' },
    };
    await expect(idpsFile({}, key, [twice]).then(webLoginProviders)).rejects.toThrow(/an organisation may have only one web login/);
    // Without `oidc` an entry is a subject-token issuer only, and http: needs no web login rule.
    expect(webLoginProviders(await idpsFile({ oidc: undefined }))).toEqual([]);
  });

  it('in demo mode: the demo provider on the gateway itself, for the whole region, http: only there', () => {
    const [demo] = webLoginProviders({ idpsFile: undefined, demo: true, dataDir: tempDir(), publicUrl: 'http://127.0.0.1:8080' });
    expect(demo).toMatchObject({ clientId: 'doelpoort-web', allowHttp: true, idp: { issuer: 'http://127.0.0.1:8080/demo-idp' } });
    expect([...demo!.idp.organisations].sort()).toEqual([...DEMO_IDP_ORGANISATIONS].sort());
    expect(webLoginProviders({ idpsFile: undefined, demo: false, dataDir: tempDir(), publicUrl: 'http://127.0.0.1:8080' })).toEqual([]);
  });
});
