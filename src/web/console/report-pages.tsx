import type { AccessReport } from '../../audit/access-report.js';
import type { MonthlyReport, UserReport } from '../../audit/oversight.js';
import type { Review, ReviewPage } from '../../audit/reviews.js';
import type { Problem } from '../../errors.js';
import type { WebSession } from '../../http/env.js';
import { organisationName } from '../../organisations.js';
import type { Role } from '../../purposes.js';
import { ROLE_LABELS } from '../layout.js';
import { Alert, Bars, ConsolePage, Csrf, DataTable, purposeLabel, Td, When } from './ui.js';

/** The access report of a citizen and the oversight pages: the monthly report, the per-person report, the reviews. */

interface Frame {
  nonce: string;
  session: WebSession;
  path: string;
}

const roleLabel = (role: string | null) => (role && Object.hasOwn(ROLE_LABELS, role) ? ROLE_LABELS[role as Role] : (role ?? '—'));
const MONTHS = ['januari', 'februari', 'maart', 'april', 'mei', 'juni', 'juli', 'augustus', 'september', 'oktober', 'november', 'december'];
/** `2026-10` as `oktober 2026`. */
export const monthLabel = (month: string) => `${MONTHS[Number(month.slice(5, 7)) - 1] ?? month} ${month.slice(0, 4)}`;
const DATE = new Intl.DateTimeFormat('nl-NL', { timeZone: 'UTC', dateStyle: 'long' });
/** A calendar day `YYYY-MM-DD` in words. */
const dayLabel = (day: string) => (Number.isNaN(Date.parse(day)) ? day : DATE.format(Date.parse(`${day}T00:00:00Z`)));

/** `GET /beheer/inzage`: the form, and the printable report once a clientRef is given. */
export function AccessReportPage(props: Frame & { clientRef: string; report?: AccessReport | undefined }) {
  const r = props.report;
  return (
    <ConsolePage title={r ? `Inzageoverzicht ${r.clientRef}` : 'Inzageverzoek'} {...props}>
      <div class="doelpoort-no-print">
        <h1 class="utrecht-heading-1">Inzageverzoek van een cliënt</h1>
        <p class="utrecht-paragraph">
          Een cliënt mag weten wie zijn gegevens heeft geraadpleegd (AVG artikel 15). Het overzicht noemt datum, organisatie, rol, doel en soort gegevens, nooit
          namen van medewerkers.{' '}
          {props.session.login.org === 'WERKZAAK'
            ? 'Als privacy officer van Werkzaak ziet u de raadplegingen door alle organisaties.'
            : `U ziet alleen de raadplegingen door ${organisationName(props.session.login.org)}; voor de rest verwijst u de cliënt naar Werkzaak Rivierenland.`}
        </p>
        <form method="get" action="/beheer/inzage" class="doelpoort-form doelpoort-inline-fields">
          <div class="utrecht-form-field">
            <label class="utrecht-form-label" for="i-client">
              Cliëntnummer
            </label>
            <input class="utrecht-textbox" id="i-client" name="clientRef" value={props.clientRef} autocomplete="off" required />
          </div>
          <button type="submit" class="utrecht-button utrecht-button--primary-action">
            Overzicht opstellen
          </button>
        </form>
      </div>
      {r ? (
        <article class="doelpoort-print-sheet" aria-labelledby="inzage-titel">
          <h2 class="utrecht-heading-2" id="inzage-titel">
            Overzicht van raadplegingen van uw gegevens
          </h2>
          <dl class="doelpoort-facts">
            <dt>Cliëntnummer</dt>
            <dd>
              <code>{r.clientRef}</code>
            </dd>
            <dt>Opgesteld op</dt>
            <dd>
              <When at={r.opgesteld} />
            </dd>
            <dt>Opgesteld door</dt>
            <dd>de privacy officer van {organisationName(props.session.login.org)}</dd>
            <dt>Omvat</dt>
            <dd>
              {r.reikwijdte === 'alle' ? 'de raadplegingen door alle organisaties in doelpoort' : `de raadplegingen door ${organisationName(r.reikwijdte)}`}
            </dd>
          </dl>
          {r.raadplegingen.length === 0 ? (
            <p class="utrecht-paragraph">Er zijn geen raadplegingen van gegevens van deze cliënt vastgelegd.</p>
          ) : (
            <DataTable caption={`${r.raadplegingen.length} raadplegingen, nieuwste eerst`} head={['Datum', 'Organisatie', 'Rol', 'Doel', 'Soort gegevens']}>
              {r.raadplegingen.map((x) => (
                <tr class="utrecht-table__row">
                  <Td>{dayLabel(x.datum)}</Td>
                  <Td>{organisationName(x.organisatie)}</Td>
                  <Td>{roleLabel(x.rol)}</Td>
                  <Td>
                    {purposeLabel(x.doel)} ({x.verwerkingsactiviteit})
                  </Td>
                  <Td>{x.gegevenscategorieen.join(', ')}</Td>
                </tr>
              ))}
            </DataTable>
          )}
          <p class="utrecht-paragraph doelpoort-no-print">Gebruik de afdrukfunctie van uw browser om dit overzicht te printen of als PDF op te slaan.</p>
        </article>
      ) : null}
    </ConsolePage>
  );
}

