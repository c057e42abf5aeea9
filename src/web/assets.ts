import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Hono } from 'hono';
import type { HonoEnv } from '../http/env.js';

const require = createRequire(import.meta.url);

/**
 * The web application's one stylesheet, self-hosted: the NL Design System components of `@utrecht/component-library-css`
 * (EUPL-1.2) with doelpoort's own neutral theme (src/web/theme.css; Utrecht's own design tokens are its brand and not
 * licensed for reuse). Served under a content hash, so it may be cached for good and a new version is a new URL.
 */
function stylesheet(): { css: string; path: string } {
  const components = fs.readFileSync(require.resolve('@utrecht/component-library-css/dist/index.css'), 'utf8');
  const theme = fs.readFileSync(new URL('./theme.css', import.meta.url), 'utf8');
  const css = `${components}\n${theme}`;
  const hash = createHash('sha256').update(css).digest('hex').slice(0, 16);
  return { css, path: `/assets/doelpoort.${hash}.css` };
}

const sheet = stylesheet();

/** The URL the pages link the stylesheet at. */
export const STYLESHEET_PATH = sheet.path;

/** `GET /assets/…`: the stylesheet under its hashed name; anything else there is a 404. */
export function assetRoutes() {
  return new Hono<HonoEnv>().get(STYLESHEET_PATH, (c) =>
    c.body(sheet.css, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=31536000, immutable' }),
  );
}
