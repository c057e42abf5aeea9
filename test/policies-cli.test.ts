import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadAuditKeys } from '../src/audit/keys.js';
import { AuditLog } from '../src/audit/log.js';
import { fixedClock } from '../src/clock.js';
import { databaseFile } from '../src/config.js';
import { openDatabase } from '../src/db.js';
import { ActivePolicy } from '../src/policy/active.js';
import { PolicyVersions } from '../src/policy/versions.js';
import { POLICIES_DIR } from './policy-support.js';
import { tempDir, TODAY } from './support.js';

const bin = fileURLToPath(new URL('../bin/doelpoort.js', import.meta.url));

/** A data dir whose database holds the default policy as version 1, as after the gateway's first start. */
function setup() {
  const dataDir = tempDir();
  const open = () => openDatabase(databaseFile({ dataDir }));
  const db = open();
  ActivePolicy.bootstrap(new PolicyVersions(db, fixedClock(`${TODAY}T10:00:00Z`)), POLICIES_DIR);
  db.$client.close();
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [bin, 'policy', ...args], {
      env: { ...process.env, DOELPOORT_DATA_DIR: dataDir, DOELPOORT_POLICIES_DIR: POLICIES_DIR },
      encoding: 'utf8',
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const read = <T>(fn: (versions: PolicyVersions, audit: AuditLog) => T): T => {
    const db = open();
    try {
      const clock = fixedClock(`${TODAY}T10:00:00Z`);
      return fn(new PolicyVersions(db, clock), new AuditLog(db, { clock, ...loadAuditKeys(dataDir) }));
    } finally {
      db.$client.close();
    }
  };
  const file = (name: string, text: string) => {
    const p = path.join(dataDir, name);
    fs.writeFileSync(p, text);
    return p;
  };
  return { run, read, file };
}

// Each case spawns the real CLI (tsx loads the sources each time).
describe('doelpoort policy export and propose', { timeout: 60_000 }, () => {
  it('exports a stored version as YAML or JSON, and proposes a file as a draft with an audit line', () => {
    const { run, read, file } = setup();
    const v1 = read((versions) => versions.get(1)!);
    const json = run('export', '1', '--format', 'json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(v1.document);
    const yaml = run('export', '1');
    expect(yaml.code).toBe(0);
    expect(parse(yaml.stdout)).toEqual(v1.document);

    const proposed = run('propose', file('v2.yaml', yaml.stdout), '--iss', 'https://login.werkzaak.example', '--sub', 'po-anna', '--org', 'WERKZAAK');
    expect(proposed.code).toBe(0);
    expect(proposed.stdout).toMatch(/^proposed version 2 \(draft, based on 1\)/);
    const { draft, line } = read((versions, audit) => ({ draft: versions.get(2)!, line: audit.list({ limit: 1 }).items[0]!.entry }));
    expect(draft).toMatchObject({
      status: 'draft',
      author: { iss: 'https://login.werkzaak.example', sub: 'po-anna', org: 'WERKZAAK' },
      hash: v1.hash,
      baseVersion: 1,
    });
    expect(line).toMatchObject({
      action: 'policy.proposed',
      outcome: 'permit',
      actor: { iss: 'https://login.werkzaak.example', sub: 'po-anna', org: 'WERKZAAK', role: 'privacy-officer' },
      purpose: 'beleidsbeheer',
      policyId: 2,
      origin: 'cli',
    });
  });

  it('refuses an invalid file with every problem by file and path, stores nothing, and logs the refusal', () => {
    const { run, read, file } = setup();
    const bad = file(
      'bad.yaml',
      'rules:\n  - { role: werkcoach, purpose: overdracht-kp3, action: read, subject: Belastbaarheidsonderzoek, feilds: [x], fields: [diagnose] }\n',
    );
    const out = run('propose', bad, '--iss', 'https://login.werkzaak.example', '--sub', 'po-anna', '--org', 'WERKZAAK');
    expect(out.code).toBe(1);
    const lines = out.stderr.trim().split('\n');
    expect(lines).toContain("bad.yaml: rules[0].feilds: unknown key 'feilds'");
    expect(lines.some((l) => l.startsWith('bad.yaml: rules[0].fields[0]: guardrail: diagnose'))).toBe(true);
    const { count, line } = read((versions, audit) => ({ count: versions.list().length, line: audit.list({ limit: 1 }).items[0]!.entry }));
    expect(count).toBe(1);
    expect(line).toMatchObject({ action: 'policy.proposed', outcome: 'deny', reason: 'POLICY_INVALID', actor: { sub: 'po-anna' } });

    const unparsable = run(
      'propose',
      file('broken.yaml', 'rules: [ { role: werkcoach\n'),
      '--iss',
      'https://login.werkzaak.example',
      '--sub',
      'po-bram',
      '--org',
      'WERKZAAK',
    );
    expect(unparsable.code).toBe(1);
    expect(unparsable.stderr).toMatch(/^broken\.yaml: line 2/m);
    const after = read((versions, audit) => ({ count: versions.list().length, line: audit.list({ limit: 1 }).items[0]!.entry }));
    expect(after.count).toBe(1);
    expect(after.line).toMatchObject({ action: 'policy.proposed', outcome: 'deny', reason: 'POLICY_INVALID', actor: { sub: 'po-bram' }, origin: 'cli' });
    expect(after.line).not.toHaveProperty('httpStatus');
  });

  it('is a usage error without --iss/--sub/--org or with a bad org, and an error for an unknown version', () => {
    const { run, file } = setup();
    const f = file('x.json', '{"rules":[]}');
    expect(run('propose', f).code).toBe(2);
    expect(run('propose', f, '--iss', 'https://login.werkzaak.example', '--sub', 'po-anna', '--org', 'Utrecht').code).toBe(2);
    expect(run('propose', f, '--sub', 'po-anna', '--org', 'WERKZAAK').code).toBe(2);
    expect(run('export').code).toBe(2);
    const missing = run('export', '99');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no policy version 99');
  });
});
