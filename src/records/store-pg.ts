import { atomically, changes, type Queryable, rows } from '../pg-query.js';
import type { OpenHandovers } from '../purposes.js';
import { type Page, pageOf, ParsedRecords } from './parsed-records.js';
import type { ImportOrigin, InboxRow } from './store.js';
import type { SuiteRecord } from './suite-record.js';

/** One record of a batch with the moment it was imported (epoch ms). */
export interface ReplacedRecord {
  record: SuiteRecord;
  importedAt: number;
}

/** What a batch write did: per record whether it replaced a stored one, and where it stopped on a taken BSN. */
export interface BatchResult {
  /** For each record written, in order: whether the store held that client before. */
  replaced: boolean[];
  /** The index of the first record whose BSN belongs to another client; it and those after it were not written. */
  bsnTaken: number | undefined;
}

const OPEN = `naar_organisatie = $1 AND richting = $2 AND (status = 'aangevraagd' OR (status = 'afgerond' AND $3::text IS NOT NULL AND datum > $3::text))`;
const ACTIVE = (k: string) => `${k}.vanaf <= $2 AND (${k}.tot IS NULL OR ${k}.tot >= $2)`;

/**
 * doelpoort's copy of the Suite records on PostgreSQL (src/records/store.ts is the SQLite twin: the same questions,
 * the same answers, asynchronous). Pages are ordered and their cursors compared as text (`client_ref > $n`, the
 * inbox's keyset): SQLite compares bytes, and PostgreSQL does so only in a C collation (`C` or `C.UTF-8`, the one the
 * database is created with; docs/postgres-stores.md). A store runs on what it was given: the pool, or with
 * `on(q)` a transaction's client, sharing its parsed records.
 */
export class PgRecordStore {
  readonly #parsed: ParsedRecords;

  /** `maxParsed`: how many parsed records to keep for reuse (0: parse on every read). */
  constructor(
    readonly q: Queryable,
    { maxParsed = 1000, parsed }: { maxParsed?: number; parsed?: ParsedRecords } = {},
  ) {
    this.#parsed = parsed ?? new ParsedRecords(maxParsed);
  }

