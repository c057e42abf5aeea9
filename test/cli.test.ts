import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './support.js';
import { EXAMPLE_EXPORT_FILE } from '../src/demo.js';

const bin = path.resolve('bin/doelpoort.js');
const fixture = EXAMPLE_EXPORT_FILE;

function run(args: string[], env: Record<string, string> = {}, input?: string) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    env: { ...process.env, DOELPOORT_DATA_DIR: tempDir(), ...env },
    input,
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe('doelpoort (command line)', () => {
  it('stops on a bad configuration value with one line naming the variable, exit code 2', () => {
    const r = run(['import', fixture], { DOELPOORT_TOKEN_TTL: '3600' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['doelpoort: DOELPOORT_TOKEN_TTL: must be at most 900 seconds']);
  });

  it('answers an unknown command with the usage and exit code 2', () => {
    const r = run(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('usage: doelpoort <command>');
  });

  it('pipes generate into import -, and refuses a bad file naming line and field', () => {
    const dataDir = tempDir();
    const generated = run(['generate', '--clients', '40', '--seed', '5']);
    expect(generated.code).toBe(0);
    expect(generated.stdout.trim().split('\n')).toHaveLength(40);
    const ok = run(['import', '-'], { DOELPOORT_DATA_DIR: dataDir }, generated.stdout);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/import: 40 clients imported \(0 replaced\) from 40 lines/);

    const bad = generated.stdout.replace(/"bsn":"(\d+)"/, '"bsn":"123456789"');
    const refused = run(['import', '-'], { DOELPOORT_DATA_DIR: dataDir }, bad);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('line 1: bsn: must be nine digits passing the elfproef');
    expect(refused.stderr).not.toContain('123456789');
  });

  it('refuses generate without --clients', () => {
    const r = run(['generate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--clients is required');
  });

  it('prints a demo login token, but not when an IdPs file is configured', () => {
    const token = run(['demo-token', '--role', 'participatiecoach', '--org', 'GM1960']);
    expect(token.code).toBe(0);
    expect(token.stdout.trim()).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    const off = run(['demo-token', '--role', 'participatiecoach', '--org', 'GM1960'], { DOELPOORT_IDPS_FILE: fixture });
    expect(off.code).toBe(2);
    expect(off.stdout).toBe('');
    expect(off.stderr.trim()).toBe('doelpoort: demo-token: DOELPOORT_IDPS_FILE is set, so the demo identity provider is not trusted');
  });

  it('serves the demo (serve --demo, as npm start): seeds the store, answers /health, and drains on SIGTERM', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const child = spawn(process.execPath, [bin, 'serve', '--demo'], { env: { ...process.env, DOELPOORT_DATA_DIR: dataDir, PORT: String(port) } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      await waitFor(() => out.includes('"msg":"listening"'), 15_000);
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      expect(res.status).toBe(200);
      expect(out).toMatch(/"clients":306/);
      expect(out).toContain('demo-token --role participatiecoach');
      expect(fs.existsSync(path.join(dataDir, 'doelpoort.db'))).toBe(true);
      expect(fs.statSync(path.join(dataDir, 'demo-idp.key.jwk')).mode & 0o777).toBe(0o600);
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
    expect(out).toContain('"msg":"stopped"');
  });
});

async function waitFor(condition: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error('timed out waiting for the server');
    await new Promise((r) => setTimeout(r, 50));
  }
}
