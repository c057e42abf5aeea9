import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './support.js';
import { EXAMPLE_EXPORT_FILE } from '../src/demo.js';

const bin = path.resolve('bin/doelpoort.js');
const fixture = EXAMPLE_EXPORT_FILE;

/** The environment of a child: no identity configuration inherited from the shell running the tests. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  delete base.DOELPOORT_IDPS_FILE;
  delete base.DOELPOORT_CLIENTS_FILE;
  delete base.DOELPOORT_DEMO;
  return { ...base, PORT: '0', ...env };
}

function run(args: string[], env: Record<string, string>, input?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { env: childEnv(env), input, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function idpsFile(entry: Record<string, unknown>): string {
  const file = path.join(tempDir(), 'idps.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      idps: [{ issuer: 'https://login.tiel.example', audience: 'doelpoort', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] }, ...entry }],
    }),
  );
  return file;
}

function clientsFile(entry: Record<string, unknown> = {}): string {
  const file = path.join(tempDir(), 'clients.json');
  const jwks = { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] };
  fs.writeFileSync(file, JSON.stringify({ clients: [{ clientId: 'zaaksysteem-tiel', organisations: ['GM0281'], jwks, ...entry }] }));
  return file;
}

const modeOf = (file: string) => fs.statSync(file).mode & 0o777;

async function until(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe('doelpoort serve: identity configuration at start', () => {
  it('refuses to start without DOELPOORT_IDPS_FILE and without demo mode: exit 2, one line saying why', () => {
    const dataDir = path.join(tempDir(), 'data');
    const r = run(['serve'], { DOELPOORT_DATA_DIR: dataDir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      'doelpoort: serve: no identity providers: set DOELPOORT_IDPS_FILE, or DOELPOORT_DEMO=1 (or --demo) for demo mode',
    ]);
    expect(fs.existsSync(dataDir)).toBe(false);
  });

  it('demo mode refuses a data dir that holds imported Suite records: exit 2, one line, nothing served', () => {
    const dataDir = path.join(tempDir(), 'data');
    expect(run(['import', fixture], { DOELPOORT_DATA_DIR: dataDir }).code).toBe(0);
    const r = run(['serve', '--demo'], { DOELPOORT_DATA_DIR: dataDir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      'doelpoort: serve: demo mode refuses a data dir that holds imported Suite records; use DOELPOORT_IDPS_FILE, or another DOELPOORT_DATA_DIR for the demo',
    ]);
    expect(r.stdout).not.toContain('"msg":"listening"');
    // The demo IdP's key is never created beside real records.
    expect(fs.existsSync(path.join(dataDir, 'demo-idp.key.jwk'))).toBe(false);
  });

  it('refuses demo mode together with an IdPs file: exit 2, one line', () => {
    const r = run(['serve'], { DOELPOORT_DATA_DIR: tempDir(), DOELPOORT_DEMO: '1', DOELPOORT_IDPS_FILE: idpsFile({ organisations: ['GM0281'] }) });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['doelpoort: DOELPOORT_DEMO: demo mode cannot be combined with DOELPOORT_IDPS_FILE; set one of them']);
  });

  it('refuses an IdPs file whose entry lists no organisations: exit 2, one line naming the file and the path', () => {
    const file = idpsFile({});
    const r = run(['serve'], { DOELPOORT_DATA_DIR: tempDir(), DOELPOORT_IDPS_FILE: file, DOELPOORT_CLIENTS_FILE: clientsFile() });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      `doelpoort: DOELPOORT_IDPS_FILE ${file}: invalid at idps.0.organisations: must list the organisations this provider may vouch for`,
    ]);
  });

  it('refuses to start with identity providers but without DOELPOORT_CLIENTS_FILE outside demo mode: exit 2, one line', () => {
    const dataDir = path.join(tempDir(), 'data');
    const r = run(['serve'], { DOELPOORT_DATA_DIR: dataDir, DOELPOORT_IDPS_FILE: idpsFile({ organisations: ['GM0281'] }) });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      'doelpoort: serve: no registered clients: set DOELPOORT_CLIENTS_FILE, or DOELPOORT_DEMO=1 (or --demo) for demo mode',
    ]);
    expect(fs.existsSync(dataDir)).toBe(false);
  });

  it('refuses a clients file that registers a built-in client id: exit 2, one line naming the file and the path', () => {
    const file = clientsFile({ clientId: 'doelpoort-web' });
    const r = run(['serve'], { DOELPOORT_DATA_DIR: tempDir(), DOELPOORT_IDPS_FILE: idpsFile({ organisations: ['GM0281'] }), DOELPOORT_CLIENTS_FILE: file });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      `doelpoort: DOELPOORT_CLIENTS_FILE ${file}: invalid at clients.0.clientId: is reserved for a built-in client`,
    ]);
  });

  it('refuses an IdPs file with an http: jwksUri: exit 2, naming the path', () => {
    const file = idpsFile({ organisations: ['GM0281'], jwks: undefined, jwksUri: 'http://login.tiel.example/jwks.json' });
    const r = run(['serve'], { DOELPOORT_DATA_DIR: tempDir(), DOELPOORT_IDPS_FILE: file, DOELPOORT_CLIENTS_FILE: clientsFile() });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([`doelpoort: DOELPOORT_IDPS_FILE ${file}: invalid at idps.0.jwksUri: must be an https: URL`]);
  });

  it('refuses a web login whose private key file is no private JWK: exit 2, one line naming the file', () => {
    const file = idpsFile({ organisations: ['GM0281'], oidc: { clientId: 'doelpoort-web', privateKeyFile: 'client.jwk' } });
    const key = path.join(path.dirname(file), 'client.jwk');
    fs.writeFileSync(key, JSON.stringify({ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }));
    const r = run(['serve'], { DOELPOORT_DATA_DIR: tempDir(), DOELPOORT_IDPS_FILE: file, DOELPOORT_CLIENTS_FILE: clientsFile() });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([`doelpoort: DOELPOORT_IDPS_FILE idps.0.oidc.privateKeyFile ${key}: must be a private JWK (with "d")`]);
  });
});

describe('file modes: the data dir is the owner’s alone', () => {
  it('import creates the data dir 0700 and the database, -wal and -shm 0600', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const child = spawn(process.execPath, [bin, 'import', '-'], { env: childEnv({ DOELPOORT_DATA_DIR: dataDir }), stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    // While it waits for its input the database is open, with its WAL and shared-memory files beside it.
    const files = ['records.db', 'records.db-wal', 'records.db-shm'].map((f) => path.join(dataDir, f));
    await until(() => files.every((f) => fs.existsSync(f)), 20_000);
    expect(modeOf(dataDir)).toBe(0o700);
    for (const f of files) expect([path.basename(f), modeOf(f)]).toEqual([path.basename(f), 0o600]);
    child.stdin.end(fs.readFileSync(fixture));
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/import: \d+ clients imported/);
    expect(modeOf(path.join(dataDir, 'records.db'))).toBe(0o600);
  }, 60_000);

  it('import tightens an existing data dir that others may read, and says so', () => {
    const dataDir = path.join(tempDir(), 'data');
    fs.mkdirSync(dataDir, { mode: 0o755 });
    fs.chmodSync(dataDir, 0o755);
    fs.writeFileSync(path.join(dataDir, 'bsn-pseudonym.key'), 'x');
    fs.chmodSync(path.join(dataDir, 'bsn-pseudonym.key'), 0o644);
    const r = run(['import', fixture], { DOELPOORT_DATA_DIR: dataDir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('doelpoort: the data dir was 0755; tightened to 0700');
    expect(r.stderr).toContain('doelpoort: bsn-pseudonym.key in the data dir was 0644; tightened to 0600');
    expect(modeOf(dataDir)).toBe(0o700);
    for (const f of fs.readdirSync(dataDir)) expect([f, modeOf(path.join(dataDir, f))]).toEqual([f, 0o600]);
  });

  it('serve creates the data dir 0700 and every database and key file in it 0600', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const port = await freePort();
    const child = spawn(process.execPath, [bin, 'serve', '--demo'], { env: childEnv({ DOELPOORT_DATA_DIR: dataDir, PORT: String(port) }) });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await until(() => out.includes('"msg":"listening"'), 30_000);
      expect(modeOf(dataDir)).toBe(0o700);
      const files = fs.readdirSync(dataDir);
      expect(files).toEqual(
        expect.arrayContaining(['doelpoort.db', 'doelpoort.db-wal', 'doelpoort.db-shm', 'records.db', 'records.db-wal', 'records.db-shm', 'demo-idp.key.jwk']),
      );
      for (const f of files) expect([f, modeOf(path.join(dataDir, f))]).toEqual([f, 0o600]);
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 60_000);
});