/** The oversight section's own links. */
function OversightNav(props: { current: 'maand' | 'personen' | 'beoordelingen' }) {
  const items = [
    ['maand', '/beheer/toezicht/maand', 'Maandrapportage'],
    ['personen', '/beheer/toezicht/personen', 'Medewerkers'],
    ['beoordelingen', '/beheer/toezicht/beoordelingen', 'Beoordelingen'],
  ] as const;
  return (
    <nav aria-label="Toezicht" class="doelpoort-subnav">
      <ul>
        {items.map(([key, href, label]) => (
          <li>
            <a class="utrecht-link" href={href} aria-current={props.current === key ? 'page' : undefined}>
              {label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/** The review form for what a page shows. */
function ReviewForm(props: { session: WebSession; subject: 'monthly' | 'users'; month?: string; from?: string; to?: string }) {
  return (
    <section aria-labelledby="beoordeel">
      <h2 class="utrecht-heading-2" id="beoordeel">
        Beoordeling vastleggen
      </h2>
      <form method="post" action="/beheer/toezicht/beoordelingen" class="doelpoort-form">
        <Csrf session={props.session} />
        <input type="hidden" name="onderwerp" value={props.subject} />
        {props.month ? <input type="hidden" name="maand" value={props.month} /> : null}
        {props.from ? <input type="hidden" name="van" value={props.from} /> : null}
        {props.to ? <input type="hidden" name="tot" value={props.to} /> : null}
        <div class="utrecht-form-field">
          <label class="utrecht-form-label" for="r-note">
            Wat hebt u bekeken, gevonden en gedaan?
          </label>
          <p class="utrecht-form-field-description" id="r-note-hint">
            Noem cliënten alleen bij cliëntnummer, nooit bij BSN. Hoogstens 2000 tekens.
          </p>
          <textarea class="utrecht-textarea" id="r-note" name="notitie" rows={4} required maxlength={2000} aria-describedby="r-note-hint" />
        </div>
        <button type="submit" class="utrecht-button utrecht-button--primary-action">
          Beoordeling vastleggen
        </button>
      </form>
    </section>
  );
}

/** `GET /beheer/toezicht/maand`: the figures of a month, each with its bars over the months before. */
export function MonthlyPage(props: Frame & { report: MonthlyReport }) {
  const r = props.report;
  return (
    <ConsolePage title={`Maandrapportage ${monthLabel(r.month)}`} {...props}>
      <h1 class="utrecht-heading-1">Maandrapportage {monthLabel(r.month)}</h1>
      <OversightNav current="maand" />
      <form method="get" action="/beheer/toezicht/maand" class="doelpoort-form doelpoort-inline-fields">
        <div class="utrecht-form-field">
          <label class="utrecht-form-label" for="m-month">
            Maand
          </label>
          <input class="utrecht-textbox" type="month" id="m-month" name="maand" value={r.month} />
        </div>
        <button type="submit" class="utrecht-button utrecht-button--secondary-action">
          Tonen
        </button>
      </form>
      <p class="utrecht-paragraph">
        {r.reikwijdte === 'alle' ? 'Alle organisaties.' : `De medewerkers van ${organisationName(r.reikwijdte)}.`} Alleen aantallen: geen namen, cliënten of
        gegevens. Tijden in Nederlandse tijd.
      </p>
      <div class="doelpoort-figures">
        {r.figures.map((f) => (
          <section class="doelpoort-figure" aria-labelledby={`fig-${f.key}`}>
            <h2 class="utrecht-heading-3" id={`fig-${f.key}`}>
              {f.label}: {f.value.toLocaleString('nl-NL')}
            </h2>
            <p class="utrecht-paragraph doelpoort-small">{f.description}</p>
            <p class="utrecht-paragraph doelpoort-small">
              {f.previousAverage === null
                ? 'Geen eerdere maanden om mee te vergelijken.'
                : `Gemiddeld in de maanden ervoor: ${f.previousAverage.toLocaleString('nl-NL')}.`}
            </p>
            <Bars label={`${f.label} per maand`} items={f.series.map((s) => ({ label: monthLabel(s.month), value: s.value, current: s.month === r.month }))} />
          </section>
        ))}
      </div>
      <h2 class="utrecht-heading-2">Per organisatie, rol en doel</h2>
      {r.groups.length === 0 ? (
        <p class="utrecht-paragraph">Geen regels in deze maand.</p>
      ) : (
        <DataTable
          caption={`Aantallen in ${monthLabel(r.month)} per organisatie, rol en doel`}
          head={['Organisatie', 'Rol', 'Doel', ...r.figures.map((f) => f.label)]}
        >
          {r.groups.map((g) => (
            <tr class="utrecht-table__row">
              <Td>{g.organisationName}</Td>
              <Td>{roleLabel(g.role)}</Td>
              <Td>{g.purposeLabel ?? '—'}</Td>
              {r.figures.map((f) => (
                <Td>{g[f.key].toLocaleString('nl-NL')}</Td>
              ))}
            </tr>
          ))}
        </DataTable>
      )}
      <ReviewForm session={props.session} subject="monthly" month={r.month} />
    </ConsolePage>
  );
}

const percent = (share: number) => `${(share * 100).toLocaleString('nl-NL', { maximumFractionDigits: 1 })}%`;

/** `GET /beheer/toezicht/personen`: the per-person report, those who stand out first, with the rules. */
export function UsersPage(props: Frame & { report: UserReport }) {
  const r = props.report;
  const ruleLabel = new Map(r.rules.map((x) => [x.id, x]));
  const standing = r.persons.filter((p) => p.standsOut.length > 0);
  return (
    <ConsolePage title="Medewerkers" {...props}>
      <h1 class="utrecht-heading-1">Raadplegingen per medewerker</h1>
      <OversightNav current="personen" />
      <form method="get" action="/beheer/toezicht/personen" class="doelpoort-form doelpoort-inline-fields">
        <div class="utrecht-form-field">
          <label class="utrecht-form-label" for="u-from">
            Van
          </label>
          <input class="utrecht-textbox" type="date" id="u-from" name="van" value={r.fromDate} />
        </div>
        <div class="utrecht-form-field">
          <label class="utrecht-form-label" for="u-to">
            Tot en met
          </label>
          <input class="utrecht-textbox" type="date" id="u-to" name="tot" value={r.toDate} />
        </div>
        <button type="submit" class="utrecht-button utrecht-button--secondary-action">
          Tonen
        </button>
      </form>
      <p class="utrecht-paragraph">
        Van {dayLabel(r.fromDate)} tot en met {dayLabel(r.toDate)};{' '}
        {r.reikwijdte === 'alle' ? 'alle organisaties' : `de medewerkers van ${organisationName(r.reikwijdte)}`}. Iemand valt op ten opzichte van collega’s met
        dezelfde rol en organisatie (minstens {r.minimumPeers} collega’s), volgens deze regels:
      </p>
      <ul class="utrecht-unordered-list">
        {r.rules.map((x) => (
          <li class="utrecht-unordered-list__item">
            <strong>{x.label}</strong>: {x.description}
          </li>
        ))}
      </ul>
      {standing.length === 0 ? (
        <Alert kind="ok">Niemand valt op in deze periode.</Alert>
      ) : (
        <Alert kind="warning" title={`${standing.length} ${standing.length === 1 ? 'medewerker valt' : 'medewerkers vallen'} op`}>
          <ul class="utrecht-unordered-list">
            {standing.map((p) => (
              <li class="utrecht-unordered-list__item">
                <code>{p.sub}</code> ({roleLabel(p.role)}, {p.organisationName}):{' '}
                {p.standsOut
                  .map((s) => {
                    const rule = ruleLabel.get(s.rule);
                    const fmt = rule?.measure === 'accesses' ? (n: number) => n.toLocaleString('nl-NL') : percent;
                    return `${rule?.label ?? s.rule} (${fmt(s.value)}, grens ${fmt(s.threshold)})`;
                  })
                  .join('; ')}
              </li>
            ))}
          </ul>
        </Alert>
      )}
      {r.persons.length === 0 ? (
        <p class="utrecht-paragraph">Geen raadplegingen in deze periode.</p>
      ) : (
        <DataTable
          caption="Per medewerker"
          head={[
            'Medewerker',
            'Rol en organisatie',
            'Raadplegingen',
            'Verschillende cliënten',
            'Geweigerd',
            'Buiten kantoortijd',
            'Noodtoegang',
            'Op BSN',
            'Collega’s',
            'Valt op',
          ]}
        >
          {r.persons.map((p) => (
            <tr class="utrecht-table__row">
              <Td>
                <a class="utrecht-link" href={`/beheer/auditlog?${new URLSearchParams({ actor: p.sub, actorIss: p.iss, from: r.fromDate, to: r.toDate })}`}>
                  <code>{p.sub}</code>
                </a>
              </Td>
              <Td>
                {roleLabel(p.role)}, {p.organisationName}
              </Td>
              <Td>{p.accesses.toLocaleString('nl-NL')}</Td>
              <Td>{p.distinctClients.toLocaleString('nl-NL')}</Td>
              <Td>
                {(p.denials + p.tokenRefusals).toLocaleString('nl-NL')} ({percent(p.denialShare)})
              </Td>
              <Td>
                {p.outsideOfficeHours.toLocaleString('nl-NL')} ({percent(p.outsideOfficeHoursShare)})
              </Td>
              <Td>{p.emergency.toLocaleString('nl-NL')}</Td>
              <Td>{p.bsnLookups.toLocaleString('nl-NL')}</Td>
              <Td>{p.peers}</Td>
              <Td>{p.standsOut.length > 0 ? p.standsOut.map((s) => ruleLabel.get(s.rule)?.label ?? s.rule).join(', ') : 'nee'}</Td>
            </tr>
          ))}
        </DataTable>
      )}
      <ReviewForm session={props.session} subject="users" from={r.fromDate} to={r.toDate} />
    </ConsolePage>
  );
}

const SUBJECT_LABELS: Record<Review['subject'], string> = {
  monthly: 'Maandrapportage',
  users: 'Raadplegingen per medewerker',
  'break-glass': 'Noodtoegang',
  period: 'Periode van het auditlog',
};

/** `GET /beheer/toezicht/beoordelingen`: the review trail, and a form for a period of the log. */
export function ReviewsPage(props: Frame & { page: ReviewPage; recorded?: Review | undefined; problems?: Problem[] }) {
  const problems = props.problems ?? [];
  return (
    <ConsolePage title="Beoordelingen" {...props}>
      <h1 class="utrecht-heading-1">Beoordelingen</h1>
      <OversightNav current="beoordelingen" />
      {props.recorded ? <Alert kind="ok">Uw beoordeling is vastgelegd (nummer {props.recorded.id}).</Alert> : null}
      {problems.length > 0 ? (
        <div id="review-problemen">
          <Alert kind="error" title="De beoordeling is niet vastgelegd">
            <ul class="utrecht-unordered-list">
              {problems.map((p) => (
                <li class="utrecht-unordered-list__item">
                  <code>{p.path}</code>: {p.message}
                </li>
              ))}
            </ul>
          </Alert>
        </div>
      ) : null}
      <p class="utrecht-paragraph">
        Het toezicht vraagt dat logbestanden regelmatig en stelselmatig worden beoordeeld. Hier staat wie wat wanneer heeft beoordeeld, nieuwste eerst.
      </p>
      {props.page.items.length === 0 ? (
        <p class="utrecht-paragraph">Er zijn nog geen beoordelingen vastgelegd.</p>
      ) : (
        <DataTable caption="Vastgelegde beoordelingen" head={['Nr.', 'Vastgelegd op', 'Door', 'Onderwerp', 'Periode', 'Notitie']}>
          {props.page.items.map((v) => (
            <tr class="utrecht-table__row">
              <Td>{v.id}</Td>
              <Td>
                <When at={v.at} />
              </Td>
              <Td>
                <code>{v.officer.sub}</code> ({organisationName(v.officer.org)})
              </Td>
              <Td>{SUBJECT_LABELS[v.subject]}</Td>
              <Td>
                {dayLabel(v.periodFrom)} – {dayLabel(v.periodTo)}
              </Td>
              <Td>{v.note}</Td>
            </tr>
          ))}
        </DataTable>
      )}
      {props.page.next ? (
        <p class="utrecht-paragraph">
          <a class="utrecht-link" href={`/beheer/toezicht/beoordelingen?${new URLSearchParams({ cursor: props.page.next })}`} rel="next">
            Oudere beoordelingen
          </a>
        </p>
      ) : null}
      <section aria-labelledby="periode">
        <h2 class="utrecht-heading-2" id="periode">
          Een periode van het auditlog beoordeeld
        </h2>
        <form method="post" action="/beheer/toezicht/beoordelingen" class="doelpoort-form">
          <Csrf session={props.session} />
          <input type="hidden" name="onderwerp" value="period" />
          <div class="doelpoort-filter__grid">
            <div class="utrecht-form-field">
              <label class="utrecht-form-label" for="p-from">
                Van
              </label>
              <input class="utrecht-textbox" type="date" id="p-from" name="van" required />
            </div>
            <div class="utrecht-form-field">
              <label class="utrecht-form-label" for="p-to">
                Tot en met
              </label>
              <input class="utrecht-textbox" type="date" id="p-to" name="tot" required />
            </div>
          </div>
          <div class="utrecht-form-field">
            <label class="utrecht-form-label" for="p-note">
              Wat hebt u bekeken, gevonden en gedaan?
            </label>
            <textarea class="utrecht-textarea" id="p-note" name="notitie" rows={4} required maxlength={2000} />
          </div>
          <button type="submit" class="utrecht-button utrecht-button--primary-action">
            Beoordeling vastleggen
          </button>
        </form>
      </section>
    </ConsolePage>
  );
}
