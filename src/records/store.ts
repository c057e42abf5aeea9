import type { Statement } from 'better-sqlite3';
import type { RecordsDb } from '../db.js';
import type { OpenHandovers } from '../purposes.js';
import { type Page, pageOf, ParsedRecords } from './parsed-records.js';
import type { SuiteRecord } from './suite-record.js';
import type { Awaiting } from '../unit-of-work.js';

export type { Page } from './parsed-records.js';

/** An inbox row: the client, and the open handover that puts them in the inbox (the newest, by datum, then id). */
export interface InboxRow {
  clientRef: string;
  overdrachtId: string;
}

/**
 * doelpoort's copy of the Suite records. Statements are prepared once; every method is synchronous, so callers can
 * read, decide and write the audit line inside one better-sqlite3 transaction.
 */
/** Where the records of an import came from: a Suite export, or demo mode's synthetic seeding. */
/**
 * The Suite copy as read outside a unit of work (the token exchange's relationship check, the impact replay, the
 * Logboek export's subjects, start-up), whatever the database: SQLite answers at once, PostgreSQL later.
 */
export type RecordReader = Awaiting<Pick<RecordStore, 'get' | 'clientRefByBsn' | 'bsnOf' | 'count'>>;

export type ImportOrigin = 'export' | 'demo';

/** The parameters of the inbox's open-handover condition. */
type InboxParams = { naar: string; richting: string; afgerondAfter: string | null };

export class RecordStore {
  readonly #get: Statement<[string], string>;
  readonly #parsed: ParsedRecords;
  readonly #byBsn: Statement<[string], { clientRef: string }>;
  readonly #bsn: Statement<[string], string>;
  readonly #count: Statement<[], { n: number }>;
  readonly #caseload: Statement<{ gemeente: string; today: string; after: string; limit: number }, { clientRef: string }>;
  readonly #inbox: Statement<InboxParams & { datum: string | null; id: string | null; ref: string | null; limit: number }, InboxRow>;
  readonly #inboxPosition: Statement<InboxParams & { ref: string }, { datum: string; id: string }>;
  readonly #kp4: Statement<{ gemeente: string; today: string; after: string; limit: number }, { clientRef: string }>;
  readonly #deleteClient: Statement<[string]>;
  readonly #deleteOverdrachten: Statement<[string]>;
  readonly #deleteTrajecten: Statement<[string]>;
  readonly #deleteKlantprofielen: Statement<[string]>;
  readonly #insertClient: Statement<[string, string, string, string, number]>;
  readonly #insertOverdracht: Statement<[string, string, string, string, string, string]>;
  readonly #insertTraject: Statement<[string, string, string, string, string | null]>;
  readonly #insertKlantprofiel: Statement<[string, number, string, string, string | null, string]>;
  readonly #insertImport: Statement<[number, ImportOrigin, number, number]>;
  readonly #hasOrigin: Statement<[ImportOrigin], number>;

