import { describe, expect, it } from 'vitest';
import { monthBounds } from '../src/audit/office-hours.js';
import { countLines, countPersons, type LineCount } from '../src/audit/oversight-query.js';
import { pruneAudit } from '../src/audit/prune.js';
import { appendOne, dropTriggers, readEntry, setupAudit } from './audit-support.js';

const OCTOBER = monthBounds('2026-10');
const SEPTEMBER = monthBounds('2026-09');
const NOVEMBER = monthBounds('2026-11');

/** A log with lines of two organisations in September and October, and one in November (the newest line). */
function setup() {
  const ctx = setupAudit({ checkpointKey: null });
  // The log's clock is the context's; move it by the difference to place each line.
  const at = (iso: string) => ctx.clock.advance(Date.parse(iso) - ctx.clock.now());
  let n = 0;
  const line = (iso: string, org: string) => {
    at(iso);
    appendOne(ctx.audit, readEntry(++n, { actor: { iss: 'https://login.gemeente.example', sub: `coach-${org}`, role: 'participatiecoach', org } }));
  };
  for (const day of ['2026-09-10', '2026-09-11']) line(`${day}T10:00:00Z`, 'GM1960');
  for (const day of ['2026-10-05', '2026-10-06', '2026-10-07']) line(`${day}T10:00:00Z`, 'GM1960');
  for (const day of ['2026-10-05', '2026-10-08']) line(`${day}T21:00:00Z`, 'GM0281');
  line('2026-11-02T10:00:00Z', 'GM1960');
  return { ...ctx, line, at };
}

const total = (counts: LineCount[]) => counts.reduce((sum, c) => sum + c.lines, 0);
const orgs = (counts: LineCount[]) => [...new Set(counts.map((c) => c.org))].sort();
const kept = (ctx: ReturnType<typeof setup>) =>
  ctx.db.$client.prepare('SELECT scope, "from", "to" FROM audit_period_counts ORDER BY scope, "from"').all() as Array<{
    scope: string;
    from: number;
    to: number;
  }>;

describe('the counts of closed periods (audit_period_counts)', () => {
  it('keeps the counts of a period that ended before the newest line, and reads them back the same', async () => {
    const ctx = setup();
    const first = await countLines(ctx.db, [SEPTEMBER, OCTOBER, NOVEMBER]);
    expect(first.map(total)).toEqual([2, 5, 1]);
    // November is still open: only September and October are kept.
    expect(kept(ctx)).toEqual([
      { scope: '*', ...SEPTEMBER },
      { scope: '*', ...OCTOBER },
    ]);
    // Read back from the table: the same figures; a line appended now in November counts, the kept months do not move.
    ctx.line('2026-11-03T10:00:00Z', 'GM0281');
    const second = await countLines(ctx.db, [SEPTEMBER, OCTOBER, NOVEMBER]);
    expect(second.slice(0, 2)).toEqual(first.slice(0, 2));
    expect(second.map(total)).toEqual([2, 5, 2]);
    // What is kept is what the index says.
    ctx.db.$client.exec('DELETE FROM audit_period_counts');
    expect(await countLines(ctx.db, [SEPTEMBER, OCTOBER, NOVEMBER])).toEqual(second);
  });

  it('never gives one organisation’s kept counts to another scope: own rows, or every organisation’s filtered', async () => {
    const ctx = setup();
    // A municipal officer first: the row of GM1960 holds GM1960 alone.
    const scoped = await countLines(ctx.db, [OCTOBER], { org: 'GM1960' });
    expect(orgs(scoped[0]!)).toEqual(['GM1960']);
    expect(kept(ctx)).toEqual([{ scope: 'GM1960', ...OCTOBER }]);
    // Every organisation (a Werkzaak officer) does not take GM1960's row for all.
    const all = await countLines(ctx.db, [OCTOBER]);
    expect(orgs(all[0]!)).toEqual(['GM0281', 'GM1960']);
    expect(total(all[0]!)).toBe(5);
    // Another organisation reads every organisation's row filtered to itself, never GM1960's row.
    const other = await countLines(ctx.db, [OCTOBER], { org: 'GM0281' });
    expect(orgs(other[0]!)).toEqual(['GM0281']);
    expect(total(other[0]!)).toBe(2);
    // An organisation without lines gets nothing.
    expect(await countLines(ctx.db, [OCTOBER], { org: 'GM0000' })).toEqual([[]]);
  });

  it('drops kept counts when a line lands in a closed period (a clock set back), and counts it then', async () => {
    const ctx = setup();
    expect((await countLines(ctx.db, [OCTOBER])).map(total)).toEqual([5]);
    expect(kept(ctx)).toHaveLength(1);
    ctx.line('2026-10-20T10:00:00Z', 'GM1960');
    expect(kept(ctx)).toEqual([]);
    expect((await countLines(ctx.db, [OCTOBER])).map(total)).toEqual([6]);
    // The newest line is October's now, so October is open again until a later line.
    expect(kept(ctx)).toEqual([]);
    ctx.line('2026-11-04T10:00:00Z', 'GM1960');
    expect((await countLines(ctx.db, [OCTOBER])).map(total)).toEqual([6]);
    expect(kept(ctx)).toEqual([{ scope: '*', ...OCTOBER }]);
  });

  it('keeps nothing when a line appended while counting lies in the period', async () => {
    const ctx = setup();
    // The newest line is November's, so October counts as closed; a line of October appended after the counting
    // began and before the counts are kept (another request, between two slices) makes them stale.
    const counting = countLines(ctx.db, [OCTOBER]);
    ctx.line('2026-10-21T10:00:00Z', 'GM1960');
    await counting;
    expect(kept(ctx)).toEqual([]);
  });

  it('drops the kept counts of the periods a prune blanks lines in', async () => {
    const ctx = setup();
    await countLines(ctx.db, [SEPTEMBER, OCTOBER]);
    expect(kept(ctx)).toHaveLength(2);
    ctx.at('2032-01-01T00:00:00Z');
    pruneAudit(ctx.audit, { before: Date.parse('2026-10-01T00:00:00Z'), now: ctx.clock.now(), retentionDays: 365 });
    expect(kept(ctx)).toEqual([]);
    const after = await countLines(ctx.db, [SEPTEMBER, OCTOBER]);
    // September's lines are blanked (no organisation left to count), October's are not.
    expect(after.map(total)).toEqual([0, 5]);
    dropTriggers(ctx.db);
    expect(ctx.audit.verify()).toMatchObject({ ok: true });
  });
});

