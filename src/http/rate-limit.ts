import type { Context, MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AuditEntry } from '../audit/entry.js';
import { auditFacts } from '../audit/facts.js';
import type { Clock } from '../clock.js';
import { DoelpoortError, isDoelpoortError } from '../errors.js';
import { appendLine, type Awaitable, type UnitOfWork } from '../unit-of-work.js';
import type { HonoEnv } from './env.js';
import { problemResponse } from './problem.js';

const MINUTE_MS = 60_000;
/** How many addresses one minute's window remembers; past it the oldest is forgotten, so memory stays bounded. */
export const MAX_ADDRESSES = 10_000;

/** What the summary line of one address and minute says. */
export interface LimitedSummary {
  address: string;
  since: number;
  count: number;
  traceId: string;
  spanId: string;
}

/** Whether an address is admitted now, or for how many seconds it is refused. */
export type Admission = { ok: true } | { ok: false; retryAfter: number };

/**
 * What the rate limit middleware counts with: the in-memory `FailureLimiter` of one process (SQLite), or one whose
 * failure counts are shared by several instances (src/http/rate-limit-pg.ts). Counting may wait on the store, so
 * `admit` and `fail` are awaited; the summaries of refused requests are each instance's own.
 */
export interface FailureLimits {
  /** Whether `address` is refused now; if so, counts the refusal and says how many seconds until it may retry. */
  admit(address: string, trace: { traceId: string; spanId: string }): Awaitable<Admission>;
  /** Counts a failed request (a 401, a refused token request) of `address`. */
  fail(address: string): Awaitable<void>;
  /** The summaries of windows that have ended (and of addresses forgotten early), each handed out once. */
  takeSummaries(): LimitedSummary[];
  /** Every summary there is, the current window's included (its count so far): for a server that is stopping. */
  drain(): LimitedSummary[];
  /** Epoch ms of the end of the current window, once an address was refused in it; else undefined. */
  readonly pendingUntil: number | undefined;
}

/** The fixed one-minute window `now` falls in, by its index (epoch ms / one minute). */
export const windowOf = (now: number): number => Math.floor(now / MINUTE_MS);

/** Seconds until the end of `window`, at least 1: the `Retry-After` of a refusal. */
export const retryAfterOf = (window: number, now: number): number => Math.max(1, Math.ceil(((window + 1) * MINUTE_MS - now) / 1000));

/**
 * The requests refused with 429 per address in the current window, handed out once per address and window as a
 * summary (when the window ends, when an address is forgotten early, or when the server stops). Bounded by
 * `maxAddresses`: past it, the oldest address is summarised early. A value: no timers, no I/O.
 */
export class RefusalCounts {
  #window = -1;
  readonly #counts = new Map<string, { count: number; trace: { traceId: string; spanId: string } }>();
  #summaries: LimitedSummary[] = [];

  constructor(readonly maxAddresses = MAX_ADDRESSES) {}

