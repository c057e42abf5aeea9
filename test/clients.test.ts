import { describe, expect, it } from 'vitest';
import type { Role } from '../src/purposes.js';
import type { TestGrant as Grant } from './security-matrix.js';
import { accessToken, protectedRouteMatrix, send } from './security-matrix.js';
import { breakAuditWrites, type BothCtx, forEachDatabase } from './both-databases.js';

const user = (role: Role, org: string, sub = `${role}-${org}`) => ({ sub, role, org });
const coach1960 = user('participatiecoach', 'GM1960');
const grant = (u: Grant['user'], purpose: Grant['purpose'], client?: string): Grant => ({ user: u, purpose, client });

const MEDICAL = ['Chronische depressieve stoornis', 'Gesprekstherapie', 'Sertraline', 'Terugval na ontslag'];
const FRAUD_AND_JUSTICE = ['Mogelijk samenwonen niet gemeld', 'Taakstraf in 2018', 'Inkomsten uit bijbaan niet gemeld'];

async function read(ctx: BothCtx, path: string, g: Grant, headers: Record<string, string> = {}) {
  return send(ctx, { method: 'GET', path }, await accessToken(ctx, g), headers);
}

describe('GET /v1/clients/{clientRef}', () => {
  protectedRouteMatrix(
    { method: 'GET', path: '/v1/clients/WZR-100001' },
    {
      valid: grant(coach1960, 'overdracht-kp4', 'WZR-100001'),
      wrongPurpose: grant(user('privacy-officer', 'WERKZAAK'), 'toezicht'),
      otherClient: grant(coach1960, 'overdracht-kp4', 'WZR-100002'),
      otherOrganisation: grant(user('participatiecoach', 'GM0281'), 'overdracht-kp4', 'WZR-100001'),
    },
  );

  forEachDatabase((setup) => {
    it('gives a coach the handover findings, never the medical core, fraud or justice, and logs the field names', async () => {
      const ctx = await setup();
      const res = await read(ctx, '/v1/clients/WZR-100001', grant(coach1960, 'overdracht-kp4', 'WZR-100001'));
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const text = await res.clone().text();
      const body = (await res.json()) as {
        clientRef: string;
        purpose: string;
        record: Record<string, any>;
        withheld: Array<{ field: string }>;
        decision: { id: string; policyVersion: string };
      };
      expect(body).toMatchObject({ clientRef: 'WZR-100001', purpose: 'overdracht-kp4' });
      expect(body.record.belastbaarheidsonderzoeken[0]).toMatchObject({ arbeidsvermogen: 'geen', urenPerWeek: 6 });
      expect(body.record.bsn).toBeUndefined();
      expect(body.record.fraudeonderzoeken).toBeUndefined();
      expect(body.record.uitkering?.nettoBedragMaand).toBeUndefined();
      expect(body.withheld.map((w) => w.field)).toContain('belastbaarheidsonderzoeken[0].diagnose');
      expect(body.withheld.some((w) => w.field.startsWith('fraudeonderzoeken'))).toBe(false);
      for (const secret of [...MEDICAL, ...FRAUD_AND_JUSTICE, '101010011']) expect(text).not.toContain(secret);

      const line = (await ctx.lastAudit())!;
      expect(line).toMatchObject({
        action: 'record.read',
        outcome: 'permit',
        clientRef: 'WZR-100001',
        purpose: 'overdracht-kp4',
        decisionId: body.decision.id,
        policyVersion: body.decision.policyVersion,
        httpStatus: 200,
      });
      expect(line.released).toContain('belastbaarheidsonderzoeken[0].arbeidsvermogen');
      expect(line.withheld).toContain('belastbaarheidsonderzoeken[0].diagnose');
      expect(JSON.stringify(await ctx.auditEntries())).not.toMatch(/Sertraline|de Vries|101010011|Dorpsstraat/);
    });

    it('leaves out the assessment when the client objected to sharing', async () => {
      const ctx = await setup();
      const res = await read(ctx, '/v1/clients/WZR-100002', grant(user('participatiecoach', 'GM1740'), 'overdracht-kp4', 'WZR-100002'));
      expect(res.status).toBe(200);
      const body = (await res.json()) as { record: Record<string, unknown> };
      expect(body.record.belastbaarheidsonderzoeken).toBeUndefined();
      expect(body.record.persoon).toBeDefined();
    });

    it('gives the debt counsellor the income side and nothing of health', async () => {
      const ctx = await setup();
      const res = await read(ctx, '/v1/clients/WZR-100004', grant(user('schuldhulpverlener', 'GM0281'), 'schuldhulpverlening', 'WZR-100004'));
      expect(res.status).toBe(200);
      const body = (await res.json()) as { record: Record<string, any> };
      expect(body.record.uitkering.nettoBedragMaand).toBeTypeOf('number');
      expect(body.record.belastbaarheidsonderzoeken).toBeUndefined();
      expect(body.record.klantprofielen).toBeUndefined();
    });

    it('re-checks the relationship on every request: a token does not outlive the handover window', async () => {
      const ctx = await setup();
      const token = await accessToken(ctx, grant(user('participatiecoach', 'GM0214'), 'overdracht-kp4', 'WZR-100006'));
      const res = await send(ctx, { method: 'GET', path: '/v1/clients/WZR-100006' }, token);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { code: string }).code).toBe('RELATIONSHIP_MISSING');
      expect(await ctx.lastAudit()).toMatchObject({ outcome: 'deny', reason: 'HANDOVER_CLOSED', clientRef: 'WZR-100006' });
    });

    it('answers 404 for the client its token names when that client is gone, 403 for any other', async () => {
      const ctx = await setup();
      const gone = await read(ctx, '/v1/clients/WZR-999999', grant(coach1960, 'overdracht-kp4', 'WZR-999999'));
      expect(gone.status).toBe(404);
      const other = await read(ctx, '/v1/clients/WZR-999999', grant(coach1960, 'overdracht-kp4', 'WZR-100001'));
      expect(other.status).toBe(403);
    });

    it('refuses query parameters: they can never widen a view', async () => {
      const ctx = await setup();
      const res = await read(ctx, '/v1/clients/WZR-100001?fields=diagnose', grant(coach1960, 'overdracht-kp4', 'WZR-100001'));
      expect(res.status).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe('REQUEST_INVALID');
      // A refused input of an audited route is a line of the route's own action (src/http/validate.ts).
      expect(await ctx.lastAudit()).toMatchObject({
        action: 'record.read',
        outcome: 'deny',
        reason: 'REQUEST_INVALID',
        httpStatus: 400,
        clientRef: 'WZR-100001',
      });
    });

    it('fails closed: when the audit line cannot be written, 503 and no data', async () => {
      const ctx = await setup();
      const token = await accessToken(ctx, grant(coach1960, 'overdracht-kp4', 'WZR-100001'));
      await breakAuditWrites(ctx);
      const res = await send(ctx, { method: 'GET', path: '/v1/clients/WZR-100001' }, token);
      expect(res.status).toBe(503);
      const text = await res.text();
      expect(JSON.parse(text)).toMatchObject({ code: 'AUDIT_WRITE_FAILED' });
      expect(text).not.toContain('de Vries');
    });
  });
});

