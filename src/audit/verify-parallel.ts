import os from 'node:os';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { combine, loadExpectations, type VerifyOptions, type VerifyResult } from './verify.js';
import { failRange, takeRange, verifyRange, type Expectations, type RangeResult } from './verify-range.js';

/** Below this many lines one thread is faster than starting workers. */
const PARALLEL_FROM = 200_000;

/**
 * The worker's entry: built (scripts/build.mjs) when this module is, else the source through tsx's loader, as the CLI
 * runs it.
 */
const bootstrap = import.meta.url.endsWith('.js')
  ? `import(${JSON.stringify(new URL('./verify-worker.js', import.meta.url).href)});`
  : `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  .then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./verify-worker.ts', import.meta.url).href)}); });`;

/**
 * verifyAudit over the database file `file`, with the chain split into seq ranges verified by `workers` threads
 * (default: one per core) at once, when it has at least `parallelFrom` lines (200,000): each link depends only on the
 * stored hash before it, so ranges verify independently (verifyRange), and the first bad line in seq order is reported
 * as verifyAudit would. The calling thread is one of the threads (it verifies a range between turns of its event loop,
 * so it blocks for one range at a time: for the CLI), the others are workers, which load only src/audit/verify-range.ts.
 * Checkpoint signatures are checked once, before any line is read; lines appended meanwhile are left for the next
 * verification.
 */
export async function verifyAuditParallel(file: string, options: VerifyOptions & { workers?: number; parallelFrom?: number } = {}): Promise<VerifyResult> {
  const threads = Math.max(1, Math.min(options.workers ?? os.availableParallelism(), 8));
  const s = new Database(file, { readonly: true, fileMustExist: true });
  try {
    // Expectations first: every checkpoint they hold is then at or below the head read next.
    const expectations = loadExpectations(s, options);
    const end = s.prepare<[], number | null>('SELECT max(seq) FROM audit_log').pluck().get() ?? 0;
    if (threads === 1 || end < (options.parallelFrom ?? PARALLEL_FROM)) return combine([verifyRange(s, expectations, 1, end === 0 ? 0 : end)], expectations);
    return combine(await inRanges(s, file, expectations, end, threads), expectations);
  } finally {
    s.close();
  }
}

/**
 * The results of ranges 1..end verified by this thread (on `s`) and `threads − 1` workers, in seq order, up to the
 * first failure. Every thread takes the next range from a shared counter (Atomics), so a worker never waits for this
 * thread's event loop to hand it work; results come back as messages.
 */
async function inRanges(s: Database.Database, file: string, expectations: Expectations, end: number, threads: number): Promise<RangeResult[]> {
  // Several ranges per thread, so a thread slowed by other work on the machine does not hold up the rest.
  const size = Math.ceil(end / (threads * 8));
  const ranges: Array<[number, number]> = [];
  for (let lo = 1; lo <= end; lo += size) ranges.push([lo, Math.min(end, lo + size - 1)]);
  const results: RangeResult[] = new Array(ranges.length);
  // [next range to take, index of the first failed range (ranges.length while none failed)]
  const control = new Int32Array(new SharedArrayBuffer(8));
  control[1] = ranges.length;
  const pool = Array.from({ length: threads - 1 }, () => new Worker(bootstrap, { eval: true, workerData: { file, expectations, ranges, control } }));
  try {
    const workers = pool.map(
      (worker) =>
        new Promise<void>((resolve, reject) => {
          worker.on('message', (message: { i: number; result: RangeResult } | 'done') => {
            if (message === 'done') resolve();
            else results[message.i] = message.result;
          });
          worker.once('error', reject);
          worker.once('exit', () => reject(new Error('verify worker exited early')));
        }),
    );
    for (;;) {
      const i = takeRange(control, ranges.length);
      if (i === undefined) break;
      results[i] = verifyRange(s, expectations, ranges[i]![0], ranges[i]![1]);
      if (!results[i]!.ok) failRange(control, i);
    }
    await Promise.all(workers);
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return results.filter((r) => r !== undefined);
}
