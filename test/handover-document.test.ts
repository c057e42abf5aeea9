import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { handoverDocument, SIGNAAL_BOETE_OVERWOGEN, SIGNAAL_DRIEGESPREK, type ReleasedRecord } from '../src/overdracht/handover-document.js';
import type { SuiteRecord } from '../src/records/suite-record.js';
import { EXAMPLE_EXPORT_FILE } from '../src/demo.js';
import { handoverPageHtml } from '../src/web/pages/handover.js';

const anna = JSON.parse(fs.readFileSync(EXAMPLE_EXPORT_FILE, 'utf8').split('\n')[0]!) as SuiteRecord;

/** What a coach's decision would release of Anna: no medical core, a fine only as a signal. */
function released(): ReleasedRecord {
  const { diagnose: _d, behandeling: _b, medicatie: _m, medischeToelichting: _t, ...findings } = anna.belastbaarheidsonderzoeken![0]!;
  return {
    persoon: anna.persoon,
    overdrachten: anna.overdrachten,
    belastbaarheidsonderzoeken: [findings],
    boetes: [{ status: 'overwogen', datum: '2026-11-18' }],
    leefgebieden: [{ domein: 'gezondheid', score: 1 }],
  };
}

describe('handoverDocument', () => {
  it('keeps only the released record and restates released facts as signals', () => {
    const doc = handoverDocument({ clientRef: anna.clientRef, purpose: 'overdracht-kp4', record: released(), withheld: [] });
    expect(doc.richting).toBe('KP3-KP4');
    expect(doc.overdracht?.id).toBe('OV-1');
    expect(doc.signalen).toEqual([SIGNAAL_BOETE_OVERWOGEN, SIGNAAL_DRIEGESPREK]);
    expect(JSON.stringify(doc)).not.toContain('Sertraline');
  });

  it('gives no signals when nothing released calls for one', () => {
    const doc = handoverDocument({ clientRef: anna.clientRef, purpose: 'overdracht-kp3', record: { persoon: anna.persoon }, withheld: [] });
    expect(doc.richting).toBe('KP4-KP3');
    expect(doc.overdracht).toBeUndefined();
    expect(doc.signalen).toEqual([]);
  });
});

describe('handoverPageHtml', () => {
  const render = (record: ReleasedRecord) =>
    handoverPageHtml(
      {
        document: handoverDocument({
          clientRef: anna.clientRef,
          purpose: 'overdracht-kp4',
          record,
          withheld: [{ field: 'belastbaarheidsonderzoeken[0].diagnose', reason: 'Medische kerngegevens worden nooit gedeeld.' }],
        }),
        decision: { id: 'd-1', policyVersion: 'v-test' },
        generatedAt: Date.parse('2026-11-23T10:00:00Z'),
      },
      'test-nonce',
    );

  it('renders Dutch labels and words for the codes, FML limitations by rubriek, and what was withheld and why', async () => {
    const page = await render(released());
    expect(page).toMatch(/^<!doctype html><html lang="nl">/);
    expect(page).toContain('Overdracht KP3 naar KP4');
    expect(page).toContain('I. Persoonlijk functioneren');
    expect(page).toContain('VI. Werktijden');
    expect(page).toContain('geen arbeidsvermogen');
    expect(page).toContain('onderzoek door een zorgprofessional');
    expect(page).toContain('Werkzaak Rivierenland');
    expect(page).toContain('West Betuwe');
    expect(page).not.toContain('GM1960');
    expect(page).toContain('Niet gedeeld');
    expect(page).toContain('diagnose van het onderzoek van 24 september 2026');
    expect(page).toContain('Reden: Medische kerngegevens worden nooit gedeeld.');
    expect(page).toContain(SIGNAAL_BOETE_OVERWOGEN);
    expect(page).toContain('12 april 1968');
    expect(page).toContain('nonce="test-nonce"');
    expect(page).not.toContain('Sertraline');
  });

  it('escapes every value it prints', async () => {
    const record = released();
    record.overdrachten = [{ ...anna.overdrachten![0]!, toelichting: '<script>alert(1)</script>' }];
    const page = await render(record);
    expect(page).not.toContain('<script>');
    expect(page).toContain('&lt;script&gt;');
  });

  it('leaves out sections that were not released', async () => {
    const page = await render({ persoon: anna.persoon });
    expect(page).not.toContain('>Belastbaarheid</h2>');
    expect(page).not.toContain('>Overdracht</h2>');
    expect(page).toContain('>Cliënt</h2>');
  });
});
