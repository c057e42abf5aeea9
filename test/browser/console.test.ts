import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { appendLine } from '../../src/unit-of-work.js';
import { startWebServer, type WebServer } from '../web-support.js';
import { sqliteAudit } from '../support.js';
import { axeViolations, launchChromium } from './chromium.js';

/**
 * The privacy officer's console in Chromium, through the real login: walking the audit log with a filter; two officers
 * in two browser contexts proposing, simulating, computing the impact and approving (the second after logging in
 * again); every console page axe-clean. Screenshots go to DOELPOORT_SCREENSHOTS (when set) for a person to look at.
 */

const SHOTS = process.env.DOELPOORT_SCREENSHOTS;
const CLIENT = 'WZR-100001';

let browser: Browser;
let web: WebServer;
beforeAll(async () => {
  [browser, web] = await Promise.all([launchChromium(), startWebServer()]);
});
afterAll(async () => {
  await browser?.close();
  await web?.close();
});

async function screenshot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `console-${name}.png`), fullPage: true });
}

async function expectAccessible(page: Page, name: string): Promise<void> {
  expect(await axeViolations(page), name).toEqual([]);
  await screenshot(page, name);
}

/** A fresh browser profile logged in as the demo account on `button`, on the console's start page. */
async function officer(organisation: string, account: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${web.origin}/beheer`);
  await page.getByRole('button', { name: organisation, exact: true }).click();
  await page.waitForURL(/\/demo-idp\/interaction\//);
  await page.getByRole('button', { name: account, exact: true }).click();
  await page.waitForURL(`${web.origin}/beheer`);
  return { context, page };
}

const h1 = (page: Page) => page.getByRole('heading', { level: 1 }).textContent();

describe('the audit log in the browser', () => {
  it('an officer logs in, reads the start page and walks the log with a filter', { timeout: 90_000 }, async () => {
    const { context, page } = await officer('Werkzaak Rivierenland', 'Privacy officer — Werkzaak Rivierenland');
    expect(await h1(page)).toBe('Beheer en toezicht');
    expect(await page.getByText('De keten van het auditlog is intact').count()).toBe(1);
    await expectAccessible(page, 'start');

    // Something about the client to find: the access report is a reading of it.
    await page.getByRole('link', { name: 'Inzageverzoek' }).click();
    await page.getByLabel('Cliëntnummer').fill(CLIENT);
    await page.getByRole('button', { name: 'Overzicht opstellen' }).click();
    expect(await page.getByRole('heading', { name: 'Overzicht van raadplegingen van uw gegevens' }).count()).toBe(1);
    await expectAccessible(page, 'inzage');

    await page.getByRole('link', { name: 'Auditlog', exact: true }).click();
    await expectAccessible(page, 'auditlog');
    await page.getByLabel('Cliëntnummer').fill(CLIENT);
    await page.getByLabel('Uitkomst').selectOption('permit');
    await page.getByRole('button', { name: 'Zoeken' }).click();
    const url = new URL(page.url());
    expect(url.searchParams.get('clientRef')).toBe(CLIENT);
    expect(url.searchParams.get('outcome')).toBe('permit');
    const rows = page.locator('table tbody tr');
    expect(await rows.count()).toBeGreaterThan(0);
    for (const cell of await rows.locator('td:nth-child(7)').allTextContents()) expect(cell).toBe(CLIENT);
    // The same lines the log gives for this filter, up to the page's own reading (itself a line about the client).
    const shown = await rows.locator('td:nth-child(1)').allTextContents();
    const api = sqliteAudit(web.deps.audit)
      .list({ clientRef: CLIENT, outcome: 'permit', limit: 100 })
      .items.filter((l) => l.seq <= Number(shown[0]));
    expect(shown).toEqual(api.map((l) => String(l.seq)));
    expect(api[0]!.action).toBe('access-report.read');
    await expectAccessible(page, 'auditlog-filtered');

    await rows.first().getByRole('link').click();
    expect(await h1(page)).toMatch(/^Auditregel \d+$/);
    expect(await page.getByText('webapplicatie').count()).toBe(1);
    await expectAccessible(page, 'auditregel');

    await page.goto(`${web.origin}/beheer/auditlog/controle`);
    await expectAccessible(page, 'controle');
    await context.close();
  });

  it('a coach who opens the console gets the Dutch refusal page', { timeout: 60_000 }, async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${web.origin}/beheer`);
    await page.getByRole('button', { name: 'West Betuwe', exact: true }).click();
    await page.getByRole('button', { name: 'Participatiecoach — West Betuwe', exact: true }).click();
    await page.waitForURL(`${web.origin}/beheer`);
    expect(await h1(page)).toBe('Geen toegang tot het beheer');
    await expectAccessible(page, 'geen-toegang');
    await context.close();
  });
});

