import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditFacts } from '../../src/audit/facts.js';
import { DAY_MS } from '../../src/clock.js';
import { grantNoodtoegang } from '../../src/noodtoegang/grant.js';
import { startWebServer, type WebServer } from '../web-support.js';
import { axeViolations, launchChromium } from './chromium.js';

/**
 * Emergency access in Chromium, through the real login: the coach asks for a client not in their lists with the
 * keyboard only (a short reason refused beside the field first), logs in again, confirms and sees the emergency view;
 * the same form works without JavaScript; a Werkzaak officer finds the overdue access on the console's start page and
 * records a verdict. Every page axe-clean; screenshots to DOELPOORT_SCREENSHOTS when set.
 */

const SHOTS = process.env.DOELPOORT_SCREENSHOTS;
const CLIENT = 'WZR-100001';
const REDEN = 'Overdracht is mondeling toegezegd maar nog niet geregistreerd; cliënt staat aan de balie.';

let browser: Browser;
let web: WebServer;
beforeAll(async () => {
  // Sessions outlast an emergency access's 15 minutes, so that its end can be seen in the same session.
  [browser, web] = await Promise.all([launchChromium(), startWebServer({ env: { DOELPOORT_SESSION_IDLE_MINUTES: '60' } })]);
});
afterAll(async () => {
  await browser?.close();
  await web?.close();
});

async function expectAccessible(page: Page, name: string): Promise<void> {
  expect(await axeViolations(page), name).toEqual([]);
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `noodtoegang-${name}.png`), fullPage: true });
}

