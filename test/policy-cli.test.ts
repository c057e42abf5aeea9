import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPolicyDirectory } from '../src/policy/load.js';
import { POLICIES_DIR, policyDir } from './policy-support.js';

const bin = path.join(import.meta.dirname, '..', 'bin', 'doelpoort.js');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, DOELPOORT_POLICIES_DIR: POLICIES_DIR } });

describe('doelpoort policy check', () => {
  it('prints the rule count and version of a valid directory', () => {
    const set = loadPolicyDirectory(POLICIES_DIR);
    const out = run('policy', 'check');
    expect(out.status).toBe(0);
    expect(out.stdout.trim()).toBe(`ok: ${set.rules.length} rules in ${set.files.length} files, version ${set.version}`);
  });

  it('prints every problem with its file and path and exits 1', () => {
    const dir = policyDir({
      'a.yaml':
        'rules:\n  - { role: werkcoach, purpose: overdracht-kp3, action: read, subject: Belastbaarheidsonderzoek, feilds: [x], fields: [diagnose, nope] }\n',
      'b.yaml': 'rules: [\n',
    });
    const out = run('policy', 'check', dir);
    expect(out.status).toBe(1);
    const lines = out.stderr.trim().split('\n');
    expect(lines).toContain("a.yaml: rules[0].feilds: unknown key 'feilds'");
    expect(lines).toContain("a.yaml: rules[0].fields[1]: unknown field 'nope' of Belastbaarheidsonderzoek");
    expect(lines.some((l) => l.startsWith('a.yaml: rules[0].fields[0]: guardrail: diagnose'))).toBe(true);
    expect(lines.some((l) => /^b\.yaml: line \d+, column \d+: YAML syntax error/.test(l))).toBe(true);
  });

  it('is a usage error without the check subcommand', () => {
    expect(run('policy').status).toBe(2);
  });
});
