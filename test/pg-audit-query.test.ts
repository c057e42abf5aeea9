import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../src/audit/entry.js';
import { countLines, countPersons } from '../src/audit/oversight-query.js';
import { auditQuerySchema, listAudit } from '../src/audit/query.js';
import { countLinesPg, countPersonsPg } from '../src/audit/oversight-query-pg.js';
import { listAuditPg } from '../src/audit/query-pg.js';
import type { Db } from '../src/db.js';
import { DoelpoortError } from '../src/errors.js';
import { parseInput } from '../src/http/validate.js';
import type { Pool } from 'pg';
import { appendOne, readEntry, setupAudit } from './audit-support.js';
import { type FreshPg, freshPg, pgUrl } from './pg-support.js';
import { TODAY } from './support.js';

/**
 * The audit list and the oversight counts on PostgreSQL answer as SQLite's do: the same lines (appended by the
 * SQLite log, copied row for row into PostgreSQL, where the linkage trigger checks every one) under every query of
 * a table, page by page.
 */

const PSEUDONYM = 'ab'.repeat(32);
const HOUR = 3_600_000;

/** Line n: varied action, actor, organisation, time of day and week, BSN look-up and emergency flag. */
function line(n: number): AuditEntry {
  const base = readEntry(n) as Record<string, unknown>;
  switch (n % 7) {
    case 0:
      return { ...base, action: 'token.issued', bsnPseudonym: PSEUDONYM } as AuditEntry;
    case 1: {
      const { clientRef: _, released: _r, withheld: _w, ...rest } = base;
      return { ...rest, action: 'token.refused', bsnPseudonym: PSEUDONYM, outcome: 'deny', reason: 'NO_RELATIONSHIP', httpStatus: 403 } as AuditEntry;
    }
    case 2:
      return { ...base, noodtoegang: true } as AuditEntry;
    case 3:
      return { ...base, actor: { iss: 'https://login.tiel.example', sub: `coach-${n % 2}`, role: 'participatiecoach', org: 'GM0281' } } as AuditEntry;
    case 4:
      return { ...base, action: 'list.read' } as AuditEntry;
    case 5:
      return { ...base, action: 'policy.read', purpose: 'beleidsbeheer' } as AuditEntry;
    default:
      return base as AuditEntry;
  }
}

const COLUMNS = [
  'seq',
  'at',
  'action',
  'outcome',
  'actor_sub',
  'actor_org',
  'client_ref',
  'purpose',
  'decision_id',
  'entry',
  'leaf_hash',
  'chain_hash',
  'actor_iss',
  'actor_role',
  'bsn_lookup',
  'noodtoegang',
  'time_class',
  'format',
];

let sqlite: Db;
let database: FreshPg | undefined;
let pool: Pool;
const START = Date.parse(`${TODAY}T05:00:00Z`);

describe.skipIf(!pgUrl)('the audit queries on postgres and sqlite', () => {
  beforeAll(async () => {
    const { db, audit, clock } = setupAudit({ checkpointEvery: 50 });
    // 200 lines 47 minutes apart: six and a half days from Monday morning, nights and the weekend included.
    for (let n = 1; n <= 200; n++) {
      appendOne(audit, line(n));
      clock.advance(47 * 60_000);
    }
    sqlite = db;
    database = await freshPg('pgstores');
    pool = database.pg.pool;
    const rows = db.$client.prepare(`SELECT ${COLUMNS.join(', ')} FROM audit_log ORDER BY seq`).all() as Array<Record<string, unknown>>;
    for (const row of rows)
      await pool.query(
        `INSERT INTO audit_log (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`,
        COLUMNS.map((c) => row[c]),
      );
    expect(rows).toHaveLength(200);
  });
  afterAll(async () => {
    await database?.drop();
  });

  const queries: Array<Record<string, unknown>> = [
    {},
    { clientRef: 'WZR-100002' },
    { actor: 'coach-1', actorIss: 'https://login.gemeente.example' },
    { actor: 'coach-1', actorIss: 'https://login.tiel.example' },
    { purpose: 'begeleiding-kp4' },
    { outcome: 'deny' },
    { outcome: 'deny', purpose: 'overdracht-kp4', clientRef: 'WZR-100004' },
    { from: String(START + 30 * HOUR), to: String(START + 60 * HOUR) },
    { from: TODAY, to: TODAY },
    { to: '2026-11-22' },
  ];
  const scopes = [
    {},
    { actorOrg: 'GM0281' },
    { actions: ['record.read', 'list.read'] as const },
    { actions: [] as const },
    { actorOrg: 'GM1960', actions: ['token.issued'] as const },
  ];

  it.each(queries.flatMap((q) => scopes.map((s) => [JSON.stringify({ ...q, ...s }), q, s] as const)))('lists %s alike, page by page', async (_, q, scope) => {
    const walk = async (list: (query: ReturnType<typeof parse>) => unknown) => {
      const pages: unknown[] = [];
      let cursor: string | undefined;
      do {
        const page = (await list({ ...parse({ ...q, limit: 13, ...(cursor ? { cursor } : {}) }), ...scope })) as { next: string | null };
        pages.push(page);
        cursor = page.next ?? undefined;
      } while (cursor !== undefined);
      return pages;
    };
    const onSqlite = await walk((query) => listAudit(sqlite, query));
    expect(await walk((query) => listAuditPg(pool, query))).toEqual(onSqlite);
  });

  it('refuses an actor without its issuer and a bad cursor alike', async () => {
    for (const q of [{ actor: 'coach-1' }, { cursor: 'a1.bm9wZQ' }]) {
      const refused = () => listAudit(sqlite, parse(q));
      expect(refused).toThrow(DoelpoortError);
      await expect(listAuditPg(pool, parse(q))).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
    }
  });

  const days = Array.from({ length: 8 }, (_, d) => ({
    from: Date.parse(`${TODAY}T00:00:00Z`) + d * 24 * HOUR,
    to: Date.parse(`${TODAY}T00:00:00Z`) + (d + 1) * 24 * HOUR,
  }));
  const whole = { from: 0, to: Date.parse('2027-01-01') };

  it.each([{}, { org: 'GM1960' }, { org: 'GM0281' }, { org: 'GM9999' }])('counts the lines of each period alike (scope %j)', async (scope) => {
    const expected = await countLines(sqlite, [...days, whole], scope);
    expect(expected.flat().length).toBeGreaterThan(scope.org === 'GM9999' ? -1 : 10);
    expect(await countLinesPg(pool, [...days, whole], scope)).toEqual(expected);
  });

  it.each([{}, { org: 'GM1960' }, { org: 'GM0281' }, { org: 'GM9999' }])('counts every person alike (scope %j)', async (scope) => {
    for (const period of [whole, ...days]) {
      const expected = await countPersons(sqlite, period, scope);
      expect(await countPersonsPg(pool, period, scope)).toEqual(expected);
    }
    const all = await countPersons(sqlite, whole, scope);
    if (scope.org === undefined || scope.org === 'GM1960')
      expect(all.some((p) => p.bsnLookups > 0 && p.emergency > 0 && p.weekend > 0 && p.distinctClients > 1)).toBe(true);
  });
});

function parse(q: Record<string, unknown>) {
  return parseInput(auditQuerySchema, q, 'query');
}
