import fs from 'node:fs';
import { systemClock, isoDate } from '../clock.js';
import { openRecordImport } from '../composition.js';
import { loadConfig } from '../config.js';
import { DoelpoortError } from '../errors.js';
import { generateSuiteExport } from '../records/generate.js';
import { intOption, parseCommandArgs } from './args.js';
import { writeNdjson } from './ndjson.js';

/**
 * `doelpoort import FILE|- [--demo]`: a Suite export into the store, all or nothing; problems on stderr, never values.
 * It writes only the records (the records file, or their tables in PostgreSQL), so a running gateway keeps answering
 * (and logging) while the import's transaction is open. `--demo` marks the records as synthetic (`doelpoort generate`), which demo mode requires.
 */
export async function importCommand(args: string[]): Promise<number> {
  const { positionals, values } = parseCommandArgs(args, { demo: { type: 'boolean' } }, true);
  const [file] = positionals;
  if (!file || positionals.length > 1) throw new DoelpoortError('REQUEST_INVALID', 'usage: doelpoort import FILE (or - for stdin) [--demo]');
  if (file !== '-' && !fs.existsSync(file)) throw new DoelpoortError('REQUEST_INVALID', 'import: no such file');
  const config = loadConfig(process.env);
  const target = await openRecordImport(config);
  try {
    const input = file === '-' ? process.stdin : fs.createReadStream(file);
    const summary = await target.importRecords(input, {
      clock: systemClock,
      origin: values.demo ? 'demo' : 'export',
      onProgress: (lines) => process.stderr.write(`import: ${lines} lines read\n`),
    });
    console.error(
      `import: ${summary.imported} clients imported (${summary.replaced} replaced) from ${summary.lines} lines in ${(summary.durationMs / 1000).toFixed(1)} s`,
    );
    return 0;
  } finally {
    await target.close();
  }
}

/** `doelpoort generate --clients N [--seed S] [--today YYYY-MM-DD]`: a synthetic Suite export on stdout. */
export async function generateCommand(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { clients: { type: 'string' }, seed: { type: 'string' }, today: { type: 'string' } });
  const clients = intOption('clients', values.clients, 1, 10_000_000);
  const seed = intOption('seed', values.seed, 0, 2 ** 31 - 1, 1);
  const today = values.today ?? isoDate(systemClock.now());
  if (!/^\d{4}-\d{2}-\d{2}$/.test(today)) throw new DoelpoortError('REQUEST_INVALID', '--today must be a date YYYY-MM-DD');
  await writeNdjson(generateSuiteExport({ clients, seed, today }));
  return 0;
}
