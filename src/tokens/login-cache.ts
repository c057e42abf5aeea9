import type { Clock } from '../clock.js';
import { REMOTE_JWKS_OPTIONS } from './idps.js';
import type { UserIdentity } from './user-token.js';

/** How many logins the cache holds; past it, the one used longest ago goes. */
export const MAX_VERIFIED_LOGINS = 10_000;

/**
 * The longest a verified login is trusted without its signature being checked again: as long as a remote key set is
 * cached (REMOTE_JWKS_OPTIONS.cacheMaxAge), so a key its provider withdrew is not trusted longer through this cache
 * than through the key set itself.
 */
export const LOGIN_RECHECK_MS = REMOTE_JWKS_OPTIONS.cacheMaxAge;

interface Entry {
  identity: UserIdentity;
  /** Epoch ms from which the login must be verified again: its `exp`, or the recheck time if that is earlier. */
  until: number;
}

/**
 * Subject tokens (logins) that passed every check of `verifyUserToken`, keyed by the exact token string, so that
 * repeated exchanges of one login skip the signature check. Only a login that passed is ever stored; an entry is never
 * served at or past the login's `exp` (the cache has no clock tolerance of its own) nor longer than LOGIN_RECHECK_MS
 * after it was verified; at most `maxEntries`, least recently used first out. A hit needs the whole token: a Map key.
 */
export class VerifiedLoginCache {
  readonly #entries = new Map<string, Entry>();

  constructor(
    readonly clock: Clock,
    readonly maxEntries = MAX_VERIFIED_LOGINS,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError('VerifiedLoginCache: maxEntries must be a positive integer');
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The identity of a login verified before and still within its time, else undefined (and the entry gone). */
  get(token: string): UserIdentity | undefined {
    const hit = this.#entries.get(token);
    if (!hit) return undefined;
    this.#entries.delete(token);
    if (this.clock.now() >= hit.until) return undefined;
    // Re-inserted: a Map iterates in insertion order, so the first key is the one used longest ago.
    this.#entries.set(token, hit);
    return hit.identity;
  }

  /** Remembers a login that was just verified, with its `exp` (epoch seconds). */
  set(token: string, identity: UserIdentity, exp: number): void {
    const until = Math.min(exp * 1000, this.clock.now() + LOGIN_RECHECK_MS);
    if (!(until > this.clock.now())) return;
    this.#entries.delete(token);
    if (this.#entries.size >= this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(token, { identity: Object.freeze({ ...identity }), until });
  }
}
