import { randomBytes } from 'node:crypto';
import type { Queryable } from './postgres.js';

/** The database's own clock in epoch ms: one clock for every instance, whatever theirs say. */
const NOW_MS = '(extract(epoch FROM clock_timestamp()) * 1000)::bigint';

/**
 * A lease on work that one instance at a time does (PostgreSQL, table `leases`): the instance that holds it does the
 * work, renews it every time it does, and another takes over once it has not been renewed for `ttlMs` (an instance
 * that died, or lost its connection). Times by the database's clock. A lease decides who does timed work; it is no
 * lock on data: whatever the work writes keeps its own guard (a checkpoint, say, is written under the audit append
 * lock, and a second one for the same size is refused by its primary key).
 */
export class PgLease {
  constructor(
    readonly db: Queryable,
    readonly name: string,
    /** This instance, unique among those on the database (`instanceId()`). */
    readonly holder: string,
    readonly ttlMs: number,
  ) {
    if (!Number.isInteger(ttlMs) || ttlMs < 1) throw new TypeError('PgLease: ttlMs must be a positive integer');
  }

  /** Takes the lease when it is free or expired, or renews it when this holder has it: whether this holder has it now. */
  async acquire(): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, ${NOW_MS} + $3)
       ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
         WHERE leases.holder = EXCLUDED.holder OR leases.expires_at <= ${NOW_MS}`,
      [this.name, this.holder, this.ttlMs],
    );
    return rowCount === 1;
  }

  /**
   * Whether this holder has the lease, unexpired, on `q` (a transaction's client: then the row is locked against a
   * takeover until that transaction ends, so work done in it is done by the holder).
   */
  async holds(q: Queryable = this.db): Promise<boolean> {
    const { rowCount } = await q.query(`SELECT 1 FROM leases WHERE name = $1 AND holder = $2 AND expires_at > ${NOW_MS} FOR SHARE`, [this.name, this.holder]);
    return rowCount === 1;
  }

  /** Gives the lease up (a server that is stopping), so another instance need not wait for it to expire. */
  async release(): Promise<void> {
    await this.db.query('DELETE FROM leases WHERE name = $1 AND holder = $2', [this.name, this.holder]);
  }
}

/** A holder name for this process: its pid and a random part, so that a restarted instance is another holder. */
export function instanceId(): string {
  return `${process.pid}-${randomBytes(6).toString('hex')}`;
}
