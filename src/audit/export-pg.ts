import { type Queryable, rows } from '../pg-query.js';
import { LOGBOEK_RUN, type LogboekRecord, type LogboekSources, logboekRun } from './export.js';
import { seqBoundsPg } from './query-pg.js';
import type { LogboekRange } from './reader.js';

/**
 * The Logboek export on PostgreSQL: the records src/audit/export.ts builds (`logboekRun`, one pure function per line
 * for both databases), of the lines with `from <= at <= to`, oldest first, pruned lines left out. The range's first
 * and last positions are read once (`seqBoundsPg`: the `audit_at` range); the lines between them are then read in pages along the
 * primary key, so no statement sorts the range, and lines appended meanwhile are not part of the export.
 */
export async function exportLogboekPg(q: Queryable, sources: LogboekSources, range: LogboekRange = {}): Promise<LogboekRecord[]> {
  const from = range.from ?? Number.MIN_SAFE_INTEGER;
  const to = range.to ?? Number.MAX_SAFE_INTEGER;
  const records: LogboekRecord[] = [];
  const bounds = await seqBoundsPg(q, from, to);
  if (bounds === undefined) return records;
  const hi = bounds.hi;
  const subjects = new Map<string, string | undefined>();
  for (let after = bounds.lo - 1; after < hi; ) {
    const page = await rows<{ seq: number; at: number; entry: string }>(
      q,
      `SELECT seq, at, entry FROM audit_log WHERE seq > $1 AND seq <= $2 AND at >= $3 AND at <= $4 AND entry IS NOT NULL ORDER BY seq LIMIT $5`,
      [after, hi, from, to, LOGBOEK_RUN],
    );
    if (page.length === 0) break;
    records.push(
      ...(await logboekRun(
        page.map((r) => [Number(r.at), r.entry] as const),
        sources,
        subjects,
      )),
    );
    after = Number(page[page.length - 1]!.seq);
  }
  return records;
}
