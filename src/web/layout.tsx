import type { Child } from 'hono/jsx';
import type { Role } from '../purposes.js';
import { STYLESHEET_PATH } from './assets.js';

/** How a role is named to the people who have it. */
export const ROLE_LABELS: Record<Role, string> = {
  participatiecoach: 'Participatiecoach',
  werkcoach: 'Werkcoach',
  schuldhulpverlener: 'Schuldhulpverlener',
  'privacy-officer': 'Privacy officer',
};

/** One link of the main navigation; `current` marks the page the person is on. */
export interface NavItem {
  href: string;
  label: string;
  current?: boolean;
}

/** Who is logged in, as the header shows it, and the form token their logout posts. */
export interface PageUser {
  name: string;
  role: Role;
  organisationName: string;
  csrfToken: string;
}

export interface PageProps {
  /** The page's own title; the document title is this plus " · doelpoort". */
  title: string;
  /** The nonce of this response's Content-Security-Policy (src/http/security-headers.ts). */
  nonce: string;
  user?: PageUser | undefined;
  nav?: NavItem[] | undefined;
  children?: Child;
}

/**
 * The frame of every page of the web application: `lang="nl"`, a skip link, the header with who is logged in and a
 * logout button (a form: logging out changes state), the navigation, one `main` landmark and the footer.
 */
export function Page({ title, nonce, user, nav, children }: PageProps) {
  return (
    <html lang="nl">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex, nofollow" />
        <title>{`${title} · doelpoort`}</title>
        <link rel="stylesheet" href={STYLESHEET_PATH} nonce={nonce} />
      </head>
      <body class="utrecht-document doelpoort-theme">
        <a class="doelpoort-skip-link" href="#inhoud">
          Naar de inhoud
        </a>
        <header class="doelpoort-header">
          <div class="doelpoort-header__bar">
            <a class="doelpoort-header__name" href="/">
              doelpoort
            </a>
            {user ? (
              <div class="doelpoort-header__who">
                <span>
                  {user.name} · {ROLE_LABELS[user.role]} · {user.organisationName}
                </span>{' '}
                <form class="doelpoort-inline-form" method="post" action="/logout">
                  <input type="hidden" name="csrf" value={user.csrfToken} />
                  <button type="submit" class="utrecht-button utrecht-button--secondary-action">
                    Uitloggen
                  </button>
                </form>
              </div>
            ) : null}
          </div>
          {nav && nav.length > 0 ? (
            <nav class="doelpoort-nav doelpoort-header__bar" aria-label="Hoofdmenu">
              <ul>
                {nav.map((item) => (
                  <li>
                    <a class="utrecht-link" href={item.href} aria-current={item.current ? 'page' : undefined}>
                      {item.label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          ) : null}
        </header>
        <main id="inhoud" class="doelpoort-main" tabindex={-1}>
          {children}
        </main>
        <footer class="doelpoort-footer">
          <div>Elke raadpleging van cliëntgegevens wordt vastgelegd in het auditlog van doelpoort.</div>
        </footer>
      </body>
    </html>
  );
}

/** A page as the body of an HTML response: the doctype and the rendered element. */
export async function renderPage(page: ReturnType<typeof Page>): Promise<string> {
  return `<!doctype html>${await page.toString()}`;
}
