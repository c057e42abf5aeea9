import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import { ORGANISATIONS } from '../organisations.js';
import { STYLESHEET_PATH } from '../web/assets.js';
import type { DemoAccount } from './accounts.js';

/**
 * The demo identity provider's own pages, in Dutch: the account choice, the logout confirmation, the logged-out and
 * the error page. Server-rendered, no script, the gateway's stylesheet under the provider's own nonce.
 */

function IdpPage({ title, nonce, children }: { title: string; nonce: string; children?: Child }) {
  return (
    <html lang="nl">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex, nofollow" />
        <title>{`${title} · Demo-inlogdienst`}</title>
        <link rel="stylesheet" href={STYLESHEET_PATH} nonce={nonce} />
      </head>
      <body class="utrecht-document doelpoort-theme">
        <a class="doelpoort-skip-link" href="#inhoud">
          Naar de inhoud
        </a>
        <header class="doelpoort-header doelpoort-header--idp">
          <div class="doelpoort-header__bar">
            <span class="doelpoort-header__name">Demo-inlogdienst</span>
            <span>Nagebootst, alleen voor de demo van doelpoort</span>
          </div>
        </header>
        <main id="inhoud" class="doelpoort-main" tabindex={-1}>
          {children}
        </main>
      </body>
    </html>
  );
}

const render = async (page: ReturnType<typeof IdpPage>) => `<!doctype html>${await page.toString()}`;

/** The account choice: every demo account a button, grouped by organisation. */
export function accountsPage(options: { nonce: string; action: string; abortAction: string; accounts: readonly DemoAccount[] }): Promise<string> {
  const { nonce, action, abortAction, accounts } = options;
  const known = new Set(ORGANISATIONS.map((o) => o.code));
  const groups = [...ORGANISATIONS, ...[...new Set(accounts.map((a) => a.org))].filter((org) => !known.has(org)).map((code) => ({ code, name: code }))]
    .map((o) => ({ ...o, accounts: accounts.filter((a) => a.org === o.code) }))
    .filter((g) => g.accounts.length > 0);
  return render(
    <IdpPage title="Inloggen" nonce={nonce}>
      <h1 class="utrecht-heading-1">Inloggen bij de demo-inlogdienst</h1>
      <p class="utrecht-paragraph">
        Dit is een nagebootste inlogdienst. In het echt logt u in bij uw eigen organisatie. Kies met welk demo-account u doelpoort wilt bekijken; een wachtwoord
        is niet nodig.
      </p>
      <form method="post" action={action}>
        {groups.map((g) => (
          <section aria-labelledby={`org-${g.code}`}>
            <h2 class="utrecht-heading-2" id={`org-${g.code}`}>
              {g.name}
            </h2>
            <ul class="doelpoort-button-list">
              {g.accounts.map((a) => (
                <li>
                  <button type="submit" name="account" value={a.sub} class="utrecht-button utrecht-button--primary-action">
                    {a.label}
                  </button>
                </li>
              ))}
            </ul>
          </section>
        ))}
      </form>
      <form method="post" action={abortAction}>
        <p class="utrecht-paragraph">
          <button type="submit" class="utrecht-button utrecht-button--secondary-action">
            Annuleren
          </button>
        </p>
      </form>
    </IdpPage>,
  );
}

/** RP-initiated logout: the provider asks before it ends its own session. `form` is oidc-provider's (id op.logoutForm). */
export function logoutPage(options: { nonce: string; form: string }): Promise<string> {
  return render(
    <IdpPage title="Uitloggen" nonce={options.nonce}>
      <h1 class="utrecht-heading-1">Ook uitloggen bij de demo-inlogdienst?</h1>
      <p class="utrecht-paragraph">
        U bent uitgelogd bij doelpoort. Bij de demo-inlogdienst bent u nog ingelogd: zolang dat zo is, komt u bij een nieuwe inlog zonder een account te kiezen
        weer binnen.
      </p>
      {raw(options.form)}
      <p class="utrecht-paragraph doelpoort-button-row">
        <button type="submit" form="op.logoutForm" name="logout" value="yes" class="utrecht-button utrecht-button--primary-action">
          Ja, ook hier uitloggen
        </button>{' '}
        <button type="submit" form="op.logoutForm" class="utrecht-button utrecht-button--secondary-action">
          Nee, hier ingelogd blijven
        </button>
      </p>
    </IdpPage>,
  );
}

/** After a logout that named no way back. */
export function loggedOutPage(options: { nonce: string }): Promise<string> {
  return render(
    <IdpPage title="Uitgelogd" nonce={options.nonce}>
      <h1 class="utrecht-heading-1">U bent uitgelogd bij de demo-inlogdienst</h1>
      <p class="utrecht-paragraph">U kunt dit venster sluiten.</p>
    </IdpPage>,
  );
}

/** Something went wrong: a sentence in Dutch and the OAuth error code, never a parameter's value. */
export function errorPage(options: { nonce: string; code: string; back: string }): Promise<string> {
  const expired = options.code === 'invalid_request' || options.code === 'session_not_found';
  return render(
    <IdpPage title="Er ging iets mis" nonce={options.nonce}>
      <h1 class="utrecht-heading-1">Er ging iets mis bij de demo-inlogdienst</h1>
      <p class="utrecht-paragraph">
        {expired
          ? 'Deze inlogpoging is verlopen of niet meer geldig. Begin opnieuw bij doelpoort.'
          : 'De demo-inlogdienst kon dit verzoek niet afhandelen. Begin opnieuw bij doelpoort.'}
      </p>
      <p class="utrecht-paragraph">
        Foutcode: <code>{options.code}</code>
      </p>
      <p class="utrecht-paragraph">
        <a class="utrecht-link" href={options.back}>
          Terug naar doelpoort
        </a>
      </p>
    </IdpPage>,
  );
}
