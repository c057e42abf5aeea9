import { describe, expect, it } from 'vitest';
import type { Purpose, Role } from '../src/purposes.js';
import type { Overdracht, SuiteRecord } from '../src/records/suite-record.js';
import { fixtureRecords } from './policy-support.js';
import { type BothCtx, forEachDatabase, importRecords } from './both-databases.js';
import { accessToken, send } from './security-matrix.js';

type Body = { record: { belastbaarheidsonderzoeken?: Array<Record<string, unknown>> }; overdracht?: { id?: string } };

/** The fixture client `clientRef` with its handovers replaced by `overdrachten`, imported over the original. */
async function withHandovers(ctx: BothCtx, clientRef: string, overdrachten: Overdracht[]): Promise<void> {
  const record: SuiteRecord = { ...fixtureRecords().find((r) => r.clientRef === clientRef)!, overdrachten };
  await importRecords(ctx, [record]);
}

async function read(ctx: BothCtx, path: string, who: { role: Role; org: string }, purpose: Purpose, client: string): Promise<Body> {
  const res = await send(ctx, { method: 'GET', path }, await accessToken(ctx, { user: { sub: 'u-1', ...who }, purpose, client }));
  expect(res.status).toBe(200);
  return (await res.json()) as Body;
}

const handover = (over: Partial<Overdracht> & Pick<Overdracht, 'id' | 'datum'>, base: Overdracht): Overdracht => ({ ...base, ...over });
const annaHandover = () => fixtureRecords().find((r) => r.clientRef === 'WZR-100001')!.overdrachten![0]!;

/** Both orders of two handovers in the record. */
const bothOrders = <T>(a: T, b: T): Array<[string, T[]]> => [
  ['older first', [a, b]],
  ['newer first', [b, a]],
];

