import { describe, expect, it } from 'vitest';
import { pruneAudit } from '../src/audit/prune.js';
import { auditQuerySchema, listAudit } from '../src/audit/query.js';
import { parseInput } from '../src/http/validate.js';
import { TODAY } from './support.js';
import { appendMany, readEntry, setupAudit, catchError } from './audit-support.js';

/** A query as the route parses it: REQUEST_INVALID naming the parameter, never its value. */
const parseQuery = (q: Record<string, unknown>) => parseInput(auditQuerySchema, q, 'query');

const DAY = 86_400_000;

function setup(lines = 60) {
  const ctx = setupAudit({ checkpointEvery: 25 });
  appendMany(ctx.audit, ctx.clock, lines);
  return ctx;
}

describe(listAudit.name, () => {
  it('lists newest first', () => {
    const { audit } = setup();
    const page = audit.list(parseQuery({ limit: 5 }));
    expect(page.items.map((l) => l.seq)).toEqual([60, 59, 58, 57, 56]);
    expect(page.items[0]!.entry).toEqual(readEntry(60));
  });

  it('filters by clientRef, actor, purpose and outcome', () => {
    const { audit } = setup();
    const all = (q: Record<string, unknown>) => audit.list(parseQuery({ ...q, limit: 1000 })).items;
    const byClient = all({ clientRef: 'WZR-100002' });
    expect(byClient.length).toBe(12);
    expect(byClient.every((l) => l.entry?.clientRef === 'WZR-100002')).toBe(true);
    const coach1 = { actor: 'coach-1', actorIss: 'https://login.gemeente.example' };
    expect(all(coach1).every((l) => l.entry?.actor?.sub === 'coach-1')).toBe(true);
    expect(all(coach1).length).toBe(15);
    expect(all({ ...coach1, actorIss: 'https://login.other.example' }).length).toBe(0);
    expect(() => all({ actor: 'coach-1' })).toThrow(expect.objectContaining({ code: 'REQUEST_INVALID' }));
    expect(all({ purpose: 'begeleiding-kp4' }).length).toBe(30);
    expect(all({ outcome: 'deny' }).map((l) => l.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 60 - 3 * i));
    expect(all({ clientRef: 'WZR-100002', outcome: 'deny', purpose: 'overdracht-kp4' }).map((l) => l.seq)).toEqual([42, 12]);
  });

  it('filters by time, dates inclusive, epoch milliseconds too', () => {
    const { audit } = setup(); // line n at 10:00 + (n − 1) minutes
    const start = Date.parse(`${TODAY}T10:00:00Z`);
    const seqs = (q: Record<string, unknown>) => audit.list(parseQuery({ ...q, limit: 1000 })).items.map((l) => l.seq);
    expect(seqs({ from: String(start + 50 * 60_000) })).toEqual([60, 59, 58, 57, 56, 55, 54, 53, 52, 51]);
    expect(seqs({ from: `${TODAY}T10:00:00Z`, to: `${TODAY}T10:02:00Z` })).toEqual([3, 2, 1]);
    expect(seqs({ from: TODAY, to: TODAY }).length).toBe(60);
    expect(seqs({ to: '2026-11-22' })).toEqual([]);
  });

  it('pages with an opaque cursor, every line once', () => {
    const { audit } = setup();
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = audit.list(parseQuery({ outcome: 'permit', limit: 7, ...(cursor ? { cursor } : {}) }));
      seen.push(...page.items.map((l) => l.seq));
      cursor = page.next ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(6);
    expect(seen).toEqual(Array.from({ length: 60 }, (_, i) => 60 - i).filter((n) => n % 3 !== 0));
  });

  it('refuses a bad query with REQUEST_INVALID', () => {
    for (const q of [{ cursor: 'garbage' }, { from: 'yesterday' }, { purpose: 'nosy' }, { limit: '0' }, { clientRef: '101010011' }, { extra: '1' }]) {
      const error = catchError(() => parseQuery(q).cursor && listAudit(setup(1).db, parseQuery(q)));
      expect(error, JSON.stringify(Object.keys(q))).toMatchObject({ code: 'REQUEST_INVALID' });
    }
  });
});

