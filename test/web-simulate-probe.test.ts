import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { forEachDatabase } from './both-databases.js';
import { type BothWebServer, loginAs, startWebServer } from './web-support.js';

/**
 * The bit-by-bit guardrail attack replayed through the console's simulate page: an officer simulates hypothetical
 * records whose guarded fields (medical core data, fraud, fine reasons, justice) carry probe values, under the active
 * policy and under drafts written to get at them. Whatever is simulated, no probe value appears in the answer, and two
 * records that differ only in their guarded values get the same page (up to nonces and ids): the page carries no bit
 * of them. The drafts that would name a guarded field are refused before they can be simulated; the impact pages and
 * the audit log hold no probe value either.
 */

const OFFICER = 'demo-privacy-officer-werkzaak';

forEachDatabase((_, database) => {
  let web: BothWebServer;
  beforeAll(async () => {
    web = await startWebServer({ database });
  });
  afterAll(async () => {
    await web?.close();
  });

  /** A hypothetical record whose guarded fields hold `probe` (and guarded numbers and dates that differ per variant). */
  function probeRecord(probe: string, variant: 0 | 1): Record<string, unknown> {
    return {
      clientRef: 'WZR-999001',
      bsn: '999999990',
      persoon: {
        voornamen: 'Proef',
        achternaam: 'Persoon',
        geboortedatum: '1970-01-01',
        adres: { straat: 'Proefstraat', huisnummer: '1', postcode: '1234 AB', woonplaats: 'Proefdorp' },
        gemeente: 'GM1960',
      },
      klantprofielen: [{ profiel: 'KP4', vanaf: '2024-01-01', tot: null }],
      overdrachten: [
        {
          id: 'OV-1',
          richting: 'KP3-KP4',
          status: 'aangevraagd',
          datum: '2026-11-20',
          vanOrganisatie: 'WERKZAAK',
          naarOrganisatie: 'GM1960',
          clientGeinformeerd: true,
          bezwaarTegenDelen: false,
        },
      ],
      belastbaarheidsonderzoeken: [
        {
          id: 'BO-1',
          datum: '2026-10-01',
          uitvoerder: { discipline: 'verzekeringsarts' },
          arbeidsvermogen: 'beperkt',
          diagnose: `${probe}-diagnose`,
          behandeling: `${probe}-behandeling`,
          medicatie: `${probe}-medicatie`,
          medischeToelichting: `${probe}-toelichting`,
        },
      ],
      fraudeonderzoeken: [{ id: 'FO-1', status: `${probe}-status`, gestart: variant ? '2021-02-03' : '2025-06-07', omschrijving: `${probe}-fraude` }],
      boetes: [{ id: 'BT-1', status: 'opgelegd', datum: '2026-09-01', bedrag: 250, reden: `${probe}-boetereden` }],
      leefgebieden: [
        { domein: 'justitie', score: variant ? 1 : 5, toelichting: `${probe}-justitie` },
        { domein: 'werk', score: 3, toelichting: 'werk: geen bijzonderheden' },
      ],
      schuldhulptrajecten: [{ id: 'SH-1', gemeente: 'GM1960', vanaf: '2024-01-01', tot: null }],
    };
  }

  const PROBES = ['QX7PROBEALPHA', 'ZK4PROBEOMEGA'] as const;
  const hasProbe = (text: string) => /PROBE|QX7|ZK4/.test(text);

  /** A page without what differs between any two renderings: nonces, CSRF tokens, ids, times. */
  const normalised = (html: string) =>
    html
      .replace(/nonce="[^"]*"/g, 'nonce=""')
      .replace(/name="csrf" value="[^"]*"/g, 'name="csrf" value=""')
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'UUID')
      .replace(/<time[^>]*>[^<]*<\/time>/g, '<time/>')
      .replace(/<textarea([^>]*)id="s-dossier"([^>]*)>[\s\S]*?<\/textarea>/, '<textarea$1id="s-dossier"$2></textarea>');

  /** Who is simulated: each role with an organisation it may have, and its purposes. */
  const REQUESTERS = [
    { rol: 'participatiecoach', organisatie: 'GM1960', doelen: ['overdracht-kp4', 'begeleiding-kp4'] },
    { rol: 'werkcoach', organisatie: 'WERKZAAK', doelen: ['overdracht-kp3'] },
    { rol: 'schuldhulpverlener', organisatie: 'GM1960', doelen: ['schuldhulpverlening'] },
  ] as const;

  describe('the simulate page and the guardrails', () => {
    it('shows no probe value, nor any bit of one, whatever version is simulated', { timeout: 120_000 }, async () => {
      const officer = await loginAs(web, OFFICER);
      const post = (path: string, form: Record<string, string>) => officer.agent.request(path, { form: { csrf: officer.csrfToken, ...form } });
      const base = web.deps.policies.version.document as { rules: Array<Record<string, unknown>> };

      // Drafts that try to reach the guarded fields: released outright, or read through a condition. All are refused.
      const attempts: Array<Record<string, unknown>> = [
        { role: 'participatiecoach', purpose: 'begeleiding-kp4', action: 'read', subject: 'Belastbaarheidsonderzoek', fields: ['diagnose'] },
        {
          role: 'participatiecoach',
          purpose: 'begeleiding-kp4',
          action: 'read',
          subject: 'Belastbaarheidsonderzoek',
          fields: ['datum'],
          conditions: { diagnose: { $regex: '^Q' } },
        },
        { role: 'werkcoach', purpose: 'overdracht-kp3', action: 'read', subject: 'Fraudeonderzoek', fields: ['gestart'] },
        { role: 'schuldhulpverlener', purpose: 'schuldhulpverlening', action: 'read', subject: 'Boete', fields: ['reden'] },
        { role: 'participatiecoach', purpose: 'begeleiding-kp4', action: 'read', subject: 'Leefgebied', fields: ['score'], conditions: { domein: 'justitie' } },
        { role: 'participatiecoach', purpose: 'begeleiding-kp4', action: 'read', subject: 'Leefgebied', fields: ['domein'], conditions: { score: { $gt: 3 } } },
      ];
      for (const rule of attempts) {
        const res = await post('/beheer/beleid/nieuw', { beleid: stringify({ rules: [...base.rules, rule] }) });
        expect(res.status, JSON.stringify(rule)).toBe(422);
      }

      // Drafts that may be proposed: generous with every field a rule may release, with conditions on condition fields.
      const generous: Array<Record<string, unknown>> = [
        {
          role: 'participatiecoach',
          purpose: 'begeleiding-kp4',
          action: 'read',
          subject: 'Belastbaarheidsonderzoek',
          fields: ['datum', 'arbeidsvermogen', 'uitvoerder.discipline'],
        },
        {
          role: 'werkcoach',
          purpose: 'overdracht-kp3',
          action: 'read',
          subject: 'Boete',
          fields: ['status', 'datum', 'bedrag'],
          conditions: { status: 'opgelegd' },
        },
        {
          role: 'participatiecoach',
          purpose: 'begeleiding-kp4',
          action: 'read',
          subject: 'Leefgebied',
          fields: ['domein', 'score', 'toelichting'],
          conditions: { domein: 'werk' },
        },
      ];
      const versions = ['']; // the active version
      for (const rule of generous) {
        const res = await post('/beheer/beleid/nieuw', { beleid: stringify({ rules: [...base.rules, rule] }) });
        expect(res.status).toBe(303);
        versions.push(/\/beheer\/beleid\/(\d+)/.exec(res.headers.get('location')!)![1]!);
      }

      let simulated = 0;
      for (const versie of versions)
        for (const { rol, organisatie, doelen } of REQUESTERS)
          for (const doel of doelen) {
            const pages: string[] = [];
            for (const [i, probe] of PROBES.entries()) {
              const res = await post('/beheer/beleid/simuleren', {
                versie,
                rol,
                organisatie,
                doel,
                clientRef: '',
                dossier: JSON.stringify(probeRecord(probe, i as 0 | 1)),
              });
              const html = await res.text();
              expect(res.status, `${versie} ${rol} ${doel}`).toBe(200);
              expect(html).toContain('Uitkomst');
              // The dossier field gives back what the officer typed; everything else must be free of it.
              const answer = normalised(html);
              expect(hasProbe(answer), `${versie} ${rol} ${doel}: ${answer.match(/.{40}(PROBE|QX7|ZK4).{40}/)?.[0]}`).toBe(false);
              pages.push(answer);
              simulated++;
            }
            expect(pages[0], `${versie} ${rol} ${doel}: the two probe records gave different pages`).toBe(pages[1]);
          }
      expect(simulated).toBe(versions.length * 4 * 2);

      for (const versie of versions.slice(1)) {
        const res = await officer.agent.request(`/beheer/beleid/${versie}/gevolgen`);
        expect(res.status).toBe(200);
        expect(hasProbe(await res.text())).toBe(false);
      }
      expect(hasProbe(JSON.stringify(await web.auditEntries()))).toBe(false);
    });

    it('the small form’s hypothetical client simulates without JSON', async () => {
      const officer = await loginAs(web, OFFICER);
      const res = await officer.agent.request('/beheer/beleid/simuleren', {
        form: {
          csrf: officer.csrfToken,
          versie: '',
          rol: 'participatiecoach',
          organisatie: 'GM1960',
          doel: 'overdracht-kp4',
          clientRef: '',
          dossier: '',
          gemeente: 'GM1960',
          profiel: 'KP3',
          overdracht: 'KP3-KP4',
          overdrachtStatus: 'aangevraagd',
          overdrachtNaar: 'GM1960',
          schuldhulp: '',
          onderzoek: 'ja',
          boete: 'overwogen',
          fraude: 'ja',
        },
      });
      const html = await res.text();
      expect(res.status).toBe(200);
      expect(html).toContain('Uitkomst');
      expect(html).toContain('diagnose');
      expect((await web.auditEntries()).at(-1)).toMatchObject({ action: 'policy.simulated', outcome: 'permit' });
      const form = await (await officer.agent.request('/beheer/beleid/simuleren')).text();
      expect(form).toContain('<label class="utrecht-form-label" for="s-profiel">');
      expect(form).toContain('Geavanceerd: een verzonnen dossier als JSON');
    });
  });
});
