import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DoelpoortError } from '../src/errors.js';
import type { PolicyDocument } from '../src/policy/document.js';
import { organisationCouldSee, type Role } from '../src/purposes.js';
import { importSuiteExport } from '../src/records/import.js';
import { fixtureRecords } from './policy-support.js';
import { accessToken, send, type RouteRequest, type TokenCtx, type TestGrant } from './security-matrix.js';
import { setupApp, TODAY } from './support.js';
import { IDP_ISSUER, setupTokens } from './token-support.js';

/**
 * Issue 10, item 1: an officer's tools are bounded by what the officer's organisation could see. A simulation on a real
 * client needs a client the organisation could see (Werkzaak: every client), otherwise a hypothetical record; impact
 * replay uses only the logged lines of such clients.
 */

const user = (role: Role, org: string, sub = `${role}-${org}`) => ({ sub, role, org });
const officer = (sub: string, org: string): TestGrant => ({ user: user('privacy-officer', org, sub), purpose: 'beleidsbeheer' });
const anna = officer('po-anna', 'WERKZAAK');
/** A Tiel officer: WZR-100004 lives in Tiel and has a trajectory there; WZR-100001 is a West Betuwe client. */
const bram = officer('po-bram', 'GM0281');
const json = async <T = any>(res: Response) => (await res.json()) as T;
const as = async (ctx: TokenCtx, g: TestGrant, req: RouteRequest) => send(ctx, req, await accessToken(ctx, g));
const simulate = (ctx: TokenCtx, by: TestGrant, body: unknown) => as(ctx, by, { method: 'POST', path: '/v1/policies/simulate', body });

const ask = { role: 'participatiecoach', org: 'GM1960', purpose: 'overdracht-kp4' };
/** Values of WZR-100001 that no answer may contain. */
const VALUES = ['de Vries', 'Anna', '101010011', 'Dorpsstraat', 'Sertraline', 'Chronische depressieve stoornis'];
const fixture = (ref: string) => structuredClone(fixtureRecords().find((r) => r.clientRef === ref)!);

describe(organisationCouldSee.name, () => {
  const [anne, , back, debt] = fixtureRecords();
  it('lets Werkzaak see every client, and a municipality its residents, its handovers and its trajectories', () => {
    for (const r of fixtureRecords()) expect(organisationCouldSee('WERKZAAK', r, TODAY)).toBe(true);
    expect(organisationCouldSee('GM1960', anne!, TODAY)).toBe(true); // lives there and is handed over to it
    expect(organisationCouldSee('GM0281', anne!, TODAY)).toBe(false);
    expect(organisationCouldSee('GM0281', debt!, TODAY)).toBe(true); // lives there, trajectory there
    expect(organisationCouldSee('GM0297', back!, TODAY)).toBe(true);
  });

  it('counts a handover to or from the municipality and a trajectory with it, once they have started', () => {
    const moved = { ...anne!, persoon: { ...anne!.persoon, gemeente: 'GM0214' } };
    expect(organisationCouldSee('GM1960', moved, TODAY)).toBe(true); // the handover to GM1960
    expect(organisationCouldSee('GM1960', moved, '2026-11-12')).toBe(false); // the day before it
    const back = {
      ...moved,
      overdrachten: moved.overdrachten!.map((o) => ({ ...o, richting: 'KP4-KP3' as const, vanOrganisatie: 'GM1960', naarOrganisatie: 'WERKZAAK' })),
    };
    expect(organisationCouldSee('GM1960', back, TODAY)).toBe(true);
    const traject = { ...moved, overdrachten: [], schuldhulptrajecten: [{ id: 'SHV-1', gemeente: 'GM0281', vanaf: '2026-12-01', tot: null }] };
    expect(organisationCouldSee('GM0281', traject, TODAY)).toBe(false);
    expect(organisationCouldSee('GM0281', traject, '2026-12-01')).toBe(true);
  });
});

