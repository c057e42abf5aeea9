import { loadConfig } from '../config.js';
import { DoelpoortError } from '../errors.js';
import { checkPolicyDirectory } from '../policy/load.js';
import { parseCommandArgs } from './args.js';

const usage = 'usage: doelpoort policy check [DIR]   (DIR defaults to DOELPOORT_POLICIES_DIR, ./policies)';

/**
 * `doelpoort policy check [DIR]`: the load checks of the gateway, for an editor or CI. Prints `ok: N rules in M files,
 * version V`, or every problem as `file: path: message` on stderr with exit code 1.
 */
export async function policyCommand(args: string[]): Promise<number> {
  const { positionals } = parseCommandArgs(args, {}, true);
  const [sub, dirArg, ...rest] = positionals;
  if (sub !== 'check' || rest.length > 0) throw new DoelpoortError('REQUEST_INVALID', usage);
  const dir = dirArg ?? loadConfig(process.env).policiesDir;
  const checked = checkPolicyDirectory(dir);
  if (!checked.ok) {
    for (const p of checked.problems) console.error(`${p.path}: ${p.message}`);
    console.error(`policy check: ${checked.problems.length} problem(s)`);
    return 1;
  }
  const { set } = checked;
  console.log(`ok: ${set.rules.length} rules in ${set.files.length} files, version ${set.version}`);
  return 0;
}
