import type { OwnUse } from '../../audit/own-use.js';
import type { RecordView } from '../../policy/release.js';
import { PURPOSES, type Purpose } from '../../purposes.js';
import type { SuiteRecord } from '../../records/suite-record.js';

/**
 * The words a coach or counsellor reads for the codes of the records (docs/records.md): one place for every screen.
 * A value outside a list is shown as it is, never dropped.
 */

type Values<K extends string> = Record<K, string>;
type Of<T> = NonNullable<T>;
type Item<T> = Of<T> extends readonly (infer I)[] ? I : never;

export const REGELINGEN: Values<Of<SuiteRecord['uitkering']>['regeling']> = {
  PW: 'Participatiewet (PW)',
  IOAW: 'IOAW (oudere of gedeeltelijk arbeidsongeschikte werkloze werknemers)',
  IOAZ: 'IOAZ (oudere of gedeeltelijk arbeidsongeschikte gewezen zelfstandigen)',
  BBZ: 'Bbz (bijstand voor zelfstandigen)',
};

export const ARBEIDSVERMOGEN: Values<Item<SuiteRecord['belastbaarheidsonderzoeken']>['arbeidsvermogen']> = {
  geen: 'geen arbeidsvermogen',
  beperkt: 'beperkt arbeidsvermogen',
  volledig: 'volledig arbeidsvermogen',
};

export const DISCIPLINES: Values<Item<SuiteRecord['belastbaarheidsonderzoeken']>['uitvoerder']['discipline']> = {
  arbeidsdeskundige: 'een arbeidsdeskundige',
  verzekeringsarts: 'een verzekeringsarts',
  bedrijfsarts: 'een bedrijfsarts',
  huisarts: 'een huisarts',
  psycholoog: 'een psycholoog',
};

/** The FML (functionele mogelijkhedenlijst) rubrieken, as a coach knows them. */
export const FML_RUBRIEKEN: Values<'I' | 'II' | 'III' | 'IV' | 'V' | 'VI'> = {
  I: 'I. Persoonlijk functioneren',
  II: 'II. Sociaal functioneren',
  III: 'III. Aanpassing aan fysieke omgevingseisen',
  IV: 'IV. Dynamische handelingen',
  V: 'V. Statische houdingen',
  VI: 'VI. Werktijden',
};

export const RICHTINGEN: Values<Item<SuiteRecord['overdrachten']>['richting']> = {
  'KP3-KP4': 'KP3 naar KP4',
  'KP4-KP3': 'KP4 naar KP3',
};

export const OVERDRACHT_STATUS: Values<Item<SuiteRecord['overdrachten']>['status']> = {
  aangevraagd: 'aangevraagd',
  afgerond: 'afgerond',
  afgewezen: 'afgewezen',
};

export const ONDERBOUWINGEN: Values<Of<Item<SuiteRecord['overdrachten']>['onderbouwing']>> = {
  'onderzoek-zorgprofessional': 'onderzoek door een zorgprofessional',
  deeltijdwerk: 'de cliënt werkt al in deeltijd',
  vrijwilligerswerk: 'de cliënt doet structureel vrijwilligerswerk',
};

export const ONTHEFFING_SOORTEN: Values<Item<SuiteRecord['ontheffingen']>['soort']> = {
  tijdelijk: 'tijdelijk',
  duurzaam: 'duurzaam (WIA art. 4)',
};

export const ONTHEFFING_REDENEN: Values<Of<Item<SuiteRecord['ontheffingen']>['reden']>> = {
  medisch: 'medisch',
  sociaal: 'sociaal',
  zorgtaken: 'zorgtaken',
};

export const INHOUDING_SOORTEN: Values<Item<Of<SuiteRecord['uitkering']>['inhoudingen']>['soort']> = {
  verrekening: 'verrekening',
  beslag: 'beslag',
  'aflossing-vordering': 'aflossing van een vordering',
};

