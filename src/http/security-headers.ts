import { randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { baseHeader } from './context.js';
import type { HonoEnv } from './env.js';

/** The Content-Security-Policy of every response that is not a page: nothing may load, nothing may frame it. */
export const DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * The policy of a server-rendered page: only its own nonce-bearing styles; no script, no inline style without it. Its
 * forms may post to the gateway itself and redirect on to `formActionOrigins` (the web login's providers: Chromium
 * applies `form-action` to the redirects that follow a form post, so the login and logout forms need them).
 */
export function pageCsp(nonce: string, formActionOrigins: readonly string[] = []): string {
  const formAction = ["'self'", ...formActionOrigins].join(' ');
  return `default-src 'none'; style-src 'nonce-${nonce}'; base-uri 'none'; form-action ${formAction}; frame-ancestors 'none'`;
}

/** Paths whose answers may hold personal data or tokens: never stored by a browser or a proxy. */
const isPrivate = (path: string) => path.startsWith('/v1/') || path === '/oauth/token';

/**
 * Sets the headers every response carries (api.md, Limits and headers) before the handler builds its response, so
 * problems, 404s and the handler's own answers all get them. A page replaces the CSP with `usePageCsp`;
 * `formActionOrigins` are the origins its forms may redirect to.
 */
export function securityHeaders(formActionOrigins: readonly string[] = []) {
  const origins = Object.freeze([...formActionOrigins]);
  return createMiddleware<HonoEnv>(async (c, next) => {
    baseHeader(c, 'x-content-type-options', 'nosniff');
    baseHeader(c, 'referrer-policy', 'no-referrer');
    baseHeader(c, 'content-security-policy', DEFAULT_CSP);
    if (isPrivate(c.req.path)) baseHeader(c, 'cache-control', 'no-store');
    c.set('formActionOrigins', origins);
    await next();
  });
}

/**
 * A fresh nonce for the page this request answers with, and the page CSP that admits it. Every page is personal or
 * part of a login, so none is ever stored (`Cache-Control: no-store`).
 */
export function usePageCsp(c: Context<HonoEnv>): string {
  const nonce = randomBytes(16).toString('base64');
  c.header('content-security-policy', pageCsp(nonce, c.get('formActionOrigins')));
  c.header('cache-control', 'no-store');
  return nonce;
}
