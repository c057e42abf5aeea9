import { randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { HonoEnv } from './env.js';

/** The Content-Security-Policy of every response that is not a page: nothing may load, nothing may frame it. */
export const DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * The policy of a server-rendered page: only its own nonce-bearing styles; no script, no inline style without it;
 * forms post only back to the gateway (the look-up by BSN, logging out).
 */
export function pageCsp(nonce: string): string {
  return `default-src 'none'; style-src 'nonce-${nonce}'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`;
}

/** Paths whose answers may hold personal data or tokens: never stored by a browser or a proxy. */
const isPrivate = (path: string) => path.startsWith('/v1/') || path === '/oauth/token';

/**
 * Sets the headers every response carries (api.md, Limits and headers) before the handler builds its response, so
 * problems, 404s and the handler's own answers all get them. A page replaces the CSP with `usePageCsp`.
 */
export const securityHeaders = createMiddleware<HonoEnv>(async (c, next) => {
  c.header('x-content-type-options', 'nosniff');
  c.header('referrer-policy', 'no-referrer');
  c.header('content-security-policy', DEFAULT_CSP);
  if (isPrivate(c.req.path)) c.header('cache-control', 'no-store');
  await next();
});

/** A fresh nonce for the page this request answers with, and the page CSP that admits it. */
export function usePageCsp(c: Context<HonoEnv>): string {
  const nonce = randomBytes(16).toString('base64');
  c.header('content-security-policy', pageCsp(nonce));
  return nonce;
}
