import { randomBytes } from 'node:crypto';
import type { Transaction } from 'better-sqlite3';
import { DoelpoortError, isDoelpoortError } from '../errors.js';
import type { AuditEntry } from './entry.js';
import { auditFacts } from './facts.js';
import { failureOf, type AuditLog } from './log.js';
import { DAY_MS } from '../clock.js';

/** Lines blanked per transaction: each is short, so requests appending meanwhile never wait long for the lock. */
const CHUNK = 10_000;

/** What a prune did: how many lines lost their content, and the `audit.pruned` lines that record it. */
export interface PruneResult {
  pruned: number;
  /** The seqs of the prune lines written, in order (one per chunk of lines; one with count 0 when none were old). */
  seqs: number[];
}

/** What a prune is given: the moment before which lines lose their content, now, the retention period, who asks. */
export interface PruneOptions {
  before: number;
  now: number;
  retentionDays: number;
  origin?: string;
  chunk?: number;
}

/** Lines blanked per transaction unless a prune is told otherwise. */
export const PRUNE_CHUNK = CHUNK;

/** REQUEST_INVALID when `before` lies inside the retention period (newer than now − retentionDays). */
export function refuseInsideRetention(options: PruneOptions): void {
  if (options.before > options.now - options.retentionDays * DAY_MS) {
    throw new DoelpoortError('REQUEST_INVALID', `prune: the date lies inside the retention period of ${options.retentionDays} days`);
  }
}

/** The `audit.pruned` line of one chunk (fromSeq..toSeq), or of a prune that found no line old enough (count 0). */
export function pruneEntry(options: PruneOptions, count: number, range: { fromSeq: number; toSeq: number } | undefined): AuditEntry {
  return {
    action: 'audit.pruned',
    ...auditFacts({ trace: { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') }, origin: options.origin ?? 'cli' }),
    outcome: 'permit',
    reason: 'RETENTION_EXPIRED',
    processingActivityId: 'WZR-VA-091',
    before: options.before,
    retentionDays: options.retentionDays,
    count,
    ...range,
  };
}

/**
 * Retention pruning: blanks the content (`entry`) and the query columns of every line older than `before` (epoch
 * ms), keeping seq, time, action, outcome and both hashes, so the chain still verifies (verify uses the stored leaf
 * hash of a pruned line). Prune lines themselves are kept whole.
 *
 * The lines are blanked in chunks, each in its own transaction that first appends an `audit.pruned` line naming the
 * chunk (fromSeq..toSeq, `before`, the retention period applied) and then blanks exactly those lines: the prune
 * trigger (migration 0002) refuses any blanking that no earlier prune line covers, and verify fails on one.
 *
 * A `before` inside the retention period (newer than now − retentionDays) is refused with REQUEST_INVALID: keeping
 * the log for the retention period is an obligation, and the trigger would refuse the blanking anyway.
 */
export function pruneAudit(audit: AuditLog, options: PruneOptions): PruneResult {
  refuseInsideRetention(options);
  const { before } = options;
  const s = audit.db.$client;
  const candidates = `seq > @after AND at < @before AND entry IS NOT NULL AND action <> 'audit.pruned'`;
  const chunk = s.prepare<{ after: number; before: number; limit: number }, { fromSeq: number | null; toSeq: number | null; n: number }>(
    `SELECT min(seq) AS fromSeq, max(seq) AS toSeq, count(*) AS n FROM (SELECT seq FROM audit_log WHERE ${candidates} ORDER BY seq LIMIT @limit)`,
  );
  const blank = s.prepare<{ after: number; before: number; toSeq: number }>(
    `UPDATE audit_log SET entry = NULL, actor_sub = NULL, actor_org = NULL, client_ref = NULL, purpose = NULL, decision_id = NULL,
       actor_iss = NULL, actor_role = NULL, bsn_lookup = NULL, noodtoegang = NULL, time_class = NULL
     WHERE ${candidates} AND seq <= @toSeq`,
  );
  const dropCounts = s.prepare<{ before: number }>('DELETE FROM audit_period_counts WHERE "from" < @before');
  const line = (count: number, range: { fromSeq: number; toSeq: number } | undefined) => audit.appendInTransaction(pruneEntry(options, count, range)).seq;

  // Each chunk is its own transaction, with its prune line appended explicitly in it (never a transaction it joins).
  const chunkTx = s.transaction((work: () => number) => work());
  const result: PruneResult = { pruned: 0, seqs: [] };
  let after = 0;
  for (;;) {
    if (result.seqs.length > 0 && chunk.get({ after, before, limit: 1 })!.n === 0) return result;
    const blanked = runChunk(audit, chunkTx, () => {
      const { fromSeq, toSeq, n } = chunk.get({ after, before, limit: options.chunk ?? CHUNK })!;
      if (n === 0 || fromSeq === null || toSeq === null) {
        result.seqs.push(line(0, undefined));
        return 0;
      }
      result.seqs.push(line(n, { fromSeq, toSeq }));
      const changed = blank.run({ after, before, toSeq }).changes;
      // Counts kept of closed periods (src/audit/oversight-query.ts) that held a line blanked now no longer hold.
      dropCounts.run({ before });
      if (changed !== n) throw new DoelpoortError('AUDIT_WRITE_FAILED', 'prune: the lines changed while they were blanked');
      after = toSeq;
      return n;
    });
    result.pruned += blanked;
    if (blanked === 0) return result;
  }
}

/** One chunk in an immediate transaction; BEGIN or COMMIT failing is AUDIT_WRITE_FAILED, told to the operator log. */
function runChunk(audit: AuditLog, chunkTx: Transaction<(work: () => number) => number>, work: () => number): number {
  try {
    const n = chunkTx.immediate(work);
    audit.afterCommit();
    return n;
  } catch (error) {
    if (isDoelpoortError(error) || error instanceof TypeError) throw error;
    audit.reportWriteFailure(failureOf('commit', error));
    throw new DoelpoortError('AUDIT_WRITE_FAILED', 'prune: the transaction could not be committed', [], { cause: error });
  }
}
