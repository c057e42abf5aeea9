import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { axeViolations, launchChromium } from './chromium.js';

// The accessibility checks of every page rest on this harness: it must find what is wrong, also under a strict CSP.
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());

const strict = `<meta http-equiv="Content-Security-Policy" content="default-src 'none'">`;

test('axe-core finds the violations of a page that breaks WCAG, under a Content-Security-Policy that forbids every script', async () => {
  const page = await browser.newPage();
  await page.setContent(`<!doctype html><html><head>${strict}<title>x</title></head><body><img src="data:,"><input></body></html>`);
  const ids = (await axeViolations(page)).map((v) => v.id).sort();
  expect(ids).toEqual(expect.arrayContaining(['html-has-lang', 'image-alt', 'label']));
  await page.close();
});

test('and none on a small page that meets it', async () => {
  const page = await browser.newPage();
  await page.setContent(
    `<!doctype html><html lang="nl"><head>${strict}<title>Proef</title></head><body><main><h1>Proef</h1><label for="b">BSN</label><input id="b"></main></body></html>`,
  );
  expect(await axeViolations(page)).toEqual([]);
  await page.close();
});
