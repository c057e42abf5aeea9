import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DoelpoortError, type Problem } from '../src/errors.js';
import { checkPolicyDocument } from '../src/policy/compile.js';
import { MEDISCHE_KERN, guardrailFor } from '../src/policy/guardrails.js';
import { CONTEXT_FIELDS } from '../src/policy/fields.js';
import { checkPolicyDirectory, loadPolicyDirectory } from '../src/policy/load.js';
import { CONDITION_FIELDS, SUBJECTS, fieldsOf, type SubjectType } from '../src/records/suite-record.js';
import { POLICIES_DIR, policyDir } from './policy-support.js';
import { accessToken, send, type TokenCtx, type TestGrant } from './security-matrix.js';
import { setupTokens } from './token-support.js';

/**
 * Issue 10, item 1: policy conditions were a side channel. A condition on the diagnosis made `datum` appear in a
 * simulation exactly when the condition held, so an officer read guardrail values character by character. Conditions
 * may now test only condition fields (categories, statuses, organisations, flags), inside their value space.
 */

const officer = (sub: string, org: string): TestGrant => ({ user: { sub, role: 'privacy-officer', org }, purpose: 'beleidsbeheer' });
const anna = officer('po-anna', 'WERKZAAK');
const bram = officer('po-bram', 'GM0281');
const json = async <T = any>(res: Response) => (await res.json()) as T;

/** A rule for a participatiecoach's handover with these conditions. */
const ruleWith = (subject: SubjectType, fields: string[], conditions: unknown) => ({
  role: 'participatiecoach',
  purpose: 'overdracht-kp4',
  action: 'read',
  subject,
  fields,
  conditions,
});

/** The attack of the review, verbatim: `datum` is released exactly when the diagnosis sorts after a prefix. */
const attack = (prefix: string) => ({ rules: [ruleWith('Belastbaarheidsonderzoek', ['datum'], { diagnose: { $gte: prefix } })] });

/** Conditions that would read a value they must not: guardrail fields, free text, identifiers, amounts, dates. */
const LEAKS: Array<{ kind: string; subject: SubjectType; fields: string[]; conditions: Record<string, unknown> }> = [
  { kind: 'guardrail: diagnosis', subject: 'Belastbaarheidsonderzoek', fields: ['datum'], conditions: { diagnose: { $gte: 'C' } } },
  { kind: 'guardrail: medication', subject: 'Belastbaarheidsonderzoek', fields: ['datum'], conditions: { medicatie: { $lt: 'S' } } },
  {
    kind: 'guardrail: medical narrative, presence',
    subject: 'Belastbaarheidsonderzoek',
    fields: ['datum'],
    conditions: { medischeToelichting: { $exists: true } },
  },
  { kind: 'guardrail: a fine’s reason', subject: 'Boete', fields: ['id'], conditions: { reden: { $gte: 'b' } } },
  { kind: 'free text: prognosis', subject: 'Belastbaarheidsonderzoek', fields: ['datum'], conditions: { prognose: { $gt: 'G' } } },
  { kind: 'free text: contact report', subject: 'Contactmoment', fields: ['id'], conditions: { categorie: 'overdracht', verslag: { $gte: 'A' } } },
  { kind: 'free text, dotted: street', subject: 'Persoon', fields: ['gemeente'], conditions: { 'adres.straat': { $gte: 'D' } } },
  { kind: 'free text, dotted: assessor name', subject: 'Belastbaarheidsonderzoek', fields: ['datum'], conditions: { 'uitvoerder.naam': { $lt: 'M' } } },
  {
    kind: 'free text, into a list: limitation',
    subject: 'Belastbaarheidsonderzoek',
    fields: ['datum'],
    conditions: { 'functioneleBeperkingen.omschrijving': { $gte: 'a' } },
  },
  { kind: 'free text: leefgebied explanation', subject: 'Leefgebied', fields: ['score'], conditions: { domein: 'werk', toelichting: { $gte: 'a' } } },
  { kind: 'identifier: BSN', subject: 'Client', fields: ['clientRef'], conditions: { bsn: { $gte: '1' } } },
  { kind: 'identifier: clientRef', subject: 'Client', fields: ['clientRef'], conditions: { clientRef: { $lt: 'WZR-2' } } },
  { kind: 'identifier: item id', subject: 'Belastbaarheidsonderzoek', fields: ['datum'], conditions: { id: { $gte: 'B' } } },
  { kind: 'identifier: the grounding handover’s id', subject: 'Persoon', fields: ['gemeente'], conditions: { 'context.overdracht.id': { $gte: 'O' } } },
  {
    kind: 'free text in context: handover explanation',
    subject: 'Persoon',
    fields: ['gemeente'],
    conditions: { 'context.overdracht.toelichting': { $gte: 'a' } },
  },
  { kind: 'amount: fine', subject: 'Boete', fields: ['id'], conditions: { status: 'overwogen', bedrag: { $gt: 100 } } },
  { kind: 'amount: benefit', subject: 'Uitkering', fields: ['regeling'], conditions: { nettoBedragMaand: { $lt: 1000 } } },
  { kind: 'date: birth date', subject: 'Persoon', fields: ['gemeente'], conditions: { geboortedatum: { $lt: '1980-01-01' } } },
  { kind: 'date: assessment', subject: 'Belastbaarheidsonderzoek', fields: ['id'], conditions: { datum: { $gte: '2026-01-01' } } },
  { kind: 'hours and findings', subject: 'Belastbaarheidsonderzoek', fields: ['datum'], conditions: { urenPerDag: { $gte: 4 }, arbeidsvermogen: 'beperkt' } },
];