export const LEEFGEBIEDEN: Values<Item<SuiteRecord['leefgebieden']>['domein']> = {
  werk: 'Werk',
  gezondheid: 'Gezondheid en verslaving',
  sociaal: 'Sociale omgeving',
  'huisvesting-financien': 'Huisvesting en financiën',
  justitie: 'Justitie',
};

export const BOETE_STATUS: Values<Item<SuiteRecord['boetes']>['status']> = {
  overwogen: 'overwogen',
  opgelegd: 'opgelegd',
  afgelost: 'afgelost',
};

/** What a line of a person's own use records, in words. */
export const OWN_USE_ACTIONS_IN_WORDS: Values<OwnUse['action']> = {
  'record.read': 'Cliëntgegevens ingezien',
  'document.read': 'Overdrachtsdocument ingezien',
  'caseload.read': 'Caseload bekeken',
  'list.read': 'Werklijst bekeken',
  'client.lookup': 'Cliënt gezocht op BSN',
};

export const CHANNELS: Values<NonNullable<OwnUse['channel']>> = { api: 'API', web: 'webapplicatie', cli: 'opdrachtregel' };

export const OUTCOMES: Values<OwnUse['outcome']> = { permit: 'toegestaan', deny: 'geweigerd', error: 'mislukt' };

/** A code in words from `list`, or the code itself; a dash for nothing. */
export function word<K extends string>(list: Values<K>, value: string | null | undefined): string {
  if (value === undefined || value === null || value === '') return '—';
  return (list as Record<string, string>)[value] ?? value;
}

/** A purpose as the register of processing activities names it. */
export function purposeInWords(purpose: Purpose | undefined): string {
  return purpose === undefined ? '—' : PURPOSES[purpose].label;
}

