import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, decodeProtectedHeader, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { generateCheckpointKey } from '../src/audit/keys.js';
import { fixedClock } from '../src/clock.js';
import { keyId, readOrCreateKeyFile } from '../src/data-dir.js';
import { loadDemoIdp } from '../src/tokens/demo-idp.js';
import { issueAccessToken, verifyAccessToken } from '../src/tokens/access-token.js';
import { KEYSET_FILE, loadGatewayKeys, rotateGatewayKeys } from '../src/tokens/gateway-keys.js';
import { tempDir, TODAY } from './support.js';

const issuer = 'https://doelpoort.test';
const grant = {
  user: { issuer: 'https://login.gemeente.example', sub: 'user-1', role: 'participatiecoach' as const, org: 'GM1960' },
  purpose: 'overdracht-kp4' as const,
  client: 'WZR-100001',
  clientId: 'test-client',
};

describe(keyId.name, () => {
  it('is the RFC 7638 thumbprint jose computes, for EC P-256 and Ed25519 keys', async () => {
    for (const { publicKey } of [generateKeyPairSync('ec', { namedCurve: 'P-256' }), generateKeyPairSync('ed25519')]) {
      expect(keyId(publicKey)).toBe(await calculateJwkThumbprint(publicKey.export({ format: 'jwk' }) as JWK));
    }
  });

  it('names the gateway key, the signing key file, the checkpoint key and the demo IdP key alike', async () => {
    const dataDir = tempDir();
    const clock = fixedClock(`${TODAY}T10:00:00Z`);
    const gateway = loadGatewayKeys({ dataDir, signingKeyFile: undefined }, clock);
    expect(gateway.signing.kid).toBe(await calculateJwkThumbprint(gateway.published()[0]!));
    const signingKeyFile = path.join(dataDir, 'signing.pem');
    const pem = generateKeyPairSync('ed25519').privateKey;
    fs.writeFileSync(signingKeyFile, pem.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    expect(loadGatewayKeys({ dataDir, signingKeyFile }, clock).signing.kid).toBe(
      await calculateJwkThumbprint(createPublicKey(pem).export({ format: 'jwk' }) as JWK),
    );
    const checkpoint = generateCheckpointKey();
    expect(checkpoint.kid).toBe(await calculateJwkThumbprint(checkpoint.publicJwk));
    const demo = await loadDemoIdp(dataDir);
    expect(demo.jwks.keys[0]!.kid).toBe(await calculateJwkThumbprint(demo.jwks.keys[0]!));
  });

  it('refuses a key type it does not derive ids for', () => {
    expect(() => keyId(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey)).toThrow(TypeError);
  });
});

describe(readOrCreateKeyFile.name, () => {
  it('writes a key file once, mode 0600, and never replaces it: a later creator gets the first content', () => {
    const dataDir = path.join(tempDir(), 'data');
    expect(readOrCreateKeyFile(dataDir, 'k', () => 'first')).toBe('first');
    expect(fs.statSync(path.join(dataDir, 'k')).mode & 0o777).toBe(0o600);
    expect(readOrCreateKeyFile(dataDir, 'k', () => 'second')).toBe('first');
    expect(fs.readdirSync(dataDir)).toEqual(['k']);
  });

  it('lets the first write win when another process created the file meanwhile', () => {
    const dataDir = tempDir();
    const content = readOrCreateKeyFile(dataDir, 'k', () => {
      fs.writeFileSync(path.join(dataDir, 'k'), 'winner', { mode: 0o600 });
      return 'loser';
    });
    expect(content).toBe('winner');
    expect(fs.readFileSync(path.join(dataDir, 'k'), 'utf8')).toBe('winner');
    expect(fs.readdirSync(dataDir)).toEqual(['k']);
  });
});

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
    expect(() => loadGatewayKeys({ dataDir: dir, signingKeyFile }, fixedClock(`${TODAY}T10:00:00Z`))).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
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
    expect(
      after
        .published()
        .map((k) => k.kid)
        .sort(),
    ).toEqual([before.signing.kid, kid].sort());
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
