import { afterEach, describe, expect, it, vi } from 'vitest';
import { RIVIERENLAND, generateSuiteExport } from '../src/records/generate.js';
import { PURPOSES, relationship, type Purpose } from '../src/purposes.js';
import type { SuiteRecord } from '../src/records/suite-record.js';
import { accessToken, send } from './security-matrix.js';
import { TODAY } from './support.js';
import { forEachDatabase, replaceRecords, storedAuditLines } from './both-databases.js';

/** Every value a guardrail protects in a record: none may ever leave, in any body, error, log or audit line. */
function guardedValues(r: SuiteRecord): string[] {
  return [
    ...(r.belastbaarheidsonderzoeken ?? []).flatMap((b) => [b.diagnose, b.behandeling, b.medicatie, b.medischeToelichting]),
    ...(r.fraudeonderzoeken ?? []).map((f) => f.omschrijving),
    ...(r.boetes ?? []).map((b) => b.reden),
    ...(r.leefgebieden ?? []).filter((l) => l.domein === 'justitie').map((l) => l.toelichting),
  ].filter((v): v is string => typeof v === 'string' && v.length > 0 && v !== 'Geen');
}

const ORGS = [...RIVIERENLAND.map((g) => g.code), 'WERKZAAK'];
const DATA_PURPOSES: Purpose[] = ['overdracht-kp4', 'begeleiding-kp4', 'overdracht-kp3', 'schuldhulpverlening'];

describe('guardrails, end to end', () => {
  afterEach(() => vi.restoreAllMocks());

  forEachDatabase((setup) => {
    it('never lets a guarded value or a BSN out, for any generated record, role, purpose and organisation', async () => {
      const ctx = await setup();
      const records = [...generateSuiteExport({ clients: 250, seed: 42, today: TODAY })];
      await replaceRecords(ctx, records);
      const printed: string[] = [];
      for (const stream of ['log', 'error', 'warn', 'info'] as const)
        vi.spyOn(console, stream).mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(' ')));

      const bodies: string[] = [];
      let permitted = 0;
      for (const record of records) {
        for (const purpose of DATA_PURPOSES) {
          const role = PURPOSES[purpose].roles[0];
          // One organisation the relationship holds for (when any), and one it does not.
          const holds = ORGS.find((org) => relationship(purpose, { org }, record, TODAY).holds);
          const other = ORGS.find((org) => org !== holds && org !== 'WERKZAAK');
          for (const org of [holds, other]) {
            if (!org) continue;
            const token = await accessToken(ctx, { user: { sub: `u-${org}`, role, org }, purpose, client: record.clientRef });
            for (const path of [`/v1/clients/${record.clientRef}`, `/v1/clients/${record.clientRef}/handover-document`]) {
              const res = await send(ctx, { method: 'GET', path }, token);
              if (res.status === 200) permitted++;
              bodies.push(await res.text());
            }
          }
        }
      }
      expect(permitted).toBeGreaterThan(200);
      const audit = await storedAuditLines(ctx);
      const everything = [...bodies, ...audit, ...printed].join('\n');
      for (const record of records) {
        for (const value of [...guardedValues(record), record.bsn])
          expect(everything.includes(value), `a guarded value of ${record.clientRef} left`).toBe(false);
      }
    }, 120_000);
  });
});