  /** Moves to `window`; the counts of the one before become summaries. */
  roll(window: number): void {
    if (window === this.#window) return;
    for (const address of [...this.#counts.keys()]) this.flush(address);
    this.#window = window;
  }

  /** Counts one refused request of `address`, the first one's trace kept for the summary line. */
  count(address: string, trace: { traceId: string; spanId: string }): void {
    const counted = this.#counts.get(address);
    if (counted) {
      counted.count++;
      return;
    }
    if (this.#counts.size >= this.maxAddresses) this.flush(this.#counts.keys().next().value!);
    this.#counts.set(address, { count: 1, trace });
  }

  /** Summarises `address` now (its window's count so far) and forgets it. */
  flush(address: string): void {
    const counted = this.#counts.get(address);
    if (!counted) return;
    this.#counts.delete(address);
    this.#summaries.push({ address, since: this.#window * MINUTE_MS, count: counted.count, ...counted.trace });
  }

  /** The summaries so far, each handed out once. */
  take(): LimitedSummary[] {
    const out = this.#summaries;
    this.#summaries = [];
    return out;
  }

  /** Every summary, the current window's included. */
  drain(): LimitedSummary[] {
    for (const address of [...this.#counts.keys()]) this.flush(address);
    return this.take();
  }

  /** Epoch ms of the end of the current window, once an address was refused in it; else undefined. */
  get pendingUntil(): number | undefined {
    return this.#counts.size > 0 ? (this.#window + 1) * MINUTE_MS : undefined;
  }
}

/**
 * Failed requests per client address in fixed one-minute windows (by the clock), in this process's memory (SQLite:
 * one process). Past `limit` failures an address is refused until the minute ends; the refusals are counted, and
 * handed out once per address and minute as a summary. A value: no timers, no I/O.
 */
export class FailureLimiter implements FailureLimits {
  readonly #limit: number;
  readonly #clock: Clock;
  readonly #maxAddresses: number;
  #window = -1;
  readonly #failures = new Map<string, number>();
  readonly #refused: RefusalCounts;

  constructor(options: { limit: number; clock: Clock; maxAddresses?: number }) {
    if (!Number.isInteger(options.limit) || options.limit < 1) throw new TypeError('FailureLimiter: limit must be a positive integer');
    this.#limit = options.limit;
    this.#clock = options.clock;
    this.#maxAddresses = options.maxAddresses ?? MAX_ADDRESSES;
    this.#refused = new RefusalCounts(this.#maxAddresses);
  }

  /** How many addresses the current window remembers. */
  get size(): number {
    return this.#failures.size;
  }

  admit(address: string, trace: { traceId: string; spanId: string }): Admission {
    const now = this.#roll();
    if ((this.#failures.get(address) ?? 0) < this.#limit) return { ok: true };
    this.#refused.count(address, trace);
    return { ok: false, retryAfter: retryAfterOf(this.#window, now) };
  }

  fail(address: string): void {
    this.#roll();
    const failures = this.#failures.get(address);
    if (failures === undefined && this.#failures.size >= this.#maxAddresses) {
      const oldest = this.#failures.keys().next().value!;
      this.#failures.delete(oldest);
      this.#refused.flush(oldest);
    }
    this.#failures.set(address, (failures ?? 0) + 1);
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

  #roll(): number {
    const now = this.#clock.now();
    const window = windowOf(now);
    if (window !== this.#window) {
      this.#refused.roll(window);
      this.#failures.clear();
      this.#window = window;
    }
    return now;
  }
}

/** The audit line of one address's refused requests in one minute. */
export function limitedEntry(s: LimitedSummary): AuditEntry {
  return {
    action: 'request.limited',
    ...auditFacts({ trace: s, origin: s.address }),
    outcome: 'deny',
    reason: 'RATE_LIMITED',
    httpStatus: 429,
    count: s.count,
    since: s.since,
  };
}

/** Whether a finished request counts as a failure: every 401 on `/v1`, every 4xx at `/oauth/token`. */
function failed(path: string, status: number): boolean {
  if (path === '/oauth/token') return status >= 400 && status < 500;
  return status === 401;
}

const limitedPath = (path: string) => path === '/oauth/token' || path.startsWith('/v1/');

/**
 * Rate limits failed token requests and unauthenticated calls per client address (api.md, Limits and headers): past
 * the limit, 429 with `Retry-After`, as Problem Details on `/v1` and an RFC 6749 body at `/oauth/token`. A refused
 * request writes no line of its own: one `request.limited` line per address and minute carries the count, written
 * (group commit) on the first request after the minute, or by a timer when none comes.
 */
export function rateLimit(deps: { uow: UnitOfWork; limiter: FailureLimits; clock: Clock }): MiddlewareHandler<HonoEnv> {
  const { uow, limiter, clock } = deps;
  let timer: NodeJS.Timeout | undefined;

  function writeSummaries(): void {
    for (const s of limiter.takeSummaries()) {
      appendLine(uow, limitedEntry(s)).catch((error: unknown) => {
        // The refused requests released nothing; operators must still see that their count was lost.
        console.error(JSON.stringify({ level: 'error', msg: 'rate limit summary not written', code: isDoelpoortError(error) ? error.code : 'INTERNAL' }));
      });
    }
  }

  /** A summary must not wait for the next request: write it shortly after its minute ends. */
  function scheduleSummaries(): void {
    const until = limiter.pendingUntil;
    if (timer !== undefined || until === undefined) return;
    timer = setTimeout(
      () => {
        timer = undefined;
        writeSummaries();
      },
      Math.min(Math.max(until - clock.now(), 0), MINUTE_MS) + 1000,
    );
    timer.unref();
  }

  function tooMany(c: Context<HonoEnv>, retryAfter: number): Response {
    const headers = { 'retry-after': String(retryAfter) };
    if (c.req.path === '/oauth/token') {
      return c.json({ error: 'temporarily_unavailable', error_description: 'too many failed requests from this address; retry later' }, 429, headers);
    }
    return problemResponse(c, new DoelpoortError('RATE_LIMITED', 'too many failed requests from this address; retry later'), headers);
  }

  return createMiddleware<HonoEnv>(async (c, next) => {
    if (!limitedPath(c.req.path)) return next();
    writeSummaries();
    const address = c.get('clientIp');
    const admitted = await limiter.admit(address, c.get('trace'));
    if (!admitted.ok) {
      scheduleSummaries();
      return tooMany(c, admitted.retryAfter);
    }
    await next();
    if (failed(c.req.path, c.res.status)) {
      try {
        await limiter.fail(address);
      } catch (error) {
        // The answer (a refusal) stands; a shared store that could not count it must still be seen by operators.
        console.error(JSON.stringify({ level: 'error', msg: 'rate limit failure not counted', code: isDoelpoortError(error) ? error.code : 'INTERNAL' }));
      }
    }
    return undefined;
  });
}
