import { sql } from 'drizzle-orm';
import { sqliteTable, text, integer, blob, index } from 'drizzle-orm/sqlite-core';

/**
 * INVARIANT: the audit log is append-only. Lines are only ever inserted, in sequence order, each carrying the hash of
 * the one before it (RFC 6962 prefixes; src/audit/chain.ts computes them: the leaf hashes the stored `entry`, the
 * canonical JSON of { seq, at, entry }, and the chain hash binds it to the chain hash of the line before).
 * There are no foreign keys and no update path in the code; triggers (migration 0001) abort UPDATE and DELETE. The one
 * exception is retention pruning, which may only blank a line's content (`entry` and the query columns) and keeps
 * `leaf_hash` and `chain_hash`, so a pruned chain still verifies; and only a line that an earlier `audit.pruned` line
 * names (its seq range, older than its `before`, which lies outside the retention period it states). Lines hold field
 * *names*, never record values.
 */
export const auditLog = sqliteTable(
  'audit_log',
  {
    /** 1, 2, 3, … without gaps: the position in the chain. */
    seq: integer('seq').primaryKey(),
    /** Epoch milliseconds. */
    at: integer('at').notNull(),
    action: text('action').notNull(),
    outcome: text('outcome').notNull(),
    actorSub: text('actor_sub'),
    actorOrg: text('actor_org'),
    clientRef: text('client_ref'),
    purpose: text('purpose'),
    decisionId: text('decision_id'),
    /** Canonical JSON of the whole entry; NULL once pruned. */
    entry: text('entry'),
    leafHash: blob('leaf_hash', { mode: 'buffer' }).notNull(),
    chainHash: blob('chain_hash', { mode: 'buffer' }).notNull(),
    // The columns of the oversight reports (src/audit/oversight-query.ts), like the ones above derived from the
    // hashed content and checked against it by verify; NULL once pruned.
    actorIss: text('actor_iss'),
    actorRole: text('actor_role'),
    /** 1 on a token exchange that named its client by BSN (src/audit/entry.ts `isBsnLookup`), else NULL. */
    bsnLookup: integer('bsn_lookup'),
    /** 1 on a line flagged `noodtoegang` (an emergency access), else NULL. */
    noodtoegang: integer('noodtoegang'),
    /** The local time class of `at` in Europe/Amsterdam (src/audit/office-hours.ts): bit 1 off-hours, bit 2 weekend. */
    timeClass: integer('time_class'),
    /**
     * How `leaf_hash` was computed (src/audit/chain.ts): NULL for the lines written before formats were numbered
     * (format 1: the canonical JSON in `entry`), 2 for the hash over exactly the stored columns. Kept by pruning.
     */
    format: integer('format'),
  },
  (t) => [
    index('audit_client').on(t.clientRef, t.seq),
    index('audit_actor').on(t.actorSub, t.seq),
    index('audit_purpose').on(t.purpose, t.seq),
    index('audit_at').on(t.at),
    /**
     * The monthly report: one range of `at` per combination of these columns, each counted in the index alone (no
     * sort, no table row read), so a month costs its own lines, whatever the size of the log.
     */
    index('audit_oversight').on(t.actorOrg, t.action, t.outcome, t.actorRole, t.purpose, t.bsnLookup, t.noodtoegang, t.timeClass, t.at),
    /** The per-person report: one person's lines of one action over a period, with what the figures need. */
    index('audit_person').on(t.actorOrg, t.actorIss, t.actorSub, t.actorRole, t.action, t.at, t.outcome, t.noodtoegang, t.timeClass, t.bsnLookup, t.clientRef),
    /** The few prune lines, which the prune trigger and verify look up; costs nothing on other inserts. */
    index('audit_pruned').on(t.seq).where(sql`action = 'audit.pruned'`),
  ],
);

/** Signed checkpoints of the chain (size and head), Ed25519 JWS; kept so that a rewritten chain is detectable. */
export const auditCheckpoints = sqliteTable('audit_checkpoints', {
  size: integer('size').primaryKey(),
  head: blob('head', { mode: 'buffer' }).notNull(),
  at: integer('at').notNull(),
  /** Compact JWS over { size, head, at } by the gateway's checkpoint key. */
  signature: text('signature').notNull(),
});