describe('a policy change with four eyes', () => {
  it('officer A proposes; officer B simulates, computes the impact and approves after logging in again', { timeout: 120_000 }, async () => {
    const a = await officer('Werkzaak Rivierenland', 'Privacy officer — Werkzaak Rivierenland');
    const b = await officer('Werkzaak Rivierenland', 'Privacy officer — Werkzaak Rivierenland (tweede)');

    // A: a broken proposal first (every problem shown beside the field), then a good one.
    await a.page.goto(`${web.origin}/beheer/beleid`);
    await expectAccessible(a.page, 'beleid');
    await a.page.getByRole('link', { name: 'Nieuwe versie voorstellen' }).click();
    await expectAccessible(a.page, 'beleid-nieuw');
    const field = a.page.getByLabel('Het beleid (YAML)');
    const original = await field.inputValue();
    await field.fill(
      `${original}  - role: werkcoach\n    purpose: overdracht-kp3\n    action: read\n    subject: Belastbaarheidsonderzoek\n    fields: [diagnose]\n`,
    );
    await a.page.getByRole('button', { name: 'Voorstellen als concept' }).click();
    expect(await a.page.getByRole('alert').textContent()).toContain('guardrail: diagnose');
    expect(await field.getAttribute('aria-describedby')).toContain('beleid-problemen');
    await expectAccessible(a.page, 'beleid-problemen');
    await field.fill(`${original}  - role: werkcoach\n    purpose: overdracht-kp3\n    action: read\n    subject: Uitkering\n    fields: [betaaldag]\n`);
    await a.page.getByRole('button', { name: 'Voorstellen als concept' }).click();
    await a.page.waitForURL(/\/beheer\/beleid\/\d+\?voorgesteld=1$/);
    const id = Number(/\/beheer\/beleid\/(\d+)/.exec(a.page.url())![1]);
    expect(await a.page.getByText('Nieuw verstrekt', { exact: true }).count()).toBeGreaterThan(0);
    await expectAccessible(a.page, 'beleid-concept');

    // B: the draft, a simulation under it, its impact.
    await b.page.goto(`${web.origin}/beheer/beleid/${id}`);
    await b.page.getByRole('link', { name: 'Simuleren met dit concept' }).click();
    await b.page.getByLabel('Rol').selectOption('werkcoach');
    await b.page.getByLabel('Organisatie').selectOption('WERKZAAK');
    await b.page.getByLabel('Doel').selectOption('overdracht-kp3');
    await b.page.getByLabel('Een echte cliënt (cliëntnummer)').fill(CLIENT);
    await b.page.getByRole('button', { name: 'Simuleren', exact: true }).click();
    expect(await b.page.getByRole('heading', { name: 'Uitkomst' }).count()).toBe(1);
    await expectAccessible(b.page, 'simuleren');
    await b.page.goto(`${web.origin}/beheer/beleid/${id}/gevolgen`);
    expect(await h1(b.page)).toBe(`Gevolgen van versie ${id}`);
    await expectAccessible(b.page, 'gevolgen');

    // A cannot approve their own draft.
    await a.page.goto(`${web.origin}/beheer/beleid/${id}/goedkeuren`);
    expect(await a.page.getByText('U kunt uw eigen voorstel niet goedkeuren').count()).toBe(1);

    // B approves, after logging in again at the provider.
    await b.page.goto(`${web.origin}/beheer/beleid/${id}`);
    await b.page.getByRole('link', { name: 'Goedkeuren' }).click();
    await expectAccessible(b.page, 'goedkeuren-opnieuw-inloggen');
    await b.page.getByRole('button', { name: 'Opnieuw inloggen om goed te keuren' }).click();
    await b.page.waitForURL(/\/demo-idp\/interaction\//);
    await b.page.getByRole('button', { name: 'Privacy officer — Werkzaak Rivierenland (tweede)', exact: true }).click();
    await b.page.waitForURL(`${web.origin}/beheer/beleid/${id}/goedkeuren`);
    await expectAccessible(b.page, 'goedkeuren');
    await b.page.getByRole('button', { name: `Versie ${id} goedkeuren en laten gelden` }).click();
    await b.page.waitForURL(`${web.origin}/beheer/beleid/${id}?goedgekeurd=1`);
    expect(await b.page.getByText(`Versie ${id} is goedgekeurd en geldt nu.`).count()).toBe(1);
    expect(web.deps.policies.version.id).toBe(id);
    expect(
      web
        .auditEntries()
        .filter((e) => e.action === 'session.reauthenticated')
        .map((e) => (e.actor as { sub: string }).sub),
    ).toContain('demo-privacy-officer-werkzaak-2');
    await expectAccessible(b.page, 'beleid-goedgekeurd');
    await a.context.close();
    await b.context.close();
  });
});

describe('oversight in the browser', () => {
  it('the monthly report, the per-person report and the review trail are axe-clean; a review is recorded', { timeout: 90_000 }, async () => {
    // A coach's reads this month, so that the figures have bars: 3 permitted, 1 denied.
    const actor = { iss: 'https://idp.example', sub: 'coach-a', role: 'participatiecoach' as const, org: 'GM1960' };
    for (const outcome of ['permit', 'permit', 'permit', 'deny'] as const)
      await appendLine(web.deps.uow, {
        action: 'record.read',
        traceId: randomBytes(16).toString('hex'),
        spanId: randomBytes(8).toString('hex'),
        origin: '127.0.0.1',
        actor,
        purpose: 'begeleiding-kp4',
        clientRef: CLIENT,
        outcome,
        reason: outcome === 'permit' ? 'PERMIT' : 'CLIENT_NOT_KP4',
        httpStatus: outcome === 'permit' ? 200 : 403,
        ...(outcome === 'permit' ? { released: ['persoon.voornamen'] } : {}),
      });
    const { context, page } = await officer('Werkzaak Rivierenland', 'Privacy officer — Werkzaak Rivierenland');
    await page.getByRole('link', { name: 'Toezicht', exact: true }).click();
    await page.waitForURL(/\/beheer\/toezicht\/maand/);
    expect(await page.locator('.doelpoort-bars').count()).toBe(8);
    expect(await page.getByRole('heading', { name: 'Raadplegingen: 4' }).count()).toBe(1);
    expect(await page.getByRole('heading', { name: 'Geweigerd: 1' }).count()).toBe(1);
    expect(await page.locator('.doelpoort-bars__item--current .doelpoort-w-100').count()).toBeGreaterThanOrEqual(3);
    await expectAccessible(page, 'toezicht-maand');
    await page.getByLabel('Wat hebt u bekeken, gevonden en gedaan?').fill('Maand bekeken; geen bijzonderheden.');
    await page.getByRole('button', { name: 'Beoordeling vastleggen' }).click();
    await page.waitForURL(/\/beheer\/toezicht\/beoordelingen\?vastgelegd=\d+/);
    expect(await page.getByText('Maand bekeken; geen bijzonderheden.').count()).toBe(1);
    await expectAccessible(page, 'toezicht-beoordelingen');
    await page.getByRole('link', { name: 'Medewerkers' }).click();
    await expectAccessible(page, 'toezicht-personen');
    await context.close();
  });
});
