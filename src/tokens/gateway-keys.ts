import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { errors, type JWK, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { MAX_TOKEN_TTL_SECONDS, type Config } from '../config.js';
import { keyId, readKeyFile, readOrCreateKeyFile } from '../data-dir.js';
import { DoelpoortError } from '../errors.js';
import { CLOCK_TOLERANCE_SECONDS } from './algorithms.js';

/** The algorithms of the gateway's own signing keys. */
export const GATEWAY_ALGORITHMS = ['ES256', 'EdDSA'] as const;
export type GatewayAlgorithm = (typeof GATEWAY_ALGORITHMS)[number];

/** The longest an issued token can live, plus the clock skew its verifiers tolerate. */
const LONGEST_TOKEN_LIFE_MS = (MAX_TOKEN_TTL_SECONDS + CLOCK_TOLERANCE_SECONDS) * 1000;
/** The keyset file in the data dir. */
export const KEYSET_FILE = 'gateway-keys.json';

const storedKeySchema = z.strictObject({
  kid: z.string().min(1).max(128),
  alg: z.enum(GATEWAY_ALGORITHMS),
  /** The private key as a JWK; the file is mode 0600. */
  privateJwk: z.looseObject({ kty: z.string(), d: z.string() }),
  /** Epoch ms. */
  created: z.number().int(),
  /** Epoch ms when a newer key took over signing; absent for the current key. */
  retired: z.number().int().optional(),
});
const keysetSchema = z.strictObject({ keys: z.array(storedKeySchema).min(1) });
type StoredKey = z.infer<typeof storedKeySchema>;

interface LoadedKey {
  kid: string;
  alg: GatewayAlgorithm;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: JWK;
  retired: number | undefined;
}

/**
 * The gateway's signing keys: one current key signs; retired keys stay published and accepted until every token they
 * can have signed has expired (RFC 7517 rotation without breaking live tokens).
 */
export class GatewayKeys {
  readonly #keys: LoadedKey[];
  readonly #current: LoadedKey;

  constructor(
    stored: readonly StoredKey[],
    readonly clock: Clock,
  ) {
    this.#keys = stored.map(loadKey);
    const current = this.#keys.filter((k) => k.retired === undefined);
    if (current.length !== 1) throw new DoelpoortError('CONFIG_INVALID', 'gateway keyset: exactly one key must be current');
    this.#current = current[0]!;
  }

  /** The key that signs new tokens. */
  get signing(): { kid: string; alg: GatewayAlgorithm; key: KeyObject } {
    return { kid: this.#current.kid, alg: this.#current.alg, key: this.#current.privateKey };
  }

  /** The public keys to publish and accept now: the current one and those retired less than a token lifetime ago. */
  published(): JWK[] {
    return this.#live().map((k) => k.publicJwk);
  }

  /** A jose key resolver over the live keys, chosen by `kid`. */
  readonly getKey: JWTVerifyGetKey = (header) => {
    const key = this.#live().find((k) => k.kid === header.kid && k.alg === header.alg);
    if (!key) throw new errors.JWKSNoMatchingKey();
    return key.publicKey;
  };

  #live(): LoadedKey[] {
    const now = this.clock.now();
    return this.#keys.filter((k) => k.retired === undefined || now - k.retired < LONGEST_TOKEN_LIFE_MS);
  }
}

function loadKey(stored: StoredKey): LoadedKey {
  const privateKey = createPrivateKey({ key: stored.privateJwk as never, format: 'jwk' });
  const publicKey = createPublicKey(privateKey);
  const publicJwk: JWK = { ...(publicKey.export({ format: 'jwk' }) as JWK), kid: stored.kid, alg: stored.alg, use: 'sig' };
  return { kid: stored.kid, alg: stored.alg, privateKey, publicKey, publicJwk, retired: stored.retired };
}

function algorithmOf(key: KeyObject): GatewayAlgorithm {
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  throw new DoelpoortError('CONFIG_INVALID', 'DOELPOORT_SIGNING_KEY_FILE: must be an EC P-256 or Ed25519 private key');
}

/** A new ES256 key as the keyset stores it. */
function newStoredKey(clock: Clock): StoredKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid: keyId(publicKey), alg: 'ES256', privateJwk: privateKey.export({ format: 'jwk' }) as StoredKey['privateJwk'], created: clock.now() };
}

