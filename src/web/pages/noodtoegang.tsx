import type { Child } from 'hono/jsx';
import type { ReleasedClient } from '../../clients/read.js';
import { REDEN_MAX, REDEN_MIN } from '../../noodtoegang/grant.js';
import type { Purpose } from '../../purposes.js';
import { Page } from '../layout.js';
import { type Frame, WEB_PATHS } from './frame.js';
import { RecordSections } from './sections.js';
import { clientName, purposeInWords } from './words.js';

/**
 * The emergency access (noodtoegang) pages of a person who needs a client that is not (yet) theirs: the request (the
 * clientRef typed, never a BSN, and the written reason; nothing of the client is shown before the grant), the
 * confirmation after logging in again, and the emergency view, marked as such. Dutch text of the flow in this one file.
 */

/** The form's values as typed, shown back after a refusal (the person's own words; never a client's data). */
export interface NoodtoegangForm {
  clientRef: string;
  reden: string;
}

/** What went wrong, per field or for the whole request. */
export interface NoodtoegangErrors {
  clientRef?: string | undefined;
  reden?: string | undefined;
  /** A refusal that is about the request as a whole (the weekly limit). */
  request?: string | undefined;
  /** "U heeft al toegang via …": where the normal access is. */
  access?: { label: string; href: string } | undefined;
}

/** Where the normal access of a purpose is, for "u heeft al toegang via …". */
export const NORMAL_ACCESS: Partial<Record<Purpose, { label: string; path: string }>> = {
  'begeleiding-kp4': { label: 'Mijn KP4-cliënten', path: WEB_PATHS.kp4Clients },
  'overdracht-kp3': { label: 'Terugmeldingen', path: WEB_PATHS.returns },
  schuldhulpverlening: { label: 'Schuldhulp', path: `${WEB_PATHS.schuldhulp}/clienten` },
};

/** The paths of the flow. */
export const NOODTOEGANG_PATHS = {
  request: '/noodtoegang',
  confirm: '/noodtoegang/bevestigen',
  view: '/noodtoegang/inzage',
} as const;

/** The warning every step of the flow shows: it is reviewed, and it counts. */
function Warning({ left, perWeek }: { left: number; perWeek: number }) {
  return (
    <div class="utrecht-alert utrecht-alert--warning" role="note">
      <div class="utrecht-alert__content">
        <p class="utrecht-alert__title utrecht-paragraph doelpoort-strong">Noodtoegang wordt altijd beoordeeld</p>
        <div class="utrecht-alert__message">
          <p class="utrecht-paragraph">
            Gebruik noodtoegang alleen als u een cliënt nu nodig hebt en de gewone weg er (nog) niet is, bijvoorbeeld omdat een overdracht nog niet is
            geregistreerd. Elke noodtoegang wordt met uw reden beoordeeld door de privacy officer van Werkzaak Rivierenland, en elke raadpleging ermee wordt
            apart vastgelegd.
          </p>
          <p class="utrecht-paragraph">
            U mag noodtoegang hoogstens {perWeek} keer per 7 dagen gebruiken. <strong>U hebt er deze week nog {left} over.</strong> U ziet dan alleen contact-
            en profielgegevens, nooit gezondheidsgegevens, en hoogstens 15 minuten lang.
          </p>
        </div>
      </div>
    </div>
  );
}

/** A text field with its label, description and error, tied together for assistive technology. */
function Field(props: { id: string; label: string; description: string; error?: string | undefined; children: (describedBy: string) => Child }) {
  const describedBy = props.error ? `${props.id}-beschrijving ${props.id}-fout` : `${props.id}-beschrijving`;
  return (
    <div class={`utrecht-form-field utrecht-form-field--text${props.error ? ' utrecht-form-field--invalid' : ''}`}>
      <div class="utrecht-form-field__label">
        <label class="utrecht-form-label" for={props.id}>
          {props.label}
        </label>
      </div>
      <div class="utrecht-form-field__description utrecht-form-field-description" id={`${props.id}-beschrijving`}>
        {props.description}
      </div>
      {props.error ? (
        <div class="utrecht-form-field__error-message utrecht-form-field-error-message" id={`${props.id}-fout`}>
          <span class="doelpoort-visually-hidden">Fout: </span>
          {props.error}
        </div>
      ) : null}
      <div class="utrecht-form-field__input">{props.children(describedBy)}</div>
    </div>
  );
}

