/**
 * The drizzle schema of doelpoort on PostgreSQL (`DOELPOORT_DATABASE_URL`): one database holds what SQLite keeps in
 * two files (the state of schema/index.ts and the Suite copy of schema/records.ts), with the same table and column
 * names; test/pg-schema.test.ts proves the two describe the same tables. Migrations in `schema/pg-migrations`.
 */
export * from './audit.js';
export * from './policies.js';
export * from './sessions.js';
export * from './oversight.js';
export * from './noodtoegang.js';
export * from './records.js';
