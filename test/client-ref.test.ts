import { describe, expect, it } from 'vitest';
import { accessToken, send, type TestGrant } from './security-matrix.js';
import { forEachDatabase } from './both-databases.js';

const coach: TestGrant = { user: { sub: 'coach-1', role: 'participatiecoach', org: 'GM1960' }, purpose: 'overdracht-kp4', client: 'WZR-100001' };
const officer: TestGrant = { user: { sub: 'po-1', role: 'privacy-officer', org: 'WERKZAAK' }, purpose: 'toezicht' };

/** A nine-digit value that passes the elfproef (it may be a BSN), and one longer than a clientRef may be. */
const BSN_SHAPED = '101010011';
const TOO_LONG = `WZR-${'1'.repeat(40)}`;

forEachDatabase((setup) => {
  describe('a malformed clientRef is refused with 400 and logged without it', () => {
    const routes: Array<[string, (ref: string) => string, TestGrant, string]> = [
      ['GET /v1/clients/{clientRef}', (ref) => `/v1/clients/${ref}`, coach, 'record.read'],
      ['GET /v1/clients/{clientRef}/handover-document', (ref) => `/v1/clients/${ref}/handover-document`, coach, 'document.read'],
      ['GET /v1/clients/{clientRef}/access-report', (ref) => `/v1/clients/${ref}/access-report`, officer, 'access-report.read'],
    ];
    for (const [name, path, grant, action] of routes) {
      for (const [kind, ref] of [
        ['nine digits', BSN_SHAPED],
        ['over-long', TOO_LONG],
      ] as const) {
        it(`${name}: ${kind}`, async () => {
          const ctx = await setup();
          const before = (await ctx.auditEntries()).length;
          const res = await send(ctx, { method: 'GET', path: path(ref) }, await accessToken(ctx, grant));
          expect(res.status).toBe(400);
          const body = await res.text();
          expect(JSON.parse(body)).toMatchObject({ status: 400, code: 'REQUEST_INVALID' });
          if (ref === BSN_SHAPED) expect(body).not.toContain(ref); // not even in `instance`
          const lines = (await ctx.auditEntries()).slice(before);
          expect(lines).toHaveLength(1);
          expect(lines[0]).toMatchObject({ action, outcome: 'deny', reason: 'CLIENT_REF_INVALID', httpStatus: 400 });
          expect(lines[0]).not.toHaveProperty('clientRef');
          expect(JSON.stringify(await ctx.auditEntries())).not.toContain(ref);
        });
      }
    }

    for (const [kind, ref] of [
      ['nine digits', BSN_SHAPED],
      ['over-long', TOO_LONG],
    ] as const) {
      it(`POST /oauth/token with authorization_details naming a client of ${kind}`, async () => {
        const ctx = await setup();
        const res = await ctx.exchange(ctx.exchangeForm(await ctx.login(), { purpose: 'overdracht-kp4', client: ref }));
        expect(res.status).toBe(400);
        const body = await res.text();
        expect(JSON.parse(body)).toMatchObject({ error: 'invalid_request' });
        expect(body).not.toContain(ref);
        expect(await ctx.lastAudit()).toMatchObject({ action: 'token.refused', outcome: 'deny', reason: 'CLIENT_REF_INVALID', httpStatus: 400 });
        expect(await ctx.lastAudit()).not.toHaveProperty('clientRef');
        expect(JSON.stringify(await ctx.auditEntries())).not.toContain(ref);
      });
    }

    it('still records a well-formed reference on the line of a refusal for another reason', async () => {
      const ctx = await setup();
      const res = await ctx.exchange(ctx.exchangeForm(await ctx.login({ org: 'GM0281' }), { purpose: 'overdracht-kp4', client: 'WZR-100001' }));
      expect(res.status).toBe(403);
      expect(await ctx.lastAudit()).toMatchObject({ action: 'token.refused', clientRef: 'WZR-100001' });
    });
  });
});
