import type { Context } from 'hono';
import { Hono } from 'hono';
import { isDoelpoortError } from '../errors.js';
import type { AppDeps } from '../http/deps.js';
import type { HonoEnv } from '../http/env.js';
import { usePageCsp } from '../http/security-headers.js';
import { renderPage } from './layout.js';
import { completeLogin, type LoginDeps, type LoginRefusal, logout, startLogin } from './login.js';
import { LoggedOutPage, LoginErrorPage, StartPage, UnavailablePage } from './login-pages.js';
import { CALLBACK_PATH, LOGGED_OUT_PATH } from './oidc.js';
import {
  bindingOf,
  clearBindingCookie,
  clearSessionCookie,
  requireCsrf,
  requireSameOrigin,
  requireSession,
  safeReturnPath,
  seeOther,
  sessionIdOf,
  setBindingCookie,
  setSessionCookie,
  webFacts,
} from './session.js';
import { completeReauthentication, type ReauthRefusal } from './reauth.js';
import { randomToken } from './sessions.js';

/** The status a refused login or re-authentication is answered with (and its audit line records). */
function refusalStatus(reason: LoginRefusal | ReauthRefusal): 400 | 403 | 502 {
  switch (reason) {
    case 'LOGIN_STATE_UNKNOWN':
    case 'LOGIN_BINDING_MISSING':
    case 'LOGIN_BINDING_MISMATCH':
    case 'LOGIN_CANCELLED':
    case 'LOGIN_ORGANISATION_UNKNOWN':
      return 400;
    case 'LOGIN_PROVIDER_UNREACHABLE':
    case 'LOGIN_PROVIDER_ERROR':
    case 'LOGIN_KEYS_UNAVAILABLE':
      return 502;
    default:
      return 403;
  }
}

/** A page of this flow as the answer. */
async function page(c: Context<HonoEnv>, status: 200 | 400 | 403 | 502 | 503, render: (nonce: string) => ReturnType<typeof StartPage>): Promise<Response> {
  const nonce = usePageCsp(c);
  return c.html(await renderPage(render(nonce)), status);
}

/** "No line, nothing done": the one answer when an audit line could not be written. */
const unavailable = (c: Context<HonoEnv>) => page(c, 503, (nonce) => UnavailablePage({ nonce }));

/**
 * Logging in and out: `GET /` (the start page), `POST /login`, `GET /auth/callback`, `POST /logout`, `GET /uitgelogd`,
 * and then `GET /start`, the role's own start page (src/web/pages/routes.tsx). A callback whose `state` is a
 * re-authentication's (src/web/reauth.ts) completes that instead, and goes back to the step that asked for it.
 */
export function loginRoutes(deps: AppDeps): Hono<HonoEnv> {
  const { config } = deps;
  const login: LoginDeps = { ...deps, statusOf: refusalStatus };
  const session = requireSession(deps);

  return new Hono<HonoEnv>()
    .get('/', async (c) => {
      const id = sessionIdOf(c);
      if (id !== undefined && (await deps.sessions.get(id)).status === 'active') return seeOther(c, '/start');
      const returnTo = safeReturnPath(c.req.query('terug'), config.publicUrl);
      return page(c, 200, (nonce) =>
        StartPage({ nonce, organisations: deps.oidc.organisations(), returnTo, expired: c.req.query('verlopen') === '1', demo: config.demo }),
      );
    })

    .post('/login', requireSameOrigin(deps), async (c) => {
      const form = await c.req.parseBody();
      const organisation = typeof form.organisatie === 'string' ? form.organisatie : '';
      // One browser, one binding: a second login started in another tab reuses it rather than break the first.
      const earlier = bindingOf(c);
      const binding = earlier !== undefined && /^[A-Za-z0-9_-]{43}$/.test(earlier) ? earlier : randomToken();
      let started: Awaited<ReturnType<typeof startLogin>>;
      try {
        started = await startLogin(login, { organisation, returnTo: safeReturnPath(form.terug, config.publicUrl), binding }, webFacts(c));
      } catch (error) {
        if (isDoelpoortError(error)) return unavailable(c);
        throw error;
      }
      if (!started.ok) return page(c, refusalStatus(started.reason), (nonce) => LoginErrorPage({ nonce, reason: started.reason }));
      setBindingCookie(c, binding);
      return seeOther(c, started.value.href);
    })

    .get(CALLBACK_PATH, async (c) => {
      const search = new URL(c.req.url).search;
      if (await deps.reauthentications.has(new URLSearchParams(search).get('state'))) {
        let again: Awaited<ReturnType<typeof completeReauthentication>>;
        try {
          again = await completeReauthentication({ ...deps, statusOf: refusalStatus }, { search, sessionId: sessionIdOf(c) }, webFacts(c));
        } catch (error) {
          if (isDoelpoortError(error)) return unavailable(c);
          throw error;
        }
        if (!again.ok) return page(c, refusalStatus(again.reason), (nonce) => LoginErrorPage({ nonce, reason: again.reason }));
        return seeOther(c, again.value.returnTo);
      }
      let done: Awaited<ReturnType<typeof completeLogin>>;
      try {
        done = await completeLogin(login, { search: new URL(c.req.url).search, binding: bindingOf(c), previousSessionId: sessionIdOf(c) }, webFacts(c));
      } catch (error) {
        if (isDoelpoortError(error)) return unavailable(c);
        throw error;
      }
      clearBindingCookie(c);
      if (!done.ok) return page(c, refusalStatus(done.reason), (nonce) => LoginErrorPage({ nonce, reason: done.reason }));
      setSessionCookie(c, done.value.sessionId);
      return seeOther(c, done.value.returnTo ?? '/start');
    })

    .post('/logout', session, requireCsrf(deps), async (c) => {
      let providerLogout: URL | undefined;
      try {
        ({ providerLogout } = await logout(deps, sessionIdOf(c)!, webFacts(c)));
      } catch (error) {
        // A second logout of the same session (a double click) finds it gone: logged out all the same.
        if (!isDoelpoortError(error) || error.reason !== 'SESSION_ALREADY_ENDED') {
          if (!isDoelpoortError(error)) throw error;
          // Its line could not be written, so the session stays stored; this browser drops it all the same, and the
          // idle timeout ends it (with its line, by the prune).
          clearSessionCookie(c);
          return unavailable(c);
        }
      }
      clearSessionCookie(c);
      return seeOther(c, providerLogout?.href ?? LOGGED_OUT_PATH);
    })

    .get(LOGGED_OUT_PATH, (c) => page(c, 200, (nonce) => LoggedOutPage({ nonce })));
}
