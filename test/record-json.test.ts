import { describe, expect, it } from 'vitest';
import { auditFacts } from '../src/audit/facts.js';
import type { Caller } from '../src/caller.js';
import { readClientRecord, type ClientReading, type ReleasedClient } from '../src/clients/read.js';
import { clientRecordJson, DECIDED_BY } from '../src/clients/record-json.js';
import { deepFreeze } from '../src/freeze.js';
import type { Decision } from '../src/policy/decide.js';
import { DecisionCache } from '../src/policy/decision-cache.js';
import type { Purpose, Requester, Role } from '../src/purposes.js';
import type { SuiteRecord } from '../src/records/suite-record.js';
import { setupTokens } from './token-support.js';

const TRACE = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) };

async function setup() {
  const ctx = await setupTokens();
  const reading: ClientReading = { policies: ctx.policies, clock: ctx.clock, decisions: new DecisionCache() };
  const asking = (role: Role, org: string, purpose: Purpose, client: string): Caller => {
    const requester: Requester = { issuer: 'https://login.gemeente.example', sub: `${role}-${org}`, role, org, purpose, client, tokenId: 'tok-1' };
    return { requester, facts: auditFacts({ trace: TRACE, origin: '192.0.2.1' }, requester) };
  };
  const read = (role: Role, org: string, purpose: Purpose, client: string) => readClientRecord(ctx.uow, reading, asking(role, org, purpose, client), client);
  return { ...ctx, reading, read };
}

/** What `c.json` wrote for a record answer before, and the order of its keys. */
const plain = (client: ReleasedClient, purpose: Purpose) =>
  JSON.stringify({ clientRef: client.clientRef, purpose, record: client.record, withheld: client.withheld, decision: client.decision });

const cases = [
  ['participatiecoach', 'GM1960', 'overdracht-kp4', 'WZR-100001'],
  ['participatiecoach', 'GM0668', 'begeleiding-kp4', 'WZR-100005'],
  ['werkcoach', 'WERKZAAK', 'overdracht-kp3', 'WZR-100003'],
  ['schuldhulpverlener', 'GM0281', 'schuldhulpverlening', 'WZR-100004'],
] as const;

describe('clientRecordJson', () => {
  it('writes the very bytes JSON.stringify gives, on the first answer of a decision and on the cached ones', async () => {
    const t = await setup();
    for (const [role, org, purpose, ref] of cases) {
      for (let i = 0; i < 2; i++) {
        const client = await t.read(role, org, purpose, ref);
        expect(clientRecordJson(client, purpose)).toBe(plain(client, purpose));
        expect(Object.keys(JSON.parse(clientRecordJson(client, purpose)))).toEqual(['clientRef', 'purpose', 'record', 'withheld', 'decision']);
      }
    }
  });

  it('gives each answer its own decision id around the shared bytes', async () => {
    const t = await setup();
    const a = await t.read('participatiecoach', 'GM1960', 'overdracht-kp4', 'WZR-100001');
    const b = await t.read('participatiecoach', 'GM1960', 'overdracht-kp4', 'WZR-100001');
    expect(a.decision.id).not.toBe(b.decision.id);
    expect(JSON.parse(clientRecordJson(b, 'overdracht-kp4')).decision.id).toBe(b.decision.id);
  });

  it('follows a re-import: a changed record is a new decision and new bytes', async () => {
    const t = await setup();
    const before = await t.read('participatiecoach', 'GM1960', 'overdracht-kp4', 'WZR-100001');
    const first = JSON.parse(clientRecordJson(before, 'overdracht-kp4')) as { record: { belastbaarheidsonderzoeken: Array<Record<string, unknown>> } };
    const shown = Object.entries(first.record.belastbaarheidsonderzoeken[0]!).find(([, v]) => typeof v === 'string')!;
    const changed = structuredClone(t.records.get('WZR-100001')!) as SuiteRecord & { belastbaarheidsonderzoeken: Array<Record<string, unknown>> };
    changed.belastbaarheidsonderzoeken[0]![shown[0]] = `${shown[1]} (gewijzigd)`;
    t.records.replace(changed, t.clock.now());
    const after = await t.read('participatiecoach', 'GM1960', 'overdracht-kp4', 'WZR-100001');
    const body = clientRecordJson(after, 'overdracht-kp4');
    expect(body).toBe(plain(after, 'overdracht-kp4'));
    expect(JSON.parse(body).record.belastbaarheidsonderzoeken[0][shown[0]]).toBe(`${shown[1]} (gewijzigd)`);
  });

  it('never serves the bytes of one decision for another', () => {
    const decision = (value: string): Decision =>
      deepFreeze({
        allowed: true,
        released: ['persoon.woonplaats'],
        withheld: [],
        matchedRules: [],
        policyVersion: 'v1',
        view: { persoon: { woonplaats: value } },
      } as unknown as Decision);
    const client = (d: Decision): ReleasedClient =>
      Object.defineProperty({ clientRef: 'WZR-100001', record: d.view, withheld: [], decision: { id: 'd-1', policyVersion: 'v1' } }, DECIDED_BY, { value: d });
    const tiel = decision('Tiel');
    const culemborg = decision('Culemborg');
    expect(clientRecordJson(client(tiel), 'overdracht-kp4')).toContain('"Tiel"');
    expect(clientRecordJson(client(culemborg), 'overdracht-kp4')).toContain('"Culemborg"');
    expect(clientRecordJson(client(culemborg), 'overdracht-kp4')).not.toContain('Tiel');
    expect(clientRecordJson(client(tiel), 'overdracht-kp4')).not.toContain('Culemborg');
  });

  it('writes a decision that is not frozen afresh each time, so a change to it shows', () => {
    const loose = {
      allowed: true,
      released: [],
      withheld: [],
      matchedRules: [],
      policyVersion: 'v1',
      view: { persoon: { woonplaats: 'Tiel' } },
    } as unknown as Decision;
    const client = Object.defineProperty(
      { clientRef: 'WZR-100001', record: loose.view, withheld: [], decision: { id: 'd-1', policyVersion: 'v1' } },
      DECIDED_BY,
      { value: loose },
    ) as ReleasedClient;
    expect(clientRecordJson(client, 'overdracht-kp4')).toContain('"Tiel"');
    (loose.view as { persoon: { woonplaats: string } }).persoon.woonplaats = 'Buren';
    expect(clientRecordJson(client, 'overdracht-kp4')).toContain('"Buren"');
  });
});
