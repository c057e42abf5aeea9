import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../src/web/session.js';
import { startWebServer, type WebServer } from '../web-support.js';
import { axeViolations, launchChromium } from './chromium.js';

/**
 * The web login in Chromium, through the real flow: the start page, the demo provider's account page, the callback,
 * the logout at both ends. Screenshots go to DOELPOORT_SCREENSHOTS (when set) for a person to look at.
 */

const JWT = /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/;
const SHOTS = process.env.DOELPOORT_SCREENSHOTS;

let browser: Browser;
let web: WebServer;
beforeAll(async () => {
  [browser, web] = await Promise.all([launchChromium(), startWebServer()]);
});
afterAll(async () => {
  await browser?.close();
  await web?.close();
});

/** A fresh browser profile that keeps every HTML document it was served, to look for tokens in them afterwards. */
async function profile(): Promise<{ context: BrowserContext; page: Page; documents: string[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const documents: string[] = [];
  page.on('response', async (res) => {
    if (res.request().resourceType() === 'document' && res.status() < 300) documents.push(await res.text().catch(() => ''));
  });
  return { context, page, documents };
}

async function screenshot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function expectAccessible(page: Page, name: string): Promise<void> {
  expect(await axeViolations(page), name).toEqual([]);
  await screenshot(page, name);
}

/** From the start page: the organisation's button, then the account's button at the demo provider. */
async function logIn(page: Page, organisation: string, account: string): Promise<void> {
  await page.getByRole('button', { name: organisation, exact: true }).click();
  await page.waitForURL(/\/demo-idp\/interaction\//);
  await page.getByRole('button', { name: account, exact: true }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/demo-idp') && url.pathname !== '/auth/callback');
}

describe('logging in through the real flow', () => {
  it.each([
    ['West Betuwe', 'Participatiecoach — West Betuwe', 'Participatiecoach · West Betuwe'],
    ['Tiel', 'Schuldhulpverlener — Tiel', 'Schuldhulpverlener · Tiel'],
    ['Werkzaak Rivierenland', 'Werkcoach — Werkzaak Rivierenland', 'Werkcoach · Werkzaak Rivierenland'],
    ['Werkzaak Rivierenland', 'Privacy officer — Werkzaak Rivierenland', 'Privacy officer · Werkzaak Rivierenland'],
  ])(
    'at %s as "%s": lands on the page for that role; the browser holds one opaque cookie and no token',
    { timeout: 60_000 },
    async (organisation, account, header) => {
      const { context, page, documents } = await profile();
      await page.goto(web.origin);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Inloggen bij uw organisatie');
      await logIn(page, organisation, account);
      expect(new URL(page.url()).pathname).toBe('/start');
      expect(await page.locator('.doelpoort-header__who').textContent()).toContain(header);

      // The one cookie of the gateway: __Host-, opaque, HttpOnly, Secure (kept on http://127.0.0.1, a potentially
      // trustworthy origin), SameSite=Lax, no Domain. The provider's own cookies live under /demo-idp.
      const gateway = await context.cookies(`${web.origin}/start`);
      expect(gateway.map((c) => c.name)).toEqual([SESSION_COOKIE]);
      expect(gateway[0]).toMatchObject({ domain: '127.0.0.1', path: '/', httpOnly: true, secure: true, sameSite: 'Lax' });
      expect(gateway[0]!.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
      for (const cookie of await context.cookies()) {
        expect(cookie.value).not.toMatch(JWT);
        if (cookie.name !== SESSION_COOKIE) expect(cookie.path.startsWith('/demo-idp')).toBe(true);
      }
      expect(await page.evaluate('[localStorage.length, sessionStorage.length]')).toEqual([0, 0]);
      expect(documents.length).toBeGreaterThanOrEqual(3);
      for (const html of documents) expect(html).not.toMatch(JWT);
      await context.close();
    },
  );
});

describe('pages', () => {
  it('the start page, the provider’s account page, the landing page and /uitgelogd are axe-clean', { timeout: 60_000 }, async () => {
    const { context, page } = await profile();
    await page.goto(web.origin);
    await expectAccessible(page, 'start');
    await page.getByRole('button', { name: 'West Betuwe', exact: true }).click();
    await page.waitForURL(/\/demo-idp\/interaction\//);
    expect(await page.title()).toBe('Inloggen · Demo-inlogdienst');
    await expectAccessible(page, 'demo-idp-accounts');
    await page.getByRole('button', { name: 'Participatiecoach — West Betuwe', exact: true }).click();
    await page.waitForURL(`${web.origin}/start`);
    await expectAccessible(page, 'landing');
    await page.getByRole('button', { name: 'Uitloggen' }).click();
    await page.waitForURL(/\/demo-idp\/session\/end/);
    await expectAccessible(page, 'demo-idp-logout');
    await page.getByRole('button', { name: 'Ja, ook hier uitloggen' }).click();
    await page.waitForURL(`${web.origin}/uitgelogd`);
    await expectAccessible(page, 'uitgelogd');
    await context.close();
  });

  it('the login error page, the refused-form page and the expired-session notice are axe-clean', { timeout: 60_000 }, async () => {
    const { context, page } = await profile();
    await page.goto(`${web.origin}/auth/callback?state=verzonnen&code=x`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Deze inlogpoging is niet meer geldig');
    await expectAccessible(page, 'login-error');
    await page.goto(`${web.origin}/?verlopen=1`);
    expect(await page.getByRole('status').textContent()).toContain('Uw sessie is verlopen');
    await expectAccessible(page, 'start-expired');
    await context.close();
  });
});

describe('logout', () => {
  it('ends the session (the old cookie opens nothing) and at the provider (the next login asks for an account again)', { timeout: 60_000 }, async () => {
    const { context, page } = await profile();
    await page.goto(web.origin);
    await logIn(page, 'Tiel', 'Participatiecoach — Tiel');
    const [kept] = await context.cookies(`${web.origin}/start`);
    await page.getByRole('button', { name: 'Uitloggen' }).click();
    await page.waitForURL(/\/demo-idp\/session\/end/);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Ook uitloggen bij de demo-inlogdienst?');
    await page.getByRole('button', { name: 'Ja, ook hier uitloggen' }).click();
    await page.waitForURL(`${web.origin}/uitgelogd`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('U bent uitgelogd');
    expect((await context.cookies(`${web.origin}/`)).map((c) => c.name)).toEqual([]);

    // Someone who copied the cookie before the logout gets the start page.
    const other = await browser.newContext();
    await other.addCookies([kept!]);
    const stolen = await other.newPage();
    await stolen.goto(`${web.origin}/start`);
    expect(new URL(stolen.url()).pathname).toBe('/');
    expect(await stolen.getByRole('heading', { level: 1 }).textContent()).toBe('Inloggen bij uw organisatie');
    await other.close();

    await page.getByRole('link', { name: 'Opnieuw inloggen' }).click();
    await page.getByRole('button', { name: 'Tiel', exact: true }).click();
    await page.waitForURL(/\/demo-idp\/interaction\//);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Inloggen bij de demo-inlogdienst');
    await context.close();
  });
});

describe('session expiry', () => {
  it('after the idle timeout the person logs in again and lands on the page they wanted', { timeout: 60_000 }, async () => {
    const { context, page } = await profile();
    await page.goto(web.origin);
    await logIn(page, 'West Betuwe', 'Schuldhulpverlener — West Betuwe');
    web.clock.advance(16 * 60_000);
    await page.goto(`${web.origin}/start?weergave=lijst`);
    expect(new URL(page.url()).pathname).toBe('/');
    expect(await page.getByRole('status').textContent()).toContain('Uw sessie is verlopen');
    // The provider's own session is still there: choosing the organisation logs in without an account page.
    await page.getByRole('button', { name: 'West Betuwe', exact: true }).click();
    await page.waitForURL(`${web.origin}/start?weergave=lijst`);
    expect(await page.locator('.doelpoort-header__who').textContent()).toContain('Schuldhulpverlener · West Betuwe');
    await context.close();
  });
});

describe('a form post from another page', () => {
  /** A page elsewhere that posts to the gateway's /logout, with the session's real CSRF token (as if it had leaked). */
  async function attacker(host: string, csrf: string): Promise<{ url: string; close(): void }> {
    const server = http.createServer((_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(
        `<!doctype html><html lang="en"><title>Win a prize</title><form method="post" action="${web.origin}/logout"><input type="hidden" name="csrf" value="${csrf}"><button>Claim</button></form></html>`,
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://${host}:${(server.address() as AddressInfo).port}/`, close: () => server.close() };
  }

  it('is refused: cross-site (SameSite keeps the cookie home) and same-site from another origin (Origin, a 403 page)', { timeout: 60_000 }, async () => {
    const { context, page } = await profile();
    await page.goto(web.origin);
    await logIn(page, 'Culemborg', 'Participatiecoach — Culemborg');
    const csrf = (await page.locator('input[name="csrf"]').first().getAttribute('value'))!;
    const lines = () => web.auditEntries().filter((e) => e.action === 'session.ended' && (e.actor as { sub?: string }).sub === 'demo-participatiecoach-gm0216');

    const crossSite = await attacker('localhost', csrf);
    await page.goto(crossSite.url);
    await page.getByRole('button', { name: 'Claim' }).click();
    await page.waitForLoadState();
    crossSite.close();
    // The browser sent no cookie with the cross-site post, so the gateway saw nobody to log out and sent the browser
    // to its start page, where the (top-level GET) navigation carries the cookie again: still logged in.
    expect(new URL(page.url()).pathname).toBe('/start');
    expect(lines()).toEqual([]);

    const sameSite = await attacker('127.0.0.1', csrf);
    await page.goto(sameSite.url);
    await page.getByRole('button', { name: 'Claim' }).click();
    await page.waitForLoadState();
    sameSite.close();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Dit verzoek is geweigerd');
    expect(web.auditEntries().at(-1)).toMatchObject({ action: 'request.refused', reason: 'CSRF_ORIGIN_MISMATCH', httpStatus: 403 });
    await expectAccessible(page, 'csrf-refused');

    // Neither post ended the session.
    expect(lines()).toEqual([]);
    await page.goto(`${web.origin}/start`);
    expect(new URL(page.url()).pathname).toBe('/start');
    await context.close();
  });
});
