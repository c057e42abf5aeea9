import type { Result } from '../result.js';
import { z } from 'zod';

/**
 * The Suite export format (shared/design/records.md), validated strictly: an unknown key is an error, because a typo
 * must not silently drop data. Messages never contain the offending value; it may be personal data.
 */

/** An organisation: Werkzaak, or a municipality by its CBS code (`GMnnnn`). */
export const ORGANISATION_PATTERN = /^(WERKZAAK|GM\d{4})$/;
/** A municipality by its CBS code. */
const MUNICIPALITY_PATTERN = /^GM\d{4}$/;
/** A clientRef: 1..32 of `[A-Z0-9-]`, and never nine digits, which may be a BSN. */
export const CLIENT_REF_PATTERN = /^(?!\d{9}$)[A-Z0-9-]{1,32}$/;

/** True when `bsn` is nine digits that pass the elfproef (9a + 8b + … + 2h − i ≡ 0 mod 11), and not all zeros. */
export function isValidBsn(bsn: string): boolean {
  if (!/^\d{9}$/.test(bsn) || bsn === '000000000') return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += Number(bsn[i]) * (9 - i);
  sum -= Number(bsn[8]);
  return sum % 11 === 0;
}

function isCalendarDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

const text = z.string({ error: 'must be a string' }).max(10_000, 'too long');
const date = z.string({ error: 'must be a date YYYY-MM-DD' }).refine(isCalendarDate, 'must be a date YYYY-MM-DD').meta({ format: 'date' });
const amount = z
  .number({ error: 'must be an amount in euros' })
  .nonnegative('must not be negative')
  .refine((n) => Number.isFinite(n) && Math.abs(Math.round(n * 100) - n * 100) < 1e-6, 'must have at most two decimals');
const id = z.string({ error: 'must be an id' }).regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be an id of 1..64 [A-Za-z0-9._-]');
const organisatie = z
  .string({ error: 'must be WERKZAAK or a CBS municipality code' })
  .regex(ORGANISATION_PATTERN, 'must be WERKZAAK or a CBS municipality code');
const gemeente = z.string({ error: 'must be a CBS municipality code GMnnnn' }).regex(MUNICIPALITY_PATTERN, 'must be a CBS municipality code GMnnnn');
const optionalText = text.nullable().optional();
const enumOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `must be one of ${values.join(', ')}` });

/** Nine digits are refused: such a value may be a BSN, and the audit line that names a clientRef never holds one. */
export const clientRefSchema = z.string({ error: 'must be a clientRef' }).regex(CLIENT_REF_PATTERN, 'must be 1..32 characters [A-Z0-9-], not nine digits');
export const bsnSchema = z.string({ error: 'must be a BSN' }).refine(isValidBsn, 'must be nine digits passing the elfproef');

const KLANTPROFIELEN = ['KP1', 'KP2', 'KP3', 'KP4'] as const;
const LEEFGEBIED_DOMEINEN = ['werk', 'gezondheid', 'sociaal', 'huisvesting-financien', 'justitie'] as const;

const persoon = z.strictObject({
  voornamen: text.min(1, 'must not be empty'),
  achternaam: text.min(1, 'must not be empty'),
  geboortedatum: date,
  adres: z.strictObject({
    straat: text,
    huisnummer: text,
    postcode: text.regex(/^\d{4} ?[A-Z]{2}$/, 'must be a Dutch postcode'),
    woonplaats: text,
  }),
  gemeente,
  telefoon: optionalText,
  email: optionalText,
});

const inhouding = z.strictObject({
  id,
  soort: enumOf(['verrekening', 'beslag', 'aflossing-vordering']),
  bedragMaand: amount,
  schuldeiser: optionalText,
});

const uitkering = z.strictObject({
  regeling: enumOf(['PW', 'IOAW', 'IOAZ', 'BBZ']),
  ingangsdatum: date,
  nettoBedragMaand: amount.nullable().optional(),
  betaaldag: z
    .number({ error: 'must be a day of the month' })
    .int('must be a day of the month')
    .min(1, 'must be a day of the month')
    .max(31, 'must be a day of the month')
    .nullable()
    .optional(),
  beslagvrijeVoet: amount.nullable().optional(),
  inhoudingen: z.array(inhouding).nullable().optional(),
});

