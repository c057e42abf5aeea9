import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../src/policy/document.js';
import type { Role } from '../src/purposes.js';
import type { TestGrant as Grant } from './security-matrix.js';
import { POLICIES_DIR } from './policy-support.js';
import { loadPolicyDirectory } from '../src/policy/load.js';
import { type BothCtx, type BothSetup, forEachDatabase } from './both-databases.js';
import { accessToken, protectedRouteMatrix, send, type MatrixSetup, type RouteRequest } from './security-matrix.js';
import type { PolicySet } from '../src/policy/compile.js';
import type { PolicyOfficer } from '../src/policy/versions.js';
import type { Awaitable } from '../src/unit-of-work.js';
import { IDP_AUDIENCE, IDP_ISSUER } from './token-support.js';

const user = (role: Role, org: string, sub = `${role}-${org}`) => ({ sub, role, org });
const grant = (u: Grant['user'], purpose: Grant['purpose'], client?: string): Grant => ({ user: u, purpose, client });
const anna = user('privacy-officer', 'WERKZAAK', 'po-anna');
const bram = user('privacy-officer', 'WERKZAAK', 'po-bram');
const tiel = user('privacy-officer', 'GM0281', 'po-tiel');
const coach = grant(user('participatiecoach', 'GM1960'), 'overdracht-kp4', 'WZR-100001');
const wrongPurpose = grant(user('privacy-officer', 'WERKZAAK', 'po-anna'), 'toezicht');

/** Values of WZR-100001 (name, BSN, address, phone, medical core) that no policy response may contain. */
const VALUES = [
  'de Vries',
  'Anna',
  '101010011',
  'Dorpsstraat',
  '4101 AB',
  '06-10000001',
  'client1@example.org',
  'Sertraline',
  'Chronische depressieve stoornis',
  'drs. P. Smit',
];

const defaultDocument = () => loadPolicyDirectory(POLICIES_DIR).document;

/** The default policy with `persoon.telefoon` no longer released to participatiecoaches. */
function withoutCoachPhone(document: PolicyDocument): PolicyDocument {
  return {
    rules: document.rules.map((r) =>
      r.role === 'participatiecoach' && r.subject === 'Persoon' && !r.inverted && r.fields ? { ...r, fields: r.fields.filter((f) => f !== 'telefoon') } : r,
    ),
  };
}

async function as(ctx: BothCtx, g: Grant, req: RouteRequest) {
  return send(ctx, req, await accessToken(ctx, g));
}
const officer = (u: Grant['user']) => grant(u, 'beleidsbeheer');
const propose = (ctx: BothCtx, document: unknown, by = anna) => as(ctx, officer(by), { method: 'POST', path: '/v1/policies', body: document });
const approve = (ctx: BothCtx, id: number, by = bram) => as(ctx, officer(by), { method: 'POST', path: `/v1/policies/${id}/approve` });
const readClient = (ctx: BothCtx, g: Grant = coach) => as(ctx, g, { method: 'GET', path: `/v1/clients/${g.client}` });
const json = async <T = any>(res: Response) => (await res.json()) as T;

/** An app with one draft by anna (version 2) on top of the default policy (version 1). */
const withDraft: MatrixSetup = async (make) => {
  const ctx = await make();
  // Either database's stored versions (the SQLite store answers at once, the PostgreSQL one later).
  const { policies } = ctx as unknown as { policies: { set: PolicySet; versions: { propose(document: unknown, author: PolicyOfficer): Awaitable<unknown> } } };
  await policies.versions.propose(withoutCoachPhone(policies.set.document), { iss: IDP_ISSUER, sub: anna.sub, org: anna.org });
  return ctx;
};

/** withDraft on the block's database, with the app's own helpers. */
const withDraftOn = async (setup: BothSetup): Promise<BothCtx> => {
  const ctx = await setup();
  await ctx.policyVersions.propose(withoutCoachPhone(ctx.policies.set.document), { iss: IDP_ISSUER, sub: anna.sub, org: anna.org });
  return ctx;
};

