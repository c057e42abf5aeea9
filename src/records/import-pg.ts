import type { Readable } from 'node:stream';
import { atomically } from '../pg-query.js';
import { BSN_TAKEN, type ImportOptions, ImportProblems, type ImportSummary, type ImportWriter, readSuiteExport } from './import.js';
import type { PgRecordStore, ReplacedRecord } from './store-pg.js';

/** Records written per batch: a few megabytes of parameters per statement, a few statements per batch. */
const BATCH = 2000;

/**
 * Imports a Suite export into the PostgreSQL store, all or nothing, with the same validation, problems and summary
 * as `importSuiteExport` (the reading is shared): one transaction holding `lockForImport` (a second import waits,
 * requests go on reading the records as they were until the commit), the valid records written a batch at a time.
 */
export async function importSuiteExportPg(store: PgRecordStore, input: Readable, options: ImportOptions & { batchSize?: number }): Promise<ImportSummary> {
  const started = options.clock.now();
  const batchSize = options.batchSize ?? BATCH;
  const problems = new ImportProblems(options.maxProblems ?? 100);
  return atomically(store.q, async (client) => {
    const records = store.on(client);
    await records.lockForImport();
    let queue: Array<ReplacedRecord & { line: number }> = [];
    let imported = 0;
    let replaced = 0;
    const flush = async () => {
      const batch = queue;
      queue = [];
      if (batch.length === 0) return;
      const result = await records.replaceBatch(batch);
      imported += result.replaced.length;
      replaced += result.replaced.filter(Boolean).length;
      if (result.bsnTaken !== undefined) problems.add(batch[result.bsnTaken]!.line, 'bsn', BSN_TAKEN);
    };
    const writer: ImportWriter = {
      write(record, line) {
        queue.push({ record, importedAt: options.clock.now(), line });
        return queue.length >= batchSize ? flush() : undefined;
      },
      flush,
    };
    const lines = await readSuiteExport(input, options, problems, writer);
    await records.recordImport(options.clock.now(), options.origin ?? 'export', lines, imported);
    return { lines, imported, replaced, durationMs: options.clock.now() - started };
  });
}
