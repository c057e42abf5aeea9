/**
 * Identifiers seen within their validity window, so that a signed one-time value (a DPoP proof's `jti`, a client
 * assertion's `jti`) is accepted once. An interface so that a store shared by several instances can replace the
 * in-memory one without changing a verifier.
 */
export interface ReplayStore {
  /**
   * Records `key` as used until `until` (epoch ms): 'new' the first time, 'replayed' when it is still remembered,
   * 'full' when the store has no room and cannot tell (the caller refuses: fail closed).
   */
  remember(key: string, until: number, now: number): 'new' | 'replayed' | 'full';
}

/**
 * The in-memory replay store. Bounded: when full of unexpired entries it refuses new ones rather than forgetting one
 * that could then be replayed (fail closed).
 */
export class ReplayCache implements ReplayStore {
  /** Key → epoch ms after which the value is too old to be accepted anyway. Insertion order is roughly expiry order. */
  readonly #seen = new Map<string, number>();

  constructor(readonly maxEntries = 200_000) {}

  remember(key: string, until: number, now: number): 'new' | 'replayed' | 'full' {
    const seen = this.#seen.get(key);
    if (seen !== undefined && seen > now) return 'replayed';
    if (this.#seen.size >= this.maxEntries) {
      for (const [k, t] of this.#seen) {
        if (t > now) break;
        this.#seen.delete(k);
      }
      if (this.#seen.size >= this.maxEntries) return 'full';
    }
    this.#seen.delete(key);
    this.#seen.set(key, until);
    return 'new';
  }
}