/** The condition keys of a leak case, as problem paths under `prefix` and rule index `i`. */
const leakPaths = (prefix: string, i: number, conditions: Record<string, unknown>) =>
  Object.keys(conditions)
    .filter((k) => !['categorie', 'status', 'domein'].includes(k))
    .map((k) => `${prefix}rules[${i}].conditions.${k}`);

const problemPaths = (problems: Problem[]) => problems.map((p) => p.path);

describe('the bit-by-bit simulation attack', () => {
  it('is refused: an inline rule conditioned on the diagnosis is 422 with the path of the condition, audited, nothing released', async () => {
    const ctx = await setupTokens();
    // A Tiel officer, a West Betuwe client: the review's exact request.
    const body = { policy: attack('Chr'), role: 'participatiecoach', org: 'GM1960', purpose: 'overdracht-kp4', clientRef: 'WZR-100001' };
    const res = await send(ctx, { method: 'POST', path: '/v1/policies/simulate', body }, await accessToken(ctx, bram));
    expect(res.status).toBe(422);
    const problem = await json(res);
    expect(problem.code).toBe('POLICY_INVALID');
    expect(problem.released).toBeUndefined();
    expect(problem.problems).toEqual([
      { path: 'policy: rules[0].conditions.diagnose', message: expect.stringContaining("'diagnose' is not a condition field") },
    ]);
    expect(JSON.stringify(problem)).not.toContain('Chr');
    expect(ctx.lastAudit()).toMatchObject({ action: 'policy.simulated', outcome: 'deny', reason: 'POLICY_INVALID', httpStatus: 422 });
    expect(ctx.lastAudit()!.released).toBeUndefined();
  });

  it('gives a Werkzaak officer, who may simulate every client, no more: the same 422 for every prefix', async () => {
    const ctx = await setupTokens();
    const token = await accessToken(ctx, anna);
    const answers = new Set<string>();
    for (const prefix of ['A', 'C', 'Chronische', 'Z']) {
      const body = { policy: attack(prefix), role: 'participatiecoach', org: 'GM1960', purpose: 'overdracht-kp4', clientRef: 'WZR-100001' };
      const res = await send(ctx, { method: 'POST', path: '/v1/policies/simulate', body }, token);
      expect(res.status).toBe(422);
      const { requestId: _, ...rest } = await json(res);
      answers.add(JSON.stringify(rest));
    }
    expect(answers.size).toBe(1);
  });
});

