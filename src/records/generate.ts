import { DAY_MS } from '../clock.js';
import type {
  Belastbaarheidsonderzoek,
  Boete,
  Contactmoment,
  Klantprofiel,
  Leefgebied,
  Ontheffing,
  Overdracht,
  Schuldhulptraject,
  SuiteRecord,
} from './suite-record.js';

/** The eight municipalities of Rivierenland with a few of their places and postcode ranges. */
export const RIVIERENLAND = [
  { code: 'GM0214', naam: 'Buren', plaatsen: ['Buren', 'Lienden', 'Maurik', 'Zoelen'], postcode: 4020 },
  { code: 'GM0216', naam: 'Culemborg', plaatsen: ['Culemborg'], postcode: 4100 },
  { code: 'GM0263', naam: 'Maasdriel', plaatsen: ['Kerkdriel', 'Hedel', 'Ammerzoden', 'Velddriel'], postcode: 5330 },
  { code: 'GM0281', naam: 'Tiel', plaatsen: ['Tiel', 'Wadenoijen', 'Kapel-Avezaath'], postcode: 4000 },
  { code: 'GM0297', naam: 'Zaltbommel', plaatsen: ['Zaltbommel', 'Brakel', 'Gameren', 'Nieuwaal'], postcode: 5300 },
  { code: 'GM0668', naam: 'West Maas en Waal', plaatsen: ['Beneden-Leeuwen', 'Wamel', 'Druten'], postcode: 6650 },
  { code: 'GM1740', naam: 'Neder-Betuwe', plaatsen: ['Opheusden', 'Kesteren', 'Dodewaard', 'Echteld'], postcode: 4040 },
  { code: 'GM1960', naam: 'West Betuwe', plaatsen: ['Geldermalsen', 'Leerdam', 'Beesd', 'Asperen'], postcode: 4190 },
] as const;

const VOORNAMEN = [
  'Anna',
  'Jan',
  'Fatima',
  'Mohammed',
  'Sanne',
  'Pieter',
  'Ayse',
  'Kees',
  'Linda',
  'Dennis',
  'Esra',
  'Willem',
  'Priya',
  'Bram',
  'Noor',
  'Henk',
  'Marieke',
  'Youssef',
  'Ingrid',
  'Thijs',
  'Joyce',
  'Ricardo',
  'Hanneke',
  'Emre',
];
const ACHTERNAMEN = [
  'de Vries',
  'Jansen',
  'van den Berg',
  'Bakker',
  'El Amrani',
  'Visser',
  'Smit',
  'Yilmaz',
  'de Jong',
  'van Dijk',
  'Mulder',
  'Bos',
  'Kaya',
  'van Leeuwen',
  'Hendriks',
  'Dekker',
  'Verhoeven',
  'Öztürk',
  'van Wijk',
  'Pronk',
];
const STRATEN = [
  'Dorpsstraat',
  'Kerkstraat',
  'Molenweg',
  'Lingedijk',
  'Waalbandijk',
  'Stationsweg',
  'Beatrixlaan',
  'Appelgaard',
  'Kersenlaan',
  'Rijnstraat',
  'Maasdijk',
  'Schoolstraat',
];
const DISCIPLINES = ['arbeidsdeskundige', 'verzekeringsarts', 'bedrijfsarts', 'huisarts', 'psycholoog'] as const;
type Rubriek = NonNullable<Belastbaarheidsonderzoek['functioneleBeperkingen']>[number]['rubriek'];
const BEPERKINGEN: Array<[Rubriek, string]> = [
  ['I', 'Concentratie maximaal 30 minuten achtereen'],
  ['II', 'Geen werk met conflicthantering of publiekscontact'],
  ['III', 'Niet langer dan een uur achtereen staan'],
  ['IV', 'Niet tillen boven 5 kg'],
  ['V', 'Geen werk in een lawaaiige omgeving'],
  ['VI', 'Maximaal 2 uur per dag, geen avondwerk'],
];
const DIAGNOSES = [
  'Chronische depressieve stoornis',
  'Hernia nuclei pulposi L5-S1',
  'Posttraumatische stressstoornis',
  'Reumatoïde artritis',
  'COPD GOLD III',
  'Niet-aangeboren hersenletsel',
];
const BEHANDELINGEN = ['Gesprekstherapie bij GGZ-instelling', 'Fysiotherapie twee keer per week', 'EMDR-traject', 'Revalidatieprogramma', 'Longrevalidatie'];
const MEDICATIE = ['Sertraline 50 mg', 'Naproxen 500 mg', 'Methotrexaat 15 mg per week', 'Tiotropium inhalatie', 'Geen'];

