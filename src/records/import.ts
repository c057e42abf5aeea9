import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Clock } from '../clock.js';
import { DoelpoortError, type Problem } from '../errors.js';
import type { ImportOrigin, RecordStore } from './store.js';
import { checkSuiteRecord } from './suite-record.js';

export interface ImportSummary {
  lines: number;
  imported: number;
  /** Of the imported, how many replaced a record the store already held. */
  replaced: number;
  durationMs: number;
}

export interface ImportOptions {
  clock: Clock;
  /** Called every `progressEvery` lines with the number of lines read so far. */
  onProgress?: (lines: number) => void;
  progressEvery?: number;
  /** Stop collecting after this many problems (the import fails either way). */
  maxProblems?: number;
  /** Where the records come from; `demo` only for demo mode's seeding. Default `export`. */
  origin?: ImportOrigin;
}

/**
 * Imports a Suite export (NDJSON, one client per line), all or nothing. Lines are validated and written one at a time
 * inside a single transaction, so memory does not grow with the file; any problem rolls the whole import back.
 * Problems name the line and the field, never the value. Blank lines are skipped.
 */
export async function importSuiteExport(store: RecordStore, input: Readable, options: ImportOptions): Promise<ImportSummary> {
  const sqlite = store.db.$client;
  const started = options.clock.now();
  const maxProblems = options.maxProblems ?? 100;
  const progressEvery = options.progressEvery ?? 10_000;
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  const exists = sqlite.prepare<[string], { one: number }>('SELECT 1 AS one FROM clients WHERE client_ref = ?');
  let lines = 0;
  let imported = 0;
  let replaced = 0;
  let truncated = false;

  const fail = (line: number, field: string, message: string) => {
    if (problems.length < maxProblems) problems.push({ path: `line ${line}${field ? `: ${field}` : ''}`, message });
    else truncated = true;
  };

  sqlite.exec('BEGIN IMMEDIATE');
  try {
    const reader = createInterface({ input, crlfDelay: Infinity });
    for await (const line of reader) {
      lines++;
      // A byte-order mark some Windows tools write before the first line is not part of the JSON.
      const raw = lines === 1 && line.startsWith('\uFEFF') ? line.slice(1) : line;
      if (options.onProgress && lines % progressEvery === 0) options.onProgress(lines);
      if (raw.trim() === '') continue;
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        // The parser's message quotes the input, so it is not passed on.
        fail(lines, '', 'not valid JSON (malformed or truncated line)');
        continue;
      }
      const parsed = checkSuiteRecord(json);
      if (!parsed.ok) {
        for (const p of parsed.problems) fail(lines, p.field || '(line)', p.message);
        continue;
      }
      const record = parsed.value;
      const earlier = seen.get(record.clientRef);
      if (earlier !== undefined) {
        fail(lines, 'clientRef', `the same client already appears on line ${earlier}`);
        continue;
      }
      seen.set(record.clientRef, lines);
      if (problems.length > 0) continue; // Keep validating to report every problem; writing is pointless now.
      const existed = exists.get(record.clientRef) !== undefined;
      try {
        store.replace(record, options.clock.now());
      } catch (error) {
        if (isUniqueViolation(error)) {
          fail(lines, 'bsn', 'this BSN already belongs to another client');
          continue;
        }
        throw error;
      }
      imported++;
      if (existed) replaced++;
    }
    if (lines === 0 || seen.size === 0) {
      if (problems.length === 0) fail(lines || 1, '', 'the file holds no records');
    }
    if (problems.length > 0) {
      if (truncated) problems.push({ path: '…', message: `more problems not listed (first ${maxProblems} shown)` });
      throw new DoelpoortError('IMPORT_INVALID', `${problems.length} problem(s); nothing was imported`, problems);
    }
    store.recordImport(options.clock.now(), options.origin ?? 'export', lines, imported);
    sqlite.exec('COMMIT');
  } catch (error) {
    if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
    throw error;
  }
  return { lines, imported, replaced, durationMs: options.clock.now() - started };
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}
