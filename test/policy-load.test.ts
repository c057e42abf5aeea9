import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DoelpoortError, type Problem } from '../src/errors.js';
import { canonicalJson } from '../src/canonical-json.js';
import { checkPolicyDocument, policySetFromDocument } from '../src/policy/compile.js';
import { checkPolicyShape } from '../src/policy/document.js';
import { loadExpectations } from '../src/policy/expectations.js';
import { checkPolicyDirectory, loadPolicyDirectory } from '../src/policy/load.js';
import { POLICIES_DIR, policyDir } from './policy-support.js';

const rule = (extra: Record<string, unknown> = {}) => ({
  role: 'participatiecoach',
  purpose: 'overdracht-kp4',
  action: 'read',
  subject: 'Persoon',
  fields: ['voornamen'],
  ...extra,
});

function problemsOf(document: unknown): Problem[] {
  const checked = checkPolicyDocument(document);
  return checked.ok ? [] : checked.problems;
}

describe(loadPolicyDirectory.name, () => {
  it('loads the default policies in sorted file order', () => {
    const set = loadPolicyDirectory(POLICIES_DIR);
    expect(set.files).toEqual([...set.files].sort());
    expect(set.files.length).toBeGreaterThan(0);
    expect(set.rules.map((r) => r.index)).toEqual(set.rules.map((_, i) => i));
    expect(set.rules[0]!.source).toBe(`${set.files[0]}#rules[0]`);
    expect(set.version).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reports every problem of a file together, each with its file and path', () => {
    const dir = policyDir({
      'a.yaml': [
        'rules:',
        '  - { role: participatiecoach, purpose: overdracht-kp4, action: read, subject: Persoon, feilds: [voornamen] }',
        '  - { role: participatiecoach, purpose: overdracht-kp4, action: read, subject: Persoonn, fields: [voornamen] }',
        '  - { role: participatiecoach, purpose: overdracht-kp4, action: read, subject: Persoon, fields: [voornamen, adres.postcod] }',
      ].join('\n'),
      'b.yaml': 'rules:\n  - { role: werkcoach, purpose: overdracht-kp3, action: read, subject: Persoon }\n',
    });
    const checked = checkPolicyDirectory(dir);
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.problems).toEqual([
      { path: 'a.yaml: rules[0].feilds', message: "unknown key 'feilds'" },
      // The misspelling leaves the rule without fields, which is reported as well.
      { path: 'a.yaml: rules[0].fields', message: expect.stringContaining('must list its fields') },
      { path: 'a.yaml: rules[1].subject', message: expect.stringContaining('must be one of') },
      { path: 'a.yaml: rules[2].fields[1]', message: "unknown field 'adres.postcod' of Persoon" },
      { path: 'b.yaml: rules[0].fields', message: expect.stringContaining('must list its fields') },
    ]);
  });

  it('throws one POLICY_INVALID with every problem', () => {
    const dir = policyDir({ 'x.yaml': 'rules:\n  - { role: werkcoach, purpose: overdracht-kp3, action: read, subject: Persoon, inverted: true }\n' });
    let error: unknown;
    try {
      loadPolicyDirectory(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DoelpoortError);
    expect((error as DoelpoortError).code).toBe('POLICY_INVALID');
    expect((error as DoelpoortError).problems).toEqual([{ path: 'x.yaml: rules[0].reason', message: expect.stringContaining('needs a reason') }]);
  });

  it('reports a YAML syntax error with its file and line', () => {
    const dir = policyDir({ 'bad.yaml': 'rules:\n  - role: werkcoach\n    fields: [a, b\n' });
    const checked = checkPolicyDirectory(dir);
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.problems).toHaveLength(1);
    expect(checked.problems[0]!.path).toMatch(/^bad\.yaml: line \d+, column \d+$/);
    expect(checked.problems[0]!.message).toMatch(/^YAML syntax error/);
  });

  it('refuses a repeated key rather than letting the second win', () => {
    const dir = policyDir({ 'dup.yaml': 'rules: []\nrules: []\n' });
    const checked = checkPolicyDirectory(dir);
    expect(checked.ok).toBe(false);
  });

  it('reads JSON policy files too, and ignores README and tests/', () => {
    const dir = policyDir({ 'p.json': JSON.stringify({ rules: [rule()] }), 'README.md': '# hi' });
    fs.mkdirSync(path.join(dir, 'tests'));
    fs.writeFileSync(path.join(dir, 'tests', 't.yaml'), 'not: [valid');
    const checked = checkPolicyDirectory(dir);
    expect(checked.ok).toBe(true);
  });

  it('refuses an empty directory', () => {
    expect(checkPolicyDirectory(policyDir({})).ok).toBe(false);
  });
});

