/**
 * PostgreSQL for tests: the server of `DOELPOORT_TEST_PG_URL` (`.ci/run` starts a throwaway one; by hand:
 * `scripts/pg-cluster.sh start`). Without it the PostgreSQL tests are skipped, except under CI, where a missing
 * server fails them: CI can never pass by skipping them. Each test file makes its own databases and drops them.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe } from 'vitest';
import { openPostgres, type Pg, type PostgresOptions } from '../src/postgres.js';

/** The server URL (any database on it; tests create their own), or undefined when none is configured. */
export const pgUrl: string | undefined = process.env.DOELPOORT_TEST_PG_URL || undefined;

if (process.env.CI && !pgUrl) throw new Error('CI is set but DOELPOORT_TEST_PG_URL is not: the PostgreSQL tests would be skipped');

/** `describe` for tests that need the server: skipped locally without one. */
export const describePg = describe.skipIf(!pgUrl);

/** A database of this test's own, migrated, and how to drop it. */
export interface FreshPg {
  /** Its URL, for a second pool (a second "instance"). */
  url: string;
  pg: Pg;
  /** Closes the pool and drops the database (other pools on it are disconnected by force). */
  drop(): Promise<void>;
}

/** The URL of database `name` on the test server. */
function databaseUrl(name: string): string {
  const url = new URL(pgUrl!);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs one statement on the server's maintenance database. */
async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Creates a uniquely named database (`<prefix>_<random>`), migrates it and opens a pool on it. */
export async function freshPg(prefix: string, options: PostgresOptions = {}): Promise<FreshPg> {
  if (!pgUrl) throw new Error('freshPg: DOELPOORT_TEST_PG_URL is not set');
  if (!/^[a-z][a-z0-9_]{0,40}$/.test(prefix)) throw new TypeError('freshPg: prefix must be a short lower-case identifier');
  // An identifier, never a value: checked above, random suffix, quoted.
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await admin(`CREATE DATABASE "${name}"`);
  const url = databaseUrl(name);
  let opened: Pg;
  try {
    opened = await openPostgres(url, options);
  } catch (error) {
    await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    throw error;
  }
  let dropped = false;
  return {
    url,
    pg: opened,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await opened.close().catch(() => {});
      await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}
