import { sqliteTable, text, integer, index } from 'drizzle-orm/sqlite-core';

/**
 * The review trail of the oversight reports: each row says that a privacy officer reviewed a report or a period, when,
 * and what they noted. Rows are only ever inserted (triggers of the `oversight` migration abort UPDATE and DELETE), each with an
 * `oversight.reviewed` audit line in the same transaction; a correction is a new review.
 */
export const oversightReviews = sqliteTable(
  'oversight_reviews',
  {
    id: integer('id').primaryKey(),
    /** Epoch milliseconds. */
    at: integer('at').notNull(),
    /** The officer: a person is (issuer, sub); their organisation scopes who may read the review. */
    officerIss: text('officer_iss').notNull(),
    officerSub: text('officer_sub').notNull(),
    officerOrg: text('officer_org').notNull(),
    subject: text('subject', { enum: ['monthly', 'users', 'break-glass', 'period'] }).notNull(),
    /** The local calendar days reviewed, inclusive (`YYYY-MM-DD`, Europe/Amsterdam). */
    periodFrom: text('period_from').notNull(),
    periodTo: text('period_to').notNull(),
    /** At most 2000 characters, never a BSN (refused on arrival). */
    note: text('note').notNull(),
  },
  (t) => [index('oversight_reviews_org').on(t.officerOrg, t.id)],
);
