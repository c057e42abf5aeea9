import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { generateCheckpointKey } from '../src/audit/keys.js';
import type { Clock } from '../src/clock.js';
import { gatewayDeps, type PgAppDeps, pgGatewayDeps, type SqliteAppDeps } from '../src/composition.js';
import { loadConfig } from '../src/config.js';
import { openDatabase, openRecordsDatabase } from '../src/db.js';
import { EXAMPLE_EXPORT_FILE } from '../src/demo.js';
import { DEMO_ACCOUNTS, type DemoAccount } from '../src/demo/accounts.js';
import { demoIdentityProvider } from '../src/demo/identity-provider.js';
import { createApp } from '../src/http/app.js';
import type { HonoEnv } from '../src/http/env.js';
import { importSuiteExport } from '../src/records/import.js';
import { importSuiteExportPg } from '../src/records/import-pg.js';
import { OidcRelyingParty, webLoginProviders } from '../src/web/oidc.js';
import { SESSION_COOKIE } from '../src/web/session.js';
import { type Database, runSql } from './both-databases.js';
import { freshPg } from './pg-support.js';
import { tempDir } from './support.js';

/**
 * The web application for tests: the real app on a real socket (an ephemeral port on 127.0.0.1), in demo mode, with
 * the demo OpenID provider mounted under /demo-idp and reached by the gateway over HTTP, as in production. Logging in
 * runs the whole flow (start page, provider, account choice, callback) with fetch and a cookie jar, so page tests can
 * log in as any demo account and then use `app.request()` or fetch with the session cookie.
 */

/**
 * A clock that runs with real time (the provider's tokens carry real times) and can be moved ahead: by minutes for
 * session expiry; past an hour, the provider's ID tokens (one hour) read as expired to the gateway.
 */
export interface MovableClock extends Clock {
  advance(ms: number): void;
}

function movableClock(): MovableClock {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms) => void (offset += ms) };
}

type AuditEntry = Record<string, unknown>;

/** What a running web application has on either database. */
interface RunningWeb {
  /** `http://127.0.0.1:<port>`: the gateway's public URL. */
  origin: string;
  app: Hono<HonoEnv>;
  clock: MovableClock;
  /** Runs one statement straight on the state database (`?` marks a parameter), past the gateway: `runSql`. */
  sql(text: string, ...values: unknown[]): Promise<Array<Record<string, unknown>>>;
  /** Closes the server (on PostgreSQL also ends the pool and drops the database). */
  close(): Promise<void>;
}

/** A running web application on SQLite and what tests read of it. */
export interface WebServer extends RunningWeb {
  database: 'sqlite';
  deps: SqliteAppDeps;
  /** The audit entries written so far, oldest first. */
  auditEntries(): AuditEntry[];
}

/** The same on PostgreSQL (a fresh database of its own): the audit entries are read asynchronously. */
export interface PgWebServer extends RunningWeb {
  database: 'postgres';
  deps: PgAppDeps;
  /** The audit entries written so far, oldest first. */
  auditEntries(): Promise<AuditEntry[]>;
}

/** A web application on either database: `await` its audit entries; `database` narrows it to one. */
export type BothWebServer = WebServer | PgWebServer;

interface WebServerOptions {
  env?: Record<string, string>;
  accounts?: readonly DemoAccount[];
  organisations?: readonly string[];
  records?: boolean;
}

/**
 * Starts the web application in demo mode. `accounts` replaces the demo provider's accounts; `organisations` narrows
 * the organisations the gateway trusts that provider for (default: the whole region); `records: false` imports no
 * example records; `env` adds configuration (DOELPOORT_SESSION_IDLE_MINUTES, …); `database: 'postgres'` puts its
 * state on a fresh PostgreSQL database of the test server (`pgGatewayDeps`), dropped on `close()`.
 */
