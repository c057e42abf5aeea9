import { systemClock } from '../clock.js';
import { loadConfig } from '../config.js';
import { DoelpoortError } from '../errors.js';
import { rotateGatewayKeys } from '../tokens/gateway-keys.js';
import { parseCommandArgs } from './args.js';
import { privateDataDir } from './private-data-dir.js';

/** `doelpoort keys rotate`: a new gateway signing key; the old public key stays published until its tokens expire. */
export async function keysCommand(args: string[]): Promise<number> {
  const { positionals } = parseCommandArgs(args, {}, true);
  if (positionals.length !== 1 || positionals[0] !== 'rotate') throw new DoelpoortError('REQUEST_INVALID', 'usage: doelpoort keys rotate');
  const config = loadConfig(process.env);
  if (config.signingKeyFile) throw new DoelpoortError('CONFIG_INVALID', 'keys rotate: DOELPOORT_SIGNING_KEY_FILE is set; rotate that key outside doelpoort');
  privateDataDir(config.dataDir);
  const { kid, retired } = rotateGatewayKeys(config.dataDir, systemClock);
  console.error(`keys: new signing key ${kid}; retired ${retired.length ? retired.join(', ') : 'none'}. Restart the gateway to sign with it.`);
  return 0;
}
