import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { PgPolicyVersions } from '../src/policy/versions-pg.js';
import { forEachDatabase } from './both-databases.js';
import { type BothWebServer, chooseAccountAgain, loginAs, startWebServer } from './web-support.js';

/**
 * The privacy officer's console over HTTP, through the real app with sessions from the real login: every page is
 * behind the officer check and writes the same audit line as its API route (on channel `web`); a coach is refused;
 * proposing shows every problem; approving needs a fresh login and another person than the author.
 */

const OFFICER = 'demo-privacy-officer-werkzaak';
const OFFICER_2 = 'demo-privacy-officer-werkzaak-2';
const MUNICIPAL = 'demo-privacy-officer-gm1960';
const COACH = 'demo-participatiecoach-gm1960';
const CLIENT = 'WZR-100001';

forEachDatabase((_, database) => {
  let web: BothWebServer;
  beforeAll(async () => {
    web = await startWebServer({ database });
  });
  afterAll(async () => {
    await web?.close();
  });

  type Session = Awaited<ReturnType<typeof loginAs>> & { sub: string };
  const login = async (sub: string): Promise<Session> => ({ ...(await loginAs(web, sub)), sub });
  const lines = async () => await web.auditEntries();
  const since = async (n: number) => (await lines()).slice(n);
  /** How many policy versions are stored (proposed, approved, rejected). */
  const versionCount = async () =>
    (web.database === 'sqlite' ? web.deps.policies.versions.list() : await new PgPolicyVersions(web.deps.pool, web.clock).list()).length;
  const html = async (res: Response) => {
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    return res.text();
  };

  /** Opens `path` in the session; the answer and the lines it wrote. */
  async function open(s: Session, path: string) {
    const before = (await lines()).length;
    const res = await s.agent.request(path);
    return { res, body: res.headers.get('content-type')?.startsWith('text/html') ? await res.text() : await res.text(), written: await since(before) };
  }

  /** Posts a form of the session (with its CSRF token). */
  async function post(s: Session, path: string, form: Record<string, string>) {
    const before = (await lines()).length;
    const res = await s.agent.request(path, { form: { csrf: s.csrfToken, ...form } });
    return { res, written: await since(before) };
  }

  /** The re-authentication before an approval: the button, the provider's account page (`as`), the callback. */
  async function reauthenticate(s: Session, id: number, as: string): Promise<Response> {
    const started = await s.agent.request(`/beheer/beleid/${id}/opnieuw-inloggen`, { form: { csrf: s.csrfToken } });
    expect(started.status).toBe(303);
    const authorization = new URL(started.headers.get('location')!);
    expect(authorization.searchParams.get('prompt')).toBe('login');
    expect(authorization.searchParams.get('max_age')).toBe('0');
    const callback = await chooseAccountAgain(s.agent, authorization, as);
    return s.agent.request(callback);
  }

  /** A draft proposed through the console by `s`: the active document with one more field for the werkcoach. */
  async function proposeDraft(s: Session): Promise<number> {
    const document = structuredClone(web.deps.policies.version.document) as { rules: Array<Record<string, unknown>> };
    document.rules.push({ role: 'werkcoach', purpose: 'overdracht-kp3', action: 'read', subject: 'Uitkering', fields: ['betaaldag'] });
    const { res } = await post(s, '/beheer/beleid/nieuw', { beleid: stringify(document) });
    expect(res.status).toBe(303);
    const id = Number(/\/beheer\/beleid\/(\d+)\?voorgesteld=1$/.exec(res.headers.get('location')!)?.[1]);
    expect(id).toBeGreaterThan(1);
    return id;
  }

  describe('the console for a privacy officer', () => {
    let officer: Session;
    beforeAll(async () => {
      officer = await login(OFFICER);
    });

    it.each([
      ['from=2026-13-45', 'f-from', 'Dit is geen geldige datum'],
      ['from=2026-03-10&to=2026-03-01', 'f-to', 'De einddatum ligt vóór de begindatum.'],
      ['clientRef=123456782', 'f-client', 'Dit is geen cliëntnummer'],
    ])('shows the audit filter’s error beside its field (%s), logged as refused, and searches nothing', async (query, field, words) => {
      const { res, body, written } = await open(officer, `/beheer/auditlog?${query}`);
      expect(res.status).toBe(400);
      expect(body).toContain(`id="${field}-fout"`);
      expect(body).toMatch(new RegExp(`id="${field}"[^>]*aria-describedby="[^"]*${field}-fout"[^>]*aria-invalid="true"`));
      expect(body).toContain(words);
      expect(body).not.toContain('123456782');
      expect(body).not.toContain('<table');
      expect(written).toMatchObject([{ action: 'audit.read', outcome: 'deny' }]);
    });

    it.each([
      ['/beheer', ['audit.read', 'policy.read', 'noodtoegang.read'], 'Beheer en toezicht'],
      ['/beheer/noodtoegang', ['noodtoegang.read'], 'Noodtoegang beoordelen'],
      ['/beheer/noodtoegang?status=all', ['noodtoegang.read'], 'Alle, ook beoordeeld'],
      ['/beheer/auditlog', ['audit.read'], 'Auditlog'],
      [`/beheer/auditlog?clientRef=${CLIENT}&outcome=permit`, ['audit.read'], 'Auditlog'],
      ['/beheer/auditlog/controle', ['audit.read'], 'De keten van het auditlog is intact'],
      ['/beheer/beleid', ['policy.read'], 'Versies van het deelbeleid'],
      ['/beheer/beleid/1', ['policy.read'], 'Wat deze versie verstrekt'],
      ['/beheer/beleid/simuleren', ['policy.read'], 'Simuleren'],
      ['/beheer/beleid/nieuw', ['policy.read'], 'Nieuwe versie van het deelbeleid voorstellen'],
      ['/beheer/beleid/1/gevolgen?dagen=7', ['policy.impact'], 'Gevolgen van versie 1'],
      [`/beheer/inzage?clientRef=${CLIENT}`, ['access-report.read'], 'Overzicht van raadplegingen van uw gegevens'],
      ['/beheer/toezicht/maand', ['oversight.read'], 'Maandrapportage'],
      ['/beheer/toezicht/personen', ['oversight.read'], 'Raadplegingen per medewerker'],
      ['/beheer/toezicht/beoordelingen', ['oversight.read'], 'Beoordelingen'],
    ])('%s renders in Dutch and writes its audit lines on channel web', async (path, actions, heading) => {
      const { res, body, written } = await open(officer, path);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(body).toContain('<html lang="nl">');
      expect(body).toContain(heading);
      expect(written.map((l) => l.action)).toEqual(actions);
      for (const l of written) {
        expect(l).toMatchObject({
          outcome: 'permit',
          channel: 'web',
          clientId: 'doelpoort-web',
          actor: { sub: OFFICER, role: 'privacy-officer', org: 'WERKZAAK' },
        });
        expect(['toezicht', 'beleidsbeheer']).toContain(l.purpose);
      }
    });

    it('shows one audit line in full: field names, reason, policy version, trace id and channel', async () => {
      const versioned = web.database === 'sqlite' ? "json_extract(entry, '$.entry.policyVersion')" : "(entry::jsonb -> 'entry' -> 'policyVersion')";
      const seq = Number((await web.sql(`SELECT max(seq) AS seq FROM audit_log WHERE action = 'policy.read' AND ${versioned} IS NOT NULL`))[0]!.seq);
      expect(seq).toBeGreaterThan(0);
      const { res, body, written } = await open(officer, `/beheer/auditlog/regel/${seq}`);
      expect(res.status).toBe(200);
      const line = (await lines())[seq - 1]!;
      expect(body).toContain(`<code>${line.traceId}</code>`);
      expect(body).toContain(`<code>${line.reason}</code>`);
      expect(body).toContain(String(line.policyVersion));
      expect(body).toContain('webapplicatie');
      expect(written).toMatchObject([{ action: 'audit.read', reason: 'AUDIT_LINE_READ' }]);
    });

    it('filters the log as the API does: only the client asked for; a BSN is refused and logged without it', async () => {
      await open(officer, `/beheer/inzage?clientRef=${CLIENT}`);
      const { body } = await open(officer, `/beheer/auditlog?clientRef=${CLIENT.toLowerCase()}`);
      const shown = [...body.matchAll(/<td class="utrecht-table__cell">(?:<code>)?(WZR-\d+|—)/g)].map((m) => m[1]);
      expect(shown.length).toBeGreaterThan(0);
      expect(new Set(shown)).toEqual(new Set([CLIENT]));

      const refused = await open(officer, '/beheer/auditlog?clientRef=101010011');
      expect(refused.res.status).toBe(400);
      expect(refused.body).not.toContain('101010011');
      expect(refused.written).toMatchObject([{ action: 'audit.read', outcome: 'deny', reason: 'CLIENT_REF_INVALID' }]);
      expect(JSON.stringify(refused.written)).not.toContain('101010011');
    });

    it('downloads the signed checkpoint and the Logboek export, each an audit line', async () => {
      await web.deps.audit.checkpoint();
      const checkpoint = await open(officer, '/beheer/auditlog/controlepunt');
      expect(checkpoint.res.status).toBe(200);
      expect(checkpoint.res.headers.get('content-disposition')).toMatch(/^attachment; filename="doelpoort-controlepunt-\d+\.json"$/);
      const json = JSON.parse(checkpoint.body) as { size: number; signature: string; jwk: { kty: string } };
      expect(json.signature.split('.')).toHaveLength(3);
      expect(json.jwk.kty).toBe('OKP');
      expect(checkpoint.written).toMatchObject([{ action: 'audit.read', reason: 'CHECKPOINT_DOWNLOADED' }]);

      const logboek = await open(officer, '/beheer/auditlog/logboek');
      expect(logboek.res.status).toBe(200);
      const records = logboek.body
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { trace_id: string; name: string });
      expect(records.length).toBeGreaterThan(5);
      expect(records.every((r) => /^[0-9a-f]{32}$/.test(r.trace_id))).toBe(true);
      expect(logboek.body).not.toMatch(/\b\d{9}\b/);
      expect(logboek.written).toMatchObject([{ action: 'audit.read', reason: 'LOGBOEK_EXPORTED' }]);
    });

    it('shows a version as a matrix per role and purpose, guardrails withheld with their reason', async () => {
      const { body } = await open(officer, '/beheer/beleid/1');
      expect(body).toContain('Participatiecoach — Overdracht KP3 naar KP4');
      expect(body).toMatch(
        /<code>diagnose<\/code><\/td><td class="utrecht-table__cell"><span><span class="doelpoort-status doelpoort-status--withheld">Niet verstrekt<\/span> — medische kern/,
      );
      expect(body).toContain('het BSN is alleen een zoeksleutel');
      expect(body).toMatch(/Verstrekt als<\/span> [^<]*clientGeinformeerd van de onderliggende overdracht is ja/);
    });
  });

  describe('refusals at the door', () => {
    it('refuses a coach with a Dutch 403 page and a deny line with the actor', async () => {
      const coach = await login(COACH);
      for (const path of ['/beheer', '/beheer/auditlog', '/beheer/beleid/1']) {
        const { res, body, written } = await open(coach, path);
        expect(res.status).toBe(403);
        expect(body).toContain('Geen toegang tot het beheer');
        expect(written).toMatchObject([{ action: 'request.refused', outcome: 'deny', reason: 'ROLE_NOT_ALLOWED', channel: 'web', actor: { sub: COACH } }]);
      }
      const { res, written } = await post(coach, '/beheer/beleid/nieuw', { beleid: 'rules: []' });
      expect(res.status).toBe(403);
      expect(written).toMatchObject([{ action: 'request.refused', reason: 'ROLE_NOT_ALLOWED' }]);
      expect(await versionCount()).toBe(1);
    });

    it('sends a browser without a session to the login, remembering the page', async () => {
      const res = await fetch(`${web.origin}/beheer/auditlog`, { redirect: 'manual' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(`/?terug=${encodeURIComponent('/beheer/auditlog')}`);
    });

    it('refuses a form post without the CSRF token', async () => {
      const officer = await login(OFFICER);
      const before = (await lines()).length;
      const res = await officer.agent.request('/beheer/beleid/nieuw', { form: { beleid: 'rules: []' } });
      expect(res.status).toBe(403);
      expect(await since(before)).toMatchObject([{ action: 'request.refused', reason: 'CSRF_TOKEN_INVALID' }]);
    });

    it('scopes a municipal officer: no other organisation’s lines, no export', async () => {
      const municipal = await login(MUNICIPAL);
      const { body } = await open(municipal, '/beheer/auditlog?limit=1000');
      expect(body).toContain('de medewerkers van West Betuwe');
      expect(body).not.toContain('Werkzaak Rivierenland<br');
      const exported = await open(municipal, '/beheer/auditlog/logboek');
      expect(exported.res.status).toBe(403);
      expect(exported.written).toMatchObject([{ action: 'audit.read', outcome: 'deny', reason: 'EXPORT_NEEDS_CONTROLLER' }]);
      const report = await open(municipal, `/beheer/inzage?clientRef=${CLIENT}`);
      expect(report.body).toContain('de raadplegingen door West Betuwe');
    });
  });

  describe('proposing a policy in the browser', () => {
    it('shows every validation problem beside the field, by path and line, and stores nothing', async () => {
      const officer = await login(OFFICER);
      const text = [
        'rules:',
        '  - role: participatiecoach',
        '    purpose: overdracht-kp4',
        '    action: read',
        '    subject: Belastbaarheidsonderzoek',
        '    fields: [datum, diagnose]',
        '  - role: participatiecoach',
        '    purpose: overdracht-kp4',
        '    action: read',
        '    subject: Persoon',
        '    fields: [feilds]',
      ].join('\n');
      const before = await versionCount();
      const { res, written } = await post(officer, '/beheer/beleid/nieuw', { beleid: text });
      expect(res.status).toBe(422);
      const body = await html(res);
      expect(body).toMatch(/Regel 6, <code>rules\[0\]\.fields\[1\]<\/code>: guardrail: diagnose/);
      expect(body).toMatch(
        /Regel 11, <code>rules\[1\]\.fields\[0\]<\/code>: unknown field &#39;feilds&#39;|Regel 11, <code>rules\[1\]\.fields\[0\]<\/code>: unknown field 'feilds'/,
      );
      expect(body).toContain('aria-describedby="beleid-uitleg beleid-problemen"');
      expect(body).toContain('aria-invalid="true"');
      expect(body).toContain('id="beleid-problemen"');
      expect(written).toMatchObject([{ action: 'policy.proposed', outcome: 'deny', reason: 'POLICY_INVALID', channel: 'web' }]);
      expect(await versionCount()).toBe(before);

      const syntax = await post(officer, '/beheer/beleid/nieuw', { beleid: 'rules: [\n  - role: x' });
      expect(syntax.res.status).toBe(422);
      expect(await syntax.res.text()).toContain('YAML syntax error');
      expect(syntax.written).toMatchObject([{ action: 'policy.proposed', outcome: 'deny', reason: 'POLICY_INVALID' }]);
    });
  });

  describe('approving with four eyes and a fresh login', () => {
    it('refuses the author, even after a fresh login; another officer approves only after logging in again', async () => {
      const author = await login(OFFICER);
      const id = await proposeDraft(author);
      const draftPage = await open(author, `/beheer/beleid/${id}`);
      expect(draftPage.body).toContain('Nieuw verstrekt');
      expect(draftPage.body).toMatch(
        /Werkcoach — Overdracht KP4 naar KP3<\/td><td class="utrecht-table__cell">Uitkering <code>betaaldag<\/code><\/td><td class="utrecht-table__cell"><span class="doelpoort-status doelpoort-status--newly-released">Nieuw verstrekt/,
      );

      // The author: the page says so, and the verb refuses the approval after a fresh login too.
      expect((await open(author, `/beheer/beleid/${id}/goedkeuren`)).body).toContain('U kunt uw eigen voorstel niet goedkeuren');
      const back = await reauthenticate(author, id, OFFICER);
      expect(back.status).toBe(303);
      expect(back.headers.get('location')).toBe(`/beheer/beleid/${id}/goedkeuren`);
      const self = await post(author, `/beheer/beleid/${id}/goedkeuren`, {});
      expect(self.res.status).toBe(403);
      expect(await self.res.text()).toContain('U hebt deze versie zelf voorgesteld');
      expect(self.written).toMatchObject([{ action: 'policy.approved', outcome: 'deny', reason: 'POLICY_SELF_APPROVAL', policyId: id }]);

      // Another officer, without a fresh login: refused, nothing changes.
      const second = await login(OFFICER_2);
      const stale = await post(second, `/beheer/beleid/${id}/goedkeuren`, {});
      expect(stale.res.status).toBe(403);
      expect(stale.written).toMatchObject([{ action: 'policy.approved', outcome: 'deny', reason: 'REAUTH_REQUIRED', policyId: id }]);
      expect(web.deps.policies.version.id).not.toBe(id);

      // Logging in again as somebody else is no fresh login of this person.
      const other = await reauthenticate(second, id, OFFICER);
      expect(other.status).toBe(403);
      expect((await lines()).at(-1)).toMatchObject({ action: 'session.refused', reason: 'REAUTH_PERSON_MISMATCH', actor: { sub: OFFICER_2 } });
      expect((await post(second, `/beheer/beleid/${id}/goedkeuren`, {})).res.status).toBe(403);

      // Then properly: the fresh login, the approve form, the approval; the grant is used up.
      const fresh = await reauthenticate(second, id, OFFICER_2);
      expect(fresh.status).toBe(303);
      expect((await lines()).at(-1)).toMatchObject({ action: 'session.reauthenticated', reason: 'REAUTHENTICATED', actor: { sub: OFFICER_2 }, channel: 'web' });
      expect((await open(second, `/beheer/beleid/${id}/goedkeuren`)).body).toContain(`Versie ${id} goedkeuren en laten gelden`);
      const approved = await post(second, `/beheer/beleid/${id}/goedkeuren`, {});
      expect(approved.res.status).toBe(303);
      expect(approved.written).toMatchObject([{ action: 'policy.approved', outcome: 'permit', policyId: id, channel: 'web', actor: { sub: OFFICER_2 } }]);
      expect(web.deps.policies.version.id).toBe(id);
      expect(approved.res.headers.get('location')).toBe(`/beheer/beleid/${id}?goedgekeurd=1`);
      const after = await open(second, approved.res.headers.get('location')!);
      expect(after.body).toContain(`Versie ${id} is goedgekeurd en geldt nu.`);
      expect(after.body).toContain('Actief (geldt nu)');
    });

    it('a fresh login lasts five minutes and one approval', async () => {
      const author = await login(OFFICER);
      const id = await proposeDraft(author);
      const second = await login(OFFICER_2);
      // A grant for another version does not approve this one.
      expect((await reauthenticate(second, id + 1000, OFFICER_2)).status).toBe(303);
      expect((await post(second, `/beheer/beleid/${id}/goedkeuren`, {})).written).toMatchObject([{ reason: 'REAUTH_REQUIRED' }]);
      // Nor does one older than five minutes.
      expect((await reauthenticate(second, id, OFFICER_2)).status).toBe(303);
      web.clock.advance(5 * 60_000 + 1);
      const late = await post(second, `/beheer/beleid/${id}/goedkeuren`, {});
      expect(late.written).toMatchObject([{ action: 'policy.approved', reason: 'REAUTH_REQUIRED' }]);
      expect(web.deps.policies.version.id).not.toBe(id);
    });

    it('rejects a draft with a reason', async () => {
      const author = await login(OFFICER);
      const id = await proposeDraft(author);
      const second = await login(OFFICER_2);
      const { res, written } = await post(second, `/beheer/beleid/${id}/afwijzen`, { reden: 'Niet nodig voor de overdracht' });
      expect(res.status).toBe(303);
      expect(written).toMatchObject([{ action: 'policy.rejected', outcome: 'permit', policyId: id }]);
      expect((await open(second, `/beheer/beleid/${id}`)).body).toContain('Niet nodig voor de overdracht');
    });
  });

  describe('simulating and reviewing', () => {
    it('simulates on a hypothetical record and on a real client; names only', async () => {
      const officer = await login(OFFICER);
      const { res, written } = await post(officer, '/beheer/beleid/simuleren', {
        versie: '',
        rol: 'participatiecoach',
        organisatie: 'GM1960',
        doel: 'overdracht-kp4',
        clientRef: CLIENT,
        dossier: '',
      });
      expect(res.status).toBe(200);
      const body = await res.text();
      expect(body).toContain('Uitkomst');
      expect(body).not.toContain('de Vries');
      expect(written.at(-1)).toMatchObject({ action: 'policy.simulated', outcome: 'permit', clientRef: CLIENT, channel: 'web' });

      const bad = await post(officer, '/beheer/beleid/simuleren', {
        versie: '',
        rol: 'participatiecoach',
        organisatie: 'GM1960',
        doel: 'overdracht-kp4',
        clientRef: '',
        dossier: '{"clientRef": 5}',
      });
      expect(bad.res.status).toBe(422);
      expect(await bad.res.text()).toContain('<code>record.');
      expect(bad.written.at(-1)).toMatchObject({ action: 'policy.simulated', outcome: 'deny', reason: 'RECORD_INVALID' });
    });

    it('records a review with a note and lists it', async () => {
      const officer = await login(OFFICER);
      const month = new Date().toISOString().slice(0, 7);
      const { res, written } = await post(officer, '/beheer/toezicht/beoordelingen', {
        onderwerp: 'monthly',
        maand: month,
        notitie: 'Bekeken, niets bijzonders.',
      });
      expect(res.status).toBe(303);
      expect(written).toMatchObject([{ action: 'oversight.reviewed', outcome: 'permit', reason: 'REVIEW_MONTHLY', channel: 'web' }]);
      const list = await open(officer, res.headers.get('location')!);
      expect(list.body).toContain('Uw beoordeling is vastgelegd');
      expect(list.body).toContain('Bekeken, niets bijzonders.');

      const bsn = await post(officer, '/beheer/toezicht/beoordelingen', { onderwerp: 'monthly', maand: month, notitie: 'klant 101010011' });
      expect(bsn.res.status).toBe(400);
      expect(bsn.written).toMatchObject([{ action: 'oversight.reviewed', outcome: 'deny' }]);
    });
  });
});
