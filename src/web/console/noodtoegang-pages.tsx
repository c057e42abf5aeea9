import { DAY_MS } from '../../clock.js';
import type { NoodtoegangItem, NoodtoegangPage } from '../../noodtoegang/review.js';
import { organisationName } from '../../organisations.js';
import { ROLE_LABELS } from '../layout.js';
import type { WebSession } from '../../http/env.js';
import { Alert, ConsolePage, Csrf, DataTable, purposeLabel, Td, When } from './ui.js';

/**
 * The review queue of emergency accesses (api.md "Oversight", the break-glass queue) in the console: the open and the
 * judged accesses, one in full with the verdict form. The pages show what src/noodtoegang/review.ts's verbs return
 * within the officer's scope; only a Werkzaak officer gets the form, never on their own access.
 */

/** What every console page gets: its CSP nonce, the session, the path (for the navigation). */
interface Frame {
  nonce: string;
  session: WebSession;
  path: string;
}

const VERDICT_LABELS = { terecht: 'Terecht', onterecht: 'Onterecht' } as const;

/** How long ago, in whole days, in words. */
function age(at: string, now: number): string {
  const days = Math.floor((now - Date.parse(at)) / DAY_MS);
  return days <= 0 ? 'vandaag' : days === 1 ? '1 dag' : `${days} dagen`;
}

function Verdict({ item }: { item: NoodtoegangItem }) {
  if (item.verdict) return <span>{VERDICT_LABELS[item.verdict]}</span>;
  return item.overdue ? <strong class="doelpoort-strong">Te laat beoordeeld</strong> : <span>Wacht op oordeel</span>;
}

/** `GET /beheer/noodtoegang`: the queue, open or all, oldest first, paginated. */
export function NoodtoegangQueuePage(props: Frame & { page: NoodtoegangPage; status: 'open' | 'all'; paged: boolean; now: number }) {
  const { page, status } = props;
  const base = `/beheer/noodtoegang?status=${status}`;
  const open = page.items.filter((i) => i.overdue).length;
  return (
    <ConsolePage title="Noodtoegang beoordelen" {...props}>
      <h1 class="utrecht-heading-1">Noodtoegang beoordelen</h1>
      <p class="utrecht-paragraph">
        Elke noodtoegang wordt beoordeeld: was hij terecht? Een privacy officer van Werkzaak Rivierenland legt het oordeel vast, met een toelichting. Een
        noodtoegang die na 7 dagen nog geen oordeel heeft, is te laat.
      </p>
      <nav aria-label="Welke noodtoegang" class="doelpoort-pagination">
        <ul>
          <li>
            <a class="utrecht-link" href="/beheer/noodtoegang?status=open" aria-current={status === 'open' ? 'page' : undefined}>
              Nog te beoordelen
            </a>
          </li>
          <li>
            <a class="utrecht-link" href="/beheer/noodtoegang?status=all" aria-current={status === 'all' ? 'page' : undefined}>
              Alle, ook beoordeeld
            </a>
          </li>
        </ul>
      </nav>
      {open > 0 ? (
        <Alert kind="warning" title={`${open} ${open === 1 ? 'noodtoegang is' : 'noodtoegangen zijn'} te laat beoordeeld`}>
          <p class="utrecht-paragraph">{open === 1 ? 'Hij wacht' : 'Ze wachten'} langer dan 7 dagen op een oordeel.</p>
        </Alert>
      ) : null}
      {page.items.length === 0 ? (
        <p class="utrecht-paragraph">{status === 'open' ? 'Er wacht geen noodtoegang op een oordeel.' : 'Er is nog geen noodtoegang gebruikt.'}</p>
      ) : (
        <DataTable
          caption={status === 'open' ? 'Noodtoegang die op een oordeel wacht' : 'Alle noodtoegang'}
          head={['Wanneer', 'Rol', 'Organisatie', 'Cliënt', 'Doel', 'Reden', 'Wacht', 'Oordeel']}
        >
          {page.items.map((i) => (
            <tr class="utrecht-table__row">
              <Td>
                <a class="utrecht-link" href={`/beheer/noodtoegang/${i.id}`}>
                  <When at={i.at} />
                </a>
              </Td>
              <Td>{ROLE_LABELS[i.actor.role]}</Td>
              <Td>{organisationName(i.actor.org)}</Td>
              <Td>{i.clientRef}</Td>
              <Td>{purposeLabel(i.purpose)}</Td>
              <Td>
                <span class="doelpoort-pre-wrap">{i.reden}</span>
              </Td>
              <Td>{i.verdict ? '—' : age(i.at, props.now)}</Td>
              <Td>
                <Verdict item={i} />
              </Td>
            </tr>
          ))}
        </DataTable>
      )}
      {page.next !== null || props.paged ? (
        <nav class="doelpoort-pagination" aria-label="Paginering">
          <ul>
            {props.paged ? (
              <li>
                <a class="utrecht-link" href={base}>
                  Eerste pagina
                </a>
              </li>
            ) : null}
            {page.next !== null ? (
              <li>
                <a class="utrecht-link" rel="next" href={`${base}&cursor=${encodeURIComponent(page.next)}`}>
                  Volgende pagina
                </a>
              </li>
            ) : null}
          </ul>
        </nav>
      ) : null}
    </ConsolePage>
  );
}

