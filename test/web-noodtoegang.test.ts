import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../src/clock.js';
import { createApp } from '../src/http/app.js';
import { SESSION_COOKIE } from '../src/web/session.js';
import { auditFacts } from '../src/audit/facts.js';
import { grantNoodtoegang } from '../src/noodtoegang/grant.js';
import { NoodtoegangStore } from '../src/noodtoegang/store.js';
import { PgNoodtoegangStore } from '../src/noodtoegang/store-pg.js';
import { SessionStore } from '../src/web/sessions.js';
import { PgSessionStore } from '../src/web/sessions-pg.js';
import { forEachDatabase } from './both-databases.js';
import { type BothWebServer, chooseAccountAgain, loginAs, startWebServer } from './web-support.js';

/**
 * Emergency access in the web application over HTTP, through the real login and the real re-authentication at the
 * demo provider: the request form (its warning, the limit left, errors beside the fields), logging in again, the
 * grant (src/noodtoegang/grant.ts) and the emergency view (src/clients/read.ts) with its flagged lines; the refusals
 * (no rule, unknown client with the same answer, a relationship that holds, the weekly limit), expiry, and a fresh
 * login that a second instance of the gateway honours because it is in the database.
 */

const COACH = 'demo-participatiecoach-gm1960';
/** KP3, living in West Betuwe, with a belastbaarheidsonderzoek whose diagnose an emergency access never shows. */
const CLIENT = 'WZR-100001';
const REDEN = 'Overdracht is mondeling toegezegd maar nog niet geregistreerd; cliënt staat aan de balie.';

