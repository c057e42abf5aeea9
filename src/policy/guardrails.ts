import type { SubjectType } from '../records/suite-record.js';
import type { PolicyRuleDocument, RuleProblem } from './document.js';
import { expandFieldPattern } from './fields.js';

/**
 * Guardrails: the legal floor of domain.md that no policy version can lower. They are enforced twice: a policy that
 * would release one is refused when it is loaded or proposed (guardrailProblems), and the release step strips them
 * from whatever a decision produced (release.ts).
 *
 * `Client.bsn` is deliberately not a guardrail: domain.md lists it in the default matrix (lookup key only), not among
 * the guardrails, so the default policy withholds it with an inverted rule and a privacy officer could change that.
 */

/** Why the B+ medical core is never released. */
export const REASON_MEDISCH = 'medische kern (B+): verlaat Werkzaak nooit (wettelijke ondergrens)';
/** Why a fine's reason is never released. */
export const REASON_BOETE = 'reden van een boete (handhaving, art. 10 AVG): wordt nooit verstrekt (wettelijke ondergrens)';
/** Why fraud investigations are never released. */
export const REASON_FRAUDE = 'fraudeonderzoek (handhaving, art. 10 AVG): wordt nooit verstrekt (wettelijke ondergrens)';
/** Why the Dariuz justice domain is never released. */
export const REASON_JUSTITIE = 'leefgebied justitie (art. 10 AVG): wordt nooit verstrekt (wettelijke ondergrens)';

/** The B+ fields of a belastbaarheidsonderzoek. */
export const MEDISCHE_KERN = ['diagnose', 'behandeling', 'medicatie', 'medischeToelichting'] as const;

/** Guardrail fields per subject; `'*'` means every field (of every instance, or of instances `when` selects). */
const GUARDRAIL_FIELDS: Partial<Record<SubjectType, { fields: readonly string[] | '*'; reason: string }>> = {
  Belastbaarheidsonderzoek: { fields: MEDISCHE_KERN, reason: REASON_MEDISCH },
  Boete: { fields: ['reden'], reason: REASON_BOETE },
  Fraudeonderzoek: { fields: '*', reason: REASON_FRAUDE },
};

/**
 * The guardrail reason when `field` of this instance of `subject` may never be released, otherwise null. A Leefgebied
 * whose `domein` is justitie, or is unknown, is wholly guarded.
 */
export function guardrailFor(subject: SubjectType, item: Record<string, unknown>, field: string): string | null {
  if (subject === 'Leefgebied') return item.domein === undefined || item.domein === 'justitie' ? REASON_JUSTITIE : null;
  const g = GUARDRAIL_FIELDS[subject];
  if (!g) return null;
  return g.fields === '*' || g.fields.includes(field) ? g.reason : null;
}

/**
 * Why an allowing rule would lower a guardrail; empty for a rule that respects them. Withholding rules never do.
 * An allowing Leefgebied rule must exclude justitie through its own `domein` condition (a value, `$eq`, `$in` without
 * justitie, or `$ne`/`$nin` naming justitie); anything looser is refused, since conditions cannot be proven otherwise.
 */
export function guardrailProblems(rule: PolicyRuleDocument): RuleProblem[] {
  if (rule.inverted) return [];
  const problems: RuleProblem[] = [];
  if (rule.subject === 'Fraudeonderzoek') problems.push({ path: ['subject'], message: `guardrail: ${REASON_FRAUDE}` });
  const g = GUARDRAIL_FIELDS[rule.subject];
  if (g && g.fields !== '*') {
    const guarded = g.fields;
    rule.fields?.forEach((field, j) => {
      const hit = (expandFieldPattern(rule.subject, field) ?? []).filter((f) => guarded.includes(f));
      if (hit.length > 0) problems.push({ path: ['fields', j], message: `guardrail: ${hit.join(', ')} — ${g.reason}` });
    });
  }
  if (rule.subject === 'Leefgebied' && !excludesDomein(rule.conditions?.domein, 'justitie')) {
    problems.push({
      path: rule.conditions && 'domein' in rule.conditions ? ['conditions', 'domein'] : ['conditions'],
      message: `guardrail: an allowing Leefgebied rule must restrict domein so that it excludes justitie (domein: werk, or { $in: [...] } without justitie) — ${REASON_JUSTITIE}`,
    });
  }
  return problems;
}

/**
 * Whether a rule's own `domein` condition excludes `domein` (a value, `$eq` another, `$in` without it, `$ne` it,
 * `$nin` with it): the only proof accepted that an allowing Leefgebied rule never reaches that domain.
 */
export function excludesDomein(condition: unknown, domein: string): boolean {
  const isDomein = (v: unknown) => typeof v === 'string' && !v.includes('${');
  if (isDomein(condition)) return condition !== domein;
  if (typeof condition !== 'object' || condition === null || Array.isArray(condition)) return false;
  // The operators of one field are a conjunction: one that excludes justitie is enough.
  return Object.entries(condition).some(([op, v]) => {
    switch (op) {
      case '$eq':
        return isDomein(v) && v !== domein;
      case '$in':
        return Array.isArray(v) && v.length > 0 && v.every((d) => isDomein(d) && d !== domein);
      case '$ne':
        return v === domein;
      case '$nin':
        return Array.isArray(v) && v.includes(domein);
      default:
        return false;
    }
  });
}
