import fs from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { isoDate, type Clock } from './clock.js';
import type { Config } from './config.js';
import { generateSuiteExport } from './records/generate.js';
import type { ImportOptions, ImportSummary } from './records/import.js';
import type { Awaitable } from './unit-of-work.js';
import { loadDemoIdp } from './tokens/demo-idp.js';

/** The example Suite export (docs/records.md): a handful of fictional clients, for demo mode and the tests. */
export const EXAMPLE_EXPORT_FILE = fileURLToPath(new URL('../demo/suite-export.example.ndjson', import.meta.url));

/** How many synthetic clients demo mode adds to the example ones. */
const DEMO_CLIENTS = 300;

/**
 * Demo mode's data: the demo IdP key in the data dir, and on an empty store the example export plus a few hundred
 * generated clients. Returns the import's summary, or undefined when the store already held records.
 */
export async function seedDemo(
  config: Pick<Config, 'dataDir'>,
  gateway: { deps: { records: { count(): Awaitable<number> } }; importRecords(input: Readable, options: ImportOptions): Promise<ImportSummary> },
  clock: Clock,
): Promise<ImportSummary | undefined> {
  await loadDemoIdp(config.dataDir);
  if ((await gateway.deps.records.count()) > 0) return undefined;
  const today = isoDate(clock.now());
  const lines = Readable.from(
    (function* () {
      yield fs.readFileSync(EXAMPLE_EXPORT_FILE, 'utf8');
      for (const r of generateSuiteExport({ clients: DEMO_CLIENTS, seed: 1, today })) yield `${JSON.stringify(r)}\n`;
    })(),
  );
  return gateway.importRecords(lines, { clock, origin: 'demo' });
}