/** mulberry32: a small, fast, deterministic PRNG; the same seed gives the same export on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The ninth digit that makes `prefix` (eight digits) pass the elfproef, or null when none does. */
export function bsnCheckDigit(prefix: string): number | null {
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += Number(prefix[i]) * (9 - i);
  const d = sum % 11;
  return d === 10 ? null : d;
}

const addDays = (iso: string, days: number) => new Date(Date.parse(iso) + days * DAY_MS).toISOString().slice(0, 10);

/** The cases of domain.md a generated client falls into; weights give a realistic mix with every case present. */
const SCENARIOS = [
  ['kp3-regulier', 30],
  ['overdracht-kp4-aangevraagd', 12],
  ['overdracht-kp4-bezwaar', 4],
  ['overdracht-kp4-niet-geinformeerd', 2],
  ['overdracht-kp4-recent-afgerond', 8],
  ['kp4-begeleiding', 16],
  ['overdracht-kp4-afgewezen', 3],
  ['overdracht-kp3-aangevraagd', 6],
  ['kp4-duurzaam', 6],
  ['schuldhulp', 13],
] as const;
const TOTAL_WEIGHT = SCENARIOS.reduce((n, [, w]) => n + w, 0);

export interface GenerateOptions {
  clients: number;
  seed: number;
  /** The day the export is made; dates are placed around it so that windows (90 days, active trajectories) hold. */
  today: string;
}

/**
 * A deterministic, realistic synthetic Suite export: Dutch names, valid and unique BSNs (a sequence starting at
 * 2xxxxxxxx, so never one of the example export's), the eight Rivierenland municipalities, and every case of domain.md.
 * clientRefs are `WZR-2nnnnn…`, distinct from the example export's `WZR-1nnnnn`.
 */
