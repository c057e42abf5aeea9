import type { AuditLine } from '../../audit/entry.js';
import type { VerifyResult } from '../../audit/verify.js';
import type { Checkpoint } from '../../audit/checkpoint.js';
import type { WebSession } from '../../http/env.js';
import { organisationName } from '../../organisations.js';
import { PURPOSE_NAMES } from '../../purposes.js';
import { ROLE_LABELS } from '../layout.js';
import { Alert, ConsolePage, DataTable, OUTCOME_LABELS, purposeLabel, Td, When } from './ui.js';

/** The audit log's pages: the start page of the console, the filtered list, one line in full, the verification. */

interface Frame {
  nonce: string;
  session: WebSession;
  path: string;
}

/** The verification in words: intact, or where it broke; and what the witness held. */
export function Verification(props: { result: VerifyResult }) {
  const r = props.result;
  const w = r.witness;
  return (
    <div>
      {r.ok ? (
        <Alert kind="ok" title="De keten van het auditlog is intact">
          <p class="utrecht-paragraph">
            Alle {r.records.toLocaleString('nl-NL')} regels zijn opnieuw doorgerekend en kloppen met de ondertekende controlepunten.
          </p>
        </Alert>
      ) : (
        <Alert kind="error" title="De keten van het auditlog is verbroken">
          <p class="utrecht-paragraph">
            Regel {r.firstBad.seq} klopt niet ({r.firstBad.reason}); de {r.records.toLocaleString('nl-NL')} regels ervoor kloppen wel. Meld dit direct bij de
            beheerder en de functionaris gegevensbescherming.
          </p>
        </Alert>
      )}
      <p class="utrecht-paragraph">
        {!w.configured
          ? 'Er is geen getuigemap ingesteld (DOELPOORT_CHECKPOINT_DIR): de controlepunten staan alleen in de database.'
          : w.checkpoint
            ? `Vergeleken met het nieuwste controlepunt in de getuigemap: ${w.checkpoint.size.toLocaleString('nl-NL')} regels.`
            : 'De getuigemap bevat nog geen controlepunt.'}
      </p>
    </div>
  );
}

/** The newest signed checkpoint, and where to download it. */
export function CheckpointSummary(props: { checkpoint: Checkpoint | undefined }) {
  const cp = props.checkpoint;
  if (!cp) return <p class="utrecht-paragraph">Er is nog geen ondertekend controlepunt.</p>;
  return (
    <div>
      <dl class="doelpoort-facts">
        <dt>Regels</dt>
        <dd>{cp.size.toLocaleString('nl-NL')}</dd>
        <dt>Ondertekend op</dt>
        <dd>
          <When at={cp.at} />
        </dd>
        <dt>Kopwaarde (hash)</dt>
        <dd>
          <code class="doelpoort-hash">{cp.head}</code>
        </dd>
      </dl>
      <p class="utrecht-paragraph">
        <a class="utrecht-link" href="/beheer/auditlog/controlepunt" download>
          Download het ondertekende controlepunt (JSON)
        </a>{' '}
        — bewaar het buiten doelpoort; met <code>doelpoort audit verify --checkpoint</code> ziet u later of het log sindsdien is herschreven.
      </p>
    </div>
  );
}

