import { describe, expect, it } from 'vitest';
import { decide, REASON_DEFAULT, type Decision } from '../src/policy/decide.js';
import { REASON_MEDISCH, MEDISCHE_KERN } from '../src/policy/guardrails.js';
import { loadPolicyDirectory } from '../src/policy/load.js';
import { policySetFromDocument } from '../src/policy/compile.js';
import { release } from '../src/policy/release.js';
import { PURPOSES, PURPOSE_NAMES, ROLES, relationship, type Purpose, type Role } from '../src/purposes.js';
import { RIVIERENLAND, generateSuiteExport } from '../src/records/generate.js';
import type { SuiteRecord } from '../src/records/suite-record.js';
import { POLICIES_DIR } from './policy-support.js';
import { TODAY } from './support.js';

const set = loadPolicyDirectory(POLICIES_DIR);
const records = [...generateSuiteExport({ clients: 300, seed: 7, today: TODAY })];
const ORGS = ['WERKZAAK', ...RIVIERENLAND.map((g) => g.code)];

/** `belastbaarheidsonderzoeken[2].uitvoerder.discipline` → `belastbaarheidsonderzoeken[].uitvoerder.discipline`. */
const shape = (p: string) => p.replace(/\[\d+\]/g, '[]');

const PERSOON = [
  'voornamen',
  'achternaam',
  'geboortedatum',
  'adres.straat',
  'adres.huisnummer',
  'adres.postcode',
  'adres.woonplaats',
  'gemeente',
  'telefoon',
  'email',
].map((f) => `persoon.${f}`);
const BEVINDINGEN = [
  'id',
  'datum',
  'uitvoerder.discipline',
  'arbeidsvermogen',
  'urenPerDag',
  'urenPerWeek',
  'functioneleBeperkingen',
  'prognose',
  'advies',
].map((f) => `belastbaarheidsonderzoeken[].${f}`);
const OVERDRACHT = [
  'id',
  'richting',
  'status',
  'datum',
  'vanOrganisatie',
  'naarOrganisatie',
  'onderbouwing',
  'clientGeinformeerd',
  'bezwaarTegenDelen',
  'driegesprekGewenst',
  'toelichting',
].map((f) => `overdrachten[].${f}`);
const COACH_MATRIX = new Set([
  'clientRef',
  ...PERSOON,
  'uitkering.regeling',
  'uitkering.ingangsdatum',
  ...['profiel', 'vanaf', 'tot'].map((f) => `klantprofielen[].${f}`),
  ...['id', 'soort', 'vanaf', 'tot', 'reden'].map((f) => `ontheffingen[].${f}`),
  ...BEVINDINGEN,
  ...OVERDRACHT,
  ...['domein', 'score', 'toelichting'].map((f) => `leefgebieden[].${f}`),
  ...['id', 'status', 'datum'].map((f) => `boetes[].${f}`),
  ...['id', 'datum', 'categorie', 'verslag'].map((f) => `contactmomenten[].${f}`),
]);
const WERKCOACH_MATRIX = new Set([...COACH_MATRIX].filter((f) => !f.startsWith('boetes')));
const SCHULDHULP_MATRIX = new Set([
  'clientRef',
  ...PERSOON,
  ...['regeling', 'ingangsdatum', 'nettoBedragMaand', 'betaaldag', 'beslagvrijeVoet'].map((f) => `uitkering.${f}`),
  ...['id', 'soort', 'bedragMaand', 'schuldeiser'].map((f) => `uitkering.inhoudingen[].${f}`),
  ...['domein', 'score', 'toelichting'].map((f) => `leefgebieden[].${f}`),
  ...['id', 'status', 'datum', 'bedrag', 'openstaand', 'betalingsregeling'].map((f) => `boetes[].${f}`),
  ...['id', 'gemeente', 'vanaf', 'tot'].map((f) => `schuldhulptrajecten[].${f}`),
]);

/** The requesters for whom the purpose's relationship with this record holds. */
function requestersOf(record: SuiteRecord): Array<{ role: Role; purpose: Purpose; org: string }> {
  const out: Array<{ role: Role; purpose: Purpose; org: string }> = [];
  for (const [role, purpose] of [
    ['participatiecoach', 'overdracht-kp4'],
    ['participatiecoach', 'begeleiding-kp4'],
    ['werkcoach', 'overdracht-kp3'],
    ['schuldhulpverlener', 'schuldhulpverlening'],
  ] as const) {
    for (const org of ORGS) if (relationship(purpose, { org }, record, TODAY).holds) out.push({ role, purpose, org });
  }
  return out;
}

