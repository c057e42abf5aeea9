import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startWalCheckpointer } from '../src/wal-checkpointer.js';
import { inTransaction, readEntry, setupAudit } from './audit-support.js';
import { tempDir } from './support.js';

describe('startWalCheckpointer', () => {
  it('checkpoints the WAL from a worker thread while the serving connection does not, and restores it on stop', async () => {
    const file = path.join(tempDir(), 'wal.db');
    const { db, audit, clock } = setupAudit({ file });
    const stop = startWalCheckpointer(db, 50);
    expect(db.$client.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const before = fs.statSync(file).size;
    // 2,000 lines in 20 transactions (one fsync each, not 2,000: a busy disk makes those take longer than the test may).
    for (let t = 0; t < 20; t++) {
      inTransaction(audit, () => {
        for (let n = 1; n <= 100; n++) audit.appendInTransaction(readEntry(t * 100 + n));
      });
      clock.advance(60_000);
    }
    // The lines reach the main database file only through a checkpoint, which this connection no longer runs.
    const deadline = Date.now() + 10_000;
    while (fs.statSync(file).size <= before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(fs.statSync(file).size).toBeGreaterThan(before);
    await stop();
    expect(db.$client.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    expect(audit.verify()).toMatchObject({ ok: true, records: 2000 });
    db.$client.close();
  });

  it('does nothing for an in-memory database', async () => {
    const { db } = setupAudit();
    const stop = startWalCheckpointer(db);
    await stop();
    expect(db.$client.open).toBe(true);
  });
});