const klantprofiel = z.strictObject({ profiel: enumOf(KLANTPROFIELEN), vanaf: date, tot: date.nullable().optional() });

const ontheffing = z.strictObject({
  id,
  soort: enumOf(['tijdelijk', 'duurzaam']),
  grondslag: optionalText,
  reden: enumOf(['medisch', 'sociaal', 'zorgtaken']).nullable().optional(),
  vanaf: date,
  tot: date.nullable().optional(),
});

const hours = (max: number) => z.number({ error: 'must be a number of hours' }).min(0, 'must not be negative').max(max, `must be at most ${max}`);

const belastbaarheidsonderzoek = z.strictObject({
  id,
  datum: date,
  uitvoerder: z.strictObject({
    naam: optionalText,
    discipline: enumOf(['arbeidsdeskundige', 'verzekeringsarts', 'bedrijfsarts', 'huisarts', 'psycholoog']),
  }),
  arbeidsvermogen: enumOf(['geen', 'beperkt', 'volledig']),
  urenPerDag: hours(24).nullable().optional(),
  urenPerWeek: hours(168).nullable().optional(),
  functioneleBeperkingen: z.array(z.strictObject({ rubriek: enumOf(['I', 'II', 'III', 'IV', 'V', 'VI']), omschrijving: text })).optional(),
  prognose: optionalText,
  advies: optionalText,
  diagnose: optionalText,
  behandeling: optionalText,
  medicatie: optionalText,
  medischeToelichting: optionalText,
});

const overdracht = z.strictObject({
  id,
  richting: enumOf(['KP3-KP4', 'KP4-KP3']),
  status: enumOf(['aangevraagd', 'afgerond', 'afgewezen']),
  datum: date,
  vanOrganisatie: organisatie,
  naarOrganisatie: organisatie,
  onderbouwing: enumOf(['onderzoek-zorgprofessional', 'deeltijdwerk', 'vrijwilligerswerk']).nullable().optional(),
  clientGeinformeerd: z.boolean({ error: 'must be true or false' }),
  bezwaarTegenDelen: z.boolean({ error: 'must be true or false' }),
  driegesprekGewenst: z.boolean({ error: 'must be true or false' }).nullable().optional(),
  toelichting: optionalText,
});

const leefgebied = z.strictObject({
  domein: enumOf(LEEFGEBIED_DOMEINEN),
  score: z.number({ error: 'must be a score 1..5' }).int('must be a score 1..5').min(1, 'must be a score 1..5').max(5, 'must be a score 1..5'),
  toelichting: optionalText,
});

const boete = z.strictObject({
  id,
  status: enumOf(['overwogen', 'opgelegd', 'afgelost']),
  datum: date,
  bedrag: amount,
  openstaand: amount.nullable().optional(),
  betalingsregeling: optionalText,
  reden: optionalText,
});

const fraudeonderzoek = z.strictObject({
  id,
  status: text.min(1, 'must not be empty'), // records.md names only `lopend`; other Suite statuses are kept as they come
  gestart: date,
  omschrijving: optionalText,
});

const schuldhulptraject = z.strictObject({ id, gemeente, vanaf: date, tot: date.nullable().optional() });

const contactmoment = z.strictObject({
  id,
  datum: date,
  categorie: enumOf(['overdracht', 'regulier', 'handhaving']),
  verslag: optionalText,
});