/** The handover the purpose rests on, as the test reads domain.md (independent of src/policy/context.ts). */
function handoverOf(record: SuiteRecord, purpose: Purpose, org: string) {
  const os = (record.overdrachten ?? []).filter((o) => o.naarOrganisatie === org);
  if (purpose === 'overdracht-kp3') return os.find((o) => o.richting === 'KP4-KP3' && o.status === 'aangevraagd');
  const kp4 = os.filter((o) => o.richting === 'KP3-KP4' && o.status !== 'afgewezen').sort((a, b) => (a.datum < b.datum ? 1 : -1));
  return kp4[0];
}

function checkCommon(d: Decision, record: SuiteRecord) {
  const view = JSON.stringify(d.view);
  expect(d.view.bsn).toBeUndefined();
  expect(view).not.toContain(record.bsn);
  expect(d.withheld).toContainEqual(expect.objectContaining({ field: 'bsn' }));
  expect(d.view.fraudeonderzoeken).toBeUndefined();
  expect(d.withheld.some((w) => w.field.startsWith('fraudeonderzoeken'))).toBe(false);
  expect(d.released.some((r) => r.startsWith('fraudeonderzoeken'))).toBe(false);
  expect(d.view.leefgebieden?.some((l) => l.domein === 'justitie')).not.toBe(true);
  expect(d.policyVersion).toBe(set.version);
  expect(d.allowed).toBe(true);
}

