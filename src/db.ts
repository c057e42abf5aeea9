import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from '../schema/index.js';
import * as recordsSchema from '../schema/records.js';

/** The gateway's own state: audit log, checkpoints, policy versions (`doelpoort.db`). */
export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };
/** The Suite copy (`records.db`): written only by `import`; requests only read it. */
export type RecordsDb = BetterSQLite3Database<typeof recordsSchema> & { $client: Database.Database };

const migrationsFolder = fileURLToPath(new URL('../schema/migrations', import.meta.url));
const recordsMigrationsFolder = fileURLToPath(new URL('../schema/records-migrations', import.meta.url));

/**
 * Opens (creating if needed) and migrates the state database at `file`, or a private in-memory one for `:memory:`.
 * WAL with synchronous=FULL: a committed audit line survives a power cut, and readers never block the writer. The
 * serving connection's unit of work lowers it to NORMAL for its own batches only and fsyncs the WAL itself before
 * it answers (src/durability.ts, docs/durability.md).
 * A new database file is the owner's alone (0600).
 */
export function openDatabase(file: string): Db {
  return open(file, schema, migrationsFolder);
}

/**
 * Opens (creating if needed) and migrates the records database at `file`, or an in-memory one. A file of its own, so
 * that an import's long transaction holds only this file's write lock: requests read it (WAL readers never wait for
 * a writer) and write their audit lines to the state database.
 */
export function openRecordsDatabase(file: string): RecordsDb {
  return open(file, recordsSchema, recordsMigrationsFolder);
}

function open<S extends Record<string, unknown>>(file: string, tables: S, folder: string): BetterSQLite3Database<S> & { $client: Database.Database } {
  // Created 0600 before SQLite opens it; SQLite gives -wal and -shm the database file's mode.
  if (file !== ':memory:') fs.closeSync(fs.openSync(file, 'a', 0o600));
  const sqlite = new Database(file);
  if (file !== ':memory:') sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = drizzle(sqlite, { schema: tables });
  migrate(db, { migrationsFolder: folder });
  return db;
}
