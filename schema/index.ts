/**
 * The drizzle schema of doelpoort's own state (`doelpoort.db`): the audit log, its checkpoints, the policy versions,
 * the oversight review trail, the emergency accesses and their review; migrations in `schema/migrations` are generated
 * from it. The Suite copy lives in a file of its own
 * (`schema/records.ts`, `records.db`), written only by `import`, so a long import never holds the lock that every
 * request's audit line needs. The web application's sessions and pending logins live here too.
 */
export * from './audit.js';
export * from './policies.js';
export * from './sessions.js';
export * from './oversight.js';
export * from './noodtoegang.js';