  /** The same store on another queryable (a transaction's client), with the same parsed records. */
  on(q: Queryable): PgRecordStore {
    return new PgRecordStore(q, { parsed: this.#parsed });
  }

  /** The client's whole record as stored now, or undefined; deep-frozen, the same object while its text is unchanged. */
  async get(clientRef: string): Promise<SuiteRecord | undefined> {
    const [row] = await rows<{ record: string }>(this.q, 'SELECT record FROM clients WHERE client_ref = $1', [clientRef]);
    return row === undefined ? undefined : this.#parsed.of(clientRef, row.record);
  }

  /** The clientRef of the client with this BSN (the BSN is a lookup key, never part of a response). */
  async clientRefByBsn(bsn: string): Promise<string | undefined> {
    const [row] = await rows<{ clientRef: string }>(this.q, 'SELECT client_ref AS "clientRef" FROM clients WHERE bsn = $1', [bsn]);
    return row?.clientRef;
  }

  /** The BSN of the client with this clientRef, only to derive its keyed pseudonym; never part of a response or a line. */
  async bsnOf(clientRef: string): Promise<string | undefined> {
    const [row] = await rows<{ bsn: string }>(this.q, 'SELECT bsn FROM clients WHERE client_ref = $1', [clientRef]);
    return row?.bsn;
  }

  async count(): Promise<number> {
    const [row] = await rows<{ n: number }>(this.q, 'SELECT count(*)::int AS n FROM clients');
    return row!.n;
  }

  /** Notes a committed import and where its records came from; inside the import's transaction. */
  async recordImport(at: number, origin: ImportOrigin, lines: number, clients: number): Promise<void> {
    await changes(this.q, 'INSERT INTO imports (at, origin, lines, clients) VALUES ($1, $2, $3, $4)', [at, origin, lines, clients]);
  }

  /** True when every record here came from demo seeding (or there are none): demo mode may use this store. */
  async holdsOnlyDemoRecords(): Promise<boolean> {
    const [row] = await rows<{ only: boolean }>(
      this.q,
      `SELECT NOT EXISTS (SELECT 1 FROM imports WHERE origin = 'export')
         AND (NOT EXISTS (SELECT 1 FROM clients) OR EXISTS (SELECT 1 FROM imports WHERE origin = 'demo')) AS only`,
    );
    return row!.only;
  }

  /** Clients with a debt-counselling trajectory with `gemeente` active on `today`, by clientRef, paginated. */
  async caseload(gemeente: string, today: string, options: { after?: string; limit: number }): Promise<Page<string>> {
    const found = await rows<{ clientRef: string }>(
      this.q,
      `SELECT DISTINCT client_ref AS "clientRef" FROM schuldhulptrajecten
       WHERE gemeente = $1 AND vanaf <= $2 AND (tot IS NULL OR tot >= $2) AND client_ref > $3
       ORDER BY client_ref LIMIT $4`,
      [gemeente, today, options.after ?? '', options.limit + 1],
    );
    return pageOf(
      found,
      options.limit,
      (r) => r.clientRef,
      (ref) => ref,
    );
  }

  /**
   * The handover inbox, as RecordStore.inbox answers it: the newest open handover of each client, newest first
   * (datum, id, clientRef, all descending), keyset-paged after the clientRef of the previous page's last row;
   * undefined when `after` names no client of this inbox (any more).
   */
  async inbox(open: OpenHandovers, options: { after?: string | undefined; limit: number }): Promise<Page<InboxRow> | undefined> {
    const params = [open.naarOrganisatie, open.richting, open.afgerondAfter];
    let position: [string | null, string | null, string | null] = [null, null, null];
    if (options.after !== undefined) {
      const [at] = await rows<{ datum: string; id: string }>(
        this.q,
        `SELECT datum, id FROM overdrachten WHERE client_ref = $4 AND ${OPEN} ORDER BY datum DESC, id DESC LIMIT 1`,
        [...params, options.after],
      );
      if (at === undefined) return undefined;
      position = [at.datum, at.id, options.after];
    }
    const found = await rows<InboxRow>(
      this.q,
      `SELECT client_ref AS "clientRef", id AS "overdrachtId" FROM (
         SELECT DISTINCT ON (client_ref) client_ref, id, datum FROM overdrachten WHERE ${OPEN}
         ORDER BY client_ref, datum DESC, id DESC
       ) grounding
       WHERE $4::text IS NULL OR (datum, id, client_ref) < ($4::text, $5::text, $6::text)
       ORDER BY datum DESC, id DESC, client_ref DESC LIMIT $7`,
      [...params, ...position, options.limit + 1],
    );
    return pageOf(
      found,
      options.limit,
      (r) => r,
      (r) => r.clientRef,
    );
  }

  /** Clients living in `gemeente` whose current klantprofiel on `today` is KP4, by clientRef, paginated. */
  async kp4Clients(gemeente: string, today: string, options: { after?: string | undefined; limit: number }): Promise<Page<string>> {
    const found = await rows<{ clientRef: string }>(
      this.q,
      `SELECT k.client_ref AS "clientRef" FROM klantprofielen k
       WHERE k.gemeente = $1 AND k.profiel = 'KP4' AND ${ACTIVE('k')} AND k.client_ref > $3
         AND NOT EXISTS (SELECT 1 FROM klantprofielen e WHERE e.client_ref = k.client_ref AND e.n < k.n AND ${ACTIVE('e')})
       ORDER BY k.client_ref LIMIT $4`,
      [gemeente, today, options.after ?? '', options.limit + 1],
    );
    return pageOf(
      found,
      options.limit,
      (r) => r.clientRef,
      (ref) => ref,
    );
  }

  /**
   * Replaces the client's record whole, projections included (a later export of a clientRef replaces it); a BSN of
   * another client fails as a unique violation, as in SQLite. Atomic on its own, or part of the caller's transaction.
   */
  async replace(record: SuiteRecord, importedAt: number): Promise<void> {
    await atomically(this.q, (client) => write(client, [{ record, importedAt }]));
  }

  /**
   * Replaces a batch of records in the caller's transaction (an import's, which holds `lockForImport`), in a few
   * statements whatever its size. As if written one after another: a record whose BSN the store, or an earlier
   * record of the batch, gives to another client stops the batch there (`bsnTaken`), and a client's old BSN is free
   * for the records after it.
   */
  async replaceBatch(batch: readonly ReplacedRecord[]): Promise<BatchResult> {
    const refs = batch.map((b) => b.record.clientRef);
    const bsns = batch.map((b) => b.record.bsn);
    const held = new Set(
      (await rows<{ ref: string }>(this.q, 'SELECT client_ref AS ref FROM clients WHERE client_ref = ANY($1::text[])', [refs])).map((r) => r.ref),
    );
    const holders = new Map(
      (await rows<{ bsn: string; ref: string }>(this.q, 'SELECT bsn, client_ref AS ref FROM clients WHERE bsn = ANY($1::text[])', [bsns])).map((r) => [
        r.bsn,
        r.ref,
      ]),
    );
    const claimed = new Map<string, string>();
    const rewritten = new Set<string>();
    let end = 0;
    for (; end < batch.length; end++) {
      const { clientRef, bsn } = batch[end]!.record;
      const stored = holders.get(bsn);
      // A stored holder rewritten earlier in the batch holds its new BSN now, not this one.
      const holder = claimed.get(bsn) ?? (stored !== undefined && !rewritten.has(stored) ? stored : undefined);
      if (holder !== undefined && holder !== clientRef) break;
      claimed.set(bsn, clientRef);
      rewritten.add(clientRef);
    }
    const written = batch.slice(0, end);
    if (written.length > 0) await write(this.q, written);
    return { replaced: written.map((b) => held.has(b.record.clientRef)), bsnTaken: end < batch.length ? end : undefined };
  }

  /**
   * Holds the records for one import until its transaction ends: a second import waits, requests go on reading
   * (SHARE ROW EXCLUSIVE conflicts with writers and itself, never with reads).
   */
  async lockForImport(): Promise<void> {
    await changes(this.q, 'LOCK TABLE clients, overdrachten, schuldhulptrajecten, klantprofielen, imports IN SHARE ROW EXCLUSIVE MODE');
  }
}

/** Deletes the batch's clients with their projections and inserts them anew: one statement per table, arrays as parameters. */
async function write(q: Queryable, batch: readonly ReplacedRecord[]): Promise<void> {
  const refs = batch.map((b) => b.record.clientRef);
  for (const table of ['overdrachten', 'schuldhulptrajecten', 'klantprofielen', 'clients'])
    await changes(q, `DELETE FROM ${table} WHERE client_ref = ANY($1::text[])`, [refs]);
  await changes(
    q,
    `INSERT INTO clients (client_ref, bsn, gemeente, record, imported_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])`,
    [
      refs,
      batch.map((b) => b.record.bsn),
      batch.map((b) => b.record.persoon.gemeente),
      batch.map((b) => JSON.stringify(b.record)),
      batch.map((b) => b.importedAt),
    ],
  );
  const columns = <T>(items: T[], ...fields: Array<(item: T) => unknown>) => fields.map((f) => items.map(f));
  const overdrachten = batch.flatMap(({ record }) => (record.overdrachten ?? []).map((o) => ({ ref: record.clientRef, o })));
  if (overdrachten.length > 0)
    await changes(
      q,
      `INSERT INTO overdrachten (client_ref, id, richting, status, datum, naar_organisatie)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])`,
      columns(
        overdrachten,
        (x) => x.ref,
        (x) => x.o.id,
        (x) => x.o.richting,
        (x) => x.o.status,
        (x) => x.o.datum,
        (x) => x.o.naarOrganisatie,
      ),
    );
  const trajecten = batch.flatMap(({ record }) => (record.schuldhulptrajecten ?? []).map((t) => ({ ref: record.clientRef, t })));
  if (trajecten.length > 0)
    await changes(
      q,
      `INSERT INTO schuldhulptrajecten (client_ref, id, gemeente, vanaf, tot) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])`,
      columns(
        trajecten,
        (x) => x.ref,
        (x) => x.t.id,
        (x) => x.t.gemeente,
        (x) => x.t.vanaf,
        (x) => x.t.tot ?? null,
      ),
    );
  const profielen = batch.flatMap(({ record }) =>
    (record.klantprofielen ?? []).map((k, n) => ({ ref: record.clientRef, n, k, gemeente: record.persoon.gemeente })),
  );
  if (profielen.length > 0)
    await changes(
      q,
      `INSERT INTO klantprofielen (client_ref, n, profiel, vanaf, tot, gemeente)
       SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[])`,
      columns(
        profielen,
        (x) => x.ref,
        (x) => x.n,
        (x) => x.k.profiel,
        (x) => x.k.vanaf,
        (x) => x.k.tot ?? null,
        (x) => x.gemeente,
      ),
    );
}
