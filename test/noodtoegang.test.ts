import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DAY_MS } from '../src/clock.js';
import { mergeParts } from '../src/policy/compile.js';
import { decide } from '../src/policy/decide.js';
import type { PolicyRuleDocument } from '../src/policy/document.js';
import type { Purpose, Role } from '../src/purposes.js';
import { suiteRecordSchema, type SuiteRecord } from '../src/records/suite-record.js';
import { EXAMPLE_EXPORT_FILE } from '../src/demo.js';
import { type BothCtx, breakAuditWrites, forEachDatabase, storedAuditLines } from './both-databases.js';
import { accessToken, send, type TestGrant } from './security-matrix.js';
import { IDP_ISSUER } from './token-support.js';

/** A reason as a coach would write it; it must never reach a log line, a token or stdout. */
const REDEN = 'Cliënt belt in crisis en de overdracht staat nog niet in Suite (REDEN-7731)';
const MARKER = 'REDEN-7731';

type Json = Record<string, unknown>;
type Item = {
  id: string;
  at: string;
  clientRef: string;
  purpose: string;
  actor: { iss: string; sub: string; role: string; org: string };
  reden: string;
  verdict: string | null;
  review: { note: string; by: { iss: string; sub: string }; at: string } | null;
  overdue: boolean;
};
type Queue = { items: Item[]; next: string | null };

interface Ask {
  sub?: string;
  role?: Role;
  org?: string;
  purpose?: Purpose;
  client?: string;
  noodtoegang?: unknown;
}

/** A real token exchange asking for emergency access (by default a coach of West Betuwe for a KP4 client of Zaltbommel). */
async function askEmergency(t: BothCtx, ask: Ask = {}) {
  const { sub = 'coach-jan', role = 'participatiecoach', org = 'GM1960', purpose = 'begeleiding-kp4', client = 'WZR-100003' } = ask;
  const detail: Json = { purpose, ...(client === '' ? {} : { client }), noodtoegang: 'noodtoegang' in ask ? ask.noodtoegang : { reden: REDEN } };
  const res = await t.exchange(t.exchangeForm(await t.login({ sub, role, org }), detail));
  const body = (await res.json()) as Json;
  return { status: res.status, body };
}

async function granted(t: BothCtx, ask: Ask = {}): Promise<string> {
  const { status, body } = await askEmergency(t, ask);
  expect(status).toBe(200);
  return body.access_token as string;
}

async function get(t: BothCtx, path: string, token: string) {
  const res = await send(t, { method: 'GET', path }, token);
  return { status: res.status, body: (await res.json()) as Json };
}

const officer = (sub: string, org = 'WERKZAAK', issuer = IDP_ISSUER): TestGrant => ({
  user: { sub, role: 'privacy-officer', org, issuer },
  purpose: 'toezicht',
});

async function queue(t: BothCtx, grant: TestGrant, query = '') {
  const res = await send(t, { method: 'GET', path: `/v1/oversight/break-glass${query}` }, await accessToken(t, grant));
  return { status: res.status, body: (await res.json()) as Queue & Json };
}

async function judge(t: BothCtx, grant: TestGrant, id: string, body: unknown) {
  const res = await send(t, { method: 'POST', path: `/v1/oversight/break-glass/${id}/verdict`, body }, await accessToken(t, grant));
  return { status: res.status, body: (await res.json()) as Item & Json };
}

/** The emergency accesses as stored, oldest first. */
async function rows(t: BothCtx): Promise<Array<Record<string, unknown>>> {
  const text = 'SELECT * FROM noodtoegang ORDER BY seq';
  return t.database === 'sqlite' ? (t.db.$client.prepare(text).all() as Array<Record<string, unknown>>) : (await t.pool.query(text)).rows;
}
const auditText = async (t: BothCtx) => (await storedAuditLines(t)).join('\n');

