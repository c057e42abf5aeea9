/**
 * The benchmark's load generator: closed loop (N connections, each sends its next request when the previous answer
 * is in) and open loop (a fixed offered rate; each request's latency is measured from the time it was *meant* to be
 * sent, so a stalled server cannot hide its queue by slowing the generator down: coordinated omission corrected).
 * HTTP/1.1 keep-alive through an undici Pool; every response status is counted, bodies are drained, never printed.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';

/** One request, as the per-request callback builds it. */
export interface RequestSpec {
  method?: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Builds the i-th request (0, 1, 2, …), so each can pick its own client ref and token. */
export type RequestFactory = (i: number) => RequestSpec;

/** What both loops share. */
export interface LoadOptions {
  /**
   * Origin, e.g. `http://127.0.0.1:8080`; load only ever targets loopback. Several (instances behind no balancer):
   * the connections are split evenly over them, and request i (open loop) or connection w (closed loop) goes to
   * origin i (w) mod their number.
   */
  origin: string | readonly string[];
  request: RequestFactory;
  /** How long to send for. */
  durationMs: number;
  /** Stop sending after this many requests even when time is left. */
  maxRequests?: number;
  /** Keep-alive connections in the pool. */
  connections: number;
  /** The status every response must have; others are counted as failures. */
  expectStatus?: number;
  /** Load sent first on the same connections and not recorded: opens the connections, warms the JIT and caches. */
  warmupMs?: number;
  /** Called when the measured phase begins (after the warm-up), e.g. to read the server's CPU time. */
  onStart?: () => void;
}

/** Latency percentiles in milliseconds. */
export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** The outcome of one load run. */
export interface LoadResult {
  mode: 'closed' | 'open';
  connections: number;
  /** Offered rate (open loop only). */
  offeredRate: number | null;
  /** Requests that got a response (any status). */
  completed: number;
  /** Responses whose status was not `expectStatus`. */
  unexpectedStatus: number;
  /** Requests that failed without a response (connection errors, timeouts). */
  errors: number;
  /** Status code → count, e.g. { "200": 49874 }. */
  statuses: Record<string, number>;
  /** Wall time from the first send to the last answer, in ms. */
  elapsedMs: number;
  /** Completed requests per second over `elapsedMs`. */
  rps: number;
  latencyMs: Percentiles;
}

/** Nearest-rank percentiles of latencies (ms); sorts `samples` in place. */
export function percentiles(samples: Float64Array): Percentiles {
  if (samples.length === 0) return { p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN };
  samples.sort();
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.max(0, Math.ceil(q * samples.length) - 1))]!;
  let sum = 0;
  for (const v of samples) sum += v;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: samples[samples.length - 1]!, mean: sum / samples.length };
}

