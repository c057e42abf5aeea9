import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../bench/procs.js';
import { recordsFile } from '../src/config.js';
import { generateSuiteExport } from '../src/records/generate.js';
import { accessToken, send, type TokenCtx } from './security-matrix.js';
import { TODAY } from './support.js';
import { setupTokens } from './token-support.js';

const coach = { user: { sub: 'coach-jan', role: 'participatiecoach', org: 'GM1960' }, purpose: 'overdracht-kp4', client: 'WZR-100001' } as const;

/** /health and a data request, each timed; the data request's audit line must be there when it has answered. */
async function serveTimed(ctx: TokenCtx & { db: { $client: Database.Database } }, token: string) {
  const lines = () => ctx.db.$client.prepare(`SELECT count(*) FROM audit_log WHERE action = 'record.read' AND outcome = 'permit'`).pluck().get() as number;
  const before = lines();
  let t = performance.now();
  const health = await ctx.app.request('/health');
  const healthMs = performance.now() - t;
  t = performance.now();
  const read = await send(ctx, { method: 'GET', path: '/v1/clients/WZR-100001' }, token);
  const body = (await read.json()) as { clientRef?: string };
  const readMs = performance.now() - t;
  return { health: health.status, healthMs, read: read.status, readMs, clientRef: body.clientRef, logged: lines() - before };
}

/** Whether some connection holds the write lock of `file` (a BEGIN IMMEDIATE that does not wait fails with SQLITE_BUSY). */
function writeLockHeld(file: string): boolean {
  const probe = new Database(file, { timeout: 0 });
  try {
    probe.exec('BEGIN IMMEDIATE');
    probe.exec('ROLLBACK');
    return false;
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_BUSY') return true;
    throw error;
  } finally {
    probe.close();
  }
}

describe('a held write lock on the records (a running import) stalls no request', () => {
  it('while another connection holds the records file’s write lock, /health and GET /v1/clients/{ref} answer at once, with their line', async () => {
    const ctx = await setupTokens({}, { onDisk: true });
    const token = await accessToken(ctx, coach);
    const importer = new Database(recordsFile(ctx.config));
    importer.exec('BEGIN IMMEDIATE');
    importer.prepare(`UPDATE clients SET imported_at = imported_at + 1`).run(); // as an import's first writes do
    try {
      expect(writeLockHeld(recordsFile(ctx.config))).toBe(true);
      const served = await serveTimed(ctx, token);
      expect(served).toMatchObject({ health: 200, read: 200, clientRef: 'WZR-100001', logged: 1 });
      expect(served.healthMs).toBeLessThan(1000);
      expect(served.readMs).toBeLessThan(1000);
    } finally {
      importer.exec('ROLLBACK');
      importer.close();
    }
  });

  it('a real `doelpoort import` in progress (its transaction open, the file half sent) while requests are served; then it commits', async () => {
    const ctx = await setupTokens({}, { onDisk: true });
    const token = await accessToken(ctx, coach);
    const file = recordsFile(ctx.config);
    const lines = [...generateSuiteExport({ clients: 2000, seed: 11, today: TODAY })].map((r) => `${JSON.stringify(r)}\n`);
    const child = spawn(process.execPath, [BIN, 'import', '-'], {
      cwd: ROOT,
      env: { ...process.env, DOELPOORT_DATA_DIR: ctx.config.dataDir },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      child.stdin.write(lines.slice(0, 1000).join(''));
      // The import opens its transaction before reading a line, and keeps it open while stdin stays open.
      for (const until = Date.now() + 30_000; !writeLockHeld(file); ) {
        if (Date.now() > until) throw new Error(`the import never took the lock: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const before = ctx.records.count();
      for (let i = 0; i < 3; i++) {
        const served = await serveTimed(ctx, token);
        expect(served).toMatchObject({ health: 200, read: 200, clientRef: 'WZR-100001', logged: 1 });
        expect(served.healthMs).toBeLessThan(1000);
        expect(served.readMs).toBeLessThan(1000);
        expect(writeLockHeld(file)).toBe(true); // still importing
      }
      expect(ctx.records.count()).toBe(before); // nothing of an import is seen before it commits
      child.stdin.end(lines.slice(1000).join(''));
      expect(await exited).toBe(0);
      expect(stderr).toContain('2000 clients imported');
      expect(ctx.records.count()).toBe(before + 2000);
      expect((await serveTimed(ctx, token)).read).toBe(200);
    } finally {
      child.kill();
    }
  }, 60_000);
});
