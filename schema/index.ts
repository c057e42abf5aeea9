/** The drizzle schema of doelpoort's SQLite database; migrations in `schema/migrations` are generated from it. */
export * from './records.js';
export * from './audit.js';
export * from './policies.js';
