import { describe, expect, it } from 'vitest';
import type { Role } from '../src/purposes.js';
import { type BothCtx, type BothSetup, forEachDatabase } from './both-databases.js';
import { accessToken, send, type TestGrant } from './security-matrix.js';

const user = (role: Role, org: string) => ({ sub: `${role}-${org}`, role, org });
const officer = (org: string): TestGrant => ({ user: user('privacy-officer', org), purpose: 'toezicht' });

type Report = {
  clientRef: string;
  opgesteld: string;
  reikwijdte: string;
  raadplegingen: Array<{ organisatie: string; rol: string; doel: string; gegevenscategorieen: string[] }>;
};

async function get(ctx: BothCtx, path: string, g: TestGrant) {
  const res = await send(ctx, { method: 'GET', path }, await accessToken(ctx, g));
  return { status: res.status, body: (await res.json()) as Report };
}

const report = (ctx: BothCtx, clientRef: string, org: string) => get(ctx, `/v1/clients/${clientRef}/access-report`, officer(org));

/** A Tiel debt counsellor reads WZR-100004 (in a trajectory with Tiel); a Werkzaak werkcoach and a GM0297 coach read WZR-100003. */
async function withAccesses(setup: BothSetup): Promise<BothCtx> {
  const ctx = await setup();
  const reads: Array<[string, TestGrant]> = [
    ['/v1/clients/WZR-100004', { user: user('schuldhulpverlener', 'GM0281'), purpose: 'schuldhulpverlening', client: 'WZR-100004' }],
    ['/v1/clients/WZR-100003', { user: user('werkcoach', 'WERKZAAK'), purpose: 'overdracht-kp3', client: 'WZR-100003' }],
    ['/v1/clients/WZR-100003', { user: user('participatiecoach', 'GM0297'), purpose: 'begeleiding-kp4', client: 'WZR-100003' }],
  ];
  for (const [path, g] of reads) expect((await get(ctx, path, g)).status).toBe(200);
  return ctx;
}

forEachDatabase((setup) => {
  describe('GET /v1/clients/{clientRef}/access-report, scoped to the officer’s organisation', () => {
    it('does not tell a municipal officer that another municipality consulted the client (debt counselling in Tiel)', async () => {
      const ctx = await withAccesses(setup);
      const westBetuwe = await report(ctx, 'WZR-100004', 'GM1960');
      expect(westBetuwe.status).toBe(200);
      expect(westBetuwe.body.raadplegingen).toEqual([]);
      expect(westBetuwe.body.reikwijdte).toBe('GM1960');
      expect(JSON.stringify(westBetuwe.body)).not.toMatch(/GM0281|schuld/i);
    });

    it('gives a municipal officer exactly the same answer for that client as for a client that does not exist', async () => {
      const ctx = await withAccesses(setup);
      const consulted = await report(ctx, 'WZR-100004', 'GM1960');
      const unknown = await report(ctx, 'WZR-999999', 'GM1960');
      expect(unknown.status).toBe(consulted.status);
      const strip = ({ clientRef: _, ...rest }: Report) => rest;
      expect(strip(unknown.body)).toEqual(strip(consulted.body));
    });

    it('shows a municipal officer their own organisation’s accesses, with only their categories', async () => {
      const ctx = await withAccesses(setup);
      const gm0297 = await report(ctx, 'WZR-100003', 'GM0297');
      expect(gm0297.body.raadplegingen).toHaveLength(1);
      expect(gm0297.body.raadplegingen[0]).toMatchObject({ organisatie: 'GM0297', rol: 'participatiecoach', doel: 'begeleiding-kp4' });
      const tiel = await report(ctx, 'WZR-100004', 'GM0281');
      expect(tiel.body.raadplegingen.map((r) => r.organisatie)).toEqual(['GM0281']);
      expect(tiel.body.reikwijdte).toBe('GM0281');
    });

    it('shows a Werkzaak officer every organisation’s accesses', async () => {
      const ctx = await withAccesses(setup);
      const all = await report(ctx, 'WZR-100003', 'WERKZAAK');
      expect(all.body.raadplegingen.map((r) => r.organisatie).sort()).toEqual(['GM0297', 'WERKZAAK']);
      expect(all.body.reikwijdte).toBe('alle');
      expect((await report(ctx, 'WZR-100004', 'WERKZAAK')).body.raadplegingen.map((r) => r.organisatie)).toEqual(['GM0281']);
    });
  });
});
