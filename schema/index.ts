/**
 * The drizzle schema of doelpoort's own state (`doelpoort.db`): the audit log, its checkpoints, the policy versions,
 * the emergency accesses and their review; migrations in `schema/migrations` are generated from it. The Suite copy lives in a file of its own
 * (`schema/records.ts`, `records.db`), written only by `import`, so a long import never holds the lock that every
 * request's audit line needs.
 */
export * from './audit.js';
export * from './policies.js';
export * from './noodtoegang.js';
