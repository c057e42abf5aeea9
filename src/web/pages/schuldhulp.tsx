import type { Child } from 'hono/jsx';
import type { ReleasedPage } from '../../clients/read.js';
import { Page } from '../layout.js';
import { type Frame, WEB_PATHS } from './frame.js';
import { Pagination } from './lists.js';
import { ClientRef, ScrollTable } from './sections.js';
import { clientName, dateInWords, euros } from './words.js';

/** Why a look-up by BSN found nobody to show, as the form tells it. `not-found` covers both an unknown BSN and one whose client has no trajectory with this municipality. */
export type LookupError = 'empty' | 'format' | 'elfproef' | 'not-found';

const LOOKUP_ERRORS: Record<LookupError, string> = {
  empty: 'Vul een BSN in.',
  format: 'Een BSN bestaat uit 9 cijfers. Controleer wat u hebt ingevuld.',
  elfproef: 'Dit is geen geldig BSN: de cijfers kloppen niet. Controleer wat u hebt ingevuld.',
  'not-found': 'Er is geen cliënt met dit BSN die een lopend schuldhulptraject bij uw gemeente heeft. Controleer het BSN.',
};

/**
 * The look-up by BSN: a POST form, so the BSN never enters a URL. Its error is tied to the field (`aria-describedby`,
 * `aria-invalid`); the field is always empty, also after an error: the BSN is never written back into a page.
 */
export function BsnLookupForm({ csrfToken, error }: { csrfToken: string; error?: LookupError | undefined }) {
  const describedBy = error ? 'bsn-beschrijving bsn-fout' : 'bsn-beschrijving';
  return (
    <form method="post" action={WEB_PATHS.lookup} class="doelpoort-lookup">
      <input type="hidden" name="csrf" value={csrfToken} />
      <div class={`utrecht-form-field utrecht-form-field--text${error ? ' utrecht-form-field--invalid' : ''}`}>
        <div class="utrecht-form-field__label">
          <label class="utrecht-form-label" for="bsn">
            BSN
          </label>
        </div>
        <div class="utrecht-form-field__description utrecht-form-field-description" id="bsn-beschrijving">
          Het burgerservicenummer van de cliënt: 9 cijfers. Het wordt niet getoond of bewaard; het auditlog houdt alleen een pseudoniem bij.
        </div>
        {error ? (
          <div class="utrecht-form-field__error-message utrecht-form-field-error-message" id="bsn-fout">
            <span class="doelpoort-visually-hidden">Fout: </span>
            {LOOKUP_ERRORS[error]}
          </div>
        ) : null}
        <div class="utrecht-form-field__input">
          <input
            class={`utrecht-textbox utrecht-textbox--html-input doelpoort-textbox-bsn${error ? ' utrecht-textbox--invalid' : ''}`}
            id="bsn"
            name="bsn"
            type="text"
            inputmode="numeric"
            autocomplete="off"
            spellcheck={false}
            maxlength={20}
            aria-describedby={describedBy}
            aria-invalid={error ? 'true' : undefined}
          />
        </div>
      </div>
      <button type="submit" class="utrecht-button utrecht-button--primary-action">
        Zoeken
      </button>
    </form>
  );
}

/** The sum of what is deducted from the benefit each month, as released. */
function deductions(item: ReleasedPage['items'][number]): string {
  const list = item.record.uitkering?.inhoudingen;
  if (!list) return '—';
  return euros(list.reduce((sum, i) => sum + (i.bedragMaand ?? 0), 0));
}

/** What is still owed on imposed fines, as released. */
function finesOwed(item: ReleasedPage['items'][number]): string {
  const list = (item.record.boetes ?? []).filter((b) => b.openstaand !== undefined);
  if (list.length === 0) return '—';
  return euros(list.reduce((sum, b) => sum + (b.openstaand ?? 0), 0));
}

/** The start of the client's running trajectory with this municipality, as released. */
function trajectSince(item: ReleasedPage['items'][number]): string {
  const running = (item.record.schuldhulptrajecten ?? []).find((t) => t.tot == null);
  return dateInWords(running?.vanaf);
}

/**
 * The debt counsellor's caseload: every client in an active trajectory with their municipality, with the income
 * figures they need at a glance, and the look-up by BSN above it.
 */
export function CaseloadPage({ frame, csrfToken, page, paged }: { frame: Frame; csrfToken: string; page: ReleasedPage; paged: boolean }) {
  return (
    <Page title="Schuldhulp" nonce={frame.nonce} user={frame.user} nav={frame.nav}>
      <h1 class="utrecht-heading-1">Schuldhulp</h1>
      <section class="doelpoort-section" aria-labelledby="zoeken">
        <h2 class="utrecht-heading-2" id="zoeken">
          Cliënt zoeken op BSN
        </h2>
        <BsnLookupForm csrfToken={csrfToken} />
      </section>
      <section class="doelpoort-section" aria-labelledby="caseload">
        <h2 class="utrecht-heading-2" id="caseload">
          Caseload van uw gemeente
        </h2>
        <p class="utrecht-paragraph">Alle cliënten met een lopend schuldhulptraject bij uw gemeente. Open een naam voor de inkomenskant.</p>
        {page.items.length === 0 ? (
          <p class="utrecht-paragraph">Er zijn nu geen cliënten met een lopend schuldhulptraject bij uw gemeente.</p>
        ) : (
          <ScrollTable
            label="Caseload van uw gemeente"
            head={['Naam', 'Cliëntnummer', 'Traject sinds', 'Netto-uitkering per maand', 'Inhoudingen per maand', 'Openstaande boetes']}
            rows={page.items.map((item): Child[] => [
              <a class="utrecht-link" href={`${WEB_PATHS.schuldhulp}/clienten/${encodeURIComponent(item.clientRef)}`}>
                {clientName(item.record.persoon) ?? item.clientRef}
              </a>,
              <ClientRef value={item.clientRef} />,
              trajectSince(item),
              euros(item.record.uitkering?.nettoBedragMaand),
              deductions(item),
              finesOwed(item),
            ])}
          />
        )}
        <Pagination path={WEB_PATHS.schuldhulp} next={page.next} paged={paged} />
      </section>
    </Page>
  );
}

/** The form alone, answering a look-up that found nobody or was not a BSN; the caseload is a link away. */
export function LookupPage({ frame, csrfToken, error }: { frame: Frame; csrfToken: string; error: LookupError }) {
  return (
    <Page title="Fout: cliënt zoeken op BSN" nonce={frame.nonce} user={frame.user} nav={frame.nav}>
      <h1 class="utrecht-heading-1">Cliënt zoeken op BSN</h1>
      <BsnLookupForm csrfToken={csrfToken} error={error} />
      <p class="utrecht-paragraph">
        <a class="utrecht-link" href={WEB_PATHS.schuldhulp}>
          Terug naar de caseload
        </a>
      </p>
    </Page>
  );
}
