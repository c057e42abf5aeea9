import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './support.js';

const bin = path.resolve('bin/doelpoort.js');

/** The environment of a child: no identity configuration inherited from the shell running the tests. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  delete base.DOELPOORT_IDPS_FILE;
  delete base.DOELPOORT_DEMO;
  return { ...base, PORT: '0', ...env };
}

function run(args: string[], env: Record<string, string>, input?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { env: childEnv(env), input, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function idpsFile(entry: Record<string, unknown>): string {
  const file = path.join(tempDir(), 'idps.json');
  fs.writeFileSync(file, JSON.stringify({ idps: [{ issuer: 'https://login.tiel.example', audience: 'doelpoort', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] }, ...entry }] }));
  return file;
}

describe('doelpoort serve: identity configuration at start', () => {
  it('refuses to start without DOELPOORT_IDPS_FILE and without demo mode: exit 2, one line saying why', () => {
    const dataDir = path.join(tempDir(), 'data');
    const r = run(['serve'], { DOELPOORT_DATA_DIR: dataDir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['doelpoort: serve: no identity providers: set DOELPOORT_IDPS_FILE, or DOELPOORT_DEMO=1 (or --demo) for demo mode']);
    expect(fs.existsSync(dataDir)).toBe(false);
  });

  it('refuses demo mode together with an IdPs file: exit 2, one line', () => {
    const r = run(['serve'], { DOELPOORT_DATA_DIR: tempDir(), DOELPOORT_DEMO: '1', DOELPOORT_IDPS_FILE: idpsFile({ organisations: ['GM0281'] }) });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['doelpoort: DOELPOORT_DEMO: demo mode cannot be combined with DOELPOORT_IDPS_FILE; set one of them']);
  });

  it('refuses an IdPs file whose entry lists no organisations: exit 2, one line naming the file and the path', () => {
    const file = idpsFile({});
    const r = run(['serve'], { DOELPOORT_DATA_DIR: tempDir(), DOELPOORT_IDPS_FILE: file });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([`doelpoort: DOELPOORT_IDPS_FILE ${file}: invalid at idps.0.organisations: must list the organisations this provider may vouch for`]);
  });

  it('refuses an IdPs file with an http: jwksUri: exit 2, naming the path', () => {
    const file = idpsFile({ organisations: ['GM0281'], jwks: undefined, jwksUri: 'http://login.tiel.example/jwks.json' });
    const r = run(['serve'], { DOELPOORT_DATA_DIR: tempDir(), DOELPOORT_IDPS_FILE: file });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([`doelpoort: DOELPOORT_IDPS_FILE ${file}: invalid at idps.0.jwksUri: must be an https: URL`]);
  });
});
