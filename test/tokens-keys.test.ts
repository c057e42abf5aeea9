import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../src/clock.js';
import { issueAccessToken, verifyAccessToken } from '../src/tokens/access-token.js';
import { KEYSET_FILE, loadGatewayKeys, rotateGatewayKeys } from '../src/tokens/gateway-keys.js';
import { tempDir, TODAY } from './support.js';

const issuer = 'https://doelpoort.test';
const grant = { user: { issuer: 'https://login.gemeente.example', sub: 'user-1', role: 'participatiecoach' as const, org: 'GM1960' }, purpose: 'overdracht-kp4' as const, client: 'WZR-100001' };

describe('loadGatewayKeys', () => {
  it('creates one ES256 key in the data dir, mode 0600, and reads the same key back', async () => {
    const dataDir = tempDir();
    const clock = fixedClock(`${TODAY}T10:00:00Z`);
    const keys = loadGatewayKeys({ dataDir, signingKeyFile: undefined }, clock);
    const file = path.join(dataDir, KEYSET_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(keys.signing.alg).toBe('ES256');
    expect(loadGatewayKeys({ dataDir, signingKeyFile: undefined }, clock).signing.kid).toBe(keys.signing.kid);
    expect(keys.published()).toEqual([expect.objectContaining({ kid: keys.signing.kid, alg: 'ES256', use: 'sig' })]);
    expect(keys.published()[0]).not.toHaveProperty('d');
  });

  it('signs with an Ed25519 key from DOELPOORT_SIGNING_KEY_FILE (PEM)', async () => {
    const dir = tempDir();
    const signingKeyFile = path.join(dir, 'signing.pem');
    fs.writeFileSync(signingKeyFile, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    const clock = fixedClock(`${TODAY}T10:00:00Z`);
    const keys = loadGatewayKeys({ dataDir: dir, signingKeyFile }, clock);
    expect(keys.signing.alg).toBe('EdDSA');
    const { token } = await issueAccessToken(grant, keys, { issuer, ttlSeconds: 300, clock });
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    expect((await verifyAccessToken(token, keys, { issuer, clock })).ok).toBe(true);
  });

  it('refuses a signing key file that is not a supported private key', () => {
    const dir = tempDir();
    const signingKeyFile = path.join(dir, 'signing.pem');
    fs.writeFileSync(signingKeyFile, 'not a key');
    expect(() => loadGatewayKeys({ dataDir: dir, signingKeyFile }, fixedClock(`${TODAY}T10:00:00Z`))).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('rotateGatewayKeys', () => {
  it('signs with the new key and keeps the old one published and accepted until its tokens have expired', async () => {
    const dataDir = tempDir();
    const clock = fixedClock(`${TODAY}T10:00:00Z`);
    const before = loadGatewayKeys({ dataDir, signingKeyFile: undefined }, clock);
    const { token } = await issueAccessToken(grant, before, { issuer, ttlSeconds: 900, clock });

    clock.advance(60_000);
    const { kid, retired } = rotateGatewayKeys(dataDir, clock);
    expect(retired).toEqual([before.signing.kid]);
    const after = loadGatewayKeys({ dataDir, signingKeyFile: undefined }, clock);
    expect(after.signing.kid).toBe(kid);
    expect(after.published().map((k) => k.kid).sort()).toEqual([before.signing.kid, kid].sort());
    expect((await verifyAccessToken(token, after, { issuer, clock })).ok).toBe(true);

    clock.advance(900_000);
    expect(await verifyAccessToken(token, after, { issuer, clock })).toEqual({ ok: false, reason: 'TOKEN_EXPIRED' });
    clock.advance(61_000);
    expect(after.published().map((k) => k.kid)).toEqual([kid]);
  });

  it('drops keys retired longer ago than a token can live', () => {
    const dataDir = tempDir();
    const clock = fixedClock(`${TODAY}T10:00:00Z`);
    loadGatewayKeys({ dataDir, signingKeyFile: undefined }, clock);
    rotateGatewayKeys(dataDir, clock);
    clock.advance(3_600_000);
    rotateGatewayKeys(dataDir, clock);
    const stored = JSON.parse(fs.readFileSync(path.join(dataDir, KEYSET_FILE), 'utf8')) as { keys: unknown[] };
    expect(stored.keys).toHaveLength(2);
  });
});
