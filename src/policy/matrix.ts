import { PURPOSES, type Purpose, type Role } from '../purposes.js';
import { SUBJECTS, type SubjectType } from '../records/suite-record.js';
import type { PolicyDocument, PolicyRuleDocument } from './document.js';
import { expandFieldPattern, FIELDS, REQUESTER_ORG } from './fields.js';
import { guardrailFor, MEDISCHE_KERN, REASON_BOETE, REASON_FRAUDE, REASON_JUSTITIE, REASON_MEDISCH } from './guardrails.js';

/**
 * A policy document read as a matrix for a person, per role and purpose: for every field of every section, whether it
 * is released (always, or only when the conditions hold) or withheld, and why. This reads the rules as the decision
 * does (within one role and purpose a later rule takes precedence; what no rule grants is withheld; the guardrails
 * are withheld whatever a rule says), but without a record: a condition is shown as the condition, not decided.
 */

/** How one field of one section fares under one role and purpose. */
export type FieldStatus =
  | { status: 'released'; rule: number }
  | { status: 'conditional'; rule: number; conditions: string[] }
  | { status: 'withheld'; reason: string; rule?: number };

/** One section (CASL subject) of one role and purpose. */
export interface MatrixSection {
  subject: SubjectType;
  fields: Array<{ field: string } & FieldStatus>;
}

/** One role and purpose of the matrix. */
export interface MatrixGroup {
  role: Role;
  purpose: Purpose;
  sections: MatrixSection[];
}

/** Why a field no rule grants is withheld. */
export const NOT_GRANTED = 'geen regel verstrekt dit veld (standaard: niet verstrekken)';

/** The guardrail reason of a whole section or field, without a record: Leefgebied's justice domain is a condition. */
function guardrailOf(subject: SubjectType, field: string): string | null {
  if (subject === 'Fraudeonderzoek') return REASON_FRAUDE;
  if (subject === 'Boete' && field === 'reden') return REASON_BOETE;
  if (subject === 'Belastbaarheidsonderzoek' && (MEDISCHE_KERN as readonly string[]).includes(field)) return REASON_MEDISCH;
  // Any other field: guardrailFor with a neutral item says no (the justice domain is per item, shown as a condition).
  return subject === 'Leefgebied' ? null : guardrailFor(subject, { domein: 'werk' }, field);
}

const rulesFields = (rule: PolicyRuleDocument): string[] =>
  rule.fields ? rule.fields.flatMap((f) => expandFieldPattern(rule.subject, f) ?? []) : [...FIELDS[rule.subject]];

/** The role–purpose pairs of a document, in the order of PURPOSES and the roles' first rule. */
function groupsOf(document: PolicyDocument): Array<{ role: Role; purpose: Purpose }> {
  const seen = new Map<string, { role: Role; purpose: Purpose }>();
  for (const r of document.rules) seen.set(`${r.role}|${r.purpose}`, { role: r.role, purpose: r.purpose });
  const order = Object.keys(PURPOSES);
  return [...seen.values()].sort((a, b) => a.role.localeCompare(b.role) || order.indexOf(a.purpose) - order.indexOf(b.purpose));
}

/** The matrix of a document (a checked one: `checkPolicyDocument` passed). Rules are numbered from 0, as decisions name them. */
export function policyMatrix(document: PolicyDocument): MatrixGroup[] {
  return groupsOf(document).map(({ role, purpose }) => {
    const sections: MatrixSection[] = [];
    for (const subject of Object.keys(SUBJECTS) as SubjectType[]) {
      const rules = document.rules
        .map((rule, index) => ({ rule, index }))
        .filter((r) => r.rule.role === role && r.rule.purpose === purpose && r.rule.subject === subject);
      const fields = FIELDS[subject].map((field) => {
        const guard = guardrailOf(subject, field);
        if (guard) return { field, status: 'withheld' as const, reason: guard };
        // The last rule that names the field decides it (CASL: later rules take precedence).
        const last = rules.filter((r) => rulesFields(r.rule).includes(field)).at(-1);
        if (!last) return { field, status: 'withheld' as const, reason: NOT_GRANTED };
        if (last.rule.inverted) return { field, status: 'withheld' as const, reason: last.rule.reason ?? NOT_GRANTED, rule: last.index };
        const conditions = [
          ...conditionText(last.rule.conditions),
          ...(subject === 'Leefgebied' ? [`behalve het leefgebied justitie (${REASON_JUSTITIE})`] : []),
        ];
        return conditions.length > 0
          ? { field, status: 'conditional' as const, rule: last.index, conditions }
          : { field, status: 'released' as const, rule: last.index };
      });
      // A section no rule mentions is left out of the group unless it holds a guardrail: the page says the rest is withheld.
      if (rules.length > 0) sections.push({ subject, fields });
    }
    return { role, purpose, sections };
  });
}

