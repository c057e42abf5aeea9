import fs from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { EXAMPLE_EXPORT_FILE } from '../src/demo.js';
import type { SuiteRecord } from '../src/records/suite-record.js';
import { type BothSetup, breakAuditWrites, forEachDatabase, importRecords, replaceRecords, storedAuditLines } from './both-databases.js';
import { PERSONAS, type Persona, webApp } from './web-pages-support.js';

const anna = JSON.parse(fs.readFileSync(EXAMPLE_EXPORT_FILE, 'utf8').split('\n')[0]!) as SuiteRecord;

/** Lotte's BSN (passes the elfproef), and a BSN that passes it but no client has. */
const BSN = '123456782';
const UNKNOWN_BSN = '111222333';

/** Values that must never reach a coach's handover page: the guardrails, and what the default policy withholds. */
const NEVER = {
  diagnose: 'Diagnose-verborgen-borderline',
  behandeling: 'Behandeling-verborgen-ggz',
  medicatie: 'Medicatie-verborgen-lithium',
  medischeToelichting: 'Medisch-verborgen-terugval',
  uitvoerderNaam: 'Onderzoeker-verborgen-Smit',
  fraude: 'Fraude-verborgen-samenwonen',
  boeteReden: 'Boetereden-verborgen-bijbaan',
  justitie: 'Justitie-verborgen-taakstraf',
  gezondheidToelichting: 'Gezondheid-verborgen-klachten',
  grondslag: 'Grondslag-verborgen-art9',
  regulierVerslag: 'Regulier-verborgen-expartner',
};
/** Values the coach does see: the functional findings and the handover's own text. */
const SHOWN = { prognose: 'Prognose-zichtbaar-twee-jaar', advies: 'Advies-zichtbaar-dagbesteding', beperking: 'Beperking-zichtbaar-concentratie' };

/** Lotte: handed over from KP3 to KP4 to West Betuwe, in a debt trajectory with Tiel; every guarded value a marker. */
const lotte: SuiteRecord = {
  ...anna,
  clientRef: 'WZR-900001',
  bsn: BSN,
  persoon: { ...anna.persoon, voornamen: 'Lotte', achternaam: 'Visser' },
  uitkering: {
    regeling: 'PW',
    ingangsdatum: '2023-01-23',
    nettoBedragMaand: 1234.56,
    betaaldag: 23,
    beslagvrijeVoet: 1111.11,
    inhoudingen: [{ id: 'INH-1', soort: 'beslag', bedragMaand: 77.77, schuldeiser: 'Belastingdienst' }],
  },
  ontheffingen: [{ id: 'ONT-1', soort: 'tijdelijk', grondslag: NEVER.grondslag, reden: 'medisch', vanaf: '2026-10-24', tot: '2027-10-24' }],
  belastbaarheidsonderzoeken: [
    {
      id: 'BO-1',
      datum: '2026-09-24',
      uitvoerder: { naam: NEVER.uitvoerderNaam, discipline: 'verzekeringsarts' },
      arbeidsvermogen: 'geen',
      urenPerDag: 2,
      urenPerWeek: 6,
      functioneleBeperkingen: [{ rubriek: 'I', omschrijving: SHOWN.beperking }],
      prognose: SHOWN.prognose,
      advies: SHOWN.advies,
      diagnose: NEVER.diagnose,
      behandeling: NEVER.behandeling,
      medicatie: NEVER.medicatie,
      medischeToelichting: NEVER.medischeToelichting,
    },
  ],
  leefgebieden: [
    { domein: 'werk', score: 1, toelichting: 'Werk-zichtbaar' },
    { domein: 'gezondheid', score: 2, toelichting: NEVER.gezondheidToelichting },
    { domein: 'justitie', score: 4, toelichting: NEVER.justitie },
  ],
  boetes: [{ id: 'BT-1', status: 'overwogen', datum: '2026-11-18', bedrag: 987.65, openstaand: 987.65, betalingsregeling: null, reden: NEVER.boeteReden }],
  fraudeonderzoeken: [{ id: 'FO-1', status: 'lopend', gestart: '2026-11-03', omschrijving: NEVER.fraude }],
  schuldhulptrajecten: [{ id: 'SH-1', gemeente: 'GM0281', vanaf: '2026-09-01', tot: null }],
  contactmomenten: [
    { id: 'CM-1', datum: '2026-11-13', categorie: 'overdracht', verslag: 'Verslag-zichtbaar-overdracht' },
    { id: 'CM-2', datum: '2026-10-14', categorie: 'regulier', verslag: NEVER.regulierVerslag },
  ],
};

