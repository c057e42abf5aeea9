import { sql } from 'drizzle-orm';
import { index, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { int8 } from './types.js';

/**
 * Emergency accesses (schema/noodtoegang.ts): never deleted, one verdict set once (triggers). `seq` is an identity:
 * the queue's order; two instances granting at once may commit their rows out of `seq` order, which only moves where
 * a row appears in a queue page read at that instant, never whether it is counted.
 */
export const noodtoegang = pgTable(
  'noodtoegang',
  {
    seq: int8('seq').primaryKey().generatedByDefaultAsIdentity(),
    id: text('id').notNull(),
    at: int8('at').notNull(),
    actorIss: text('actor_iss').notNull(),
    actorSub: text('actor_sub').notNull(),
    actorRole: text('actor_role').notNull(),
    actorOrg: text('actor_org').notNull(),
    person: text('person').notNull(),
    clientId: text('client_id').notNull(),
    clientRef: text('client_ref').notNull(),
    purpose: text('purpose').notNull(),
    reden: text('reden').notNull(),
    tokenId: text('token_id').notNull(),
    verdict: text('verdict', { enum: ['terecht', 'onterecht'] }),
    verdictNote: text('verdict_note'),
    verdictIss: text('verdict_iss'),
    verdictSub: text('verdict_sub'),
    verdictAt: int8('verdict_at'),
  },
  (t) => [
    uniqueIndex('noodtoegang_id').on(t.id),
    index('noodtoegang_person').on(t.person, t.at),
    index('noodtoegang_org').on(t.actorOrg, t.seq),
    index('noodtoegang_open').on(t.seq).where(sql`verdict IS NULL`),
  ],
);
