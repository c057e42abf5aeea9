import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/**
 * Emergency accesses (noodtoegang, break-glass): one row per token granted without the relationship its purpose
 * needs, with the written reason, waiting for a Werkzaak privacy officer's verdict. The reason is free text a person
 * wrote, so it lives here and never in the hash-chained audit log, whose lines refer to a row by `id`. A row is never
 * deleted, and only its verdict may be set, once (triggers, migration 0005); the weekly limit counts rows per person
 * (`person`, the normalised issuer and subject) in the same transaction as the token's audit line.
 */
export const noodtoegang = sqliteTable(
  'noodtoegang',
  {
    /** 1, 2, 3, …: the queue's order and its cursor. */
    seq: integer('seq').primaryKey(),
    /** A random UUID: the id the token, the audit lines and the review queue name the emergency access by. */
    id: text('id').notNull(),
    /** Epoch milliseconds of the grant. */
    at: integer('at').notNull(),
    actorIss: text('actor_iss').notNull(),
    actorSub: text('actor_sub').notNull(),
    actorRole: text('actor_role').notNull(),
    actorOrg: text('actor_org').notNull(),
    /** The person for the weekly limit: issuer and subject, NFKC-normalised and lower-cased (src/noodtoegang/store.ts). */
    person: text('person').notNull(),
    /** The registered OAuth client the token was issued to. */
    clientId: text('client_id').notNull(),
    clientRef: text('client_ref').notNull(),
    purpose: text('purpose').notNull(),
    /** The requester's written reason (20 to 500 characters): for the review only, never in a log line. */
    reden: text('reden').notNull(),
    /** The `jti` of the token granted. */
    tokenId: text('token_id').notNull(),
    verdict: text('verdict', { enum: ['terecht', 'onterecht'] }),
    verdictNote: text('verdict_note'),
    verdictIss: text('verdict_iss'),
    verdictSub: text('verdict_sub'),
    verdictAt: integer('verdict_at'),
  },
  (t) => [
    uniqueIndex('noodtoegang_id').on(t.id),
    index('noodtoegang_person').on(t.person, t.at),
    index('noodtoegang_org').on(t.actorOrg, t.seq),
    /** The open queue: only the rows still waiting for a verdict. */
    index('noodtoegang_open').on(t.seq).where(sql`verdict IS NULL`),
  ],
);
