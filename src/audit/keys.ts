import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { keyId, loadOrCreateSecret, readOrCreateKeyFile } from '../data-dir.js';

/** The Ed25519 key that signs checkpoints of the audit chain. Its public JWK is what an officer or auditor trusts. */
export interface CheckpointKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** RFC 7638 thumbprint of the public key; the `kid` of every checkpoint JWS. */
  kid: string;
  /** The public key as a JWK (with `kid`, `alg`, `use`), ready to publish. */
  publicJwk: JWK;
}

/** The keys the audit log needs, loaded from (or created in) the data dir by the composition root and the CLI. */
export interface AuditKeys {
  /** HMAC key for BSN pseudonyms. */
  pseudonymKey: Buffer;
  checkpointKey: CheckpointKey;
}

/** File names of the keys inside the data dir (mode 0600). */
const PSEUDONYM_KEY_FILE = 'pseudonym.key';
export const CHECKPOINT_KEY_FILE = 'audit-checkpoint.key.jwk';

/** Loads both audit keys from `dataDir`, creating each on first use. */
export function loadAuditKeys(dataDir: string): AuditKeys {
  return { pseudonymKey: loadOrCreateSecret(dataDir, PSEUDONYM_KEY_FILE), checkpointKey: loadOrCreateCheckpointKey(dataDir) };
}

/** The checkpoint key from `dataDir`, created (Ed25519, mode 0600, never overwritten) on first use. */
export function loadOrCreateCheckpointKey(dataDir: string): CheckpointKey {
  const text = readOrCreateKeyFile(dataDir, CHECKPOINT_KEY_FILE, () => {
    const key = generateCheckpointKey();
    return JSON.stringify({ ...(key.privateKey.export({ format: 'jwk' }) as JWK), kid: key.kid, alg: 'EdDSA', use: 'sig' });
  });
  return checkpointKeyFromJwk(JSON.parse(text) as JWK);
}

/** A fresh checkpoint key that lives in memory only (tests, benchmarks). */
export function generateCheckpointKey(): CheckpointKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  return fromPrivate(privateKey);
}

/** A checkpoint key from a private Ed25519 JWK. */
function checkpointKeyFromJwk(jwk: JWK): CheckpointKey {
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.d !== 'string') throw new TypeError('checkpoint key: not a private Ed25519 JWK');
  return fromPrivate(createPrivateKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' }));
}

/** A public Ed25519 key from a JWK, as an auditor would hold it. */
export function publicKeyFromJwk(jwk: JWK): KeyObject {
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new TypeError('checkpoint key: not an Ed25519 JWK');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
}

function fromPrivate(privateKey: KeyObject): CheckpointKey {
  const publicKey = createPublicKey(privateKey);
  const kid = keyId(publicKey);
  const { kty, crv, x } = publicKey.export({ format: 'jwk' });
  return { privateKey, publicKey, kid, publicJwk: { kty, crv, x, kid, alg: 'EdDSA', use: 'sig' } as JWK };
}
