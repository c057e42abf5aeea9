import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Db } from './db.js';

/** The worker: plain CommonJS (no TypeScript), its own connection, a PASSIVE checkpoint every `intervalMs`. */
const WORKER = `
const { workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('synchronous = FULL');
setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
}, workerData.intervalMs);
`;

/**
 * Moves WAL checkpoints off the serving thread. SQLite's automatic checkpoint runs inside the COMMIT that crosses
 * 1,000 WAL pages, copying and fsyncing the database file while the event loop waits (the p99 outliers of the data
 * routes). This turns it off on `db` and checkpoints from a worker thread's own connection instead; PASSIVE never
 * blocks the writer or readers, and every commit is still fsynced to the WAL first, so durability is unchanged.
 * Returns a stop function, which restores automatic checkpoints. In-memory databases have no WAL: a no-op.
 */
export function startWalCheckpointer(db: Db, intervalMs = 1000): () => Promise<void> {
  const s = db.$client;
  if (s.memory || s.name === '') return async () => {};
  const worker = new Worker(WORKER, { eval: true, workerData: { file: s.name, driver: createRequire(import.meta.url).resolve('better-sqlite3'), intervalMs } });
  worker.unref();
  s.pragma('wal_autocheckpoint = 0');
  // Should the worker die, SQLite's own checkpoints resume rather than the WAL growing without bound.
  worker.once('exit', () => {
    if (s.open) s.pragma('wal_autocheckpoint = 1000');
  });
  worker.once('error', () => {});
  return async () => {
    await worker.terminate();
  };
}