/** What the verdict form can say: why there is none, or the problems of a post. */
export interface VerdictFormState {
  /** Why this officer gets no form: a municipal officer, or their own emergency access. */
  noForm?: 'not-controller' | 'own' | undefined;
  verdict: string;
  note: string;
  errors?: { verdict?: string | undefined; note?: string | undefined } | undefined;
}

/** `GET /beheer/noodtoegang/:id`: one emergency access in full, and the verdict (or the form for it). */
export function NoodtoegangItemPage(props: Frame & { item: NoodtoegangItem; form: VerdictFormState; recorded: boolean; now: number }) {
  const { item, form } = props;
  const errors = form.errors ?? {};
  return (
    <ConsolePage title="Noodtoegang" {...props}>
      <p class="utrecht-paragraph">
        <a class="utrecht-link" href="/beheer/noodtoegang">
          Terug naar de noodtoegang
        </a>
      </p>
      <h1 class="utrecht-heading-1">Noodtoegang tot {item.clientRef}</h1>
      {props.recorded ? (
        <Alert kind="ok" title="Het oordeel is vastgelegd">
          <p class="utrecht-paragraph">Het oordeel en de toelichting zijn bewaard; het vastleggen staat in het auditlog.</p>
        </Alert>
      ) : null}
      {item.overdue ? (
        <Alert kind="warning" title="Te laat beoordeeld">
          <p class="utrecht-paragraph">Deze noodtoegang wacht al {age(item.at, props.now)} op een oordeel; dat had binnen 7 dagen moeten gebeuren.</p>
        </Alert>
      ) : null}
      <dl class="doelpoort-facts">
        <dt>Wanneer</dt>
        <dd>
          <When at={item.at} /> ({age(item.at, props.now)} geleden)
        </dd>
        <dt>Rol</dt>
        <dd>{ROLE_LABELS[item.actor.role]}</dd>
        <dt>Organisatie</dt>
        <dd>{organisationName(item.actor.org)}</dd>
        <dt>Medewerker</dt>
        <dd>
          <code>{item.actor.sub}</code> bij <code>{item.actor.iss}</code>
        </dd>
        <dt>Cliënt</dt>
        <dd>{item.clientRef}</dd>
        <dt>Doel</dt>
        <dd>{purposeLabel(item.purpose)}</dd>
        <dt>Via</dt>
        <dd>
          <code>{item.clientId}</code>
        </dd>
        <dt>Reden</dt>
        <dd class="doelpoort-pre-wrap">{item.reden}</dd>
        <dt>Raadplegingen</dt>
        <dd>
          <a class="utrecht-link" href={`/beheer/auditlog?clientRef=${encodeURIComponent(item.clientRef)}`}>
            In het auditlog bij deze cliënt
          </a>
        </dd>
      </dl>
      <h2 class="utrecht-heading-2">Oordeel</h2>
      {item.review ? (
        <dl class="doelpoort-facts">
          <dt>Oordeel</dt>
          <dd>{item.verdict ? VERDICT_LABELS[item.verdict] : '—'}</dd>
          <dt>Toelichting</dt>
          <dd class="doelpoort-pre-wrap">{item.review.note}</dd>
          <dt>Door</dt>
          <dd>
            <code>{item.review.by.sub}</code>
          </dd>
          <dt>Wanneer</dt>
          <dd>
            <When at={item.review.at} />
          </dd>
        </dl>
      ) : form.noForm === 'not-controller' ? (
        <p class="utrecht-paragraph">Alleen een privacy officer van Werkzaak Rivierenland legt het oordeel over een noodtoegang vast.</p>
      ) : form.noForm === 'own' ? (
        <p class="utrecht-paragraph">Dit is uw eigen noodtoegang. Een andere privacy officer van Werkzaak Rivierenland moet hem beoordelen.</p>
      ) : (
        <form method="post" action={`/beheer/noodtoegang/${item.id}/oordeel`} class="doelpoort-form" novalidate>
          <Csrf session={props.session} />
          <fieldset
            class={`utrecht-form-fieldset${errors.verdict ? ' utrecht-form-fieldset--invalid' : ''}`}
            aria-describedby={errors.verdict ? 'oordeel-fout' : undefined}
          >
            <legend class="utrecht-form-fieldset__legend">Was deze noodtoegang terecht?</legend>
            {errors.verdict ? (
              <p class="utrecht-form-field-error-message" id="oordeel-fout">
                <span class="doelpoort-visually-hidden">Fout: </span>
                {errors.verdict}
              </p>
            ) : null}
            {(['terecht', 'onterecht'] as const).map((v) => (
              <div class="doelpoort-radio">
                <input class="utrecht-radio-button" type="radio" id={`oordeel-${v}`} name="verdict" value={v} checked={form.verdict === v} />{' '}
                <label class="utrecht-form-label utrecht-form-label--radio" for={`oordeel-${v}`}>
                  {VERDICT_LABELS[v]}
                </label>
              </div>
            ))}
          </fieldset>
          <div class={`utrecht-form-field utrecht-form-field--text${errors.note ? ' utrecht-form-field--invalid' : ''}`}>
            <div class="utrecht-form-field__label">
              <label class="utrecht-form-label" for="toelichting">
                Toelichting
              </label>
            </div>
            <div class="utrecht-form-field-description" id="toelichting-beschrijving">
              Waarom dit oordeel? Hoogstens 2000 tekens. De toelichting wordt bewaard bij het oordeel, niet in het auditlog.
            </div>
            {errors.note ? (
              <div class="utrecht-form-field-error-message" id="toelichting-fout">
                <span class="doelpoort-visually-hidden">Fout: </span>
                {errors.note}
              </div>
            ) : null}
            <textarea
              class={`utrecht-textarea${errors.note ? ' utrecht-textarea--invalid' : ''}`}
              id="toelichting"
              name="note"
              rows={4}
              maxlength={2000}
              aria-describedby={errors.note ? 'toelichting-beschrijving toelichting-fout' : 'toelichting-beschrijving'}
              aria-invalid={errors.note ? 'true' : undefined}
            >
              {form.note}
            </textarea>
          </div>
          <button type="submit" class="utrecht-button utrecht-button--primary-action">
            Oordeel vastleggen
          </button>
        </form>
      )}
    </ConsolePage>
  );
}
