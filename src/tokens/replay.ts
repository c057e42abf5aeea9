import type { Awaitable } from '../unit-of-work.js';

/** What a replay store answers: 'new' the first time, 'replayed' while remembered, 'full' when it cannot tell. */
export type ReplayVerdict = 'new' | 'replayed' | 'full';

/**
 * Identifiers seen within their validity window, so that a signed one-time value (a DPoP proof's `jti`, a client
 * assertion's `jti`) is accepted once. An interface so that a store shared by several instances (src/tokens/replay-pg.ts)
 * can replace the in-memory one without changing a verifier: its answer may come later, so always `await` it.
 */
export interface ReplayStore {
  /**
   * Records `key` as used until `until` (epoch ms), checking and remembering in one atomic step: 'new' the first time,
   * 'replayed' when it is still remembered, 'full' when the store has no room and cannot tell (the caller refuses:
   * fail closed). A store that cannot answer at all rejects, and the caller fails closed with it.
   */
  remember(key: string, until: number, now: number): Awaitable<ReplayVerdict>;
}

/**
 * The in-memory replay store, for one process (SQLite). Bounded: when full of unexpired entries it refuses new ones rather than forgetting one
 * that could then be replayed (fail closed).
 */
export class ReplayCache implements ReplayStore {
  /** Key → epoch ms after which the value is too old to be accepted anyway. Insertion order is roughly expiry order. */
  readonly #seen = new Map<string, number>();

  constructor(readonly maxEntries = 200_000) {}

  remember(key: string, until: number, now: number): ReplayVerdict {
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
