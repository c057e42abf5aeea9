import { Page } from '../layout.js';
import { type Frame, WEB_PATHS } from './frame.js';

/** The kinds of error page, by the status they answer with. */
export type ErrorStatus = 400 | 403 | 404 | 500 | 503;

const ERRORS: Record<ErrorStatus, { title: string; text: string }> = {
  400: {
    title: 'Dit verzoek klopt niet',
    text: 'Er ging iets mis met wat uw browser stuurde, bijvoorbeeld een verlopen formulier of een adres dat niet bestaat. Ga terug en probeer het opnieuw.',
  },
  403: {
    title: 'Geen toegang',
    text: 'U hebt geen toegang tot deze gegevens. Dat kan zijn omdat er (nog) geen overdracht, begeleiding of schuldhulptraject is dat u toegang geeft, omdat het cliëntnummer niet klopt, of omdat deze pagina niet bij uw rol hoort. Uw poging is vastgelegd in het auditlog.',
  },
  404: {
    title: 'Pagina niet gevonden',
    text: 'Deze pagina bestaat niet. Controleer het adres, of ga terug naar uw overzicht.',
  },
  500: {
    title: 'Er ging iets mis',
    text: 'Door een fout aan onze kant kunnen we deze pagina nu niet tonen. Probeer het later opnieuw.',
  },
  503: {
    title: 'Tijdelijk niet beschikbaar',
    text: 'Uw raadpleging kon niet worden vastgelegd in het auditlog. Daarom tonen we geen gegevens. Probeer het over enkele minuten opnieuw.',
  },
};

/**
 * An error page: what happened in words, the request id for the service desk, and a way back. It never says more
 * than its status: a 403 is the same page whether the client does not exist or has no relationship with the person.
 */
export function ErrorPage({ frame, status, requestId }: { frame: Frame; status: ErrorStatus; requestId: string }) {
  const { title, text } = ERRORS[status];
  return (
    <Page title={title} nonce={frame.nonce} user={frame.user} nav={frame.nav}>
      <h1 class="utrecht-heading-1">{title}</h1>
      <p class="utrecht-paragraph">{text}</p>
      <p class="utrecht-paragraph">
        Vermeld bij een vraag aan de servicedesk: <code class="doelpoort-request-id">{requestId}</code>
      </p>
      <p class="utrecht-paragraph">
        <a class="utrecht-link" href={frame.user ? WEB_PATHS.home : '/'}>
          {frame.user ? 'Naar uw overzicht' : 'Naar de startpagina'}
        </a>
      </p>
    </Page>
  );
}
