import { describe, expect, it } from 'vitest';
import type { Role } from '../src/purposes.js';
import type { TestGrant as Grant } from './security-matrix.js';
import { type BothCtx, dropTrigger, forEachDatabase, runSql } from './both-databases.js';
import { accessToken, protectedRouteMatrix, send } from './security-matrix.js';

const user = (role: Role, org: string, sub = `${role}-${org}`) => ({ sub, role, org });
const officer = user('privacy-officer', 'WERKZAAK', 'po-anna');
const toezicht: Grant = { user: officer, purpose: 'toezicht' };
const coachRead: Grant = { user: user('participatiecoach', 'GM1960', 'coach-jan'), purpose: 'overdracht-kp4', client: 'WZR-100001' };
const counsellorRead: Grant = { user: user('schuldhulpverlener', 'GM0281', 'shv-piet'), purpose: 'schuldhulpverlening', client: 'WZR-100004' };

async function get<T>(ctx: BothCtx, path: string, g: Grant): Promise<{ status: number; body: T; text: string }> {
  const res = await send(ctx, { method: 'GET', path }, await accessToken(ctx, g));
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as T, text };
}

describe('GET /v1/audit', () => {
  protectedRouteMatrix({ method: 'GET', path: '/v1/audit' }, { valid: toezicht, wrongPurpose: { user: officer, purpose: 'beleidsbeheer' } });

  forEachDatabase((setup) => {
    it('lists lines newest first with filters and a cursor, and logs the reading itself', async () => {
      const ctx = await setup();
      await get(ctx, '/v1/clients/WZR-100001', coachRead);
      await get(ctx, '/v1/clients/WZR-100004', counsellorRead);
      const all = await get<{ items: Array<{ seq: number; entry: Record<string, unknown> }>; next: string | null }>(ctx, '/v1/audit?limit=1', toezicht);
      expect(all.status).toBe(200);
      expect(all.body.items).toHaveLength(1);
      expect(all.body.next).not.toBeNull();
      const byClient = await get<{ items: Array<{ entry: Record<string, unknown> }> }>(ctx, '/v1/audit?clientRef=WZR-100001&outcome=permit', toezicht);
      expect(byClient.body.items.map((i) => i.entry.action)).toEqual(['record.read']);
      expect(await ctx.lastAudit()).toMatchObject({ action: 'audit.read', outcome: 'permit', clientRef: 'WZR-100001' });
    });

    it('shows a municipal officer only the lines of their own organisation’s staff', async () => {
      const ctx = await setup();
      await get(ctx, '/v1/clients/WZR-100001', coachRead);
      await get(ctx, '/v1/clients/WZR-100004', counsellorRead);
      const tiel = await get<{ items: Array<{ entry: { actor?: { org: string } } }> }>(ctx, '/v1/audit', {
        user: user('privacy-officer', 'GM0281'),
        purpose: 'toezicht',
      });
      expect(tiel.body.items.length).toBeGreaterThan(0);
      expect(tiel.body.items.every((i) => i.entry.actor?.org === 'GM0281')).toBe(true);
    });

    it('refuses an unknown or malformed filter, with a deny line that never holds the value', async () => {
      const ctx = await setup();
      expect((await get(ctx, '/v1/audit?colour=red', toezicht)).status).toBe(400);
      expect(await ctx.lastAudit()).toMatchObject({
        action: 'audit.read',
        outcome: 'deny',
        reason: 'REQUEST_INVALID',
        httpStatus: 400,
        actor: { sub: 'po-anna' },
      });
      expect((await get(ctx, '/v1/audit?clientRef=101010011', toezicht)).status).toBe(400);
      expect(await ctx.lastAudit()).toMatchObject({ action: 'audit.read', outcome: 'deny', reason: 'CLIENT_REF_INVALID', httpStatus: 400 });
      expect(await ctx.lastAudit()).not.toHaveProperty('clientRef');
      expect(JSON.stringify(await ctx.auditEntries())).not.toContain('101010011');
      expect((await get(ctx, '/v1/audit?actor=coach-1', toezicht)).status).toBe(400);
      expect(await ctx.lastAudit()).toMatchObject({ action: 'audit.read', outcome: 'deny', reason: 'REQUEST_INVALID' });
    });
  });
});

