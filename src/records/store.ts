import type { Statement } from 'better-sqlite3';
import type { RecordsDb } from '../db.js';
import { deepFreeze } from '../freeze.js';
import type { SuiteRecord } from './suite-record.js';

/** A page of a caseload: client refs in order, and the cursor for the next page when there is one. */
export interface Page<T> {
  items: T[];
  next: string | null;
}

/**
 * doelpoort's copy of the Suite records. Statements are prepared once; every method is synchronous, so callers can
 * read, decide and write the audit line inside one better-sqlite3 transaction.
 */
/** Where the records of an import came from: a Suite export, or demo mode's synthetic seeding. */
export type ImportOrigin = 'export' | 'demo';

export class RecordStore {
  readonly #get: Statement<[string], string>;
  /** Parsed records by clientRef with the text they were parsed from, least recently read first. */
  readonly #parsed = new Map<string, { text: string; record: SuiteRecord }>();
  readonly #maxParsed: number;
  readonly #byBsn: Statement<[string], { clientRef: string }>;
  readonly #bsn: Statement<[string], string>;
  readonly #count: Statement<[], { n: number }>;
  readonly #caseload: Statement<{ gemeente: string; today: string; after: string; limit: number }, { clientRef: string }>;
  readonly #deleteClient: Statement<[string]>;
  readonly #deleteOverdrachten: Statement<[string]>;
  readonly #deleteTrajecten: Statement<[string]>;
  readonly #insertClient: Statement<[string, string, string, string, number]>;
  readonly #insertOverdracht: Statement<[string, string, string, string, string, string]>;
  readonly #insertTraject: Statement<[string, string, string, string, string | null]>;
  readonly #insertImport: Statement<[number, ImportOrigin, number, number]>;
  readonly #hasOrigin: Statement<[ImportOrigin], number>;

  /** `maxParsed`: how many parsed records to keep for reuse (0: parse on every read). */
  constructor(
    readonly db: RecordsDb,
    { maxParsed = 1000 }: { maxParsed?: number } = {},
  ) {
    const s = db.$client;
    this.#maxParsed = maxParsed;
    this.#get = s.prepare<[string], string>('SELECT record FROM clients WHERE client_ref = ?').pluck();
    this.#byBsn = s.prepare('SELECT client_ref AS clientRef FROM clients WHERE bsn = ?');
    this.#bsn = s.prepare<[string], string>('SELECT bsn FROM clients WHERE client_ref = ?').pluck();
    this.#count = s.prepare('SELECT count(*) AS n FROM clients');
    this.#caseload = s.prepare(
      `SELECT DISTINCT client_ref AS clientRef FROM schuldhulptrajecten
       WHERE gemeente = @gemeente AND vanaf <= @today AND (tot IS NULL OR tot >= @today) AND client_ref > @after
       ORDER BY client_ref LIMIT @limit`,
    );
    this.#deleteClient = s.prepare('DELETE FROM clients WHERE client_ref = ?');
    this.#deleteOverdrachten = s.prepare('DELETE FROM overdrachten WHERE client_ref = ?');
    this.#deleteTrajecten = s.prepare('DELETE FROM schuldhulptrajecten WHERE client_ref = ?');
    this.#insertClient = s.prepare('INSERT INTO clients (client_ref, bsn, gemeente, record, imported_at) VALUES (?, ?, ?, ?, ?)');
    this.#insertOverdracht = s.prepare('INSERT INTO overdrachten (client_ref, id, richting, status, datum, naar_organisatie) VALUES (?, ?, ?, ?, ?, ?)');
    this.#insertTraject = s.prepare('INSERT INTO schuldhulptrajecten (client_ref, id, gemeente, vanaf, tot) VALUES (?, ?, ?, ?, ?)');
    this.#insertImport = s.prepare('INSERT INTO imports (at, origin, lines, clients) VALUES (?, ?, ?, ?)');
    this.#hasOrigin = s.prepare<[ImportOrigin], number>('SELECT 1 FROM imports WHERE origin = ? LIMIT 1').pluck();
  }

  /**
   * The client's whole record as stored now, or undefined; deep-frozen. The row is read on every call; while its text
   * is unchanged the same object is returned, parsed once (so caches keyed by it, like DecisionCache, stay valid:
   * a re-import by any process changes the text, and so the object).
   */
  get(clientRef: string): SuiteRecord | undefined {
    const text = this.#get.get(clientRef);
    if (text === undefined) return undefined;
    const hit = this.#parsed.get(clientRef);
    if (hit !== undefined) {
      this.#parsed.delete(clientRef);
      if (hit.text === text) {
        this.#parsed.set(clientRef, hit);
        return hit.record;
      }
    }
    const record = deepFreeze(JSON.parse(text) as SuiteRecord);
    if (this.#maxParsed > 0) {
      if (this.#parsed.size >= this.#maxParsed) this.#parsed.delete(this.#parsed.keys().next().value!);
      this.#parsed.set(clientRef, { text, record });
    }
    return record;
  }

  /** The clientRef of the client with this BSN (the BSN is a lookup key, never part of a response). */
  clientRefByBsn(bsn: string): string | undefined {
    return this.#byBsn.get(bsn)?.clientRef;
  }

  /** The BSN of the client with this clientRef, only to derive its keyed pseudonym; never part of a response or a line. */
  bsnOf(clientRef: string): string | undefined {
    return this.#bsn.get(clientRef);
  }

  count(): number {
    return this.#count.get()!.n;
  }

  /** Notes a committed import and where its records came from; inside the import's transaction. */
  recordImport(at: number, origin: ImportOrigin, lines: number, clients: number): void {
    this.#insertImport.run(at, origin, lines, clients);
  }

  /** True when every record here came from demo seeding (or there are none): demo mode may use this store. */
  holdsOnlyDemoRecords(): boolean {
    if (this.#hasOrigin.get('export') !== undefined) return false;
    return this.count() === 0 || this.#hasOrigin.get('demo') !== undefined;
  }

  /** Clients with a debt-counselling trajectory with `gemeente` active on `today`, by clientRef, paginated. */
  caseload(gemeente: string, today: string, options: { after?: string; limit: number }): Page<string> {
    const rows = this.#caseload.all({ gemeente, today, after: options.after ?? '', limit: options.limit + 1 });
    const items = rows.slice(0, options.limit).map((r) => r.clientRef);
    return { items, next: rows.length > options.limit ? items[items.length - 1]! : null };
  }

  /**
   * Replaces the client's record whole (a later export of a clientRef replaces it). Must run inside the caller's
   * transaction when several records belong together, as in an import.
   */
  replace(record: SuiteRecord, importedAt: number): void {
    const ref = record.clientRef;
    this.#deleteOverdrachten.run(ref);
    this.#deleteTrajecten.run(ref);
    this.#deleteClient.run(ref);
    this.#insertClient.run(ref, record.bsn, record.persoon.gemeente, JSON.stringify(record), importedAt);
    for (const o of record.overdrachten ?? []) this.#insertOverdracht.run(ref, o.id, o.richting, o.status, o.datum, o.naarOrganisatie);
    for (const t of record.schuldhulptrajecten ?? []) this.#insertTraject.run(ref, t.id, t.gemeente, t.vanaf, t.tot ?? null);
  }
}