/** `GET /beheer`: the console's start page. */
export function ConsoleStartPage(props: Frame & { verification: VerifyResult; checkpoint: Checkpoint | undefined; drafts: number; overdue: number }) {
  const { login } = props.session;
  return (
    <ConsolePage title="Beheer" {...props}>
      <h1 class="utrecht-heading-1">Beheer en toezicht</h1>
      <p class="utrecht-paragraph">
        U bent ingelogd als privacy officer van {organisationName(login.org)}.{' '}
        {login.org === 'WERKZAAK'
          ? 'U ziet het auditlog en de rapportages van alle organisaties.'
          : `U ziet het auditlog en de rapportages van de medewerkers van ${organisationName(login.org)}.`}{' '}
        Elke pagina die u hier opent, wordt zelf ook vastgelegd.
      </p>
      {props.overdue > 0 ? (
        <div class="utrecht-alert utrecht-alert--error" role="alert">
          <div class="utrecht-alert__content">
            <p class="utrecht-alert__title utrecht-paragraph doelpoort-strong">
              {props.overdue} {props.overdue === 1 ? 'noodtoegang wacht' : 'noodtoegangen wachten'} langer dan 7 dagen op een oordeel
            </p>
            <div class="utrecht-alert__message">
              <p class="utrecht-paragraph">
                Elke noodtoegang moet binnen 7 dagen worden beoordeeld.{' '}
                <a class="utrecht-link" href="/beheer/noodtoegang?status=open">
                  Naar de noodtoegang die op een oordeel wacht
                </a>
              </p>
            </div>
          </div>
        </div>
      ) : null}
      <h2 class="utrecht-heading-2">Het auditlog</h2>
      <Verification result={props.verification} />
      <h3 class="utrecht-heading-3">Nieuwste controlepunt</h3>
      <CheckpointSummary checkpoint={props.checkpoint} />
      <h2 class="utrecht-heading-2">Wat wilt u doen?</h2>
      <ul class="utrecht-unordered-list doelpoort-link-list">
        <li class="utrecht-unordered-list__item">
          <a class="utrecht-link" href="/beheer/auditlog">
            Het auditlog doorzoeken
          </a>{' '}
          — op cliënt, medewerker, doel, uitkomst en periode.
        </li>
        <li class="utrecht-unordered-list__item">
          <a class="utrecht-link" href="/beheer/beleid">
            Het deelbeleid bekijken, wijzigen en goedkeuren
          </a>
          {props.drafts > 0 ? ` — ${props.drafts} ${props.drafts === 1 ? 'concept wacht' : 'concepten wachten'} op een besluit.` : '.'}
        </li>
        <li class="utrecht-unordered-list__item">
          <a class="utrecht-link" href="/beheer/inzage">
            Een inzageoverzicht voor een cliënt opstellen
          </a>{' '}
          (AVG artikel 15).
        </li>
        <li class="utrecht-unordered-list__item">
          <a class="utrecht-link" href="/beheer/noodtoegang">
            Noodtoegang beoordelen
          </a>{' '}
          — elke noodtoegang met de reden, en het oordeel terecht of onterecht.
        </li>
        <li class="utrecht-unordered-list__item">
          <a class="utrecht-link" href="/beheer/toezicht">
            De toezichtrapportages bekijken en beoordelen
          </a>{' '}
          — maandrapportage, medewerkers die opvallen, beoordelingen.
        </li>
      </ul>
    </ConsolePage>
  );
}

/** The filters as the form holds them: strings, empty when not set. */
export interface AuditFilterForm {
  clientRef: string;
  actor: string;
  actorIss: string;
  purpose: string;
  outcome: string;
  from: string;
  to: string;
}

/** The errors of a refused filter, per field of the form (and `form` for one that is none). */
export type AuditFilterErrors = Partial<Record<keyof AuditFilterForm | 'form', string>>;

/** An error beside a filter field, tied to it by its id (`<id>-fout`). */
function FilterError(props: { id: string; error: string | undefined }) {
  if (!props.error) return null;
  return (
    <p class="utrecht-form-field-error-message" id={`${props.id}-fout`}>
      <span class="doelpoort-visually-hidden">Fout: </span>
      {props.error}
    </p>
  );
}

/** The attributes that tie a field to its description and error. */
const described = (id: string, error: string | undefined, hint?: string) => ({
  'aria-describedby': [hint, error ? `${id}-fout` : undefined].filter(Boolean).join(' ') || undefined,
  'aria-invalid': error ? ('true' as const) : undefined,
});

/** The query string of a page of the list with these filters (and a cursor). */
export function auditHref(filters: AuditFilterForm, cursor?: string): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
  if (cursor) q.set('cursor', cursor);
  const s = q.toString();
  return s ? `/beheer/auditlog?${s}` : '/beheer/auditlog';
}

/** Who acted, as the log names them: role, organisation and login subject (never a name). */
function Actor(props: { line: AuditLine }) {
  const a = props.line.entry?.actor;
  if (!a) return <span>onbekend</span>;
  return (
    <span>
      {ROLE_LABELS[a.role]}, {organisationName(a.org)}
      <br />
      <code>{a.sub}</code>
    </span>
  );
}