describe('conditions on fields that are not condition fields', () => {
  it.each(LEAKS)('are refused in an inline simulated document: $kind', async ({ subject, fields, conditions }) => {
    const ctx = await setupTokens();
    const body = {
      policy: { rules: [ruleWith(subject, fields, conditions)] },
      role: 'participatiecoach',
      org: 'GM1960',
      purpose: 'overdracht-kp4',
      clientRef: 'WZR-100001',
    };
    const res = await send(ctx, { method: 'POST', path: '/v1/policies/simulate', body }, await accessToken(ctx, anna));
    expect(res.status).toBe(422);
    const problem = await json(res);
    expect(problem.code).toBe('POLICY_INVALID');
    expect(problemPaths(problem.problems)).toEqual(expect.arrayContaining(leakPaths('policy: ', 0, conditions)));
  });

  it('are refused in a proposed draft (POST /v1/policies): 422 with every path, nothing stored', async () => {
    const ctx = await setupTokens();
    const base = ctx.policies.set.document.rules;
    const document = { rules: [...base, ...LEAKS.map(({ subject, fields, conditions }) => ruleWith(subject, fields, conditions))] };
    const res = await send(ctx, { method: 'POST', path: '/v1/policies', body: document }, await accessToken(ctx, bram));
    expect(res.status).toBe(422);
    const problem = await json(res);
    expect(problem.code).toBe('POLICY_INVALID');
    const paths = problemPaths(problem.problems);
    LEAKS.forEach(({ conditions }, i) => expect(paths).toEqual(expect.arrayContaining(leakPaths('', base.length + i, conditions))));
    expect(ctx.policies.versions.list()).toHaveLength(1);
    expect(ctx.lastAudit()).toMatchObject({ action: 'policy.proposed', outcome: 'deny', reason: 'POLICY_INVALID', httpStatus: 422 });
  });

  it('are refused in policy files: `doelpoort policy check` lists each with its file and path, and the load at start refuses the set', () => {
    const rules = LEAKS.map(({ subject, fields, conditions }) => ruleWith(subject, fields, conditions));
    const dir = policyDir({ 'lek.json': JSON.stringify({ rules }) });
    const out = runCli('policy', 'check', dir);
    expect(out.status).toBe(1);
    const lines = out.stderr.trim().split('\n');
    LEAKS.forEach(({ conditions }, i) => {
      for (const p of leakPaths('lek.json: ', i, conditions)) expect(lines.some((l) => l.startsWith(`${p}: `))).toBe(true);
    });
    expect(out.stderr).not.toMatch(/internal error/);
    expect(() => loadPolicyDirectory(dir)).toThrow(DoelpoortError);
  });

  it('are refused in a YAML policy file too', () => {
    const dir = policyDir({
      'lek.yaml': [
        'rules:',
        '  - role: participatiecoach',
        '    purpose: overdracht-kp4',
        '    action: read',
        '    subject: Belastbaarheidsonderzoek',
        '    fields: [datum]',
        '    conditions:',
        '      diagnose: { $gte: C }',
        '      context.overdracht.clientGeinformeerd: true',
      ].join('\n'),
    });
    const checked = checkPolicyDirectory(dir);
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.problems).toEqual([{ path: 'lek.yaml: rules[0].conditions.diagnose', message: expect.stringContaining('not a condition field') }]);
  });
});

