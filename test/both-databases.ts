/**
 * One test block on both databases: the SQLite app of `setupTokens` and the same app on a fresh PostgreSQL database
 * of `setupPgTokens` (when `DOELPOORT_TEST_PG_URL` names a server; under CI without one pg-support.ts fails the run).
 */
import { Readable } from 'node:stream';
import { afterEach, describe } from 'vitest';
import { atomically } from '../src/pg-query.js';
import { PgPolicyVersions } from '../src/policy/versions-pg.js';
import { importSuiteExport } from '../src/records/import.js';
import { importSuiteExportPg } from '../src/records/import-pg.js';
import type { SuiteRecord } from '../src/records/suite-record.js';
import { pgUrl } from './pg-support.js';
import { setupPgTokens, setupTokens } from './token-support.js';

export type Database = 'sqlite' | 'postgres';

type SqliteTokens = Awaited<ReturnType<typeof setupTokens>>;
type SqliteCtx = SqliteTokens & { database: 'sqlite'; policyVersions: SqliteTokens['policies']['versions'] };
type PgCtx = Awaited<ReturnType<typeof setupPgTokens>> & { database: 'postgres'; policyVersions: PgPolicyVersions };

/**
 * An app on either database. What both have is used as is (`await` the audit readers and the stores: a plain value
 * awaits to itself); `ctx.database` narrows it to one for what only that database has (`ctx.db`, `ctx.pool`).
 * `policyVersions` is the stored policy versions (proposing, listing), which PostgreSQL's policy in force does not
 * expose: a store of its own on the same pool there.
 */
export type BothCtx = SqliteCtx | PgCtx;

/** Builds an app on the block's database; the arguments are those of `setupTokens`. */
export type BothSetup = (env?: Record<string, string>, options?: Parameters<typeof setupPgTokens>[1]) => Promise<BothCtx>;

/**
 * Runs `body` once on SQLite and once, inside `describe('on PostgreSQL')`, on PostgreSQL, where every app the
 * block's setup made is closed (its pool ended, its database dropped) after each test.
 */
export function forEachDatabase(body: (setup: BothSetup, database: Database) => void): void {
  body(async (env, options) => {
    const ctx = await setupTokens(env, options);
    return { ...ctx, database: 'sqlite' as const, policyVersions: ctx.policies.versions };
  }, 'sqlite');
  if (!pgUrl) return;
  describe('on PostgreSQL', () => {
    const opened: Array<{ close(): Promise<void> }> = [];
    afterEach(async () => {
      const closing = opened.splice(0);
      await Promise.all(closing.map((ctx) => ctx.close()));
    });
    body(async (env, options) => {
      const ctx = await setupPgTokens(env, options);
      opened.push(ctx);
      return { ...ctx, database: 'postgres' as const, policyVersions: new PgPolicyVersions(ctx.pool, ctx.clock) };
    }, 'postgres');
  });
}

/**
 * Makes every further audit append fail on the app's database (a trigger refusing the insert), to test that a
 * route fails closed.
 */
export async function breakAuditWrites(ctx: BothCtx): Promise<void> {
  if (ctx.database === 'sqlite') {
    ctx.db.$client.exec(`CREATE TRIGGER audit_full BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
    return;
  }
  await ctx.pool.query(`CREATE FUNCTION audit_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$`);
  await ctx.pool.query('CREATE TRIGGER audit_full BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_full()');
}

/** Imports these records as a Suite export would (one JSON line each) into the app's records. */
export async function importRecords(ctx: BothCtx, records: readonly SuiteRecord[]): Promise<void> {
  const input = () => Readable.from(records.map((r) => `${JSON.stringify(r)}\n`));
  if (ctx.database === 'sqlite') await importSuiteExport(ctx.records, input(), { clock: ctx.clock });
  else await importSuiteExportPg(ctx.records, input(), { clock: ctx.clock });
}

/** Writes these records straight into the store in one transaction, without an import (fast, for many records). */
export async function replaceRecords(ctx: BothCtx, records: readonly SuiteRecord[], importedAt = 0): Promise<void> {
  if (ctx.database === 'sqlite') {
    const { records: store } = ctx;
    store.db.$client.transaction(() => {
      for (const r of records) store.replace(r, importedAt);
    })();
    return;
  }
  const { records: store } = ctx;
  const result = await atomically(ctx.pool, (client) => store.on(client).replaceBatch(records.map((record) => ({ record, importedAt }))));
  if (result.bsnTaken !== undefined) throw new Error(`replaceRecords: the BSN of record ${result.bsnTaken} belongs to another client`);
}

/** The audit log's stored lines as text (the `entry` column, whole), in log order. */
export async function storedAuditLines(ctx: BothCtx): Promise<string[]> {
  if (ctx.database === 'sqlite')
    return (ctx.db.$client.prepare('SELECT entry FROM audit_log ORDER BY seq').all() as Array<{ entry: string }>).map((r) => r.entry);
  return (await ctx.pool.query<{ entry: string }>('SELECT entry FROM audit_log ORDER BY seq')).rows.map((r) => r.entry);
}

/** What `runSql` needs of an app: its database (an app of `forEachDatabase`, or the web application's server). */
type SqlTarget = Pick<SqliteCtx, 'database' | 'db'> | Pick<PgCtx, 'database' | 'pool'>;

/**
 * Runs one statement straight on the app's database, past the gateway (to tamper with it): `?` marks a parameter on
 * both (numbered for PostgreSQL here); the rows it answers, if any.
 */
export async function runSql(ctx: SqlTarget, text: string, ...values: unknown[]): Promise<Array<Record<string, unknown>>> {
  if (ctx.database === 'sqlite') {
    const statement = ctx.db.$client.prepare(text);
    if (statement.reader) return statement.all(...values) as Array<Record<string, unknown>>;
    statement.run(...values);
    return [];
  }
  let n = 0;
  return (
    await ctx.pool.query(
      text.replace(/\?/g, () => `$${++n}`),
      values,
    )
  ).rows;
}

/** Drops a trigger of `table` on the app's database (the guards have the same names on both). */
export async function dropTrigger(ctx: BothCtx, name: string, table: string): Promise<void> {
  await runSql(ctx, ctx.database === 'sqlite' ? `DROP TRIGGER ${name}` : `DROP TRIGGER ${name} ON ${table}`);
}
