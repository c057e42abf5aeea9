import { z } from 'zod';
import type { Problem } from '../errors.js';
import { PURPOSES, purposeFitsRole, purposeSchema, roleSchema } from '../purposes.js';
import { SUBJECTS, formatPath, type SubjectType } from '../records/suite-record.js';
import { FIELDS, REQUESTER_ORG, conditionFieldOf, conditionFieldsOf, expandFieldPattern, type ConditionField } from './fields.js';
import { guardrailProblems } from './guardrails.js';

/**
 * The policy document format (api.md, Policies): CASL raw rules, each scoped by role and purpose. This module checks a
 * document as a value, wherever it came from (a file in `policies/`, a version in the database, an HTTP body), and
 * reports every problem with its path. It never compiles CASL itself; compile.ts does, after this has passed.
 */

/** Condition operators a policy may use. Anything else is refused: CASL would read an unknown `$op` as equality. */
export const OPERATORS = ['$eq', '$ne', '$in', '$nin', '$lt', '$lte', '$gt', '$gte', '$exists'] as const;

const SUBJECT_NAMES = Object.keys(SUBJECTS) as [SubjectType, ...SubjectType[]];

const ruleSchema = z.strictObject({
  role: roleSchema,
  purpose: purposeSchema,
  action: z.literal('read', { error: "must be 'read'" }),
  subject: z.enum(SUBJECT_NAMES, { error: `must be one of ${SUBJECT_NAMES.join(', ')}` }),
  fields: z.array(z.string({ error: 'must be a field name' }), { error: 'must be a list of field names' }).min(1, 'must name at least one field').optional(),
  conditions: z.record(z.string(), z.unknown(), { error: 'must be an object of field conditions' }).optional(),
  inverted: z.boolean({ error: 'must be true or false' }).optional(),
  reason: z.string({ error: 'must be a text' }).trim().min(1, 'must not be empty').max(500, 'too long').optional(),
});

const looseRuleSchema = z.object(ruleSchema.shape);

/** The shape of a policy document, for the API description; `validatePolicyDocument` adds the checks beyond shape. */
export const policyDocumentSchema = z.strictObject({ rules: z.array(ruleSchema) }).meta({ id: 'PolicyDocument', description: 'CASL raw rules scoped by role and purpose (policies/README.md)' });

/** One rule of a policy document. */
export type PolicyRuleDocument = z.infer<typeof ruleSchema>;

/** A policy document: `{ rules: [...] }`. */
export interface PolicyDocument {
  rules: PolicyRuleDocument[];
}

/** A primitive a condition may compare with. */
type Scalar = string | number | boolean | null;
const isScalar = (v: unknown): v is Scalar => v === null || ['string', 'number', 'boolean'].includes(typeof v);

/**
 * Validates a policy document given as a JS value. Returns the typed document, or every problem with its path
 * (`rules[3].fields[1]`), each prefixed with `pathPrefix` when given (a file name).
 */
export function validatePolicyDocument(
  value: unknown,
  pathPrefix = '',
): { ok: true; document: PolicyDocument } | { ok: false; problems: Problem[] } {
  const problems: Problem[] = [];
  const at = (path: ReadonlyArray<PropertyKey>, message: string) => {
    const p = formatPath(path);
    problems.push({ path: pathPrefix ? (p ? `${pathPrefix}: ${p}` : pathPrefix) : p || '(document)', message });
  };
  prototypeKeyProblems(value, at);
  const outer = z.strictObject({ rules: z.array(z.unknown(), { error: 'must be a list of rules' }) }, { error: 'must be an object { rules: [...] }' }).safeParse(value);
  if (!outer.success) {
    for (const issue of outer.error.issues) reportIssue(issue, [], at);
    return { ok: false, problems };
  }
  const rules: PolicyRuleDocument[] = [];
  outer.data.rules.forEach((raw, i) => {
    const parsed = ruleSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) reportIssue(issue, ['rules', i], at);
      // A misspelt key must not hide the rule's other problems: check the rest of it as far as it parses.
      const loose = looseRuleSchema.safeParse(raw);
      if (loose.success) checkRule(loose.data, (path, message) => at(['rules', i, ...path], message));
      return;
    }
    const before = problems.length;
    checkRule(parsed.data, (path, message) => at(['rules', i, ...path], message));
    if (problems.length === before) rules.push(parsed.data);
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, document: { rules } };
}

function reportIssue(issue: z.core.$ZodIssue, prefix: PropertyKey[], at: (path: ReadonlyArray<PropertyKey>, message: string) => void): void {
  if (issue.code === 'unrecognized_keys') {
    for (const key of issue.keys) if (!PROTOTYPE_KEYS.has(key)) at([...prefix, ...issue.path, key], `unknown key '${key}'`);
    return;
  }
  const message = issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
  at([...prefix, ...issue.path], message);
}