describe(decide.name, () => {
  const cases = records.flatMap((record) => requestersOf(record).map((r) => ({ record, ...r })));

  it('finds every purpose in the generated records', () => {
    expect(new Set(cases.map((c) => c.purpose))).toEqual(new Set(['overdracht-kp4', 'begeleiding-kp4', 'overdracht-kp3', 'schuldhulpverlening']));
  });

  it('releases to a participatiecoach what the matrix allows, findings only with an informed client who did not object', () => {
    let withFindings = 0;
    let withoutFindings = 0;
    for (const { record, role, purpose, org } of cases.filter((c) => c.role === 'participatiecoach')) {
      const d = decide(set, { role, purpose, org }, record, { today: TODAY });
      checkCommon(d, record);
      for (const r of d.released) expect(COACH_MATRIX, r).toContain(shape(r));
      const handover = handoverOf(record, purpose, org);
      const findings = !!handover && handover.clientGeinformeerd && !handover.bezwaarTegenDelen && (record.belastbaarheidsonderzoeken?.length ?? 0) > 0;
      if (findings) {
        withFindings++;
        expect(d.view.belastbaarheidsonderzoeken).toHaveLength(record.belastbaarheidsonderzoeken!.length);
        for (const field of MEDISCHE_KERN) expect(d.withheld).toContainEqual({ field: `belastbaarheidsonderzoeken[0].${field}`, reason: REASON_MEDISCH });
        expect(d.view.belastbaarheidsonderzoeken![0]!.arbeidsvermogen).toBe(record.belastbaarheidsonderzoeken![0]!.arbeidsvermogen);
        expect(d.view.belastbaarheidsonderzoeken![0]!.uitvoerder).toEqual({ discipline: record.belastbaarheidsonderzoeken![0]!.uitvoerder.discipline });
      } else {
        withoutFindings++;
        expect(d.view.belastbaarheidsonderzoeken).toBeUndefined();
        expect(d.withheld.some((w) => w.field.startsWith('belastbaarheidsonderzoeken'))).toBe(false);
      }
      for (const o of d.view.overdrachten ?? []) expect(o).toMatchObject({ naarOrganisatie: org, richting: 'KP3-KP4' });
      for (const c of d.view.contactmomenten ?? []) expect(c.categorie).toBe('overdracht');
      for (const b of d.view.boetes ?? []) expect(Object.keys(b).sort()).toEqual(['datum', 'id', 'status']);
      for (const b of d.view.boetes ?? []) expect(b.status).toBe('overwogen');
      for (const l of d.view.leefgebieden ?? []) if (l.domein === 'gezondheid') expect(Object.keys(l).sort()).toEqual(['domein', 'score']);
      expect(d.view.uitkering?.nettoBedragMaand).toBeUndefined();
      expect(d.withheld).toContainEqual({ field: 'uitkering.nettoBedragMaand', reason: REASON_DEFAULT });
    }
    expect(withFindings).toBeGreaterThan(10);
    expect(withoutFindings).toBeGreaterThan(3);
  });

  it('rests on the relationship the caller checked, instead of computing it a second time', () => {
    const withFindings = cases.find(
      (c) => c.purpose === 'overdracht-kp4' && decide(set, c, c.record, { today: TODAY }).view.belastbaarheidsonderzoeken !== undefined,
    )!;
    const requester = { role: withFindings.role, org: withFindings.org, purpose: withFindings.purpose };
    const checked = relationship(requester.purpose, requester, withFindings.record, TODAY);
    expect(decide(set, requester, withFindings.record, { today: TODAY, relationship: checked })).toEqual(
      decide(set, requester, withFindings.record, { today: TODAY }),
    );
    // Given a relationship that does not hold, no handover grounds the purpose, so the findings conditioned on it go.
    const d = decide(set, requester, withFindings.record, { today: TODAY, relationship: { holds: false, reason: 'HANDOVER_CLOSED' } });
    expect(d.view.belastbaarheidsonderzoeken).toBeUndefined();
  });

  it('gives a coach nothing of the assessment when the client objected', () => {
    const objected = cases.filter((c) => c.purpose === 'overdracht-kp4' && handoverOf(c.record, c.purpose, c.org)?.bezwaarTegenDelen);
    expect(objected.length).toBeGreaterThan(0);
    for (const { record, role, purpose, org } of objected) {
      const d = decide(set, { role, purpose, org }, record, { today: TODAY });
      expect(d.released.filter((r) => r.startsWith('belastbaarheidsonderzoeken'))).toEqual([]);
      expect(d.view.overdrachten?.[0]?.bezwaarTegenDelen).toBe(true);
    }
  });

  it('releases to a werkcoach the return file, without fines or income amounts', () => {
    const werk = cases.filter((c) => c.role === 'werkcoach');
    expect(werk.length).toBeGreaterThan(0);
    for (const { record, role, purpose, org } of werk) {
      const d = decide(set, { role, purpose, org }, record, { today: TODAY });
      checkCommon(d, record);
      for (const r of d.released) expect(WERKCOACH_MATRIX, r).toContain(shape(r));
      expect(d.view.overdrachten?.every((o) => o.richting === 'KP4-KP3' && o.naarOrganisatie === 'WERKZAAK')).toBe(true);
      expect(d.view.belastbaarheidsonderzoeken?.length).toBe(record.belastbaarheidsonderzoeken?.length);
    }
  });

  it('releases to a schuldhulpverlener the income side and imposed fines as a debt, nothing of health or guidance', () => {
    const shv = cases.filter((c) => c.role === 'schuldhulpverlener');
    expect(shv.length).toBeGreaterThan(0);
    for (const { record, role, purpose, org } of shv) {
      const d = decide(set, { role, purpose, org }, record, { today: TODAY });
      checkCommon(d, record);
      for (const r of d.released) expect(SCHULDHULP_MATRIX, r).toContain(shape(r));
      expect(d.view.uitkering?.nettoBedragMaand).toBe(record.uitkering?.nettoBedragMaand);
      expect(d.view.uitkering?.inhoudingen).toEqual(record.uitkering?.inhoudingen?.length ? record.uitkering.inhoudingen : undefined);
      for (const l of d.view.leefgebieden ?? []) expect(l.domein).toBe('huisvesting-financien');
      const opgelegd = (record.boetes ?? []).filter((b) => b.status === 'opgelegd');
      expect(d.view.boetes ?? []).toEqual(opgelegd.map(({ reden: _, ...b }) => b));
      for (const section of ['klantprofielen', 'ontheffingen', 'belastbaarheidsonderzoeken', 'overdrachten', 'contactmomenten'] as const) {
        expect(d.view[section]).toBeUndefined();
        expect(d.withheld.some((w) => w.field.startsWith(section))).toBe(false);
      }
    }
  });

  it('allows nothing for a role that cannot have the purpose, or a purpose without client data', () => {
    const record = records[0]!;
    for (const [role, purpose] of [
      ['werkcoach', 'overdracht-kp4'],
      ['privacy-officer', 'toezicht'],
      ['privacy-officer', 'beleidsbeheer'],
    ] as const) {
      const d = decide(set, { role, purpose, org: 'WERKZAAK' }, record, { today: TODAY });
      expect(d).toEqual({ allowed: false, released: [], withheld: [], matchedRules: [], policyVersion: set.version, view: {} });
    }
  });

  it('allows nothing under a policy without rules for the purpose', () => {
    const empty = policySetFromDocument({ rules: [] });
    const d = decide(empty, { role: 'participatiecoach', purpose: 'overdracht-kp4', org: 'GM1960' }, records[0]!, { today: TODAY });
    expect(d.allowed).toBe(false);
    expect(d.view).toEqual({});
  });

  it('numbers list items as in the view, so dropped items leave no gaps', () => {
    const record = records.find((r) => (r.contactmomenten ?? []).some((c, i) => i > 0 && c.categorie === 'regulier') && r.overdrachten?.length)!;
    const withRegulierFirst: SuiteRecord = { ...record, contactmomenten: [...record.contactmomenten!].reverse() };
    const r = requestersOf(withRegulierFirst).find((x) => x.role === 'participatiecoach')!;
    const d = decide(set, r, withRegulierFirst, { today: TODAY });
    expect(d.released).toContain('contactmomenten[0].verslag');
    expect(d.released.some((p) => p.startsWith('contactmomenten[1]'))).toBe(false);
  });

  it('does not change the record it decides on', () => {
    const record = records.find((r) => r.belastbaarheidsonderzoeken && r.overdrachten)!;
    const before = structuredClone(record);
    for (const r of requestersOf(record)) decide(set, r, record, { today: TODAY });
    expect(record).toEqual(before);
  });

  it('reuses the compiled ability per role, purpose and organisation', () => {
    const a = set.abilityFor('participatiecoach', 'overdracht-kp4', 'GM1960');
    expect(set.abilityFor('participatiecoach', 'overdracht-kp4', 'GM1960')).toBe(a);
    expect(set.abilityFor('participatiecoach', 'overdracht-kp4', 'GM0281')).not.toBe(a);
  });
});

