import { randomBytes } from 'node:crypto';
import { createApp } from '../src/http/app.js';
import type { PgAppDeps, SqliteAppDeps } from '../src/composition.js';
import type { WebSession } from '../src/http/env.js';
import { SESSION_COOKIE } from '../src/web/session.js';
import { SessionStore } from '../src/web/sessions.js';
import { PgSessionStore } from '../src/web/sessions-pg.js';
import { IDP_ISSUER } from './token-support.js';

/** The logged-in people of the web tests, by the name a test picks them with (header `x-test-persona`). */
function session(sub: string, role: WebSession['login']['role'], org: string, name: string): WebSession {
  return { login: { issuer: IDP_ISSUER, sub, role, org, name }, csrfToken: randomBytes(16).toString('base64url') };
}

export const PERSONAS = {
  /** A participatiecoach of West Betuwe: Anna (WZR-100001) is being handed over to them. */
  coach: session('coach-wb', 'participatiecoach', 'GM1960', 'Fatima Bakker'),
  /** A participatiecoach of Tiel: no relationship with Anna. */
  coachTiel: session('coach-tiel', 'participatiecoach', 'GM0281', 'Joost Verhoef'),
  /** A participatiecoach of West Maas en Waal: Nel (WZR-100005) is a KP4 client living there. */
  coachWmw: session('coach-wmw', 'participatiecoach', 'GM0668', 'Ingrid Smits'),
  /** A werkcoach of Werkzaak: Petra (WZR-100003) is going back to KP3. */
  werkcoach: session('werkcoach-1', 'werkcoach', 'WERKZAAK', 'Ruud de Wit'),
  /** A debt counsellor of Tiel: Kees (WZR-100004) is in a trajectory there. */
  counsellor: session('shv-tiel', 'schuldhulpverlener', 'GM0281', 'Sanne Jansen'),
  /** A debt counsellor of West Betuwe: no trajectory with Kees. */
  counsellorWb: session('shv-wb', 'schuldhulpverlener', 'GM1960', 'Peter Mulder'),
  officer: session('po-anna', 'privacy-officer', 'WERKZAAK', 'Anna Privacy'),
  /** A participatiecoach's role at Werkzaak: a role that does not belong to the organisation. */
  misfit: session('coach-wz', 'participatiecoach', 'WERKZAAK', 'Kim Verkeerd'),
  /** Another person with the West Betuwe coach's `sub`, from another identity provider: a person is (iss, sub). */
  namesake: {
    login: { issuer: 'https://login.elders.example', sub: 'coach-wb', role: 'participatiecoach', org: 'GM1960', name: 'Naamgenoot' },
    csrfToken: 'x',
  },
} as const satisfies Record<string, WebSession>;

export type Persona = keyof typeof PERSONAS;

/**
 * Test-only: the real app (createApp over the real deps, the role pages behind the real session and CSRF middleware).
 * A request naming a persona in `x-test-persona` gets a real session of that person, created in the session store
 * once (in the app's state database, SQLite or PostgreSQL, as a login's unit of work would) and sent as its cookie, with the gateway's Origin on a POST, and a form's `csrf` field holding the persona's
 * token replaced by the real session's (a wrong token stays wrong). `/test/kapot` throws, for the 500 page.
 */
export function webApp(deps: SqliteAppDeps | PgAppDeps): {
  request(path: string, init?: RequestInit): Promise<Response>;
  fetch(request: Request, env?: unknown): Promise<Response>;
} {
  const app = createApp(deps);
  app.get('/test/kapot', () => {
    throw new Error('a programming mistake');
  });
  const limits = { idleMinutes: deps.config.sessionIdleMinutes, maxHours: deps.config.sessionMaxHours };
  const store = 'pool' in deps ? new PgSessionStore(deps.pool, deps.clock, limits) : new SessionStore(deps.db, deps.clock, limits);
  const sessions = new Map<Persona, Promise<{ id: string; csrfToken: string }>>();
  const sessionOf = (persona: Persona) => {
    let s = sessions.get(persona);
    if (!s) {
      s = Promise.resolve(store.create(PERSONAS[persona].login, 'test-id-token'));
      sessions.set(persona, s);
    }
    return s;
  };
  const fetch = async (request: Request, env?: unknown): Promise<Response> => {
    const persona = request.headers.get('x-test-persona') as Persona | null;
    if (persona === null || !Object.hasOwn(PERSONAS, persona)) return app.fetch(request, env);
    const s = await sessionOf(persona);
    const headers = new Headers(request.headers);
    headers.delete('x-test-persona');
    headers.set('cookie', [headers.get('cookie'), `${SESSION_COOKIE}=${s.id}`].filter(Boolean).join('; '));
    let body: string | undefined;
    if (request.method === 'POST') {
      if (!headers.has('origin')) headers.set('origin', new URL(deps.config.publicUrl).origin);
      const form = new URLSearchParams(await request.text());
      if (form.get('csrf') === PERSONAS[persona].csrfToken) form.set('csrf', s.csrfToken);
      body = form.toString();
    }
    return app.fetch(new Request(request.url, { method: request.method, headers, body }), env);
  };
  return { fetch, request: (path, init) => fetch(new Request(new URL(path, deps.config.publicUrl), init)) };
}
