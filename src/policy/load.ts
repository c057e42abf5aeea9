import type { Result } from '../result.js';
import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { DoelpoortError, type Problem } from '../errors.js';
import { checkPolicyDocument, mergeParts, type PolicyPart, type PolicySet } from './compile.js';

/** File names in a policy directory that hold policy documents; anything else (README.md, tests/) is ignored. */
const POLICY_FILE = /\.(ya?ml|json)$/;

/** The policy files of `dir` (not its subdirectories), sorted by name so the load order never depends on the disk. */
export function policyFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && POLICY_FILE.test(e.name))
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** How many alias nodes a policy file may expand; the yaml package's default, stated here because it guards memory. */
const MAX_ALIAS_COUNT = 100;

/** Parses one policy file's text (YAML, or JSON when the name ends in .json) into a value, or its syntax problems. */
export function parsePolicyText(name: string, text: string): Result<unknown, { problems: Problem[] }> {
  if (name.endsWith('.json')) {
    try {
      return { ok: true, value: JSON.parse(text) as unknown };
    } catch (error) {
      return { ok: false, problems: [{ path: name, message: `JSON syntax error: ${error instanceof Error ? error.message : 'unreadable'}` }] };
    }
  }
  // uniqueKeys: a repeated key would otherwise silently replace the first.
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const [first] = doc.errors;
  if (first) {
    // One syntax error makes the parser report many that follow from it; the first is the one to fix.
    const line = first.linePos?.[0];
    const more = doc.errors.length > 1 ? ` (and ${doc.errors.length - 1} more after it)` : '';
    return {
      ok: false,
      problems: [
        {
          path: line ? `${name}: line ${line.line}, column ${line.col}` : name,
          message: `YAML syntax error: ${first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}${more}`,
        },
      ],
    };
  }
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown };
  } catch {
    // The yaml package throws when aliases would expand past the limit (a "billion laughs" file): a problem, not a crash.
    return { ok: false, problems: [{ path: name, message: `YAML aliases expand too far (limit ${MAX_ALIAS_COUNT}); write the rules out` }] };
  }
}

/**
 * Checks every policy file of `dir` and returns the set, or every problem of every file (`default.yaml:
 * rules[3].fields[1]: unknown field 'feilds' of Belastbaarheidsonderzoek`). Nothing is thrown for bad policies.
 */
export function checkPolicyDirectory(dir: string): Result<PolicySet, { problems: Problem[] }> {
  let files: string[];
  try {
    files = policyFiles(dir);
  } catch {
    return { ok: false, problems: [{ path: dir, message: 'cannot read the policy directory' }] };
  }
  if (files.length === 0) return { ok: false, problems: [{ path: dir, message: 'no policy files (*.yaml, *.yml, *.json)' }] };
  const problems: Problem[] = [];
  const parts: PolicyPart[] = [];
  for (const name of files) {
    const parsed = parsePolicyText(name, fs.readFileSync(path.join(dir, name), 'utf8'));
    if (!parsed.ok) {
      problems.push(...parsed.problems);
      continue;
    }
    const checked = checkPolicyDocument(parsed.value, name);
    if (checked.ok) parts.push({ source: name, document: checked.value });
    else problems.push(...checked.problems);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: mergeParts(parts) };
}

/** Loads the policy set of `dir` in sorted file order; throws POLICY_INVALID listing every problem. */
export function loadPolicyDirectory(dir: string): PolicySet {
  const checked = checkPolicyDirectory(dir);
  if (!checked.ok) throw new DoelpoortError('POLICY_INVALID', `policy set has ${checked.problems.length} problem(s)`, checked.problems);
  return checked.value;
}
