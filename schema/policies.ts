import { sqliteTable, text, integer, index, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { sql } from 'drizzle-orm';

/**
 * Policy versions. A version's document and hash never change once stored (a trigger aborts such an update); only its
 * status moves: draft → active → retired, or draft → rejected. At most one version is active (partial unique index).
 */
export const policyVersions = sqliteTable(
  'policy_versions',
  {
    id: integer('id').primaryKey(),
    /** Canonical JSON of the policy document. */
    document: text('document').notNull(),
    /** SHA-256 of `document`, hex. */
    hash: text('hash').notNull(),
    status: text('status', { enum: ['draft', 'active', 'retired', 'rejected'] }).notNull(),
    /** The issuer of the author's login: a person is (issuer, sub). '' for a version stored before it was recorded. */
    authorIss: text('author_iss').notNull().default(''),
    authorSub: text('author_sub').notNull(),
    authorOrg: text('author_org').notNull(),
    createdAt: integer('created_at').notNull(),
    /** The version that was active when this one was proposed; approval is refused if that has changed. */
    baseVersion: integer('base_version'),
    deciderIss: text('decider_iss'),
    deciderSub: text('decider_sub'),
    decidedAt: integer('decided_at'),
    rejectReason: text('reject_reason'),
  },
  (t) => [index('policy_versions_status').on(t.status), uniqueIndex('policy_versions_one_active').on(t.status).where(sql`status = 'active'`)],
);
