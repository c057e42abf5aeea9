import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DoelpoortError } from './errors.js';

/**
 * The text of a key file in the data dir, created by `create` (mode 0600, never overwritten) when it is not there
 * yet: the one way every key file is first written. When two processes start together (serve and a CLI command),
 * the one that loses the race uses the winner's.
 */
export function readOrCreateKeyFile(dataDir: string, name: string, create: () => string): string {
  const file = path.join(dataDir, name);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const content = create();
  // Written whole under a private name, then linked into place: link(2) fails when the name exists, so the first
  // write wins and no reader ever sees half a key.
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, content, { mode: 0o600, flag: 'wx' });
  try {
    fs.linkSync(tmp, file);
    return content;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return fs.readFileSync(file, 'utf8');
    throw error;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * The RFC 7638 JWK thumbprint (SHA-256, base64url) of an EC or OKP public key: the `kid` of every key doelpoort makes.
 * The same value as jose's `calculateJwkThumbprint`, computed synchronously so that keys load without awaiting.
 */
export function keyId(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  // The required members in lexicographic order, no whitespace (RFC 7638 §3.2).
  const members =
    jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : jwk.kty === 'OKP' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x } : undefined;
  if (!members) throw new TypeError('keyId: only EC and OKP keys');
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** A random secret kept in the data dir (mode 0600), created on first use; e.g. the BSN pseudonym key. */
export function loadOrCreateSecret(dataDir: string, name: string, bytes = 32): Buffer {
  return Buffer.from(readOrCreateKeyFile(dataDir, name, () => randomBytes(bytes).toString('base64url')).trim(), 'base64url');
}

/** A configured key file's text; CONFIG_INVALID naming `variable` (never the content) when it cannot be read. */
export function readKeyFile(file: string, variable: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DoelpoortError(
      'CONFIG_INVALID',
      code === 'ENOENT'
        ? `${variable}: no such file; \`doelpoort keys init --out <dir>\` writes the key files once`
        : `${variable}: cannot be read (${code ?? 'error'})`,
    );
  }
}
