/**
 * A worker thread of verifyAuditParallel: opens the database read-only and verifies the seq ranges it takes from the
 * shared counter (src/audit/verify-parallel.ts), posting { i, result } for each, then 'done'.
 * workerData: { file, expectations, ranges, control }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { failRange, takeRange, verifyRange, type Expectations } from './verify-range.js';

const { file, expectations, ranges, control } = workerData as {
  file: string;
  expectations: Expectations;
  ranges: Array<[number, number]>;
  control: Int32Array;
};
const db = new Database(file, { readonly: true, fileMustExist: true });
try {
  for (let i = takeRange(control, ranges.length); i !== undefined; i = takeRange(control, ranges.length)) {
    const result = verifyRange(db, expectations, ranges[i]![0], ranges[i]![1]);
    if (!result.ok) failRange(control, i);
    parentPort!.postMessage({ i, result });
  }
} finally {
  db.close();
}
parentPort!.postMessage('done');
// Stay until terminated, so 'done' and every result arrive before the thread's exit does.
parentPort!.on('message', () => {});