describe('policy routes: the shared security matrix', () => {
  const grants = (valid: Grant) => ({ valid, wrongPurpose });
  describe('GET /v1/policies', () => protectedRouteMatrix({ method: 'GET', path: '/v1/policies' }, grants(officer(anna))));
  describe('GET /v1/policies/{id}', () => protectedRouteMatrix({ method: 'GET', path: '/v1/policies/1' }, grants(officer(anna))));
  describe('POST /v1/policies', () => protectedRouteMatrix({ method: 'POST', path: '/v1/policies', body: defaultDocument() }, grants(officer(anna))));
  describe('POST /v1/policies/simulate', () =>
    protectedRouteMatrix(
      { method: 'POST', path: '/v1/policies/simulate', body: { role: 'participatiecoach', org: 'GM1960', purpose: 'overdracht-kp4', clientRef: 'WZR-100001' } },
      grants(officer(anna)),
    ));
  describe('POST /v1/policies/{id}/approve', () => protectedRouteMatrix({ method: 'POST', path: '/v1/policies/2/approve' }, grants(officer(bram)), withDraft));
  describe('POST /v1/policies/{id}/reject', () =>
    protectedRouteMatrix({ method: 'POST', path: '/v1/policies/2/reject', body: { reason: 'niet nodig' } }, grants(officer(bram)), withDraft));
  describe('GET /v1/policies/{id}/impact', () => protectedRouteMatrix({ method: 'GET', path: '/v1/policies/1/impact' }, grants(officer(anna))));

  forEachDatabase((setup) => {
    it('refuses a coach’s data token as well (403 PURPOSE_NOT_ALLOWED), audited', async () => {
      const ctx = await setup();
      const res = await as(ctx, coach, { method: 'GET', path: '/v1/policies' });
      expect(res.status).toBe(403);
      expect((await json(res)).code).toBe('PURPOSE_NOT_ALLOWED');
      expect(await ctx.lastAudit()).toMatchObject({ action: 'policy.read', outcome: 'deny', reason: 'PURPOSE_NOT_ALLOWED', httpStatus: 403 });
    });
  });
});

