import { createHash } from 'node:crypto';
import type { Queryable } from '../postgres.js';
import type { ReplayStore, ReplayVerdict } from './replay.js';

/** Which one-time values a store remembers: each kind is its own key space. */
export type ReplayKind = 'dpop' | 'client-assertion';

/** Expired rows deleted per sweep, and how often an instance sweeps (on an insert, at most this often). */
const SWEEP_ROWS = 1000;
const SWEEP_EVERY_MS = 10_000;
/**
 * A row is swept only this long after it expired by the sweeping instance's clock, so that an instance whose clock
 * runs behind (which still accepts the value until its own clock reaches the expiry) never finds it gone.
 */
const SWEEP_GRACE_MS = 60_000;

/**
 * The replay store several instances share (PostgreSQL): a value is remembered as the SHA-256 of its key (never the
 * key, which holds a `jti` and a key thumbprint or client id) with its expiry. One statement checks and remembers:
 * the insert either creates the row, or takes over a row that has expired (not yet swept), or conflicts with an
 * unexpired one and returns nothing: a replay, whichever instance saw the value first. Never 'full': the table holds
 * only values still in their (minutes-long) validity window, and every insert sweeps expired rows now and then, a
 * bounded batch at a time.
 */
export class PgReplayStore implements ReplayStore {
  #lastSweep = Number.NEGATIVE_INFINITY;
  #sweeping: Promise<void> | undefined;

  constructor(
    readonly db: Queryable,
    readonly kind: ReplayKind,
  ) {}

  async remember(key: string, until: number, now: number): Promise<ReplayVerdict> {
    const hash = createHash('sha256').update(key).digest();
    const { rowCount } = await this.db.query(
      `INSERT INTO replay_jti (kind, jti_hash, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (kind, jti_hash) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE replay_jti.expires_at <= $4`,
      [this.kind, hash, until, now],
    );
    if (now - this.#lastSweep >= SWEEP_EVERY_MS) this.#sweep(now);
    return rowCount === 1 ? 'new' : 'replayed';
  }

  /** Deletes up to SWEEP_ROWS expired rows of this kind (every kind's, eventually), in the background. */
  #sweep(now: number): void {
    if (this.#sweeping) return;
    this.#lastSweep = now;
    this.#sweeping = this.sweep(now - SWEEP_GRACE_MS)
      .then(() => undefined)
      .catch((error: unknown) => {
        // Not fatal: an expired row refuses nothing (the insert takes it over); operators see the table grow.
        console.error(
          JSON.stringify({ level: 'error', msg: 'replay cache sweep failed', kind: this.kind, code: (error as { code?: string }).code ?? 'INTERNAL' }),
        );
      })
      .finally(() => {
        this.#sweeping = undefined;
      });
  }

  /**
   * Deletes up to `limit` rows of this kind that expired at or before `expiredBy`; returns how many. The expiry is
   * checked again on the row being deleted: a row the subquery saw expired may meanwhile have been taken over by a
   * new use of the same value (READ COMMITTED re-evaluates the outer condition on the newest version of a row it had
   * to wait for), and deleting that row would let the value be replayed.
   */
  async sweep(expiredBy: number, limit = SWEEP_ROWS): Promise<number> {
    const { rowCount } = await this.db.query(
      `DELETE FROM replay_jti WHERE kind = $1 AND expires_at <= $2 AND jti_hash IN
         (SELECT jti_hash FROM replay_jti WHERE kind = $1 AND expires_at <= $2 ORDER BY expires_at LIMIT $3)`,
      [this.kind, expiredBy, limit],
    );
    return rowCount ?? 0;
  }

  /** Settles once a background sweep under way has ended (for a server that is stopping, and tests). */
  async settled(): Promise<void> {
    await this.#sweeping;
  }
}
