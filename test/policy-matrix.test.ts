import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPolicyDirectory } from '../src/policy/load.js';
import { conditionText, NOT_GRANTED, policyDiff, policyMatrix } from '../src/policy/matrix.js';
import { REASON_MEDISCH } from '../src/policy/guardrails.js';
import type { PolicyDocument } from '../src/policy/document.js';

/**
 * The policy matrix and difference the console shows, against the documents themselves: the default policy, and
 * drafts that change it in known ways.
 */

const active = loadPolicyDirectory(path.resolve('policies')).document;
const field = (doc: PolicyDocument, role: string, purpose: string, subject: string, name: string) =>
  policyMatrix(doc)
    .find((g) => g.role === role && g.purpose === purpose)
    ?.sections.find((s) => s.subject === subject)
    ?.fields.find((f) => f.field === name);
const withRule = (rule: Record<string, unknown>): PolicyDocument => ({ rules: [...active.rules, rule as PolicyDocument['rules'][number]] });

describe('the matrix of the default policy', () => {
  it('reads each field as the rules say: released, conditional, withheld with the rule’s reason, guardrails withheld', () => {
    expect(field(active, 'participatiecoach', 'overdracht-kp4', 'Client', 'clientRef')).toMatchObject({ status: 'released' });
    expect(field(active, 'participatiecoach', 'overdracht-kp4', 'Client', 'bsn')).toMatchObject({
      status: 'withheld',
      reason: 'het BSN is alleen een zoeksleutel en wordt niet verstrekt',
    });
    expect(field(active, 'participatiecoach', 'overdracht-kp4', 'Belastbaarheidsonderzoek', 'arbeidsvermogen')).toMatchObject({
      status: 'conditional',
      conditions: expect.arrayContaining([
        'clientGeinformeerd van de onderliggende overdracht is ja',
        'bezwaarTegenDelen van de onderliggende overdracht is nee',
      ]),
    });
    expect(field(active, 'participatiecoach', 'overdracht-kp4', 'Belastbaarheidsonderzoek', 'diagnose')).toEqual({
      field: 'diagnose',
      status: 'withheld',
      reason: REASON_MEDISCH,
    });
    expect(field(active, 'participatiecoach', 'overdracht-kp4', 'Uitkering', 'nettoBedragMaand')).toMatchObject({ status: 'withheld', reason: NOT_GRANTED });
  });

  it('names the rule that decides a field: the last one naming it', () => {
    const f = field(active, 'participatiecoach', 'overdracht-kp4', 'Client', 'bsn');
    expect(f && 'rule' in f ? active.rules[f.rule!] : undefined).toMatchObject({ subject: 'Client', inverted: true, fields: ['bsn'] });
  });

  it('says conditions in plain Dutch', () => {
    expect(conditionText({ naarOrganisatie: '${requester.org}', richting: 'KP3-KP4' })).toEqual([
      'naarOrganisatie is de eigen organisatie van de aanvrager',
      'richting is ‘KP3-KP4’',
    ]);
    expect(conditionText({ status: { $in: ['aangevraagd', 'afgerond'] }, 'context.overdracht': { $exists: true } })).toEqual([
      'status is een van ‘aangevraagd’, ‘afgerond’',
      'de onderliggende overdracht is aanwezig',
    ]);
  });
});

describe('the difference of a draft against the active version', () => {
  it('is empty for the same document', () => {
    expect(policyDiff(active, active)).toEqual([]);
  });

  it('lists a newly released field, and only it', () => {
    const draft = withRule({ role: 'werkcoach', purpose: 'overdracht-kp3', action: 'read', subject: 'Uitkering', fields: ['betaaldag'] });
    expect(policyDiff(active, draft)).toEqual([
      expect.objectContaining({ role: 'werkcoach', purpose: 'overdracht-kp3', subject: 'Uitkering', field: 'betaaldag', change: 'newly-released' }),
    ]);
  });

  it('lists newly withheld fields with the new rule’s reason', () => {
    const draft = withRule({
      role: 'participatiecoach',
      purpose: 'overdracht-kp4',
      action: 'read',
      subject: 'Persoon',
      fields: ['telefoon', 'email'],
      inverted: true,
      reason: 'alleen via de werkcoach',
    });
    const changes = policyDiff(active, draft);
    expect(changes.map((c) => [c.field, c.change])).toEqual([
      ['telefoon', 'newly-withheld'],
      ['email', 'newly-withheld'],
    ]);
    expect(changes[0]!.after).toMatchObject({ status: 'withheld', reason: 'alleen via de werkcoach' });
  });

  it('lists a field released under other conditions', () => {
    const draft = withRule({
      role: 'participatiecoach',
      purpose: 'overdracht-kp4',
      action: 'read',
      subject: 'Klantprofiel',
      fields: ['profiel'],
      conditions: { profiel: 'KP4' },
    });
    expect(policyDiff(active, draft)).toEqual([expect.objectContaining({ subject: 'Klantprofiel', field: 'profiel', change: 'conditions-changed' })]);
  });

  it('a new role and purpose: every field it grants is newly released', () => {
    const draft = withRule({ role: 'schuldhulpverlener', purpose: 'schuldhulpverlening', action: 'read', subject: 'Contactmoment', fields: ['datum'] });
    const changes = policyDiff(active, draft);
    expect(changes.filter((c) => c.change === 'newly-released').map((c) => c.field)).toContain('datum');
    expect(changes.every((c) => c.change === 'newly-released' && c.subject === 'Contactmoment')).toBe(true);
  });
});