/** `GET /beheer/auditlog`: the filters (a GET form), a page of lines, and the way to the next. */
export function AuditListPage(
  props: Frame & {
    filters: AuditFilterForm;
    items: AuditLine[];
    next: string | null;
    issuers: string[];
    scope: string;
    canExport: boolean;
    errors?: AuditFilterErrors | undefined;
  },
) {
  const f = props.filters;
  const e = props.errors ?? {};
  const refused = Object.keys(e).length > 0;
  return (
    <ConsolePage title="Auditlog" {...props}>
      <h1 class="utrecht-heading-1">Auditlog</h1>
      <p class="utrecht-paragraph">
        {props.scope === 'alle'
          ? 'U ziet de regels van alle organisaties, nieuwste eerst.'
          : `U ziet de regels van de medewerkers van ${organisationName(props.scope)}, nieuwste eerst.`}{' '}
        Regels bevatten nooit gegevens uit een dossier: alleen wie, wanneer, waarom en welke velden.
      </p>
      {refused ? (
        <Alert kind="error" title="De filters kloppen niet">
          <p class="utrecht-paragraph">{e.form ?? 'Verbeter wat bij de velden staat en zoek opnieuw. Er is niets gezocht.'}</p>
        </Alert>
      ) : null}
      <form method="get" action="/beheer/auditlog" class="doelpoort-filter">
        <fieldset class="utrecht-form-fieldset">
          <legend class="utrecht-form-fieldset__legend">Filters</legend>
          <div class="doelpoort-filter__grid">
            <div class="utrecht-form-field">
              <label class="utrecht-form-label" for="f-client">
                Cliëntnummer
              </label>
              <p class="utrecht-form-field-description" id="f-client-hint">
                Het cliëntnummer uit de Suite, nooit een BSN.
              </p>
              <FilterError id="f-client" error={e.clientRef} />
              <input
                class={`utrecht-textbox${e.clientRef ? ' utrecht-textbox--invalid' : ''}`}
                id="f-client"
                name="clientRef"
                value={e.clientRef ? '' : f.clientRef}
                autocomplete="off"
                {...described('f-client', e.clientRef, 'f-client-hint')}
              />
            </div>
            <div class="utrecht-form-field">
              <label class="utrecht-form-label" for="f-actor">
                Medewerker (inlognaam)
              </label>
              <FilterError id="f-actor" error={e.actor} />
              <input class="utrecht-textbox" id="f-actor" name="actor" value={f.actor} autocomplete="off" {...described('f-actor', e.actor)} />
            </div>
            <div class="utrecht-form-field">
              <label class="utrecht-form-label" for="f-iss">
                Inlogdienst van de medewerker
              </label>
              <select class="utrecht-select" id="f-iss" name="actorIss">
                <option value="">—</option>
                {props.issuers.map((i) => (
                  <option value={i} selected={f.actorIss === i}>
                    {i}
                  </option>
                ))}
              </select>
            </div>
            <div class="utrecht-form-field">
              <label class="utrecht-form-label" for="f-purpose">
                Doel
              </label>
              <select class="utrecht-select" id="f-purpose" name="purpose">
                <option value="">Alle doelen</option>
                {PURPOSE_NAMES.map((p) => (
                  <option value={p} selected={f.purpose === p}>
                    {purposeLabel(p)}
                  </option>
                ))}
              </select>
            </div>
            <div class="utrecht-form-field">
              <label class="utrecht-form-label" for="f-outcome">
                Uitkomst
              </label>
              <select class="utrecht-select" id="f-outcome" name="outcome">
                <option value="">Alle uitkomsten</option>
                {Object.entries(OUTCOME_LABELS).map(([v, l]) => (
                  <option value={v} selected={f.outcome === v}>
                    {l}
                  </option>
                ))}
              </select>
            </div>
            <div class="utrecht-form-field">
              <label class="utrecht-form-label" for="f-from">
                Vanaf (datum)
              </label>
              <FilterError id="f-from" error={e.from} />
              <input
                class={`utrecht-textbox${e.from ? ' utrecht-textbox--invalid' : ''}`}
                type="date"
                id="f-from"
                name="from"
                value={f.from}
                {...described('f-from', e.from)}
              />
            </div>
            <div class="utrecht-form-field">
              <label class="utrecht-form-label" for="f-to">
                Tot en met (datum)
              </label>
              <FilterError id="f-to" error={e.to} />
              <input
                class={`utrecht-textbox${e.to ? ' utrecht-textbox--invalid' : ''}`}
                type="date"
                id="f-to"
                name="to"
                value={f.to}
                {...described('f-to', e.to)}
              />
            </div>
          </div>
          <div class="doelpoort-button-row">
            <button type="submit" class="utrecht-button utrecht-button--primary-action">
              Zoeken
            </button>
            <a class="utrecht-link" href="/beheer/auditlog">
              Filters wissen
            </a>
          </div>
        </fieldset>
      </form>
      {refused ? null : props.items.length === 0 ? (
        <p class="utrecht-paragraph">Geen regels gevonden met deze filters.</p>
      ) : (
        <DataTable
          caption={`Auditregels (${props.items.length} op deze pagina)`}
          head={['Nr.', 'Tijdstip', 'Handeling', 'Uitkomst', 'Medewerker', 'Doel', 'Cliënt']}
        >
          {props.items.map((l) => (
            <tr class="utrecht-table__row">
              <Td>
                <a class="utrecht-link" href={`/beheer/auditlog/regel/${l.seq}`}>
                  {l.seq}
                </a>
              </Td>
              <Td>
                <When at={l.at} />
              </Td>
              <Td>
                <code>{l.action}</code>
              </Td>
              <Td>
                {OUTCOME_LABELS[l.outcome] ?? l.outcome}
                {l.entry?.reason ? (
                  <>
                    <br />
                    <code>{l.entry.reason}</code>
                  </>
                ) : null}
              </Td>
              <Td>
                <Actor line={l} />
              </Td>
              <Td>{purposeLabel(l.entry?.purpose)}</Td>
              <Td>{l.entry?.clientRef ? <code>{l.entry.clientRef}</code> : '—'}</Td>
            </tr>
          ))}
        </DataTable>
      )}
      {props.next ? (
        <p class="utrecht-paragraph">
          <a class="utrecht-link" href={auditHref(f, props.next)} rel="next">
            Oudere regels
          </a>
        </p>
      ) : null}
      <h2 class="utrecht-heading-2">Downloaden en controleren</h2>
      <ul class="utrecht-unordered-list">
        <li class="utrecht-unordered-list__item">
          <a class="utrecht-link" href="/beheer/auditlog/controle">
            De keten van het auditlog nu controleren
          </a>
        </li>
        <li class="utrecht-unordered-list__item">
          <a class="utrecht-link" href="/beheer/auditlog/controlepunt" download>
            Het nieuwste ondertekende controlepunt downloaden
          </a>
        </li>
        {props.canExport ? (
          <li class="utrecht-unordered-list__item">
            <a
              class="utrecht-link"
              href={`/beheer/auditlog/logboek${f.from || f.to ? `?${new URLSearchParams({ ...(f.from ? { from: f.from } : {}), ...(f.to ? { to: f.to } : {}) })}` : ''}`}
              download
            >
              De export volgens Logboek Dataverwerkingen downloaden (NDJSON{f.from || f.to ? ', de gekozen periode' : ''})
            </a>
          </li>
        ) : null}
      </ul>
    </ConsolePage>
  );
}

