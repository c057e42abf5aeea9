import { type DoelpoortError, isDoelpoortError } from '../errors.js';
import type { Command } from './args.js';
import { auditCommand } from './audit.js';
import { demoTokenCommand } from './demo-token.js';
import { keysCommand } from './keys.js';
import { policyCommand } from './policy.js';
import { generateCommand, importCommand } from './records.js';
import { serveCommand } from './serve.js';

const commands: Record<string, Command> = {
  serve: serveCommand,
  import: importCommand,
  generate: generateCommand,
  'demo-token': demoTokenCommand,
  audit: auditCommand,
  keys: keysCommand,
  policy: policyCommand,
};

const usage = `usage: doelpoort <command>

  serve [--demo]                          start the gateway: with DOELPOORT_IDPS_FILE, or in demo mode (--demo or DOELPOORT_DEMO=1)
  import FILE|- [--demo]                  import a Suite export (NDJSON), all or nothing; --demo: synthetic records
  generate --clients N [--seed S]         print a synthetic Suite export on stdout
  demo-token --role R --org O [--sub S]   print a demo IdP login token (demo mode)
  keys rotate                             add a new gateway signing key; the old one stays published until its tokens expire
  keys init --out DIR                     write the key files every instance on one database shares (once, 0600)
  policy check [DIR]                      check a policy directory (default DOELPOORT_POLICIES_DIR) and print its version
  policy export ID [--format yaml|json]   print a stored policy version's document
  policy propose FILE --iss I --sub S --org O
                                          store FILE as a draft policy version by privacy officer (I, S) of O (audited)
  audit verify [--checkpoint FILE]        recompute the audit chain and checkpoints; exit 1 when broken
  audit checkpoint                        print the latest signed checkpoint (JSON) to keep outside the server
  audit export [--from DATE] [--to DATE]  the audit lines as Logboek Dataverwerkingen NDJSON on stdout
  audit prune --before DATE               blank the content of lines older than DATE (retention), keeping hashes

Configuration is read from the environment; see README.md.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    console.error(`doelpoort: unknown command '${name}'\n\n${usage}`);
    return 2;
  }
  return command(args);
}

/** Exit codes: 0 done, 1 the work failed (bad import, broken chain), 2 bad usage or configuration. */
function exitCodeFor(error: DoelpoortError): number {
  return error.code === 'CONFIG_INVALID' || error.code === 'REQUEST_INVALID' ? 2 : 1;
}

// Every file and directory a command creates (data dir, database, -wal, -shm, keys) is the owner's alone.
process.umask(0o077);

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (isDoelpoortError(error)) {
    console.error(`doelpoort: ${error.detail}`);
    for (const p of error.problems.slice(error.code === 'CONFIG_INVALID' ? 1 : 0)) console.error(`${p.path}: ${p.message}`);
    process.exitCode = exitCodeFor(error);
  } else {
    // Unknown errors may carry values in their messages; name the kind only.
    console.error(`doelpoort: internal error (${error instanceof Error ? error.name : typeof error})`);
    if (process.env.DOELPOORT_DEBUG === '1') console.error(error);
    process.exitCode = 1;
  }
}