export function startWebServer(options?: WebServerOptions & { database?: 'sqlite' }): Promise<WebServer>;
export function startWebServer(options: WebServerOptions & { database: 'postgres' }): Promise<PgWebServer>;
export function startWebServer(options: WebServerOptions & { database?: Database }): Promise<BothWebServer>;
export async function startWebServer(options: WebServerOptions & { database?: Database } = {}): Promise<BothWebServer> {
  let handler: Hono<HonoEnv>['fetch'] | undefined;
  const server = serve({ fetch: (req, env) => (handler ? handler(req, env) : new Response(null, { status: 503 })), port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', resolve)));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const closeServer = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      (server as import('node:http').Server).closeAllConnections();
    });

  const dataDir = tempDir();
  const config = loadConfig({ DOELPOORT_DATA_DIR: dataDir, DOELPOORT_DEMO: '1', DOELPOORT_PUBLIC_URL: origin, ...options.env });
  const clock = movableClock();
  const demoIdp = demoIdentityProvider({ publicUrl: origin, dataDir, ...(options.accounts ? { accounts: options.accounts } : {}), log: () => {} });
  const providers = webLoginProviders(config).map((p) =>
    options.organisations ? { ...p, idp: { ...p.idp, organisations: new Set(options.organisations) } } : p,
  );
  const oidc = new OidcRelyingParty(providers, { publicUrl: origin, clock });
  const base = { config, clock, demoIdp, oidc, pseudonymKey: randomBytes(32), checkpointKey: generateCheckpointKey() };
  const entriesOf = (rows: Array<{ entry: string }>) => rows.map((r) => (JSON.parse(r.entry) as { entry: AuditEntry }).entry);

  if (options.database === 'postgres') {
    const pg = await freshPg('web').catch(async (error: unknown) => {
      await closeServer();
      throw error;
    });
    let deps: PgAppDeps | undefined;
    try {
      deps = await pgGatewayDeps({ pg: pg.pg, ...base });
      await Promise.all([deps.tokens.trust.ready(), demoIdp.ready()]);
      if (options.records !== false) await importSuiteExportPg(deps.records, fs.createReadStream(EXAMPLE_EXPORT_FILE), { clock });
    } catch (error) {
      // A half-built application leaves no server and no database behind.
      await closeServer();
      await deps?.policies.close();
      await pg.drop();
      throw error;
    }
    const app = createApp(deps);
    handler = app.fetch;
    const target = { database: 'postgres' as const, pool: deps.pool };
    return {
      database: 'postgres',
      origin,
      app,
      deps,
      clock,
      auditEntries: async () => entriesOf((await deps.pool.query<{ entry: string }>('SELECT entry FROM audit_log ORDER BY seq')).rows),
      sql: (text, ...values) => runSql(target, text, ...values),
      close: async () => {
        await closeServer();
        await deps.policies.close();
        await pg.drop();
      },
    };
  }

  const db = openDatabase(':memory:');
  const recordsDb = openRecordsDatabase(':memory:');
  const deps = gatewayDeps({ db, recordsDb, ...base });
  await Promise.all([deps.tokens.trust.ready(), demoIdp.ready()]);
  if (options.records !== false) await importSuiteExport(deps.records, fs.createReadStream(EXAMPLE_EXPORT_FILE), { clock });
  const app = createApp(deps);
  handler = app.fetch;
  const target = { database: 'sqlite' as const, db };
  return {
    database: 'sqlite',
    origin,
    app,
    deps,
    clock,
    auditEntries: () => entriesOf(db.$client.prepare('SELECT entry FROM audit_log ORDER BY seq').all() as Array<{ entry: string }>),
    sql: (text, ...values) => runSql(target, text, ...values),
    close: closeServer,
  };
}

/** One cookie as a browser keeps it: its value and the path it is sent under. */
interface StoredCookie {
  value: string;
  path: string;
}

/**
 * A browser without a browser: fetch with a cookie jar, redirects one at a time, and form posts with the headers
 * Chromium sends from a page of the same origin under `Referrer-Policy: no-referrer` (`Origin: null`,
 * `Sec-Fetch-Site: same-origin`).
 */
export class WebAgent {
  readonly cookies = new Map<string, StoredCookie>();

  constructor(readonly origin: string) {}

