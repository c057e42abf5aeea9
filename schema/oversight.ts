import { sqliteTable, text, integer, index, primaryKey } from 'drizzle-orm/sqlite-core';

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

/**
 * The counts of a closed period (a month of the monthly report) within one scope, computed once from audit_log
 * (src/audit/oversight-query.ts `countLines`, and `countPersons` under `persons:` scopes): lines are append-only, so the counts of a period that ended before the
 * newest line no longer change. `scope` is the organisation the counts were restricted to, or `*` for every
 * organisation; a scoped read uses its own scope's row, or the `*` row filtered to its organisation, never another
 * organisation's. Rows go when they might be stale: an append whose time lies before the line before it (a clock set
 * back) deletes the rows of the periods ending after it, and a prune the rows of the periods it blanked lines in.
 */
export const auditPeriodCounts = sqliteTable(
  'audit_period_counts',
  {
    scope: text('scope').notNull(),
    /** Epoch milliseconds, inclusive. */
    from: integer('from').notNull(),
    /** Epoch milliseconds, exclusive. */
    to: integer('to').notNull(),
    /** The newest line when the counts were taken. */
    throughSeq: integer('through_seq').notNull(),
    /**
     * JSON array of the period's counts (LineCount), or under a scope `persons:<scope>` its per-person figures
     * (PersonCount: the figures and the person, iss/sub/role/organisation, as the per-person report shows them).
     */
    counts: text('counts').notNull(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.from, t.to] }), index('audit_period_counts_to').on(t.to)],
);
