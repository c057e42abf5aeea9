import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DoelpoortError, type Problem } from '../errors.js';
import { organisationSchema, purposeSchema, roleSchema } from '../purposes.js';
import { generateSuiteExport } from '../records/generate.js';
import { formatPath, suiteRecordSchema, type SuiteRecord } from '../records/suite-record.js';
import type { PolicyRule, PolicySet } from './compile.js';
import { decide, type Decision } from './decide.js';
import { parsePolicyText, policyFiles } from './load.js';

/**
 * Policy expectations (`policies/tests/*.yaml`), written by privacy officers beside the rules: "this role, this
 * purpose, this record → these fields released, these never". The format is described in policies/README.md.
 */

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD');

const recordRef = z.union(
  [
    z.strictObject({ fixture: z.string(), patch: z.record(z.string(), z.unknown()).optional() }),
    z.strictObject({ generated: z.strictObject({ seed: z.number().int(), clients: z.number().int().min(1).max(10_000), clientRef: z.string() }) }),
    z.strictObject({ inline: z.unknown() }),
  ],
  { error: 'must be { fixture: clientRef, patch? }, { generated: { seed, clients, clientRef } } or { inline: record }' },
);

const expectationSchema = z.strictObject({
  name: z.string().min(1),
  role: roleSchema,
  org: organisationSchema,
  purpose: purposeSchema,
  /** Decide as for an emergency access (break-glass): by the emergency rules alone. */
  noodtoegang: z.boolean().optional(),
  record: recordRef,
  allowed: z.boolean().optional(),
  /** Field paths that must be released. */
  released: z.array(z.string()).optional(),
  /** Field paths that must be listed as withheld (optionally with a text the reason must contain). */
  withheld: z.array(z.union([z.string(), z.strictObject({ field: z.string(), reason: z.string().optional() })])).optional(),
  /** Paths (or prefixes: a section, an item) under which nothing may be released. */
  never: z.array(z.string()).optional(),
  /** Paths (or prefixes) under which nothing may be released or listed as withheld. */
  absent: z.array(z.string()).optional(),
});

const fileSchema = z.strictObject({ today: date, expectations: z.array(expectationSchema).min(1) });

/** One expectation as written. */
export type Expectation = z.infer<typeof expectationSchema>;

/** One expectations file. */
export interface ExpectationFile {
  file: string;
  today: string;
  expectations: Expectation[];
}

/** Reads and validates every expectations file of `dir` (sorted); throws POLICY_INVALID with every problem. */
export function loadExpectations(dir: string): ExpectationFile[] {
  const problems: Problem[] = [];
  const out: ExpectationFile[] = [];
  for (const name of policyFiles(dir)) {
    const parsed = parsePolicyText(name, fs.readFileSync(path.join(dir, name), 'utf8'));
    if (!parsed.ok) {
      problems.push(...parsed.problems);
      continue;
    }
    const checked = fileSchema.safeParse(parsed.value);
    if (checked.success) out.push({ file: name, ...checked.data });
    else
      for (const issue of checked.error.issues) {
        if (issue.code === 'unrecognized_keys')
          for (const key of issue.keys) problems.push({ path: `${name}: ${formatPath([...issue.path, key])}`, message: `unknown key '${key}'` });
        else problems.push({ path: `${name}: ${formatPath(issue.path)}`, message: issue.message });
      }
  }
  if (problems.length > 0) throw new DoelpoortError('POLICY_INVALID', `expectations have ${problems.length} problem(s)`, problems);
  return out;
}

/** The outcome of one expectation: its decision and what did not hold (empty when it passed). */
export interface ExpectationResult {
  file: string;
  name: string;
  /** Null when the expectation's record could not be found or is invalid. */
  decision: Decision | null;
  failures: string[];
}

const under = (p: string, prefix: string) => p === prefix || p.startsWith(`${prefix}.`) || p.startsWith(`${prefix}[`);

/**
 * Runs every expectation against `set`. `fixtures` are the records `{ fixture: clientRef }` refers to; generated
 * records come from generateSuiteExport with the file's `today`.
 */
export function runExpectations(set: PolicySet, files: readonly ExpectationFile[], fixtures: readonly SuiteRecord[]): ExpectationResult[] {
  const generated = new Map<string, Map<string, SuiteRecord>>();
  const recordFor = (ref: Expectation['record'], today: string): SuiteRecord | string => {
    let candidate: unknown;
    if ('fixture' in ref) {
      const base = fixtures.find((r) => r.clientRef === ref.fixture);
      if (!base) return `no fixture client ${ref.fixture}`;
      candidate = { ...structuredClone(base), ...(ref.patch ?? {}) };
    } else if ('generated' in ref) {
      const { seed, clients, clientRef } = ref.generated;
      const key = `${seed}|${clients}|${today}`;
      let byRef = generated.get(key);
      if (!byRef) {
        byRef = new Map([...generateSuiteExport({ seed, clients, today })].map((r) => [r.clientRef, r]));
        generated.set(key, byRef);
      }
      candidate = byRef.get(clientRef);
      if (!candidate) return `no generated client ${clientRef}`;
    } else candidate = ref.inline;
    const parsed = suiteRecordSchema.safeParse(candidate);
    return parsed.success
      ? parsed.data
      : `record is not a valid Suite record (${parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')})`;
  };

  const results: ExpectationResult[] = [];
  for (const file of files) {
    for (const e of file.expectations) {
      const record = recordFor(e.record, file.today);
      if (typeof record === 'string') {
        results.push({ file: file.file, name: e.name, failures: [record], decision: null });
        continue;
      }
      const decision = decide(set, e, record, { today: file.today, noodtoegang: e.noodtoegang });
      const failures: string[] = [];
      if (e.allowed !== undefined && decision.allowed !== e.allowed) failures.push(`allowed is ${decision.allowed}, expected ${e.allowed}`);
      for (const f of e.released ?? []) if (!decision.released.includes(f)) failures.push(`${f} is not released`);
      for (const w of e.withheld ?? []) {
        const { field, reason } = typeof w === 'string' ? { field: w, reason: undefined } : w;
        const hit = decision.withheld.find((x) => x.field === field);
        if (!hit) failures.push(`${field} is not listed as withheld`);
        else if (reason !== undefined && !hit.reason.includes(reason)) failures.push(`${field} is withheld for another reason: ${hit.reason}`);
      }
      for (const prefix of e.never ?? []) for (const f of decision.released.filter((r) => under(r, prefix))) failures.push(`${f} is released, expected never`);
      for (const prefix of e.absent ?? []) {
        for (const f of decision.released.filter((r) => under(r, prefix))) failures.push(`${f} is released, expected absent`);
        for (const w of decision.withheld.filter((x) => under(x.field, prefix))) failures.push(`${w.field} is listed as withheld, expected absent`);
      }
      results.push({ file: file.file, name: e.name, decision, failures });
    }
  }
  return results;
}

/** The rules of `set` that no expectation's decision matched: each rule should be shown to fire at least once. */
export function unmatchedRules(set: PolicySet, results: readonly ExpectationResult[]): PolicyRule[] {
  const matched = new Set(results.flatMap((r) => r.decision?.matchedRules ?? []));
  return set.rules.filter((rule) => !matched.has(rule.index));
}