/** One line of a Suite export: one client's whole record. */
export const suiteRecordSchema = z
  .strictObject({
    clientRef: clientRefSchema,
    bsn: bsnSchema,
    persoon,
    uitkering: uitkering.nullable().optional(),
    klantprofielen: z.array(klantprofiel).nullable().optional(),
    ontheffingen: z.array(ontheffing).nullable().optional(),
    belastbaarheidsonderzoeken: z.array(belastbaarheidsonderzoek).nullable().optional(),
    overdrachten: z.array(overdracht).nullable().optional(),
    leefgebieden: z.array(leefgebied).nullable().optional(),
    boetes: z.array(boete).nullable().optional(),
    fraudeonderzoeken: z.array(fraudeonderzoek).nullable().optional(),
    schuldhulptrajecten: z.array(schuldhulptraject).nullable().optional(),
    contactmomenten: z.array(contactmoment).nullable().optional(),
  })
  .superRefine((record, ctx) => {
    // Every id is unique within its client, across all sections.
    const seen = new Set<string>();
    for (const [section, items] of idBearingSections(record)) {
      items.forEach((item, index) => {
        if (seen.has(item.id)) ctx.addIssue({ code: 'custom', path: [...section, index, 'id'], message: 'duplicate id within this client' });
        seen.add(item.id);
      });
    }
  });

function idBearingSections(r: z.input<typeof suiteRecordSchema>): Array<[Array<string>, ReadonlyArray<{ id: string }>]> {
  return [
    [['uitkering', 'inhoudingen'], r.uitkering?.inhoudingen ?? []],
    [['ontheffingen'], r.ontheffingen ?? []],
    [['belastbaarheidsonderzoeken'], r.belastbaarheidsonderzoeken ?? []],
    [['overdrachten'], r.overdrachten ?? []],
    [['boetes'], r.boetes ?? []],
    [['fraudeonderzoeken'], r.fraudeonderzoeken ?? []],
    [['schuldhulptrajecten'], r.schuldhulptrajecten ?? []],
    [['contactmomenten'], r.contactmomenten ?? []],
  ];
}

export type SuiteRecord = z.infer<typeof suiteRecordSchema>;
export type Klantprofiel = NonNullable<SuiteRecord['klantprofielen']>[number];
export type Ontheffing = NonNullable<SuiteRecord['ontheffingen']>[number];
export type Belastbaarheidsonderzoek = NonNullable<SuiteRecord['belastbaarheidsonderzoeken']>[number];
export type Overdracht = NonNullable<SuiteRecord['overdrachten']>[number];
export type Leefgebied = NonNullable<SuiteRecord['leefgebieden']>[number];
export type Boete = NonNullable<SuiteRecord['boetes']>[number];
export type Schuldhulptraject = NonNullable<SuiteRecord['schuldhulptrajecten']>[number];
export type Contactmoment = NonNullable<SuiteRecord['contactmomenten']>[number];

/** Formats a zod path as the dotted form used in messages and policies: `belastbaarheidsonderzoeken[0].diagnose`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
}

/** The CASL subject types: each is a section of the record (records.md), with where it sits and its field names. */
export const SUBJECTS = {
  Client: { section: null, many: false, schema: z.strictObject({ clientRef: clientRefSchema, bsn: bsnSchema }) },
  Persoon: { section: 'persoon', many: false, schema: persoon },
  Uitkering: { section: 'uitkering', many: false, schema: uitkering.omit({ inhoudingen: true }) },
  Inhouding: { section: 'uitkering.inhoudingen', many: true, schema: inhouding },
  Klantprofiel: { section: 'klantprofielen', many: true, schema: klantprofiel },
  Ontheffing: { section: 'ontheffingen', many: true, schema: ontheffing },
  Belastbaarheidsonderzoek: { section: 'belastbaarheidsonderzoeken', many: true, schema: belastbaarheidsonderzoek },
  Overdracht: { section: 'overdrachten', many: true, schema: overdracht },
  Leefgebied: { section: 'leefgebieden', many: true, schema: leefgebied },
  Boete: { section: 'boetes', many: true, schema: boete },
  Fraudeonderzoek: { section: 'fraudeonderzoeken', many: true, schema: fraudeonderzoek },
  Schuldhulptraject: { section: 'schuldhulptrajecten', many: true, schema: schuldhulptraject },
  Contactmoment: { section: 'contactmomenten', many: true, schema: contactmoment },
} as const;

