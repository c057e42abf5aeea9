import { organisationName } from '../organisations.js';
import { type PageUser, Page } from './layout.js';
import type { LoginRefusal } from './login.js';
import type { ReauthRefusal } from './reauth.js';
import type { SessionLogin } from './sessions.js';

/** The pages of logging in and out, in Dutch: the start page, the login's error page, /uitgelogd, and refusals. */

/** Who is logged in, as the header shows them. */
export function pageUser(login: SessionLogin, csrfToken: string): PageUser {
  return { name: login.name ?? login.sub, role: login.role, organisationName: organisationName(login.org), csrfToken };
}

/** `GET /` without a session: one button per organisation whose own provider the gateway offers. */
export function StartPage(props: {
  nonce: string;
  organisations: ReadonlyArray<{ code: string; name: string }>;
  returnTo: string | undefined;
  expired: boolean;
  demo: boolean;
}) {
  return (
    <Page title="Inloggen" nonce={props.nonce}>
      <h1 class="utrecht-heading-1">Inloggen bij uw organisatie</h1>
      {props.expired ? (
        <div class="utrecht-alert utrecht-alert--warning" role="status">
          <div class="utrecht-alert__content">
            <p class="utrecht-alert__message utrecht-paragraph">Uw sessie is verlopen. Log opnieuw in om verder te gaan.</p>
          </div>
        </div>
      ) : null}
      <p class="utrecht-paragraph">
        Met doelpoort ziet u alleen de gegevens van een cliënt die u voor uw taak nodig hebt. U logt in bij de inlogdienst van de organisatie waar u werkt.
      </p>
      {props.organisations.length > 0 ? (
        <form method="post" action="/login">
          {props.returnTo ? <input type="hidden" name="terug" value={props.returnTo} /> : null}
          <h2 class="utrecht-heading-2">Kies uw organisatie</h2>
          <ul class="doelpoort-button-list">
            {props.organisations.map((o) => (
              <li>
                <button type="submit" name="organisatie" value={o.code} class="utrecht-button utrecht-button--primary-action">
                  {o.name}
                </button>
              </li>
            ))}
          </ul>
        </form>
      ) : (
        <p class="utrecht-paragraph">Inloggen via de webapplicatie is voor geen enkele organisatie ingesteld. Neem contact op met de beheerder.</p>
      )}
      {props.demo ? (
        <p class="utrecht-paragraph">
          Dit is de demo: na het kiezen van een organisatie kiest u bij de nagebootste inlogdienst een demo-account, bijvoorbeeld "Participatiecoach — West
          Betuwe". Alle cliëntgegevens zijn verzonnen.
        </p>
      ) : null}
    </Page>
  );
}

