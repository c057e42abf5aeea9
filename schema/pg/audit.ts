import { sql } from 'drizzle-orm';
import { index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { bytea, int8 } from './types.js';

/**
 * The audit log on PostgreSQL: the same table as schema/audit.ts (read its INVARIANT), with the same columns and
 * indexes. Lines are appended by src/audit/log-pg.ts under a transaction-level advisory lock, `seq` = head + 1 read
 * under that lock, never a database sequence. Triggers (migrations `guards` and `audit_line_v2_guards`) refuse
 * UPDATE and DELETE but the prune's blanking, as SQLite's do, and an INSERT whose hashes do not follow its line
 * format. Two guards SQLite does not need (one process writes there): the primary key on `seq` refuses a second
 * line at the same position, and the unique index on `chain_hash` refuses a fork: two lines
 * extending the same predecessor with the same content would share their chain hash, and a line whose predecessor
 * is not the head is caught by verify. The chain hash binds the previous hash, so a unique chain hash is what a
 * unique previous-hash column would say, without a column SQLite lacks.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    seq: int8('seq').primaryKey(),
    at: int8('at').notNull(),
    action: text('action').notNull(),
    outcome: text('outcome').notNull(),
    actorSub: text('actor_sub'),
    actorOrg: text('actor_org'),
    clientRef: text('client_ref'),
    purpose: text('purpose'),
    decisionId: text('decision_id'),
    entry: text('entry'),
    leafHash: bytea('leaf_hash').notNull(),
    chainHash: bytea('chain_hash').notNull(),
    actorIss: text('actor_iss'),
    actorRole: text('actor_role'),
    bsnLookup: integer('bsn_lookup'),
    noodtoegang: integer('noodtoegang'),
    timeClass: integer('time_class'),
    /** How `leaf_hash` was computed (schema/audit.ts, src/audit/chain.ts): NULL for format 1, 2 for the stored columns. */
    format: integer('format'),
  },
  (t) => [
    index('audit_client').on(t.clientRef, t.seq),
    index('audit_actor').on(t.actorSub, t.seq),
    index('audit_purpose').on(t.purpose, t.seq),
    index('audit_at').on(t.at),
    index('audit_oversight').on(t.actorOrg, t.action, t.outcome, t.actorRole, t.purpose, t.bsnLookup, t.noodtoegang, t.timeClass, t.at),
    index('audit_person').on(t.actorOrg, t.actorIss, t.actorSub, t.actorRole, t.action, t.at, t.outcome, t.noodtoegang, t.timeClass, t.bsnLookup, t.clientRef),
    index('audit_pruned').on(t.seq).where(sql`action = 'audit.pruned'`),
    /** PostgreSQL only (see above): no two lines with one chain hash, so no fork. */
    uniqueIndex('audit_chain_unique').on(t.chainHash),
  ],
);

/** Signed checkpoints (schema/audit.ts); `size` is the primary key, so two signers of one size conflict. */
export const auditCheckpoints = pgTable('audit_checkpoints', {
  size: int8('size').primaryKey(),
  head: bytea('head').notNull(),
  at: int8('at').notNull(),
  signature: text('signature').notNull(),
});