  /** The Cookie header for `url`. */
  cookieHeader(url: URL): string {
    return [...this.cookies]
      .filter(([, c]) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
  }

  /** One request, no redirect followed; cookies sent and kept. A `form` is posted url-encoded from a same-origin page. */
  async request(target: string | URL, init: { form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Response> {
    const url = new URL(target, this.origin);
    const headers: Record<string, string> = { cookie: this.cookieHeader(url) };
    if (init.form) Object.assign(headers, { 'content-type': 'application/x-www-form-urlencoded', origin: 'null', 'sec-fetch-site': 'same-origin' });
    Object.assign(headers, init.headers);
    const res = await fetch(url, {
      method: init.form ? 'POST' : 'GET',
      headers,
      redirect: 'manual',
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    });
    for (const line of res.headers.getSetCookie()) this.#store(line);
    return res;
  }

  /** Follows redirects (303, 302) from `res` until an answer that is not one; the last answer and the URLs passed. */
  async follow(res: Response, from: string | URL): Promise<{ res: Response; visited: URL[] }> {
    const visited: URL[] = [];
    let url = new URL(from, this.origin);
    while (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      url = new URL(res.headers.get('location')!, url);
      visited.push(url);
      res = await this.request(url);
    }
    return { res, visited };
  }

  #store(line: string): void {
    const [pair, ...attributes] = line.split(';').map((p) => p.trim());
    const eq = pair!.indexOf('=');
    const name = pair!.slice(0, eq);
    const value = pair!.slice(eq + 1);
    const attr = (n: string) => attributes.find((a) => a.toLowerCase().startsWith(`${n}=`))?.slice(n.length + 1);
    const maxAge = attr('max-age');
    const expires = attr('expires');
    if ((maxAge !== undefined && Number(maxAge) <= 0) || (expires !== undefined && Date.parse(expires) <= Date.now())) this.cookies.delete(name);
    else this.cookies.set(name, { value, path: attr('path') ?? '/' });
  }
}

/** The demo account with this `sub`. */
export function demoAccount(sub: string, accounts: readonly DemoAccount[] = DEMO_ACCOUNTS): DemoAccount {
  const account = accounts.find((a) => a.sub === sub);
  if (!account) throw new TypeError(`no demo account ${sub}`);
  return account;
}

/** Chooses `organisation` on the start page (`POST /login`); the provider's authorization URL the gateway sends to. */
export async function beginLogin(agent: WebAgent, organisation: string, returnTo?: string): Promise<URL> {
  const res = await agent.request('/login', { form: { organisatie: organisation, ...(returnTo ? { terug: returnTo } : {}) } });
  if (res.status !== 303) throw new Error(`POST /login answered ${res.status}`);
  return new URL(res.headers.get('location')!, agent.origin);
}

/**
 * At the provider: opens the authorization URL, picks the account `sub` on the account page (unless the provider's
 * session logs in without asking), and returns the callback URL the provider sends the browser to, not yet followed.
 */
export async function chooseAccount(agent: WebAgent, authorization: URL, sub: string): Promise<URL> {
  let res = await agent.request(authorization);
  let url = authorization;
  for (let hops = 0; hops < 10; hops++) {
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      url = new URL(res.headers.get('location')!, url);
      if (url.pathname === '/auth/callback') return url;
      res = await agent.request(url);
      continue;
    }
    const html = await res.text();
    const action = /<form method="post" action="([^"]+\/login)"/.exec(html)?.[1];
    if (res.status !== 200 || !action) throw new Error(`the provider answered ${res.status} at ${url.pathname}`);
    url = new URL(action.replaceAll('&amp;', '&'), url);
    res = await agent.request(url, { form: { account: sub } });
  }
  throw new Error('too many redirects at the provider');
}

/** The CSRF token of the forms on a page (the logout form in the header has one). */
export function csrfTokenIn(html: string): string | undefined {
  return /name="csrf" value="([^"]+)"/.exec(html)?.[1];
}

/**
 * Logs the demo account `sub` in through the real flow and returns what a page test needs: the `Cookie` header value
 * of the session, its CSRF token (for form posts, in the hidden field `csrf`), and the agent (for more requests with
 * the same browser). `returnTo`: the page asked for before logging in. A form post by `app.request()` must also say
 * where it comes from, as a browser does: `origin: server.origin` (or `origin: 'null'` with
 * `sec-fetch-site: same-origin`); the agent's `request(path, { form })` does so.
 */
export async function loginAs(
  server: Pick<WebServer, 'origin'>,
  sub: string,
  options: { returnTo?: string; organisation?: string; accounts?: readonly DemoAccount[] } = {},
): Promise<{ cookie: string; csrfToken: string; agent: WebAgent; landing: URL }> {
  const agent = new WebAgent(server.origin);
  const account = demoAccount(sub, options.accounts);
  const callback = await chooseAccount(agent, await beginLogin(agent, options.organisation ?? account.org, options.returnTo), sub);
  const res = await agent.request(callback);
  if (res.status !== 303) throw new Error(`the callback answered ${res.status}: ${await res.text()}`);
  const landing = new URL(res.headers.get('location')!, server.origin);
  const session = agent.cookies.get(SESSION_COOKIE);
  if (!session) throw new Error('no session cookie after the login');
  const start = await agent.request('/start');
  const csrfToken = csrfTokenIn(await start.text());
  if (!csrfToken) throw new Error('no CSRF token on the start page');
  return { cookie: `${SESSION_COOKIE}=${session.value}`, csrfToken, agent, landing };
}

/**
 * At the provider, logs in again (prompt=login) as `sub`: when that is another account than the provider's session,
 * oidc-provider first ends its session with a self-submitting form (a browser posts it by itself). The callback URL,
 * not followed.
 */
export async function chooseAccountAgain(agent: WebAgent, authorization: URL, sub: string): Promise<URL> {
  let url = authorization;
  let res = await agent.request(url);
  for (let hops = 0; hops < 12; hops++) {
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location')!, url);
      if (url.pathname === '/auth/callback') return url;
      res = await agent.request(url);
      continue;
    }
    const page = await res.text();
    const login = /<form method="post" action="([^"]+\/login)"/.exec(page)?.[1];
    const confirm = /<form method="post" action="([^"]+\/session\/end\/confirm)"/.exec(page)?.[1];
    if (login) {
      url = new URL(login.replaceAll('&amp;', '&'), url);
      res = await agent.request(url, { form: { account: sub } });
    } else if (confirm) {
      const fields = Object.fromEntries([...page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
      url = new URL(confirm, url);
      res = await agent.request(url, { form: fields });
    } else throw new Error(`the provider answered ${res.status} at ${url.pathname}`);
  }
  throw new Error('too many redirects at the provider');
}
