import type { Child } from 'hono/jsx';
import type { Withheld } from '../../overdracht/handover-document.js';
import { organisationName } from '../../organisations.js';
import type { RecordView } from '../../policy/release.js';
import {
  ARBEIDSVERMOGEN,
  BOETE_STATUS,
  DISCIPLINES,
  FML_RUBRIEKEN,
  INHOUDING_SOORTEN,
  LEEFGEBIEDEN,
  ONDERBOUWINGEN,
  ONTHEFFING_REDENEN,
  ONTHEFFING_SOORTEN,
  OVERDRACHT_STATUS,
  REGELINGEN,
  RICHTINGEN,
  clientName,
  dateInWords,
  euros,
  listInWords,
  show,
  withheldPlace,
  word,
  yesNo,
} from './words.js';

/**
 * The parts every screen that shows a released record is made of. Each shows only what the view holds: a field that
 * was not released is absent from the view and is left out here, never shown empty; a section without items is left
 * out whole. Values are escaped by hono/jsx.
 */

type Row = [label: string, value: Child | undefined];

/** Label and value pairs (a `utrecht-data-list`), which stack by themselves on a narrow screen. */
export function DataList({ rows }: { rows: Row[] }) {
  const shown = rows.filter(([, value]) => value !== undefined);
  if (shown.length === 0) return null;
  return (
    <dl class="utrecht-data-list utrecht-data-list--rows doelpoort-data-list">
      {shown.map(([label, value]) => (
        <div class="utrecht-data-list__item">
          <dt class="utrecht-data-list__item-key">{label}</dt>
          <dd class="utrecht-data-list__item-value utrecht-data-list__item-value--html-dd">{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/**
 * A table in a container of its own that scrolls sideways when the screen is too narrow, so the page itself never
 * does; the container is a named region in the tab order, so a keyboard can scroll it too.
 */
export function ScrollTable({ label, head, rows }: { label: string; head: string[]; rows: Child[][] }) {
  return (
    <section class="doelpoort-table-scroll" aria-label={label} tabindex={0}>
      <table class="utrecht-table utrecht-table--html-table">
        <thead class="utrecht-table__header">
          <tr class="utrecht-table__row">
            {head.map((h) => (
              <th class="utrecht-table__header-cell" scope="col">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody class="utrecht-table__body">
          {rows.map((cells) => (
            <tr class="utrecht-table__row">
              {cells.map((cell) => (
                <td class="utrecht-table__cell">{cell}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** A clientRef, kept on one line (it has a hyphen a browser would break at). */
export function ClientRef({ value }: { value: string }) {
  return <span class="doelpoort-nowrap">{value}</span>;
}

/** A section of a record page: an `h2` and its content. */
export function Section({ title, children }: { title: string; children?: Child }) {
  return (
    <section class="doelpoort-section">
      <h2 class="utrecht-heading-2">{title}</h2>
      {children}
    </section>
  );
}

/** Prompts for the reader derived from released data (src/overdracht/handover-document.ts words them). */
export function Signals({ signalen }: { signalen: string[] }) {
  if (signalen.length === 0) return null;
  return (
    <div class="utrecht-alert utrecht-alert--warning doelpoort-signals">
      <div class="utrecht-alert__content">
        <div class="utrecht-alert__message">
          <h2 class="utrecht-heading-2">Let op</h2>
          {signalen.map((s) => (
            <p class="utrecht-paragraph">{s}</p>
          ))}
        </div>
      </div>
    </div>
  );
}

const defined = <T,>(v: T | undefined, f: (v: T) => Child): Child | undefined => (v === undefined ? undefined : f(v));

/** The client's personal details as released. */
export function PersoonSection({ view }: { view: RecordView }) {
  const p = view.persoon;
  if (!p) return null;
  const a = p.adres;
  const straat = a ? [a.straat, a.huisnummer].filter(Boolean).join(' ') : '';
  const plaats = a ? [a.postcode, a.woonplaats].filter(Boolean).join(' ') : '';
  const adres = [straat, plaats].filter(Boolean).join(', ');
  return (
    <Section title="Cliënt">
      <DataList
        rows={[
          ['Naam', clientName(p)],
          ['Cliëntnummer', view.clientRef],
          ['Geboortedatum', defined(p.geboortedatum, dateInWords)],
          ['Adres', adres === '' ? undefined : adres],
          ['Gemeente', defined(p.gemeente, organisationName)],
          ['Telefoon', defined(p.telefoon, show)],
          ['E-mail', defined(p.email, show)],
        ]}
      />
    </Section>
  );
}

/** The handover a document rests on. */
export function OverdrachtSection({ overdracht }: { overdracht: NonNullable<RecordView['overdrachten']>[number] | undefined }) {
  const o = overdracht;
  if (!o) return null;
  return (
    <Section title="Overdracht">
      <DataList
        rows={[
          ['Richting', defined(o.richting, (r) => word(RICHTINGEN, r))],
          ['Datum', defined(o.datum, dateInWords)],
          ['Status', defined(o.status, (s) => word(OVERDRACHT_STATUS, s))],
          ['Van', defined(o.vanOrganisatie, organisationName)],
          ['Naar', defined(o.naarOrganisatie, organisationName)],
          ['Onderbouwing', defined(o.onderbouwing, (x) => word(ONDERBOUWINGEN, x))],
          ['Cliënt geïnformeerd', defined(o.clientGeinformeerd, yesNo)],
          ['Bezwaar tegen delen', defined(o.bezwaarTegenDelen, yesNo)],
          ['Driegesprek gewenst', defined(o.driegesprekGewenst, yesNo)],
          ['Toelichting', defined(o.toelichting, show)],
        ]}
      />
    </Section>
  );
}

/** Every handover released (a coach following a client sees the one that brought the client here). */
export function OverdrachtenSection({ view }: { view: RecordView }) {
  const list = view.overdrachten;
  if (!list?.length) return null;
  return (
    <Section title="Overdrachten">
      <ScrollTable
        label="Overdrachten"
        head={['Datum', 'Richting', 'Status', 'Onderbouwing', 'Driegesprek gewenst']}
        rows={list.map((o) => [
          dateInWords(o.datum),
          word(RICHTINGEN, o.richting),
          word(OVERDRACHT_STATUS, o.status),
          word(ONDERBOUWINGEN, o.onderbouwing),
          yesNo(o.driegesprekGewenst),
        ])}
      />
    </Section>
  );
}

/** The benefit as released: for a coach the scheme and start, for a counsellor the amounts too. */
export function UitkeringSection({ view }: { view: RecordView }) {
  const u = view.uitkering;
  if (!u) return null;
  const rows: Row[] = [
    ['Regeling', defined(u.regeling, (r) => word(REGELINGEN, r))],
    ['Ingangsdatum', defined(u.ingangsdatum, dateInWords)],
    ['Netto per maand', defined(u.nettoBedragMaand, euros)],
    ['Betaaldag', defined(u.betaaldag, (d) => (d === null ? '—' : `de ${d}e van de maand`))],
    ['Beslagvrije voet', defined(u.beslagvrijeVoet, euros)],
  ];
  if (rows.every(([, v]) => v === undefined)) return null;
  return (
    <Section title="Uitkering">
      <DataList rows={rows} />
    </Section>
  );
}

/** Deductions from the benefit (a counsellor's view). */
export function InhoudingenSection({ view }: { view: RecordView }) {
  const list = view.uitkering?.inhoudingen;
  if (!list?.length) return null;
  return (
    <Section title="Inhoudingen op de uitkering">
      <ScrollTable
        label="Inhoudingen op de uitkering"
        head={['Soort', 'Per maand', 'Schuldeiser']}
        rows={list.map((i) => [word(INHOUDING_SOORTEN, i.soort), euros(i.bedragMaand), show(i.schuldeiser)])}
      />
    </Section>
  );
}

export function KlantprofielenSection({ view }: { view: RecordView }) {
  const list = view.klantprofielen;
  if (!list?.length) return null;
  return (
    <Section title="Klantprofielen">
      <ScrollTable
        label="Klantprofielen"
        head={['Profiel', 'Vanaf', 'Tot']}
        rows={list.map((k) => [show(k.profiel), dateInWords(k.vanaf), k.tot ? dateInWords(k.tot) : 'heden'])}
      />
    </Section>
  );
}

export function OntheffingenSection({ view }: { view: RecordView }) {
  const list = view.ontheffingen;
  if (!list?.length) return null;
  return (
    <Section title="Ontheffingen van de arbeidsplicht">
      <ScrollTable
        label="Ontheffingen van de arbeidsplicht"
        head={['Soort', 'Reden', 'Vanaf', 'Tot']}
        rows={list.map((o) => [
          word(ONTHEFFING_SOORTEN, o.soort),
          word(ONTHEFFING_REDENEN, o.reden),
          dateInWords(o.vanaf),
          o.tot ? dateInWords(o.tot) : o.soort === 'duurzaam' ? 'geen einddatum' : '—',
        ])}
      />
    </Section>
  );
}

/** The functional findings of the workload-capacity assessments (never their medical core: it is never in a view). */
export function BelastbaarheidSection({ view }: { view: RecordView }) {
  const list = view.belastbaarheidsonderzoeken;
  if (!list?.length) return null;
  return (
    <Section title="Belastbaarheid">
      {list.map((b) => {
        const door = b.uitvoerder?.discipline ? ` door ${word(DISCIPLINES, b.uitvoerder.discipline)}` : '';
        const beperkingen = [...(b.functioneleBeperkingen ?? [])].sort((x, y) => String(x.rubriek).localeCompare(String(y.rubriek), 'nl', { numeric: true }));
        return (
          <div class="doelpoort-subsection">
            <h3 class="utrecht-heading-3">{`Onderzoek van ${dateInWords(b.datum)}${door}`}</h3>
            <DataList
              rows={[
                ['Arbeidsvermogen', defined(b.arbeidsvermogen, (a) => word(ARBEIDSVERMOGEN, a))],
                ['Uren per dag', defined(b.urenPerDag, show)],
                ['Uren per week', defined(b.urenPerWeek, show)],
                ['Prognose', defined(b.prognose, show)],
                ['Advies', defined(b.advies, show)],
              ]}
            />
            {beperkingen.length > 0 ? (
              <ScrollTable
                label={`Functionele beperkingen, onderzoek van ${dateInWords(b.datum)}`}
                head={['Rubriek (FML)', 'Beperking']}
                rows={beperkingen.map((f) => [word(FML_RUBRIEKEN, f.rubriek), show(f.omschrijving)])}
              />
            ) : null}
          </div>
        );
      })}
    </Section>
  );
}

export function LeefgebiedenSection({ view }: { view: RecordView }) {
  const list = view.leefgebieden;
  if (!list?.length) return null;
  const withText = list.some((l) => l.toelichting !== undefined);
  return (
    <Section title="Leefgebieden (Dariuz)">
      <ScrollTable
        label="Leefgebieden (Dariuz)"
        head={withText ? ['Leefgebied', 'Score (1–5)', 'Toelichting'] : ['Leefgebied', 'Score (1–5)']}
        rows={list.map((l) => {
          const cells: Child[] = [word(LEEFGEBIEDEN, l.domein), show(l.score)];
          if (withText) cells.push(l.toelichting === undefined ? 'alleen de score wordt gedeeld' : show(l.toelichting));
          return cells;
        })}
      />
    </Section>
  );
}

/** Fines with amounts (for a counsellor, debts); a fine only considered is a signal (Signals), never a row here. */
export function BoetesSection({ view }: { view: RecordView }) {
  const list = (view.boetes ?? []).filter((b) => b.status !== 'overwogen' && (b.bedrag !== undefined || b.openstaand !== undefined));
  if (list.length === 0) return null;
  return (
    <Section title="Boetes">
      <ScrollTable
        label="Boetes"
        head={['Datum', 'Status', 'Bedrag', 'Nog te betalen', 'Betalingsregeling']}
        rows={list.map((b) => [dateInWords(b.datum), word(BOETE_STATUS, b.status), euros(b.bedrag), euros(b.openstaand), show(b.betalingsregeling)])}
      />
    </Section>
  );
}

export function SchuldhulptrajectenSection({ view }: { view: RecordView }) {
  const list = view.schuldhulptrajecten;
  if (!list?.length) return null;
  return (
    <Section title="Schuldhulptrajecten">
      <ScrollTable
        label="Schuldhulptrajecten"
        head={['Gemeente', 'Vanaf', 'Tot']}
        rows={list.map((t) => [t.gemeente ? organisationName(t.gemeente) : '—', dateInWords(t.vanaf), t.tot ? dateInWords(t.tot) : 'loopt'])}
      />
    </Section>
  );
}

export function ContactmomentenSection({ view }: { view: RecordView }) {
  const list = view.contactmomenten;
  if (!list?.length) return null;
  return (
    <Section title="Contactmomenten over de overdracht">
      <ScrollTable label="Contactmomenten over de overdracht" head={['Datum', 'Verslag']} rows={list.map((c) => [dateInWords(c.datum), show(c.verslag)])} />
    </Section>
  );
}

/** Every section of a client's record, in the record's order, and what was withheld: each shows only what was released. */
export function RecordSections({ view, withheld }: { view: RecordView; withheld: Withheld[] }) {
  return (
    <>
      <PersoonSection view={view} />
      <UitkeringSection view={view} />
      <InhoudingenSection view={view} />
      <BoetesSection view={view} />
      <SchuldhulptrajectenSection view={view} />
      <KlantprofielenSection view={view} />
      <OntheffingenSection view={view} />
      <BelastbaarheidSection view={view} />
      <LeefgebiedenSection view={view} />
      <OverdrachtenSection view={view} />
      <ContactmomentenSection view={view} />
      <WithheldSection withheld={withheld} view={view} />
    </>
  );
}

/**
 * What the policy held back, grouped by reason: "Niet gedeeld: diagnose en medicatie van het onderzoek van …".
 * Only names and reasons: a withheld value is never in the view.
 */
export function WithheldSection({ withheld, view }: { withheld: Withheld[]; view: RecordView }) {
  if (withheld.length === 0) return null;
  const byReason = new Map<string, Map<string, string[]>>();
  for (const w of withheld) {
    const { item, field } = withheldPlace(w.field, view);
    const items = byReason.get(w.reason) ?? byReason.set(w.reason, new Map()).get(w.reason)!;
    const key = item ?? '';
    items.set(key, [...(items.get(key) ?? []), field]);
  }
  return (
    <Section title="Niet gedeeld">
      <p class="utrecht-paragraph">Deze gegevens zijn er wel, maar het deelbeleid staat niet toe ze voor dit doel te delen.</p>
      <ul class="utrecht-unordered-list doelpoort-withheld">
        {[...byReason].map(([reason, items]) => (
          <li class="utrecht-unordered-list__item">
            <strong>Niet gedeeld:</strong>{' '}
            {listInWords([...items].map(([item, fields]) => (item === '' ? listInWords(fields) : `${listInWords(fields)} van ${item}`)))}.
            <br />
            <span class="doelpoort-withheld__reason">Reden: {reason.replace(/[.\s]+$/, '')}.</span>
          </li>
        ))}
      </ul>
    </Section>
  );
}
