import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Queryable } from '../postgres.js';
import { type Admission, type FailureLimits, type LimitedSummary, MAX_ADDRESSES, RefusalCounts, retryAfterOf, windowOf } from './rate-limit.js';

const MINUTE_MS = 60_000;
/** Rows of ended windows deleted per sweep; one sweep per instance and window. */
const SWEEP_ROWS = 10_000;

/**
 * Failed requests per client address and fixed one-minute window, counted in PostgreSQL by every instance
 * (`rate_limit_failures`), so that an address is refused past `limit` failures however the load balancer spreads its
 * requests. The address is stored as its SHA-256. What is refused is counted by each instance on its own, so each
 * writes its own `request.limited` summary line per address and window: with two instances an address refused on
 * both has two lines for one minute, whose counts add up.
 */
export class PgFailureLimiter implements FailureLimits {
  readonly #db: Queryable;
  readonly #limit: number;
  readonly #clock: Clock;
  readonly #maxAddresses: number;
  #window = -1;
  /** Addresses known to be over the limit in this window: refused without asking the database again. */
  readonly #over = new Set<string>();
  readonly #refused: RefusalCounts;
  #sweeping: Promise<void> | undefined;

  constructor(options: { db: Queryable; limit: number; clock: Clock; maxAddresses?: number }) {
    if (!Number.isInteger(options.limit) || options.limit < 1) throw new TypeError('PgFailureLimiter: limit must be a positive integer');
    this.#db = options.db;
    this.#limit = options.limit;
    this.#clock = options.clock;
    this.#maxAddresses = options.maxAddresses ?? MAX_ADDRESSES;
    this.#refused = new RefusalCounts(this.#maxAddresses);
  }

  async admit(address: string, trace: { traceId: string; spanId: string }): Promise<Admission> {
    const now = this.#roll();
    const window = this.#window;
    if (!this.#over.has(address)) {
      const { rows } = await this.#db.query<{ failures: number }>('SELECT failures FROM rate_limit_failures WHERE address_hash = $1 AND window_start = $2', [
        addressHash(address),
        window * MINUTE_MS,
      ]);
      if ((rows[0]?.failures ?? 0) < this.#limit) return { ok: true };
      this.#remember(address, window);
    }
    if (this.#window !== window) return { ok: true }; // the window ended while the database answered
    this.#refused.count(address, trace);
    return { ok: false, retryAfter: retryAfterOf(window, now) };
  }

  async fail(address: string): Promise<void> {
    this.#roll();
    const window = this.#window;
    const { rows } = await this.#db.query<{ failures: number }>(
      `INSERT INTO rate_limit_failures (address_hash, window_start, failures) VALUES ($1, $2, 1)
       ON CONFLICT (address_hash, window_start) DO UPDATE SET failures = rate_limit_failures.failures + 1
       RETURNING failures`,
      [addressHash(address), window * MINUTE_MS],
    );
    if ((rows[0]?.failures ?? 0) >= this.#limit) this.#remember(address, window);
  }

  takeSummaries(): LimitedSummary[] {
    this.#roll();
    return this.#refused.take();
  }

  drain(): LimitedSummary[] {
    return this.#refused.drain();
  }

  get pendingUntil(): number | undefined {
    return this.#refused.pendingUntil;
  }

  /** Deletes up to `limit` rows of windows that ended before the one of `now`; returns how many. */
  async sweep(now: number, limit = SWEEP_ROWS): Promise<number> {
    const { rowCount } = await this.#db.query(
      `DELETE FROM rate_limit_failures WHERE (address_hash, window_start) IN
         (SELECT address_hash, window_start FROM rate_limit_failures WHERE window_start < $1 LIMIT $2)`,
      [windowOf(now) * MINUTE_MS, limit],
    );
    return rowCount ?? 0;
  }

  /** Settles once a background sweep under way has ended (for a server that is stopping, and tests). */
  async settled(): Promise<void> {
    await this.#sweeping;
  }

  #remember(address: string, window: number): void {
    if (window !== this.#window) return;
    if (this.#over.size >= this.#maxAddresses) this.#over.delete(this.#over.values().next().value!);
    this.#over.add(address);
  }

  #roll(): number {
    const now = this.#clock.now();
    const window = windowOf(now);
    if (window !== this.#window) {
      const first = this.#window === -1;
      this.#refused.roll(window);
      this.#over.clear();
      this.#window = window;
      if (!first) this.#sweepInBackground(now);
    }
    return now;
  }

  /** Once per window, the ended windows' rows go (any instance's sweep does for all). */
  #sweepInBackground(now: number): void {
    if (this.#sweeping) return;
    this.#sweeping = this.sweep(now)
      .then(() => undefined)
      .catch((error: unknown) => {
        // Not fatal: an ended window's rows are never read again; operators see the table grow.
        console.error(JSON.stringify({ level: 'error', msg: 'rate limit sweep failed', code: (error as { code?: string }).code ?? 'INTERNAL' }));
      })
      .finally(() => {
        this.#sweeping = undefined;
      });
  }
}

/** An address as the table keeps it. */
function addressHash(address: string): Buffer {
  return createHash('sha256').update(address).digest();
}
