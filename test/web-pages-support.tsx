import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { DoelpoortError } from '../src/errors.js';
import { createApp } from '../src/http/app.js';
import type { AppDeps } from '../src/http/deps.js';
import type { HonoEnv, WebSession } from '../src/http/env.js';
import { problemResponse } from '../src/http/problem.js';
import { InboxPage, type InboxItem, Kp4ClientsPage, type Kp4Item } from '../src/web/pages/lists.js';
import { respond, rolePages, webError, webNotFound } from '../src/web/pages/routes.js';
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

/** Until the list verbs land (src/clients/lists.ts), the list pages are shown with these items. */
export const SAMPLE_INBOX: InboxItem[] = [
  {
    clientRef: 'WZR-100001',
    naam: 'Anna de Vries',
    overdracht: { id: 'OV-1', datum: '2026-11-13', status: 'aangevraagd', onderbouwing: 'onderzoek-zorgprofessional', driegesprekGewenst: true },
  },
  {
    clientRef: 'WZR-100007',
    naam: 'Bram Hendriks-Oosterhuis',
    overdracht: { id: 'OV-1', datum: '2026-10-02', status: 'afgerond', onderbouwing: 'onderzoek-zorgprofessional', driegesprekGewenst: false },
  },
];
export const SAMPLE_RETURNS: InboxItem[] = [
  {
    clientRef: 'WZR-100003',
    naam: 'Petra Jansen',
    overdracht: { id: 'OV-2', datum: '2026-11-21', status: 'aangevraagd', onderbouwing: 'vrijwilligerswerk', driegesprekGewenst: null },
  },
];
export const SAMPLE_KP4: Kp4Item[] = [{ clientRef: 'WZR-100005', naam: 'Nel Bos' }];

/**
 * Test-only: the real app (createApp over the real deps) with the role pages mounted, and the session taken from the
 * `x-test-persona` header, standing in for the session middleware that the login brings. The list pages render the
 * samples above; `/test/kapot` throws, for the 500 page.
 */
export function webApp(deps: AppDeps): Hono<HonoEnv> {
  const app = createApp(deps);
  const web = new Hono<HonoEnv>();
  web.onError(webError);
  web.use('*', async (c, next) => {
    const persona: WebSession | undefined = PERSONAS[c.req.header('x-test-persona') as Persona];
    if (persona) c.set('session', persona);
    await next();
  });
  const cursorless = <T,>(items: T[]) => ({ items, next: 'c-opaque/2==' });
  web.get('/overdrachten', (c) =>
    respond(c, 200, (frame) => <InboxPage frame={frame} direction="KP3-KP4" page={cursorless(SAMPLE_INBOX)} paged={c.req.query('cursor') !== undefined} />),
  );
  web.get('/terugmeldingen', (c) =>
    respond(c, 200, (frame) => <InboxPage frame={frame} direction="KP4-KP3" page={{ items: SAMPLE_RETURNS, next: null }} paged={false} />),
  );
  web.get('/clienten', (c) => respond(c, 200, (frame) => <Kp4ClientsPage frame={frame} page={{ items: SAMPLE_KP4, next: null }} paged={false} />));
  web.get('/test/kapot', () => {
    throw new Error('a programming mistake');
  });
  web.route('/', rolePages(deps));
  app.route('/', web);
  app.notFound((c) => (c.req.path.startsWith('/v1/') ? problemResponse(c, new DoelpoortError('RECORD_NOT_FOUND', 'no such resource')) : webNotFound(c)));
  return app;
}
