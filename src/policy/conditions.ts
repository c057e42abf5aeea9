import type { SubjectType } from '../records/suite-record.js';
import type { PolicyRuleDocument, RuleProblem } from './document.js';
import { FIELDS, REQUESTER_ORG, conditionFieldOf, conditionFieldsOf, type ConditionField } from './fields.js';

/**
 * What a rule's conditions may test (policies/README.md, condition fields): only the condition fields of its subject,
 * with an allowed operator, against values of the field, so that no condition can read a value bit by bit.
 */

/** Condition operators a policy may use. Anything else is refused: CASL would read an unknown `$op` as equality. */
export const OPERATORS = ['$eq', '$ne', '$in', '$nin', '$lt', '$lte', '$gt', '$gte', '$exists'] as const;

/** A primitive a condition may compare with. */
type Scalar = string | number | boolean | null;
const isScalar = (v: unknown): v is Scalar => v === null || ['string', 'number', 'boolean'].includes(typeof v);

/** Why a rule's conditions test more than they may; empty for a rule without conditions. Paths are relative to the rule. */
export function conditionProblems(rule: PolicyRuleDocument): RuleProblem[] {
  const problems: RuleProblem[] = [];
  if (rule.conditions)
    checkConditions(rule.subject, rule.conditions, (path, message) => problems.push({ path: ['conditions', ...(path as Array<string | number>)], message }));
  return problems;
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
      at(
        [path],
        known
          ? `'${path}' is not a condition field of ${subject}; conditions may test only ${conditionFieldsOf(subject).join(', ')}`
          : `unknown field '${path}' of ${subject}`,
      );
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
      else
        operand.forEach((v, k) => {
          checkValue(field, v, (m) => at([op, k], m));
        });
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
  if (!isScalar(value)) {
    report('must be a string, number, boolean or null');
    return;
  }
  if (value === REQUESTER_ORG) {
    if (field.kind !== 'organisatie') report(`${REQUESTER_ORG} stands for an organisation; this field is not one`);
    return;
  }
  if (typeof value === 'string' && value.includes('${')) {
    report(`unknown placeholder; the only one is ${REQUESTER_ORG}`);
    return;
  }
  const parsed = field.values!.safeParse(value);
  if (!parsed.success) report(parsed.error.issues[0]?.message ?? 'is not a value of this field');
}