describe('condition values stay inside the field’s value space', () => {
  const problemsOf = (conditions: unknown, subject: SubjectType = 'Overdracht', fields = ['id']) => {
    const checked = checkPolicyDocument({ rules: [ruleWith(subject, fields, conditions)] });
    return checked.ok ? [] : checked.problems;
  };

  it('accepts categories, statuses, organisations and flags with their own values, and the placeholder on organisations', () => {
    expect(
      problemsOf({ richting: 'KP3-KP4', status: { $in: ['aangevraagd', 'afgerond'] }, naarOrganisatie: '${requester.org}', bezwaarTegenDelen: false }),
    ).toEqual([]);
    expect(problemsOf({ vanOrganisatie: { $ne: 'WERKZAAK' }, driegesprekGewenst: { $exists: true }, richting: { $gte: 'KP3-KP4' } })).toEqual([]);
    expect(problemsOf({ 'context.overdracht': { $ne: null }, 'context.overdracht.status': 'aangevraagd' })).toEqual([]);
  });

  it('refuses a value outside the field’s values, naming the values but never echoing the one given', () => {
    const problems = problemsOf({ richting: { $gte: 'KP3-' }, status: 'geheim', clientGeinformeerd: 'ja', naarOrganisatie: 'Tiel' });
    expect(problemPaths(problems)).toEqual([
      'rules[0].conditions.richting.$gte',
      'rules[0].conditions.status',
      'rules[0].conditions.clientGeinformeerd',
      'rules[0].conditions.naarOrganisatie',
    ]);
    expect(problems[0]!.message).toBe('must be one of KP3-KP4, KP4-KP3');
    expect(JSON.stringify(problems)).not.toMatch(/KP3-"|geheim|"ja"|Tiel/);
  });

  it('refuses the placeholder on a field that is not an organisation', () => {
    expect(problemPaths(problemsOf({ richting: '${requester.org}' }))).toEqual(['rules[0].conditions.richting']);
  });

  it('allows only a presence test on the grounding handover itself', () => {
    expect(problemsOf({ 'context.overdracht': null })).toEqual([]);
    expect(problemsOf({ 'context.overdracht': { $exists: false } })).toEqual([]);
    expect(problemPaths(problemsOf({ 'context.overdracht': { $gte: 'O' } }))).toEqual(['rules[0].conditions.context.overdracht.$gte']);
    expect(problemPaths(problemsOf({ 'context.overdracht': 'x' }))).toEqual(['rules[0].conditions.context.overdracht']);
  });

  it('refuses nested objects, lists and operators that could reach into a value', () => {
    expect(problemPaths(problemsOf({ richting: { $eq: { $gte: 'K' } } }))).toEqual(['rules[0].conditions.richting.$eq']);
    expect(problemPaths(problemsOf({ richting: ['KP3-KP4'] }))).toEqual(['rules[0].conditions.richting']);
    expect(problemPaths(problemsOf({ richting: { $in: [{ $gte: 'K' }] } }))).toEqual(['rules[0].conditions.richting.$in[0]']);
    expect(problemPaths(problemsOf({ toelichting: { $elemMatch: { $gte: 'a' } } }))).toEqual(['rules[0].conditions.toelichting']);
    expect(problemPaths(problemsOf({ richting: { $regex: '^KP3' } }))).toEqual(['rules[0].conditions.richting.$regex']);
    expect(problemPaths(problemsOf({ context: { overdracht: { toelichting: 'x' } } }, 'Persoon', ['gemeente']))).toEqual(['rules[0].conditions.context']);
  });
});

describe('the declared condition fields', () => {
  it('are fields of their subject, never a guardrail field, and only categories, statuses, organisations and flags', () => {
    for (const subject of Object.keys(SUBJECTS) as SubjectType[]) {
      for (const [field, kind] of Object.entries(CONDITION_FIELDS[subject])) {
        expect(fieldsOf(subject)).toContain(field);
        expect(guardrailFor(subject, { domein: 'werk' }, field)).toBeNull();
        expect(['categorie', 'status', 'organisatie', 'vlag']).toContain(kind);
      }
    }
    expect(Object.keys(CONDITION_FIELDS.Belastbaarheidsonderzoek)).toEqual([]);
    expect(Object.keys(CONDITION_FIELDS.Fraudeonderzoek)).toEqual([]);
    expect(Object.keys(CONDITION_FIELDS.Client)).toEqual([]);
    for (const f of MEDISCHE_KERN) expect(Object.keys(CONDITION_FIELDS.Belastbaarheidsonderzoek)).not.toContain(f);
    expect(Object.keys(CONTEXT_FIELDS)).not.toContain('context.overdracht.id');
  });

  it('cover every condition of the default policies, which keep loading', () => {
    const set = loadPolicyDirectory(POLICIES_DIR);
    const used = new Set(set.rules.flatMap((r) => Object.keys(r.conditions ?? {}).map((k) => `${r.subject}.${k}`)));
    expect([...used].sort()).toEqual([
      'Belastbaarheidsonderzoek.context.overdracht.bezwaarTegenDelen',
      'Belastbaarheidsonderzoek.context.overdracht.clientGeinformeerd',
      'Boete.status',
      'Contactmoment.categorie',
      'Leefgebied.domein',
      'Overdracht.naarOrganisatie',
      'Overdracht.richting',
      'Schuldhulptraject.gemeente',
    ]);
  });
});

describe('prototype keys (__proto__, constructor, prototype)', () => {
  /** Sends a raw JSON text, as an attacker would: JSON.parse makes `__proto__` an own key, which zod's record drops. */
  async function rawPost(ctx: TokenCtx, path: string, text: string) {
    const token = await accessToken(ctx, anna);
    return ctx.app.request(path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: text });
  }
  const rule = (conditions: string) =>
    `{"role":"participatiecoach","purpose":"overdracht-kp4","action":"read","subject":"Belastbaarheidsonderzoek","fields":["datum"],"conditions":${conditions}}`;

  it('in a simulated inline document: 422 with the path, never an unconditional rule', async () => {
    const ctx = await setupTokens();
    const cases: Array<[string, string]> = [
      [rule('{"__proto__":{"diagnose":{"$gte":"C"}}}'), 'policy: rules[0].conditions.__proto__'],
      [rule('{"constructor":{"$gte":"C"}}'), 'policy: rules[0].conditions.constructor'],
      [
        rule('{"context.overdracht.clientGeinformeerd":{"__proto__":{"$gte":"C"}}}'),
        'policy: rules[0].conditions.context.overdracht.clientGeinformeerd.__proto__',
      ],
      [
        rule('{"context.overdracht.clientGeinformeerd":{"$in":[{"prototype":1}]}}'),
        'policy: rules[0].conditions.context.overdracht.clientGeinformeerd.$in[0].prototype',
      ],
      [`{"__proto__":{"fields":["diagnose"]},${rule('{}').slice(1)}`, 'policy: rules[0].__proto__'],
    ];
    for (const [ruleText, path] of cases) {
      const body = `{"policy":{"rules":[${ruleText}]},"role":"participatiecoach","org":"GM1960","purpose":"overdracht-kp4","clientRef":"WZR-100001"}`;
      const res = await rawPost(ctx, '/v1/policies/simulate', body);
      expect(res.status, path).toBe(422);
      const problem = await json(res);
      expect(problem.code).toBe('POLICY_INVALID');
      expect(problemPaths(problem.problems), path).toContain(path);
    }
    const topLevel = `{"policy":{"rules":[],"__proto__":{"rules":[]}},"role":"participatiecoach","org":"GM1960","purpose":"overdracht-kp4","clientRef":"WZR-100001"}`;
    const res = await rawPost(ctx, '/v1/policies/simulate', topLevel);
    expect(res.status).toBe(422);
    expect((await json(res)).problems).toEqual([{ path: 'policy: __proto__', message: "'__proto__' is not allowed as a key" }]);
  });

  it('in a proposed draft: 422 with the path, nothing stored', async () => {
    const ctx = await setupTokens();
    const res = await rawPost(ctx, '/v1/policies', `{"rules":[${rule('{"__proto__":{"$gte":"C"}}')}]}`);
    expect(res.status).toBe(422);
    expect(problemPaths((await json(res)).problems)).toEqual(['rules[0].conditions.__proto__']);
    expect(ctx.policies.versions.list()).toHaveLength(1);
  });

  it('in YAML and JSON policy files', () => {
    const dir = policyDir({
      'a.yaml': [
        'rules:',
        '  - role: participatiecoach',
        '    purpose: overdracht-kp4',
        '    action: read',
        '    subject: Belastbaarheidsonderzoek',
        '    fields: [datum]',
        '    conditions:',
        '      __proto__: { diagnose: { $gte: C } }',
        '  - { role: werkcoach, purpose: overdracht-kp3, action: read, subject: Persoon, fields: [gemeente], conditions: { gemeente: { constructor: 1 } } }',
      ].join('\n'),
      'b.json': `{"rules":[${rule('{"prototype":true}')}]}`,
    });
    const out = runCli('policy', 'check', dir);
    expect(out.status).toBe(1);
    const lines = out.stderr.trim().split('\n');
    expect(lines).toContain("a.yaml: rules[0].conditions.__proto__: '__proto__' is not allowed as a key");
    expect(lines).toContain("a.yaml: rules[1].conditions.gemeente.constructor: 'constructor' is not allowed as a key");
    expect(lines).toContain("b.json: rules[0].conditions.prototype: 'prototype' is not allowed as a key");
  });
});