/** `GET|POST /noodtoegang`: the request form, or why there is none for this person. */
export function NoodtoegangRequestPage(props: {
  frame: Frame;
  csrfToken: string;
  /** Whether the policy allows this person's role an emergency access at all. */
  available: boolean;
  left: number;
  perWeek: number;
  form: NoodtoegangForm;
  errors?: NoodtoegangErrors | undefined;
  /** The fresh login expired or was used before the grant. */
  expired?: boolean | undefined;
}) {
  const { frame, form } = props;
  const errors = props.errors ?? {};
  const title = 'Noodtoegang aanvragen';
  const body = !props.available ? (
    <>
      {errors.clientRef ? (
        <div class="utrecht-alert utrecht-alert--error" role="alert">
          <div class="utrecht-alert__content">
            <div class="utrecht-alert__message">
              <p class="utrecht-paragraph">{errors.clientRef}</p>
            </div>
          </div>
        </div>
      ) : null}
      <div class="utrecht-alert utrecht-alert--info" role="status">
        <div class="utrecht-alert__content">
          <p class="utrecht-alert__title utrecht-paragraph doelpoort-strong">Noodtoegang is voor u niet mogelijk</p>
          <div class="utrecht-alert__message">
            <p class="utrecht-paragraph">
              Het deelbeleid staat noodtoegang voor uw rol niet toe. Neem contact op met de privacy officer als u een cliënt toch nodig hebt.
            </p>
          </div>
        </div>
      </div>
    </>
  ) : (
    <>
      <Warning left={props.left} perWeek={props.perWeek} />
      {props.expired ? (
        <div class="utrecht-alert utrecht-alert--error" role="alert">
          <div class="utrecht-alert__content">
            <div class="utrecht-alert__message">
              <p class="utrecht-paragraph">Uw nieuwe inlog is verlopen of al gebruikt. Vraag de noodtoegang opnieuw aan; er is nog niets geopend.</p>
            </div>
          </div>
        </div>
      ) : null}
      {errors.request ? (
        <div class="utrecht-alert utrecht-alert--error" role="alert" id="noodtoegang-fout">
          <div class="utrecht-alert__content">
            <div class="utrecht-alert__message">
              <p class="utrecht-paragraph">{errors.request}</p>
            </div>
          </div>
        </div>
      ) : null}
      {props.left === 0 && !errors.request ? (
        <p class="utrecht-paragraph">U hebt uw noodtoegang voor deze 7 dagen opgebruikt. Neem contact op met de privacy officer van Werkzaak Rivierenland.</p>
      ) : (
        <form method="post" action={NOODTOEGANG_PATHS.request} class="doelpoort-form" novalidate>
          <input type="hidden" name="csrf" value={props.csrfToken} />
          <Field
            id="clientRef"
            label="Cliëntnummer"
            description="Het cliëntnummer van Werkzaak, zoals WZR-100001. Geen BSN. U ziet niets van de cliënt voordat de noodtoegang is verleend."
            error={errors.clientRef}
          >
            {(describedBy) => (
              <input
                class={`utrecht-textbox utrecht-textbox--html-input${errors.clientRef ? ' utrecht-textbox--invalid' : ''}`}
                id="clientRef"
                name="clientRef"
                type="text"
                autocomplete="off"
                spellcheck={false}
                maxlength={32}
                value={form.clientRef}
                aria-describedby={describedBy}
                aria-invalid={errors.clientRef ? 'true' : undefined}
              />
            )}
          </Field>
          {errors.access ? (
            <p class="utrecht-paragraph">
              <a class="utrecht-link" href={errors.access.href}>
                Open de cliënt via {errors.access.label}
              </a>
            </p>
          ) : null}
          <Field
            id="reden"
            label="Reden"
            description={`Waarom hebt u deze cliënt nu nodig? ${REDEN_MIN} tot ${REDEN_MAX} tekens. De privacy officer leest uw reden bij de beoordeling.`}
            error={errors.reden}
          >
            {(describedBy) => (
              <textarea
                class={`utrecht-textarea${errors.reden ? ' utrecht-textarea--invalid' : ''}`}
                id="reden"
                name="reden"
                rows={5}
                maxlength={REDEN_MAX}
                aria-describedby={describedBy}
                aria-invalid={errors.reden ? 'true' : undefined}
              >
                {form.reden}
              </textarea>
            )}
          </Field>
          <p class="utrecht-paragraph">Na deze stap logt u opnieuw in bij uw organisatie. Pas daarna wordt de noodtoegang verleend.</p>
          <button type="submit" class="utrecht-button utrecht-button--primary-action">
            Opnieuw inloggen en noodtoegang aanvragen
          </button>
        </form>
      )}
    </>
  );
  return (
    <Page title={title} nonce={frame.nonce} user={frame.user} nav={frame.nav}>
      <h1 class="utrecht-heading-1">{title}</h1>
      <p class="utrecht-paragraph utrecht-paragraph--lead">Voor een cliënt die niet in uw lijsten staat, maar die u nu nodig hebt.</p>
      {body}
    </Page>
  );
}

