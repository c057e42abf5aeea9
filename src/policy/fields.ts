import { SUBJECTS, fieldsOf, type SubjectType } from '../records/suite-record.js';

/** Every field of every subject as a dotted path, computed once. */
export const FIELDS: Readonly<Record<SubjectType, readonly string[]>> = Object.fromEntries(
  (Object.keys(SUBJECTS) as SubjectType[]).map((s) => [s, Object.freeze(fieldsOf(s))]),
) as Record<SubjectType, readonly string[]>;

/** The only placeholder a condition may use; replaced per requester before the ability is built. */
export const REQUESTER_ORG = '${requester.org}';

/**
 * What a condition may refer to besides the subject's own fields: the handover that grounds the purpose (decide.ts
 * computes it per record and requester). `null` when the purpose rests on no handover or none holds.
 */
export const CONTEXT_FIELDS = [
  'context.overdracht',
  'context.overdracht.id',
  'context.overdracht.richting',
  'context.overdracht.status',
  'context.overdracht.clientGeinformeerd',
  'context.overdracht.bezwaarTegenDelen',
] as const;

/**
 * The field names a rule of `subject` may list: every field of the subject, or `prefix.*` for every field under an
 * object prefix (`adres.*`, `uitvoerder.*`). Bare `*` and `**` are refused: an allowing rule must name what it grants.
 */
export function expandFieldPattern(subject: SubjectType, pattern: string): string[] | null {
  const all = FIELDS[subject];
  if (all.includes(pattern)) return [pattern];
  const m = /^([A-Za-z]+(?:\.[A-Za-z]+)*)\.\*$/.exec(pattern);
  if (!m) return null;
  const prefix = `${m[1]}.`;
  const under = all.filter((f) => f.startsWith(prefix) && !f.slice(prefix.length).includes('.'));
  return under.length > 0 ? under : null;
}

/** Field paths a condition of `subject` may test. */
export function conditionFieldsOf(subject: SubjectType): string[] {
  return [...FIELDS[subject], ...CONTEXT_FIELDS];
}

