import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { auditFacts } from '../audit/facts.js';
import { systemClock } from '../clock.js';
import { loadConfig, type Config } from '../config.js';
import { openPolicyOffice } from '../composition.js';
import { DoelpoortError, isDoelpoortError } from '../errors.js';
import { proposePolicy } from '../policy/lifecycle.js';
import { checkPolicyDirectory, parsePolicyText } from '../policy/load.js';
import type { PolicyVersion } from '../policy/versions.js';
import { organisationSchema } from '../purposes.js';
import { refuse } from '../unit-of-work.js';
import { intOption, parseCommandArgs, type Command } from './args.js';

const usage = `usage: doelpoort policy check [DIR] | export ID [--format yaml|json] | propose FILE --iss I --sub S --org O
  check [DIR]      check a policy directory (default DOELPOORT_POLICIES_DIR, ./policies)
  export ID        print a stored version's document (YAML unless --format json)
  propose FILE     store FILE (YAML, or JSON by its .json name) as a draft by officer (I, S) of O, validated as at load;
                   I is the issuer of the officer's login (a person is issuer and subject)`;

/** `doelpoort policy <check|export|propose>`: policy documents for an editor, CI, and an operator at the database. */
export async function policyCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const command = sub ? subcommands[sub] : undefined;
  if (!command) throw new DoelpoortError('REQUEST_INVALID', usage);
  return command(rest);
}

const subcommands: Record<string, Command> = {
  /** Prints `ok: N rules in M files, version V`, or every problem as `file: path: message` on stderr (exit 1). */
  async check(args) {
    const { positionals } = parseCommandArgs(args, {}, true);
    if (positionals.length > 1) throw new DoelpoortError('REQUEST_INVALID', usage);
    const dir = positionals[0] ?? loadConfig(process.env).policiesDir;
    const checked = checkPolicyDirectory(dir);
    if (!checked.ok) {
      for (const p of checked.problems) console.error(`${p.path}: ${p.message}`);
      console.error(`policy check: ${checked.problems.length} problem(s)`);
      return 1;
    }
    const set = checked.value;
    console.log(`ok: ${set.rules.length} rules in ${set.files.length} files, version ${set.version}`);
    return 0;
  },

  /** Prints the stored document of version ID; a rollback proposes it again. */
  async export(args) {
    const { values, positionals } = parseCommandArgs(args, { format: { type: 'string' } }, true);
    if (positionals.length !== 1) throw new DoelpoortError('REQUEST_INVALID', usage);
    const id = intOption('ID', positionals[0], 1, 2 ** 31 - 1);
    const format = values.format ?? 'yaml';
    if (format !== 'yaml' && format !== 'json') throw new DoelpoortError('REQUEST_INVALID', '--format must be yaml or json');
    return withPolicyOffice(loadConfig(process.env), async ({ versions }) => {
      const version = await versions.get(id);
      if (!version) throw new DoelpoortError('POLICY_NOT_FOUND', `no policy version ${id}`);
      process.stdout.write(
        format === 'json'
          ? `${JSON.stringify(version.document, null, 2)}\n`
          : `# policy version ${id} (${version.status}), ${version.hash}\n${stringify(version.document)}`,
      );
      return 0;
    });
  },

  /**
   * Stores FILE as a draft, validated as at load, with an audit line naming the officer given (the operator vouches for
   * it: whoever can run this can write the database). Every problem goes to stderr as `file: path: message` (exit 1).
   */
  async propose(args) {
    const { values, positionals } = parseCommandArgs(args, { iss: { type: 'string' }, sub: { type: 'string' }, org: { type: 'string' } }, true);
    if (positionals.length !== 1 || !values.iss || !values.sub || !values.org) throw new DoelpoortError('REQUEST_INVALID', usage);
    if (values.sub.length > 256) throw new DoelpoortError('REQUEST_INVALID', '--sub must be at most 256 characters');
    if (values.iss.length > 512) throw new DoelpoortError('REQUEST_INVALID', '--iss must be at most 512 characters');
    if (!organisationSchema.safeParse(values.org).success)
      throw new DoelpoortError('REQUEST_INVALID', '--org must be WERKZAAK or a CBS municipality code GMnnnn');
    const file = positionals[0]!;
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      throw new DoelpoortError('REQUEST_INVALID', 'policy propose: the file cannot be read');
    }
    const name = path.basename(file);
    const parsed = parsePolicyText(name, text);
    const config = loadConfig(process.env);
    const author = { iss: values.iss, sub: values.sub, org: values.org };
    return withPolicyOffice(config, async ({ uow, policies }) => {
      const requester = { issuer: author.iss, sub: author.sub, org: author.org, role: 'privacy-officer' as const, purpose: 'beleidsbeheer' as const };
      const facts = auditFacts(
        { trace: { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') }, origin: 'cli', channel: 'cli' },
        requester,
      );
      let version: PolicyVersion;
      try {
        version = await (parsed.ok
          ? proposePolicy({ uow, policies }, { requester, facts }, parsed.value, name)
          : // A file that is not YAML or JSON is refused, and logged, like an invalid document.
            refuse(uow, new DoelpoortError('POLICY_INVALID', 'the policy file cannot be parsed', parsed.problems), { action: 'policy.proposed', ...facts }));
      } catch (error) {
        if (!isDoelpoortError(error) || error.code !== 'POLICY_INVALID') throw error;
        for (const p of error.problems) console.error(`${p.path}: ${p.message}`);
        console.error(`policy propose: ${error.problems.length} problem(s); nothing stored`);
        return 1;
      }
      const { id, hash, baseVersion } = version;
      console.log(
        `proposed version ${id} (draft, based on ${baseVersion ?? 'none'}), ${hash}; another privacy officer approves it at POST /v1/policies/${id}/approve`,
      );
      return 0;
    });
  },
};

/** Runs `work` over the state (the data dir's database or PostgreSQL), closed afterwards whatever happens. */
async function withPolicyOffice(config: Config, work: (office: Awaited<ReturnType<typeof openPolicyOffice>>) => Promise<number>): Promise<number> {
  const office = await openPolicyOffice(config, systemClock);
  try {
    return await work(office);
  } finally {
    await office.close();
  }
}