/** What a refused login tells the person: a title and one explanation per kind of refusal. */
function explain(reason: LoginRefusal | ReauthRefusal): { title: string; text: string } {
  switch (reason) {
    case 'REAUTH_PERSON_MISMATCH':
      return {
        title: 'U logde opnieuw in als iemand anders',
        text: 'Voor deze stap moet dezelfde persoon opnieuw inloggen die in doelpoort is ingelogd. Er is niets goedgekeurd.',
      };
    case 'REAUTH_SESSION_MISMATCH':
      return { title: 'Dit opnieuw inloggen hoort niet bij uw sessie', text: 'Begin de stap opnieuw in de browser waarin u bent ingelogd.' };
    case 'REAUTH_NOT_FRESH':
      return { title: 'Uw inlog was niet nieuw', text: 'De inlogdienst bevestigde niet dat u zojuist opnieuw hebt ingelogd. Begin de stap opnieuw.' };
    case 'LOGIN_STATE_UNKNOWN':
      return {
        title: 'Deze inlogpoging is niet meer geldig',
        text: 'Een inlogpoging kan maar één keer worden afgerond en verloopt na tien minuten. Begin opnieuw.',
      };
    case 'LOGIN_BINDING_MISSING':
    case 'LOGIN_BINDING_MISMATCH':
      return {
        title: 'Deze inlogpoging hoort niet bij deze browser',
        text: 'Rond het inloggen af in de browser waarin u het begon, en sta cookies van doelpoort toe. Begin opnieuw.',
      };
    case 'LOGIN_CANCELLED':
      return { title: 'Inloggen afgebroken', text: 'U hebt het inloggen bij uw organisatie afgebroken. U kunt opnieuw beginnen.' };
    case 'LOGIN_PROVIDER_UNREACHABLE':
      return { title: 'De inlogdienst is niet bereikbaar', text: 'De inlogdienst van uw organisatie is nu niet bereikbaar. Probeer het later opnieuw.' };
    case 'LOGIN_PROVIDER_ERROR':
      return { title: 'De inlogdienst gaf een fout', text: 'De inlogdienst van uw organisatie kon het inloggen niet afronden. Probeer het opnieuw.' };
    case 'LOGIN_ORGANISATION_UNKNOWN':
      return { title: 'Deze organisatie kan hier niet inloggen', text: 'Kies een van de organisaties op de startpagina.' };
    case 'LOGIN_ORGANISATION_NOT_VOUCHED':
      return {
        title: 'Deze inlogdienst mag niet voor uw organisatie inloggen',
        text: 'doelpoort neemt van een inlogdienst alleen medewerkers aan van de organisaties waarvoor die is aangemeld. Neem contact op met de beheerder.',
      };
    case 'LOGIN_ORGANISATION_NOT_FOR_ROLE':
      return {
        title: 'Uw rol past niet bij uw organisatie',
        text: 'Uw inlog noemt een rol die bij deze organisatie niet voorkomt. Neem contact op met de beheerder van de inlogdienst van uw organisatie.',
      };
    default:
      return {
        title: 'Uw inlog kon niet worden gecontroleerd',
        text: 'doelpoort kon niet vaststellen dat deze inlog echt en geldig is. Begin opnieuw; lukt het dan nog niet, neem contact op met de beheerder.',
      };
  }
}

/** A refused login: what happened, the reason code (for the service desk; no value), and the way back. */
export function LoginErrorPage(props: { nonce: string; reason: LoginRefusal | ReauthRefusal }) {
  const { title, text } = explain(props.reason);
  return (
    <Page title={title} nonce={props.nonce}>
      <h1 class="utrecht-heading-1">{title}</h1>
      <p class="utrecht-paragraph">{text}</p>
      <p class="utrecht-paragraph">
        Foutcode: <code>{props.reason}</code>
      </p>
      <p class="utrecht-paragraph">
        <a class="utrecht-link" href="/">
          Opnieuw inloggen
        </a>
      </p>
    </Page>
  );
}

/** `GET /uitgelogd`: where the logout ends, at doelpoort or back from the provider's own logout. */
export function LoggedOutPage(props: { nonce: string }) {
  return (
    <Page title="Uitgelogd" nonce={props.nonce}>
      <h1 class="utrecht-heading-1">U bent uitgelogd</h1>
      <p class="utrecht-paragraph">Uw sessie bij doelpoort is beëindigd. Sluit de browser als u een gedeelde computer gebruikt.</p>
      <p class="utrecht-paragraph">
        <a class="utrecht-link" href="/">
          Opnieuw inloggen
        </a>
      </p>
    </Page>
  );
}

/** A refused form post (no same-origin proof, or a wrong form token): nothing was changed. */
export function ForbiddenPage(props: { nonce: string; user?: PageUser | undefined }) {
  return (
    <Page title="Niet toegestaan" nonce={props.nonce} user={props.user}>
      <h1 class="utrecht-heading-1">Dit verzoek is geweigerd</h1>
      <p class="utrecht-paragraph">
        Het formulier kwam niet van een pagina van doelpoort zelf, of het hoorde niet bij uw sessie. Er is niets gewijzigd. Ga terug naar de pagina en probeer
        het opnieuw.
      </p>
      <p class="utrecht-paragraph">
        <a class="utrecht-link" href="/">
          Naar de startpagina
        </a>
      </p>
    </Page>
  );
}

/** The audit line could not be written: nothing happened (no line, no session, no data). */
export function UnavailablePage(props: { nonce: string }) {
  return (
    <Page title="Tijdelijk niet beschikbaar" nonce={props.nonce}>
      <h1 class="utrecht-heading-1">doelpoort is tijdelijk niet beschikbaar</h1>
      <p class="utrecht-paragraph">Uw verzoek kon niet worden vastgelegd en is daarom niet uitgevoerd. Probeer het over enkele minuten opnieuw.</p>
    </Page>
  );
}
