import { index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { bytea, int8 } from './types.js';

/**
 * State that one SQLite process keeps in memory and several instances on one PostgreSQL database must share. Not in
 * SQLite's schema: test/pg-schema.test.ts lists these tables as PostgreSQL's own.
 */

/**
 * One-time values seen (src/tokens/replay-pg.ts): a DPoP proof's or a client assertion's `jti`, as the SHA-256 of
 * what the verifier remembers (never the value itself), per kind, until it expires. The primary key is the check:
 * an insert that conflicts with an unexpired row is a replay.
 */
export const replayJti = pgTable(
  'replay_jti',
  {
    kind: text('kind', { enum: ['dpop', 'client-assertion'] }).notNull(),
    jtiHash: bytea('jti_hash').notNull(),
    /** Epoch ms after which the value would be refused as too old anyway, and the row may go. */
    expiresAt: int8('expires_at').notNull(),
  },
  (t) => [primaryKey({ name: 'replay_jti_pk', columns: [t.kind, t.jtiHash] }), index('replay_jti_expires').on(t.expiresAt)],
);

/**
 * Failed requests per client address and fixed one-minute window (src/http/rate-limit-pg.ts), counted by every
 * instance. The address as its SHA-256, so that the table is no list of addresses.
 */
export const rateLimitFailures = pgTable(
  'rate_limit_failures',
  {
    addressHash: bytea('address_hash').notNull(),
    /** Epoch ms at which the window starts (a whole minute). */
    windowStart: int8('window_start').notNull(),
    failures: integer('failures').notNull(),
  },
  (t) => [primaryKey({ name: 'rate_limit_failures_pk', columns: [t.addressHash, t.windowStart] }), index('rate_limit_failures_window').on(t.windowStart)],
);

/**
 * Leases (src/leases-pg.ts): work that one instance at a time does, such as signing the timed checkpoints, held by
 * `holder` until `expires_at` (by the database's clock) unless renewed.
 */
export const leases = pgTable('leases', {
  name: text('name').primaryKey(),
  holder: text('holder').notNull(),
  expiresAt: int8('expires_at').notNull(),
});