describe(checkPolicyDocument.name, () => {
  it('accepts a minimal document', () => {
    expect(problemsOf({ rules: [rule()] })).toEqual([]);
  });

  it('refuses a misspelt key', () => {
    expect(problemsOf({ rules: [{ ...rule(), feilds: ['x'] }] })).toContainEqual({ path: 'rules[0].feilds', message: "unknown key 'feilds'" });
    expect(problemsOf({ rules: [], version: 2 })).toEqual([{ path: 'version', message: "unknown key 'version'" }]);
  });

  it('refuses an unknown subject and an unknown field, nested ones included', () => {
    expect(problemsOf({ rules: [rule({ subject: 'Fraude' })] })[0]).toMatchObject({ path: 'rules[0].subject' });
    expect(problemsOf({ rules: [rule({ subject: 'Belastbaarheidsonderzoek', fields: ['uitvoerder.discipline', 'uitvoerder.rang'] })] })).toEqual([
      { path: 'rules[0].fields[1]', message: "unknown field 'uitvoerder.rang' of Belastbaarheidsonderzoek" },
    ]);
  });

  it('accepts prefix.* patterns over an object prefix, and refuses bare wildcards', () => {
    expect(problemsOf({ rules: [rule({ fields: ['adres.*'] })] })).toEqual([]);
    expect(problemsOf({ rules: [rule({ fields: ['*'] })] })).toEqual([{ path: 'rules[0].fields[0]', message: "unknown field '*' of Persoon" }]);
    expect(problemsOf({ rules: [rule({ fields: ['voornamen.*'] })] })).toHaveLength(1);
  });

  it('refuses an operator outside the allowlist, which CASL would silently read as equality', () => {
    expect(problemsOf({ rules: [rule({ conditions: { gemeente: { $regex: '^GM' } } })] })).toEqual([
      { path: 'rules[0].conditions.gemeente.$regex', message: expect.stringContaining("operator '$regex' is not allowed") },
    ]);
    expect(problemsOf({ rules: [rule({ conditions: { $or: [{ gemeente: 'GM1960' }] } })] })[0]).toMatchObject({ path: 'rules[0].conditions.$or' });
    expect(problemsOf({ rules: [rule({ conditions: { gemeente: { $in: 'GM1960' } } })] })[0]).toMatchObject({ path: 'rules[0].conditions.gemeente.$in' });
  });

  it('refuses conditions on unknown fields and unknown placeholders', () => {
    expect(problemsOf({ rules: [rule({ conditions: { naam: 'x' } })] })[0]).toMatchObject({
      path: 'rules[0].conditions.naam',
      message: "unknown field 'naam' of Persoon",
    });
    expect(problemsOf({ rules: [rule({ conditions: { gemeente: '${requester.sub}' } })] })[0]).toMatchObject({ path: 'rules[0].conditions.gemeente' });
    expect(problemsOf({ rules: [rule({ conditions: { gemeente: '${requester.org}', 'context.overdracht.bezwaarTegenDelen': false } })] })).toEqual([]);
  });

  it('refuses an allowing rule without fields', () => {
    expect(problemsOf({ rules: [{ ...rule(), fields: undefined }] })).toEqual([
      { path: 'rules[0].fields', message: expect.stringContaining('must list its fields') },
    ]);
  });

  it('refuses a withholding rule without a reason', () => {
    expect(problemsOf({ rules: [rule({ inverted: true })] })).toEqual([{ path: 'rules[0].reason', message: expect.stringContaining('needs a reason') }]);
    expect(problemsOf({ rules: [rule({ inverted: true, reason: 'omdat' })] })).toEqual([]);
  });

  it('refuses a purpose the role cannot have, and the purposes that read no client data', () => {
    expect(problemsOf({ rules: [rule({ purpose: 'overdracht-kp3' })] })[0]).toMatchObject({ path: 'rules[0].purpose' });
    expect(problemsOf({ rules: [rule({ role: 'privacy-officer', purpose: 'toezicht' })] })[0]).toMatchObject({ path: 'rules[0].purpose' });
  });

  describe('guardrails', () => {
    it('refuses releasing the medical core, by name or by pattern', () => {
      const fields = ['datum', 'diagnose', 'medischeToelichting'];
      const problems = problemsOf({ rules: [rule({ subject: 'Belastbaarheidsonderzoek', fields })] });
      expect(problems.map((p) => p.path)).toEqual(['rules[0].fields[1]', 'rules[0].fields[2]']);
      expect(problems[0]!.message).toMatch(/^guardrail: diagnose/);
    });

    it('refuses any allowing rule on Fraudeonderzoek', () => {
      expect(problemsOf({ rules: [rule({ subject: 'Fraudeonderzoek', fields: ['status'] })] })).toEqual([
        { path: 'rules[0].subject', message: expect.stringMatching(/^guardrail:/) },
      ]);
    });

    it("refuses releasing a fine's reason", () => {
      expect(problemsOf({ rules: [rule({ subject: 'Boete', fields: ['status', 'reden'] })] })).toEqual([
        { path: 'rules[0].fields[1]', message: expect.stringMatching(/^guardrail: reden/) },
      ]);
    });

    it('refuses an allowing Leefgebied rule that does not exclude justitie through domein', () => {
      const leef = (conditions?: unknown) => rule({ subject: 'Leefgebied', fields: ['score'], ...(conditions ? { conditions } : {}) });
      expect(problemsOf({ rules: [leef()] })).toEqual([{ path: 'rules[0].conditions', message: expect.stringMatching(/^guardrail:/) }]);
      expect(problemsOf({ rules: [leef({ domein: 'justitie' })] })[0]).toMatchObject({ path: 'rules[0].conditions.domein' });
      expect(problemsOf({ rules: [leef({ domein: { $in: ['werk', 'justitie'] } })] })[0]).toMatchObject({ path: 'rules[0].conditions.domein' });
      expect(problemsOf({ rules: [leef({ 'context.overdracht.clientGeinformeerd': true })] })).toEqual([
        { path: 'rules[0].conditions', message: expect.stringMatching(/^guardrail:/) },
      ]);
      expect(problemsOf({ rules: [leef({ domein: { $ne: 'werk' } })] })[0]).toMatchObject({ path: 'rules[0].conditions.domein' });
      for (const ok of [
        { domein: 'werk' },
        { domein: { $in: ['werk', 'sociaal'] } },
        { domein: { $ne: 'justitie' } },
        { domein: { $nin: ['justitie', 'gezondheid'] } },
      ]) {
        expect(problemsOf({ rules: [leef(ok)] })).toEqual([]);
      }
    });

    it('lets a withholding rule name guardrail fields', () => {
      expect(problemsOf({ rules: [rule({ subject: 'Belastbaarheidsonderzoek', fields: ['diagnose'], inverted: true, reason: 'B+' })] })).toEqual([]);
    });
  });
});