/** A fresh browser profile logged in on the start page as `account` of `organisation`. */
async function loggedIn(organisation: string, account: string, options: { javaScriptEnabled?: boolean } = {}) {
  const context: BrowserContext = await browser.newContext(options);
  const page = await context.newPage();
  await page.goto(`${web.origin}/`);
  await page.getByRole('button', { name: organisation, exact: true }).click();
  await page.waitForURL(/\/demo-idp\/interaction\//);
  await page.getByRole('button', { name: account, exact: true }).click();
  await page.waitForURL(`${web.origin}/start`);
  return { context, page };
}

/** Presses Tab until the element with `id` has the focus (keyboard only). */
async function tabTo(page: Page, id: string): Promise<void> {
  for (let n = 0; n < 40; n++) {
    await page.keyboard.press('Tab');
    if ((await page.evaluate('document.activeElement && document.activeElement.id')) === id) return;
  }
  throw new Error(`Tab never reached #${id}`);
}

const h1 = (page: Page) => page.getByRole('heading', { level: 1 }).textContent();

describe('the coach’s emergency access in the browser', () => {
  it('request with the keyboard, a short reason refused, log in again, confirm, the emergency view', { timeout: 90_000 }, async () => {
    const { context, page } = await loggedIn('West Betuwe', 'Participatiecoach — West Betuwe');
    await page.getByRole('link', { name: 'Mijn KP4-cliënten', exact: true }).first().click();
    await page.getByRole('link', { name: 'Noodtoegang aanvragen' }).click();
    expect(await h1(page)).toBe('Noodtoegang aanvragen');
    expect(await page.getByText('U hebt er deze week nog 3 over.').count()).toBe(1);
    await expectAccessible(page, 'aanvragen');

    await tabTo(page, 'clientRef');
    await page.keyboard.type(CLIENT);
    await page.keyboard.press('Tab');
    await page.keyboard.type('te kort');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement && document.activeElement.textContent.trim()')).toBe('Opnieuw inloggen en noodtoegang aanvragen');
    await page.keyboard.press('Enter');
    await page.waitForLoadState();
    expect(await page.locator('#reden-fout').textContent()).toContain('De reden is te kort');
    expect(await page.getByLabel('Reden').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Cliëntnummer').inputValue()).toBe(CLIENT);
    await expectAccessible(page, 'reden-te-kort');

    await page.getByLabel('Reden').fill(REDEN);
    await page.getByLabel('Reden').focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/demo-idp\/interaction\//);
    await page.getByRole('button', { name: 'Participatiecoach — West Betuwe', exact: true }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(`${web.origin}/noodtoegang/bevestigen`);
    expect(await page.getByText(REDEN).count()).toBe(1);
    await expectAccessible(page, 'bevestigen');

    await page.getByRole('button', { name: 'Noodtoegang openen' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(`${web.origin}/noodtoegang/inzage`);
    expect(await page.getByText('Noodtoegang — wordt beoordeeld').count()).toBe(1);
    expect(await h1(page)).toContain('Anna');
    expect(await page.content()).not.toMatch(/Chronische depressieve|Sertraline|Gesprekstherapie/);
    await expectAccessible(page, 'inzage');
    const last = web.auditEntries().at(-1)!;
    expect(last).toMatchObject({ action: 'record.read', outcome: 'permit', noodtoegang: true, clientRef: CLIENT, channel: 'web' });

    // Fifteen minutes later the view is gone.
    web.clock.advance(15 * 60_000 + 1);
    try {
      await page.reload();
      expect(await h1(page)).toBe('Geen noodtoegang (meer)');
      await expectAccessible(page, 'verlopen');
    } finally {
      web.clock.advance(-(15 * 60_000 + 1));
    }
    await context.close();
  });

  it('the request form works without JavaScript', { timeout: 60_000 }, async () => {
    const { context, page } = await loggedIn('Tiel', 'Participatiecoach — Tiel', { javaScriptEnabled: false });
    await page.goto(`${web.origin}/noodtoegang`);
    await page.getByLabel('Cliëntnummer').fill('123456782');
    await page.getByLabel('Reden').fill(REDEN);
    await page.getByRole('button', { name: 'Opnieuw inloggen en noodtoegang aanvragen' }).click();
    await page.waitForLoadState();
    expect(await page.locator('#clientRef-fout').textContent()).toContain('Dit lijkt een BSN');
    expect(await page.content()).not.toContain('123456782');
    await page.getByLabel('Cliëntnummer').fill(CLIENT);
    await page.getByRole('button', { name: 'Opnieuw inloggen en noodtoegang aanvragen' }).click();
    await page.waitForURL(/\/demo-idp\/interaction\//);
    await page.getByRole('button', { name: 'Participatiecoach — Tiel', exact: true }).click();
    await page.waitForURL(`${web.origin}/noodtoegang/bevestigen`);
    await page.getByRole('button', { name: 'Noodtoegang openen' }).click();
    await page.waitForURL(`${web.origin}/noodtoegang/inzage`);
    expect(await page.getByText('Noodtoegang — wordt beoordeeld').count()).toBe(1);
    await context.close();
  });

  it('a werkcoach is told that emergency access is not for them', { timeout: 60_000 }, async () => {
    const { context, page } = await loggedIn('Werkzaak Rivierenland', 'Werkcoach — Werkzaak Rivierenland');
    await page.goto(`${web.origin}/noodtoegang`);
    expect(await page.getByText('Noodtoegang is voor u niet mogelijk').count()).toBe(1);
    expect(await page.locator('form[action="/noodtoegang"]').count()).toBe(0);
    await expectAccessible(page, 'werkcoach');
    await context.close();
  });
});

describe('the review queue in the browser', () => {
  it('an officer sees the overdue access on /beheer, opens it and records a verdict', { timeout: 90_000 }, async () => {
    // An access eight days old, granted through the grant verb with the gateway's clock set back.
    const requester = {
      issuer: `${web.origin}/demo-idp`,
      sub: 'demo-participatiecoach-gm0297',
      role: 'participatiecoach' as const,
      org: 'GM0297',
      purpose: 'begeleiding-kp4' as const,
      clientId: 'doelpoort-web',
    };
    const facts = auditFacts(
      { trace: { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') }, origin: 'test', channel: 'web' },
      requester,
    );
    web.clock.advance(-8 * DAY_MS);
    const old = await grantNoodtoegang(
      { uow: web.deps.uow, clock: web.deps.clock, noodtoegang: { policies: web.deps.policies, perWeek: 3 } },
      { requester, facts, done: 303 },
      { clientRef: 'WZR-100002', reden: REDEN },
    ).finally(() => web.clock.advance(8 * DAY_MS));

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${web.origin}/beheer`);
    await page.getByRole('button', { name: 'Werkzaak Rivierenland', exact: true }).click();
    await page.getByRole('button', { name: 'Privacy officer — Werkzaak Rivierenland', exact: true }).click();
    await page.waitForURL(`${web.origin}/beheer`);
    expect(await page.getByRole('alert').textContent()).toMatch(/\d+ noodtoegang(en)? wacht(en)? langer dan 7 dagen op een oordeel/);
    await expectAccessible(page, 'beheer-te-laat');
    await page.getByRole('link', { name: 'Naar de noodtoegang die op een oordeel wacht' }).click();
    expect(await h1(page)).toBe('Noodtoegang beoordelen');
    await expectAccessible(page, 'wachtrij');

    await page.locator(`a[href="/beheer/noodtoegang/${old.id}"]`).click();
    expect(await page.getByText('Te laat beoordeeld').count()).toBeGreaterThan(0);
    await expectAccessible(page, 'item');
    // With the keyboard only: a verdict without a note first, refused beside the field.
    await tabTo(page, 'oordeel-terecht');
    await page.keyboard.press('ArrowDown');
    expect(await page.getByLabel('Onterecht').isChecked()).toBe(true);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForLoadState();
    expect(await page.locator('#toelichting-fout').textContent()).toContain('Schrijf een toelichting');
    expect(await page.getByLabel('Onterecht').isChecked()).toBe(true);
    await expectAccessible(page, 'oordeel-zonder-toelichting');
    await tabTo(page, 'toelichting');
    await page.keyboard.type('Geen overdracht in voorbereiding; besproken met de coach.');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${web.origin}/beheer/noodtoegang/${old.id}?vastgelegd=1`);
    expect(await page.getByText('Het oordeel is vastgelegd').count()).toBe(1);
    await expectAccessible(page, 'oordeel');
    expect(web.auditEntries().findLast((e) => e.action === 'noodtoegang.verdict')).toMatchObject({
      outcome: 'permit',
      verdict: 'onterecht',
      noodtoegangId: old.id,
    });

    // The audit log's filter errors beside their fields.
    await page.goto(`${web.origin}/beheer/auditlog?from=2026-03-10&to=2026-03-01`);
    expect(await page.locator('#f-to-fout').textContent()).toContain('De einddatum ligt vóór de begindatum.');
    await expectAccessible(page, 'auditlog-filterfout');
    await context.close();
  });
});