describe(pruneAudit.name, () => {
  function setupOld() {
    const ctx = setupAudit({ checkpointEvery: 10 });
    appendMany(ctx.audit, ctx.clock, 30);
    ctx.clock.advance(6 * 365 * DAY);
    appendMany(ctx.audit, ctx.clock, 5);
    return ctx;
  }

  it('writes the prune line naming the range first, then blanks old content, keeping the hashes; the chain still verifies', () => {
    const { db, audit, clock } = setupOld();
    const before = clock.now() - 5 * 365 * DAY;
    const result = pruneAudit(audit, { before, now: clock.now(), retentionDays: 5 * 365 });
    expect(result).toEqual({ pruned: 30, seqs: [36] });
    const rows = db.$client.prepare('SELECT entry, client_ref, actor_sub, leaf_hash FROM audit_log WHERE seq <= 30').all() as Record<string, unknown>[];
    expect(rows.every((r) => r.entry === null && r.client_ref === null && r.actor_sub === null && Buffer.isBuffer(r.leaf_hash))).toBe(true);
    expect(audit.verify()).toMatchObject({ ok: true, records: 36 });
    const text = db.$client.prepare('SELECT group_concat(entry) FROM audit_log').pluck().get() as string;
    expect(text).not.toContain(readEntry(7).tokenId);
    expect(audit.list(parseQuery({ clientRef: 'WZR-100001' })).items.every((l) => l.seq > 30)).toBe(true);
    const pruned = audit.list(parseQuery({ to: String(before), limit: 1 })).items[0]!;
    expect(pruned).toMatchObject({ seq: 30, entry: undefined, action: 'record.read' });
    expect(audit.list(parseQuery({ limit: 1 })).items[0]!.entry).toMatchObject({
      action: 'audit.pruned',
      reason: 'RETENTION_EXPIRED',
      count: 30,
      fromSeq: 1,
      toSeq: 30,
      before,
      retentionDays: 5 * 365,
    });
  });

  it('blanks in chunks, each transaction with its own prune line, and the chain verifies', async () => {
    const { db, audit, clock } = setupOld();
    const result = pruneAudit(audit, { before: clock.now() - 5 * 365 * DAY, now: clock.now(), retentionDays: 5 * 365, chunk: 7 });
    expect(result).toEqual({ pruned: 30, seqs: [36, 37, 38, 39, 40] });
    const ranges = db.$client
      .prepare(
        `SELECT json_extract(entry, '$.entry.fromSeq') AS f, json_extract(entry, '$.entry.toSeq') AS t FROM audit_log WHERE action = 'audit.pruned' ORDER BY seq`,
      )
      .all();
    expect(ranges).toEqual([
      { f: 1, t: 7 },
      { f: 8, t: 14 },
      { f: 15, t: 21 },
      { f: 22, t: 28 },
      { f: 29, t: 30 },
    ]);
    expect(audit.verify()).toMatchObject({ ok: true, records: 40 });
    expect(await audit.verifyAsync({ slice: 4 })).toEqual(audit.verify());
  });

  it('refuses a date inside the retention period, and blanks nothing', () => {
    const { db, audit, clock } = setupOld();
    for (const before of [clock.now() - DAY, clock.now() + 1]) {
      const error = catchError(() => pruneAudit(audit, { before, now: clock.now(), retentionDays: 5 * 365 }));
      expect(error).toMatchObject({ code: 'REQUEST_INVALID' });
    }
    expect(db.$client.prepare('SELECT count(*) FROM audit_log WHERE entry IS NULL').pluck().get()).toBe(0);
    expect(audit.verify()).toMatchObject({ ok: true, records: 35 });
  });

  it('prunes nothing twice, and never blanks a prune line', () => {
    const { audit, clock } = setupOld();
    const options = { before: clock.now() - 5 * 365 * DAY, now: clock.now(), retentionDays: 5 * 365 };
    pruneAudit(audit, options);
    clock.advance(6 * 365 * DAY);
    // Now the first prune line is old too; it stays whole, since it is the record of what was pruned.
    const later = { before: clock.now() - 5 * 365 * DAY, now: clock.now(), retentionDays: 5 * 365 };
    expect(pruneAudit(audit, later)).toEqual({ pruned: 5, seqs: [37] });
    expect(audit.list(parseQuery({ limit: 2 })).items.map((l) => l.entry?.action)).toEqual(['audit.pruned', 'audit.pruned']);
    expect(pruneAudit(audit, later)).toEqual({ pruned: 0, seqs: [38] });
    expect(audit.verify()).toMatchObject({ ok: true, records: 38 });
  });
});
