import type { Result } from '../result.js';
import { createHash } from 'node:crypto';
import { createMongoAbility, subject as asSubject, type MongoAbility } from '@casl/ability';
import { DoelpoortError, type Problem } from '../errors.js';
import type { Purpose, Role } from '../purposes.js';
import type { SubjectType } from '../records/suite-record.js';
import { conditionProblems } from './conditions.js';
import { checkPolicyShape, documentProblem, type PolicyDocument, type PolicyRuleDocument } from './document.js';
import { REQUESTER_ORG } from './fields.js';
import { guardrailProblems } from './guardrails.js';
import { noodtoegangProblems } from './noodtoegang.js';
import { canonicalJson } from '../canonical-json.js';

/** A rule of a loaded policy set: the document rule, its index in the set, and where it was written. */
export interface PolicyRule extends PolicyRuleDocument {
  /** Position in the set's merged rule list; decisions name rules by it. */
  index: number;
  /** Where the rule was written: `default.yaml#rules[3]`, or `rules[3]` for a document without a file. */
  source: string;
}

/** The CASL ability of one (role, purpose, org), with what decide needs beside it. */
export interface CompiledAbility {
  ability: MongoAbility;
  /** The set index of each raw rule the ability was built from (CASL keeps the raw rule as `rule.origin`). */
  indexOf: ReadonlyMap<object, number>;
  /** Subjects with at least one allowing rule: the sections this purpose covers at all. */
  covered: ReadonlySet<SubjectType>;
}

/** How many abilities one set keeps before it starts over; orgs are a closed, small set in practice. */
const CACHE_LIMIT = 4096;

/**
 * A validated, compiled policy set: its rules in load order, its canonical merged document and the version (SHA-256
 * of that document's canonical JSON, hex) that goes into every decision. Abilities are built once per (role,
 * purpose, org) and cached here, so the hot path never rebuilds CASL rules.
 */
export class PolicySet {
  private readonly cache = new Map<string, CompiledAbility>();
  private readonly orgDependent = new Set<string>();
  /** `role|purpose` of every allowing emergency rule. */
  private readonly emergency = new Set<string>();

  constructor(
    /** The merged document, as stored in the database. */
    readonly document: PolicyDocument,
    /** The rules of `document`, with index and source. */
    readonly rules: readonly PolicyRule[],
    /** The files it was loaded from, in load order; empty for a document without files. */
    readonly files: readonly string[],
  ) {
    this.version = policyVersionOf(document);
    for (const rule of rules) {
      const group = `${rule.role}|${rule.purpose}${rule.noodtoegang ? '|noodtoegang' : ''}`;
      if (rule.conditions && JSON.stringify(rule.conditions).includes(REQUESTER_ORG)) this.orgDependent.add(group);
      if (rule.noodtoegang && !rule.inverted) this.emergency.add(`${rule.role}|${rule.purpose}`);
    }
  }

  /** SHA-256 (hex) of the canonical JSON of `document`. */
  readonly version: string;

  /** Whether any allowing emergency rule (`noodtoegang: true`) exists for this role and purpose. */
  allowsNoodtoegang(role: Role, purpose: Purpose): boolean {
    return this.emergency.has(`${role}|${purpose}`);
  }

  /**
   * The ability of one role and purpose, its `${requester.org}` placeholders filled with `org`: of the rules of normal
   * access, or with `noodtoegang` of the emergency rules only. Neither kind ever decides for the other.
   */
  abilityFor(role: Role, purpose: Purpose, org: string, noodtoegang = false): CompiledAbility {
    const group = `${role}|${purpose}${noodtoegang ? '|noodtoegang' : ''}`;
    const key = this.orgDependent.has(group) ? `${group}|${org}` : group;
    let compiled = this.cache.get(key);
    if (!compiled) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      compiled = buildAbility(
        this.rules.filter((r) => r.role === role && r.purpose === purpose && (r.noodtoegang === true) === noodtoegang),
        org,
      );
      this.cache.set(key, compiled);
    }
    return compiled;
  }
}

function buildAbility(rules: readonly PolicyRule[], org: string): CompiledAbility {
  const indexOf = new Map<object, number>();
  const covered = new Set<SubjectType>();
  const raws = rules.map((rule) => {
    const raw = toRawRule(rule, org);
    indexOf.set(raw, rule.index);
    if (!rule.inverted) covered.add(rule.subject);
    return raw;
  });
  return { ability: createMongoAbility(raws), indexOf, covered };
}

