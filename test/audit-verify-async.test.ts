import { describe, expect, it } from 'vitest';
import { appendOne, dropTriggers, readEntry, setupAudit } from './audit-support.js';

describe('AuditLog.verifyAsync', () => {
  it('gives the same verdicts as verify, slice by slice', async () => {
    const { db, audit, clock } = setupAudit({ checkpointEvery: 10, checkpointMinutes: 100_000 });
    expect(await audit.verifyAsync({ slice: 7 })).toEqual(audit.verify());
    for (let n = 1; n <= 40; n++) appendOne(audit, readEntry(n)), clock.advance(1000);
    expect(await audit.verifyAsync({ slice: 7 })).toEqual(audit.verify());
    expect(audit.verify()).toMatchObject({ ok: true, records: 40 });
    dropTriggers(db);
    db.$client.prepare('DELETE FROM audit_log WHERE seq = 15').run(); // the first line of a slice
    expect(await audit.verifyAsync({ slice: 7 })).toEqual({ ok: false, records: 14, firstBad: { seq: 15, reason: 'SEQ_GAP' }, witness: { configured: false } });
    db.$client.prepare('DELETE FROM audit_log WHERE seq >= 15').run();
    expect(await audit.verifyAsync({ slice: 7 })).toEqual({
      ok: false,
      records: 14,
      firstBad: { seq: 20, reason: 'CHECKPOINT_BEYOND_END' },
      witness: { configured: false },
    });
    db.$client.prepare(`UPDATE audit_log SET entry = replace(entry, 'coach-', 'coaxh-') WHERE seq = 8`).run();
    expect(await audit.verifyAsync({ slice: 7 })).toEqual(audit.verify());
    expect(audit.verify()).toMatchObject({ firstBad: { seq: 8, reason: 'LEAF_MISMATCH' } });
  });
});
