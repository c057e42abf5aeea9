/**
 * A web login for the benchmark's point W: the whole flow a browser goes through on a demo-mode gateway (the start
 * page's form, the demo OpenID provider on the same server, the account choice, the callback), with fetch and a
 * cookie jar. Returns the `Cookie` header of the session; it is kept in memory only and never printed.
 */

/** The cookie of a web session (src/web/session.ts). */
const SESSION_COOKIE = '__Host-doelpoort-sessie';

/** Cookies as a browser would keep them for one origin (all paths: the flow only needs name and value). */
class Jar {
  readonly #cookies = new Map<string, string>();
  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
  get(name: string): string | undefined {
    return this.#cookies.get(name);
  }
  keep(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((p) => p.trim());
      const eq = pair!.indexOf('=');
      const gone = attributes.some((a) => /^max-age=(0|-)/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) <= Date.now()));
      if (gone) this.#cookies.delete(pair!.slice(0, eq));
      else this.#cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
  }
}

/** One request without following redirects; a `form` is posted as a same-origin page of the gateway would. */
async function request(jar: Jar, url: URL, form?: Record<string, string>): Promise<Response> {
  const headers: Record<string, string> = { cookie: jar.header() };
  if (form) Object.assign(headers, { 'content-type': 'application/x-www-form-urlencoded', origin: 'null', 'sec-fetch-site': 'same-origin' });
  const res = await fetch(url, { method: form ? 'POST' : 'GET', headers, redirect: 'manual', ...(form ? { body: new URLSearchParams(form).toString() } : {}) });
  jar.keep(res);
  return res;
}

/**
 * Logs the demo account `sub` of `organisation` in on the gateway at `origin` and returns the session's `Cookie`
 * header value. Throws, naming the step and status only, when a step answers otherwise than a browser expects.
 */
export async function webSession(origin: string, organisation: string, sub: string): Promise<string> {
  const jar = new Jar();
  let res = await request(jar, new URL('/login', origin), { organisatie: organisation });
  if (res.status !== 303) throw new Error(`POST /login answered ${res.status}`);
  let url = new URL(res.headers.get('location')!, origin);
  res = await request(jar, url);
  for (let hops = 0; hops < 12; hops++) {
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      url = new URL(res.headers.get('location')!, url);
      res = await request(jar, url);
      if (url.pathname === '/auth/callback') break;
      continue;
    }
    // The provider's account page: post the chosen account to its form.
    const html = await res.text();
    const action = /<form method="post" action="([^"]+\/login)"/.exec(html)?.[1];
    if (res.status !== 200 || !action) throw new Error(`the demo provider answered ${res.status} at ${url.pathname}`);
    url = new URL(action.replaceAll('&amp;', '&'), url);
    res = await request(jar, url, { account: sub });
  }
  if (url.pathname !== '/auth/callback' || res.status !== 303) throw new Error(`the login callback answered ${res.status}`);
  await res.body?.cancel();
  const session = jar.get(SESSION_COOKIE);
  if (!session) throw new Error('no session cookie after the login');
  return `${SESSION_COOKIE}=${session}`;
}
