/**
 * The build `npm start` runs (scripts/build.mjs): the sources as JavaScript beside what they read. Every other test
 * runs the sources through tsx; this one starts the built server in demo mode and reads what only a complete build
 * has (the migrations, the theme and the design system's CSS, the demo export and provider), and runs the parallel
 * verification, whose workers load a module of the build of their own. The load test (`npm run test:load`) sends
 * its requests of every role to a built server too.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchangeBody, FORM, pickClients } from '../bench/fixture.js';
import { demoLogin, freePort, ROOT, startServer, type Server } from '../bench/procs.js';
import { tempDir } from './support.js';

const OUT = path.join(ROOT, '.scratch', `build-test-${process.pid}`);
let dataDir: string;
let server: Server | undefined;

describe('the build npm start runs', () => {
  beforeAll(async () => {
    const built = spawnSync(process.execPath, ['scripts/build.mjs', '--outdir', OUT], { cwd: ROOT, encoding: 'utf8' });
    expect(built.stderr).toBe('');
    expect(built.status).toBe(0);
    dataDir = tempDir('doelpoort-build-');
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, DOELPOORT_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1' };
    delete env.DOELPOORT_IDPS_FILE;
    server = await startServer({ name: 'built', args: [path.join(OUT, 'src/cli/main.js'), 'serve', '--demo'], env, port, cores: null, readyPath: '/health' });
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    fs.rmSync(OUT, { recursive: true, force: true });
  });

  it('refuses to build anywhere but dist/ or under it or .scratch/, since it empties the directory first', () => {
    for (const outdir of ['.', 'src', 'schema', '..', '.scratch', path.join(ROOT, '..', 'elsewhere')]) {
      const refused = spawnSync(process.execPath, ['scripts/build.mjs', '--outdir', outdir], { cwd: ROOT, encoding: 'utf8' });
      expect(refused.status, outdir).toBe(2);
      expect(refused.stderr).toContain('--outdir must be dist/');
    }
    expect(fs.existsSync(path.join(ROOT, 'src/cli/main.ts'))).toBe(true);
  });

  it('holds JavaScript only where the sources were TypeScript, and what they read beside it', () => {
    const files = fs.readdirSync(OUT, { recursive: true }) as string[];
    expect(files.filter((f) => /\.tsx?$/.test(f))).toEqual([]);
    for (const f of [
      'src/cli/main.js',
      'src/web/pages/routes.js',
      'src/web/theme.css',
      'schema/migrations/meta/_journal.json',
      'demo/suite-export.example.ndjson',
    ]) {
      expect(files).toContain(path.normalize(f));
    }
  });

  it('serves the demo from the build: the start page with its stylesheets, the demo provider, the API description', async () => {
    const page = await fetch(`${server!.origin}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const sheets = [...html.matchAll(/<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"/g)].map((m) => m[1]!);
    expect(sheets.length).toBeGreaterThan(0);
    for (const href of sheets) {
      const css = await fetch(new URL(href, server!.origin));
      expect(css.status, href).toBe(200);
      expect(css.headers.get('content-type')).toMatch(/^text\/css/);
      expect((await css.text()).length).toBeGreaterThan(100);
    }
    const discovery = await fetch(`${server!.origin}/demo-idp/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    expect(((await discovery.json()) as { issuer: string }).issuer).toBe(`${server!.origin}/demo-idp`);
    const api = await fetch(`${server!.origin}/v1/openapi.json`);
    expect(api.status).toBe(200);
  });

  it('exchanges a demo login for a purpose-bound token and releases the client’s record, with its lines', async () => {
    const [pair] = pickClients(path.join(dataDir, 'records.db'), 1);
    const token = await fetch(`${server!.origin}/oauth/token`, {
      method: 'POST',
      headers: FORM,
      body: exchangeBody(demoLogin(dataDir, 'participatiecoach', pair!.org), pair!.clientRef),
    });
    expect(token.status).toBe(200);
    const { access_token } = (await token.json()) as { access_token: string };
    const record = await fetch(`${server!.origin}/v1/clients/${pair!.clientRef}`, { headers: { authorization: `Bearer ${access_token}` } });
    expect(record.status).toBe(200);
    const body = (await record.json()) as { clientRef: string; withheld: Array<{ field: string }> };
    expect(body.clientRef).toBe(pair!.clientRef);
    expect(body.withheld.map((w) => w.field)).toContain('belastbaarheidsonderzoeken[0].diagnose');
  });

  it('verifies the log in worker threads that load the built verifier', async () => {
    await server?.stop();
    server = undefined;
    const file = path.join(dataDir, 'doelpoort.db');
    const script = `const { verifyAuditParallel } = await import(${JSON.stringify(path.join(OUT, 'src/audit/verify-parallel.js'))});
      const r = await verifyAuditParallel(${JSON.stringify(file)}, { workers: 2, parallelFrom: 1 });
      process.stdout.write(JSON.stringify({ ok: r.ok, records: r.ok ? r.records : 0 }));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const result = JSON.parse(run.stdout) as { ok: boolean; records: number };
    expect(result.ok).toBe(true);
    // The exchange's line and the read's.
    expect(result.records).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