/** A growable array of doubles, so a million samples cost 8 MB and no boxing. */
class Samples {
  #data = new Float64Array(1 << 16);
  #length = 0;
  push(v: number): void {
    if (this.#length === this.#data.length) {
      const bigger = new Float64Array(this.#data.length * 2);
      bigger.set(this.#data);
      this.#data = bigger;
    }
    this.#data[this.#length++] = v;
  }
  view(): Float64Array {
    return this.#data.subarray(0, this.#length);
  }
}

class Tally {
  readonly latencies = new Samples();
  readonly statuses: Record<string, number> = {};
  completed = 0;
  unexpected = 0;
  errors = 0;
  constructor(readonly expectStatus: number) {}
  ok(status: number, latencyMs: number): void {
    this.completed++;
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
    if (status !== this.expectStatus) this.unexpected++;
    this.latencies.push(latencyMs);
  }
  error(): void {
    this.errors++;
  }
}

/** One keep-alive pool per origin. */
class Pools {
  readonly #pools: Pool[];
  constructor(options: LoadOptions) {
    const origins = typeof options.origin === 'string' ? [options.origin] : [...options.origin];
    if (origins.length === 0 || options.connections < origins.length) throw new TypeError('load: need an origin, and a connection per origin');
    this.#pools = origins.map((origin, k) => {
      const url = new URL(origin);
      if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost' && url.hostname !== '[::1]') {
        throw new TypeError('load: only loopback origins may be targeted');
      }
      // An even split: the first `connections mod n` pools get one more.
      const connections = Math.floor(options.connections / origins.length) + (k < options.connections % origins.length ? 1 : 0);
      return new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 15_000, bodyTimeout: 15_000 });
    });
  }
  at(k: number): Pool {
    return this.#pools[k % this.#pools.length]!;
  }
  async close(): Promise<void> {
    await Promise.all(this.#pools.map((p) => p.close()));
  }
  async destroy(): Promise<void> {
    await Promise.all(this.#pools.map((p) => p.destroy()));
  }
}

async function send(pool: Pool, spec: RequestSpec): Promise<number> {
  const res = await pool.request({
    method: spec.method ?? 'GET',
    path: spec.path,
    headers: spec.headers ?? {},
    body: spec.body ?? null,
  });
  // The body must be read for the connection to be reused; its content is not looked at.
  await res.body.dump({ limit: 1 << 24 });
  return res.statusCode;
}

function result(mode: LoadResult['mode'], options: LoadOptions, tally: Tally, elapsedMs: number, offeredRate: number | null): LoadResult {
  return {
    mode,
    connections: options.connections,
    offeredRate,
    completed: tally.completed,
    unexpectedStatus: tally.unexpected,
    errors: tally.errors,
    statuses: tally.statuses,
    elapsedMs,
    rps: elapsedMs > 0 ? (tally.completed / elapsedMs) * 1000 : 0,
    latencyMs: percentiles(tally.latencies.view()),
  };
}

/** Closed loop: `connections` workers, each with one request in flight, until the duration or count runs out. */
export async function closedLoop(options: LoadOptions): Promise<LoadResult> {
  const pools = new Pools(options);
  try {
    if (options.warmupMs) await runClosed(pools, options, new Tally(options.expectStatus ?? 200), options.warmupMs);
    const tally = new Tally(options.expectStatus ?? 200);
    options.onStart?.();
    const start = performance.now();
    await runClosed(pools, options, tally, options.durationMs);
    return result('closed', options, tally, performance.now() - start, null);
  } finally {
    await pools.close();
  }
}

async function runClosed(pools: Pools, options: LoadOptions, tally: Tally, durationMs: number): Promise<void> {
  const max = options.maxRequests ?? Number.POSITIVE_INFINITY;
  let next = 0;
  const deadline = performance.now() + durationMs;
  const worker = async (w: number) => {
    const pool = pools.at(w);
    while (next < max && performance.now() < deadline) {
      const spec = options.request(next++);
      const sent = performance.now();
      try {
        tally.ok(await send(pool, spec), performance.now() - sent);
      } catch {
        tally.error();
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, (_, w) => worker(w)));
}

/**
 * Open loop at `rate` requests per second: request i is due at start + i/rate and its latency runs from that
 * intended time, whether or not the generator or a free connection was ready then. Requests that cannot get a
 * connection wait in the pool's queue, and that wait counts.
 */
export async function openLoop(options: LoadOptions & { rate: number; drainTimeoutMs?: number }): Promise<LoadResult> {
  if (!(options.rate > 0)) throw new TypeError('openLoop: rate must be positive');
  const pools = new Pools(options);
  try {
    if (options.warmupMs) await runOpen(pools, options, new Tally(options.expectStatus ?? 200), options.warmupMs);
    const tally = new Tally(options.expectStatus ?? 200);
    options.onStart?.();
    const start = performance.now();
    await runOpen(pools, options, tally, options.durationMs);
    return result('open', options, tally, performance.now() - start, options.rate);
  } finally {
    await pools.destroy();
  }
}

async function runOpen(pools: Pools, options: LoadOptions & { rate: number; drainTimeoutMs?: number }, tally: Tally, durationMs: number): Promise<void> {
  const interval = 1000 / options.rate;
  const total = Math.min(options.maxRequests ?? Number.POSITIVE_INFINITY, Math.floor((durationMs / 1000) * options.rate));
  const inflight = new Set<Promise<void>>();
  const start = performance.now();
  let i = 0;
  while (i < total) {
    const now = performance.now();
    // Fire everything that is due; a late timer tick sends a burst, and those requests are charged from their due times.
    while (i < total && start + i * interval <= now) {
      const intended = start + i * interval;
      const spec = options.request(i);
      const p: Promise<void> = send(pools.at(i++), spec).then(
        (status) => tally.ok(status, performance.now() - intended),
        () => tally.error(),
      );
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
    await sleep(Math.max(0, Math.min(1, start + i * interval - performance.now())));
  }
  const drained = Promise.all(inflight).then(() => false);
  const timedOut = await Promise.race([drained, sleep(options.drainTimeoutMs ?? 15_000).then(() => true)]);
  // Requests still unanswered after the drain timeout count as errors; the pool is destroyed after the result is taken.
  if (timedOut) for (let k = 0; k < inflight.size; k++) tally.error();
}
