import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from '../schema/index.js';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

const migrationsFolder = fileURLToPath(new URL('../schema/migrations', import.meta.url));

/**
 * Opens (creating if needed) and migrates the database at `file`, or a private in-memory one for `:memory:`.
 * WAL with synchronous=FULL: a committed audit line survives a power cut, and readers never block the writer.
 * A new database file is the owner's alone (0600).
 */
export function openDatabase(file: string): Db {
  // Created 0600 before SQLite opens it; SQLite gives -wal and -shm the database file's mode.
  if (file !== ':memory:') fs.closeSync(fs.openSync(file, 'a', 0o600));
  const sqlite = new Database(file);
  if (file !== ':memory:') sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder });
  return db;
}
