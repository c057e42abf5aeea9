import fs from 'node:fs';
import path from 'node:path';
import { CHECKPOINT_KEY_FILE, newCheckpointKeyText, newPseudonymKeyText, PSEUDONYM_KEY_FILE } from '../audit/keys.js';
import { systemClock } from '../clock.js';
import { loadConfig } from '../config.js';
import { readOrCreateKeyFile } from '../data-dir.js';
import { DoelpoortError } from '../errors.js';
import { KEYSET_FILE, newKeysetText, rotateGatewayKeys } from '../tokens/gateway-keys.js';
import { parseCommandArgs } from './args.js';
import { privateDataDir } from './private-data-dir.js';

const USAGE = 'usage: doelpoort keys rotate | doelpoort keys init --out DIR';

/**
 * `doelpoort keys rotate`: a new gateway signing key; the old public key stays published until its tokens expire.
 * `doelpoort keys init --out DIR`: the key files every instance on one database shares, written once.
 */
export async function keysCommand(args: string[]): Promise<number> {
  const { positionals, values } = parseCommandArgs(args, { out: { type: 'string' } }, true);
  if (positionals.length === 1 && positionals[0] === 'init') return initKeys(values.out);
  if (positionals.length !== 1 || positionals[0] !== 'rotate' || values.out !== undefined) throw new DoelpoortError('REQUEST_INVALID', USAGE);
  const config = loadConfig(process.env);
  if (config.signingKeyFile) throw new DoelpoortError('CONFIG_INVALID', 'keys rotate: DOELPOORT_SIGNING_KEY_FILE is set; rotate that key outside doelpoort');
  if (config.signingKeysFile) {
    if (!fs.existsSync(config.signingKeysFile))
      throw new DoelpoortError('CONFIG_INVALID', 'DOELPOORT_SIGNING_KEYS_FILE: no such file; `doelpoort keys init --out <dir>` writes it');
  } else {
    privateDataDir(config.dataDir);
  }
  const { kid, retired } = rotateGatewayKeys(config.dataDir, systemClock, config.signingKeysFile);
  const where = config.signingKeysFile ? ' Copy the file to every instance, then restart each.' : ' Restart the gateway to sign with it.';
  console.error(`keys: new signing key ${kid}; retired ${retired.length ? retired.join(', ') : 'none'}.${where}`);
  return 0;
}

/** The files `keys init` writes, and the variable that names each. */
const KEY_FILES = [
  { name: PSEUDONYM_KEY_FILE, variable: 'DOELPOORT_PSEUDONYM_KEY_FILE', create: newPseudonymKeyText },
  { name: CHECKPOINT_KEY_FILE, variable: 'DOELPOORT_CHECKPOINT_KEY_FILE', create: newCheckpointKeyText },
  { name: KEYSET_FILE, variable: 'DOELPOORT_SIGNING_KEYS_FILE', create: () => newKeysetText(systemClock) },
] as const;

/**
 * Writes the three key files into `out` (0700, each file 0600, never overwritten): all of them, or none when any is
 * there already, so that a second run cannot leave instances with different keys. Prints where they are, never a key.
 */
function initKeys(out: string | undefined): number {
  if (out === undefined) throw new DoelpoortError('REQUEST_INVALID', `keys init: --out is required; ${USAGE}`);
  const dir = path.resolve(out);
  const present = KEY_FILES.filter((k) => fs.existsSync(path.join(dir, k.name)));
  if (present.length > 0) {
    throw new DoelpoortError('CONFIG_INVALID', `keys init: ${present.map((k) => k.name).join(', ')} exists already in ${dir}; nothing written`);
  }
  // Not privateDataDir: `out` may be an existing directory whose other files are not ours to change.
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const key of KEY_FILES) readOrCreateKeyFile(dir, key.name, key.create);
  console.error(`keys: wrote ${KEY_FILES.map((k) => k.name).join(', ')} (0600) to ${dir}. Give every instance the same files:`);
  for (const key of KEY_FILES) console.log(`${key.variable}=${path.join(dir, key.name)}`);
  return 0;
}
