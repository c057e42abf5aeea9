import type { z } from 'zod';
import { CONDITION_FIELDS, SUBJECTS, fieldSchemaOf, fieldsOf, type ConditionKind, type SubjectType } from '../records/suite-record.js';

/** Every field of every subject as a dotted path, computed once. */
export const FIELDS: Readonly<Record<SubjectType, readonly string[]>> = Object.fromEntries(
  (Object.keys(SUBJECTS) as SubjectType[]).map((s) => [s, Object.freeze(fieldsOf(s))]),
) as Record<SubjectType, readonly string[]>;

/** The only placeholder a condition may use; replaced per requester before the ability is built. */
export const REQUESTER_ORG = '${requester.org}';

/**
 * What a condition may refer to besides the subject's own fields: the handover that grounds the purpose (decide.ts
 * computes it per record and requester), `null` when the purpose rests on no handover or none holds. Only whether
 * there is one, and its categories and flags, are condition fields; its id is not (an identifier).
 */
export const CONTEXT_FIELDS = {
  'context.overdracht': 'aanwezigheid',
  'context.overdracht.richting': 'categorie',
  'context.overdracht.status': 'status',
  'context.overdracht.clientGeinformeerd': 'vlag',
  'context.overdracht.bezwaarTegenDelen': 'vlag',
} as const satisfies Record<string, ConditionKind | 'aanwezigheid'>;

/** A field a condition may test: its kind, and the schema its values must satisfy (none for a presence test). */
export interface ConditionField {
  kind: ConditionKind | 'aanwezigheid';
  values: z.ZodType | null;
}

/** The condition field `path` of `subject` (one of CONDITION_FIELDS or CONTEXT_FIELDS), or undefined. */
export function conditionFieldOf(subject: SubjectType, path: string): ConditionField | undefined {
  const own = CONDITION_FIELDS[subject] as Readonly<Record<string, ConditionKind>>;
  if (Object.hasOwn(own, path)) return { kind: own[path]!, values: fieldSchemaOf(subject, path)! };
  if (!Object.hasOwn(CONTEXT_FIELDS, path)) return undefined;
  const kind = CONTEXT_FIELDS[path as keyof typeof CONTEXT_FIELDS];
  return { kind, values: kind === 'aanwezigheid' ? null : fieldSchemaOf('Overdracht', path.slice('context.overdracht.'.length))! };
}

/** The condition fields of `subject`, for messages. */
export function conditionFieldsOf(subject: SubjectType): string[] {
  return [...Object.keys(CONDITION_FIELDS[subject]), ...Object.keys(CONTEXT_FIELDS)];
}

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
