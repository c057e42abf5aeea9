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

/** One address in the current minute: its failed requests, and the requests refused with 429 since. */
interface Tally {
  failures: number;
  limited: number;
  /** The trace of the first refused request, for the summary line. */
  trace?: { traceId: string; spanId: string };
}

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

/**
 * Failed requests per client address in fixed one-minute windows (by the clock). Past `limit` failures an address is
 * refused until the minute ends; the refusals are counted, and handed out once per address and minute as a summary.
 * A value: no timers, no I/O.
 */
export class FailureLimiter implements FailureLimits {
  readonly #limit: number;
  readonly #clock: Clock;
  readonly #maxAddresses: number;
  #window = -1;
  #tallies = new Map<string, Tally>();
  #summaries: LimitedSummary[] = [];

  constructor(options: { limit: number; clock: Clock; maxAddresses?: number }) {
    if (!Number.isInteger(options.limit) || options.limit < 1) throw new TypeError('FailureLimiter: limit must be a positive integer');
    this.#limit = options.limit;
    this.#clock = options.clock;
    this.#maxAddresses = options.maxAddresses ?? MAX_ADDRESSES;
  }

  /** How many addresses the current window remembers. */
  get size(): number {
    return this.#tallies.size;
  }

  /** Whether `address` is refused now; if so, counts the refusal and says how many seconds until it may retry. */
  admit(address: string, trace: { traceId: string; spanId: string }): Admission {
    const now = this.#roll();
    const tally = this.#tallies.get(address);
    if (!tally || tally.failures < this.#limit) return { ok: true };
    tally.limited++;
    tally.trace ??= trace;
    const end = (this.#window + 1) * MINUTE_MS;
    return { ok: false, retryAfter: Math.max(1, Math.ceil((end - now) / 1000)) };
  }

  /** Counts a failed request (a 401, a refused token request) of `address`. */
  fail(address: string): void {
    this.#roll();
    let tally = this.#tallies.get(address);
    if (!tally) {
      if (this.#tallies.size >= this.#maxAddresses) this.#forget(this.#tallies.keys().next().value!);
      this.#tallies.set(address, (tally = { failures: 0, limited: 0 }));
    }
    tally.failures++;
  }

  /** The summaries of windows that have ended (and of addresses forgotten early), each handed out once. */
  takeSummaries(): LimitedSummary[] {
    this.#roll();
    const out = this.#summaries;
    this.#summaries = [];
    return out;
  }

  /** Every summary there is, the current window's included (its count so far): for a server that is stopping. */
  drain(): LimitedSummary[] {
    for (const address of [...this.#tallies.keys()]) this.#forget(address);
    return this.takeSummaries();
  }

  /** Epoch ms of the end of the current window, once an address was refused in it; else undefined. */
  get pendingUntil(): number | undefined {
    for (const t of this.#tallies.values()) if (t.limited > 0) return (this.#window + 1) * MINUTE_MS;
    return undefined;
  }

  #roll(): number {
    const now = this.#clock.now();
    const window = Math.floor(now / MINUTE_MS);
    if (window !== this.#window) {
      for (const address of [...this.#tallies.keys()]) this.#forget(address);
      this.#window = window;
    }
    return now;
  }

  #forget(address: string): void {
    const tally = this.#tallies.get(address);
    this.#tallies.delete(address);
    if (tally?.trace && tally.limited > 0) this.#summaries.push({ address, since: this.#window * MINUTE_MS, count: tally.limited, ...tally.trace });
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