/** `GET /beheer/auditlog/regel/:seq`: one line with every field, named in Dutch. */
export function AuditLinePage(props: Frame & { line: AuditLine }) {
  const l = props.line;
  const e = l.entry;
  const rows: Array<[string, unknown]> = e
    ? [
        ['Handeling', <code>{e.action}</code>],
        ['Uitkomst', OUTCOME_LABELS[e.outcome] ?? e.outcome],
        ['Reden (code)', <code>{e.reason}</code>],
        ['HTTP-status', 'httpStatus' in e ? e.httpStatus : undefined],
        ['Medewerker', e.actor ? `${ROLE_LABELS[e.actor.role]}, ${organisationName(e.actor.org)}` : 'onbekend'],
        ['Inlognaam', e.actor ? <code>{e.actor.sub}</code> : undefined],
        ['Inlogdienst', e.actor ? <code>{e.actor.iss}</code> : undefined],
        ['Doel', e.purpose ? `${purposeLabel(e.purpose)} (${e.purpose})` : undefined],
        ['Verwerkingsactiviteit', e.processingActivityId],
        ['Cliënt', e.clientRef ? <code>{e.clientRef}</code> : undefined],
        ['Beleidsversie', e.policyVersion ? <code class="doelpoort-hash">{e.policyVersion}</code> : undefined],
        ['Besluit', e.decisionId ? <code>{e.decisionId}</code> : undefined],
        ['Verstrekte velden', e.released?.length ? <FieldList fields={e.released} /> : e.released ? 'geen' : undefined],
        ['Achtergehouden velden', e.withheld?.length ? <FieldList fields={e.withheld} /> : e.withheld ? 'geen' : undefined],
        ['Noodtoegang', e.noodtoegang ? 'ja' : undefined],
        ['Kanaal', e.channel ? { api: 'API', web: 'webapplicatie', cli: 'opdrachtregel' }[e.channel] : undefined],
        ['Applicatie (client)', e.clientId ? <code>{e.clientId}</code> : undefined],
        ['Trace-id', <code>{e.traceId}</code>],
        ['Span-id', <code>{e.spanId}</code>],
        ['Aanroepende span', e.parentSpanId ? <code>{e.parentSpanId}</code> : undefined],
        ['Herkomst (adres)', <code>{e.origin}</code>],
        ['Token-id', e.tokenId ? <code>{e.tokenId}</code> : undefined],
      ]
    : [];
  return (
    <ConsolePage title={`Auditregel ${l.seq}`} {...props}>
      <h1 class="utrecht-heading-1">Auditregel {l.seq}</h1>
      <p class="utrecht-paragraph">
        Vastgelegd op <When at={l.at} />.
      </p>
      {e ? null : <Alert kind="info">De inhoud van deze regel is na de bewaartermijn opgeschoond; alleen de keten bleef bewaard.</Alert>}
      <dl class="doelpoort-facts">
        {rows
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => (
            <>
              <dt>{k}</dt>
              <dd>{v as string}</dd>
            </>
          ))}
        <dt>Ketenwaarde (hash)</dt>
        <dd>
          <code class="doelpoort-hash">{l.chainHash}</code>
        </dd>
      </dl>
      <p class="utrecht-paragraph">
        <a class="utrecht-link" href="/beheer/auditlog">
          Terug naar het auditlog
        </a>
      </p>
    </ConsolePage>
  );
}