describe('the handover that grounds the findings (two open handovers to one organisation)', () => {
  forEachDatabase((setup) => {
    const coach = { role: 'participatiecoach' as const, org: 'GM1960' };
    const older = handover({ id: 'OV-1', datum: '2026-11-13' }, annaHandover());

    describe('overdracht-kp4: an objection on the newer handover withholds the findings', () => {
      const newer = handover({ id: 'OV-2', datum: '2026-11-20', bezwaarTegenDelen: true }, annaHandover());
      for (const [order, list] of bothOrders(older, newer)) {
        it(`${order}: record and handover document`, async () => {
          const ctx = await setup();
          await withHandovers(ctx, 'WZR-100001', list);
          const record = await read(ctx, '/v1/clients/WZR-100001', coach, 'overdracht-kp4', 'WZR-100001');
          expect(record.record.belastbaarheidsonderzoeken).toBeUndefined();
          const document = await read(ctx, '/v1/clients/WZR-100001/handover-document', coach, 'overdracht-kp4', 'WZR-100001');
          expect(document.record.belastbaarheidsonderzoeken).toBeUndefined();
          expect(document.overdracht?.id).toBe('OV-2'); // the newest open handover is the one the document shows
        });
      }
    });

    describe('overdracht-kp4: an objection on the older open handover still stands', () => {
      const objected = handover({ id: 'OV-1', datum: '2026-11-13', bezwaarTegenDelen: true }, annaHandover());
      const newer = handover({ id: 'OV-2', datum: '2026-11-20' }, annaHandover());
      for (const [order, list] of bothOrders(objected, newer)) {
        it(order, async () => {
          const ctx = await setup();
          await withHandovers(ctx, 'WZR-100001', list);
          expect((await read(ctx, '/v1/clients/WZR-100001', coach, 'overdracht-kp4', 'WZR-100001')).record.belastbaarheidsonderzoeken).toBeUndefined();
        });
      }
    });

    describe('overdracht-kp4: the newest decides whether the client was informed', () => {
      const uninformed = handover({ id: 'OV-2', datum: '2026-11-20', clientGeinformeerd: false }, annaHandover());
      for (const [order, list] of bothOrders(older, uninformed)) {
        it(order, async () => {
          const ctx = await setup();
          await withHandovers(ctx, 'WZR-100001', list);
          expect((await read(ctx, '/v1/clients/WZR-100001', coach, 'overdracht-kp4', 'WZR-100001')).record.belastbaarheidsonderzoeken).toBeUndefined();
        });
      }
    });

    it('overdracht-kp4: two open handovers without objection release the findings (the control)', async () => {
      const ctx = await setup();
      await withHandovers(ctx, 'WZR-100001', [older, handover({ id: 'OV-2', datum: '2026-11-20' }, annaHandover())]);
      const body = await read(ctx, '/v1/clients/WZR-100001', coach, 'overdracht-kp4', 'WZR-100001');
      expect(body.record.belastbaarheidsonderzoeken?.[0]).toMatchObject({ arbeidsvermogen: 'geen' });
    });

    it('overdracht-kp4: a handover on the same day as another is ordered by id', async () => {
      const ctx = await setup();
      const sameDay = handover({ id: 'OV-0', datum: '2026-11-13', bezwaarTegenDelen: false }, annaHandover());
      await withHandovers(ctx, 'WZR-100001', [older, sameDay]);
      const document = await read(ctx, '/v1/clients/WZR-100001/handover-document', coach, 'overdracht-kp4', 'WZR-100001');
      expect(document.overdracht?.id).toBe('OV-1');
    });

    describe('overdracht-kp3: an objection on any open KP4→KP3 handover to Werkzaak withholds the findings', () => {
      const werkcoach = { role: 'werkcoach' as const, org: 'WERKZAAK' };
      const kp3 = () => fixtureRecords().find((r) => r.clientRef === 'WZR-100003')!.overdrachten!;
      const [kp3kp4, current] = [kp3()[0]!, kp3()[1]!]; // OV-1 KP3→KP4 (afgerond), OV-2 KP4→KP3 (aangevraagd, no objection)
      const objected = handover({ id: 'OV-3', datum: '2026-11-01', bezwaarTegenDelen: true }, current);
      for (const [order, list] of bothOrders(objected, current)) {
        it(order, async () => {
          const ctx = await setup();
          await withHandovers(ctx, 'WZR-100003', [kp3kp4, ...list]);
          expect((await read(ctx, '/v1/clients/WZR-100003', werkcoach, 'overdracht-kp3', 'WZR-100003')).record.belastbaarheidsonderzoeken).toBeUndefined();
        });
      }
      it('the control: without the objection the findings are released', async () => {
        const ctx = await setup();
        await withHandovers(ctx, 'WZR-100003', [kp3kp4, handover({ id: 'OV-3', datum: '2026-11-01' }, current), current]);
        expect((await read(ctx, '/v1/clients/WZR-100003', werkcoach, 'overdracht-kp3', 'WZR-100003')).record.belastbaarheidsonderzoeken).toHaveLength(1);
      });
    });

    describe('begeleiding-kp4: an objection on any KP3→KP4 handover that brought the client stands', () => {
      const kp4coach = { role: 'participatiecoach' as const, org: 'GM0214' };
      const brought = () => fixtureRecords().find((r) => r.clientRef === 'WZR-100006')!.overdrachten![0]!; // OV-1, afgerond 2026-05-07
      const earlier = handover({ id: 'OV-0', datum: '2026-04-01', bezwaarTegenDelen: true }, brought());
      for (const [order, list] of bothOrders(earlier, brought())) {
        it(order, async () => {
          const ctx = await setup();
          await withHandovers(ctx, 'WZR-100006', list);
          expect((await read(ctx, '/v1/clients/WZR-100006', kp4coach, 'begeleiding-kp4', 'WZR-100006')).record.belastbaarheidsonderzoeken).toBeUndefined();
        });
      }
      it('the control: without the objection the findings are released', async () => {
        const ctx = await setup();
        await withHandovers(ctx, 'WZR-100006', [handover({ id: 'OV-0', datum: '2026-04-01' }, brought()), brought()]);
        expect((await read(ctx, '/v1/clients/WZR-100006', kp4coach, 'begeleiding-kp4', 'WZR-100006')).record.belastbaarheidsonderzoeken).toHaveLength(1);
      });
    });
  });
});