  /** `maxParsed`: how many parsed records to keep for reuse (0: parse on every read). */
  constructor(
    readonly db: RecordsDb,
    { maxParsed = 1000 }: { maxParsed?: number } = {},
  ) {
    const s = db.$client;
    this.#parsed = new ParsedRecords(maxParsed);
    this.#get = s.prepare<[string], string>('SELECT record FROM clients WHERE client_ref = ?').pluck();
    this.#byBsn = s.prepare('SELECT client_ref AS clientRef FROM clients WHERE bsn = ?');
    this.#bsn = s.prepare<[string], string>('SELECT bsn FROM clients WHERE client_ref = ?').pluck();
    this.#count = s.prepare('SELECT count(*) AS n FROM clients');
    this.#caseload = s.prepare(
      `SELECT DISTINCT client_ref AS clientRef FROM schuldhulptrajecten
       WHERE gemeente = @gemeente AND vanaf <= @today AND (tot IS NULL OR tot >= @today) AND client_ref > @after
       ORDER BY client_ref LIMIT @limit`,
    );
    // The open handovers of the inbox, as relationship() counts them (src/purposes.ts, openHandovers), and of those
    // only the newest of each client (by datum, then id): the one the purpose rests on. Keyset paging on
    // (datum, id, client_ref), all descending.
    const open = `naar_organisatie = @naar AND richting = @richting AND (status = 'aangevraagd' OR (status = 'afgerond' AND @afgerondAfter IS NOT NULL AND datum > @afgerondAfter))`;
    const grounding = `SELECT client_ref, id, datum FROM (
        SELECT client_ref, id, datum, row_number() OVER (PARTITION BY client_ref ORDER BY datum DESC, id DESC) AS r
        FROM overdrachten WHERE ${open}
      ) WHERE r = 1`;
    this.#inbox = s.prepare(
      `SELECT client_ref AS clientRef, id AS overdrachtId FROM (${grounding})
       WHERE @datum IS NULL OR (datum, id, client_ref) < (@datum, @id, @ref)
       ORDER BY datum DESC, id DESC, client_ref DESC LIMIT @limit`,
    );
    this.#inboxPosition = s.prepare(
      // One client's few rows by primary key: the unary + keeps the planner off the inbox index here.
      `SELECT datum, id FROM overdrachten WHERE client_ref = @ref AND +${open} ORDER BY datum DESC, id DESC LIMIT 1`,
    );
    // The first klantprofiel of the record that is active on `today` is the current one (as relationship() reads it).
    const active = (k: string) => `${k}.vanaf <= @today AND (${k}.tot IS NULL OR ${k}.tot >= @today)`;
    this.#kp4 = s.prepare(
      `SELECT k.client_ref AS clientRef FROM klantprofielen k
       WHERE k.gemeente = @gemeente AND k.profiel = 'KP4' AND ${active('k')} AND k.client_ref > @after
         AND NOT EXISTS (SELECT 1 FROM klantprofielen e WHERE e.client_ref = k.client_ref AND e.n < k.n AND ${active('e')})
       ORDER BY k.client_ref LIMIT @limit`,
    );
    this.#deleteClient = s.prepare('DELETE FROM clients WHERE client_ref = ?');
    this.#deleteOverdrachten = s.prepare('DELETE FROM overdrachten WHERE client_ref = ?');
    this.#deleteTrajecten = s.prepare('DELETE FROM schuldhulptrajecten WHERE client_ref = ?');
    this.#deleteKlantprofielen = s.prepare('DELETE FROM klantprofielen WHERE client_ref = ?');
    this.#insertClient = s.prepare('INSERT INTO clients (client_ref, bsn, gemeente, record, imported_at) VALUES (?, ?, ?, ?, ?)');
    this.#insertOverdracht = s.prepare('INSERT INTO overdrachten (client_ref, id, richting, status, datum, naar_organisatie) VALUES (?, ?, ?, ?, ?, ?)');
    this.#insertTraject = s.prepare('INSERT INTO schuldhulptrajecten (client_ref, id, gemeente, vanaf, tot) VALUES (?, ?, ?, ?, ?)');
    this.#insertKlantprofiel = s.prepare('INSERT INTO klantprofielen (client_ref, n, profiel, vanaf, tot, gemeente) VALUES (?, ?, ?, ?, ?, ?)');
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
    return text === undefined ? undefined : this.#parsed.of(clientRef, text);
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
    return pageOf(
      rows,
      options.limit,
      (r) => r.clientRef,
      (ref) => ref,
    );
  }

  /**
   * The handover inbox: the clients with an open handover (`open`) and that handover, newest first (datum, then id,
   * then clientRef, all descending), paginated; `after` is the clientRef of the previous page's last row. Undefined
   * when `after` names no client of this inbox (any more): the caller refuses that cursor.
   */
  inbox(open: OpenHandovers, options: { after?: string | undefined; limit: number }): Page<InboxRow> | undefined {
    const params: InboxParams = { naar: open.naarOrganisatie, richting: open.richting, afgerondAfter: open.afgerondAfter };
    let position: { datum: string | null; id: string | null; ref: string | null } = { datum: null, id: null, ref: null };
    if (options.after !== undefined) {
      const at = this.#inboxPosition.get({ ...params, ref: options.after });
      if (at === undefined) return undefined;
      position = { ...at, ref: options.after };
    }
    const rows = this.#inbox.all({ ...params, ...position, limit: options.limit + 1 });
    return pageOf(
      rows,
      options.limit,
      (r) => r,
      (r) => r.clientRef,
    );
  }

  /** Clients living in `gemeente` whose current klantprofiel on `today` is KP4, by clientRef, paginated. */
  kp4Clients(gemeente: string, today: string, options: { after?: string | undefined; limit: number }): Page<string> {
    const rows = this.#kp4.all({ gemeente, today, after: options.after ?? '', limit: options.limit + 1 });
    return pageOf(
      rows,
      options.limit,
      (r) => r.clientRef,
      (ref) => ref,
    );
  }

  /**
   * Replaces the client's record whole (a later export of a clientRef replaces it). Must run inside the caller's
   * transaction when several records belong together, as in an import.
   */
  replace(record: SuiteRecord, importedAt: number): void {
    const ref = record.clientRef;
    this.#deleteOverdrachten.run(ref);
    this.#deleteTrajecten.run(ref);
    this.#deleteKlantprofielen.run(ref);
    this.#deleteClient.run(ref);
    this.#insertClient.run(ref, record.bsn, record.persoon.gemeente, JSON.stringify(record), importedAt);
    for (const o of record.overdrachten ?? []) this.#insertOverdracht.run(ref, o.id, o.richting, o.status, o.datum, o.naarOrganisatie);
    for (const t of record.schuldhulptrajecten ?? []) this.#insertTraject.run(ref, t.id, t.gemeente, t.vanaf, t.tot ?? null);
    for (const [n, k] of (record.klantprofielen ?? []).entries())
      this.#insertKlantprofiel.run(ref, n, k.profiel, k.vanaf, k.tot ?? null, record.persoon.gemeente);
  }
}
