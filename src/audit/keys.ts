import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import type { Config } from '../config.js';
import { keyId, loadOrCreateSecret, readKeyFile, readOrCreateKeyFile } from '../data-dir.js';
import { DoelpoortError } from '../errors.js';

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

/** File names of the keys inside the data dir, and of those `keys init` writes (mode 0600). */
export const PSEUDONYM_KEY_FILE = 'pseudonym.key';
export const CHECKPOINT_KEY_FILE = 'audit-checkpoint.key.jwk';
const PSEUDONYM_KEY_BYTES = 32;

/** Loads both audit keys from `dataDir`, creating each on first use. */
export function loadAuditKeys(dataDir: string): AuditKeys {
  return { pseudonymKey: loadOrCreateSecret(dataDir, PSEUDONYM_KEY_FILE, PSEUDONYM_KEY_BYTES), checkpointKey: loadOrCreateCheckpointKey(dataDir) };
}

/**
 * The audit keys the configuration names: each from its file (DOELPOORT_PSEUDONYM_KEY_FILE,
 * DOELPOORT_CHECKPOINT_KEY_FILE), which must exist and is never created here, so that several instances hold the same
 * keys; a key without a configured file comes from (or is created in) the data dir, as one instance on SQLite does.
 */
export function loadConfiguredAuditKeys(config: Pick<Config, 'dataDir' | 'pseudonymKeyFile' | 'checkpointKeyFile'>): AuditKeys {
  const pseudonymKey = config.pseudonymKeyFile
    ? pseudonymKeyFromText(readKeyFile(config.pseudonymKeyFile, 'DOELPOORT_PSEUDONYM_KEY_FILE'))
    : loadOrCreateSecret(config.dataDir, PSEUDONYM_KEY_FILE, PSEUDONYM_KEY_BYTES);
  let checkpointKey: CheckpointKey;
  if (config.checkpointKeyFile) {
    const text = readKeyFile(config.checkpointKeyFile, 'DOELPOORT_CHECKPOINT_KEY_FILE');
    try {
      checkpointKey = checkpointKeyFromJwk(JSON.parse(text) as JWK);
    } catch {
      throw new DoelpoortError('CONFIG_INVALID', 'DOELPOORT_CHECKPOINT_KEY_FILE: not a private Ed25519 JWK');
    }
  } else {
    checkpointKey = loadOrCreateCheckpointKey(config.dataDir);
  }
  return { pseudonymKey, checkpointKey };
}

function pseudonymKeyFromText(text: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64url');
  if (key.length < PSEUDONYM_KEY_BYTES)
    throw new DoelpoortError('CONFIG_INVALID', `DOELPOORT_PSEUDONYM_KEY_FILE: must hold at least ${PSEUDONYM_KEY_BYTES} bytes, base64url`);
  return key;
}

/** A new pseudonym key file's content (base64url), as the data dir holds it. */
export function newPseudonymKeyText(): string {
  return randomBytes(PSEUDONYM_KEY_BYTES).toString('base64url');
}

/** A new checkpoint key file's content: the private JWK with `kid`, `alg` and `use`. */
export function newCheckpointKeyText(): string {
  const key = generateCheckpointKey();
  return JSON.stringify({ ...(key.privateKey.export({ format: 'jwk' }) as JWK), kid: key.kid, alg: 'EdDSA', use: 'sig' });
}

/** The checkpoint key from `dataDir`, created (Ed25519, mode 0600, never overwritten) on first use. */
export function loadOrCreateCheckpointKey(dataDir: string): CheckpointKey {
  return checkpointKeyFromJwk(JSON.parse(readOrCreateKeyFile(dataDir, CHECKPOINT_KEY_FILE, newCheckpointKeyText)) as JWK);
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
