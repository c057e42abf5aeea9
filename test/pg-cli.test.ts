/**
 * The CLI on PostgreSQL, as an operator runs it (real child processes, a real server): `import` writes the records
 * into the database (and demo mode then refuses it), `audit checkpoint` and `audit verify` work on the shared
 * chain, `audit export` and `audit prune` on the shared log, `policy propose` and `policy export` on the shared
 * versions; nothing is written into the data dir.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BIN } from '../bench/procs.js';
import { describePg, freshPg, type FreshPg } from './pg-support.js';
import { tempDir } from './support.js';

let db: FreshPg;
let env: Record<string, string>;
let dataDir: string;

function run(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, input, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describePg('the CLI on PostgreSQL', () => {
  beforeAll(async () => {
    db = await freshPg('pgcli');
    dataDir = tempDir();
    const keys = path.join(tempDir(), 'keys');
    const init = spawnSync(process.execPath, [BIN, 'keys', 'init', '--out', keys], { encoding: 'utf8' });
    expect(init.status).toBe(0);
    const keyEnv = Object.fromEntries(
      init.stdout
        .trim()
        .split('\n')
        .map((l) => l.split('=', 2) as [string, string]),
    );
    env = { ...keyEnv, DOELPOORT_DATABASE_URL: db.url, DOELPOORT_DATA_DIR: dataDir };
  }, 60_000);
  afterAll(async () => {
    await db?.drop();
  });

  it('imports a generated export into the database, and demo mode then refuses that database', async () => {
    const generated = run(['generate', '--clients', '25', '--seed', '3']);
    expect(generated.code).toBe(0);
    const imported = run(['import', '-'], generated.stdout);
    expect(imported.stderr).toContain('import: 25 clients imported (0 replaced)');
    expect(imported.code).toBe(0);
    const { rows } = await db.pg.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM clients');
    expect(rows[0]!.n).toBe(25);
    // The data dir holds no SQLite file: the state is in PostgreSQL.
    expect(fs.existsSync(path.join(dataDir, 'records.db'))).toBe(false);

    // Demo mode refuses a database that holds imported (not demo) records.
    const demo = run(['serve', '--demo']);
    expect(demo.code).toBe(2);
    expect(demo.stderr).toContain('demo mode refuses a database that holds imported Suite records');
  }, 120_000);

  it('audit checkpoint, verify, export and prune work on the shared chain', async () => {
    // A refused proposal is a line of its own (the first command on the database stores the policies directory).
    const file = path.join(tempDir(), 'bad.yaml');
    fs.writeFileSync(file, 'rules: [nonsense\n');
    const proposed = run(['policy', 'propose', file, '--iss', 'https://idp.example', '--sub', 'p1', '--org', 'WERKZAAK']);
    expect(proposed.code).toBe(1);
    expect(proposed.stderr).toContain('nothing stored');

    const checkpoint = run(['audit', 'checkpoint']);
    expect(checkpoint.code).toBe(0);
    const printed = JSON.parse(checkpoint.stdout) as { size: number; head: string; signature: string; jwk: { kty: string } };
    expect(printed.size).toBeGreaterThanOrEqual(1);
    expect(printed.jwk.kty).toBe('OKP');

    const saved = path.join(tempDir(), 'checkpoint.json');
    fs.writeFileSync(saved, checkpoint.stdout);
    const verified = run(['audit', 'verify', '--checkpoint', saved]);
    expect(verified.stdout).toMatch(/^ok \d+ lines, head [0-9a-f]{64}$/m);
    expect(verified.code).toBe(0);

    // Tampering with a line in the database breaks the chain, and verify says where (exit 1).
    await db.pg.pool.query('ALTER TABLE audit_log DISABLE TRIGGER USER');
    await db.pg.pool.query("UPDATE audit_log SET outcome = 'permit' WHERE seq = 1");
    await db.pg.pool.query('ALTER TABLE audit_log ENABLE TRIGGER USER');
    const broken = run(['audit', 'verify']);
    expect(broken.stdout).toMatch(/^broken at line 1: /m);
    expect(broken.code).toBe(1);

    // The Logboek export reads the shared log: one record per line, no BSN, no clientRef.
    const exported = run(['audit', 'export']);
    expect(exported.code).toBe(0);
    const records = exported.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.length).toBeGreaterThanOrEqual(1);
    expect(exported.stdout).not.toMatch(/WZR-\d{6}|\b\d{9}\b/);

    // A prune inside the retention period is refused and writes nothing.
    const { rows: before } = await db.pg.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log');
    const pruned = run(['audit', 'prune', '--before', '2026-01-01']);
    expect(pruned.code).toBe(2);
    expect(pruned.stderr).toContain('inside the retention period');
    const { rows: after } = await db.pg.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log');
    expect(after[0]!.n).toBe(before[0]!.n);
  }, 120_000);

  it('policy export reads the shared versions; an unknown id is refused', () => {
    const exported = run(['policy', 'export', '1']);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/^# policy version 1 \(active\), [0-9a-f]{64}\n/);
    const missing = run(['policy', 'export', '999']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('no policy version 999');
  }, 60_000);
});
