import { index, pgTable, text } from 'drizzle-orm/pg-core';
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