const OPERATOR_TEXT: Record<string, string> = {
  $eq: 'is',
  $ne: 'is niet',
  $in: 'is een van',
  $nin: 'is geen van',
  $lt: 'is kleiner dan',
  $lte: 'is hoogstens',
  $gt: 'is groter dan',
  $gte: 'is minstens',
};

/** A condition's value in words: the requester's organisation placeholder, yes/no, lists. */
function valueText(value: unknown): string {
  if (value === REQUESTER_ORG) return 'de eigen organisatie van de aanvrager';
  if (value === true) return 'ja';
  if (value === false) return 'nee';
  if (value === null) return 'leeg';
  if (Array.isArray(value)) return value.map(valueText).join(', ');
  return `‘${String(value)}’`;
}

/** A field path of a condition in words. */
function fieldText(path: string): string {
  if (path === 'context.overdracht') return 'de onderliggende overdracht';
  if (path.startsWith('context.overdracht.')) return `${path.slice('context.overdracht.'.length)} van de onderliggende overdracht`;
  return path;
}

/** A rule's conditions as plain Dutch sentences, one per condition ("richting is ‘KP3-KP4’"). */
export function conditionText(conditions: Record<string, unknown> | undefined): string[] {
  if (!conditions) return [];
  return Object.entries(conditions).flatMap(([path, value]) => {
    const field = fieldText(path);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${field} is ${valueText(value)}`];
    return Object.entries(value as Record<string, unknown>).map(([op, operand]) =>
      op === '$exists' ? `${field} ${operand ? 'is aanwezig' : 'ontbreekt'}` : `${field} ${OPERATOR_TEXT[op] ?? op} ${valueText(operand)}`,
    );
  });
}

/** How a field changes between two documents for one role and purpose. */
export interface FieldChange {
  role: Role;
  purpose: Purpose;
  subject: SubjectType;
  field: string;
  change: 'newly-released' | 'newly-withheld' | 'conditions-changed';
  before: FieldStatus;
  after: FieldStatus;
}

const describe = (s: FieldStatus) => (s.status === 'conditional' ? `conditional:${s.conditions.join('|')}` : s.status);
const WITHHELD: FieldStatus = { status: 'withheld', reason: NOT_GRANTED };

/**
 * The difference of `draft` against `active`, field by field, per role and purpose: newly released (withheld before,
 * released or conditional now), newly withheld, and released under other conditions. Unchanged fields are left out.
 */
export function policyDiff(active: PolicyDocument, draft: PolicyDocument): FieldChange[] {
  const index = (groups: MatrixGroup[]) => {
    const map = new Map<string, FieldStatus>();
    for (const g of groups) for (const s of g.sections) for (const f of s.fields) map.set(`${g.role}|${g.purpose}|${s.subject}|${f.field}`, f);
    return map;
  };
  const before = index(policyMatrix(active));
  const after = index(policyMatrix(draft));
  const changes: FieldChange[] = [];
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const [role, purpose, subject, field] = key.split('|') as [Role, Purpose, SubjectType, string];
    const b = before.get(key) ?? WITHHELD;
    const a = after.get(key) ?? WITHHELD;
    if (describe(a) === describe(b)) continue;
    const change = b.status === 'withheld' ? 'newly-released' : a.status === 'withheld' ? 'newly-withheld' : 'conditions-changed';
    changes.push({ role, purpose, subject, field, change, before: b, after: a });
  }
  return changes;
}