describe('POST /v1/policies/simulate on a real client', () => {
  it('refuses a municipal officer a client its organisation could not see: 403 CLIENT_NOT_ALLOWED, audited, no field names', async () => {
    const ctx = await setupTokens();
    const res = await simulate(ctx, bram, { ...ask, clientRef: 'WZR-100001' });
    expect(res.status).toBe(403);
    const text = await res.text();
    for (const value of VALUES) expect(text).not.toContain(value);
    const problem = JSON.parse(text);
    expect(problem.code).toBe('CLIENT_NOT_ALLOWED');
    expect(problem.released).toBeUndefined();
    expect(ctx.lastAudit()).toMatchObject({
      action: 'policy.simulated',
      outcome: 'deny',
      reason: 'CLIENT_NOT_ALLOWED',
      httpStatus: 403,
      clientRef: 'WZR-100001',
      actor: { sub: 'po-bram', org: 'GM0281' },
    });
    expect(ctx.lastAudit()!.released).toBeUndefined();
  });

  it('answers an unknown client exactly as a foreign one, so the refusal is no existence oracle', async () => {
    const ctx = await setupTokens();
    const shape = async (clientRef: string) => {
      const res = await simulate(ctx, bram, { ...ask, clientRef });
      const { requestId: _, ...problem } = await json(res);
      const { clientRef: _ref, traceId: _t, spanId: _s, tokenId: _k, ...line } = ctx.lastAudit()!;
      return { status: res.status, problem, line };
    };
    const foreign = await shape('WZR-100001');
    const unknown = await shape('WZR-999999');
    expect(unknown).toEqual(foreign);
    expect(unknown.status).toBe(403);
  });

  it('lets a municipal officer simulate a client its organisation could see', async () => {
    const ctx = await setupTokens();
    const res = await simulate(ctx, bram, { role: 'schuldhulpverlener', org: 'GM0281', purpose: 'schuldhulpverlening', clientRef: 'WZR-100004' });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.decision.relationship).toEqual({ holds: true });
    expect(body.released).toContain('uitkering.nettoBedragMaand');
    expect(ctx.lastAudit()).toMatchObject({ action: 'policy.simulated', outcome: 'permit', clientRef: 'WZR-100004', released: body.released });
  });

  it('lets a Werkzaak officer simulate any client, and tells it when a client is unknown', async () => {
    const ctx = await setupTokens();
    for (const r of fixtureRecords()) {
      const res = await simulate(ctx, anna, { ...ask, clientRef: r.clientRef });
      expect(res.status).toBe(200);
    }
    const unknown = await simulate(ctx, anna, { ...ask, clientRef: 'WZR-999999' });
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).code).toBe('RECORD_NOT_FOUND');
  });

  it('asks for exactly one of clientRef and record (400)', async () => {
    const ctx = await setupTokens();
    expect((await simulate(ctx, anna, ask)).status).toBe(400);
    const both = await simulate(ctx, anna, { ...ask, clientRef: 'WZR-100001', record: fixture('WZR-100001') });
    expect(both.status).toBe(400);
    expect((await json(both)).code).toBe('REQUEST_INVALID');
  });
});

describe('POST /v1/policies/simulate on a hypothetical record', () => {
  /** A made-up West Betuwe client, handed over to GM1960: nobody on record. */
  const hypothetical = () => ({ ...fixture('WZR-100001'), clientRef: 'HYP-1', bsn: '111222333' });

  it('lets a municipal officer simulate a record it gives, under any version, without a clientRef in the line', async () => {
    const ctx = await setupTokens();
    const res = await simulate(ctx, bram, { ...ask, record: hypothetical() });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.decision).toMatchObject({ allowed: true, relationship: { holds: true } });
    expect(body.released).toContain('belastbaarheidsonderzoeken[0].arbeidsvermogen');
    expect(body.withheld).toContainEqual(expect.objectContaining({ field: 'belastbaarheidsonderzoeken[0].diagnose' }));
    // The same decision as on the real client, which a Werkzaak officer may simulate.
    const real = await json(await simulate(ctx, anna, { ...ask, clientRef: 'WZR-100001' }));
    expect(body.released).toEqual(real.released);
    const line = ctx.auditEntries().at(-2)!;
    expect(line).toMatchObject({ action: 'policy.simulated', outcome: 'permit', actor: { sub: 'po-bram' }, released: body.released });
    expect(line.clientRef).toBeUndefined();
    expect(JSON.stringify(ctx.auditEntries())).not.toMatch(/de Vries|Sertraline|111222333/);
  });

  it('refuses a malformed record with the import’s value-free problems (422 RECORD_INVALID), echoing no value', async () => {
    const ctx = await setupTokens();
    const record = hypothetical() as Record<string, any>;
    record.bsn = '123456788';
    record.persoon.geboortedatum = '1980-02-30';
    record.persoon.adres.postcode = 'GEHEIM-9';
    record.persoon.hobby = 'postzegels';
    delete record.persoon.achternaam;
    record.belastbaarheidsonderzoeken[0].diagnose = 42;
    const res = await simulate(ctx, bram, { ...ask, record });
    expect(res.status).toBe(422);
    const text = await res.text();
    for (const value of ['123456788', '1980-02-30', 'GEHEIM-9', 'postzegels', 'Sertraline', 'de Vries']) expect(text).not.toContain(value);
    const problem = JSON.parse(text);
    expect(problem.code).toBe('RECORD_INVALID');

    // Exactly the problems `doelpoort import` reports for the same line, with `record.` for `line 1: `.
    const importing = setupApp();
    const error = await importSuiteExport(importing.records, Readable.from([JSON.stringify(record)]), { clock: importing.clock }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DoelpoortError);
    const imported = (error as DoelpoortError).problems.map((p) => ({ path: p.path.replace(/^line 1: /, 'record.'), message: p.message }));
    expect(problem.problems).toEqual(imported);
    expect(problem.problems.map((p: { path: string }) => p.path).sort()).toEqual(
      [
        'record.bsn',
        'record.persoon',
        'record.persoon.achternaam',
        'record.persoon.geboortedatum',
        'record.persoon.adres.postcode',
        'record.belastbaarheidsonderzoeken[0].diagnose',
      ].sort(),
    );
    expect(ctx.lastAudit()).toMatchObject({ action: 'policy.simulated', outcome: 'deny', reason: 'RECORD_INVALID', httpStatus: 422 });
    expect(JSON.stringify(ctx.lastAudit())).not.toMatch(/GEHEIM|postzegels/);
  });

  it('refuses a record that is not an object (400)', async () => {
    const ctx = await setupTokens();
    expect((await simulate(ctx, bram, { ...ask, record: ['WZR-100001'] })).status).toBe(400);
    expect((await simulate(ctx, bram, { ...ask, record: 'WZR-100001' })).status).toBe(400);
  });
});