function keysetPath(dataDir: string): string {
  return path.join(dataDir, KEYSET_FILE);
}

function readKeyset(file: string, name: string): StoredKey[] | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parseKeyset(text, name);
}

/** The keys of a keyset file; `name` (the file's or its variable's) is what an error names. */
function parseKeyset(text: string, name: string): StoredKey[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DoelpoortError('CONFIG_INVALID', `${name}: not JSON`);
  }
  const parsed = keysetSchema.safeParse(json);
  if (!parsed.success) throw new DoelpoortError('CONFIG_INVALID', `${name}: invalid at ${parsed.error.issues[0]?.path.join('.') ?? '?'}`);
  return parsed.data.keys;
}

/** A new keyset file's content, one current ES256 key: what the data dir gets on first start, and `keys init` writes. */
export function newKeysetText(clock: Clock): string {
  return JSON.stringify({ keys: [newStoredKey(clock)] });
}

/** Replaces the keyset atomically with mode 0600: a crash never leaves half a file of private keys. */
function writeKeyset(file: string, keys: readonly StoredKey[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ keys }), { mode: 0o600, flag: 'w' });
  fs.renameSync(tmp, file);
}

/**
 * The gateway keys the configuration asks for: the key in DOELPOORT_SIGNING_KEY_FILE (PEM or JWK) when set; the
 * keyset in DOELPOORT_SIGNING_KEYS_FILE (never created here: several instances must share it) when set; else the
 * keyset in the data dir, created with one ES256 key on first start. Synchronous, so the app can be built without
 * awaiting.
 */
export function loadGatewayKeys(config: Pick<Config, 'dataDir' | 'signingKeyFile'> & Partial<Pick<Config, 'signingKeysFile'>>, clock: Clock): GatewayKeys {
  if (config.signingKeyFile) {
    let privateKey: KeyObject;
    try {
      const text = fs.readFileSync(config.signingKeyFile, 'utf8');
      privateKey = text.trimStart().startsWith('{') ? createPrivateKey({ key: JSON.parse(text), format: 'jwk' }) : createPrivateKey(text);
    } catch {
      throw new DoelpoortError('CONFIG_INVALID', 'DOELPOORT_SIGNING_KEY_FILE: cannot be read as a private key (PEM or JWK)');
    }
    const alg = algorithmOf(privateKey);
    const kid = keyId(createPublicKey(privateKey));
    return new GatewayKeys([{ kid, alg, privateJwk: privateKey.export({ format: 'jwk' }) as StoredKey['privateJwk'], created: 0 }], clock);
  }
  if (config.signingKeysFile) {
    const variable = 'DOELPOORT_SIGNING_KEYS_FILE';
    return new GatewayKeys(parseKeyset(readKeyFile(config.signingKeysFile, variable), variable), clock);
  }
  // Created like every key file: exclusively, so two processes starting together share the winner's key.
  const text = readOrCreateKeyFile(config.dataDir, KEYSET_FILE, () => newKeysetText(clock));
  return new GatewayKeys(parseKeyset(text, KEYSET_FILE), clock);
}

/**
 * Adds a new current signing key to a keyset (the data dir's, or `file`: DOELPOORT_SIGNING_KEYS_FILE) and retires the
 * old one; keys retired longer ago than a token can live are dropped. A running gateway picks the new key up when
 * restarted. Returns the new key id.
 */
export function rotateGatewayKeys(dataDir: string, clock: Clock, file = keysetPath(dataDir)): { kid: string; retired: string[] } {
  const now = clock.now();
  const existing = readKeyset(file, file === keysetPath(dataDir) ? KEYSET_FILE : 'DOELPOORT_SIGNING_KEYS_FILE') ?? [];
  const retired = existing.filter((k) => k.retired === undefined).map((k) => k.kid);
  const kept = existing.map((k) => (k.retired === undefined ? { ...k, retired: now } : k)).filter((k) => now - k.retired! < LONGEST_TOKEN_LIFE_MS);
  const fresh = newStoredKey(clock);
  writeKeyset(file, [...kept, fresh]);
  return { kid: fresh.kid, retired };
}