forEachDatabase((setup) => {
  describe('GET /v1/policies', () => {
    it('lists the versions and reads one with its document', async () => {
      const ctx = await withDraftOn(setup);
      const list = await json(await as(ctx, officer(anna), { method: 'GET', path: '/v1/policies' }));
      expect(list.active).toBe(1);
      expect(list.items.map((v: any) => [v.id, v.status, v.baseVersion])).toEqual([
        [2, 'draft', 1],
        [1, 'active', null],
      ]);
      expect(list.items[0]).toMatchObject({ author: { sub: 'po-anna', org: 'WERKZAAK' }, decider: null });
      expect(list.items[0].document).toBeUndefined();
      expect(await ctx.lastAudit()).toMatchObject({ action: 'policy.read', outcome: 'permit', count: 2 });

      const one = await json(await as(ctx, officer(anna), { method: 'GET', path: '/v1/policies/2' }));
      expect(one.document).toEqual(withoutCoachPhone(ctx.policies.set.document));
      expect(await ctx.lastAudit()).toMatchObject({ action: 'policy.read', policyId: 2, policyVersion: one.hash });

      const missing = await as(ctx, officer(anna), { method: 'GET', path: '/v1/policies/99' });
      expect(missing.status).toBe(404);
      expect((await json(missing)).code).toBe('POLICY_NOT_FOUND');
      expect(await ctx.lastAudit()).toMatchObject({ action: 'policy.read', outcome: 'deny', reason: 'POLICY_NOT_FOUND', httpStatus: 404 });
      expect((await as(ctx, officer(anna), { method: 'GET', path: '/v1/policies/abc' })).status).toBe(400);
    });
  });

  describe('POST /v1/policies', () => {
    it('stores a valid document as a draft of its author, based on the active version', async () => {
      const ctx = await setup();
      const res = await propose(ctx, withoutCoachPhone(ctx.policies.set.document));
      expect(res.status).toBe(201);
      const body = await json(res);
      expect(res.headers.get('location')).toBe(`/v1/policies/${body.id}`);
      expect(body).toMatchObject({ id: 2, status: 'draft', baseVersion: 1, author: { sub: 'po-anna', org: 'WERKZAAK' } });
      expect(await ctx.lastAudit()).toMatchObject({
        action: 'policy.proposed',
        outcome: 'permit',
        httpStatus: 201,
        policyId: 2,
        policyVersion: body.hash,
        actor: { sub: 'po-anna' },
      });
    });

    it('refuses a document that breaks a guardrail or misspells a key: 422 listing every problem by path, audited, nothing stored', async () => {
      const ctx = await setup();
      const document = {
        rules: [
          ...ctx.policies.set.document.rules,
          { role: 'participatiecoach', purpose: 'overdracht-kp4', action: 'read', subject: 'Belastbaarheidsonderzoek', fields: ['datum', 'diagnose'] },
          { role: 'werkcoach', purpose: 'overdracht-kp3', action: 'read', subject: 'Persoon', feilds: ['voornamen'] },
        ],
      };
      const n = ctx.policies.set.document.rules.length;
      const res = await propose(ctx, document);
      expect(res.status).toBe(422);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      const body = await json<{ code: string; problems: Array<{ path: string; message: string }> }>(res);
      expect(body.code).toBe('POLICY_INVALID');
      const paths = body.problems.map((p) => p.path);
      expect(paths).toContain(`rules[${n}].fields[1]`);
      expect(body.problems.find((p) => p.path === `rules[${n}].fields[1]`)!.message).toMatch(/^guardrail: diagnose/);
      expect(body.problems).toContainEqual({ path: `rules[${n + 1}].feilds`, message: "unknown key 'feilds'" });
      expect(await ctx.policyVersions.list()).toHaveLength(1);
      expect(await ctx.lastAudit()).toMatchObject({ action: 'policy.proposed', outcome: 'deny', reason: 'POLICY_INVALID', httpStatus: 422 });
    });

    it('refuses a body that is not JSON or not a document (audited)', async () => {
      const ctx = await setup();
      const token = await accessToken(ctx, officer(anna));
      const res = await ctx.app.request('/v1/policies', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: '{"rules": [',
      });
      expect(res.status).toBe(400);
      expect((await json(res)).code).toBe('REQUEST_INVALID');
      expect(await ctx.lastAudit()).toMatchObject({ action: 'policy.proposed', outcome: 'deny', reason: 'REQUEST_INVALID', httpStatus: 400 });
      const notADocument = await propose(ctx, ['rules']);
      expect(notADocument.status).toBe(422);
      expect((await json(notADocument)).problems[0].path).toBe('(document)');
    });
  });

  describe('POST /v1/policies/{id}/approve', () => {
    it('a draft changes nothing until another officer approves it; then the next request decides under it', async () => {
      const ctx = await setup();
      const before = await json(await readClient(ctx));
      expect(before.record.persoon.telefoon).toBeDefined();

      const draft = await json(await propose(ctx, withoutCoachPhone(ctx.policies.set.document)));
      const during = await json(await readClient(ctx));
      expect({ ...during, decision: undefined }).toEqual({ ...before, decision: undefined });
      expect(during.decision.policyVersion).toBe(before.decision.policyVersion);

      const self = await approve(ctx, draft.id, anna);
      expect(self.status).toBe(403);
      expect((await json(self)).code).toBe('POLICY_SELF_APPROVAL');
      expect(await ctx.lastAudit()).toMatchObject({
        action: 'policy.approved',
        outcome: 'deny',
        reason: 'POLICY_SELF_APPROVAL',
        httpStatus: 403,
        policyId: draft.id,
      });
      expect(ctx.policies.version.id).toBe(1);

      const res = await approve(ctx, draft.id, bram);
      expect(res.status).toBe(200);
      const approval = await json(res);
      expect(approval.activated).toMatchObject({ id: draft.id, status: 'active', decider: 'po-bram' });
      expect(approval.retired).toMatchObject({ id: 1, status: 'retired' });
      expect(await ctx.lastAudit()).toMatchObject({
        action: 'policy.approved',
        outcome: 'permit',
        policyId: draft.id,
        policyVersion: draft.hash,
        actor: { sub: 'po-bram' },
      });

      const after = await json(await readClient(ctx));
      expect(after.record.persoon.telefoon).toBeUndefined();
      expect(after.record.persoon.achternaam).toBeDefined();
      expect(after.withheld.map((w: { field: string }) => w.field)).toContain('persoon.telefoon');
      expect(after.decision.policyVersion).toBe(draft.hash);
    });

    it('refuses a stale draft (409 POLICY_STALE, saying why) and one that is no longer a draft (409 POLICY_NOT_DRAFT)', async () => {
      const ctx = await setup();
      const a = await json(await propose(ctx, withoutCoachPhone(ctx.policies.set.document)));
      const b = await json(await propose(ctx, { rules: ctx.policies.set.document.rules.slice(1) }));
      expect((await approve(ctx, a.id)).status).toBe(200);
      const stale = await approve(ctx, b.id);
      expect(stale.status).toBe(409);
      const problem = await json(stale);
      expect(problem.code).toBe('POLICY_STALE');
      expect(problem.detail).toMatch(/based on 1, active is 2/);
      expect(await ctx.lastAudit()).toMatchObject({ action: 'policy.approved', outcome: 'deny', reason: 'POLICY_STALE', httpStatus: 409, policyId: b.id });
      expect(ctx.policies.version.id).toBe(a.id);

      const again = await approve(ctx, a.id);
      expect(again.status).toBe(409);
      expect((await json(again)).code).toBe('POLICY_NOT_DRAFT');
      expect((await approve(ctx, 99)).status).toBe(404);
    });
  });

  describe('POST /v1/policies/{id}/reject', () => {
    it('rejects a draft with a reason; the reason stays with the version, not in the audit line', async () => {
      const ctx = await withDraftOn(setup);
      const res = await as(ctx, officer(bram), { method: 'POST', path: '/v1/policies/2/reject', body: { reason: 'telefoon is nodig voor het driegesprek' } });
      expect(res.status).toBe(200);
      expect(await json(res)).toMatchObject({ id: 2, status: 'rejected', decider: 'po-bram', rejectReason: 'telefoon is nodig voor het driegesprek' });
      expect(await ctx.lastAudit()).toMatchObject({ action: 'policy.rejected', outcome: 'permit', policyId: 2 });
      expect(JSON.stringify(ctx.lastAudit())).not.toContain('driegesprek');
      expect((await approve(ctx, 2)).status).toBe(409);

      const noReason = await as(ctx, officer(bram), { method: 'POST', path: '/v1/policies/2/reject', body: {} });
      expect(noReason.status).toBe(400);
      expect(await ctx.lastAudit()).toMatchObject({ action: 'policy.rejected', outcome: 'deny', reason: 'REQUEST_INVALID' });
    });
  });

  describe('four eyes: who may approve and reject', () => {
    /** A second trusted provider, for Werkzaak, with the same `sub`s as the test IdP. */
    async function withSecondProvider() {
      const second = await generateKeyPair('ES256', { extractable: true });
      const jwk = { ...(await exportJWK(second.publicKey)), kid: 'idp-2', alg: 'ES256' };
      const ctx = await setup({}, { extraIdps: [{ issuer: SECOND_ISSUER, audience: IDP_AUDIENCE, organisations: ['WERKZAAK'], jwks: { keys: [jwk] } }] });
      return { ctx, second };
    }
    const SECOND_ISSUER = 'https://login.werkzaak.example';
    const draftBy = (ctx: BothCtx, by: Grant['user']) => propose(ctx, withoutCoachPhone(ctx.policies.set.document), by);

    it('refuses a case variant of the author of the same issuer (403 POLICY_SELF_APPROVAL), audited', async () => {
      const ctx = await setup();
      const werkzaakTiel = user('privacy-officer', 'WERKZAAK', 'po-tiel');
      const draft = await json(await draftBy(ctx, werkzaakTiel));
      for (const variant of ['PO-TIEL', 'Po-Tiel', 'ＰＯ-ＴＩＥＬ']) {
        const res = await approve(ctx, draft.id, user('privacy-officer', 'WERKZAAK', variant));
        expect(res.status).toBe(403);
        expect((await json(res)).code).toBe('POLICY_SELF_APPROVAL');
        expect(await ctx.lastAudit()).toMatchObject({
          action: 'policy.approved',
          outcome: 'deny',
          reason: 'POLICY_SELF_APPROVAL',
          httpStatus: 403,
          actor: { iss: IDP_ISSUER, sub: variant },
        });
      }
      expect(ctx.policies.version.id).toBe(1);
    });

    it('counts the same sub from two providers as two persons: the second may approve, through the real exchange', async () => {
      const { ctx, second } = await withSecondProvider();
      const draft = await json(await draftBy(ctx, anna));
      expect(draft.author).toEqual({ iss: IDP_ISSUER, sub: 'po-anna', org: 'WERKZAAK' });
      const iat = ctx.nowSeconds();
      const login = await new SignJWT({ iss: SECOND_ISSUER, aud: IDP_AUDIENCE, sub: 'po-anna', iat, exp: iat + 600, role: 'privacy-officer', org: 'WERKZAAK' })
        .setProtectedHeader({ alg: 'ES256', kid: 'idp-2', typ: 'JWT' })
        .sign(second.privateKey);
      const exchanged = await ctx.exchange(ctx.exchangeForm(login, { purpose: 'beleidsbeheer' }));
      expect(exchanged.status).toBe(200);
      const { access_token } = await json(exchanged);
      const res = await send(ctx, { method: 'POST', path: `/v1/policies/${draft.id}/approve` }, access_token);
      expect(res.status).toBe(200);
      expect((await json(res)).activated).toMatchObject({ id: draft.id, decider: 'po-anna', deciderIss: SECOND_ISSUER });
      expect(await ctx.lastAudit()).toMatchObject({ action: 'policy.approved', outcome: 'permit', actor: { iss: SECOND_ISSUER, sub: 'po-anna' } });
    });

    it('refuses a municipal officer’s approval and rejection (403 POLICY_DECIDER_NOT_CONTROLLER), audited; proposing stays open', async () => {
      const ctx = await setup();
      const proposed = await draftBy(ctx, tiel);
      expect(proposed.status).toBe(201);
      const draft = await json(proposed);
      const other = user('privacy-officer', 'GM1960', 'po-westbetuwe');

      const approval = await approve(ctx, draft.id, other);
      expect(approval.status).toBe(403);
      expect((await json(approval)).code).toBe('POLICY_DECIDER_NOT_CONTROLLER');
      expect(await ctx.lastAudit()).toMatchObject({
        action: 'policy.approved',
        outcome: 'deny',
        reason: 'POLICY_DECIDER_NOT_CONTROLLER',
        httpStatus: 403,
        actor: { sub: 'po-westbetuwe', org: 'GM1960' },
      });

      for (const by of [other, tiel]) {
        const rejection = await as(ctx, officer(by), { method: 'POST', path: `/v1/policies/${draft.id}/reject`, body: { reason: 'niet nodig' } });
        expect(rejection.status).toBe(403);
        expect((await json(rejection)).code).toBe('POLICY_DECIDER_NOT_CONTROLLER');
        expect(await ctx.lastAudit()).toMatchObject({ action: 'policy.rejected', outcome: 'deny', reason: 'POLICY_DECIDER_NOT_CONTROLLER', httpStatus: 403 });
      }
      expect((await ctx.policyVersions.get(draft.id))!.status).toBe('draft');
      expect((await approve(ctx, draft.id, bram)).status).toBe(200);
    });
  });

  describe('POST /v1/policies/simulate', () => {
    const ask = { role: 'participatiecoach', org: 'GM1960', purpose: 'overdracht-kp4', clientRef: 'WZR-100001' };
    const simulate = (ctx: BothCtx, body: unknown) => as(ctx, officer(anna), { method: 'POST', path: '/v1/policies/simulate', body });

    it('gives the decision and field names under the active version, never a value, and logs the names', async () => {
      const ctx = await setup();
      const res = await simulate(ctx, ask);
      expect(res.status).toBe(200);
      const text = await res.text();
      for (const value of VALUES) expect(text).not.toContain(value);
      const body = JSON.parse(text);
      expect(Object.keys(body).sort()).toEqual(['decision', 'matchedRules', 'released', 'withheld']);
      expect(body.decision).toEqual({ allowed: true, policyVersion: ctx.policies.set.version, relationship: { holds: true } });
      expect(body.released).toContain('persoon.telefoon');
      expect(body.released).toContain('belastbaarheidsonderzoeken[0].arbeidsvermogen');
      expect(body.withheld).toContainEqual(expect.objectContaining({ field: 'belastbaarheidsonderzoeken[0].diagnose' }));

      const fieldsOf = (w: Array<{ field: string }>) => w.map((x) => x.field);
      const line = (await ctx.lastAudit())!;
      expect(line).toMatchObject({
        action: 'policy.simulated',
        outcome: 'permit',
        clientRef: 'WZR-100001',
        policyId: 1,
        policyVersion: ctx.policies.set.version,
        released: body.released,
      });
      expect(line.withheld).toEqual(fieldsOf(body.withheld));

      // The decision a coach gets is the same one.
      const read = await json(await readClient(ctx));
      expect(fieldsOf(body.withheld)).toEqual(fieldsOf(read.withheld));
      expect((await ctx.lastAudit())!.released).toEqual(body.released);
      expect(JSON.stringify(await ctx.auditEntries())).not.toMatch(/de Vries|Sertraline|101010011|06-10000001/);
    });

    it('simulates a stored draft by id and an inline document, validated (422 with paths)', async () => {
      const ctx = await withDraftOn(setup);
      const draft = await json(await simulate(ctx, { ...ask, policy: 2 }));
      expect(draft.released).not.toContain('persoon.telefoon');
      expect(draft.withheld).toContainEqual({ field: 'persoon.telefoon', reason: expect.any(String) });
      expect(await ctx.lastAudit()).toMatchObject({ policyId: 2 });

      const inline = await json(await simulate(ctx, { ...ask, policy: withoutCoachPhone(ctx.policies.set.document) }));
      expect(inline.released).toEqual(draft.released);
      expect((await ctx.lastAudit())!.policyId).toBeUndefined();

      const invalid = await simulate(ctx, {
        ...ask,
        policy: { rules: [{ role: 'werkcoach', purpose: 'overdracht-kp3', action: 'read', subject: 'Fraudeonderzoek', fields: ['id'] }] },
      });
      expect(invalid.status).toBe(422);
      const problem = await json(invalid);
      expect(problem.code).toBe('POLICY_INVALID');
      expect(problem.problems.every((p: { path: string }) => p.path.startsWith('policy: rules[0]'))).toBe(true);
      expect(await ctx.lastAudit()).toMatchObject({ action: 'policy.simulated', outcome: 'deny', reason: 'POLICY_INVALID', httpStatus: 422 });
    });

    it('says when the relationship does not hold, and refuses unknown versions and clients', async () => {
      const ctx = await setup();
      const other = await json(await simulate(ctx, { ...ask, org: 'GM0281' }));
      expect(other).toEqual({
        decision: { allowed: false, policyVersion: ctx.policies.set.version, relationship: { holds: false, reason: 'NO_HANDOVER_TO_ORGANISATION' } },
        released: [],
        withheld: [],
        matchedRules: [],
      });
      const noVersion = await simulate(ctx, { ...ask, policy: 42 });
      expect(noVersion.status).toBe(404);
      expect((await json(noVersion)).code).toBe('POLICY_NOT_FOUND');
      const noClient = await simulate(ctx, { ...ask, clientRef: 'WZR-999999' });
      expect(noClient.status).toBe(404);
      expect((await json(noClient)).code).toBe('RECORD_NOT_FOUND');
      expect(await ctx.lastAudit()).toMatchObject({ outcome: 'deny', reason: 'RECORD_NOT_FOUND', clientRef: 'WZR-999999' });
      const bad = await simulate(ctx, { ...ask, role: 'burgemeester', view: true });
      expect(bad.status).toBe(400);
      expect((await json(bad)).problems.map((p: { path: string }) => p.path).sort()).toEqual(['body', 'body.role']);
    });
  });

  describe('GET /v1/policies/{id}/impact', () => {
    /** Real reads through the API: two coach reads and one debt counsellor read (permit), one closed handover (deny). */
    async function recorded(ctx: BothCtx) {
      const first = await json(await readClient(ctx));
      const second = await json(await readClient(ctx));
      const debt = await readClient(ctx, grant(user('schuldhulpverlener', 'GM0281'), 'schuldhulpverlening', 'WZR-100004'));
      expect(debt.status).toBe(200);
      const closed = await readClient(ctx, grant(user('participatiecoach', 'GM0214'), 'overdracht-kp4', 'WZR-100006'));
      expect(closed.status).toBe(403);
      return [first.decision.id as string, second.decision.id as string];
    }
    const impact = (ctx: BothCtx, id: number, query = '') => as(ctx, officer(anna), { method: 'GET', path: `/v1/policies/${id}/impact${query}` });

    it('replays the logged decisions under a draft and reports exactly what would change', async () => {
      const ctx = await setup();
      const [d1, d2] = await recorded(ctx);
      const draft = await json(await propose(ctx, withoutCoachPhone(ctx.policies.set.document)));
      const res = await impact(ctx, draft.id);
      expect(res.status).toBe(200);
      const text = await res.text();
      for (const value of VALUES) expect(text).not.toContain(value);
      const report = JSON.parse(text);
      expect(report).toMatchObject({
        policy: { id: draft.id, status: 'draft', hash: draft.hash },
        window: { days: 30 },
        policyVersion: draft.hash,
        scanned: 4,
        replayed: 3,
        changed: 2,
        skipped: { NOT_A_POLICY_DECISION: 1, NO_CLIENT: 0, RECORD_GONE: 0, PRUNED: 0 },
        examplesTruncated: false,
      });
      expect(report.groups).toEqual([
        {
          role: 'participatiecoach',
          purpose: 'overdracht-kp4',
          replayed: 2,
          changed: 2,
          accessGranted: 0,
          accessRefused: 0,
          newlyReleased: [],
          newlyWithheld: [{ field: 'persoon.telefoon', lines: 2 }],
        },
        {
          role: 'schuldhulpverlener',
          purpose: 'schuldhulpverlening',
          replayed: 1,
          changed: 0,
          accessGranted: 0,
          accessRefused: 0,
          newlyReleased: [],
          newlyWithheld: [],
        },
      ]);
      expect(report.examples.map((e: any) => [e.clientRef, e.decisionId, e.access, e.newlyReleased, e.newlyWithheld])).toEqual([
        ['WZR-100001', d1, 'unchanged', [], ['persoon.telefoon']],
        ['WZR-100001', d2, 'unchanged', [], ['persoon.telefoon']],
      ]);
      expect(await ctx.lastAudit()).toMatchObject({ action: 'policy.impact', outcome: 'permit', policyId: draft.id, policyVersion: draft.hash, count: 3 });
    });

    it('compares with what each line logged: the active version changes nothing, a restored field and a refusal are counted', async () => {
      const ctx = await setup();
      const document = ctx.policies.set.document;
      await propose(ctx, withoutCoachPhone(document)); // 2
      expect((await approve(ctx, 2)).status).toBe(200);
      await recorded(ctx); // logged under version 2: no phone for coaches

      const active = await json(await impact(ctx, 2));
      expect(active.changed).toBe(0);

      // Version 1 (retired) would give the phone back: newly released relative to the logged lines.
      const v1 = await json(await impact(ctx, 1));
      expect(v1.groups[0]).toMatchObject({
        role: 'participatiecoach',
        changed: 2,
        newlyReleased: [{ field: 'persoon.telefoon', lines: 2 }],
        newlyWithheld: [],
      });

      // A version without any rule for the coaches' purpose refuses what was permitted.
      const none = await json(await propose(ctx, { rules: document.rules.filter((r) => !(r.role === 'participatiecoach' && r.purpose === 'overdracht-kp4')) }));
      const refused = await json(await impact(ctx, none.id));
      expect(refused.groups[0]).toMatchObject({ role: 'participatiecoach', purpose: 'overdracht-kp4', changed: 2, accessRefused: 2, newlyReleased: [] });
      expect(refused.examples[0].access).toBe('refused');
      expect(refused.examples[0].newlyWithheld).toContain('persoon.achternaam');
    });

    it('validates the window and the version', async () => {
      const ctx = await setup();
      expect((await impact(ctx, 1, '?days=0')).status).toBe(400);
      expect((await impact(ctx, 1, '?days=366')).status).toBe(400);
      expect((await json(await impact(ctx, 1, '?days=365'))).window.days).toBe(365);
      const missing = await impact(ctx, 9);
      expect(missing.status).toBe(404);
      expect(await ctx.lastAudit()).toMatchObject({ action: 'policy.impact', outcome: 'deny', reason: 'POLICY_NOT_FOUND' });
    });
  });
});
