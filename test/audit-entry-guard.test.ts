import { describe, expect, it } from 'vitest';
import { auditEntryProblem, auditEntrySchema } from '../src/audit/entry.js';

const base = {
  action: 'record.read',
  traceId: 'a'.repeat(32),
  spanId: 'b'.repeat(16),
  parentSpanId: 'e'.repeat(16),
  remoteParent: true,
  origin: '127.0.0.1',
  actor: { iss: 'https://login.gemeente.example', sub: 'coach-1', role: 'participatiecoach', org: 'GM0214' },
  outcome: 'permit',
  reason: 'PERMIT',
  httpStatus: 200,
  purpose: 'overdracht-kp4',
  processingActivityId: 'WZR-VA-011',
  tokenId: 'jti_1-x',
  clientRef: 'WZR-100001',
  bsnPseudonym: 'c'.repeat(64),
  policyVersion: 'd'.repeat(64),
  decisionId: '0f8fad5b-d9cb-469f-a165-70867728950e',
  released: ['persoon.naam', 'belastbaarheidsonderzoeken[0].datum'],
  withheld: ['belastbaarheidsonderzoeken[0].diagnose'],
};

const VALUES: unknown[] = [
  undefined,
  null,
  '',
  'x',
  'PERMIT',
  'permit',
  'deny',
  'error',
  'a'.repeat(32),
  'b'.repeat(16),
  'c'.repeat(64),
  'A'.repeat(32),
  'x'.repeat(65),
  'x'.repeat(129),
  'x'.repeat(257),
  '123456789',
  'WZR-1',
  'wzr-1',
  'GM0214',
  'GM021',
  'WERKZAAK',
  'participatiecoach',
  'toezicht',
  'overdracht-kp4',
  'terecht',
  'onterecht',
  '0f8fad5b-d9cb-469f-a165-70867728950e',
  '0F8FAD5B-D9CB-469F-A165-70867728950E',
  'has.dots.in.it',
  'jti with space',
  0,
  1,
  -1,
  99,
  100,
  599,
  600,
  200.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 60,
  true,
  false,
  {},
  [],
  ['persoon.naam'],
  ['a[0].b'],
  ['a..b'],
  ['1'],
  ['Jan Jansen'],
  [1],
  Object.freeze(['persoon.naam']),
  { sub: 'u', role: 'werkcoach', org: 'WERKZAAK' },
  { sub: '', role: 'werkcoach', org: 'WERKZAAK' },
  { sub: 'u', role: 'x', org: 'WERKZAAK' },
  { sub: 'u', role: 'werkcoach', org: 'WERKZAAK', bsn: '1' },
  { sub: 'u', role: 'werkcoach' },
  { iss: 'https://i.example', sub: 'u', role: 'werkcoach', org: 'WERKZAAK' },
  { iss: '', sub: 'u', role: 'werkcoach', org: 'WERKZAAK' },
  { iss: 'x'.repeat(513), sub: 'u', role: 'werkcoach', org: 'WERKZAAK' },
  { iss: 1, sub: 'u', role: 'werkcoach', org: 'WERKZAAK' },
];
const KEYS = [...Object.keys(base), 'count', 'before', 'record', 'bsn', 'noodtoegang', 'noodtoegangId', 'verdict', 'from', 'to', 'reviewId'];
const ACTIONS = auditEntrySchema.options.map((o) => o.shape.action.value);

function same(entry: unknown): void {
  const zod = auditEntrySchema.safeParse(entry).success;
  const guard = auditEntryProblem(entry) === null;
  if (zod !== guard) expect.fail(`zod says ${zod}, the guard ${guard}, for ${JSON.stringify(entry)}`);
}

describe('auditEntryProblem', () => {
  it('accepts exactly what auditEntrySchema accepts: every action × every key set to every probe value, or removed', () => {
    let n = 0;
    for (const action of [...ACTIONS, 'record.deleted', undefined]) {
      const start = { ...base, action, ...(action === 'audit.pruned' ? { before: 1, count: 2, fromSeq: 1, toSeq: 2, retentionDays: 30 } : {}) };
      same(start);
      for (const key of KEYS) {
        const { [key]: _, ...without } = start as Record<string, unknown>;
        same(without);
        for (const value of VALUES) {
          same({ ...start, [key]: value });
          n++;
        }
      }
    }
    expect(n).toBeGreaterThan(10_000);
    for (const v of [null, 'x', 1, [], [base]]) same(v);
  });

  it('names the offending key', () => {
    expect(auditEntryProblem(base)).toBeNull();
    expect(auditEntryProblem({ ...base, withheld: ['Jan Jansen'] })).toBe('withheld');
    expect(auditEntryProblem({ ...base, clientRef: '123456789' })).toBe('clientRef');
    expect(auditEntryProblem({ ...base, record: {} })).toBe('record');
  });
});
