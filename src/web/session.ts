import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { auditFacts } from '../audit/facts.js';
import { DoelpoortError } from '../errors.js';
import { requestFacts } from '../http/context.js';
import type { AppDeps } from '../http/deps.js';
import type { HonoEnv } from '../http/env.js';
import { usePageCsp } from '../http/security-headers.js';
import { refuse } from '../unit-of-work.js';
import { renderPage } from './layout.js';
import { endExpiredSession, webRequestFacts } from './login.js';
import { ForbiddenPage, pageUser, UnavailablePage } from './login-pages.js';
import { isSameOriginRequest } from './same-origin.js';
import { constantTimeEqual, TOUCH_EVERY_MS } from './sessions.js';

/**
 * The web application's session and CSRF middleware, for the login routes and the role pages alike. The browser
 * holds one opaque cookie, `__Host-doelpoort-sessie` (HttpOnly, Secure, SameSite=Lax, Path=/, no Domain: the
 * `__Host-` prefix makes the browser refuse it otherwise); no token ever reaches it.
 */

/** The names of the cookies without their `__Host-` prefix (hono's `prefix: 'host'` adds it and enforces its rules). */
const SESSION = 'doelpoort-sessie';
const BINDING = 'doelpoort-login';
/** The cookies as the browser names them. */
export const SESSION_COOKIE = `__Host-${SESSION}`;
export const BINDING_COOKIE = `__Host-${BINDING}`;

const COOKIE = { prefix: 'host', path: '/', secure: true, httpOnly: true, sameSite: 'Lax' } as const;

/** The session id of this request's cookie, if any. */
export const sessionIdOf = (c: Context<HonoEnv>): string | undefined => getCookie(c, SESSION, 'host');
/** Hands the browser its new session's id; a browser-session cookie: the server decides when it expires. */
export const setSessionCookie = (c: Context<HonoEnv>, id: string): void => setCookie(c, SESSION, id, COOKIE);
export const clearSessionCookie = (c: Context<HonoEnv>): void => void deleteCookie(c, SESSION, COOKIE);

/** The pre-login cookie that binds a pending login to the browser that started it (ten minutes). */
export const bindingOf = (c: Context<HonoEnv>): string | undefined => getCookie(c, BINDING, 'host');
export const setBindingCookie = (c: Context<HonoEnv>, value: string): void => setCookie(c, BINDING, value, { ...COOKIE, maxAge: 600 });
export const clearBindingCookie = (c: Context<HonoEnv>): void => void deleteCookie(c, BINDING, COOKIE);

/** The facts of this web request's audit lines (channel `web`, client `doelpoort-web`). */
export const webFacts = (c: Context<HonoEnv>) => webRequestFacts(requestFacts(c));

/** The longest path remembered to return to after a login. */
const MAX_RETURN_PATH = 512;

/**
 * A path on this gateway to return to after logging in, or undefined: a same-origin path only (never `//host`, `/\host`
 * or a URL), never back into the login itself. `publicUrl` is the gateway's own.
 */
