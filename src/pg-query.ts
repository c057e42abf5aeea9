import type pg from 'pg';
import type { Queryable } from './postgres.js';

/*
 * A PostgreSQL store runs its statements on a `Queryable` (src/postgres.ts): the pool (each statement its own
 * transaction) or what stands for a transaction the caller holds open (the unit of work's batch). A store never tells
 * them apart except in `atomically`.
 */
export type { Queryable } from './postgres.js';

/** The rows of one parameterised statement (`$1`, `$2`, …; values are never part of the text). */
export async function rows<R>(q: Queryable, text: string, values: readonly unknown[] = []): Promise<R[]> {
  return (await q.query<R & pg.QueryResultRow>(text, [...values])).rows;
}

/** How many rows one parameterised statement changed. */
export async function changes(q: Queryable, text: string, values: readonly unknown[] = []): Promise<number> {
  return (await q.query(text, [...values])).rowCount ?? 0;
}

const isPool = (q: Queryable): q is pg.Pool => 'totalCount' in q && 'connect' in q;

let savepoints = 0;

/**
 * Runs `work` atomically: on the pool in a transaction of its own (BEGIN … COMMIT on one client of it), on anything
 * else (which must be inside a transaction: a transaction's client, the unit of work's `Queryable`) in a savepoint, so that a refusal or a failed statement undoes only this work's writes and
 * leaves the caller's transaction usable (PostgreSQL aborts a whole transaction on an error otherwise). The SQLite
 * stores get the same from better-sqlite3's nested `transaction()`.
 */
export async function atomically<T>(q: Queryable, work: (client: Queryable) => Promise<T>): Promise<T> {
  if (isPool(q)) {
    const client = await q.connect();
    try {
      await client.query('BEGIN');
      const value = await work(client);
      await client.query('COMMIT');
      return value;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
  const name = `doelpoort_store_${++savepoints}`;
  await q.query(`SAVEPOINT ${name}`);
  try {
    const value = await work(q);
    await q.query(`RELEASE SAVEPOINT ${name}`);
    return value;
  } catch (error) {
    await q.query(`ROLLBACK TO SAVEPOINT ${name}`).catch(() => undefined);
    await q.query(`RELEASE SAVEPOINT ${name}`).catch(() => undefined);
    throw error;
  }
}

/** Whether `error` is PostgreSQL's unique violation (SQLSTATE 23505), of the index or constraint `name` when given. */
export function isUniqueViolation(error: unknown, name?: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; constraint?: unknown };
  return e.code === '23505' && (name === undefined || e.constraint === name);
}
