import type { SubjectType } from '../records/suite-record.js';
import type { PolicyRuleDocument, RuleProblem } from './document.js';
import { expandFieldPattern } from './fields.js';
import { excludesDomein } from './guardrails.js';

/**
 * The floor of emergency access (break-glass): whatever a policy says, an emergency token never reaches health data
 * (domain.md: "never reaching health findings"). Like the guardrails it holds twice: an emergency rule (`noodtoegang:
 * true`) that would release such a field is refused when the policy is loaded or proposed (noodtoegangProblems), and
 * an emergency decision withholds it whatever the rules say (noodtoegangFloorFor, in decide.ts). The guardrails hold
 * for emergency decisions as for every other.
 */

/** Why a field is held back from an emergency access. */
export const REASON_NOODTOEGANG = 'gezondheidsgegevens: worden bij noodtoegang nooit verstrekt';

/**
 * The health data of a record outside the guardrails: every field of an assessment (class B: capacity, hours, FML,
 * prognosis, advice), an exemption's reason (a medical category), a handover's grounds (a care professional's
 * assessment is one); plus the Dariuz health domain, below.
 */
const FLOOR_FIELDS: Partial<Record<SubjectType, readonly string[] | '*'>> = {
  Belastbaarheidsonderzoek: '*',
  Ontheffing: ['reden'],
  Overdracht: ['onderbouwing'],
};

/** The life domains an emergency access may see at all; gezondheid (and justitie, a guardrail) never. */
const OPEN_DOMEINEN: ReadonlySet<unknown> = new Set(['werk', 'sociaal', 'huisvesting-financien']);

/** The reason when `field` of this instance is health data an emergency access may never see, otherwise null. */
export function noodtoegangFloorFor(subject: SubjectType, item: Record<string, unknown>, field: string): string | null {
  if (subject === 'Leefgebied') return OPEN_DOMEINEN.has(item.domein) ? null : REASON_NOODTOEGANG;
  const floor = FLOOR_FIELDS[subject];
  if (!floor) return null;
  return floor === '*' || floor.includes(field) ? REASON_NOODTOEGANG : null;
}

/**
 * Why an allowing emergency rule would release health data; empty for any other rule. An allowing emergency
 * Leefgebied rule must exclude gezondheid through its own `domein` condition, as every Leefgebied rule must justitie.
 */
export function noodtoegangProblems(rule: PolicyRuleDocument): RuleProblem[] {
  if (rule.noodtoegang !== true || rule.inverted) return [];
  const problems: RuleProblem[] = [];
  const floor = FLOOR_FIELDS[rule.subject];
  if (floor === '*') problems.push({ path: ['subject'], message: `emergency access: ${rule.subject} — ${REASON_NOODTOEGANG}` });
  else if (floor) {
    rule.fields?.forEach((field, j) => {
      const hit = (expandFieldPattern(rule.subject, field) ?? []).filter((f) => floor.includes(f));
      if (hit.length > 0) problems.push({ path: ['fields', j], message: `emergency access: ${hit.join(', ')} — ${REASON_NOODTOEGANG}` });
    });
  }
  if (rule.subject === 'Leefgebied' && !excludesDomein(rule.conditions?.domein, 'gezondheid')) {
    problems.push({
      path: rule.conditions && 'domein' in rule.conditions ? ['conditions', 'domein'] : ['conditions'],
      message: `emergency access: an allowing Leefgebied rule must restrict domein so that it excludes gezondheid — ${REASON_NOODTOEGANG}`,
    });
  }
  return problems;
}