describe('GET /v1/policies/{id}/impact for a municipal officer', () => {
  /** The default policy without `persoon.telefoon` for anyone: every logged read of a Persoon changes. */
  const withoutPhone = (document: PolicyDocument): PolicyDocument => ({
    rules: document.rules.map((r) => (r.subject === 'Persoon' && !r.inverted && r.fields ? { ...r, fields: r.fields.filter((f) => f !== 'telefoon') } : r)),
  });

  /** Logged traffic: two coach reads of WZR-100001 (West Betuwe) and one debt counsellor read of WZR-100004 (Tiel). */
  async function recorded(ctx: TokenCtx) {
    const coach: TestGrant = { user: user('participatiecoach', 'GM1960'), purpose: 'overdracht-kp4', client: 'WZR-100001' };
    const counsellor: TestGrant = { user: user('schuldhulpverlener', 'GM0281'), purpose: 'schuldhulpverlening', client: 'WZR-100004' };
    for (const g of [coach, coach, counsellor]) expect((await as(ctx, g, { method: 'GET', path: `/v1/clients/${g.client}` })).status).toBe(200);
  }
  const impact = (ctx: TokenCtx, by: TestGrant, id: number) => as(ctx, by, { method: 'GET', path: `/v1/policies/${id}/impact` });

  it('counts only the lines of clients its organisation could see; Werkzaak counts them all', async () => {
    const ctx = await setupTokens();
    await recorded(ctx);
    const draft = ctx.policies.versions.propose(withoutPhone(ctx.policies.set.document), { iss: IDP_ISSUER, sub: 'po-anna', org: 'WERKZAAK' });

    const all = await json(await impact(ctx, anna, draft.id));
    expect(all).toMatchObject({ scanned: 3, replayed: 3, changed: 3 });
    expect(new Set(all.examples.map((e: { clientRef: string }) => e.clientRef))).toEqual(new Set(['WZR-100001', 'WZR-100004']));

    const tiel = await impact(ctx, bram, draft.id);
    expect(tiel.status).toBe(200);
    const text = await tiel.text();
    expect(text).not.toContain('WZR-100001');
    const report = JSON.parse(text);
    expect(report).toMatchObject({ scanned: 1, replayed: 1, changed: 1, skipped: { NOT_A_POLICY_DECISION: 0, NO_CLIENT: 0, RECORD_GONE: 0, PRUNED: 0 } });
    expect(report.groups).toEqual([
      {
        role: 'schuldhulpverlener',
        purpose: 'schuldhulpverlening',
        replayed: 1,
        changed: 1,
        accessGranted: 0,
        accessRefused: 0,
        newlyReleased: [],
        newlyWithheld: [{ field: 'persoon.telefoon', lines: 1 }],
      },
    ]);
    expect(report.examples.map((e: { clientRef: string }) => e.clientRef)).toEqual(['WZR-100004']);
    expect(ctx.lastAudit()).toMatchObject({ action: 'policy.impact', outcome: 'permit', count: 1, actor: { sub: 'po-bram' } });

    const westBetuwe = await json(await impact(ctx, officer('po-wim', 'GM1960'), draft.id));
    expect(westBetuwe).toMatchObject({ scanned: 2, replayed: 2, changed: 2 });
    expect(westBetuwe.examples.map((e: { clientRef: string }) => e.clientRef)).toEqual(['WZR-100001', 'WZR-100001']);
  });

  it('leaves out lines whose client is no longer on record or which name none', async () => {
    const ctx = await setupTokens();
    await recorded(ctx);
    ctx.records.db.$client.prepare("DELETE FROM clients WHERE client_ref = 'WZR-100004'").run();
    const all = await json(await impact(ctx, anna, 1));
    expect(all.skipped.RECORD_GONE).toBe(1);
    const tiel = await json(await impact(ctx, bram, 1));
    expect(tiel).toMatchObject({ scanned: 0, replayed: 0, skipped: { RECORD_GONE: 0 } });
  });
});