describe('the per-person figures of closed periods (kept beside the counts)', () => {
  const accesses = (persons: Array<{ org: string; accesses: number }>) => persons.map((p) => [p.org, p.accesses]);

  it('keeps a closed period’s figures and gives them back the same; an open period is counted each time', async () => {
    const ctx = setup();
    const first = await countPersons(ctx.db, OCTOBER);
    expect(accesses(first).sort()).toEqual([
      ['GM0281', 2],
      ['GM1960', 3],
    ]);
    expect(kept(ctx)).toEqual([{ scope: 'persons:*', ...OCTOBER }]);
    expect(await countPersons(ctx.db, OCTOBER)).toEqual(first);
    // What is kept is what the index says.
    ctx.db.$client.exec('DELETE FROM audit_period_counts');
    expect(await countPersons(ctx.db, OCTOBER)).toEqual(first);
    // November holds the newest line: open, never kept, and a new line counts at once.
    await countPersons(ctx.db, NOVEMBER);
    ctx.line('2026-11-03T10:00:00Z', 'GM1960');
    expect(accesses(await countPersons(ctx.db, NOVEMBER))).toEqual([['GM1960', 2]]);
    expect(kept(ctx).map((k) => k.scope)).toEqual(['persons:*']);
  });

  it('never gives one organisation’s kept figures to another, nor mixes them with the line counts', async () => {
    const ctx = setup();
    expect(accesses(await countPersons(ctx.db, OCTOBER, { org: 'GM1960' }))).toEqual([['GM1960', 3]]);
    expect(kept(ctx)).toEqual([{ scope: 'persons:GM1960', ...OCTOBER }]);
    // Another organisation is counted (or read from every organisation's row, filtered), never given GM1960's row.
    expect(accesses(await countPersons(ctx.db, OCTOBER, { org: 'GM0281' }))).toEqual([['GM0281', 2]]);
    expect(accesses(await countPersons(ctx.db, OCTOBER)).sort()).toEqual([
      ['GM0281', 2],
      ['GM1960', 3],
    ]);
    expect(accesses(await countPersons(ctx.db, OCTOBER, { org: 'GM0000' }))).toEqual([]);
    // The line counts of the same period have rows of their own.
    expect(total((await countLines(ctx.db, [OCTOBER]))[0]!)).toBe(5);
    expect(
      kept(ctx)
        .map((k) => k.scope)
        .sort(),
    ).toEqual(['*', 'persons:*', 'persons:GM0281', 'persons:GM1960']);
  });

  it('drops the kept figures when a line lands in the closed period (a clock set back)', async () => {
    const ctx = setup();
    await countPersons(ctx.db, OCTOBER);
    ctx.line('2026-10-20T10:00:00Z', 'GM1960');
    expect(kept(ctx)).toEqual([]);
    ctx.line('2026-11-04T10:00:00Z', 'GM1960');
    expect(accesses(await countPersons(ctx.db, OCTOBER)).sort()).toEqual([
      ['GM0281', 2],
      ['GM1960', 4],
    ]);
  });
});
