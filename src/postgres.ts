/**
 * The PostgreSQL connection (`DOELPOORT_DATABASE_URL`): one pool per instance, the drizzle schema of schema/pg, and
 * the migrations of schema/pg-migrations, applied under a session advisory lock so that instances starting at once
 * migrate one after another (the second finds nothing left to do). Never log the URL: it may hold a password.
 */
import { fileURLToPath } from 'node:url';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import * as pgSchema from '../schema/pg/index.js';

/** What a PostgreSQL store runs its statements on: the pool, or the client of the transaction it takes part in. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** An open PostgreSQL database. */
export interface Pg {
  pool: pg.Pool;
  db: NodePgDatabase<typeof pgSchema>;
  /** Ends the pool: waits for the clients checked out to be released. */
  close(): Promise<void>;
}

export interface PostgresOptions {
  /** Connections in this instance's pool (default 10). */
  max?: number;
  /** Apply the migrations on open (default true); false where a deployment migrates in a step of its own. */
  migrate?: boolean;
  /** Shown in pg_stat_activity (default `doelpoort`). */
  applicationName?: string;
}

const migrationsFolder = fileURLToPath(new URL('../schema/pg-migrations', import.meta.url));

/** The advisory lock key (a constant; its own key space, distinct from the audit append lock's) of migrating. */
const MIGRATE_LOCK = 0x646f_6d69; // "domi"

/**
 * INT8 (`bigint`: epoch milliseconds, sequence numbers, row ids) as a JS number instead of node-postgres's string:
 * every such value doelpoort stores is far below 2^53; one that is not is refused rather than rounded.
 */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === pg.types.builtins.INT8 && format !== 'binary') return parseInt8;
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError('bigint value beyond 2^53');
  return n;
}

/** Opens a pool on `url` and, unless told otherwise, migrates the database under the migration lock. */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<Pg> {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, application_name: options.applicationName ?? 'doelpoort', types });
  // An idle client that loses its connection emits 'error' on the pool; unhandled, it would end the process.
  pool.on('error', () => {});
  const db = drizzle({ client: pool, schema: pgSchema });
  try {
    if (options.migrate !== false) await migrateLocked(pool);
  } catch (error) {
    await pool.end();
    throw error;
  }
  return { pool, db, close: () => pool.end() };
}

/** The migrations, on one connection holding the session advisory lock for their whole run. */
async function migrateLocked(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  const ignore = () => {}; // a dropped connection fails the statement in flight, which is what we act on
  client.on('error', ignore);
  let broken = false;
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK]);
    try {
      await migrate(drizzle({ client, schema: pgSchema }), { migrationsFolder });
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK]);
    }
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    // A client whose unlock may not have run is destroyed, which ends its session and so its lock.
    client.off('error', ignore);
    client.release(broken);
  }
}
