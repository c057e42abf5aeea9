import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfiguredAuditKeys } from '../src/audit/keys.js';
import { keysCommand } from '../src/cli/keys.js';
import { fixedClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { DoelpoortError } from '../src/errors.js';
import { loadGatewayKeys } from '../src/tokens/gateway-keys.js';
import { tempDir, TODAY } from './support.js';

const bin = path.resolve('bin/doelpoort.js');
const clock = fixedClock(`${TODAY}T10:00:00Z`);

function cli(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, DOELPOORT_DATA_DIR: tempDir(), ...env }, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `doelpoort keys …` in this process (a spawned CLI takes seconds here): its exit code or error, and what it printed. */
async function keys(args: string[], env: Record<string, string> = {}) {
  for (const [name, value] of Object.entries({ DOELPOORT_DATA_DIR: tempDir(), ...env })) vi.stubEnv(name, value);
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void out.push(line));
  const error = vi.spyOn(console, 'error').mockImplementation((line: string) => void err.push(line));
  try {
    return { code: await keysCommand(args), stdout: out.join('\n'), stderr: err.join('\n') };
  } catch (e) {
    if (!(e instanceof DoelpoortError)) throw e;
    return { code: 2, stdout: out.join('\n'), stderr: e.message };
  } finally {
    log.mockRestore();
    error.mockRestore();
    vi.unstubAllEnvs();
  }
}

afterEach(() => vi.unstubAllEnvs());

/** The environment `keys init` prints, as a map. */
function envLines(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((line) => line.split('=') as [string, string]),
  );
}

function thrown(work: () => unknown): DoelpoortError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(DoelpoortError);
    return error as DoelpoortError;
  }
  throw new Error('expected a DoelpoortError');
}