describe(checkPolicyShape.name, () => {
  const guarded = rule({ subject: 'Belastbaarheidsonderzoek', fields: ['datum', 'diagnose'] });
  const freeText = rule({ conditions: { 'adres.straat': 'Dorpsstraat' } });

  it('checks shape only: a rule that lowers a guardrail or tests a free-text field has the right shape', () => {
    const shape = checkPolicyShape({ rules: [guarded, freeText] });
    expect(shape.problems).toEqual([]);
    expect(shape.rules.map((r) => r.problems)).toEqual([[], []]);
    expect(shape.rules.map((r) => r.rule?.subject)).toEqual(['Belastbaarheidsonderzoek', 'Persoon']);
  });

  it('parses a rule with a misspelt key as far as it goes, so that the later steps still see it', () => {
    const [misspelt] = checkPolicyShape({ rules: [{ ...guarded, feilds: ['x'] }] }).rules;
    expect(misspelt!.problems).toEqual([{ path: ['feilds'], message: "unknown key 'feilds'" }]);
    expect(misspelt!.rule?.fields).toEqual(['datum', 'diagnose']);
  });

  it('is composed with the condition fields and the guardrails by checkPolicyDocument, a rule’s problems in that order', () => {
    expect(problemsOf({ rules: [{ ...guarded, feilds: ['x'] }, freeText] }).map((p) => p.path)).toEqual([
      'rules[0].feilds',
      'rules[0].fields[1]',
      'rules[1].conditions.adres.straat',
    ]);
    expect(problemsOf({ rules: [guarded] })[0]!.message).toMatch(/^guardrail: diagnose/);
  });
});

