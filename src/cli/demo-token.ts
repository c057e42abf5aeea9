import { systemClock } from '../clock.js';
import { loadConfig } from '../config.js';
import { DoelpoortError } from '../errors.js';
import { organisationSchema, roleSchema } from '../purposes.js';
import { loadDemoIdp, signDemoLogin } from '../tokens/demo-idp.js';
import { parseCommandArgs } from './args.js';
import { privateDataDir } from './private-data-dir.js';

/**
 * `doelpoort demo-token --role R --org O [--sub S]`: a login token of the demo IdP, to exchange at /oauth/token of a
 * gateway in demo mode (`npm start`). Refused when an IdPs file is configured.
 */
export async function demoTokenCommand(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { role: { type: 'string' }, org: { type: 'string' }, sub: { type: 'string' }, name: { type: 'string' } });
  if (!values.role || !values.org) throw new DoelpoortError('REQUEST_INVALID', 'usage: doelpoort demo-token --role R --org O [--sub S]');
  if (!roleSchema.safeParse(values.role).success) throw new DoelpoortError('REQUEST_INVALID', `--role must be one of ${roleSchema.options.join(', ')}`);
  if (!organisationSchema.safeParse(values.org).success)
    throw new DoelpoortError('REQUEST_INVALID', '--org must be WERKZAAK or a CBS municipality code GMnnnn');
  const config = loadConfig(process.env);
  // The demo IdP is trusted only by a gateway in demo mode, and never next to an IdPs file.
  if (config.idpsFile) throw new DoelpoortError('CONFIG_INVALID', 'demo-token: DOELPOORT_IDPS_FILE is set, so the demo identity provider is not trusted');
  privateDataDir(config.dataDir);
  const idp = await loadDemoIdp(config.dataDir);
  const sub = values.sub ?? `demo-${values.role}-${values.org.toLowerCase()}`;
  const token = await signDemoLogin(
    idp,
    { sub, role: values.role, org: values.org, ...(values.name ? { name: values.name } : {}) },
    Math.floor(systemClock.now() / 1000),
  );
  process.stdout.write(`${token}\n`);
  return 0;
}
