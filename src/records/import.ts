import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Clock } from '../clock.js';
import { DoelpoortError, type Problem } from '../errors.js';
import type { ImportOrigin, RecordStore } from './store.js';
import { checkSuiteRecord, type SuiteRecord } from './suite-record.js';

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

/** The problem of a line whose BSN the store (or an earlier line) gives to another client. */
export const BSN_TAKEN = 'this BSN already belongs to another client';

/** The problems of one import, in line order; they name the line and the field, never the value. */
export class ImportProblems {
  readonly #list: Problem[] = [];
  #truncated = false;

  constructor(readonly max: number) {}

  get none(): boolean {
    return this.#list.length === 0;
  }

  add(line: number, field: string, message: string): void {
    if (this.#list.length < this.max) this.#list.push({ path: `line ${line}${field ? `: ${field}` : ''}`, message });
    else this.#truncated = true;
  }

  /** IMPORT_INVALID with every problem noted, when there is one. */
  throwIfAny(): void {
    if (this.none) return;
    if (this.#truncated) this.#list.push({ path: '…', message: `more problems not listed (first ${this.max} shown)` });
    throw new DoelpoortError('IMPORT_INVALID', `${this.#list.length} problem(s); nothing was imported`, this.#list);
  }
}

/** Where an import's valid records go: written one at a time (SQLite) or a batch at a time (PostgreSQL). */
export interface ImportWriter {
  /** Writes (or queues) the record of line `line`; called only while the import has no problem. */
  write(record: SuiteRecord, line: number): Promise<void> | void;
  /** Writes what is queued; called before the first problem is noted (so problems stay in line order) and at the end. */
  flush(): Promise<void> | void;
}

/**
 * Reads a Suite export (NDJSON, one client per line) line by line into `writer`, inside the caller's transaction, so
 * memory does not grow with the file: every line is validated, each clientRef must appear once, and after the first
 * problem nothing more is written (the caller rolls back) while every further problem is still noted. Blank lines are
 * skipped. The number of lines read, or IMPORT_INVALID.
 */
export async function readSuiteExport(input: Readable, options: ImportOptions, problems: ImportProblems, writer: ImportWriter): Promise<number> {
  const progressEvery = options.progressEvery ?? 10_000;
  const seen = new Map<string, number>();
  let lines = 0;
  const fail = async (line: number, field: string, message: string) => {
    if (problems.none) await writer.flush();
    problems.add(line, field, message);
  };
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
      await fail(lines, '', 'not valid JSON (malformed or truncated line)');
      continue;
    }
    const parsed = checkSuiteRecord(json);
    if (!parsed.ok) {
      for (const p of parsed.problems) await fail(lines, p.field || '(line)', p.message);
      continue;
    }
    const record = parsed.value;
    const earlier = seen.get(record.clientRef);
    if (earlier !== undefined) {
      await fail(lines, 'clientRef', `the same client already appears on line ${earlier}`);
      continue;
    }
    seen.set(record.clientRef, lines);
    if (!problems.none) continue; // Keep validating to report every problem; writing is pointless now.
    const written = writer.write(record, lines);
    if (written) await written;
  }
  if (problems.none) await writer.flush();
  if ((lines === 0 || seen.size === 0) && problems.none) problems.add(lines || 1, '', 'the file holds no records');
  problems.throwIfAny();
  return lines;
}

/**
 * Imports a Suite export (NDJSON, one client per line) into the SQLite store, all or nothing: lines are validated and
 * written one at a time inside a single transaction; any problem rolls the whole import back.
 */
export async function importSuiteExport(store: RecordStore, input: Readable, options: ImportOptions): Promise<ImportSummary> {
  const sqlite = store.db.$client;
  const started = options.clock.now();
  const problems = new ImportProblems(options.maxProblems ?? 100);
  const exists = sqlite.prepare<[string], { one: number }>('SELECT 1 AS one FROM clients WHERE client_ref = ?');
  let imported = 0;
  let replaced = 0;
  const writer: ImportWriter = {
    write(record, line) {
      const existed = exists.get(record.clientRef) !== undefined;
      try {
        store.replace(record, options.clock.now());
      } catch (error) {
        if (isUniqueViolation(error)) return problems.add(line, 'bsn', BSN_TAKEN);
        throw error;
      }
      imported++;
      if (existed) replaced++;
    },
    flush: () => undefined,
  };

  sqlite.exec('BEGIN IMMEDIATE');
  try {
    const lines = await readSuiteExport(input, options, problems, writer);
    store.recordImport(options.clock.now(), options.origin ?? 'export', lines, imported);
    sqlite.exec('COMMIT');
    return { lines, imported, replaced, durationMs: options.clock.now() - started };
  } catch (error) {
    if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
    throw error;
  }
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}
