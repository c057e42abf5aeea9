import { index, pgTable, text } from 'drizzle-orm/pg-core';
import { int8 } from './types.js';

/** The web application's sessions (schema/sessions.ts): hashed ids only; shared by every instance. */
export const webSessions = pgTable(
  'web_sessions',
  {
    idHash: text('id_hash').primaryKey(),
    issuer: text('issuer').notNull(),
    sub: text('sub').notNull(),
    role: text('role').notNull(),
    org: text('org').notNull(),
    name: text('name'),
    idToken: text('id_token').notNull(),
    csrfToken: text('csrf_token').notNull(),
    createdAt: int8('created_at').notNull(),
    lastSeenAt: int8('last_seen_at').notNull(),
    expiresAt: int8('expires_at').notNull(),
  },
  (t) => [index('web_sessions_last_seen').on(t.lastSeenAt), index('web_sessions_expires').on(t.expiresAt)],
);

/** Logins on their way through the identity provider (schema/sessions.ts): used once, hashed `state`. */
export const webPendingLogins = pgTable(
  'web_pending_logins',
  {
    stateHash: text('state_hash').primaryKey(),
    nonce: text('nonce').notNull(),
    codeVerifier: text('code_verifier').notNull(),
    issuer: text('issuer').notNull(),
    returnTo: text('return_to'),
    bindingHash: text('binding_hash').notNull(),
    createdAt: int8('created_at').notNull(),
  },
  (t) => [index('web_pending_logins_created').on(t.createdAt)],
);