/** The real app with the role pages, the example records and Lotte imported. */
async function setupWith(setupApp: BothSetup) {
  const ctx = await setupApp();
  await importRecords(ctx, [lotte]);
  const app = webApp(ctx);
  const get = (persona: Persona, path: string) => app.request(path, { headers: { 'x-test-persona': persona } });
  const post = (persona: Persona, path: string, form: Record<string, string>) =>
    app.request(path, {
      method: 'POST',
      headers: { 'x-test-persona': persona, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  const lookup = (persona: Persona, bsn: string, csrf: string = PERSONAS[persona].csrfToken) => post(persona, '/schuldhulp/zoeken', { csrf, bsn });
  /** Every stored audit line as its raw text: what a BSN must never be found in. */
  const rawLines = () => storedAuditLines(ctx);
  return { ...ctx, ctx, app, get, post, lookup, rawLines };
}

/** A page with what differs between two answers of the same page (its request id, its nonce) blanked. */
async function normalised(res: Response): Promise<string> {
  const nonce = /'nonce-([^']+)'/.exec(res.headers.get('content-security-policy') ?? '')?.[1];
  expect(nonce).toBeDefined();
  return (await res.text()).replaceAll(res.headers.get('x-request-id')!, 'REQUEST-ID').replaceAll(nonce!, 'NONCE');
}

/** Every page: HTML, not stored, under a nonce CSP without inline styles or scripts. */
function expectPageHeaders(res: Response) {
  expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  expect(res.headers.get('cache-control')).toBe('no-store');
  const csp = res.headers.get('content-security-policy')!;
  expect(csp).toMatch(/style-src 'nonce-[A-Za-z0-9+/=]{22,}'/);
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).toContain("form-action 'self'");
}

const formatted = (n: number) => [String(n), n.toLocaleString('nl-NL', { minimumFractionDigits: 2 })];