forEachDatabase((setup) => {
  describe('emergency access: asking for it at /oauth/token', () => {
    it('is refused without a reason, with one shorter than 20 characters, or with anything but a reason, and the reason is never logged', async () => {
      const t = await setup();
      const cases: Array<[unknown, string]> = [
        [{}, 'NOODTOEGANG_REDEN_INVALID'],
        [{ reden: 'te kort, 19 tekens!' }, 'NOODTOEGANG_REDEN_INVALID'],
        [{ reden: `${'   '}negentien tekens..${'   '}` }, 'NOODTOEGANG_REDEN_INVALID'],
        [{ reden: 'x'.repeat(501) }, 'NOODTOEGANG_REDEN_INVALID'],
        [{ reden: `${REDEN}\u0007` }, 'NOODTOEGANG_REDEN_INVALID'],
        [{ reden: 42 }, 'NOODTOEGANG_REDEN_INVALID'],
        [true, 'NOODTOEGANG_REDEN_INVALID'],
        [{ reden: REDEN, urgent: true }, 'NOODTOEGANG_INVALID'],
      ];
      for (const [noodtoegang, reason] of cases) {
        const { status, body } = await askEmergency(t, { noodtoegang });
        expect({ status, error: body.error }).toEqual({ status: 400, error: 'invalid_request' });
        expect(await t.lastAudit()).toMatchObject({ action: 'token.refused', outcome: 'deny', reason, httpStatus: 400 });
      }
      // Exactly 20 characters (code points, after trimming) is enough.
      const twenty = 'Cliënt in nood: nu!!';
      expect([...twenty]).toHaveLength(20);
      expect((await askEmergency(t, { noodtoegang: { reden: `  ${twenty}\n` } })).status).toBe(200);
      expect((await rows(t))[0]).toMatchObject({ reden: twenty });
      expect(await auditText(t)).not.toContain(MARKER);
      expect(await auditText(t)).not.toContain('te kort');
    });

    it('is refused without a client, or for a client named by BSN: an emergency access is to one known client', async () => {
      const t = await setup();
      expect(await askEmergency(t, { client: '' })).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
      expect(await t.lastAudit()).toMatchObject({ reason: 'NOODTOEGANG_NEEDS_CLIENT', noodtoegang: true });
      const shv = await t.exchange(
        t.exchangeForm(await t.login({ role: 'schuldhulpverlener', org: 'GM0281' }), {
          purpose: 'schuldhulpverlening',
          bsn: '101013036',
          noodtoegang: { reden: REDEN },
        }),
      );
      expect(shv.status).toBe(400);
      expect(await t.lastAudit()).toMatchObject({ reason: 'NOODTOEGANG_NEEDS_CLIENT' });
      expect(await askEmergency(t, { client: 'WZR-999999' })).toMatchObject({ status: 403, body: { error: 'access_denied' } });
      expect(await t.lastAudit()).toMatchObject({ reason: 'CLIENT_UNKNOWN', noodtoegang: true });
      expect(await rows(t)).toEqual([]);
    });

    it('is refused where no emergency rule allows it: a werkcoach, a debt counsellor, a coach for a handover', async () => {
      const t = await setup();
      const asks: Ask[] = [
        { role: 'werkcoach', org: 'WERKZAAK', purpose: 'overdracht-kp3', client: 'WZR-100001' },
        { role: 'schuldhulpverlener', org: 'GM1960', purpose: 'schuldhulpverlening', client: 'WZR-100004' },
        { purpose: 'overdracht-kp4', client: 'WZR-100003' },
      ];
      for (const ask of asks) {
        expect(await askEmergency(t, ask)).toMatchObject({ status: 403, body: { error: 'access_denied' } });
        expect(await t.lastAudit()).toMatchObject({
          action: 'token.refused',
          outcome: 'deny',
          reason: 'NOODTOEGANG_NOT_ALLOWED',
          noodtoegang: true,
          purpose: ask.purpose,
          httpStatus: 403,
        });
      }
      expect(await rows(t)).toEqual([]);
    });

    it('is refused when the relationship holds: a normal token is the way', async () => {
      const t = await setup();
      // WZR-100003 is KP4 and lives in Zaltbommel: its coach needs no emergency.
      expect(await askEmergency(t, { org: 'GM0297' })).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
      expect(await t.lastAudit()).toMatchObject({ reason: 'NOODTOEGANG_NOT_NEEDED', noodtoegang: true, clientRef: 'WZR-100003' });
      expect(await rows(t)).toEqual([]);
    });

    it('is off with DOELPOORT_NOODTOEGANG_PER_WEEK=0', async () => {
      const t = await setup({ DOELPOORT_NOODTOEGANG_PER_WEEK: '0' });
      expect(await askEmergency(t)).toMatchObject({ status: 403 });
      expect(await t.lastAudit()).toMatchObject({ reason: 'NOODTOEGANG_NOT_ALLOWED' });
    });

    it('grants a coach a token of at most 15 minutes marked noodtoegang, recorded with the reason for the review', async () => {
      for (const ttl of ['300', '900']) {
        const t = await setup({ DOELPOORT_TOKEN_TTL: ttl });
        const { status, body } = await askEmergency(t);
        expect(status).toBe(200);
        expect(body.expires_in).toBe(Number(ttl));
        expect(body.authorization_details).toEqual([
          { type: 'doelbinding', purpose: 'begeleiding-kp4', processingActivityId: 'WZR-VA-012', client: 'WZR-100003', noodtoegang: true },
        ]);
        const claims = decodeJwt(body.access_token as string);
        expect(claims).toMatchObject({ noodtoegang: true, client: 'WZR-100003', purpose: 'begeleiding-kp4', noodtoegang_id: expect.any(String) });
        expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(900);
        expect(JSON.stringify(body)).not.toContain(MARKER);
        expect(JSON.stringify(claims)).not.toContain(MARKER);

        const [row] = await rows(t);
        expect(row).toMatchObject({
          id: claims.noodtoegang_id,
          token_id: claims.jti,
          actor_iss: IDP_ISSUER,
          actor_sub: 'coach-jan',
          actor_role: 'participatiecoach',
          actor_org: 'GM1960',
          client_ref: 'WZR-100003',
          purpose: 'begeleiding-kp4',
          reden: REDEN,
          verdict: null,
        });
        expect(await t.lastAudit()).toMatchObject({
          action: 'token.issued',
          outcome: 'permit',
          noodtoegang: true,
          noodtoegangId: claims.noodtoegang_id,
          tokenId: claims.jti,
          clientRef: 'WZR-100003',
        });
      }
    });
  });

  describe('emergency access: reading with the token', () => {
    it('shows only contact and profile data, and flags every line of the token with its access', async () => {
      const t = await setup();
      const token = await granted(t);
      const id = decodeJwt(token).noodtoegang_id as string;
      const read = await get(t, '/v1/clients/WZR-100003', token);
      expect(read.status).toBe(200);
      const record = read.body.record as Json & { persoon: Json };
      expect(Object.keys(record).sort()).toEqual(['clientRef', 'klantprofielen', 'persoon']);
      expect(Object.keys(record.persoon).sort()).toEqual(['achternaam', 'adres', 'email', 'gemeente', 'telefoon', 'voornamen']);
      expect(read.body.withheld).toEqual([
        { field: 'bsn', reason: expect.stringContaining('zoeksleutel') },
        { field: 'persoon.geboortedatum', reason: 'niet vrijgegeven voor dit doel' },
      ]);
      expect(await t.lastAudit()).toMatchObject({ action: 'record.read', outcome: 'permit', noodtoegang: true, noodtoegangId: id, clientRef: 'WZR-100003' });

      // The same token on any other route, or for another client: refused, and flagged all the same.
      expect((await get(t, '/v1/clients/WZR-100003/handover-document', token)).status).toBe(403);
      expect(await t.lastAudit()).toMatchObject({ action: 'document.read', reason: 'PURPOSE_NOT_FOR_ROUTE', noodtoegang: true, noodtoegangId: id });
      expect((await get(t, '/v1/clients/WZR-100001', token)).body.code).toBe('CLIENT_NOT_ALLOWED');
      expect(await t.lastAudit()).toMatchObject({ action: 'record.read', outcome: 'deny', noodtoegang: true, noodtoegangId: id });
      expect((await get(t, '/v1/clients', token)).status).toBe(403);
      expect(await t.lastAudit()).toMatchObject({ outcome: 'deny', noodtoegang: true, noodtoegangId: id });
      // Expired, it is no one's token any more (as every expired token: its line names no actor).
      t.clock.advance(15 * 60_000 + 1000);
      expect((await get(t, '/v1/clients/WZR-100003', token)).body.code).toBe('TOKEN_EXPIRED');

      const flagged = (await t.auditEntries()).filter((e) => e.noodtoegang === true);
      expect(flagged.map((e) => e.action)).toEqual(['token.issued', 'record.read', 'document.read', 'record.read', 'list.read']);
      expect(flagged.every((e) => e.noodtoegangId === id)).toBe(true);
      // A normal token's lines carry no flag.
      expect((await t.auditEntries()).filter((e) => e.noodtoegang === undefined && e.noodtoegangId !== undefined)).toEqual([]);
    });

    it('never releases a health finding or a guardrail field, for a client whose record holds them all', async () => {
      const t = await setup();
      // WZR-100001 is KP3 (begeleiding-kp4 does not hold) and has every section: findings, health, justice, fraud, fines.
      const token = await granted(t, { client: 'WZR-100001' });
      const read = await get(t, '/v1/clients/WZR-100001', token);
      expect(read.status).toBe(200);
      const text = JSON.stringify(read.body);
      for (const value of [
        'Sertraline',
        'depressieve',
        'verzekeringsarts',
        'medisch',
        'gezondheid',
        'justitie',
        'fraude',
        'boete',
        'onderzoek-zorgprofessional',
      ]) {
        expect(text).not.toContain(value);
      }
      expect(Object.keys(read.body.record as Json).sort()).toEqual(['clientRef', 'klantprofielen', 'persoon']);
    });

    it('keeps health data and guardrail fields out even under emergency rules that try to release them (decide and release)', () => {
      const record = fixture('WZR-100001');
      const all = (subject: PolicyRuleDocument['subject'], fields: string[]): PolicyRuleDocument => ({
        role: 'participatiecoach',
        purpose: 'begeleiding-kp4',
        noodtoegang: true,
        action: 'read',
        subject,
        fields,
      });
      // Merged without the load checks, which would refuse every one of these rules.
      const set = mergeParts([
        {
          source: null,
          document: {
            rules: [
              all('Persoon', ['voornamen']),
              all('Belastbaarheidsonderzoek', ['id', 'arbeidsvermogen', 'prognose', 'advies', 'diagnose', 'medicatie']),
              all('Leefgebied', ['domein', 'score', 'toelichting']),
              all('Ontheffing', ['id', 'soort', 'reden']),
              all('Overdracht', ['id', 'onderbouwing']),
              all('Boete', ['id', 'reden']),
              all('Fraudeonderzoek', ['id', 'status']),
            ],
          },
        },
      ]);
      const d = decide(set, { role: 'participatiecoach', org: 'GM1960', purpose: 'begeleiding-kp4' }, record, { today: '2026-11-23', noodtoegang: true });
      expect(d.released).toContain('persoon.voornamen');
      expect(d.view.belastbaarheidsonderzoeken).toBeUndefined();
      expect(d.view.leefgebieden?.map((l) => l.domein).sort()).toEqual(['huisvesting-financien', 'sociaal', 'werk']);
      expect(d.view.ontheffingen?.[0]).toEqual({ id: 'ONT-1', soort: 'tijdelijk' });
      expect(d.view.overdrachten?.every((o) => o.onderbouwing === undefined)).toBe(true);
      expect(d.view.boetes?.every((b) => b.reden === undefined)).toBe(true);
      expect(d.view.fraudeonderzoeken).toBeUndefined();
      expect(d.withheld).toContainEqual(expect.objectContaining({ field: 'ontheffingen[0].reden', reason: expect.stringContaining('noodtoegang') }));
      // The same rules without the flag do not decide an emergency access, nor an emergency rule a normal one.
      const normal = decide(set, { role: 'participatiecoach', org: 'GM1960', purpose: 'begeleiding-kp4' }, record, { today: '2026-11-23' });
      expect(normal.allowed).toBe(false);
    });

    it('refuses a token whose emergency access is not on record, and an emergency token without a client', async () => {
      const t = await setup();
      const user = { sub: 'coach-jan', role: 'participatiecoach' as const, org: 'GM1960' };
      const forged = await accessToken(t, { user, purpose: 'begeleiding-kp4', client: 'WZR-100003', noodtoegang: { id: randomUUID() } });
      const read = await get(t, '/v1/clients/WZR-100003', forged);
      expect(read).toMatchObject({ status: 403, body: { code: 'ACCESS_DENIED' } });
      expect(await t.lastAudit()).toMatchObject({ reason: 'NOODTOEGANG_UNKNOWN', noodtoegang: true });
      // Another token of the same person cannot borrow a granted access's id either.
      const real = decodeJwt(await granted(t)).noodtoegang_id as string;
      const borrowed = await accessToken(t, { user, purpose: 'begeleiding-kp4', client: 'WZR-100003', noodtoegang: { id: real } });
      expect((await get(t, '/v1/clients/WZR-100003', borrowed)).status).toBe(403);
      expect(await t.lastAudit()).toMatchObject({ reason: 'NOODTOEGANG_UNKNOWN' });
      // Were a policy ever to allow emergency access for a handover purpose, its token still reads no handover document.
      const handover = await accessToken(t, { user, purpose: 'overdracht-kp4', client: 'WZR-100001', noodtoegang: { id: real } });
      expect((await get(t, '/v1/clients/WZR-100001/handover-document', handover)).body.code).toBe('PURPOSE_NOT_ALLOWED');
      expect(await t.lastAudit()).toMatchObject({ action: 'document.read', reason: 'NOODTOEGANG_NOT_FOR_ROUTE', noodtoegang: true });
      const clientless = await accessToken(t, { user, purpose: 'begeleiding-kp4', noodtoegang: { id: real } });
      expect((await get(t, '/v1/clients', clientless)).body.code).toBe('TOKEN_INVALID');
    });
  });

  describe('emergency access: the weekly limit', () => {
    it('grants three in any 7 days per person, refuses the fourth, and allows one again a week later', async () => {
      const t = await setup();
      for (let i = 0; i < 3; i++) {
        await granted(t);
        t.clock.advance(60_000);
      }
      // The same person, whatever the case of the subject; another coach has a limit of their own.
      expect(await askEmergency(t, { sub: 'Coach-Jan' })).toMatchObject({ status: 403, body: { error: 'access_denied' } });
      expect(await t.lastAudit()).toMatchObject({ action: 'token.refused', reason: 'NOODTOEGANG_LIMIT', noodtoegang: true, httpStatus: 403 });
      expect(await t.lastAudit()).not.toHaveProperty('noodtoegangId');
      expect(await t.lastAudit()).not.toHaveProperty('tokenId');
      expect(await rows(t)).toHaveLength(3);
      await granted(t, { sub: 'coach-piet' });

      t.clock.advance(7 * DAY_MS - 3 * 60_000);
      // The first of the three is now exactly 7 days old: it no longer counts, the other two still do.
      await granted(t);
      expect((await askEmergency(t)).status).toBe(403);
      t.clock.advance(2 * 60_000);
      await granted(t);
      expect(await rows(t)).toHaveLength(6);
    });

    it('lets at most one of two requests past the limit through, when they arrive together', async () => {
      const t = await setup({ DOELPOORT_NOODTOEGANG_PER_WEEK: '1' });
      const both = await Promise.all([askEmergency(t), askEmergency(t)]);
      expect(both.map((r) => r.status).sort()).toEqual([200, 403]);
      expect(await rows(t)).toHaveLength(1);
    });
  });

  describe('emergency access: the review queue', () => {
    it('lists it with the reason for Werkzaak’s officers, overdue after 7 days, and logs each viewing', async () => {
      const t = await setup();
      const token = await granted(t);
      const id = decodeJwt(token).noodtoegang_id as string;
      const seen = await queue(t, officer('po-anna'));
      expect(seen.status).toBe(200);
      expect(seen.body).toEqual({
        items: [
          {
            id,
            at: '2026-11-23T10:00:00.000Z',
            clientRef: 'WZR-100003',
            purpose: 'begeleiding-kp4',
            actor: { iss: IDP_ISSUER, sub: 'coach-jan', role: 'participatiecoach', org: 'GM1960' },
            clientId: 'test-client',
            reden: REDEN,
            verdict: null,
            review: null,
            overdue: false,
          },
        ],
        next: null,
      });
      expect(await t.lastAudit()).toMatchObject({
        action: 'noodtoegang.read',
        outcome: 'permit',
        reason: 'NOODTOEGANG_LISTED',
        count: 1,
        actor: { sub: 'po-anna' },
      });
      t.clock.advance(7 * DAY_MS + 1);
      expect((await queue(t, officer('po-anna'))).body.items[0]).toMatchObject({ id, overdue: true });
      expect(await auditText(t)).not.toContain(MARKER);
    });

    it('shows a municipal officer only their own staff’s, pages with a cursor, and refuses other tokens and bad queries', async () => {
      const t = await setup();
      await granted(t);
      await granted(t, { sub: 'coach-tiel', org: 'GM0281' });
      await granted(t, { sub: 'coach-ans', org: 'GM1960', client: 'WZR-100001' });
      expect((await queue(t, officer('po-wb', 'GM1960'))).body.items.map((i) => i.actor.sub)).toEqual(['coach-jan', 'coach-ans']);
      expect((await queue(t, officer('po-tiel', 'GM0281'))).body.items.map((i) => i.actor.sub)).toEqual(['coach-tiel']);
      expect((await queue(t, officer('po-buren', 'GM0214'))).body.items).toEqual([]);
      const first = await queue(t, officer('po-anna'), '?limit=2');
      expect(first.body.items).toHaveLength(2);
      const second = await queue(t, officer('po-anna'), `?limit=2&cursor=${first.body.next}`);
      expect(second.body.items.map((i) => i.actor.sub)).toEqual(['coach-ans']);
      expect(second.body.next).toBeNull();

      expect((await queue(t, { ...officer('po-anna'), purpose: 'beleidsbeheer' })).body.code).toBe('PURPOSE_NOT_ALLOWED');
      expect(await t.lastAudit()).toMatchObject({ action: 'noodtoegang.read', outcome: 'deny', reason: 'PURPOSE_NOT_FOR_ROUTE' });
      const coach: TestGrant = { user: { sub: 'coach-jan', role: 'participatiecoach', org: 'GM1960' }, purpose: 'begeleiding-kp4' };
      expect((await queue(t, coach)).status).toBe(403);
      expect((await queue(t, officer('po-anna'), '?status=closed')).status).toBe(400);
      expect(await t.lastAudit()).toMatchObject({ action: 'noodtoegang.read', outcome: 'deny', reason: 'REQUEST_INVALID', httpStatus: 400 });
      expect((await queue(t, officer('po-anna'), '?cursor=n1.bm9uc2Vuc2U')).status).toBe(400);
    });
  });

  describe('emergency access: the verdict', () => {
    it('is recorded by a Werkzaak officer with a note, logged without the note, and leaves the open queue', async () => {
      const t = await setup();
      const id = decodeJwt(await granted(t)).noodtoegang_id as string;
      const note = 'Terecht: de cliënt was in crisis en de overdracht liep nog (NOTITIE-5512).';
      t.clock.advance(DAY_MS);
      const judged = await judge(t, officer('po-anna'), id, { verdict: 'terecht', note });
      expect(judged.status).toBe(200);
      expect(judged.body).toMatchObject({
        id,
        verdict: 'terecht',
        review: { note, by: { iss: IDP_ISSUER, sub: 'po-anna' }, at: '2026-11-24T10:00:00.000Z' },
        overdue: false,
      });
      expect(await t.lastAudit()).toMatchObject({
        action: 'noodtoegang.verdict',
        outcome: 'permit',
        reason: 'NOODTOEGANG_VERDICT_RECORDED',
        verdict: 'terecht',
        noodtoegangId: id,
        clientRef: 'WZR-100003',
        actor: { sub: 'po-anna', org: 'WERKZAAK' },
      });
      expect(await t.lastAudit()).not.toHaveProperty('noodtoegang');
      expect(await auditText(t)).not.toContain('NOTITIE-5512');
      expect((await rows(t))[0]).toMatchObject({ verdict: 'terecht', verdict_note: note, verdict_iss: IDP_ISSUER, verdict_sub: 'po-anna' });
      expect((await queue(t, officer('po-anna'))).body.items).toEqual([]);
      expect((await queue(t, officer('po-anna'), '?status=all')).body.items).toMatchObject([{ id, verdict: 'terecht', overdue: false }]);

      // One verdict per access: a second, by anyone, is 409.
      const again = await judge(t, officer('po-bert'), id, { verdict: 'onterecht', note: 'toch niet' });
      expect(again).toMatchObject({ status: 409, body: { code: 'NOODTOEGANG_JUDGED' } });
      expect(await t.lastAudit()).toMatchObject({
        action: 'noodtoegang.verdict',
        outcome: 'deny',
        reason: 'NOODTOEGANG_JUDGED',
        noodtoegangId: id,
        httpStatus: 409,
      });
      expect((await rows(t))[0]).toMatchObject({ verdict: 'terecht', verdict_sub: 'po-anna' });
    });

    it('is refused to the person who was granted the access, to a municipal officer, for an unknown id and for a bad body', async () => {
      const t = await setup();
      const id = decodeJwt(await granted(t)).noodtoegang_id as string;
      const body = { verdict: 'onterecht', note: 'geen reden voor noodtoegang' };
      // The same person (iss, sub, whatever the case), now logged in as a Werkzaak privacy officer.
      expect(await judge(t, officer('COACH-JAN'), id, body)).toMatchObject({ status: 403, body: { code: 'NOODTOEGANG_SELF_REVIEW' } });
      expect(await t.lastAudit()).toMatchObject({ action: 'noodtoegang.verdict', outcome: 'deny', reason: 'NOODTOEGANG_SELF_REVIEW', noodtoegangId: id });
      expect(await judge(t, officer('po-wb', 'GM1960'), id, body)).toMatchObject({ status: 403, body: { code: 'NOODTOEGANG_NOT_CONTROLLER' } });
      expect(await t.lastAudit()).not.toHaveProperty('clientRef');
      expect(await judge(t, officer('po-anna'), randomUUID(), body)).toMatchObject({ status: 404, body: { code: 'NOODTOEGANG_NOT_FOUND' } });
      for (const bad of [
        { verdict: 'misschien', note: 'x' },
        { verdict: 'terecht' },
        { verdict: 'terecht', note: '   ' },
        { ...body, note: 'x'.repeat(2001) },
        { ...body, by: 'me' },
      ]) {
        expect((await judge(t, officer('po-anna'), id, bad)).status).toBe(400);
        expect(await t.lastAudit()).toMatchObject({ action: 'noodtoegang.verdict', reason: 'REQUEST_INVALID', noodtoegangId: id });
      }
      expect((await judge(t, officer('po-anna'), 'not-a-uuid', body)).status).toBe(400);
      expect(await t.lastAudit()).not.toHaveProperty('noodtoegangId');
      const coach: TestGrant = { user: { sub: 'coach-jan', role: 'participatiecoach', org: 'GM1960' }, purpose: 'begeleiding-kp4' };
      expect((await judge(t, coach, id, body)).body.code).toBe('PURPOSE_NOT_ALLOWED');
      expect((await rows(t))[0]).toMatchObject({ verdict: null });
      // Another provider's `coach-jan` is another person.
      expect((await judge(t, officer('coach-jan', 'WERKZAAK', 'https://login.werkzaak.example'), id, body)).status).toBe(200);
    });

    it('cannot be changed or an access deleted in the database itself', async () => {
      const t = await setup();
      const id = decodeJwt(await granted(t)).noodtoegang_id as string;
      // One statement with the access's id as its parameter, straight on the database.
      const run = async (text: string) => {
        if (t.database === 'sqlite') t.db.$client.prepare(text).run(id);
        else await t.pool.query(text.replace('?', '$1'), [id]);
      };
      await expect(run("UPDATE noodtoegang SET reden = 'iets anders, lang genoeg' WHERE id = ?")).rejects.toThrow(/one verdict/);
      await expect(run("UPDATE noodtoegang SET verdict = 'terecht' WHERE id = ?")).rejects.toThrow(/one verdict/);
      await expect(run('DELETE FROM noodtoegang WHERE id = ?')).rejects.toThrow(/never deleted/);
      await run("UPDATE noodtoegang SET verdict = 'terecht', verdict_note = 'n', verdict_iss = 'i', verdict_sub = 's', verdict_at = 1 WHERE id = ?");
      await expect(run("UPDATE noodtoegang SET verdict = 'onterecht' WHERE id = ?")).rejects.toThrow(/one verdict/);
    });
  });

  describe('emergency access: the reason stays in the review', () => {
    const writes: string[] = [];
    afterEach(() => {
      vi.restoreAllMocks();
      writes.length = 0;
    });

    it('never reaches stdout, stderr or a log line, through the whole flow', async () => {
      const capture = (chunk: unknown) => {
        writes.push(String(chunk));
        return true;
      };
      vi.spyOn(process.stdout, 'write').mockImplementation(capture);
      vi.spyOn(process.stderr, 'write').mockImplementation(capture);
      for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const)
        vi.spyOn(console, level).mockImplementation((...args) => void writes.push(args.join(' ')));
      const t = await setup();
      const token = await granted(t);
      await get(t, '/v1/clients/WZR-100003', token);
      for (let i = 0; i < 3; i++) await askEmergency(t);
      await askEmergency(t, { noodtoegang: { reden: `${MARKER} kort` } });
      const id = decodeJwt(token).noodtoegang_id as string;
      await queue(t, officer('po-anna'));
      await judge(t, officer('po-anna'), id, { verdict: 'onterecht', note: `${MARKER} in de notitie` });
      // A failed audit write is reported on stderr: the reason is not in that report either.
      await breakAuditWrites(t);
      expect((await askEmergency(t, { sub: 'coach-piet' })).status).toBe(503);
      expect((await rows(t)).map((r) => r.actor_sub)).not.toContain('coach-piet');
      vi.restoreAllMocks();
      // The capture works: the failed write was reported (by codes only).
      expect(writes.join('\n')).toMatch(/audit/i);
      expect(writes.join('\n')).not.toContain(MARKER);
      expect(await auditText(t)).not.toContain(MARKER);
    });
  });

  describe('emergency access: policies', () => {
    it('refuses at proposal an emergency rule that would reach health data, or that is not spelt `noodtoegang: true`', async () => {
      const t = await setup();
      const token = await accessToken(t, { ...officer('po-anna'), purpose: 'beleidsbeheer' });
      const base = { role: 'participatiecoach', purpose: 'begeleiding-kp4', noodtoegang: true, action: 'read' };
      const propose = async (rule: Json) => {
        const res = await send(t, { method: 'POST', path: '/v1/policies', body: { rules: [rule] } }, token);
        return { status: res.status, body: (await res.json()) as { problems?: Array<{ path: string; message: string }> } };
      };
      const cases: Array<[Json, string]> = [
        [{ ...base, subject: 'Belastbaarheidsonderzoek', fields: ['datum'] }, 'rules[0].subject'],
        [{ ...base, subject: 'Ontheffing', fields: ['soort', 'reden'] }, 'rules[0].fields[1]'],
        [{ ...base, subject: 'Overdracht', fields: ['id', 'onderbouwing'] }, 'rules[0].fields[1]'],
        [{ ...base, subject: 'Leefgebied', fields: ['domein'], conditions: { domein: { $ne: 'justitie' } } }, 'rules[0].conditions.domein'],
        [{ ...base, subject: 'Leefgebied', fields: ['domein'], conditions: { domein: { $in: ['werk', 'gezondheid'] } } }, 'rules[0].conditions.domein'],
        [{ ...base, noodtoegang: false, subject: 'Persoon', fields: ['voornamen'] }, 'rules[0].noodtoegang'],
      ];
      for (const [rule, path] of cases) {
        const { status, body } = await propose(rule);
        expect(status).toBe(422);
        expect(body.problems?.map((p) => p.path)).toContain(path);
      }
      // A withholding emergency rule, and an allowing one on the work domain only, are fine.
      expect((await propose({ ...base, subject: 'Leefgebied', fields: ['domein', 'score'], conditions: { domein: 'werk' } })).status).toBe(201);
      expect((await propose({ ...base, subject: 'Belastbaarheidsonderzoek', inverted: true, reason: 'nooit bij noodtoegang' })).status).toBe(201);
    });

    it('simulates an emergency access as the gateway would grant and decide it', async () => {
      const t = await setup();
      const token = await accessToken(t, { ...officer('po-anna'), purpose: 'beleidsbeheer' });
      const simulate = async (org: string, purpose: Purpose = 'begeleiding-kp4') => {
        const body = { role: 'participatiecoach', org, purpose, clientRef: 'WZR-100003', noodtoegang: true };
        return (await (await send(t, { method: 'POST', path: '/v1/policies/simulate', body }, token)).json()) as {
          decision: { allowed: boolean; relationship: { holds: boolean } };
          released: string[];
        };
      };
      const other = await simulate('GM1960');
      expect(other.decision).toMatchObject({ allowed: true, relationship: { holds: false } });
      expect(other.released).toContain('persoon.telefoon');
      expect(other.released.filter((f) => !/^(clientRef|persoon\.|klantprofielen\[)/.test(f))).toEqual([]);
      // Where the relationship holds, or no emergency rule exists, the gateway would grant none.
      expect(await simulate('GM0297')).toMatchObject({ decision: { allowed: false, relationship: { holds: true } }, released: [] });
      expect(await simulate('GM1960', 'overdracht-kp4')).toMatchObject({ decision: { allowed: false }, released: [] });
    });

    it('replays an emergency read under the emergency rules in an impact report', async () => {
      const t = await setup();
      await get(t, '/v1/clients/WZR-100003', await granted(t));
      const token = await accessToken(t, { ...officer('po-anna'), purpose: 'beleidsbeheer' });
      // The active version proposed again: replaying the emergency read under it must change nothing.
      const active = (await (await send(t, { method: 'GET', path: '/v1/policies/1' }, token)).json()) as { document: unknown };
      const draft = (await (await send(t, { method: 'POST', path: '/v1/policies', body: active.document }, token)).json()) as { id: number };
      const impact = (await (await send(t, { method: 'GET', path: `/v1/policies/${draft.id}/impact` }, token)).json()) as Json;
      expect(impact).toMatchObject({ replayed: 1, changed: 0 });
    });
  });
});

function fixture(clientRef: string): SuiteRecord {
  const line = fs
    .readFileSync(EXAMPLE_EXPORT_FILE, 'utf8')
    .split('\n')
    .find((l) => l.includes(`"clientRef":"${clientRef}"`))!;
  return suiteRecordSchema.parse(JSON.parse(line));
}
