import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupTokens } from '../token-support.js';
import { type Persona, webApp } from '../web-pages-support.js';
import { axeViolations, launchChromium } from './chromium.js';

/**
 * The role pages in a real browser: Debian's Chromium against the real server (port 0) with the test-only session
 * wrapper. Every page, error pages included, is checked with axe-core (WCAG 2.1 A and AA), for reflow at 320 CSS
 * pixels, and the handover page for keyboard use and print. With SCREENSHOT_DIR set, screenshots (desktop, 320 px,
 * print emulation) are written there to be looked at.
 */

let ctx: Awaited<ReturnType<typeof setupTokens>>;
let server: ServerType;
let base: string;
let browser: Browser;
const screenshots = process.env.SCREENSHOT_DIR;

beforeAll(async () => {
  ctx = await setupTokens();
  server = serve({ fetch: webApp(ctx).fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
  if (screenshots) fs.mkdirSync(screenshots, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

/** A browser context logged in as `persona`, `width` CSS pixels wide. */
function as(persona: Persona, width = 1280): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width, height: 900 }, extraHTTPHeaders: { 'x-test-persona': persona } });
}

/** Whether the page scrolls sideways (WCAG 1.4.10 reflow: at 320 CSS pixels it must not). */
const pageWidth = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);

async function shoot(page: Page, name: string) {
  if (screenshots) await page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });
}

/** Every page of the role pages, with the status it answers. */
const PAGES: Array<[name: string, persona: Persona, path: string, status: number]> = [
  ['overzicht-coach', 'coach', '/start', 200],
  ['overzicht-werkcoach', 'werkcoach', '/start', 200],
  ['overzicht-schuldhulp', 'counsellor', '/start', 200],
  ['overzicht-privacy-officer', 'officer', '/start', 200],
  ['overdrachten', 'coach', '/overdrachten', 200],
  ['overdracht', 'coach', '/overdrachten/WZR-100001', 200],
  ['kp4-clienten', 'coachWmw', '/clienten', 200],
  ['client-kp4', 'coachWmw', '/clienten/WZR-100005', 200],
  ['terugmeldingen', 'werkcoach', '/terugmeldingen', 200],
  ['terugmelding', 'werkcoach', '/terugmeldingen/WZR-100003', 200],
  ['schuldhulp', 'counsellor', '/schuldhulp', 200],
  ['schuldhulp-client', 'counsellor', '/schuldhulp/clienten/WZR-100004', 200],
  ['mijn-gebruik', 'coach', '/mijn-gebruik', 200],
  ['fout-403', 'coachTiel', '/overdrachten/WZR-100001', 403],
  ['fout-404', 'coach', '/bestaat-niet', 404],
  ['fout-400', 'coach', '/clienten/123456789', 400],
  ['fout-500', 'coach', '/test/kapot', 500],
];