/** `GET /noodtoegang/bevestigen`: after logging in again, the last step before the grant. */
export function NoodtoegangConfirmPage(props: { frame: Frame; csrfToken: string; form: NoodtoegangForm; left: number; perWeek: number }) {
  const { frame, form } = props;
  return (
    <Page title="Noodtoegang bevestigen" nonce={frame.nonce} user={frame.user} nav={frame.nav}>
      <h1 class="utrecht-heading-1">Noodtoegang bevestigen</h1>
      <p class="utrecht-paragraph utrecht-paragraph--lead">U bent opnieuw ingelogd. Bevestig nu de noodtoegang; zonder bevestiging wordt er niets geopend.</p>
      <Warning left={props.left} perWeek={props.perWeek} />
      <dl class="doelpoort-facts">
        <dt>Cliëntnummer</dt>
        <dd>{form.clientRef}</dd>
        <dt>Uw reden</dt>
        <dd class="doelpoort-pre-wrap">{form.reden}</dd>
      </dl>
      <form method="post" action={NOODTOEGANG_PATHS.confirm} class="doelpoort-form">
        <input type="hidden" name="csrf" value={props.csrfToken} />
        <button type="submit" class="utrecht-button utrecht-button--primary-action">
          Noodtoegang openen
        </button>
      </form>
      <p class="utrecht-paragraph">
        <a class="utrecht-link" href={NOODTOEGANG_PATHS.request}>
          Annuleren
        </a>
      </p>
    </Page>
  );
}

const TIME = new Intl.DateTimeFormat('nl-NL', { timeZone: 'Europe/Amsterdam', timeStyle: 'short' });

/**
 * `GET /noodtoegang/inzage`: the client as the policy's emergency rules release it (contact and profile; never health
 * findings, which the decision withholds whatever a rule says), marked as an emergency access under review.
 */
export function NoodtoegangViewPage({ frame, client, purpose, until }: { frame: Frame; client: ReleasedClient; purpose: Purpose; until: number }) {
  const view = client.record;
  const naam = clientName(view.persoon);
  return (
    <Page title={`Noodtoegang: cliënt ${client.clientRef}`} nonce={frame.nonce} user={frame.user} nav={frame.nav}>
      <div class="utrecht-alert utrecht-alert--warning doelpoort-noodtoegang-banner" role="note">
        <div class="utrecht-alert__content">
          <p class="utrecht-alert__title utrecht-paragraph doelpoort-strong">Noodtoegang — wordt beoordeeld</p>
          <div class="utrecht-alert__message">
            <p class="utrecht-paragraph">
              U ziet deze cliënt met noodtoegang, tot <time datetime={new Date(until).toISOString()}>{TIME.format(until)}</time> uur (hoogstens 15 minuten).
              Elke raadpleging wordt vastgelegd en door de privacy officer van Werkzaak Rivierenland beoordeeld.
            </p>
          </div>
        </div>
      </div>
      <h1 class="utrecht-heading-1">{naam ?? `Cliënt ${client.clientRef}`}</h1>
      <p class="utrecht-paragraph utrecht-paragraph--lead">
        Cliëntnummer {client.clientRef} · doel: {purposeInWords(purpose)} · noodtoegang
      </p>
      {/* Every section the view may hold: each shows only what the emergency rules released. */}
      <RecordSections view={view} withheld={client.withheld} />
      <p class="utrecht-paragraph doelpoort-document-footer">
        Besluit {client.decision.id} · beleidsversie {client.decision.policyVersion}. Deze raadpleging is vastgelegd in het auditlog als noodtoegang.
      </p>
    </Page>
  );
}

/** `GET /noodtoegang/inzage` without a live emergency access: it ended (or never was). */
export function NoodtoegangEndedPage({ frame }: { frame: Frame }) {
  return (
    <Page title="Noodtoegang beëindigd" nonce={frame.nonce} user={frame.user} nav={frame.nav}>
      <h1 class="utrecht-heading-1">Geen noodtoegang (meer)</h1>
      <p class="utrecht-paragraph">Een noodtoegang geldt hoogstens 15 minuten, in de sessie waarin hij is verleend. Deze is verlopen of bestaat niet.</p>
      <p class="utrecht-paragraph">
        <a class="utrecht-link" href={NOODTOEGANG_PATHS.request}>
          Noodtoegang aanvragen
        </a>
      </p>
    </Page>
  );
}
