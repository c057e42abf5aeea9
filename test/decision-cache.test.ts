import { describe, expect, it } from 'vitest';
import { openRecordsDatabase } from '../src/db.js';
import { deepFreeze } from '../src/freeze.js';
import { decide } from '../src/policy/decide.js';
import { DecisionCache } from '../src/policy/decision-cache.js';
import { loadPolicyDirectory } from '../src/policy/load.js';
import { PURPOSES, ROLES, type Purpose } from '../src/purposes.js';
import { generateSuiteExport, RIVIERENLAND } from '../src/records/generate.js';
import { RecordStore } from '../src/records/store.js';
import { fixtureRecords, POLICIES_DIR } from './policy-support.js';
import { TODAY } from './support.js';

const set = loadPolicyDirectory(POLICIES_DIR);
const ORGS = ['WERKZAAK', ...RIVIERENLAND.slice(0, 3).map((m) => m.code)];
const PURPOSE_NAMES = Object.keys(PURPOSES) as Purpose[];
const DAYS = [TODAY, '2027-03-01'];

describe('DecisionCache', () => {
  it('gives exactly the uncached decision, on a miss and on a hit, for generated records and every requester', () => {
    const records = [...fixtureRecords(), ...generateSuiteExport({ clients: 150, seed: 7, today: TODAY })];
    const cache = new DecisionCache();
    let compared = 0;
    for (const original of records) {
      const record = deepFreeze(structuredClone(original));
      for (const role of ROLES)
        for (const org of ORGS)
          for (const purpose of PURPOSE_NAMES)
            for (const today of DAYS) {
              const requester = { role, org, purpose };
              const uncached = decide(set, requester, original, { today });
              expect(cache.decide(set, requester, record, { today })).toEqual(uncached);
              expect(cache.decide(set, requester, record, { today })).toEqual(uncached);
              compared++;
            }
    }
    expect(compared).toBeGreaterThan(10_000);
  });

  it('hands out frozen decisions, shared between requests (the caller pairs each with its own decision id)', () => {
    const record = deepFreeze(fixtureRecords()[0]!);
    const cache = new DecisionCache();
    const requester = { role: 'participatiecoach', org: 'GM0214', purpose: 'overdracht-kp4' } as const;
    const a = cache.decide(set, requester, record, { today: TODAY });
    const b = cache.decide(set, requester, record, { today: TODAY });
    expect(b).toBe(a);
    expect(a).not.toHaveProperty('decisionId');
    expect(Object.isFrozen(a.view)).toBe(true);
    expect(Object.isFrozen(a.released)).toBe(true);
  });

  it('follows a re-import: an objection registered in the stored record changes the record object and the decision', () => {
    const db = openRecordsDatabase(':memory:');
    const store = new RecordStore(db);
    const cache = new DecisionCache();
    const record = fixtureRecords().find((r) =>
      r.overdrachten?.some((o) => o.richting === 'KP3-KP4' && o.status === 'aangevraagd' && o.clientGeinformeerd && !o.bezwaarTegenDelen),
    )!;
    const handover = record.overdrachten!.find((o) => o.richting === 'KP3-KP4' && o.status === 'aangevraagd')!;
    const requester = { role: 'participatiecoach', org: handover.naarOrganisatie, purpose: 'overdracht-kp4' } as const;
    store.replace(record, 1);
    const first = store.get(record.clientRef)!;
    expect(store.get(record.clientRef)).toBe(first);
    const before = cache.decide(set, requester, first, { today: TODAY });

    // Another process re-imports with an objection: only the stored text tells this one.
    const other = new RecordStore(db);
    const objected = structuredClone(record);
    objected.overdrachten!.find((o) => o.id === handover.id)!.bezwaarTegenDelen = true;
    other.replace(objected, 2);
    const second = store.get(record.clientRef)!;
    expect(second).not.toBe(first);
    const after = cache.decide(set, requester, second, { today: TODAY });
    expect(after).toEqual(decide(set, requester, objected, { today: TODAY }));
    expect(after).not.toEqual(before);
  });

  it('does not cache a decision on a record that is not frozen', () => {
    const record = structuredClone(fixtureRecords()[0]!);
    const cache = new DecisionCache();
    const requester = { role: 'participatiecoach', org: 'GM0214', purpose: 'overdracht-kp4' } as const;
    cache.decide(set, requester, record, { today: TODAY });
    record.overdrachten = [];
    expect(cache.decide(set, requester, record, { today: TODAY })).toEqual(decide(set, requester, record, { today: TODAY }));
  });
});