describe('every page', () => {
  // axe runs at 320 px, where the tables' own regions scroll (its scrollable-region-focusable rule needs them to).
  it.each(PAGES)('%s: axe-clean, no sideways scrolling at 320 px', async (name, persona, url, status) => {
    for (const width of [320, 1280]) {
      const context = await as(persona, width);
      const page = await context.newPage();
      const res = await page.goto(base + url);
      expect(res?.status()).toBe(status);
      if (width === 320) {
        expect(await axeViolations(page)).toEqual([]);
        expect(await pageWidth(page)).toBeLessThanOrEqual(320);
      }
      await shoot(page, `${name}-${width}`);
      await context.close();
    }
  });

  it('fout-503: the page when no audit line can be written is axe-clean too, and shows no client data', async () => {
    ctx.db.$client.exec(`CREATE TRIGGER audit_full BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
    const context = await as('coach');
    try {
      const page = await context.newPage();
      expect((await page.goto(`${base}/overdrachten/WZR-100001`))?.status()).toBe(503);
      expect(await page.textContent('main')).not.toContain('Anna');
      expect(await axeViolations(page)).toEqual([]);
      await shoot(page, 'fout-503-1280');
    } finally {
      ctx.db.$client.exec('DROP TRIGGER audit_full');
      await context.close();
    }
  });
});

describe('the look-up by BSN in the browser (a POST form under the page CSP)', () => {
  it('an unknown BSN gives the form again, empty, its error tied to the field, axe-clean and reflowing at 320 px', async () => {
    const context = await as('counsellor', 320);
    const page = await context.newPage();
    await page.goto(`${base}/schuldhulp`);
    await page.fill('#bsn', '111222333');
    await Promise.all([page.waitForURL(`${base}/schuldhulp/zoeken`), page.getByRole('button', { name: 'Zoeken' }).click()]);
    expect(await page.inputValue('#bsn')).toBe('');
    expect(await page.getAttribute('#bsn', 'aria-invalid')).toBe('true');
    expect(await page.getAttribute('#bsn', 'aria-describedby')).toContain('bsn-fout');
    expect(await page.textContent('#bsn-fout')).toContain('Er is geen cliënt met dit BSN');
    expect(await page.content()).not.toContain('111222333');
    expect(await axeViolations(page)).toEqual([]);
    expect(await pageWidth(page)).toBeLessThanOrEqual(320);
    await shoot(page, 'zoeken-fout-320');
    await context.close();
  });

  it('a BSN of the caseload leads to the client’s page, whose address holds the clientRef, never the BSN', async () => {
    const context = await as('counsellor');
    const page = await context.newPage();
    await page.goto(`${base}/schuldhulp`);
    await page.fill('#bsn', '101013036');
    await Promise.all([page.waitForURL(`${base}/schuldhulp/clienten/WZR-100004`), page.getByRole('button', { name: 'Zoeken' }).click()]);
    expect(await page.textContent('h1')).toBe('Kees van den Berg');
    await context.close();
  });
});

describe('the handover page', () => {
  it('keyboard: the skip link is the first Tab stop and moves the focus to main', async () => {
    const context = await as('coach');
    const page = await context.newPage();
    await page.goto(`${base}/overdrachten/WZR-100001`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { className: string } } }).document.activeElement.className)).toBe(
      'doelpoort-skip-link',
    );
    expect(await page.isVisible('.doelpoort-skip-link')).toBe(true);
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } } }).document.activeElement.id)).toBe('inhoud');
    await context.close();
  });

  it('keyboard: at 320 px a wide table scrolls in its own named region, which takes the focus and moves with the arrow keys', async () => {
    const context = await as('coach', 320);
    const page = await context.newPage();
    await page.goto(`${base}/overdrachten`);
    const region = page.locator('.doelpoort-table-scroll').first();
    expect(await region.getAttribute('aria-label')).toBe('Overdrachten van KP3 naar KP4');
    expect(await region.evaluate((el: { scrollWidth: number; clientWidth: number }) => el.scrollWidth > el.clientWidth)).toBe(true);
    await region.focus();
    const outline = await region.evaluate(
      (el) => (globalThis as unknown as { getComputedStyle(e: unknown): { outlineStyle: string } }).getComputedStyle(el).outlineStyle,
    );
    expect(outline).not.toBe('none');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    // Keyboard scrolling may be animated: the offset is asked until it moved.
    await expect.poll(() => region.evaluate((el: { scrollLeft: number }) => el.scrollLeft), { timeout: 5000 }).toBeGreaterThan(0);
    await context.close();
  });

  it('print: page.pdf() makes an A4 document; the print CSS hides the navigation and shows the print header', async () => {
    const context = await as('coach');
    const page = await context.newPage();
    await page.goto(`${base}/overdrachten/WZR-100001`);
    await shoot(page, 'overdracht-scherm');
    await page.emulateMedia({ media: 'print' });
    const display = (selector: string) =>
      page.$eval(selector, (el) => (globalThis as unknown as { getComputedStyle(e: unknown): { display: string } }).getComputedStyle(el).display);
    for (const hidden of ['.doelpoort-header', '.doelpoort-nav', '.doelpoort-footer', '.doelpoort-no-print']) expect(await display(hidden)).toBe('none');
    // The print header is the header row of a table, which the browser repeats at the top of every printed page.
    expect(await display('.doelpoort-print-header')).toBe('table-header-group');
    expect(await page.textContent('thead.doelpoort-print-header')).toMatch(/Vertrouwelijk · cliënt WZR-100001/);
    await shoot(page, 'overdracht-print');
    const pdf = await page.pdf({ format: 'A4', preferCSSPageSize: true, printBackground: true });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page\b/g) ?? []).length;
    expect(pages).toBeGreaterThanOrEqual(2);
    if (screenshots) fs.writeFileSync(path.join(screenshots, 'overdracht.pdf'), pdf);
    await context.close();
  });

  it('the API’s printable page (Accept: text/html) is the same component, axe-clean, without the session’s header', async () => {
    const { accessToken } = await import('../security-matrix.js');
    const token = await accessToken(ctx, {
      user: { sub: 'api-coach', role: 'participatiecoach', org: 'GM1960' },
      purpose: 'overdracht-kp4',
      client: 'WZR-100001',
    });
    const context = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${token}`, accept: 'text/html' } });
    const page = await context.newPage();
    expect((await page.goto(`${base}/v1/clients/WZR-100001/handover-document`))?.status()).toBe(200);
    expect(await page.textContent('h1')).toBe('Overdracht KP3 naar KP4');
    expect(await page.$('.doelpoort-nav')).toBeNull();
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  });
});