describe('guardrails hold for every generated record, role, purpose and organisation', () => {
  const many = [...records, ...generateSuiteExport({ clients: 300, seed: 11, today: TODAY })];

  it('never puts a guardrail value into any view', () => {
    const leaks: string[] = [];
    let decisions = 0;
    const forbiddenPath = /(^|\.)(diagnose|behandeling|medicatie|medischeToelichting)$|^fraudeonderzoeken|^boetes\[\d+\]\.reden$/;
    for (const record of many) {
      const guarded = [
        ...(record.belastbaarheidsonderzoeken ?? []).flatMap((b) => MEDISCHE_KERN.map((f) => b[f])),
        ...(record.boetes ?? []).map((b) => b.reden),
        ...(record.fraudeonderzoeken ?? []).map((f) => f.omschrijving),
        ...(record.leefgebieden ?? []).filter((l) => l.domein === 'justitie').map((l) => l.toelichting),
      ]
        .filter((v): v is string => typeof v === 'string' && v.length > 0)
        .map((v) => JSON.stringify(v));
      for (const role of ROLES) {
        for (const purpose of PURPOSE_NAMES) {
          // Every organisation for the pairs that can release anything; the others once.
          const orgs = PURPOSES[purpose].roles.some((r) => r === role) ? [...ORGS, record.persoon.gemeente] : ['WERKZAAK'];
          for (const org of orgs) {
            const d = decide(set, { role, purpose, org }, record, { today: TODAY });
            decisions++;
            const json = JSON.stringify(d.view);
            const where = `${record.clientRef} ${role} ${purpose} ${org}`;
            for (const value of guarded) if (json.includes(value)) leaks.push(`${where}: a guardrail value`);
            for (const key of [...MEDISCHE_KERN, 'fraudeonderzoeken']) if (json.includes(`"${key}":`)) leaks.push(`${where}: key ${key}`);
            if (d.view.boetes?.some((b) => 'reden' in b)) leaks.push(`${where}: a fine's reason`);
            if (json.includes('"justitie"')) leaks.push(`${where}: justitie`);
            for (const p of d.released) if (forbiddenPath.test(p)) leaks.push(`${where}: released ${p}`);
            if (d.withheld.some((w) => w.field.startsWith('fraudeonderzoeken'))) leaks.push(`${where}: fraud listed as withheld`);
          }
        }
      }
    }
    expect(leaks).toEqual([]);
    expect(decisions).toBeGreaterThan(20_000);
  }, 120_000);

  it('strips guardrail fields in the release step whatever a view holds', () => {
    const base = records.find((r) => r.belastbaarheidsonderzoeken && r.leefgebieden)!;
    const record: SuiteRecord = {
      ...base,
      boetes: [{ id: 'BT-9', status: 'overwogen', datum: TODAY, bedrag: 100, openstaand: null, betalingsregeling: null, reden: 'Niet gemeld' }],
      fraudeonderzoeken: [{ id: 'FO-9', status: 'lopend', gestart: TODAY, omschrijving: 'Onderzoek' }],
    };
    const full = structuredClone(record);
    const out = release({ ...full, leefgebieden: [...(full.leefgebieden ?? []), { score: 3 }] });
    expect(out.fraudeonderzoeken).toBeUndefined();
    for (const b of out.belastbaarheidsonderzoeken ?? []) for (const f of MEDISCHE_KERN) expect(b[f]).toBeUndefined();
    for (const b of out.boetes ?? []) expect(b.reden).toBeUndefined();
    expect(out.leefgebieden?.length).toBe(record.leefgebieden!.length - 1);
    expect(out.leefgebieden!.filter((l) => l.domein === undefined || l.domein === 'justitie')).toEqual([]);
    expect(full).toEqual(record);
  });
});