describe('policy version', () => {
  it('is the same for the same files and changes with any change of a rule', () => {
    const text = fs.readFileSync(path.join(POLICIES_DIR, 'werkcoach.yaml'), 'utf8');
    const a = loadPolicyDirectory(policyDir({ 'werkcoach.yaml': text }));
    const b = loadPolicyDirectory(policyDir({ 'werkcoach.yaml': text }));
    const changed = loadPolicyDirectory(policyDir({ 'werkcoach.yaml': text.replace('fields: [profiel, vanaf, tot]', 'fields: [profiel, vanaf]') }));
    expect(a.version).toBe(b.version);
    expect(changed.version).not.toBe(a.version);
  });

  it('does not depend on comments, layout or key order, only on the rules', () => {
    const yaml = 'rules:\n  # a comment\n  - { role: werkcoach, purpose: overdracht-kp3, action: read, subject: Persoon, fields: [voornamen] }\n';
    const json = JSON.stringify(
      { rules: [{ fields: ['voornamen'], subject: 'Persoon', action: 'read', purpose: 'overdracht-kp3', role: 'werkcoach' }] },
      null,
      2,
    );
    expect(loadPolicyDirectory(policyDir({ 'p.yaml': yaml })).version).toBe(loadPolicyDirectory(policyDir({ 'p.json': json })).version);
  });

  it('equals the version of the merged document built from a JS value (as stored in the database)', () => {
    const set = loadPolicyDirectory(POLICIES_DIR);
    expect(createHash('sha256').update(canonicalJson(set.document)).digest('hex')).toBe(set.version);
    const again = policySetFromDocument(JSON.parse(JSON.stringify(set.document)));
    expect(again.version).toBe(set.version);
    expect(again.rules.map((r) => r.source)[0]).toBe('rules[0]');
  });

  it('depends on the order of the files, since later rules take precedence', () => {
    const one = 'rules:\n  - { role: werkcoach, purpose: overdracht-kp3, action: read, subject: Persoon, fields: [voornamen] }\n';
    const two = 'rules:\n  - { role: werkcoach, purpose: overdracht-kp3, action: read, subject: Persoon, fields: [voornamen], inverted: true, reason: nee }\n';
    const ab = loadPolicyDirectory(policyDir({ 'a.yaml': one, 'b.yaml': two }));
    const ba = loadPolicyDirectory(policyDir({ 'a.yaml': two, 'b.yaml': one }));
    expect(ab.version).not.toBe(ba.version);
  });
});

describe(loadExpectations.name, () => {
  it('refuses an expectation with a misspelt key, naming file and path', () => {
    const dir = policyDir({
      't.yaml':
        'today: 2026-11-23\nexpectations:\n  - { name: x, role: werkcoach, org: WERKZAAK, purpose: overdracht-kp3, record: { fixture: WZR-100003 }, relased: [clientRef] }\n',
    });
    let error: unknown;
    try {
      loadExpectations(dir);
    } catch (e) {
      error = e;
    }
    expect((error as DoelpoortError).code).toBe('POLICY_INVALID');
    expect((error as DoelpoortError).problems[0]).toEqual({ path: 't.yaml: expectations[0].relased', message: "unknown key 'relased'" });
  });
});
