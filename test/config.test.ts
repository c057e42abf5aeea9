import { describe, expect, it } from 'vitest';
import { databaseFile, loadConfig, recordsFile, redactedDatabaseUrl } from '../src/config.js';
import { DoelpoortError } from '../src/errors.js';

function configError(env: Record<string, string>): DoelpoortError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(DoelpoortError);
    return error as DoelpoortError;
  }
  throw new Error('expected a configuration error');
}

describe('loadConfig', () => {
  it('has the documented defaults: 127.0.0.1:8080, tokens for 300 s, and demo mode off', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 8080, host: '127.0.0.1', demo: false, tokenTtlSeconds: 300, requireDpop: false, publicUrl: 'http://127.0.0.1:8080' });
    expect(c.dataDir).toMatch(/\/data$/);
  });

  it('runs demo mode only when DOELPOORT_DEMO=1 asks for it', () => {
    expect(loadConfig({ DOELPOORT_DEMO: '1' }).demo).toBe(true);
    expect(loadConfig({ DOELPOORT_DEMO: '0' }).demo).toBe(false);
    expect(loadConfig({ DOELPOORT_IDPS_FILE: 'idps.json' }).demo).toBe(false);
  });

  it('refuses demo mode together with an IdPs file, naming both variables', () => {
    const error = configError({ DOELPOORT_IDPS_FILE: 'idps.json', DOELPOORT_DEMO: '1' });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.detail).toMatch(/^DOELPOORT_DEMO: .*DOELPOORT_IDPS_FILE/);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DOELPOORT_TOKEN_TTL: '901' }, 'DOELPOORT_TOKEN_TTL'],
    [{ DOELPOORT_TOKEN_TTL: '0' }, 'DOELPOORT_TOKEN_TTL'],
    [{ DOELPOORT_DEMO: 'yes' }, 'DOELPOORT_DEMO'],
    [{ DOELPOORT_PUBLIC_URL: 'not a url' }, 'DOELPOORT_PUBLIC_URL'],
  ])('refuses %j naming the variable but not its value', (env, variable) => {
    const error = configError(env);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.detail.startsWith(`${variable}:`)).toBe(true);
    expect(error.detail).not.toContain(Object.values(env)[0]);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '' }).port).toBe(8080);
  });
});

describe('loadConfig with DOELPOORT_DATABASE_URL', () => {
  const keyFiles = {
    DOELPOORT_PSEUDONYM_KEY_FILE: '/keys/pseudonym.key',
    DOELPOORT_CHECKPOINT_KEY_FILE: '/keys/audit-checkpoint.key.jwk',
    DOELPOORT_SIGNING_KEYS_FILE: '/keys/gateway-keys.json',
  };
  const url = 'postgresql://doelpoort:s3cr3t-pw@db.example:5432/doelpoort';

  it('is refused by every path to the SQLite files, so no command keeps PostgreSQL state in a local file', () => {
    const config = loadConfig({ DOELPOORT_DATABASE_URL: 'postgres://doelpoort:geheim@db.example/doelpoort', ...keyFiles });
    for (const file of [databaseFile, recordsFile]) {
      let error: unknown;
      try {
        file(config);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DoelpoortError);
      expect((error as DoelpoortError).code).toBe('CONFIG_INVALID');
      expect((error as DoelpoortError).detail).toMatch(/^DOELPOORT_DATABASE_URL: set, so .* is not used; this command does not run on PostgreSQL$/);
      expect((error as DoelpoortError).message).not.toContain('geheim');
    }
    expect(databaseFile(loadConfig({}))).toMatch(/doelpoort\.db$/);
  });

  it('takes a postgres:// or postgresql:// URL with every key file, and no database URL by default', () => {
    expect(loadConfig({}).databaseUrl).toBeUndefined();
    expect(loadConfig({ DOELPOORT_DATABASE_URL: url, ...keyFiles })).toMatchObject({
      databaseUrl: url,
      pseudonymKeyFile: '/keys/pseudonym.key',
      checkpointKeyFile: '/keys/audit-checkpoint.key.jwk',
      signingKeysFile: '/keys/gateway-keys.json',
    });
    expect(loadConfig({ DOELPOORT_DATABASE_URL: 'postgres://127.0.0.1/x', ...keyFiles }).databaseUrl).toBe('postgres://127.0.0.1/x');
    // One signing key instead of a keyset is as shared.
    const { DOELPOORT_SIGNING_KEYS_FILE: _, ...withoutKeyset } = keyFiles;
    expect(loadConfig({ DOELPOORT_DATABASE_URL: url, ...withoutKeyset, DOELPOORT_SIGNING_KEY_FILE: '/keys/one.pem' }).signingKeyFile).toBe('/keys/one.pem');
  });

  it.each(['mysql://u:s3cr3t-pw@db/x', 'http://u:s3cr3t-pw@db/x', 'postgres:s3cr3t-pw', 'not a url s3cr3t-pw', 'postgres:///s3cr3t-pw'])(
    'refuses %s naming the variable, never echoing the value or its password',
    (value) => {
      const error = configError({ DOELPOORT_DATABASE_URL: value, ...keyFiles });
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.detail).toBe('DOELPOORT_DATABASE_URL: must be a postgres:// or postgresql:// URL with a host');
      expect(JSON.stringify([error.message, error.detail, error.problems])).not.toContain('s3cr3t');
    },
  );

  it.each(Object.keys(keyFiles))('refuses to start without %s: keys generated per instance would differ', (variable) => {
    const env: Record<string, string> = { DOELPOORT_DATABASE_URL: url, ...keyFiles };
    delete env[variable];
    const error = configError(env);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.detail).toMatch(new RegExp(`^${variable}: required with DOELPOORT_DATABASE_URL .*keys init --out`));
    expect(JSON.stringify(error)).not.toContain('s3cr3t');
  });

  it('names every missing key file, and needs none of them without a database URL', () => {
    const error = configError({ DOELPOORT_DATABASE_URL: url });
    expect(error.problems).toEqual([
      { path: 'DOELPOORT_PSEUDONYM_KEY_FILE', message: 'required with DOELPOORT_DATABASE_URL' },
      { path: 'DOELPOORT_CHECKPOINT_KEY_FILE', message: 'required with DOELPOORT_DATABASE_URL' },
      { path: 'DOELPOORT_SIGNING_KEYS_FILE', message: 'required with DOELPOORT_DATABASE_URL' },
    ]);
    expect(loadConfig({}).pseudonymKeyFile).toBeUndefined();
  });

  it('refuses a signing key file and a keyset file together', () => {
    const error = configError({ DOELPOORT_SIGNING_KEY_FILE: '/k/one.pem', DOELPOORT_SIGNING_KEYS_FILE: '/k/set.json' });
    expect(error.detail).toMatch(/^DOELPOORT_SIGNING_KEYS_FILE: .*DOELPOORT_SIGNING_KEY_FILE/);
  });

  it('redacts the password of a URL for a log line', () => {
    expect(redactedDatabaseUrl(url)).toBe('postgresql://doelpoort:***@db.example:5432/doelpoort');
    expect(redactedDatabaseUrl('postgres://db/x')).toBe('postgres://db/x');
    expect(redactedDatabaseUrl('s3cr3t garbage')).toBe('(not a URL)');
  });
});
