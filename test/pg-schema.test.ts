import type Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase, openRecordsDatabase } from '../src/db.js';
import { describePg, freshPg, type FreshPg } from './pg-support.js';

/**
 * The SQLite schema (schema/index.ts and schema/records.ts, two files) and the PostgreSQL one (schema/pg, one
 * database) must describe the same tables, columns and indexes, each migrated from its committed migrations and read
 * back from the database's own catalogue, so a migration written for one side only fails here.
 */

/**
 * Tables PostgreSQL has and SQLite does not: state a single SQLite process keeps in memory and several instances must
 * share (schema/pg/shared.ts: replay caches, rate limits, leases). Every one is named here, on purpose.
 */
const PG_ONLY_TABLES: readonly string[] = [];

/**
 * Indexes PostgreSQL has and SQLite does not: `audit_chain_unique`, the unique chain hash that refuses a fork when
 * several instances append (schema/pg/audit.ts); one process appends on SQLite.
 */
const PG_ONLY_INDEXES: readonly string[] = ['audit_chain_unique'];

/** The type class of a column: what SQLite declares and what PostgreSQL stores for it. */
const SQLITE_CLASS: Record<string, string> = { integer: 'integer', text: 'text', blob: 'binary' };
const PG_CLASS: Record<string, string> = { bigint: 'integer', integer: 'integer', text: 'text', bytea: 'binary' };

interface Column {
  type: string;
  nullable: boolean;
}
interface Index {
  table: string;
  columns: string[];
  unique: boolean;
  partial: boolean;
}
interface Catalogue {
  tables: Map<string, Map<string, Column>>;
  indexes: Map<string, Index>;
}

function sqliteCatalogue(...connections: Database.Database[]): Catalogue {
  const tables = new Map<string, Map<string, Column>>();
  const indexes = new Map<string, Index>();
  for (const s of connections) {
    const names = s
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '__drizzle_migrations'")
      .pluck()
      .all() as string[];
    for (const table of names) {
      const info = s.prepare(`SELECT name, type, "notnull" AS nn FROM pragma_table_info(?)`).all(table) as { name: string; type: string; nn: number }[];
      tables.set(table, new Map(info.map((c) => [c.name, { type: SQLITE_CLASS[c.type.toLowerCase()] ?? `?${c.type}`, nullable: c.nn === 0 }])));
      const list = s.prepare('SELECT name, "unique" AS u, partial FROM pragma_index_list(?)').all(table) as { name: string; u: number; partial: number }[];
      for (const ix of list) {
        if (ix.name.startsWith('sqlite_autoindex_')) continue; // the primary key's
        const columns = s.prepare('SELECT name FROM pragma_index_info(?) ORDER BY seqno').pluck().all(ix.name) as string[];
        indexes.set(ix.name, { table, columns, unique: ix.u === 1, partial: ix.partial === 1 });
      }
    }
  }
  return { tables, indexes };
}

async function pgCatalogue(db: FreshPg): Promise<Catalogue> {
  const q = db.pg.pool;
  const columns = await q.query<{ table_name: string; column_name: string; data_type: string; is_nullable: string }>(
    "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'public'",
  );
  const tables = new Map<string, Map<string, Column>>();
  for (const c of columns.rows) {
    const table = tables.get(c.table_name) ?? new Map<string, Column>();
    tables.set(c.table_name, table);
    table.set(c.column_name, { type: PG_CLASS[c.data_type] ?? `?${c.data_type}`, nullable: c.is_nullable === 'YES' });
  }
  // Every index but a primary key's, with its columns in key order.
  const list = await q.query<{ name: string; table: string; columns: string[]; unique: boolean; partial: boolean }>(
    `SELECT i.relname AS name, t.relname AS table, x.indisunique AS unique, x.indpred IS NOT NULL AS partial,
            array(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)
                  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n)::text[] AS columns
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = 'public' AND NOT x.indisprimary`,
  );
  const indexes = new Map(list.rows.map((r) => [r.name, { table: r.table, columns: r.columns, unique: r.unique, partial: r.partial }]));
  return { tables, indexes };
}

const sorted = (names: Iterable<string>) => [...names].sort();
const without = <T>(map: Map<string, T>, names: readonly string[]) => new Map([...map].filter(([name]) => !names.includes(name)));

describePg('the PostgreSQL schema against the SQLite one', () => {
  let db: FreshPg;
  let lite: Catalogue;
  let pg: Catalogue;
  beforeAll(async () => {
    db = await freshPg('pgcore_schema');
    lite = sqliteCatalogue(openDatabase(':memory:').$client, openRecordsDatabase(':memory:').$client);
    pg = await pgCatalogue(db);
  });
  afterAll(() => db?.drop());

  it('has the same tables, but for the named PostgreSQL-only ones, which exist', () => {
    expect(sorted(lite.tables.keys()).length).toBeGreaterThan(10);
    expect(sorted(without(pg.tables, PG_ONLY_TABLES).keys())).toEqual(sorted(lite.tables.keys()));
    for (const name of PG_ONLY_TABLES) expect(pg.tables.has(name), name).toBe(true);
  });

  it('has the same columns in every table, with the same nullability and type class', () => {
    for (const [table, columns] of lite.tables) {
      const theirs = pg.tables.get(table);
      expect(theirs, table).toBeDefined();
      expect(Object.fromEntries(theirs!), table).toEqual(Object.fromEntries(columns));
    }
  });

  it('has the same indexes (name, table, columns, unique, partial), but for the named PostgreSQL-only ones', () => {
    expect(lite.indexes.size).toBeGreaterThan(15);
    expect(Object.fromEntries(without(pg.indexes, PG_ONLY_INDEXES))).toEqual(Object.fromEntries(lite.indexes));
    for (const name of PG_ONLY_INDEXES) expect(pg.indexes.has(name), name).toBe(true);
  });
});
