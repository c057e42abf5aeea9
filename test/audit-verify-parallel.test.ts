import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyAuditParallel } from '../src/audit/verify-parallel.js';
import { appendMany, dropTriggers, setupAudit } from './audit-support.js';
import { tempDir } from './support.js';

/** A file database with `count` lines and a checkpoint every 25; verified in parallel from the first line on. */
function setup(count = 200) {
  const file = path.join(tempDir(), 'audit.db');
  const { db, clock, audit, checkpointKey } = setupAudit({ file, checkpointEvery: 25 });
  appendMany(audit, clock, count);
  const parallel = () => verifyAuditParallel(file, { publicKey: checkpointKey!.publicKey, workers: 2, parallelFrom: 1 });
  return { db, audit, parallel };
}

describe('verifyAuditParallel (worker threads over seq ranges)', () => {
  it('gives the verdict of verify on an intact log', async () => {
    const { audit, parallel } = setup();
    const verdict = audit.verify();
    expect(verdict).toMatchObject({ ok: true, records: 200 });
    expect(verdict.ok && verdict.checkpoints).toBeGreaterThan(5);
    expect(await parallel()).toEqual(verdict);
  });

  it('names the same first bad line as verify, wherever the ranges split', async () => {
    const { db, audit, parallel } = setup();
    dropTriggers(db);
    db.$client.prepare(`UPDATE audit_log SET client_ref = 'WZR-999999' WHERE seq = 180`).run();
    db.$client.prepare(`UPDATE audit_log SET entry = replace(entry, 'coach-', 'coaxh-') WHERE seq = 130`).run();
    const verdict = audit.verify();
    expect(verdict).toEqual({ ok: false, records: 129, firstBad: { seq: 130, reason: 'LEAF_MISMATCH' }, witness: { configured: false } });
    expect(await parallel()).toEqual(verdict);
    db.$client.prepare(`UPDATE audit_log SET outcome = 'deny' WHERE seq = 3`).run();
    expect(await parallel()).toEqual(audit.verify());
  });

  it('detects a deleted line and a truncated log', async () => {
    const { db, audit, parallel } = setup();
    dropTriggers(db);
    db.$client.prepare('DELETE FROM audit_log WHERE seq = 77').run();
    expect(await parallel()).toEqual(audit.verify());
    db.$client.prepare('DELETE FROM audit_log WHERE seq > 190').run();
    expect(await parallel()).toEqual(audit.verify());
  });

  it('AuditLog.verifyParallel falls back to verifyAsync for an in-memory log', async () => {
    const { audit, clock } = setupAudit();
    appendMany(audit, clock, 10);
    expect(await audit.verifyParallel()).toEqual(audit.verify());
  });
});