describe('doelpoort keys init --out DIR', () => {
  it('writes the three key files once (0600, directory 0700) and prints the variables naming them, never a key', { timeout: 60_000 }, () => {
    const out = path.join(tempDir(), 'keys');
    const r = cli(['keys', 'init', '--out', out]);
    expect(r.code).toBe(0);
    const env = envLines(r.stdout);
    expect(env).toEqual({
      DOELPOORT_PSEUDONYM_KEY_FILE: path.join(out, 'pseudonym.key'),
      DOELPOORT_CHECKPOINT_KEY_FILE: path.join(out, 'audit-checkpoint.key.jwk'),
      DOELPOORT_SIGNING_KEYS_FILE: path.join(out, 'gateway-keys.json'),
    });
    expect(fs.statSync(out).mode & 0o777).toBe(0o700);
    for (const file of Object.values(env)) {
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      const content = fs.readFileSync(file, 'utf8');
      // No key material on either stream: not the whole file, nor its secret part.
      const secret = file.endsWith('.key') ? content.trim() : JSON.stringify(JSON.parse(content)).match(/"d":"([^"]+)"/)![1]!;
      expect(r.stdout + r.stderr).not.toContain(secret);
    }
  });

  it('writes nothing when any key file is there already, so a second run cannot give instances other keys', async () => {
    const out = tempDir();
    fs.writeFileSync(path.join(out, 'audit-checkpoint.key.jwk'), 'theirs', { mode: 0o600 });
    const r = await keys(['init', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/audit-checkpoint\.key\.jwk exists already .*nothing written/);
    expect(fs.readdirSync(out)).toEqual(['audit-checkpoint.key.jwk']);
    expect(fs.readFileSync(path.join(out, 'audit-checkpoint.key.jwk'), 'utf8')).toBe('theirs');

    const first = path.join(tempDir(), 'k');
    expect((await keys(['init', '--out', first])).code).toBe(0);
    const before = fs.readdirSync(first).map((f) => fs.readFileSync(path.join(first, f), 'utf8'));
    expect((await keys(['init', '--out', first])).code).toBe(2);
    expect(fs.readdirSync(first).map((f) => fs.readFileSync(path.join(first, f), 'utf8'))).toEqual(before);
  });

  it('needs --out', async () => {
    const r = await keys(['init']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--out is required');
  });

  it('lets keys rotate rotate the configured keyset file, and refuses one that is not there', async () => {
    const out = tempDir();
    const env = envLines((await keys(['init', '--out', out])).stdout);
    const before = loadGatewayKeys({ dataDir: tempDir(), signingKeyFile: undefined, signingKeysFile: env.DOELPOORT_SIGNING_KEYS_FILE }, clock).signing.kid;
    const dataDir = tempDir();
    const r = await keys(['rotate'], { DOELPOORT_SIGNING_KEYS_FILE: env.DOELPOORT_SIGNING_KEYS_FILE!, DOELPOORT_DATA_DIR: dataDir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`retired ${before}`);
    expect(fs.readdirSync(dataDir)).toEqual([]);
    const after = loadGatewayKeys({ dataDir, signingKeyFile: undefined, signingKeysFile: env.DOELPOORT_SIGNING_KEYS_FILE }, clock);
    expect(after.signing.kid).not.toBe(before);
    expect(after.published().map((k) => k.kid)).toContain(before);

    const missing = await keys(['rotate'], { DOELPOORT_SIGNING_KEYS_FILE: path.join(out, 'nope.json') });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('DOELPOORT_SIGNING_KEYS_FILE: no such file');
  });
});

describe('keys from configured files', () => {
  async function initialised(): Promise<Record<string, string>> {
    const out = tempDir();
    const r = await keys(['init', '--out', out]);
    expect(r.code).toBe(0);
    return envLines(r.stdout);
  }

  it('gives two instances with their own data dirs the same keys, and creates none in either data dir', async () => {
    const files = await initialised();
    const instances = [tempDir(), tempDir()].map((dataDir) => {
      const config = loadConfig({ ...files, DOELPOORT_DATA_DIR: dataDir, DOELPOORT_DATABASE_URL: 'postgres://127.0.0.1/doelpoort' });
      const audit = loadConfiguredAuditKeys(config);
      const gateway = loadGatewayKeys(config, clock);
      expect(fs.readdirSync(dataDir)).toEqual([]);
      return { pseudonym: audit.pseudonymKey.toString('hex'), checkpoint: audit.checkpointKey.kid, signing: gateway.signing.kid };
    });
    expect(instances[0]!.pseudonym).toHaveLength(64);
    expect(instances[1]).toEqual(instances[0]);
  });

  it('refuses a configured key file that is missing, naming its variable, and never creates it', async () => {
    const files = await initialised();
    for (const variable of ['DOELPOORT_PSEUDONYM_KEY_FILE', 'DOELPOORT_CHECKPOINT_KEY_FILE', 'DOELPOORT_SIGNING_KEYS_FILE']) {
      const gone = path.join(tempDir(), 'missing.key');
      const config = loadConfig({ ...files, [variable]: gone, DOELPOORT_DATABASE_URL: 'postgres://127.0.0.1/doelpoort' });
      const error = thrown(() => {
        loadConfiguredAuditKeys(config);
        loadGatewayKeys(config, clock);
      });
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.detail).toBe(`${variable}: no such file; \`doelpoort keys init --out <dir>\` writes the key files once`);
      expect(fs.existsSync(gone)).toBe(false);
    }
  });

  it('refuses a key file with the wrong content, naming its variable and not the content', async () => {
    const files = await initialised();
    const cases = [
      ['DOELPOORT_PSEUDONYM_KEY_FILE', 'c2hvcnQ', /^DOELPOORT_PSEUDONYM_KEY_FILE: must hold at least 32 bytes/],
      [
        'DOELPOORT_CHECKPOINT_KEY_FILE',
        fs.readFileSync(files.DOELPOORT_SIGNING_KEYS_FILE!, 'utf8'),
        /^DOELPOORT_CHECKPOINT_KEY_FILE: not a private Ed25519 JWK$/,
      ],
      ['DOELPOORT_SIGNING_KEYS_FILE', fs.readFileSync(files.DOELPOORT_CHECKPOINT_KEY_FILE!, 'utf8'), /^DOELPOORT_SIGNING_KEYS_FILE: invalid at keys$/],
      ['DOELPOORT_SIGNING_KEYS_FILE', 'secret-ish {', /^DOELPOORT_SIGNING_KEYS_FILE: not JSON$/],
    ] as const;
    for (const [variable, content, detail] of cases) {
      const file = path.join(tempDir(), 'bad');
      fs.writeFileSync(file, content, { mode: 0o600 });
      const config = loadConfig({ ...files, [variable]: file });
      const error = thrown(() => {
        loadConfiguredAuditKeys(config);
        loadGatewayKeys(config, clock);
      });
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.detail).toMatch(detail);
      expect(error.message).not.toContain(content.slice(0, 12));
    }
  });

  it('keeps the data dir keys, created on first use, when no file is configured (SQLite, one instance)', async () => {
    const dataDir = tempDir();
    const config = loadConfig({ DOELPOORT_DATA_DIR: dataDir });
    const first = loadConfiguredAuditKeys(config);
    expect(fs.readdirSync(dataDir).sort()).toEqual(['audit-checkpoint.key.jwk', 'pseudonym.key']);
    const again = loadConfiguredAuditKeys(config);
    expect(again.pseudonymKey.equals(first.pseudonymKey)).toBe(true);
    expect(again.checkpointKey.kid).toBe(first.checkpointKey.kid);
  });
});
