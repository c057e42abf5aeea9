import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CheckpointWitness } from '../src/audit/witness.js';
import { appendMany, dropTriggers, inTransaction, readEntry, setupAudit } from './audit-support.js';
import { accessToken, send, type TestGrant } from './security-matrix.js';
import { tempDir } from './support.js';
import { setupTokens } from './token-support.js';

const files = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);

/** Deletes the tail of the log and the checkpoints that cover it, as someone holding the database file could. */
function truncate(db: { $client: import('better-sqlite3').Database }, keep: number): void {
  dropTriggers(db as never);
  db.$client.prepare('DELETE FROM audit_log WHERE seq > ?').run(keep);
  db.$client.prepare('DELETE FROM audit_checkpoints WHERE size > ?').run(keep);
}

describe(CheckpointWitness.name, () => {
  afterEach(() => vi.restoreAllMocks());

  it('receives every committed checkpoint, one 0600 file each, and verify compares with the newest', () => {
    const dir = path.join(tempDir(), 'witness');
    const witness = new CheckpointWitness(dir);
    const { audit, clock } = setupAudit({ checkpointEvery: 10, checkpointMinutes: 100_000, witness });
    appendMany(audit, clock, 40);
    expect(files(dir)).toEqual([1, 10, 20, 30, 40].map((n) => `checkpoint-${String(n).padStart(16, '0')}.jws`));
    for (const f of files(dir)) expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(witness.newest()).toBe(audit.latestCheckpoint()!.signature);
    expect(audit.verify()).toMatchObject({
      ok: true,
      records: 40,
      witness: { configured: true, checkpoint: { size: 40, head: audit.latestCheckpoint()!.head } },
    });
  });

  it('never receives a checkpoint whose transaction rolled back', () => {
    const dir = path.join(tempDir(), 'witness');
    const { audit, clock } = setupAudit({ checkpointEvery: 10, checkpointMinutes: 100_000, witness: new CheckpointWitness(dir) });
    appendMany(audit, clock, 9);
    expect(() =>
      inTransaction(audit, () => {
        audit.appendInTransaction(readEntry(10)); // writes the checkpoint at 10 inside this transaction
        throw new Error('the work failed');
      }),
    ).toThrow('the work failed');
    expect(files(dir)).toEqual(['checkpoint-0000000000000001.jws']);
    expect(audit.verify()).toMatchObject({ ok: true, records: 9 });
  });

  it('a truncated tail with its checkpoints: verify passes without a witness and says so, and fails with one', async () => {
    const file = path.join(tempDir(), 'audit.db');
    const dir = path.join(tempDir(), 'witness');
    const { db, audit, clock, checkpointKey } = setupAudit({ file, checkpointEvery: 10, checkpointMinutes: 100_000, witness: new CheckpointWitness(dir) });
    appendMany(audit, clock, 40);
    truncate(db, 25);
    const unwitnessed = setupAudit({ file, checkpointKey: checkpointKey! }).audit;
    expect(unwitnessed.verify()).toMatchObject({ ok: true, records: 25, witness: { configured: false } });
    const broken = { ok: false, records: 25, firstBad: { seq: 40, reason: 'CHECKPOINT_BEYOND_END' }, witness: { configured: true, checkpoint: { size: 40 } } };
    expect(audit.verify()).toMatchObject(broken);
    expect(await audit.verifyAsync({ slice: 7 })).toMatchObject(broken);
    expect(await audit.verifyParallel({ workers: 2, parallelFrom: 1 })).toMatchObject(broken);
  });

  it('a witness checkpoint that is not signed by the checkpoint key fails verify', () => {
    const dir = path.join(tempDir(), 'witness');
    const { audit, clock } = setupAudit({ checkpointEvery: 10, checkpointMinutes: 100_000, witness: new CheckpointWitness(dir) });
    appendMany(audit, clock, 10);
    const otherDir = path.join(tempDir(), 'other');
    const other = setupAudit({ checkpointEvery: 10, checkpointMinutes: 100_000, witness: new CheckpointWitness(otherDir) });
    appendMany(other.audit, other.clock, 10);
    const name = 'checkpoint-0000000000000010.jws';
    fs.copyFileSync(path.join(otherDir, name), path.join(dir, name));
    expect(audit.verify()).toMatchObject({ ok: false, firstBad: { seq: 10, reason: 'CHECKPOINT_INVALID' } });
  });

  it('a witness that cannot be written fails no append; each checkpoint it missed is one operator log line', () => {
    const parent = tempDir();
    const dir = path.join(parent, 'witness');
    fs.writeFileSync(dir, 'not a directory');
    const logged: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (logged.push(String(chunk)), true));
    const { audit, clock } = setupAudit({ checkpointEvery: 10, checkpointMinutes: 100_000, witness: new CheckpointWitness(dir) });
    appendMany(audit, clock, 10);
    expect(audit.verify()).toMatchObject({ ok: true, records: 10, witness: { configured: true, checkpoint: null } });
    vi.restoreAllMocks();
    const lines = logged.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(3); // the checkpoints at 1 and 10, and the witness verify could not read
    expect(lines[0]).toMatchObject({ msg: 'audit write failed', code: 'AUDIT_WRITE_FAILED', stage: 'witness', error: expect.stringMatching(/^E[A-Z]+$/) });
  });
});

describe('GET /v1/audit/verify and the witness', () => {
  const toezicht: TestGrant = { user: { sub: 'po-anna', role: 'privacy-officer', org: 'WERKZAAK' }, purpose: 'toezicht' };
  const coach: TestGrant = { user: { sub: 'coach-jan', role: 'participatiecoach', org: 'GM1960' }, purpose: 'overdracht-kp4', client: 'WZR-100001' };

  async function tamperedGateway(env: Record<string, string>) {
    const ctx = await setupTokens({ DOELPOORT_CHECKPOINT_EVERY: '2', ...env });
    const read = await accessToken(ctx, coach);
    for (let i = 0; i < 6; i++) await (await send(ctx, { method: 'GET', path: '/v1/clients/WZR-100001' }, read)).text();
    const officer = await accessToken(ctx, toezicht);
    const verify = async () => (await (await send(ctx, { method: 'GET', path: '/v1/audit/verify' }, officer)).json()) as Record<string, unknown>;
    return { ctx, verify };
  }

  it('without a witness: the truncation passes unnoticed, and the answer says no witness is configured', async () => {
    const { ctx, verify } = await tamperedGateway({});
    expect(await verify()).toMatchObject({ ok: true, records: 6, witness: { configured: false } });
    truncate(ctx.db, 3);
    expect(await verify()).toMatchObject({ ok: true, records: 3, witness: { configured: false } });
  });

  it('with a witness: the same truncation fails, naming the witnessed checkpoint', async () => {
    const dir = path.join(tempDir(), 'witness');
    const { ctx, verify } = await tamperedGateway({ DOELPOORT_CHECKPOINT_DIR: dir });
    expect(await verify()).toMatchObject({ ok: true, records: 6, witness: { configured: true, checkpoint: { size: 6 } } });
    truncate(ctx.db, 3);
    expect(await verify()).toMatchObject({
      ok: false,
      records: 3,
      firstBad: { seq: 6, reason: 'CHECKPOINT_BEYOND_END' },
      witness: { configured: true, checkpoint: { size: 6 } },
    });
  });
});
