import { subject as asSubject } from '@casl/ability';
import { PURPOSES, purposeFitsRole, type Relationship, type Requester } from '../purposes.js';
import { SUBJECTS, type SubjectType, type SuiteRecord } from '../records/suite-record.js';
import type { PolicySet } from './compile.js';
import { groundingOverdracht, type DecisionContext } from './context.js';
import { FIELDS } from './fields.js';
import { guardrailFor } from './guardrails.js';
import { noodtoegangFloorFor } from './noodtoegang.js';
import { release, type RecordView } from './release.js';

/** A field of a covered section that was held back, and why. */
export interface Withheld {
  /** The field's path in the view: `belastbaarheidsonderzoeken[0].diagnose`. */
  field: string;
  reason: string;
  /** The index of the withholding rule in the policy set, when a rule (not the default) decided. */
  rule?: number;
}

/** The outcome of a decision: a value, never an exception. */
export interface Decision {
  /** False when nothing at all may be released for this role and purpose. */
  allowed: boolean;
  /** Paths of the released fields that have a value, as in `view`: `persoon.adres.postcode`. */
  released: string[];
  withheld: Withheld[];
  /** Indices (into `PolicySet.rules`) of the rules that decided a released or withheld field. */
  matchedRules: number[];
  policyVersion: string;
  /** The record with only released sections and fields, already through the release step. */
  view: RecordView;
}

/** Options of a decision. */
export interface DecideOptions {
  /** The day of the decision (YYYY-MM-DD): it decides which handover grounds the purpose. */
  today: string;
  /** The purpose's relationship on `today`, when the caller has checked it already: not computed a second time. */
  relationship?: Relationship | undefined;
  /**
   * Decide for an emergency access (break-glass): by the emergency rules alone, on no grounding handover (it rests on
   * none), and never releasing health data (noodtoegang.ts), whatever those rules say.
   */
  noodtoegang?: boolean | undefined;
}

/** Why a field of a covered section is held back when no rule released it. */
export const REASON_DEFAULT = 'niet vrijgegeven voor dit doel';

/** One instance of a subject in a record, and the path of its fields in the view. */
interface Instance {
  item: Record<string, unknown>;
  /** Where the released fields go: a section path, and whether items of it form a list. */
  section: string | null;
  many: boolean;
}

function instancesOf(record: SuiteRecord, type: SubjectType): Instance[] {
  const { section, many } = SUBJECTS[type];
  switch (type) {
    case 'Client':
      return [{ item: { clientRef: record.clientRef, bsn: record.bsn }, section: null, many: false }];
    case 'Uitkering': {
      if (!record.uitkering) return [];
      const { inhoudingen: _, ...uitkering } = record.uitkering;
      return [{ item: uitkering, section, many }];
    }
    case 'Inhouding':
      return (record.uitkering?.inhoudingen ?? []).map((item) => ({ item, section, many }));
    default: {
      const value = (record as Record<string, unknown>)[section!];
      if (value == null) return [];
      return many
        ? (value as Array<Record<string, unknown>>).map((item) => ({ item, section, many }))
        : [{ item: value as Record<string, unknown>, section, many }];
    }
  }
}

const getPath = (obj: Record<string, unknown>, path: string): unknown =>
  path.split('.').reduce<unknown>((cur, key) => (cur != null && typeof cur === 'object' ? (cur as Record<string, unknown>)[key] : undefined), obj);

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let cur = obj;
  for (const key of keys.slice(0, -1)) cur = (cur[key] ??= {}) as Record<string, unknown>;
  cur[keys[keys.length - 1]!] = value;
}

/**
 * Decides what `requester` may see of `record` for the requester's purpose under `set`. Every subject instance is
 * evaluated as itself (CASL `subject(type, object)`) together with the grounding handover as `context`. Sections the
 * purpose does not cover, and items of which no field may be released, are absent from `view` and `withheld` alike:
 * that they exist is information too. Paths use indices of the view, not of the record, for the same reason.
 */
export function decide(set: PolicySet, requester: Pick<Requester, 'role' | 'org' | 'purpose'>, record: SuiteRecord, options: DecideOptions): Decision {
  const base = { policyVersion: set.version };
  const { role, org, purpose } = requester;
  if (!purposeFitsRole(purpose, role) || PURPOSES[purpose].client === 'none')
    return { allowed: false, ...base, released: [], withheld: [], matchedRules: [], view: {} };

  const emergency = options.noodtoegang === true;
  const { ability, indexOf, covered } = set.abilityFor(role, purpose, org, emergency);
  const context: DecisionContext = { overdracht: emergency ? null : groundingOverdracht(purpose, org, record, options.today, options.relationship) };
  const view: Record<string, unknown> = {};
  const released: string[] = [];
  const withheld: Withheld[] = [];
  const matched = new Set<number>();

  for (const type of Object.keys(SUBJECTS) as SubjectType[]) {
    if (!covered.has(type)) continue;
    let kept = 0;
    for (const { item, section, many } of instancesOf(record, type)) {
      // A fresh object per instance: subject() marks the object it is given, and the record must stay untouched.
      const instance = asSubject(type, { ...item, context });
      const out: Record<string, unknown> = {};
      const prefix = section === null ? '' : many ? `${section}[${kept}].` : `${section}.`;
      const itemReleased: string[] = [];
      const itemWithheld: Withheld[] = [];
      const itemMatched: number[] = [];
      for (const field of FIELDS[type]) {
        const rule = ability.relevantRuleFor('read', instance, field);
        const index = rule ? indexOf.get(rule.origin) : undefined;
        if (index !== undefined) itemMatched.push(index);
        const guard = guardrailFor(type, item, field) ?? (emergency ? noodtoegangFloorFor(type, item, field) : null);
        if (rule && !rule.inverted && guard === null) {
          itemReleased.push(field);
          const value = getPath(item, field);
          if (value !== undefined) setPath(out, field, structuredClone(value));
        } else {
          itemWithheld.push({
            field: `${prefix}${field}`,
            reason: guard ?? rule?.reason ?? REASON_DEFAULT,
            ...(rule?.inverted && index !== undefined ? { rule: index } : {}),
          });
        }
      }
      if (itemReleased.length === 0) continue;
      kept++;
      for (const field of itemReleased) if (getPath(item, field) !== undefined) released.push(`${prefix}${field}`);
      withheld.push(...itemWithheld);
      for (const i of itemMatched) matched.add(i);
      if (section === null) Object.assign(view, out);
      else if (many) {
        const parent = (getPath(view, section) as unknown[] | undefined) ?? [];
        if (parent.length === 0) setPath(view, section, parent);
        parent.push(out);
      } else setPath(view, section, { ...((getPath(view, section) as Record<string, unknown> | undefined) ?? {}), ...out });
    }
  }

  return {
    allowed: released.length > 0,
    ...base,
    released,
    withheld,
    matchedRules: [...matched].sort((a, b) => a - b),
    view: release(view as RecordView),
  };
}
