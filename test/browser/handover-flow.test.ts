import fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_EXPORT_FILE } from '../../src/demo.js';
import { SESSION_COOKIE } from '../../src/web/session.js';
import { startWebServer, type WebServer } from '../web-support.js';
import { axeViolations, launchChromium } from './chromium.js';

// The "done when", as a newcomer does it: log in as the demo coach of West Betuwe through the real OIDC flow,
// find the client being handed over in the inbox, read the handover; nothing on screen the policy does not release.

const anna = fs
  .readFileSync(EXAMPLE_EXPORT_FILE, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l))
  .find((r) => r.clientRef === 'WZR-100001');
const onderzoek = anna.belastbaarheidsonderzoeken[0];
/** Values that must never reach a page: the medical core, the BSN. */
const NEVER = [anna.bsn, onderzoek.diagnose, onderzoek.behandeling, onderzoek.medicatie, onderzoek.medischeToelichting];

let browser: Browser;
let web: WebServer;
beforeAll(async () => {
  [browser, web] = await Promise.all([launchChromium(), startWebServer()]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await web?.close();
});

describe('a participatiecoach reads a handover in the browser', () => {
  it('logs in, finds the client in the inbox, opens the handover: the findings, the signals, and no guardrail value or BSN', { timeout: 90_000 }, async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const documents: string[] = [];
    page.on('response', async (res) => {
      if (res.request().resourceType() === 'document') documents.push(await res.text().catch(() => ''));
    });
    await page.goto(web.origin);
    await page.getByRole('button', { name: 'West Betuwe', exact: true }).click();
    await page.getByRole('button', { name: 'Participatiecoach — West Betuwe', exact: true }).click();
    await page.waitForURL(`${web.origin}/start`);

    await page
      .getByRole('navigation', { name: 'Hoofdmenu' })
      .getByRole('link', { name: /overdracht/i })
      .first()
      .click();
    await page.waitForURL(`${web.origin}/overdrachten`);
    expect(await axeViolations(page)).toEqual([]);
    const row = page.getByRole('row', { name: /WZR-100001/ });
    await expect.poll(() => row.count()).toBe(1);
    await row.getByRole('link').first().click();
    await page.waitForURL(`${web.origin}/overdrachten/WZR-100001`);

    const text = await page.locator('main').textContent();
    expect(text).toContain(onderzoek.functioneleBeperkingen[0].omschrijving);
    expect(text).toContain(onderzoek.advies);
    expect(text).toMatch(/driegesprek/i);
    expect(text).toContain('Niet gedeeld');
    expect(await axeViolations(page)).toEqual([]);
    for (const html of documents) for (const value of NEVER) expect(html).not.toContain(value);

    // Every page view of client data is the API's decision and audit line, on the web channel.
    const lines = web.auditEntries().filter((l) => l.clientRef === 'WZR-100001' && l.action === 'document.read');
    expect(lines).toEqual([expect.objectContaining({ outcome: 'permit', channel: 'web', clientId: 'doelpoort-web', purpose: 'overdracht-kp4' })]);

    // Guessing another client's URL: the one 403 page, and its deny line.
    const guessed = await page.goto(`${web.origin}/overdrachten/WZR-100002`);
    expect(guessed?.status()).toBe(403);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Geen toegang');
    expect(web.auditEntries().at(-1)).toMatchObject({ action: 'document.read', outcome: 'deny', clientRef: 'WZR-100002', channel: 'web' });

    // The browser holds the one opaque session cookie and nothing else of ours; no token in storage.
    expect((await context.cookies(web.origin)).map((c) => c.name)).toEqual([SESSION_COOKIE]);
    expect(await page.evaluate('localStorage.length + sessionStorage.length')).toBe(0);
    await context.close();
  });
});