export function* generateSuiteExport(options: GenerateOptions): Generator<SuiteRecord> {
  const rand = prng(options.seed * 2654435761 + 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const chance = (p: number) => rand() < p;
  const money = (lo: number, hi: number) => Math.round((lo + rand() * (hi - lo)) * 100) / 100;
  const today = options.today;
  let bsnPrefix = 20_000_000 + (options.seed % 1000) * 10_000;

  for (let i = 0; i < options.clients; i++) {
    let check: number | null;
    do check = bsnCheckDigit(String(++bsnPrefix));
    while (check === null);
    const bsn = `${bsnPrefix}${check}`;
    const clientRef = `WZR-${200_001 + i}`;
    let roll = rand() * TOTAL_WEIGHT;
    const scenario = SCENARIOS.find(([, w]) => (roll -= w) < 0)?.[0] ?? 'kp3-regulier';
    const gemeente = pick(RIVIERENLAND);
    const ingang = addDays(today, -int(200, 3000));
    const n = i + 1;

    const record: SuiteRecord = {
      clientRef,
      bsn,
      persoon: {
        voornamen: pick(VOORNAMEN),
        achternaam: pick(ACHTERNAMEN),
        geboortedatum: addDays(today, -int(19 * 365, 66 * 365)),
        adres: {
          straat: pick(STRATEN),
          huisnummer: String(int(1, 180)) + (chance(0.1) ? pick(['a', 'b', 'bis']) : ''),
          postcode: `${gemeente.postcode + int(0, 9)} ${String.fromCharCode(65 + int(0, 25))}${String.fromCharCode(65 + int(0, 25))}`,
          woonplaats: pick(gemeente.plaatsen),
        },
        gemeente: gemeente.code,
        telefoon: chance(0.9) ? `06-${String(10_000_000 + n).slice(-8)}` : null,
        email: chance(0.8) ? `client${n}@example.org` : null,
      },
      uitkering: {
        regeling: chance(0.85) ? 'PW' : pick(['IOAW', 'IOAZ', 'BBZ'] as const),
        ingangsdatum: ingang,
        nettoBedragMaand: money(900, 1750),
        betaaldag: pick([1, 15, 23, 25]),
        beslagvrijeVoet: money(1000, 1400),
        inhoudingen: [],
      },
    };
    const onderzoek = (): Belastbaarheidsonderzoek => {
      const vermogen = scenario === 'overdracht-kp3-aangevraagd' ? 'beperkt' : chance(0.75) ? 'geen' : 'beperkt';
      const perDag = vermogen === 'geen' ? int(0, 2) : int(2, 6);
      return {
        id: 'BO-1',
        datum: addDays(today, -int(20, 200)),
        uitvoerder: { naam: `drs. ${pick(['P.', 'M.', 'A.', 'J.'])} ${pick(ACHTERNAMEN)}`, discipline: pick(DISCIPLINES) },
        arbeidsvermogen: vermogen,
        urenPerDag: perDag,
        urenPerWeek: perDag * int(1, 5),
        functioneleBeperkingen: Array.from({ length: int(1, 3) }, () => pick(BEPERKINGEN))
          .filter((b, k, all) => all.indexOf(b) === k)
          .map(([rubriek, omschrijving]) => ({ rubriek, omschrijving })),
        prognose: pick(['Geen verbetering verwacht binnen twee jaar', 'Mogelijk herstel binnen een jaar', 'Stabiel; herbeoordeling over zes maanden']),
        advies: pick([
          'Vrijwilligerswerk of dagbesteding, maximaal twee dagdelen per week',
          'Begeleid vrijwilligerswerk in een prikkelarme omgeving',
          'Dagbesteding met structuur; geen sollicitatieplicht',
        ]),
        diagnose: pick(DIAGNOSES),
        behandeling: pick(BEHANDELINGEN),
        medicatie: pick(MEDICATIE),
        medischeToelichting: 'Behandelaar bericht ontvangen; zie medisch dossier',
      };
    };
    const overdracht = (o: Partial<Overdracht> & Pick<Overdracht, 'richting' | 'status' | 'datum'>): Overdracht => ({
      id: 'OV-1',
      vanOrganisatie: o.richting === 'KP3-KP4' ? 'WERKZAAK' : gemeente.code,
      naarOrganisatie: o.richting === 'KP3-KP4' ? gemeente.code : 'WERKZAAK',
      onderbouwing: 'onderzoek-zorgprofessional',
      clientGeinformeerd: true,
      bezwaarTegenDelen: false,
      driegesprekGewenst: chance(0.5),
      toelichting: pick([
        'Client wil graag kennismaken in een driegesprek.',
        'Overdrachtsformulier ingevuld met client.',
        'Client is op de hoogte van de overdracht.',
      ]),
      ...o,
    });
    const profielen: Klantprofiel[] = [];
    const ontheffingen: Ontheffing[] = [];
    const onderzoeken: Belastbaarheidsonderzoek[] = [];
    const overdrachten: Overdracht[] = [];
    const trajecten: Schuldhulptraject[] = [];
    const boetes: Boete[] = [];
    const contact: Contactmoment[] = [];
    const kp4Sinds = (dagen: number) => {
      const vanaf = addDays(today, -dagen);
      profielen.push({ profiel: 'KP3', vanaf: ingang < vanaf ? ingang : addDays(vanaf, -400), tot: addDays(vanaf, -1) }, { profiel: 'KP4', vanaf, tot: null });
      return vanaf;
    };

    switch (scenario) {
      case 'kp3-regulier':
        profielen.push({ profiel: 'KP3', vanaf: ingang, tot: null });
        break;
      case 'overdracht-kp4-aangevraagd':
      case 'overdracht-kp4-bezwaar':
      case 'overdracht-kp4-niet-geinformeerd':
      case 'overdracht-kp4-afgewezen': {
        profielen.push({ profiel: 'KP3', vanaf: ingang, tot: null });
        onderzoeken.push(onderzoek());
        overdrachten.push(
          overdracht({
            richting: 'KP3-KP4',
            status: scenario === 'overdracht-kp4-afgewezen' ? 'afgewezen' : 'aangevraagd',
            datum: addDays(today, -int(1, 30)),
            bezwaarTegenDelen: scenario === 'overdracht-kp4-bezwaar',
            clientGeinformeerd: scenario !== 'overdracht-kp4-niet-geinformeerd',
          }),
        );
        break;
      }
      case 'overdracht-kp4-recent-afgerond':
      case 'kp4-begeleiding': {
        const dagen = scenario === 'kp4-begeleiding' ? int(95, 900) : int(5, 85);
        const vanaf = kp4Sinds(dagen);
        onderzoeken.push(onderzoek());
        overdrachten.push(overdracht({ richting: 'KP3-KP4', status: 'afgerond', datum: vanaf }));
        if (chance(0.5))
          ontheffingen.push({
            id: 'ONT-1',
            soort: 'tijdelijk',
            grondslag: 'Pw art. 9 lid 2',
            reden: pick(['medisch', 'sociaal', 'zorgtaken'] as const),
            vanaf,
            tot: addDays(vanaf, 364),
          });
        break;
      }
      case 'overdracht-kp3-aangevraagd': {
        kp4Sinds(int(200, 1200));
        onderzoeken.push({ ...onderzoek(), datum: addDays(today, -int(10, 60)) });
        overdrachten.push(
          overdracht({
            richting: 'KP4-KP3',
            status: 'aangevraagd',
            datum: addDays(today, -int(1, 20)),
            onderbouwing: pick(['deeltijdwerk', 'vrijwilligerswerk', 'onderzoek-zorgprofessional'] as const),
          }),
        );
        break;
      }
      case 'kp4-duurzaam': {
        const vanaf = kp4Sinds(int(400, 2500));
        ontheffingen.push({ id: 'ONT-1', soort: 'duurzaam', grondslag: 'Pw art. 9 lid 2; WIA art. 4', reden: 'medisch', vanaf, tot: null });
        break;
      }
      case 'schuldhulp': {
        if (chance(0.5)) profielen.push({ profiel: 'KP3', vanaf: ingang, tot: null });
        else kp4Sinds(int(100, 900));
        const active = chance(0.75);
        const start = addDays(today, -int(30, 700));
        trajecten.push({ id: 'SH-1', gemeente: gemeente.code, vanaf: start, tot: active ? null : addDays(start, int(10, 25)) });
        record.uitkering!.inhoudingen!.push({
          id: 'INH-1',
          soort: pick(['verrekening', 'beslag', 'aflossing-vordering'] as const),
          bedragMaand: money(20, 250),
          schuldeiser: pick(['Werkzaak', 'Belastingdienst', 'Woonstichting De Linge', 'CJIB']),
        });
        if (chance(0.6)) {
          const bedrag = money(100, 900);
          boetes.push({
            id: 'BT-1',
            status: 'opgelegd',
            datum: addDays(start, -int(10, 200)),
            bedrag,
            openstaand: Math.round(bedrag * rand() * 100) / 100,
            betalingsregeling: chance(0.5) ? '50 euro per maand' : null,
            reden: 'Inkomsten niet (tijdig) gemeld',
          });
        }
        break;
      }
    }
    // Features that cut across cases.
    if (chance(0.12))
      boetes.push({
        id: `BT-${boetes.length + 1}`,
        status: 'overwogen',
        datum: addDays(today, -int(1, 30)),
        bedrag: money(100, 600),
        openstaand: null,
        betalingsregeling: null,
        reden: 'Wijziging in woonsituatie niet doorgegeven',
      });
    if (chance(0.05))
      boetes.push({
        id: `BT-${boetes.length + 1}`,
        status: 'afgelost',
        datum: addDays(today, -int(400, 1500)),
        bedrag: money(100, 400),
        openstaand: 0,
        betalingsregeling: null,
        reden: 'Vakantie niet gemeld',
      });
    const fraude = chance(0.06)
      ? [{ id: 'FO-1', status: pick(['lopend', 'afgerond']), gestart: addDays(today, -int(5, 300)), omschrijving: 'Mogelijk samenwonen niet gemeld' }]
      : [];
    if (scenario !== 'kp4-duurzaam' && chance(0.1))
      ontheffingen.push({
        id: `ONT-${ontheffingen.length + 1}`,
        soort: 'tijdelijk',
        grondslag: 'Pw art. 9 lid 2',
        reden: pick(['sociaal', 'zorgtaken'] as const),
        vanaf: addDays(today, -int(10, 200)),
        tot: addDays(today, int(10, 300)),
      });
    const leefgebieden: Leefgebied[] = chance(0.8)
      ? (['werk', 'gezondheid', 'sociaal', 'huisvesting-financien', 'justitie'] as const).map((domein) => ({
          domein,
          score: int(1, 5),
          toelichting: {
            werk: 'Geen werkervaring in de afgelopen jaren',
            gezondheid: 'Psychische klachten, in behandeling',
            sociaal: 'Klein netwerk, wel contact met familie',
            'huisvesting-financien': 'Huurachterstand van twee maanden',
            justitie: 'Taakstraf in het verleden',
          }[domein],
        }))
      : [];
    if (overdrachten.length > 0)
      contact.push({ id: 'CM-1', datum: overdrachten[0]!.datum, categorie: 'overdracht', verslag: 'Overdracht besproken met client.' });
    contact.push({
      id: `CM-${contact.length + 1}`,
      datum: addDays(today, -int(1, 120)),
      categorie: 'regulier',
      verslag: 'Voortgangsgesprek; client vertelt over de thuissituatie.',
    });
    if (fraude.length > 0 || chance(0.05))
      contact.push({
        id: `CM-${contact.length + 1}`,
        datum: addDays(today, -int(1, 60)),
        categorie: 'handhaving',
        verslag: 'Gesprek over inlichtingenplicht.',
      });

    if (profielen.length) record.klantprofielen = profielen;
    if (ontheffingen.length) record.ontheffingen = ontheffingen;
    if (onderzoeken.length) record.belastbaarheidsonderzoeken = onderzoeken;
    if (overdrachten.length) record.overdrachten = overdrachten;
    if (leefgebieden.length) record.leefgebieden = leefgebieden;
    if (boetes.length) record.boetes = boetes;
    if (fraude.length) record.fraudeonderzoeken = fraude;
    if (trajecten.length) record.schuldhulptrajecten = trajecten;
    record.contactmomenten = contact;
    yield record;
  }
}