describe('a YAML alias bomb in a policy file', () => {
  /** "Billion laughs": nine levels of nine aliases each, 9^9 strings once expanded. */
  const bomb = () => {
    const lines = ['lol: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
    for (let i = 1; i <= 8; i++) {
      const name = String.fromCharCode(97 + i);
      const prev = String.fromCharCode(96 + i);
      lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    return `${lines.join('\n')}\nrules: []\n`;
  };

  it('ends `doelpoort policy check` with a problem line naming the file, quickly', () => {
    const dir = policyDir({ 'bomb.yaml': bomb() });
    const started = Date.now();
    const out = runCli('policy', 'check', dir);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(out.status).toBe(1);
    const lines = out.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^bomb\.yaml: YAML aliases expand too far/);
    expect(out.stderr).not.toMatch(/internal error/);
  });

  it('stops the load at start with the same problem, not an internal error', () => {
    const dir = policyDir({ 'bomb.yaml': bomb() });
    let error: unknown;
    try {
      loadPolicyDirectory(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DoelpoortError);
    expect((error as DoelpoortError).code).toBe('POLICY_INVALID');
    expect((error as DoelpoortError).problems).toEqual([{ path: 'bomb.yaml', message: expect.stringMatching(/^YAML aliases expand too far/) }]);
  });
});

const bin = path.join(import.meta.dirname, '..', 'bin', 'doelpoort.js');
function runCli(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, DOELPOORT_POLICIES_DIR: POLICIES_DIR }, timeout: 30_000 });
}