describe('GET /v1/audit/verify', () => {
  protectedRouteMatrix({ method: 'GET', path: '/v1/audit/verify' }, { valid: toezicht, wrongPurpose: coachRead });

  forEachDatabase((setup) => {
    it('answers ok with the head, and names the first bad line once the file was tampered with', async () => {
      const ctx = await setup();
      await get(ctx, '/v1/clients/WZR-100001', coachRead);
      const ok = await get<{ ok: boolean; records: number; head: string }>(ctx, '/v1/audit/verify', toezicht);
      expect(ok.body).toMatchObject({ ok: true });
      expect(ok.body.head).toMatch(/^[0-9a-f]{64}$/);
      await dropTrigger(ctx, 'audit_log_prune_only', 'audit_log');
      await runSql(ctx, `UPDATE audit_log SET entry = replace(entry, 'overdracht-kp4', 'begeleiding-kp4') WHERE seq = 1`);
      const broken = await get<{ ok: boolean; firstBad: { seq: number } }>(ctx, '/v1/audit/verify', toezicht);
      expect(broken.body).toMatchObject({ ok: false, firstBad: { seq: 1 } });
    });
  });
});

describe('GET /v1/audit/verify on a blanked line', () => {
  forEachDatabase((setup) => {
    it('the trigger refuses blanking a recent line; with the triggers dropped, verify names it', async () => {
      const ctx = await setup();
      await get(ctx, '/v1/clients/WZR-100001', coachRead);
      await get(ctx, '/v1/clients/WZR-100001/handover-document', coachRead);
      const blank = () =>
        runSql(
          ctx,
          `UPDATE audit_log SET entry = NULL, actor_sub = NULL, actor_org = NULL, client_ref = NULL, purpose = NULL, decision_id = NULL,
          actor_iss = NULL, actor_role = NULL, bsn_lookup = NULL, noodtoegang = NULL, time_class = NULL WHERE seq = 2`,
        );
      expect(await runSql(ctx, 'SELECT count(*) AS n FROM audit_log WHERE seq = 2 AND entry IS NOT NULL')).toEqual([{ n: 1 }]);
      await expect(blank()).rejects.toThrow(/append-only/);
      expect((await get(ctx, '/v1/audit/verify', toezicht)).body).toMatchObject({ ok: true });
      await dropTrigger(ctx, 'audit_log_prune_only', 'audit_log');
      await blank();
      const broken = await get<{ ok: boolean; firstBad: { seq: number; reason: string } }>(ctx, '/v1/audit/verify', toezicht);
      expect(broken.body).toMatchObject({ ok: false, firstBad: { seq: 2, reason: 'BLANKED_NOT_PRUNED' } });
    });
  });
});

describe('GET /v1/clients/{clientRef}/access-report', () => {
  protectedRouteMatrix({ method: 'GET', path: '/v1/clients/WZR-100001/access-report' }, { valid: toezicht, wrongPurpose: coachRead });

  forEachDatabase((setup) => {
    it('tells when, which organisation and role, which purpose and which categories, without staff names or values', async () => {
      const ctx = await setup();
      await get(ctx, '/v1/clients/WZR-100001', coachRead);
      await get(ctx, '/v1/clients/WZR-100001/handover-document', coachRead);
      await get(ctx, '/v1/clients/WZR-100001', { ...coachRead, client: 'WZR-100002' }); // refused: not a consultation
      const report = await get<{ raadplegingen: Array<Record<string, unknown>> }>(ctx, '/v1/clients/WZR-100001/access-report', toezicht);
      expect(report.status).toBe(200);
      expect(report.body.raadplegingen).toHaveLength(2);
      expect(report.body.raadplegingen[0]).toEqual({
        datum: '2026-11-23',
        organisatie: 'GM1960',
        rol: 'participatiecoach',
        doel: 'overdracht-kp4',
        verwerkingsactiviteit: 'WZR-VA-011',
        gegevenscategorieen: expect.arrayContaining(['Persoonsgegevens', 'Belastbaarheid (gegevens over gezondheid)']),
      });
      for (const secret of ['coach-jan', 'de Vries', 'Sertraline', '101010011']) expect(report.text).not.toContain(secret);
      expect(await ctx.lastAudit()).toMatchObject({ action: 'access-report.read', clientRef: 'WZR-100001' });
    });
  });
});
