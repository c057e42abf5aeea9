import os from 'node:os';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { combine, loadExpectations, verifyRange, type Expectations, type RangeResult, type VerifyOptions, type VerifyResult } from './verify.js';

/** Below this many lines one thread is faster than starting workers. */
const PARALLEL_FROM = 200_000;

/** The worker's entry, loaded through tsx's loader as the CLI is (the sources are TypeScript). */
const bootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  .then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./verify-worker.ts', import.meta.url).href)}); });`;

/**
 * verifyAudit over the database file `file`, with the chain split into seq ranges verified by `workers` threads
 * (default: one per core) at once, when it has at least `parallelFrom` lines (200,000): each link depends only on the stored hash before it, so ranges verify
 * independently (verifyRange), and the first bad line in seq order is reported as verifyAudit would. Checkpoint
 * signatures are checked once, before any line is read; lines appended meanwhile are left for the next verification.
 */
export async function verifyAuditParallel(file: string, options: VerifyOptions & { workers?: number; parallelFrom?: number } = {}): Promise<VerifyResult> {
  const threads = Math.max(1, Math.min(options.workers ?? os.availableParallelism(), 8));
  const s = new Database(file, { readonly: true, fileMustExist: true });
  let expectations: Expectations;
  let end: number;
  try {
    // Expectations first: every checkpoint they hold is then at or below the head read next.
    expectations = loadExpectations(s, options);
    end = s.prepare<[], number | null>('SELECT max(seq) FROM audit_log').pluck().get() ?? 0;
    if (threads === 1 || end < (options.parallelFrom ?? PARALLEL_FROM)) return combine([verifyRange(s, expectations, 1, end === 0 ? 0 : end)], expectations);
  } finally {
    s.close();
  }
  // Several ranges per thread, so a thread slowed by other work on the machine does not hold up the rest.
  const size = Math.ceil(end / (threads * 4));
  const ranges: Array<[number, number]> = [];
  for (let lo = 1; lo <= end; lo += size) ranges.push([lo, Math.min(end, lo + size - 1)]);
  const results: RangeResult[] = new Array(ranges.length);
  let next = 0;
  let failedAt = Infinity;
  const pool = Array.from({ length: threads }, () => new Worker(bootstrap, { eval: true, workerData: { file, expectations } }));
  try {
    await Promise.all(
      pool.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const send = () => {
              // A failure ends the work on ranges after it; those before it still decide which line is first bad.
              if (next >= ranges.length || next > failedAt) return resolve();
              const i = next++;
              worker.removeAllListeners('message');
              worker.once('message', (result: RangeResult) => {
                results[i] = result;
                if (!result.ok) failedAt = Math.min(failedAt, i);
                send();
              });
              worker.postMessage({ lo: ranges[i]![0], hi: ranges[i]![1] });
            };
            worker.once('error', reject);
            send();
          }),
      ),
    );
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return combine(
    results.filter((r) => r !== undefined),
    expectations,
  );
}