export type SubjectType = keyof typeof SUBJECTS;

/** Every field of a subject as a dotted path (`adres.postcode`, `uitvoerder.discipline`, `functioneleBeperkingen`). */
export function fieldsOf(subject: SubjectType): string[] {
  const out: string[] = [];
  const walk = (shape: Record<string, z.ZodType>, prefix: string) => {
    for (const [key, value] of Object.entries(shape)) {
      const inner = unwrap(value);
      if (inner instanceof z.ZodObject) walk(inner.shape as Record<string, z.ZodType>, `${prefix}${key}.`);
      else out.push(`${prefix}${key}`);
    }
  };
  walk(SUBJECTS[subject].schema.shape as Record<string, z.ZodType>, '');
  return out;
}

function unwrap(t: z.ZodType): z.ZodType {
  let cur: z.ZodType = t;
  while (cur instanceof z.ZodOptional || cur instanceof z.ZodNullable) cur = cur.unwrap() as z.ZodType;
  return cur;
}

/** What a condition field is: the kinds of value a policy condition may test. */
export type ConditionKind = 'categorie' | 'status' | 'organisatie' | 'vlag';

type ConditionFieldsOf<S extends SubjectType> = Partial<Record<keyof z.infer<(typeof SUBJECTS)[S]['schema']> & string, ConditionKind>>;

/**
 * The fields a policy condition may test, per subject (api.md, Policies): categories, statuses, organisations and flags
 * with a closed set of values. The list is closed: a field not named here cannot be tested, so a new field is not a
 * condition field until someone adds it here. Free text, identifiers, amounts, dates, hours, scores, the findings of an
 * assessment, categories that are health signals themselves (an ontheffing's reden, a handover's onderbouwing) and
 * every guardrail field are left out on purpose: a condition on them would let a simulation or an impact replay read
 * the value bit by bit.
 */
export const CONDITION_FIELDS: { readonly [S in SubjectType]: Readonly<ConditionFieldsOf<S>> } = {
  Client: {},
  Persoon: { gemeente: 'organisatie' },
  Uitkering: { regeling: 'categorie' },
  Inhouding: { soort: 'categorie' },
  Klantprofiel: { profiel: 'categorie' },
  Ontheffing: { soort: 'categorie' },
  Belastbaarheidsonderzoek: {},
  Overdracht: {
    richting: 'categorie',
    status: 'status',
    vanOrganisatie: 'organisatie',
    naarOrganisatie: 'organisatie',
    clientGeinformeerd: 'vlag',
    bezwaarTegenDelen: 'vlag',
    driegesprekGewenst: 'vlag',
  },
  Leefgebied: { domein: 'categorie' },
  Boete: { status: 'status' },
  Fraudeonderzoek: {},
  Schuldhulptraject: { gemeente: 'organisatie' },
  Contactmoment: { categorie: 'categorie' },
};

/** The schema of one top-level field of a subject, without its optional and nullable wrappers. */
export function fieldSchemaOf(subject: SubjectType, field: string): z.ZodType | undefined {
  const shape = SUBJECTS[subject].schema.shape as Record<string, z.ZodType>;
  return Object.hasOwn(shape, field) ? unwrap(shape[field]!) : undefined;
}

/**
 * Validates one Suite record given as a JS value exactly as an import line is validated, with the same value-free
 * problems: each names the field (`persoon.geboortedatum`), never the value.
 */
export function checkSuiteRecord(value: unknown): Result<SuiteRecord, { problems: Array<{ field: string; message: string }> }> {
  const parsed = suiteRecordSchema.safeParse(value, { reportInput: true });
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, problems: parsed.error.issues.map((issue) => ({ field: formatPath(issue.path), message: describeIssue(issue) })) };
}

/** An issue's message; `input` is only inspected for absence and never printed. */
function describeIssue(issue: { code: string; message: string; keys?: string[]; input?: unknown }): string {
  if (issue.code === 'unrecognized_keys' && issue.keys) return `unknown key(s) ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'is required';
  return issue.message;
}
