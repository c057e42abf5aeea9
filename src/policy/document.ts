import { z } from 'zod';
import type { Problem } from '../errors.js';
import { PURPOSES, purposeFitsRole, purposeSchema, roleSchema } from '../purposes.js';
import { SUBJECTS, formatPath, type SubjectType } from '../records/suite-record.js';
import { expandFieldPattern } from './fields.js';

/**
 * The policy document format (api.md, Policies): CASL raw rules, each scoped by role and purpose. This module checks a
 * document's shape as a value, wherever it came from (a file in `policies/`, a version in the database, an HTTP body),
 * and reports every problem with its path. What a rule may reach (its condition fields, conditions.ts; the guardrails,
 * guardrails.ts) and whether it compiles are separate steps that `checkPolicyDocument` (compile.ts) composes.
 */

const SUBJECT_NAMES = Object.keys(SUBJECTS) as [SubjectType, ...SubjectType[]];

const ruleSchema = z.strictObject({
  role: roleSchema,
  purpose: purposeSchema,
  action: z.literal('read', { error: "must be 'read'" }),
  subject: z.enum(SUBJECT_NAMES, { error: `must be one of ${SUBJECT_NAMES.join(', ')}` }),
  fields: z
    .array(z.string({ error: 'must be a field name' }), { error: 'must be a list of field names' })
    .min(1, 'must name at least one field')
    .optional(),
  conditions: z.record(z.string(), z.unknown(), { error: 'must be an object of field conditions' }).optional(),
  inverted: z.boolean({ error: 'must be true or false' }).optional(),
  /**
   * The rule is one of emergency access (break-glass): it decides only for emergency tokens, and they are decided by
   * such rules alone. One spelling: `true`, or the key left out.
   */
  noodtoegang: z.literal(true, { error: 'must be true (leave it out for a rule of normal access)' }).optional(),
  reason: z.string({ error: 'must be a text' }).trim().min(1, 'must not be empty').max(500, 'too long').optional(),
});

const looseRuleSchema = z.object(ruleSchema.shape);

/** The shape of a policy document, for the API description; `checkPolicyDocument` adds the checks beyond shape. */
export const policyDocumentSchema = z
  .strictObject({ rules: z.array(ruleSchema) })
  .meta({ id: 'PolicyDocument', description: 'CASL raw rules scoped by role and purpose (policies/README.md)' });

/** One rule of a policy document. */
export type PolicyRuleDocument = z.infer<typeof ruleSchema>;

/** A policy document: `{ rules: [...] }`. */
export interface PolicyDocument {
  rules: PolicyRuleDocument[];
}

/** A problem of one rule, with its path relative to the rule (`['fields', 1]`). */
export interface RuleProblem {
  path: Array<string | number>;
  message: string;
}

/** One rule as the shape check saw it: parsed exactly, or as far as it parses despite a misspelt key, or not at all. */
export interface RuleShape {
  rule: PolicyRuleDocument | undefined;
  problems: RuleProblem[];
}

/** A document's shape checked: the problems of the document as a whole, and each rule's. */
export interface DocumentShape {
  problems: Problem[];
  rules: RuleShape[];
}

/** A problem at `path` (relative to the document), prefixed with `pathPrefix` when given (a file name). */
export function documentProblem(pathPrefix: string, path: ReadonlyArray<PropertyKey>, message: string): Problem {
  const p = formatPath(path);
  return { path: pathPrefix ? (p ? `${pathPrefix}: ${p}` : pathPrefix) : p || '(document)', message };
}

/**
 * Checks the shape of a policy document given as a JS value: prototype keys, the `{ rules }` envelope, each rule's
 * keys and types, its role and purpose, its subject's field names, fields on an allowing rule and a reason on a
 * withholding one. A rule with a misspelt key is still parsed as far as it goes, so that the steps after this one can
 * report its other problems too.
 */
export function checkPolicyShape(value: unknown, pathPrefix = ''): DocumentShape {
  const problems: Problem[] = [];
  const at = (path: ReadonlyArray<PropertyKey>, message: string) => problems.push(documentProblem(pathPrefix, path, message));
  prototypeKeyProblems(value, at);
  const outer = z
    .strictObject({ rules: z.array(z.unknown(), { error: 'must be a list of rules' }) }, { error: 'must be an object { rules: [...] }' })
    .safeParse(value);
  if (!outer.success) {
    for (const issue of outer.error.issues) reportIssue(issue, [], at);
    return { problems, rules: [] };
  }
  const rules = outer.data.rules.map((raw): RuleShape => {
    const ruleProblems: RuleProblem[] = [];
    const ruleAt = (path: ReadonlyArray<PropertyKey>, message: string) => ruleProblems.push({ path: path as Array<string | number>, message });
    const parsed = ruleSchema.safeParse(raw);
    if (parsed.success) {
      checkRule(parsed.data, ruleAt);
      return { rule: parsed.data, problems: ruleProblems };
    }
    for (const issue of parsed.error.issues) reportIssue(issue, [], ruleAt);
    // A misspelt key must not hide the rule's other problems: check the rest of it as far as it parses.
    const loose = looseRuleSchema.safeParse(raw);
    if (loose.success) checkRule(loose.data, ruleAt);
    return { rule: loose.success ? loose.data : undefined, problems: ruleProblems };
  });
  return { problems, rules };
}

function reportIssue(issue: z.core.$ZodIssue, prefix: PropertyKey[], at: (path: ReadonlyArray<PropertyKey>, message: string) => void): void {
  if (issue.code === 'unrecognized_keys') {
    for (const key of issue.keys) if (!PROTOTYPE_KEYS.has(key)) at([...prefix, ...issue.path, key], `unknown key '${key}'`);
    return;
  }
  const message = issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
  at([...prefix, ...issue.path], message);
}

/** The checks of one rule's shape that zod cannot express: role and purpose, field names, fields and reason. */
function checkRule(rule: PolicyRuleDocument, at: (path: PropertyKey[], message: string) => void): void {
  if (!purposeFitsRole(rule.purpose, rule.role)) at(['purpose'], `purpose '${rule.purpose}' is not one role '${rule.role}' may have`);
  else if (PURPOSES[rule.purpose].client === 'none') at(['purpose'], `purpose '${rule.purpose}' reads no client data`);
  rule.fields?.forEach((field, j) => {
    if (expandFieldPattern(rule.subject, field) === null) at(['fields', j], `unknown field '${field}' of ${rule.subject}`);
  });
  if (!rule.inverted && !rule.fields) at(['fields'], 'an allowing rule must list its fields (without fields CASL grants every field)');
  if (rule.inverted && !rule.reason) at(['reason'], 'a withholding (inverted) rule needs a reason');
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