/** The CASL raw rule of a policy rule, with placeholders filled; role, purpose and noodtoegang are scoping, not CASL. */
function toRawRule(rule: PolicyRuleDocument, org: string) {
  return {
    action: rule.action,
    subject: rule.subject,
    ...(rule.fields ? { fields: [...rule.fields] } : {}),
    ...(rule.conditions ? { conditions: interpolate(rule.conditions, org) as Record<string, unknown> } : {}),
    ...(rule.inverted ? { inverted: true } : {}),
    ...(rule.reason ? { reason: rule.reason } : {}),
  };
}

/** Replaces every string equal to the placeholder; structural, so a value can never inject an operator. */
function interpolate(value: unknown, org: string): unknown {
  if (value === REQUESTER_ORG) return org;
  if (Array.isArray(value)) return value.map((v) => interpolate(v, org));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, org)]));
  return value;
}

/**
 * Compiles every rule's conditions now, because CASL compiles them lazily on first use: a condition that does not
 * compile is reported at load, not on some later request. Returns the problems, with paths like `rules[3].conditions`.
 */
export function compileProblems(document: PolicyDocument, pathPrefix = ''): Problem[] {
  const problems: Problem[] = [];
  document.rules.forEach((rule, i) => {
    if (!rule.conditions) return;
    try {
      const ability = createMongoAbility([toRawRule(rule, 'GM0000')]);
      for (const compiled of ability.possibleRulesFor('read', rule.subject)) {
        void compiled.ast;
        compiled.matchesConditions(asSubject(rule.subject, { context: { overdracht: null } }));
      }
    } catch (error) {
      const path = `rules[${i}].conditions`;
      problems.push({
        path: pathPrefix ? `${pathPrefix}: ${path}` : path,
        message: `cannot be compiled (${error instanceof Error ? error.message : 'unknown error'})`,
      });
    }
  });
  return problems;
}

/** The policy version of a document: SHA-256 (hex) of its canonical JSON. */
export function policyVersionOf(document: PolicyDocument): string {
  return createHash('sha256').update(canonicalJson(document)).digest('hex');
}

/** One validated document and where it came from (a file name, or null for a document without a file). */
export interface PolicyPart {
  source: string | null;
  document: PolicyDocument;
}

/** Merges validated parts, in the given order, into one set. Later rules take precedence (CASL's order). */
export function mergeParts(parts: readonly PolicyPart[]): PolicySet {
  const rules: PolicyRule[] = [];
  for (const part of parts) {
    part.document.rules.forEach((rule, i) => {
      rules.push({ ...rule, index: rules.length, source: part.source ? `${part.source}#rules[${i}]` : `rules[${i}]` });
    });
  }
  const document: PolicyDocument = { rules: parts.flatMap((p) => p.document.rules) };
  return new PolicySet(
    document,
    rules,
    parts.flatMap((p) => (p.source ? [p.source] : [])),
  );
}

/**
 * Checks a document given as a JS value (a file, a version from the database, a body posted over HTTP) in steps: its
 * shape (document.ts), what each rule's conditions test (conditions.ts), whether it lowers a guardrail
 * (guardrails.ts) or lets an emergency access reach health data (noodtoegang.ts), then, once all that holds, whether
 * its conditions compile. Every problem is returned, a rule's in that order; nothing is thrown.
 */
export function checkPolicyDocument(value: unknown, pathPrefix = ''): Result<PolicyDocument, { problems: Problem[] }> {
  const shape = checkPolicyShape(value, pathPrefix);
  const problems = [...shape.problems];
  const rules: PolicyRuleDocument[] = [];
  shape.rules.forEach(({ rule, problems: ruleProblems }, i) => {
    const all = rule ? [...ruleProblems, ...conditionProblems(rule), ...guardrailProblems(rule), ...noodtoegangProblems(rule)] : ruleProblems;
    for (const p of all) problems.push(documentProblem(pathPrefix, ['rules', i, ...p.path], p.message));
    if (rule) rules.push(rule);
  });
  if (problems.length > 0) return { ok: false, problems };
  const document: PolicyDocument = { rules };
  const compiled = compileProblems(document, pathPrefix);
  return compiled.length > 0 ? { ok: false, problems: compiled } : { ok: true, value: document };
}

/** A policy set from one document given as a JS value; throws POLICY_INVALID with every problem. */
export function policySetFromDocument(value: unknown): PolicySet {
  const checked = checkPolicyDocument(value);
  if (!checked.ok) throw new DoelpoortError('POLICY_INVALID', `policy document has ${checked.problems.length} problem(s)`, checked.problems);
  return mergeParts([{ source: null, document: checked.value }]);
}