forEachDatabase((_, database) => {
  let web: BothWebServer;
  beforeAll(async () => {
    web = await startWebServer({ env: { DOELPOORT_SESSION_IDLE_MINUTES: '120' }, database });
  });
  afterAll(async () => {
    await web?.close();
  });

  type Session = Awaited<ReturnType<typeof loginAs>> & { sub: string };
  const login = async (sub: string): Promise<Session> => ({ ...(await loginAs(web, sub)), sub });
  const lines = async () => await web.auditEntries();

  async function post(s: Session, path: string, form: Record<string, string>) {
    const before = (await lines()).length;
    const res = await s.agent.request(path, { form: { csrf: s.csrfToken, ...form } });
    return { res, written: (await lines()).slice(before) };
  }

  /** Asks for emergency access to `clientRef` and logs in again at the provider; the callback's answer. */
  async function requestAndReauthenticate(s: Session, clientRef: string): Promise<Response> {
    const { res } = await post(s, '/noodtoegang', { clientRef, reden: REDEN });
    expect(res.status).toBe(303);
    const authorization = new URL(res.headers.get('location')!);
    expect(authorization.searchParams.get('prompt')).toBe('login');
    expect(authorization.searchParams.get('max_age')).toBe('0');
    return s.agent.request(await chooseAccountAgain(s.agent, authorization, s.sub));
  }

  /** An emergency access granted to `sub` of `org` through the grant verb (as the API's exchange does); its id. */
  async function seedGrant(sub: string, org: string, clientRef = CLIENT): Promise<string> {
    const iss = `${web.origin}/demo-idp`;
    const requester = { issuer: iss, sub, role: 'participatiecoach' as const, org, purpose: 'begeleiding-kp4' as const, clientId: 'doelpoort-web' };
    const setting = { uow: web.deps.uow, clock: web.deps.clock, noodtoegang: { policies: web.deps.policies, perWeek: 100 } };
    const facts = auditFacts(
      { trace: { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') }, origin: 'test', channel: 'api' },
      requester,
    );
    return (await grantNoodtoegang(setting, { requester, facts, done: 200 }, { clientRef, reden: REDEN })).id;
  }

  /** The whole flow up to the grant's answer: request, re-login, confirmation page, confirm. */
  async function grant(s: Session, clientRef: string) {
    const back = await requestAndReauthenticate(s, clientRef);
    expect(back.status).toBe(303);
    expect(back.headers.get('location')).toBe('/noodtoegang/bevestigen');
    const confirm = await s.agent.request('/noodtoegang/bevestigen');
    const page = await confirm.text();
    expect(confirm.status).toBe(200);
    expect(page).toContain(clientRef);
    return post(s, '/noodtoegang/bevestigen', {});
  }

  describe('the coach’s emergency access', () => {
    it('shows the warning and the limit left, and no client before the grant', async () => {
      const s = await login(COACH);
      const res = await s.agent.request('/noodtoegang');
      const page = await res.text();
      expect(res.status).toBe(200);
      expect(page).toContain('Noodtoegang wordt altijd beoordeeld');
      expect(page).toContain('privacy officer van Werkzaak Rivierenland');
      expect(page).toContain('U hebt er deze week nog 3 over.');
      expect(page).toMatch(/<form method="post" action="\/noodtoegang"/);
      // Reachable from the start page and the KP4 list.
      expect(await (await s.agent.request('/start')).text()).toContain('href="/noodtoegang"');
      expect(await (await s.agent.request('/clienten')).text()).toContain('href="/noodtoegang"');
    });

    it('refuses a short reason beside the field, keeps what was typed, and logs the refusal flagged', async () => {
      const s = await login(COACH);
      const { res, written } = await post(s, '/noodtoegang', { clientRef: CLIENT, reden: 'te kort' });
      const page = await res.text();
      expect(res.status).toBe(400);
      expect(page).toContain('id="reden-fout"');
      expect(page).toMatch(/aria-describedby="reden-beschrijving reden-fout"\s+aria-invalid="true"/);
      expect(page).toContain('De reden is te kort: schrijf minstens 20 tekens (nu 7)');
      expect(page).toContain(`value="${CLIENT}"`);
      expect(page).toContain('>te kort</textarea>');
      expect(written).toMatchObject([{ action: 'token.refused', reason: 'NOODTOEGANG_REDEN_INVALID', noodtoegang: true, clientRef: CLIENT, channel: 'web' }]);
      expect(JSON.stringify(written)).not.toContain('te kort');
    });

    it('never writes a BSN typed into the clientRef field back into the page or a line', async () => {
      const s = await login(COACH);
      const { res, written } = await post(s, '/noodtoegang', { clientRef: '123456782', reden: REDEN });
      const page = await res.text();
      expect(res.status).toBe(400);
      expect(page).toContain('Dit lijkt een BSN');
      expect(page).not.toContain('123456782');
      expect(written).toMatchObject([{ action: 'token.refused', reason: 'CLIENT_REF_INVALID' }]);
      expect(written[0]).not.toHaveProperty('clientRef');
    });

    it('grants after logging in again: the emergency view without health data, marked, every view a flagged line', async () => {
      const s = await login(COACH);
      const before = (await lines()).length;
      const { res } = await grant(s, CLIENT);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/noodtoegang/inzage');
      const issued = (await lines()).slice(before).filter((e) => e.action === 'token.issued');
      expect(issued).toMatchObject([{ noodtoegang: true, clientRef: CLIENT, purpose: 'begeleiding-kp4', channel: 'web', clientId: 'doelpoort-web' }]);
      expect((await lines()).slice(before).map((e) => e.action)).toContain('session.reauthenticated');
      const id = issued[0]!.noodtoegangId as string;

      for (let view = 0; view < 2; view++) {
        const at = (await lines()).length;
        const shown = await s.agent.request('/noodtoegang/inzage');
        const page = await shown.text();
        expect(shown.status).toBe(200);
        expect(page).toContain('Noodtoegang — wordt beoordeeld');
        expect(page).toContain('hoogstens 15 minuten');
        expect(page).toContain('Anna');
        expect(page).not.toMatch(/diagnose|medicatie|behandelaar/i);
        expect((await lines()).slice(at)).toMatchObject([
          { action: 'record.read', outcome: 'permit', noodtoegang: true, noodtoegangId: id, clientRef: CLIENT, tokenId: issued[0]!.tokenId },
        ]);
        const released = (await lines()).at(-1)!.released as string[];
        expect(released.some((f) => /belastbaarheid|diagnose/.test(f))).toBe(false);
      }
      // The reason is in the review queue's row, never in a line.
      const row = await (web.database === 'sqlite' ? new NoodtoegangStore(web.deps.db) : new PgNoodtoegangStore(web.deps.pool)).get(id);
      expect(row?.reden).toBe(REDEN);
      expect(JSON.stringify(await lines())).not.toContain(REDEN);

      // The fresh login was for one grant: confirming again is refused and grants nothing.
      const again = await post(s, '/noodtoegang/bevestigen', {});
      expect(again.res.status).toBe(403);
      expect(again.written).toMatchObject([{ action: 'token.refused', reason: 'REAUTH_REQUIRED', noodtoegang: true }]);

      // After 15 minutes the view is gone, and reads nothing.
      web.clock.advance(15 * 60_000 + 1);
      const at = (await lines()).length;
      const ended = await s.agent.request('/noodtoegang/inzage').finally(() => web.clock.advance(-(15 * 60_000 + 1)));
      expect(ended.status).toBe(403);
      expect(await ended.text()).not.toContain('Anna');
      expect((await lines()).slice(at).filter((e) => e.action === 'record.read')).toEqual([]);
    });

    it('answers an unknown client exactly as a client the policy does not allow', async () => {
      const s = await login(COACH);
      const { res } = await grant(s, 'WZR-999999');
      const page = await res.text();
      expect(res.status).toBe(403);
      expect(page).toContain('Noodtoegang tot deze cliënt is voor u niet mogelijk: het deelbeleid staat het niet toe.');
      expect((await lines()).at(-1)).toMatchObject({ action: 'token.refused', reason: 'CLIENT_UNKNOWN', noodtoegang: true, httpStatus: 403 });

      // A werkcoach, whom no emergency rule allows, gets the same words and status.
      const w = await login('demo-werkcoach-werkzaak');
      expect(await (await w.agent.request('/noodtoegang')).text()).toContain('Noodtoegang is voor u niet mogelijk');
      const refused = await post(w, '/noodtoegang', { clientRef: CLIENT, reden: REDEN });
      expect(refused.res.status).toBe(403);
      const words = /Noodtoegang tot deze cliënt is voor u niet mogelijk[^<]*/.exec(await refused.res.text())?.[0];
      expect(words).toBe(/Noodtoegang tot deze cliënt is voor u niet mogelijk[^<]*/.exec(page)?.[0]);
      expect(refused.written).toMatchObject([{ action: 'token.refused', reason: 'NOODTOEGANG_NOT_ALLOWED', noodtoegang: true, purpose: 'overdracht-kp3' }]);
    });

    it('refuses a schuldhulpverlener, whom no emergency rule allows, before any re-login', async () => {
      const s = await login('demo-schuldhulpverlener-gm0281');
      const { res, written } = await post(s, '/noodtoegang', { clientRef: 'WZR-100004', reden: REDEN });
      expect(res.status).toBe(403);
      expect(res.headers.get('location')).toBeNull();
      expect(written).toMatchObject([{ action: 'token.refused', reason: 'NOODTOEGANG_NOT_ALLOWED', noodtoegang: true }]);
    });

    it('says where the normal access is when the relationship holds', async () => {
      const s = await login('demo-participatiecoach-gm0668');
      const { res } = await grant(s, 'WZR-100005');
      const page = await res.text();
      expect(res.status).toBe(400);
      expect(page).toContain('U heeft al toegang tot deze cliënt via Mijn KP4-cliënten');
      expect(page).toContain('href="/clienten/WZR-100005"');
      expect((await lines()).at(-1)).toMatchObject({ action: 'token.refused', reason: 'NOODTOEGANG_NOT_NEEDED' });
    });

    it('refuses past the weekly limit, and says so before the form', async () => {
      const s = await login('demo-participatiecoach-gm1740');
      const iss = ((await lines()).findLast((e) => (e.actor as { sub?: string } | undefined)?.sub === s.sub)!.actor as { iss: string }).iss;
      // Three emergency accesses granted this week, through the same verb (as over the API, say).
      const requester = {
        issuer: iss,
        sub: s.sub,
        role: 'participatiecoach' as const,
        org: 'GM1740',
        purpose: 'begeleiding-kp4' as const,
        clientId: 'doelpoort-web',
      };
      const setting = { uow: web.deps.uow, clock: web.deps.clock, noodtoegang: { policies: web.deps.policies, perWeek: 3 } };
      for (let n = 0; n < 3; n++) {
        const facts = auditFacts(
          { trace: { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') }, origin: 'test', channel: 'api' },
          requester,
        );
        await grantNoodtoegang(setting, { requester, facts, done: 200 }, { clientRef: CLIENT, reden: REDEN });
      }
      const page = await (await s.agent.request('/noodtoegang')).text();
      expect(page).toContain('U hebt er deze week nog 0 over.');
      expect(page).not.toMatch(/<form method="post" action="\/noodtoegang"/);
      const { res, written } = await post(s, '/noodtoegang', { clientRef: CLIENT, reden: REDEN });
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('al 3 keer noodtoegang gehad, het maximum');
      expect(written).toMatchObject([{ action: 'token.refused', reason: 'NOODTOEGANG_LIMIT', noodtoegang: true }]);
    });
  });

  describe('re-authentication in the database', () => {
    it('a second instance of the gateway completes a re-login the first started, and honours its grant once', async () => {
      const s = await login(COACH);
      const other = createApp(web.deps);
      const { res } = await post(s, '/noodtoegang', { clientRef: CLIENT, reden: REDEN });
      expect(res.status).toBe(303);
      const callback = await chooseAccountAgain(s.agent, new URL(res.headers.get('location')!), s.sub);
      const cookie = s.agent.cookieHeader(callback);
      const back = await other.request(`${callback.pathname}${callback.search}`, { headers: { cookie } });
      expect(back.status).toBe(303);
      expect(back.headers.get('location')).toBe('/noodtoegang/bevestigen');
      const confirm = await other.request('/noodtoegang/bevestigen', { headers: { cookie } });
      expect(confirm.status).toBe(200);
      // The first instance sees the same grant: it uses it, and then neither has it.
      const done = await post(s, '/noodtoegang/bevestigen', {});
      expect(done.res.status).toBe(303);
      const gone = await other.request('/noodtoegang/bevestigen', { headers: { cookie } });
      expect(gone.status).toBe(303);
      expect(gone.headers.get('location')).toBe('/noodtoegang?verlopen=1');
    });
  });

  describe('the review queue in the console', () => {
    it('a Werkzaak officer reads the queue and one access, and records a verdict: the note beside the field, then logged', async () => {
      const id = await seedGrant('demo-participatiecoach-gm0297', 'GM0297');
      const o = await login('demo-privacy-officer-werkzaak');
      const queue = await o.agent.request('/beheer/noodtoegang');
      const list = await queue.text();
      expect(queue.status).toBe(200);
      expect(list).toContain(`href="/beheer/noodtoegang/${id}"`);
      expect(list).toContain('Zaltbommel');
      expect(list).toContain(REDEN);
      expect((await lines()).at(-1)).toMatchObject({ action: 'noodtoegang.read', reason: 'NOODTOEGANG_LISTED', channel: 'web' });

      const item = await o.agent.request(`/beheer/noodtoegang/${id}`);
      expect(await item.text()).toContain('Oordeel vastleggen');
      expect((await lines()).at(-1)).toMatchObject({ action: 'noodtoegang.read', noodtoegangId: id, clientRef: CLIENT });

      const empty = await post(o, `/beheer/noodtoegang/${id}/oordeel`, { verdict: 'terecht', note: '' });
      const page = await empty.res.text();
      expect(empty.res.status).toBe(422);
      expect(page).toContain('id="toelichting-fout"');
      expect(page).toMatch(/value="terecht"\s+checked/);
      expect(empty.written[0]).toMatchObject({ action: 'noodtoegang.verdict', outcome: 'deny', reason: 'REQUEST_INVALID', noodtoegangId: id });

      const done = await post(o, `/beheer/noodtoegang/${id}/oordeel`, { verdict: 'terecht', note: 'Overdracht stond gepland; terecht gebruikt.' });
      expect(done.res.status).toBe(303);
      expect(done.res.headers.get('location')).toBe(`/beheer/noodtoegang/${id}?vastgelegd=1`);
      expect(done.written).toMatchObject([{ action: 'noodtoegang.verdict', outcome: 'permit', verdict: 'terecht', noodtoegangId: id, clientRef: CLIENT }]);
      expect(JSON.stringify(done.written)).not.toContain('gepland');
      const shown = await (await o.agent.request(`/beheer/noodtoegang/${id}?vastgelegd=1`)).text();
      expect(shown).toContain('Het oordeel is vastgelegd');
      expect(shown).toContain('Overdracht stond gepland; terecht gebruikt.');
      expect(shown).not.toContain('Oordeel vastleggen');

      const twice = await post(o, `/beheer/noodtoegang/${id}/oordeel`, { verdict: 'onterecht', note: 'nog eens' });
      expect(twice.res.status).toBe(409);
      expect(twice.written).toMatchObject([{ action: 'noodtoegang.verdict', outcome: 'deny', reason: 'NOODTOEGANG_JUDGED' }]);
    });

    it('a municipal officer sees only their own staff’s accesses and cannot judge', async () => {
      const own = await seedGrant('demo-participatiecoach-gm1960', 'GM1960', 'WZR-100002');
      const other = await seedGrant('demo-participatiecoach-gm0297', 'GM0297');
      const m = await login('demo-privacy-officer-gm1960');
      const list = await (await m.agent.request('/beheer/noodtoegang?status=all')).text();
      expect(list).toContain(`/beheer/noodtoegang/${own}`);
      expect(list).not.toContain(`/beheer/noodtoegang/${other}`);
      expect((await m.agent.request(`/beheer/noodtoegang/${other}`)).status).toBe(404);
      const item = await (await m.agent.request(`/beheer/noodtoegang/${own}`)).text();
      expect(item).toContain('Alleen een privacy officer van Werkzaak Rivierenland legt het oordeel');
      expect(item).not.toContain('Oordeel vastleggen');
      const crafted = await post(m, `/beheer/noodtoegang/${own}/oordeel`, { verdict: 'onterecht', note: 'zelf geprobeerd' });
      expect(crafted.res.status).toBe(403);
      expect(crafted.written).toMatchObject([{ action: 'noodtoegang.verdict', outcome: 'deny', reason: 'NOODTOEGANG_NOT_CONTROLLER' }]);
    });

    it('shows unreviewed accesses older than 7 days on the console’s start page, counted and linked', async () => {
      const o = await login('demo-privacy-officer-werkzaak');
      const calm = await (await o.agent.request('/beheer')).text();
      const before = /(\d+) noodtoegang(?:en)? wacht(?:en)? langer dan 7 dagen/.exec(calm);
      expect(before).toBeNull();
      await seedGrant('demo-participatiecoach-gm0214', 'GM0214');
      await seedGrant('demo-participatiecoach-gm0214', 'GM0214', 'WZR-100002');
      web.clock.advance(8 * DAY_MS);
      try {
        // A session of today's clock for the officer: the provider's tokens do not travel eight days ahead.
        const { config } = web.deps;
        const limits = { idleMinutes: config.sessionIdleMinutes, maxHours: config.sessionMaxHours };
        const store = web.database === 'sqlite' ? new SessionStore(web.deps.db, web.clock, limits) : new PgSessionStore(web.deps.pool, web.clock, limits);
        const { id } = await store.create(
          { issuer: `${web.origin}/demo-idp`, sub: 'demo-privacy-officer-werkzaak', role: 'privacy-officer', org: 'WERKZAAK' },
          'x',
        );
        const res = await fetch(`${web.origin}/beheer`, { headers: { cookie: `${SESSION_COOKIE}=${id}` } });
        const page = await res.text();
        expect(res.status).toBe(200);
        const open = (await fetch(`${web.origin}/beheer/noodtoegang?status=open&limit=100`, { headers: { cookie: `${SESSION_COOKIE}=${id}` } })).text();
        const overdue = (await open).match(/Te laat beoordeeld/g)?.length ?? 0;
        expect(overdue).toBeGreaterThanOrEqual(2);
        expect(page).toMatch(new RegExp(`role="alert"[\\s\\S]*${overdue} noodtoegangen wachten langer dan 7 dagen op een oordeel`));
        expect(page).toContain('href="/beheer/noodtoegang?status=open"');
        expect((await lines()).findLast((e) => e.reason === 'NOODTOEGANG_OVERDUE_COUNTED')).toMatchObject({ count: overdue });
      } finally {
        web.clock.advance(-8 * DAY_MS);
      }
    });
  });
});