export function safeReturnPath(value: unknown, publicUrl: string): string | undefined {
  if (typeof value !== 'string' || value.length > MAX_RETURN_PATH || !value.startsWith('/')) return undefined;
  // Printable URL characters only: no control character, space or backslash that a browser might read otherwise.
  if (value.startsWith('//') || !/^[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/.test(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value, publicUrl);
  } catch {
    return undefined;
  }
  if (url.origin !== new URL(publicUrl).origin) return undefined;
  if (['/', '/login', '/logout', '/auth/callback', '/uitgelogd'].includes(url.pathname)) return undefined;
  return `${url.pathname}${url.search}`;
}

/** 303 to `location`; never stored. */
export function seeOther(c: Context<HonoEnv>, location: string): Response {
  c.header('cache-control', 'no-store');
  return c.redirect(location, 303);
}

/** Back to the start page, remembering the page asked for (a GET only: a form post cannot be repeated). */
function toStart(c: Context<HonoEnv>, publicUrl: string, expired: boolean): Response {
  const wanted = c.req.method === 'GET' ? safeReturnPath(`${c.req.path}${new URL(c.req.url).search}`, publicUrl) : undefined;
  const query = new URLSearchParams({ ...(wanted ? { terug: wanted } : {}), ...(expired ? { verlopen: '1' } : {}) }).toString();
  return seeOther(c, query ? `/?${query}` : '/');
}

/** A page of its own for "the audit line could not be written": no line, nothing done. */
async function unavailable(c: Context<HonoEnv>): Promise<Response> {
  const nonce = usePageCsp(c);
  return c.html(await renderPage(UnavailablePage({ nonce })), 503);
}

/**
 * Requires a live session: sets `c.get('session')` (the login and the CSRF token; no token of the provider) and
 * records activity (at most one write a minute). Without one, 303 to the start page with the wanted path remembered;
 * an expired session first ends, with its `session.ended` line, and the start page says so.
 */
export function requireSession(deps: Pick<AppDeps, 'sessions' | 'uow' | 'config' | 'clock'>): MiddlewareHandler<HonoEnv> {
  const { publicUrl } = deps.config;
  return createMiddleware<HonoEnv>(async (c, next) => {
    const id = sessionIdOf(c);
    if (id === undefined) return toStart(c, publicUrl, false);
    const found = await deps.sessions.get(id);
    if (found.status === 'unknown') {
      clearSessionCookie(c);
      return toStart(c, publicUrl, false);
    }
    if (found.status === 'expired') {
      try {
        await endExpiredSession(deps, id, found.reason, webFacts(c));
      } catch (error) {
        // Another request of this browser ended it first, and wrote the line.
        if (!(error instanceof DoelpoortError) || error.reason !== 'SESSION_ALREADY_ENDED') return unavailable(c);
      }
      clearSessionCookie(c);
      return toStart(c, publicUrl, true);
    }
    if (deps.clock.now() - found.lastSeenAt >= TOUCH_EVERY_MS) await deps.sessions.touch(id);
    c.set('session', found.session);
    await next();
    return undefined;
  });
}

/** The unsafe methods a CSRF check guards; a GET or HEAD changes nothing. */
const isUnsafe = (method: string) => method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';

/** Refuses a form post with a Dutch 403 page, after its `request.refused` line (reason `reason`, the actor if known). */
async function forbidden(c: Context<HonoEnv>, deps: Pick<AppDeps, 'uow'>, reason: string): Promise<Response> {
  const session = c.get('session') as HonoEnv['Variables']['session'] | undefined;
  const refusal = new DoelpoortError('ACCESS_DENIED', 'the form post was refused', [], { reason });
  try {
    await refuse(deps.uow, refusal, { action: 'request.refused', ...auditFacts(webFacts(c), session?.login) });
  } catch (error) {
    if (error !== refusal) return unavailable(c);
  }
  const nonce = usePageCsp(c);
  return c.html(await renderPage(ForbiddenPage({ nonce, user: session ? pageUser(session.login, session.csrfToken) : undefined })), 403);
}

const sameOrigin = (c: Context<HonoEnv>, origin: string) =>
  isSameOriginRequest({ origin: c.req.header('origin'), secFetchSite: c.req.header('sec-fetch-site') }, origin);

/**
 * For a form post without a session yet (the login itself): it must come from a page of this gateway (`Origin`, see
 * isSameOriginRequest). A refusal is a Dutch 403 page and a `request.refused` line (`CSRF_ORIGIN_MISMATCH`).
 */
export function requireSameOrigin(deps: Pick<AppDeps, 'uow' | 'config'>): MiddlewareHandler<HonoEnv> {
  const origin = new URL(deps.config.publicUrl).origin;
  return createMiddleware<HonoEnv>(async (c, next) => {
    if (isUnsafe(c.req.method) && !sameOrigin(c, origin)) return forbidden(c, deps, 'CSRF_ORIGIN_MISMATCH');
    await next();
    return undefined;
  });
}

/**
 * CSRF protection of every web form post, after requireSession: besides the SameSite=Lax cookie, the post must come
 * from a page of this gateway (`Origin`) and carry this session's token in its hidden field `csrf`, compared in
 * constant time. A refusal is a Dutch 403 page and a `request.refused` line (`CSRF_ORIGIN_MISMATCH`,
 * `CSRF_TOKEN_INVALID`); GET and HEAD pass.
 */
export function requireCsrf(deps: Pick<AppDeps, 'uow' | 'config'>): MiddlewareHandler<HonoEnv> {
  const origin = new URL(deps.config.publicUrl).origin;
  return createMiddleware<HonoEnv>(async (c, next) => {
    if (!isUnsafe(c.req.method)) return next();
    if (!sameOrigin(c, origin)) return forbidden(c, deps, 'CSRF_ORIGIN_MISMATCH');
    const session = c.get('session') as HonoEnv['Variables']['session'] | undefined;
    if (!session) throw new TypeError('requireCsrf: mount it after requireSession');
    const type = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase();
    const form = type === 'application/x-www-form-urlencoded' || type === 'multipart/form-data' ? await c.req.parseBody() : {};
    const token = form.csrf;
    if (typeof token !== 'string' || !constantTimeEqual(token, session.csrfToken)) return forbidden(c, deps, 'CSRF_TOKEN_INVALID');
    await next();
    return undefined;
  });
}