const DATE = new Intl.DateTimeFormat('nl-NL', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
const DATE_TIME = new Intl.DateTimeFormat('nl-NL', {
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZone: 'Europe/Amsterdam',
});
const EUROS = new Intl.NumberFormat('nl-NL', { style: 'currency', currency: 'EUR' });
const LIST = new Intl.ListFormat('nl', { type: 'conjunction' });

/** `2026-03-12` → `12 maart 2026`; a dash for nothing or for what is not a date. */
export function dateInWords(iso: string | null | undefined): string {
  return typeof iso === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(iso) ? DATE.format(Date.parse(iso)) : '—';
}

/** A moment (epoch ms) as the clock in the Netherlands shows it: `23 november 2026 om 11:00`. */
export function momentInWords(ms: number): string {
  return DATE_TIME.format(ms);
}

/** An amount in euros, `€ 1.350,25`; a dash for nothing. */
export function euros(amount: number | null | undefined): string {
  return typeof amount === 'number' ? EUROS.format(amount) : '—';
}

/** `a`, `a en b`, `a, b en c`. */
export function listInWords(items: string[]): string {
  return LIST.format(items);
}

export const yesNo = (v: boolean | null | undefined): string => (v === true ? 'ja' : v === false ? 'nee' : '—');

/** A value that needs no words: a dash for nothing. */
export const show = (v: string | number | null | undefined): string => (v === undefined || v === null || v === '' ? '—' : String(v));

/** The name of a client as released, or undefined. */
export function clientName(persoon: RecordView['persoon']): string | undefined {
  const name = [persoon?.voornamen, persoon?.achternaam].filter(Boolean).join(' ');
  return name === '' ? undefined : name;
}

const FIELD_WORDS: Record<string, string> = {
  bsn: 'BSN',
  clientRef: 'cliëntnummer',
  id: 'kenmerk',
  telefoon: 'telefoonnummer',
  email: 'e-mailadres',
  'adres.straat': 'straat',
  'adres.huisnummer': 'huisnummer',
  'adres.postcode': 'postcode',
  'adres.woonplaats': 'woonplaats',
  nettoBedragMaand: 'netto bedrag per maand',
  beslagvrijeVoet: 'beslagvrije voet',
  bedragMaand: 'bedrag per maand',
  profiel: 'klantprofiel',
  'uitvoerder.naam': 'naam van de onderzoeker',
  'uitvoerder.discipline': 'beroep van de onderzoeker',
  urenPerDag: 'uren per dag',
  urenPerWeek: 'uren per week',
  functioneleBeperkingen: 'functionele beperkingen',
  medischeToelichting: 'medische toelichting',
  vanOrganisatie: 'van organisatie',
  naarOrganisatie: 'naar organisatie',
  clientGeinformeerd: 'cliënt geïnformeerd',
  bezwaarTegenDelen: 'bezwaar tegen delen',
  driegesprekGewenst: 'driegesprek gewenst',
  domein: 'leefgebied',
  openstaand: 'openstaand bedrag',
};

/** A field name in words: `medischeToelichting` → `medische toelichting`. */
function fieldInWords(field: string): string {
  return FIELD_WORDS[field] ?? field.replace(/\./g, ' ').replace(/([a-z])([A-Z])/g, (_, a: string, b: string) => `${a} ${b.toLowerCase()}`);
}

/** Where a withheld field is, and what it is: `belastbaarheidsonderzoeken[0].diagnose` → item and field in words. */
export interface WithheldPlace {
  /** The item the field belongs to, in words (`het onderzoek van 24 september 2026`), or undefined for the client itself. */
  item: string | undefined;
  field: string;
}

/**
 * A withheld field's path in words. Paths use the indices of the released view (src/policy/decide.ts), so the item
 * is named by what was released of it: its date, its domain.
 */
export function withheldPlace(path: string, view: RecordView): WithheldPlace {
  const m = /^(uitkering\.inhoudingen|[a-zA-Z]+)\[(\d+)\]\.(.+)$/.exec(path);
  if (m) {
    const [, section, index, field] = m as unknown as [string, string, string, string];
    return { item: itemInWords(section, Number(index), view), field: fieldInWords(field) };
  }
  const single = /^(persoon|uitkering)\.(.+)$/.exec(path);
  if (single) return { item: single[1] === 'persoon' ? 'de persoonsgegevens' : 'de uitkering', field: fieldInWords(single[2]!) };
  return { item: undefined, field: fieldInWords(path) };
}

function itemInWords(section: string, index: number, view: RecordView): string {
  const n = index + 1;
  const dated = (noun: string, datum: string | null | undefined, preposition = 'van') =>
    typeof datum === 'string' ? `${noun} ${preposition} ${dateInWords(datum)}` : `${noun} ${n}`;
  switch (section) {
    case 'belastbaarheidsonderzoeken':
      return dated('het onderzoek', view.belastbaarheidsonderzoeken?.[index]?.datum);
    case 'boetes':
      return dated('de boete', view.boetes?.[index]?.datum);
    case 'overdrachten':
      return dated('de overdracht', view.overdrachten?.[index]?.datum);
    case 'contactmomenten':
      return dated('het contactmoment', view.contactmomenten?.[index]?.datum);
    case 'ontheffingen':
      return dated('de ontheffing', view.ontheffingen?.[index]?.vanaf, 'vanaf');
    case 'schuldhulptrajecten':
      return dated('het schuldhulptraject', view.schuldhulptrajecten?.[index]?.vanaf, 'vanaf');
    case 'klantprofielen':
      return dated('het klantprofiel', view.klantprofielen?.[index]?.vanaf, 'vanaf');
    case 'leefgebieden': {
      const domein = view.leefgebieden?.[index]?.domein;
      return domein ? `het leefgebied ${word(LEEFGEBIEDEN, domein)}` : `leefgebied ${n}`;
    }
    case 'uitkering.inhoudingen': {
      const soort = view.uitkering?.inhoudingen?.[index]?.soort;
      return soort ? `de inhouding (${word(INHOUDING_SOORTEN, soort)})` : `inhouding ${n}`;
    }
    default:
      return `${section} ${n}`;
  }
}
