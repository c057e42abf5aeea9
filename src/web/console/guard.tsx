import type { Context, MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import { auditFacts } from '../../audit/facts.js';
import { DoelpoortError, isDoelpoortError, type ErrorCode } from '../../errors.js';
import type { AppDeps } from '../../http/deps.js';
import type { HonoEnv } from '../../http/env.js';
import { codeToStatus } from '../../http/problem.js';
import { usePageCsp } from '../../http/security-headers.js';
import { refuse } from '../../unit-of-work.js';
import { renderPage } from '../layout.js';
import { UnavailablePage } from '../login-pages.js';
import { webFacts } from '../session.js';
import { ConsolePage } from './ui.js';
import { Page } from '../layout.js';
import { pageUser } from '../login-pages.js';

/**
 * The console's door and its refusals. Every console route is behind requireSession and then requireOfficer: anyone
 * but a privacy officer gets a Dutch 403 page, after a `request.refused` line (`ROLE_NOT_ALLOWED`) with their actor.
 * A verb's refusal becomes a Dutch page with the status the API would answer; its deny line the verb wrote itself.
 */

/** Only privacy officers pass; anyone else: the 403 page and its line. */
export function requireOfficer(deps: Pick<AppDeps, 'uow'>): MiddlewareHandler<HonoEnv> {
  return createMiddleware<HonoEnv>(async (c, next) => {
    const { login, csrfToken } = c.get('session');
    if (login.role === 'privacy-officer') return next();
    const refusal = new DoelpoortError('ACCESS_DENIED', 'the console is for privacy officers', [], { reason: 'ROLE_NOT_ALLOWED' });
    try {
      await refuse(deps.uow, refusal, { action: 'request.refused', ...auditFacts(webFacts(c), login) });
    } catch (error) {
      if (error !== refusal) return unavailable(c);
    }
    const nonce = usePageCsp(c);
    return c.html(
      await renderPage(
        <Page title="Geen toegang" nonce={nonce} user={pageUser(login, csrfToken)}>
          <h1 class="utrecht-heading-1">Geen toegang tot het beheer</h1>
          <p class="utrecht-paragraph">Het beheer van doelpoort (auditlog, deelbeleid en toezicht) is alleen voor privacy officers. Uw poging is vastgelegd.</p>
          <p class="utrecht-paragraph">
            <a class="utrecht-link" href="/start">
              Naar uw startpagina
            </a>
          </p>
        </Page>,
      ),
      403,
    );
  });
}

async function unavailable(c: Context<HonoEnv>): Promise<Response> {
  const nonce = usePageCsp(c);
  return c.html(await renderPage(UnavailablePage({ nonce })), 503);
}

/** What a refusal means for the officer, in Dutch; never a value, only what they can do about it. */
const MESSAGES: Partial<Record<ErrorCode, string>> = {
  REQUEST_INVALID: 'De gegevens in het formulier of de adresregel kloppen niet.',
  PURPOSE_NOT_ALLOWED: 'Uw rol of doel staat deze handeling niet toe.',
  ACCESS_DENIED: 'Deze handeling is voor u niet toegestaan.',
  CLIENT_NOT_ALLOWED: 'Uw organisatie kan deze cliënt niet zien. Simuleer met een verzonnen dossier.',
  RECORD_NOT_FOUND: 'Er is geen cliënt met dit cliëntnummer.',
  RECORD_INVALID: 'Het verzonnen dossier is geen geldig Suite-dossier.',
  POLICY_INVALID: 'Het beleid bevat fouten.',
  POLICY_NOT_FOUND: 'Deze beleidsversie bestaat niet.',
  POLICY_NOT_DRAFT: 'Deze versie is geen concept meer: er kan niet meer over worden besloten.',
  POLICY_SELF_APPROVAL: 'U hebt deze versie zelf voorgesteld. Een andere privacy officer moet haar goedkeuren (vier ogen).',
  POLICY_DECIDER_NOT_CONTROLLER: 'Alleen een privacy officer van Werkzaak Rivierenland besluit over het deelbeleid.',
  NOODTOEGANG_NOT_FOUND: 'Deze noodtoegang bestaat niet, of valt buiten wat u mag inzien.',
  NOODTOEGANG_NOT_CONTROLLER: 'Alleen een privacy officer van Werkzaak Rivierenland legt het oordeel over een noodtoegang vast.',
  NOODTOEGANG_SELF_REVIEW: 'Dit is uw eigen noodtoegang. Een andere privacy officer moet hem beoordelen.',
  NOODTOEGANG_JUDGED: 'Over deze noodtoegang is al geoordeeld; een oordeel wordt maar één keer vastgelegd.',
  POLICY_STALE: 'Het actieve beleid is gewijzigd sinds dit concept werd voorgesteld. Stel het opnieuw voor op basis van de huidige versie.',
};

/** Refusals whose reason says more than their code. */
const BY_REASON: Record<string, string> = {
  NO_CHECKPOINT: 'Er is nog geen ondertekend controlepunt geschreven.',
  EXPORT_NEEDS_CONTROLLER: 'De export beslaat het hele auditlog; alleen een privacy officer van Werkzaak Rivierenland kan hem downloaden.',
  REAUTH_REQUIRED: 'Voor het goedkeuren moet u vlak ervoor opnieuw inloggen. Begin opnieuw bij de knop "Goedkeuren"; er is niets goedgekeurd.',
  AUDIT_LINE_NOT_FOUND: 'Deze auditregel bestaat niet, of valt buiten wat u mag inzien.',
};

/** The Dutch page of a verb's refusal. */
export async function refusalPage(c: Context<HonoEnv>, error: DoelpoortError): Promise<Response> {
  if (error.code === 'AUDIT_WRITE_FAILED') return unavailable(c);
  const status = codeToStatus[error.code];
  const nonce = usePageCsp(c);
  const text = BY_REASON[error.reason] ?? MESSAGES[error.code];
  return c.html(
    await renderPage(
      <ConsolePage title="Niet gelukt" nonce={nonce} session={c.get('session')} path={c.req.path}>
        <h1 class="utrecht-heading-1">Dit is niet gelukt</h1>
        <p class="utrecht-paragraph">{text ?? 'Het verzoek is geweigerd.'}</p>
        {error.problems.length > 0 ? (
          <ul class="utrecht-unordered-list">
            {error.problems.map((p) => (
              <li class="utrecht-unordered-list__item">
                <code>{p.path}</code>: {p.message}
              </li>
            ))}
          </ul>
        ) : null}
        <p class="utrecht-paragraph">
          Foutcode: <code>{error.reason}</code>. De weigering is vastgelegd in het auditlog.
        </p>
        <p class="utrecht-paragraph">
          <a class="utrecht-link" href="/beheer">
            Naar het overzicht
          </a>
        </p>
      </ConsolePage>,
    ),
    status as 400,
  );
}

/** Runs a page's work; a coded refusal becomes its Dutch page, anything else propagates (a 500). */
export async function orRefusal(c: Context<HonoEnv>, work: () => Promise<Response>): Promise<Response> {
  try {
    return await work();
  } catch (error) {
    if (isDoelpoortError(error)) return refusalPage(c, error);
    throw error;
  }
}
