import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The text of a key file in the data dir, created by `create` (mode 0600, never overwritten) when it is not there
 * yet. When two processes start together (serve and a CLI command), the one that loses the race uses the winner's.
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
  try {
    fs.writeFileSync(file, content, { mode: 0o600, flag: 'wx' });
    return content;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return fs.readFileSync(file, 'utf8');
    throw error;
  }
}

/** A random secret kept in the data dir (mode 0600), created on first use; e.g. the BSN pseudonym key. */
export function loadOrCreateSecret(dataDir: string, name: string, bytes = 32): Buffer {
  return Buffer.from(readOrCreateKeyFile(dataDir, name, () => randomBytes(bytes).toString('base64url')).trim(), 'base64url');
}
