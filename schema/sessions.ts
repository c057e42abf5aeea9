import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * The web application's sessions (src/web/sessions.ts). The browser holds only the session id, in an HttpOnly cookie;
 * this table holds its SHA-256, never the id itself, so a copy of the database opens no session. The ID token is kept
 * for RP-initiated logout's `id_token_hint` only: it is a token, never logged, shown or sent to the browser otherwise.
 */
export const webSessions = sqliteTable(
  'web_sessions',
  {
    /** SHA-256 of the session id, hex. */
    idHash: text('id_hash').primaryKey(),
    /** The verified login: a person is (issuer, sub). */
    issuer: text('issuer').notNull(),
    sub: text('sub').notNull(),
    role: text('role').notNull(),
    org: text('org').notNull(),
    name: text('name'),
    idToken: text('id_token').notNull(),
    /** The token every form of this session posts back in its hidden `csrf` field. */
    csrfToken: text('csrf_token').notNull(),
    /** Epoch milliseconds. */
    createdAt: integer('created_at').notNull(),
    /** Epoch milliseconds; written at most once a minute. */
    lastSeenAt: integer('last_seen_at').notNull(),
    /** Epoch milliseconds: the absolute end, whatever the activity. */
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('web_sessions_last_seen').on(t.lastSeenAt), index('web_sessions_expires').on(t.expiresAt)],
);

/**
 * Logins on their way through the identity provider: one row per authorization request, used once (deleted when the
 * callback takes it) and worthless after ten minutes. `state` and the browser-binding cookie are stored as hashes.
 */
export const webPendingLogins = sqliteTable(
  'web_pending_logins',
  {
    /** SHA-256 of the `state` sent to the provider, hex. */
    stateHash: text('state_hash').primaryKey(),
    nonce: text('nonce').notNull(),
    /** The PKCE code verifier (RFC 7636), sent only to the provider's token endpoint. */
    codeVerifier: text('code_verifier').notNull(),
    /** The provider the login went to; its answer must come from this issuer. */
    issuer: text('issuer').notNull(),
    /** The same-origin path to land on after the login. */
    returnTo: text('return_to'),
    /** SHA-256 of the pre-login cookie of the browser that started the login, hex. */
    bindingHash: text('binding_hash').notNull(),
    /** Epoch milliseconds. */
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('web_pending_logins_created').on(t.createdAt)],
);
