import { sql } from 'drizzle-orm';
import { index, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { int8 } from './types.js';

/** Policy versions (schema/policies.ts): content immutable (trigger), at most one active (partial unique index). */
export const policyVersions = pgTable(
  'policy_versions',
  {
    /** SQLite's rowid; here an identity (a gap after a rolled-back proposal is harmless: versions are not a chain). */
    id: int8('id').primaryKey().generatedByDefaultAsIdentity(),
    document: text('document').notNull(),
    hash: text('hash').notNull(),
    status: text('status', { enum: ['draft', 'active', 'retired', 'rejected'] }).notNull(),
    authorIss: text('author_iss').notNull().default(''),
    authorSub: text('author_sub').notNull(),
    authorOrg: text('author_org').notNull(),
    createdAt: int8('created_at').notNull(),
    baseVersion: int8('base_version'),
    deciderIss: text('decider_iss'),
    deciderSub: text('decider_sub'),
    decidedAt: int8('decided_at'),
    rejectReason: text('reject_reason'),
  },
  (t) => [index('policy_versions_status').on(t.status), uniqueIndex('policy_versions_one_active').on(t.status).where(sql`status = 'active'`)],
);
