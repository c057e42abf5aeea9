import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadAuditKeys } from '../src/audit/keys.js';
import { AuditLog } from '../src/audit/log.js';
import { CheckpointWitness } from '../src/audit/witness.js';
import { fixedClock } from '../src/clock.js';
import { databaseFile, recordsFile } from '../src/config.js';
import { openDatabase, openRecordsDatabase } from '../src/db.js';
import { EXAMPLE_EXPORT_FILE } from '../src/demo.js';
import { importSuiteExport } from '../src/records/import.js';
import { RecordStore } from '../src/records/store.js';
import { tempDir } from './support.js';
import { appendMany, dropTriggers } from './audit-support.js';

const bin = fileURLToPath(new URL('../bin/doelpoort.js', import.meta.url));

/** A data dir with a database holding `lines` audit lines written in 2015, and the keys the CLI will load. */
function setup(lines = 30, witnessDir?: string) {
  const dataDir = tempDir();
  const db = openDatabase(databaseFile({ dataDir }));
  const clock = fixedClock('2015-03-01T09:00:00Z');
  const witness = witnessDir === undefined ? undefined : new CheckpointWitness(witnessDir);
  const audit = new AuditLog(db, { clock, ...loadAuditKeys(dataDir), checkpointEvery: 10, checkpointMinutes: 100_000, witness });
  appendMany(audit, clock, lines);
  db.$client.close();
  const runWith = (env: Record<string, string>, ...args: string[]) => {
    const result = spawnSync(process.execPath, [bin, 'audit', ...args], {
      env: { ...process.env, DOELPOORT_DATA_DIR: dataDir, DOELPOORT_DEBUG: '0', ...env },
      encoding: 'utf8',
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const run = (...args: string[]) => runWith({}, ...args);
  const withDb = (fn: (db: ReturnType<typeof openDatabase>) => void) => {
    const db = openDatabase(databaseFile({ dataDir }));
    try {
      fn(db);
    } finally {
      db.$client.close();
    }
  };
  return { dataDir, run, runWith, withDb };
}

// Each case spawns the real CLI (tsx loads the sources each time): about a second a spawn on a busy machine.
describe('doelpoort audit', { timeout: 60_000 }, () => {
  it('verify prints ok, the count and the head, and exits 0', () => {
    const { run } = setup();
    const { code, stdout } = run('verify');
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(/^ok 30 lines, head [0-9a-f]{64}\nwitness: none configured \(DOELPOORT_CHECKPOINT_DIR\)$/);
  });

  it('verify names the first bad line and exits 1 when the chain is broken', () => {
    const { run, withDb } = setup();
    withDb((db) => {
      dropTriggers(db);
      db.$client.prepare(`UPDATE audit_log SET entry = replace(entry, 'permit', 'deny') WHERE seq = 14`).run();
    });
    const { code, stdout } = run('verify');
    expect(code).toBe(1);
    expect(stdout).toContain('broken at line 14: LEAF_MISMATCH');
  });

  it('checkpoint prints a signed checkpoint that verify --checkpoint later checks', () => {
    const { dataDir, run, withDb } = setup();
    const printed = run('checkpoint');
    expect(printed.code).toBe(0);
    const checkpoint = JSON.parse(printed.stdout) as { size: number; head: string; signature: string; jwk: { kty: string; d?: string } };
    expect(checkpoint).toMatchObject({ size: 30, head: expect.stringMatching(/^[0-9a-f]{64}$/), jwk: { kty: 'OKP' } });
    expect(checkpoint.jwk.d).toBeUndefined();
    const file = path.join(dataDir, '..', `${path.basename(dataDir)}-checkpoint.json`);
    fs.writeFileSync(file, printed.stdout);
    expect(run('verify', '--checkpoint', file).code).toBe(0);

    // Someone with the file truncates the log and its stored checkpoints: only the officer's copy remembers.
    withDb((db) => {
      dropTriggers(db);
      db.$client.exec('DELETE FROM audit_log WHERE seq > 25; DELETE FROM audit_checkpoints WHERE size > 25;');
    });
    expect(run('verify').code).toBe(0);
    const { code, stdout } = run('verify', '--checkpoint', file);
    expect(code).toBe(1);
    expect(stdout).toContain('broken at line 30: CHECKPOINT_BEYOND_END');
    fs.rmSync(file);
  });

  it('verify compares with the newest witnessed checkpoint: a truncated tail passes without DOELPOORT_CHECKPOINT_DIR, and fails with it', () => {
    const witnessDir = path.join(tempDir(), 'witness');
    const { run, runWith, withDb } = setup(30, witnessDir);
    const witnessed = { DOELPOORT_CHECKPOINT_DIR: witnessDir };
    expect(runWith(witnessed, 'verify').stdout).toMatch(
      /^ok 30 lines, head [0-9a-f]{64}\nwitness: compared with its newest checkpoint, 30 lines at 2015-03-01T09:29:00.000Z\n$/,
    );
    withDb((db) => {
      dropTriggers(db);
      db.$client.exec('DELETE FROM audit_log WHERE seq > 25; DELETE FROM audit_checkpoints WHERE size > 25;');
    });
    const blind = run('verify');
    expect(blind.code).toBe(0);
    expect(blind.stdout).toContain('witness: none configured (DOELPOORT_CHECKPOINT_DIR)');
    const { code, stdout } = runWith(witnessed, 'verify');
    expect(code).toBe(1);
    expect(stdout).toContain('broken at line 30: CHECKPOINT_BEYOND_END');
    expect(stdout).toContain('witness: compared with its newest checkpoint, 30 lines');
  });

  it('export prints Logboek NDJSON, filtered by date, and counts the clients it found no record of', () => {
    const { run } = setup();
    const all = run('export');
    expect(all.code).toBe(0);
    const lines = all.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { attributes: Record<string, string> });
    expect(lines).toHaveLength(30);
    expect(Object.keys(lines[0]!).sort()).toEqual(['attributes', 'end_time', 'name', 'resource', 'span_id', 'start_time', 'status', 'trace_id']);
    // No records file in this data dir: no clientRef resolves, and none is exported in its place.
    expect(lines.every((l) => l.attributes['dpl.core.data_subject_id'] === undefined)).toBe(true);
    expect(all.stderr).toContain('audit export: 5 clients named in the exported lines are not in the records');
    expect(run('export', '--from', '2015-03-02').stdout).toBe('');
    expect(run('export', '--to', '2015-03-01').stdout.trim().split('\n')).toHaveLength(30);
    expect(run('export', '--from', 'soon').code).toBe(2);
  });

  it('export names subjects by the pseudonym of the BSN the records hold, and activities under DOELPOORT_REGISTER_URL', async () => {
    const { dataDir, runWith } = setup(5);
    const recordsDb = openRecordsDatabase(recordsFile({ dataDir }));
    await importSuiteExport(new RecordStore(recordsDb), fs.createReadStream(EXAMPLE_EXPORT_FILE), { clock: fixedClock('2015-03-01T08:00:00Z') });
    recordsDb.$client.close();
    const { code, stdout, stderr } = runWith({ DOELPOORT_REGISTER_URL: 'https://avg.example.nl/rva' }, 'export');
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { attributes: Record<string, string> });
    const keys = loadAuditKeys(dataDir);
    const pseudonym = (bsn: string) => createHmac('sha256', keys.pseudonymKey).update(bsn).digest('hex');
    // readEntry(n) reads WZR-10000(n % 5): WZR-100001 (BSN 101010011) first; WZR-100000 is no client.
    expect(lines[0]!.attributes).toEqual({
      'dpl.core.processing_activity_id': 'https://avg.example.nl/rva/WZR-VA-012',
      'dpl.core.data_subject_id': pseudonym('101010011'),
      'dpl.core.data_subject_id_type': 'BSN',
    });
    expect(lines[4]!.attributes).not.toHaveProperty('dpl.core.data_subject_id');
    expect(stderr).toContain('audit export: 1 clients named in the exported lines are not in the records');
    expect(stdout).not.toContain('101010011');
    expect(runWith({ DOELPOORT_REGISTER_URL: 'javascript:alert(1)' }, 'export').code).toBe(2);
  });

  it('prune refuses a date inside the retention period (exit 2), prunes older lines, and verify still passes', () => {
    const { run } = setup();
    expect(run('prune').code).toBe(2);
    expect(run('prune', '--before', new Date(Date.now() - 86_400_000).toISOString().slice(0, 10)).code).toBe(2);
    const pruned = run('prune', '--before', '2016-01-01');
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toContain('pruned 30 lines');
    expect(run('verify').stdout).toMatch(/^ok 31 lines/);
    expect(run('export').stdout.trim().split('\n')).toHaveLength(1);
  });

  it('verify names a blanked line that no prune line covers (triggers dropped), after a real prune that verifies', () => {
    const { run, withDb } = setup();
    expect(run('prune', '--before', '2015-03-01T09:10:00Z').stdout).toContain('pruned 10 lines (recorded as line 31)');
    expect(run('verify').stdout).toMatch(/^ok 31 lines/);
    withDb((db) => {
      const blank = db.$client.prepare(
        `UPDATE audit_log SET entry = NULL, actor_sub = NULL, actor_org = NULL, client_ref = NULL, purpose = NULL, decision_id = NULL,
        actor_iss = NULL, actor_role = NULL, bsn_lookup = NULL, noodtoegang = NULL, time_class = NULL WHERE seq = 22`,
      );
      expect(() => blank.run()).toThrow(/append-only/);
      dropTriggers(db);
      blank.run();
    });
    const { code, stdout } = run('verify');
    expect(code).toBe(1);
    expect(stdout).toContain('broken at line 22: BLANKED_NOT_PRUNED');
  });

  it('an unknown subcommand is a usage error', () => {
    const { run } = setup(1);
    expect(run('frobnicate').code).toBe(2);
  });
});