const FieldList = (props: { fields: string[] }) => (
  <ul class="doelpoort-field-list">
    {props.fields.map((f) => (
      <li>
        <code>{f}</code>
      </li>
    ))}
  </ul>
);

/** `GET /beheer/auditlog/controle`: the verification just done. */
export function VerifyPage(props: Frame & { result: VerifyResult; checkpoint: Checkpoint | undefined }) {
  return (
    <ConsolePage title="Controle van het auditlog" {...props}>
      <h1 class="utrecht-heading-1">Controle van het auditlog</h1>
      <Verification result={props.result} />
      <h2 class="utrecht-heading-2">Nieuwste controlepunt</h2>
      <CheckpointSummary checkpoint={props.checkpoint} />
    </ConsolePage>
  );
}

/** The filters of the form as the query schema takes them: empty fields left out. */
export function filtersOf(query: Record<string, string>): { form: AuditFilterForm; input: Record<string, string> } {
  const keys: Array<keyof AuditFilterForm> = ['clientRef', 'actor', 'actorIss', 'purpose', 'outcome', 'from', 'to'];
  const form = Object.fromEntries(keys.map((k) => [k, (query[k] ?? '').trim()])) as unknown as AuditFilterForm;
  // A person is (issuer, subject): with one issuer known, a subject alone means that issuer's.
  const input: Record<string, string> = {};
  for (const [k, v] of Object.entries(query)) {
    const value = v.trim();
    if (value !== '') input[k] = k === 'clientRef' ? value.toUpperCase() : value;
  }
  return { form, input };
}
