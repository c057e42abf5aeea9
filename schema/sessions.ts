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
    /**
     * A fresh login (re-authentication, src/web/reauth.ts) for one step (`policy.approve:12`, `noodtoegang:WZR-100001`),
     * when it was given (epoch ms; it counts FRESH_LOGIN_MS) and what the step was asked with (an emergency access's
     * written reason): used once, then cleared. Here rather than in a process's memory, so every instance honours it.
     */
    freshStep: text('fresh_step'),
    freshDetail: text('fresh_detail'),
    freshAt: integer('fresh_at'),
    /**
     * The session's live emergency access (src/web/pages/noodtoegang.tsx): its id in `noodtoegang`, the id its row
     * names as its token (the web application's stand-in for a `jti`), the client, and its end (epoch ms, at most 15
     * minutes after the grant). A new grant replaces it.
     */
    noodtoegangId: text('noodtoegang_id'),
    noodtoegangTokenId: text('noodtoegang_token_id'),
    noodtoegangClientRef: text('noodtoegang_client_ref'),
    noodtoegangPurpose: text('noodtoegang_purpose'),
    noodtoegangUntil: integer('noodtoegang_until'),
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

/**
 * Re-authentications on their way through the identity provider (src/web/reauth.ts): one row per `prompt=login`
 * request, bound to the session that asked (its id's hash), taken once by the callback, worthless after ten minutes.
 * `detail` is what the step was asked with (an emergency access's reason), handed to the session's fresh login.
 */
export const webReauthentications = sqliteTable(
  'web_reauthentications',
  {
    /** SHA-256 of the `state` sent to the provider, hex. */
    stateHash: text('state_hash').primaryKey(),
    /** SHA-256 of the session id that started it, hex. */
    sessionHash: text('session_hash').notNull(),
    issuer: text('issuer').notNull(),
    nonce: text('nonce').notNull(),
    codeVerifier: text('code_verifier').notNull(),
    step: text('step').notNull(),
    detail: text('detail'),
    returnTo: text('return_to').notNull(),
    /** Epoch milliseconds. */
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('web_reauthentications_created').on(t.createdAt)],
);
