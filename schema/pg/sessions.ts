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
    /** A fresh login for one step (src/web/reauth.ts): used once, then cleared; shared, so every instance honours it. */
    freshStep: text('fresh_step'),
    freshDetail: text('fresh_detail'),
    freshAt: int8('fresh_at'),
    /** The session's live emergency access (src/web/session-noodtoegang.ts); a new grant replaces it. */
    noodtoegangId: text('noodtoegang_id'),
    noodtoegangTokenId: text('noodtoegang_token_id'),
    noodtoegangClientRef: text('noodtoegang_client_ref'),
    noodtoegangPurpose: text('noodtoegang_purpose'),
    noodtoegangUntil: int8('noodtoegang_until'),
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

/** Re-authentications on their way through the identity provider (schema/sessions.ts): bound to a session, used once. */
export const webReauthentications = pgTable(
  'web_reauthentications',
  {
    stateHash: text('state_hash').primaryKey(),
    sessionHash: text('session_hash').notNull(),
    issuer: text('issuer').notNull(),
    nonce: text('nonce').notNull(),
    codeVerifier: text('code_verifier').notNull(),
    step: text('step').notNull(),
    detail: text('detail'),
    returnTo: text('return_to').notNull(),
    createdAt: int8('created_at').notNull(),
  },
  (t) => [index('web_reauthentications_created').on(t.createdAt)],
);
