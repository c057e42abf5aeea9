import { index, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { int8 } from './types.js';

/** The oversight review trail (schema/oversight.ts): insert only (triggers). */
export const oversightReviews = pgTable(
  'oversight_reviews',
  {
    id: int8('id').primaryKey().generatedByDefaultAsIdentity(),
    at: int8('at').notNull(),
    officerIss: text('officer_iss').notNull(),
    officerSub: text('officer_sub').notNull(),
    officerOrg: text('officer_org').notNull(),
    subject: text('subject', { enum: ['monthly', 'users', 'break-glass', 'period'] }).notNull(),
    periodFrom: text('period_from').notNull(),
    periodTo: text('period_to').notNull(),
    note: text('note').notNull(),
  },
  (t) => [index('oversight_reviews_org').on(t.officerOrg, t.id)],
);

/**
 * The counts of a closed period within one scope (schema/oversight.ts: `*` or an organisation), kept once taken; a
 * cache that may only ever be dropped, never stale: src/audit/log-pg.ts drops the rows a clock set back would falsify.
 */
export const auditPeriodCounts = pgTable(
  'audit_period_counts',
  {
    scope: text('scope').notNull(),
    from: int8('from').notNull(),
    to: int8('to').notNull(),
    throughSeq: int8('through_seq').notNull(),
    counts: text('counts').notNull(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.from, t.to] }), index('audit_period_counts_to').on(t.to)],
);
