import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
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