/** Semantic checks of one rule that zod's shape cannot express. */
function checkRule(rule: PolicyRuleDocument, at: (path: PropertyKey[], message: string) => void): void {
  if (!purposeFitsRole(rule.purpose, rule.role)) at(['purpose'], `purpose '${rule.purpose}' is not one role '${rule.role}' may have`);
  else if (PURPOSES[rule.purpose].client === 'none') at(['purpose'], `purpose '${rule.purpose}' reads no client data`);
  rule.fields?.forEach((field, j) => {
    if (expandFieldPattern(rule.subject, field) === null) at(['fields', j], `unknown field '${field}' of ${rule.subject}`);
  });
  if (!rule.inverted && !rule.fields) at(['fields'], 'an allowing rule must list its fields (without fields CASL grants every field)');
  if (rule.inverted && !rule.reason) at(['reason'], 'a withholding (inverted) rule needs a reason');
  if (rule.conditions) checkConditions(rule.subject, rule.conditions, (path, message) => at(['conditions', ...path], message));
  for (const p of guardrailProblems(rule)) at(p.path, p.message);
}

function checkConditions(subject: SubjectType, conditions: Record<string, unknown>, at: (path: PropertyKey[], message: string) => void): void {
  for (const [path, value] of Object.entries(conditions)) {
    if (path.startsWith('$')) {
      at([path], `operator '${path}' is not allowed at the top level; conditions are field: value or field: { operator: value }`);
      continue;
    }
    const field = conditionFieldOf(subject, path);
    if (!field) {
      const known = FIELDS[subject].includes(path) || path.startsWith('context.');
      at([path], known ? `'${path}' is not a condition field of ${subject}; conditions may test only ${conditionFieldsOf(subject).join(', ')}` : `unknown field '${path}' of ${subject}`);
      continue;
    }
    if (isScalar(value)) {
      checkOperator(field, '$eq', value, (_, m) => at([path], m));
    } else if (typeof value === 'object' && !Array.isArray(value)) {
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length === 0) at([path], 'must not be an empty object');
      for (const [op, operand] of entries) checkOperator(field, op, operand, (sub, m) => at([path, ...sub], m));
    } else {
      at([path], 'must be a value (string, number, boolean, null) or { operator: value }');
    }
  }
}

/** Checks one operator and its operand against the field's values, so that a condition stays inside its value space. */
function checkOperator(field: ConditionField, op: string, operand: unknown, at: (path: PropertyKey[], message: string) => void): void {
  if (!(OPERATORS as readonly string[]).includes(op)) {
    at([op], `operator '${op}' is not allowed; use one of ${OPERATORS.join(', ')}`);
    return;
  }
  if (field.values === null) {
    // A presence test: whether there is a grounding handover, nothing about it.
    const presence = op === '$exists' ? typeof operand === 'boolean' : (op === '$eq' || op === '$ne') && operand === null;
    if (!presence) at([op], 'can only be tested for presence: null, { $ne: null } or { $exists: true | false }');
    return;
  }
  switch (op) {
    case '$in':
    case '$nin':
      if (!Array.isArray(operand) || operand.length === 0) at([op], 'must be a non-empty list of values');
      else operand.forEach((v, k) => checkValue(field, v, (m) => at([op, k], m)));
      return;
    case '$exists':
      if (typeof operand !== 'boolean') at([op], 'must be true or false');
      return;
    case '$lt':
    case '$lte':
    case '$gt':
    case '$gte':
      if (typeof operand !== 'string' && typeof operand !== 'number') at([op], 'must be a string or a number');
      else checkValue(field, operand, (m) => at([op], m));
      return;
    default:
      checkValue(field, operand, (m) => at([op], m));
  }
}

/** A value a condition compares with: null (absent), `${requester.org}` for an organisation, or a value of the field. */
function checkValue(field: ConditionField, value: unknown, report: (message: string) => void): void {
  if (value === null) return;
  if (!isScalar(value)) return report('must be a string, number, boolean or null');
  if (value === REQUESTER_ORG) {
    if (field.kind !== 'organisatie') report(`${REQUESTER_ORG} stands for an organisation; this field is not one`);
    return;
  }
  if (typeof value === 'string' && value.includes('${')) return report(`unknown placeholder; the only one is ${REQUESTER_ORG}`);
  const parsed = field.values!.safeParse(value);
  if (!parsed.success) report(parsed.error.issues[0]?.message ?? 'is not a value of this field');
}

/** Keys that reach an object's prototype. JSON.parse and the YAML parser make them own keys, and zod drops `__proto__`. */
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Reports every prototype key anywhere in `value`; iterative, so a deeply nested body cannot exhaust the stack. */
function prototypeKeyProblems(value: unknown, at: (path: ReadonlyArray<PropertyKey>, message: string) => void): void {
  interface Node {
    value: unknown;
    key: PropertyKey | null;
    parent: Node | null;
  }
  const pathOf = (node: Node): PropertyKey[] => {
    const path: PropertyKey[] = [];
    for (let n: Node | null = node; n && n.key !== null; n = n.parent) path.unshift(n.key);
    return path;
  };
  const stack: Node[] = [{ value, key: null, parent: null }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (typeof node.value !== 'object' || node.value === null) continue;
    const entries: Array<[PropertyKey, unknown]> = Array.isArray(node.value) ? node.value.map((v, i) => [i, v]) : Object.entries(node.value);
    for (const [key, child] of entries.reverse()) {
      if (typeof key === 'string' && PROTOTYPE_KEYS.has(key)) at([...pathOf(node), key], `'${key}' is not allowed as a key`);
      else stack.push({ value: child, key, parent: node });
    }
  }
}