forEachDatabase((setupApp) => {
  const setup = () => setupWith(setupApp);

  describe('the handover page (/overdrachten/:clientRef, overdracht-kp4)', () => {
    it('shows the functional findings as the policy released them, in words, and no guardrail value, BSN or withheld value', async () => {
      const { get, lastAudit } = await setup();
      const res = await get('coach', '/overdrachten/WZR-900001');
      expect(res.status).toBe(200);
      expectPageHeaders(res);
      const html = await res.text();
      for (const value of Object.values(SHOWN)) expect(html).toContain(value);
      for (const words of [
        'Overdracht KP3 naar KP4',
        'geen arbeidsvermogen',
        'onderzoek door een zorgprofessional',
        'Werkzaak Rivierenland',
        '24 september 2026',
      ])
        expect(html).toContain(words);
      expect(html).toContain('Er wordt een boete overwogen. Neem contact op met de inkomensconsulent.');
      expect(html).toContain('utrecht-alert');
      expect(html).toContain('Niet gedeeld');
      for (const value of Object.values(NEVER)) expect(html).not.toContain(value);
      for (const value of [BSN, ...formatted(1234.56), ...formatted(987.65), ...formatted(1111.11)]) expect(html).not.toContain(value);
      expect(html).not.toContain('GM1960'); // a municipality by its name, never its CBS code
      expect(await lastAudit()).toMatchObject({
        action: 'document.read',
        outcome: 'permit',
        clientRef: 'WZR-900001',
        purpose: 'overdracht-kp4',
        channel: 'web',
        clientId: 'doelpoort-web',
        actor: { sub: 'coach-wb', role: 'participatiecoach', org: 'GM1960' },
      });
    });

    it('shows the same page again from the sections kept for its decision, and a changed record at once', async () => {
      const { ctx, get } = await setup();
      /** The page without what differs per request: its request id, nonce and decision id. */
      const page = async () => {
        const res = await get('coach', '/overdrachten/WZR-900001');
        expect(res.status).toBe(200);
        const html = await normalised(res);
        const decisionId = /Besluit (\S+) ·/.exec(html)?.[1];
        expect(decisionId).toBeDefined();
        return html.replaceAll(decisionId!, 'DECISION-ID');
      };
      const first = await page();
      expect(await page()).toBe(first);
      expect(first).toContain(SHOWN.advies);

      // A re-import makes a new record object, hence a new decision: its sections, never the kept ones.
      const changed = 'Advies-zichtbaar-nieuw-traject';
      const [onderzoek] = lotte.belastbaarheidsonderzoeken!;
      await replaceRecords(ctx, [{ ...lotte, belastbaarheidsonderzoeken: [{ ...onderzoek!, advies: changed }] }], 1);
      const after = await page();
      expect(after).toContain(changed);
      expect(after).not.toContain(SHOWN.advies);
      for (const value of Object.values(NEVER)) expect(after).not.toContain(value);
      // The rest of the page is as it was.
      expect(after.replace(changed, SHOWN.advies)).toBe(first);
    });

    it('answers a client without a relationship and an unknown client with the same 403 page, each with a deny line', async () => {
      const { get, auditEntries } = await setup();
      const unrelated = await get('coach', '/overdrachten/WZR-100002'); // handed over to Neder-Betuwe, not West Betuwe
      const unknown = await get('coach', '/overdrachten/WZR-999999');
      expect([unrelated.status, unknown.status]).toEqual([403, 403]);
      expectPageHeaders(unrelated);
      const [a, b] = [await normalised(unrelated), await normalised(unknown)];
      expect(a).toBe(b);
      expect(a).toContain('Geen toegang');
      expect(a).toContain('Vermeld bij een vraag aan de servicedesk: <code class="doelpoort-request-id">REQUEST-ID</code>');
      expect(a).not.toContain('Mohammed');
      expect((await auditEntries()).slice(-2)).toEqual([
        expect.objectContaining({ action: 'document.read', outcome: 'deny', reason: 'NO_HANDOVER_TO_ORGANISATION', httpStatus: 403, clientRef: 'WZR-100002' }),
        expect.objectContaining({ action: 'document.read', outcome: 'deny', reason: 'CLIENT_UNKNOWN', httpStatus: 403, clientRef: 'WZR-999999' }),
      ]);
    });

    it('serves the werkcoach the return file at /terugmeldingen/:clientRef (overdracht-kp3)', async () => {
      const { get, lastAudit } = await setup();
      const res = await get('werkcoach', '/terugmeldingen/WZR-100003');
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('Overdracht KP4 naar KP3');
      expect(await lastAudit()).toMatchObject({ action: 'document.read', outcome: 'permit', purpose: 'overdracht-kp3', channel: 'web' });
    });

    it('fails closed: when the line cannot be written, a 503 page and no data', async () => {
      const { get, ctx } = await setup();
      await breakAuditWrites(ctx);
      const res = await get('coach', '/overdrachten/WZR-900001');
      expect(res.status).toBe(503);
      const html = await res.text();
      expect(html).toContain('Tijdelijk niet beschikbaar');
      for (const value of ['Lotte', 'Visser', SHOWN.prognose]) expect(html).not.toContain(value);
    });
  });

  describe('purposes bound to the page and the session', () => {
    it.each([
      [
        'a werkcoach on a participatiecoach’s handover page',
        'werkcoach',
        '/overdrachten/WZR-100001',
        'document.read',
        'overdracht-kp4',
        'PURPOSE_NOT_FOR_ROLE',
      ],
      ['a counsellor on a KP4 coach’s client page', 'counsellor', '/clienten/WZR-100005', 'record.read', 'begeleiding-kp4', 'PURPOSE_NOT_FOR_ROLE'],
      ['a participatiecoach on the caseload', 'coach', '/schuldhulp', 'caseload.read', 'schuldhulpverlening', 'PURPOSE_NOT_FOR_ROLE'],
      [
        'a participatiecoach of Werkzaak (not a municipality)',
        'misfit',
        '/overdrachten/WZR-100001',
        'document.read',
        'overdracht-kp4',
        'ORGANISATION_NOT_FOR_ROLE',
      ],
    ] as const)('refuses %s with the 403 page and a deny line', async (_, persona, path, action, purpose, reason) => {
      const { get, lastAudit } = await setup();
      const res = await get(persona, path);
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('Geen toegang');
      const line = (await lastAudit())!;
      expect(line).toMatchObject({ action, outcome: 'deny', reason, purpose, httpStatus: 403, channel: 'web', actor: { sub: PERSONAS[persona].login.sub } });
      expect(line).not.toHaveProperty('released');
    });

    it('refuses a clientRef of the wrong shape (a BSN typed into the address) with the 400 page and a line without it', async () => {
      const { get, lastAudit, rawLines } = await setup();
      const res = await get('coachWmw', `/clienten/${BSN}`);
      expect(res.status).toBe(400);
      const html = await res.text();
      expect(html).toContain('Dit verzoek klopt niet');
      expect(html).not.toContain(BSN);
      expect(await lastAudit()).toMatchObject({ action: 'record.read', outcome: 'deny', reason: 'CLIENT_REF_INVALID', httpStatus: 400 });
      expect(await lastAudit()).not.toHaveProperty('clientRef');
      expect((await rawLines()).join('\n')).not.toContain(BSN);
    });

    it('shows a KP4 coach their client (begeleiding-kp4), with the fields the policy released', async () => {
      const { get, lastAudit } = await setup();
      const res = await get('coachWmw', '/clienten/WZR-100005');
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('Nel');
      expect(html).toContain('doel: Begeleiding KP4');
      expect(await lastAudit()).toMatchObject({
        action: 'record.read',
        outcome: 'permit',
        purpose: 'begeleiding-kp4',
        clientRef: 'WZR-100005',
        channel: 'web',
      });
    });
  });

  describe('the debt counsellor (caseload, look-up by BSN, income side)', () => {
    it('lists the caseload of their municipality, one line per client, with the look-up form', async () => {
      const { get, auditEntries } = await setup();
      const res = await get('counsellor', '/schuldhulp');
      expect(res.status).toBe(200);
      expectPageHeaders(res);
      const html = await res.text();
      expect(html).toContain('Kees van den Berg');
      expect(html).toContain('Lotte Visser');
      expect(html).toContain('<form method="post" action="/schuldhulp/zoeken"');
      const lines = (await auditEntries()).filter((l) => l.action === 'caseload.read');
      // The page's own line first, then one per client in a span of its own.
      expect(lines.map((l) => [l.clientRef, l.outcome, l.channel])).toEqual([
        [undefined, 'permit', 'web'],
        ['WZR-100004', 'permit', 'web'],
        ['WZR-900001', 'permit', 'web'],
      ]);
    });

    it('finds a client of the caseload by BSN: 303 to the client’s page, and the BSN nowhere (page, Location, lines, logs)', async () => {
      const { lookup, get, auditEntries, rawLines, audit } = await setup();
      const output: string[] = [];
      const capture = (chunk: string | Uint8Array) => (output.push(String(chunk)), true);
      const spies = [vi.spyOn(process.stderr, 'write').mockImplementation(capture), vi.spyOn(process.stdout, 'write').mockImplementation(capture)];
      let found: Response;
      let page: Response;
      try {
        found = await lookup('counsellor', '123 456 782'); // typed with spaces
        page = await get('counsellor', found.headers.get('location')!);
      } finally {
        for (const spy of spies) spy.mockRestore();
      }
      expect(found.status).toBe(303);
      expect(found.headers.get('location')).toBe('/schuldhulp/clienten/WZR-900001');
      expect(found.headers.get('cache-control')).toBe('no-store');
      expect((await auditEntries()).find((l) => l.action === 'client.lookup')).toMatchObject({
        outcome: 'permit',
        reason: 'CLIENT_FOUND',
        httpStatus: 303,
        clientRef: 'WZR-900001',
        bsnPseudonym: audit.pseudonym(BSN),
        purpose: 'schuldhulpverlening',
        channel: 'web',
      });

      expect(page.status).toBe(200);
      const html = await page.text();
      for (const shown of ['Lotte Visser', 'beslag', 'Belastingdienst']) expect(html).toContain(shown);
      for (const amount of [/€\s1\.234,56/, /€\s77,77/, /€\s1\.111,11/]) expect(html).toMatch(amount);
      // The income side only: no health findings, no guardrail, no considered fine.
      for (const value of [...Object.values(NEVER), ...Object.values(SHOWN), ...formatted(987.65)]) expect(html).not.toContain(value);
      for (const text of [html, found.headers.get('location')!, ...(await rawLines()), ...output]) expect(text).not.toContain(BSN);
    });

    it('answers an unknown BSN and a BSN without a trajectory here alike: the form again, empty, with its error tied to the field', async () => {
      const { lookup, auditEntries, audit } = await setup();
      const unknown = await lookup('counsellor', UNKNOWN_BSN);
      const elsewhere = await lookup('counsellor', anna.bsn); // Anna has no trajectory with Tiel
      expect([unknown.status, elsewhere.status]).toEqual([403, 403]);
      const [a, b] = [await normalised(unknown), await normalised(elsewhere)];
      expect(a).toBe(b);
      expect(a).toContain('Er is geen cliënt met dit BSN die een lopend schuldhulptraject bij uw gemeente heeft.');
      expect(a).toMatch(/<input[^>]*id="bsn"[^>]*aria-describedby="bsn-beschrijving bsn-fout"[^>]*aria-invalid="true"/);
      expect(a).toContain('id="bsn-fout"');
      expect(a).not.toMatch(/<input[^>]*id="bsn"[^>]*value=/);
      for (const bsn of [UNKNOWN_BSN, anna.bsn]) expect(a).not.toContain(bsn);
      const lines = (await auditEntries()).filter((l) => l.action === 'client.lookup');
      expect(lines).toEqual([
        expect.objectContaining({ outcome: 'deny', reason: 'CLIENT_UNKNOWN', httpStatus: 403, bsnPseudonym: audit.pseudonym(UNKNOWN_BSN) }),
        expect.objectContaining({ outcome: 'deny', reason: 'NO_ACTIVE_TRAJECTORY', httpStatus: 403, bsnPseudonym: audit.pseudonym(anna.bsn) }),
      ]);
      // Neither line names a client: the person's own use could otherwise tell the two apart.
      for (const line of lines) expect(line).not.toHaveProperty('clientRef');
    });

    it.each([
      ['nothing', '', 'Vul een BSN in.'],
      ['too few digits', '12345', 'Een BSN bestaat uit 9 cijfers.'],
      ['nine digits failing the elfproef', '123456789', 'Dit is geen geldig BSN'],
    ])('refuses %s as a bad form (400), never writing the input back', async (_, bsn, message) => {
      const { lookup, lastAudit } = await setup();
      const res = await lookup('counsellor', bsn);
      expect(res.status).toBe(400);
      const html = await res.text();
      expect(html).toContain(message);
      expect(html).toMatch(/<input[^>]*aria-invalid="true"/);
      if (bsn !== '') expect(html).not.toContain(bsn);
      expect(await lastAudit()).toMatchObject({ action: 'client.lookup', outcome: 'deny', reason: 'BSN_INVALID', httpStatus: 400 });
      expect(await lastAudit()).not.toHaveProperty('bsnPseudonym');
    });

    it('refuses a form without this session’s token, and a look-up by anyone but a counsellor, before looking anything up', async () => {
      const { lookup, auditEntries } = await setup();
      // The shared CSRF check refuses the forged form before the page runs (src/web/session.ts).
      expect((await lookup('counsellor', BSN, 'forged-token')).status).toBe(403);
      expect((await auditEntries()).filter((l) => l.action === 'request.refused').map((l) => [l.outcome, l.reason])).toEqual([['deny', 'CSRF_TOKEN_INVALID']]);
      expect((await lookup('werkcoach', BSN, PERSONAS.werkcoach.csrfToken)).status).toBe(403);
      const lines = (await auditEntries()).filter((l) => l.action === 'client.lookup');
      expect(lines.map((l) => [l.outcome, l.reason])).toEqual([['deny', 'PURPOSE_NOT_FOR_ROLE']]);
      for (const line of lines) expect(line).not.toHaveProperty('bsnPseudonym');
    });

    it('refuses the income page of a client without a trajectory with the counsellor’s municipality, like an unknown one', async () => {
      const { get } = await setup();
      const other = await get('counsellorWb', '/schuldhulp/clienten/WZR-900001');
      const unknown = await get('counsellorWb', '/schuldhulp/clienten/WZR-999999');
      expect([other.status, unknown.status]).toEqual([403, 403]);
      expect(await normalised(other)).toBe(await normalised(unknown));
    });
  });

  describe('Mijn gebruik', () => {
    it('lists only the person’s own accesses (issuer and sub), in words, and the viewing is itself a line', async () => {
      const { get, lastAudit } = await setup();
      await get('coach', '/overdrachten/WZR-900001');
      await get('coach', '/overdrachten/WZR-100002'); // refused
      await get('coachTiel', '/overdrachten/WZR-100005'); // someone else's
      await get('namesake', '/overdrachten/WZR-100006'); // the same sub at another identity provider
      const res = await get('coach', '/mijn-gebruik');
      expect(res.status).toBe(200);
      expectPageHeaders(res);
      const html = await res.text();
      expect(html).toContain('WZR-900001');
      expect(html).toContain('WZR-100002');
      expect(html).toContain('Overdrachtsdocument ingezien');
      expect(html).toContain('Overdracht KP3 naar KP4');
      expect(html).toContain('toegestaan');
      expect(html).toContain('geweigerd');
      expect(html).toContain('webapplicatie');
      expect(html).not.toContain('WZR-100005');
      expect(html).not.toContain('WZR-100006');
      expect(html).not.toContain('NO_HANDOVER_TO_ORGANISATION'); // never a reason: it could tell who exists
      expect(await lastAudit()).toMatchObject({
        action: 'audit.read',
        outcome: 'permit',
        reason: 'OWN_USE_LISTED',
        channel: 'web',
        actor: { sub: 'coach-wb' },
      });
      expect(await lastAudit()).not.toHaveProperty('purpose');

      const namesake = await (await get('namesake', '/mijn-gebruik')).text();
      expect(namesake).toContain('WZR-100006');
      expect(namesake).not.toContain('WZR-900001');
    });

    it('pages with an opaque cursor, and refuses a forged one with the 400 page and a line', async () => {
      const { get, lastAudit } = await setup();
      for (let i = 0; i < 21; i++) await get('coach', '/overdrachten/WZR-900001');
      const first = await (await get('coach', '/mijn-gebruik')).text();
      const next = /href="\/mijn-gebruik\?cursor=([^"]+)" rel="next"/.exec(first)?.[1];
      expect(next).toBeDefined();
      const second = await get('coach', `/mijn-gebruik?cursor=${next}`);
      expect(second.status).toBe(200);
      expect(await second.text()).toContain('Eerste pagina');
      const forged = await get('coach', '/mijn-gebruik?cursor=a1.bm90LWEtc2Vx');
      expect(forged.status).toBe(400);
      expect(await lastAudit()).toMatchObject({ action: 'audit.read', outcome: 'deny', reason: 'REQUEST_INVALID', httpStatus: 400 });
    });
  });

  describe('the role home pages', () => {
    it.each(Object.keys(PERSONAS).filter((p) => p !== 'misfit') as Persona[])('%s: what this role can do, with links to their pages', async (persona) => {
      const { get } = await setup();
      const res = await get(persona, '/start');
      expect(res.status).toBe(200);
      expectPageHeaders(res);
      const html = await res.text();
      expect(html).toContain('Wat u hier kunt doen');
      expect(html).toContain('href="/mijn-gebruik"');
      expect(html).toContain('Uitloggen');
    });
  });
});