describe('GET /v1/clients/{clientRef}/handover-document', () => {
  protectedRouteMatrix(
    { method: 'GET', path: '/v1/clients/WZR-100001/handover-document' },
    {
      valid: grant(coach1960, 'overdracht-kp4', 'WZR-100001'),
      wrongPurpose: grant(user('participatiecoach', 'GM0668'), 'begeleiding-kp4', 'WZR-100005'),
      otherClient: grant(coach1960, 'overdracht-kp4', 'WZR-100002'),
      otherOrganisation: grant(user('participatiecoach', 'GM0281'), 'overdracht-kp4', 'WZR-100001'),
    },
  );

  forEachDatabase((setup) => {
    it('gives JSON with signals, and a printable Dutch page for Accept: text/html', async () => {
      const ctx = await setup();
      const g = grant(coach1960, 'overdracht-kp4', 'WZR-100001');
      const json = await read(ctx, '/v1/clients/WZR-100001/handover-document', g);
      expect(json.status).toBe(200);
      const doc = (await json.json()) as { richting: string; signalen: string[]; decision: { id: string } };
      expect(doc.richting).toBe('KP3-KP4');
      expect(doc.signalen.join(' ')).toContain('inkomensconsulent');
      const page = await read(ctx, '/v1/clients/WZR-100001/handover-document', g, { accept: 'text/html' });
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await page.text();
      expect(html).toContain('Overdracht KP3 naar KP4');
      expect(html).toContain('Niet gedeeld');
      for (const secret of MEDICAL) expect(html).not.toContain(secret);
      expect(await ctx.lastAudit()).toMatchObject({ action: 'document.read', outcome: 'permit' });
    });

    it('serves the werkcoach the return file of a KP4 → KP3 handover', async () => {
      const ctx = await setup();
      const res = await read(ctx, '/v1/clients/WZR-100003/handover-document', grant(user('werkcoach', 'WERKZAAK'), 'overdracht-kp3', 'WZR-100003'));
      expect(res.status).toBe(200);
      expect(((await res.json()) as { richting: string }).richting).toBe('KP4-KP3');
    });
  });
});

describe('GET /v1/clients (caseload)', () => {
  const counsellor = user('schuldhulpverlener', 'GM0281');
  protectedRouteMatrix(
    { method: 'GET', path: '/v1/clients' },
    {
      valid: grant(counsellor, 'schuldhulpverlening'),
      wrongPurpose: grant(coach1960, 'overdracht-kp4', 'WZR-100001'),
      otherClient: undefined,
    },
  );

  forEachDatabase((setup) => {
    it('lists the clients of the counsellor’s own active trajectories, each as the purpose may see it, one audit line each', async () => {
      const ctx = await setup();
      const res = await read(ctx, '/v1/clients?limit=10', grant(counsellor, 'schuldhulpverlening'));
      expect(res.status).toBe(200);
      const body = (await res.json()) as { items: Array<{ clientRef: string; record: Record<string, any> }>; next: string | null };
      expect(body.items.map((i) => i.clientRef)).toEqual(['WZR-100004']);
      expect(body.items[0]!.record.uitkering.nettoBedragMaand).toBeTypeOf('number');
      expect(body.next).toBeNull();
      expect(await ctx.lastAudit()).toMatchObject({ action: 'caseload.read', clientRef: 'WZR-100004', outcome: 'permit' });

      const elsewhere = await read(ctx, '/v1/clients', grant(user('schuldhulpverlener', 'GM0297'), 'schuldhulpverlening'));
      expect(((await elsewhere.json()) as { items: unknown[] }).items).toEqual([]);
    });

    it('refuses a client-bound schuldhulp token for the caseload', async () => {
      const ctx = await setup();
      const res = await read(ctx, '/v1/clients', grant(counsellor, 'schuldhulpverlening', 'WZR-100004'));
      expect(res.status).toBe(403);
    });
  });
});
