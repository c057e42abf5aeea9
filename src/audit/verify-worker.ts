/**
 * A worker thread of verifyAuditParallel: opens the database read-only and verifies the seq ranges it is sent.
 * workerData: { file, expectations }; each message { lo, hi } is answered with verifyRange's RangeResult.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { verifyRange, type Expectations } from './verify.js';

const { file, expectations } = workerData as { file: string; expectations: Expectations };
const db = new Database(file, { readonly: true, fileMustExist: true });
parentPort!.on('message', ({ lo, hi }: { lo: number; hi: number }) => {
  parentPort!.postMessage(verifyRange(db, expectations, lo, hi));
});
