import { randomBytes } from 'node:crypto';
import { DoelpoortError } from '../errors.js';
import type { AuditLog } from './log.js';

const DAY_MS = 86_400_000;

/** What a prune did: how many lines lost their content, and the audit line that records the pruning. */
export interface PruneResult {
  pruned: number;
  seq: number;
}

/**
 * Retention pruning: blanks the content (`entry`) and the query columns of every line older than `before` (epoch
 * ms), keeping seq, time, action, outcome and both hashes, so the chain still verifies (verify uses the stored leaf
 * hash of a pruned line). The pruning itself is appended as an `audit.pruned` line in the same transaction.
 *
 * A `before` inside the retention period (newer than now − retentionDays) is refused with REQUEST_INVALID unless
 * `force` is set: keeping the log for the retention period is an obligation, and `force` exists for an explicit
 * deletion order, not for routine use.
 */
export function pruneAudit(audit: AuditLog, options: { before: number; now: number; retentionDays: number; force?: boolean; origin?: string }): PruneResult {
  const cutoff = options.now - options.retentionDays * DAY_MS;
  if (options.before > cutoff && !options.force) {
    throw new DoelpoortError('REQUEST_INVALID', `prune: the date lies inside the retention period of ${options.retentionDays} days`);
  }
  const blank = audit.db.$client.prepare(
    `UPDATE audit_log SET entry = NULL, actor_sub = NULL, actor_org = NULL, client_ref = NULL, purpose = NULL, decision_id = NULL
     WHERE at < ? AND entry IS NOT NULL`,
  );
  return audit.run(() => {
    const pruned = blank.run(options.before).changes;
    const line = audit.append({
      action: 'audit.pruned',
      traceId: randomBytes(16).toString('hex'),
      spanId: randomBytes(8).toString('hex'),
      origin: options.origin ?? 'cli',
      outcome: 'permit',
      reason: options.before > cutoff ? 'PRUNED_FORCED' : 'RETENTION_EXPIRED',
      processingActivityId: 'WZR-VA-091',
      before: options.before,
      count: pruned,
    });
    return { pruned, seq: line.seq };
  });
}
