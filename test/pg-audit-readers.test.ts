import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { downloadCheckpoint, logboekExport } from '../src/audit/downloads.js';
import { auditFacts } from '../src/audit/facts.js';
import { monthlyReport, userReport } from '../src/audit/oversight.js';
import { verifyAuditTrail, type ToezichtCaller } from '../src/audit/toezicht.js';
import { PgUnitOfWork } from '../src/pg-unit-of-work.js';
import { PolicyVersions } from '../src/policy/versions.js';
import { RecordStore } from '../src/records/store.js';
import { SqliteUnitOfWork } from '../src/unit-of-work.js';
import { READ_ACTIONS, type AuditEntry, type AuditLine } from '../src/audit/entry.js';
import { exportLogboek, type LogboekRecord } from '../src/audit/export.js';
import { generateCheckpointKey } from '../src/audit/keys.js';
import { AuditLog } from '../src/audit/log.js';
import { PgAuditLog } from '../src/audit/log-pg.js';
import { monthBounds } from '../src/audit/office-hours.js';
import { pruneAudit } from '../src/audit/prune.js';
import { pruneAuditPg } from '../src/audit/prune-pg.js';
import type { AuditReader, CountScope, Period } from '../src/audit/reader.js';
import { DAY_MS, fixedClock } from '../src/clock.js';
import { openDatabase, openRecordsDatabase, type Db } from '../src/db.js';
import { readEntry } from './audit-support.js';
import { describePg, freshPg, type FreshPg } from './pg-support.js';

/**
 * The audit readers (src/audit/reader.ts) on both databases: one realistic log appended to an SQLite AuditLog and a
 * PgAuditLog with the same clock, keys and entries answers every reader alike (the counts and their kept figures,
 * the replay's pages, the Logboek export, the latest checkpoint), and pruning and verifying behave alike.
 */

const HOUR = 3_600_000;
const PSEUDONYM = 'ab'.repeat(32);
const START = Date.parse('2026-09-28T05:00:00Z');
const quiet = { onWriteFailure: () => {} };

/** Line n: varied action, actor, organisation, BSN look-up, emergency flag, outcome and client. */
function line(n: number): AuditEntry {
  const base = readEntry(n) as Record<string, unknown>;
  switch (n % 8) {
    case 0:
      return { ...base, action: 'token.issued', bsnPseudonym: PSEUDONYM } as AuditEntry;
    case 1: {
      const { clientRef: _, released: _r, withheld: _w, ...rest } = base;
      return { ...rest, action: 'token.refused', bsnPseudonym: PSEUDONYM, outcome: 'deny', reason: 'NO_RELATIONSHIP', httpStatus: 403 } as AuditEntry;
    }
    case 2:
      return { ...base, noodtoegang: true } as AuditEntry;
    case 3:
      return { ...base, actor: { iss: 'https://login.tiel.example', sub: `coach-${n % 3}`, role: 'participatiecoach', org: 'GM0281' } } as AuditEntry;
    case 4:
      return { ...base, action: 'list.read' } as AuditEntry;
    case 5:
      return { ...base, action: 'policy.read', purpose: 'beleidsbeheer' } as AuditEntry;
    case 6:
      return { ...base, action: 'document.read', clientRef: `WZR-${200000 + (n % 11)}` } as AuditEntry;
    default:
      return base as AuditEntry;
  }
}

/** The BSNs the records hold: every client of the log but WZR-100004 (gone from the records). */
function bsnOf(clientRef: string): string | undefined {
  if (clientRef === 'WZR-100004') return undefined;
  return `9${clientRef.slice(4).padStart(8, '0')}`;
}

interface Twins {
  clock: ReturnType<typeof fixedClock>;
  sqlite: AuditLog;
  db: Db;
  pg: PgAuditLog;
  pool: pg.Pool;
  append(entry: AuditEntry): Promise<void>;
}

/** Both logs over the same clock and keys; `append` writes one entry to both at the same moment. */
function twins(fresh: FreshPg, checkpointEvery: number): Twins {
  const clock = fixedClock(new Date(START).toISOString());
  const keys = { pseudonymKey: randomBytes(32), checkpointKey: generateCheckpointKey() };
  const db = openDatabase(':memory:');
  const sqlite = new AuditLog(db, { clock, ...keys, checkpointEvery, ...quiet });
  const pool = fresh.pg.pool;
  const onPg = new PgAuditLog(pool, { clock, ...keys, checkpointEvery, ...quiet });
  return {
    clock,
    sqlite,
    db,
    pg: onPg,
    pool,
    async append(entry) {
      db.$client.transaction(() => sqlite.appendInTransaction(entry)).immediate();
      sqlite.afterCommit();
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await onPg.writeLines(client, [onPg.prepare(entry)]);
        await client.query('COMMIT');
      } finally {
        client.release();
      }
      await onPg.afterCommit();
    },
  };
}

/** What audit_period_counts keeps, in both databases alike. */
async function kept(t: Twins) {
  const onSqlite = t.db.$client.prepare('SELECT scope, "from", "to", through_seq, counts FROM audit_period_counts ORDER BY scope, "from", "to"').all();
  const onPg = (await t.pool.query('SELECT scope, "from", "to", through_seq, counts FROM audit_period_counts ORDER BY scope COLLATE "C", "from", "to"')).rows;
  return { onSqlite, onPg };
}

/** Every page of the replay's scan, `limit` lines at a time. */
async function pages(reader: AuditReader, window: { from: number; to: number }, limit: number): Promise<AuditLine[][]> {
  const all: AuditLine[][] = [];
  for (let after = 0; ; ) {
    const page = await reader.linesByAction({ actions: READ_ACTIONS, ...window, after, limit });
    all.push(page);
    if (page.length < limit) return all;
    after = page[page.length - 1]!.seq;
  }
}

const SCOPES: CountScope[] = [{}, { org: 'GM1960' }, { org: 'GM0281' }, { org: 'GM9999' }];
const MONTHS = ['2026-09', '2026-10', '2026-11'].map(monthBounds);
const DAYS: Period[] = Array.from({ length: 10 }, (_, d) => ({ from: START + d * 5 * DAY_MS, to: START + (d * 5 + 1) * DAY_MS }));

describePg('the audit readers on PostgreSQL answer as on SQLite', () => {
  let fresh: FreshPg;
  let t: Twins;
  const LINES = 360;

  beforeAll(async () => {
    fresh = await freshPg('pgaudit_readers');
    t = twins(fresh, 37);
    // 360 lines 3 h 17 min apart: seven weeks from the end of September, nights, weekends and three months.
    for (let n = 1; n <= LINES; n++) {
      await t.append(line(n));
      t.clock.advance(3 * HOUR + 17 * 60_000);
    }
  }, 120_000);
  afterAll(() => fresh?.drop());

  it('holds the same chain and the same latest checkpoint', async () => {
    const rowsSqlite = t.db.$client.prepare('SELECT seq, at, entry, leaf_hash, chain_hash FROM audit_log ORDER BY seq').all();
    expect((await t.pool.query('SELECT seq, at, entry, leaf_hash, chain_hash FROM audit_log ORDER BY seq')).rows).toEqual(rowsSqlite);
    const latest = await t.pg.latestCheckpoint();
    expect(latest).toEqual(t.sqlite.latestCheckpoint());
    // A checkpoint on every line: they lie further apart than checkpointMinutes.
    expect(latest).toMatchObject({ size: LINES });
    expect(t.pg.checkpointJwk).toEqual(t.sqlite.checkpointJwk);
  });

  it.each(SCOPES)('counts lines per month and day alike, and keeps the closed periods alike (scope %j)', async (scope) => {
    const periods = [...MONTHS, ...DAYS];
    const first = await t.sqlite.countLines(periods, scope);
    if (scope.org !== 'GM9999') expect(first.flat().length).toBeGreaterThan(20);
    expect(await t.pg.countLines(periods, scope)).toEqual(first);
    // The second reading of a closed period comes from audit_period_counts, on both.
    expect(await t.pg.countLines(periods, scope)).toEqual(first);
    expect(await t.sqlite.countLines(periods, scope)).toEqual(first);
  });

  it.each(SCOPES)('counts every person alike, and keeps the closed periods alike (scope %j)', async (scope) => {
    for (const period of [...MONTHS, ...DAYS]) {
      const expected = await t.sqlite.countPersons(period, scope);
      expect(await t.pg.countPersons(period, scope)).toEqual(expected);
      expect(await t.pg.countPersons(period, scope)).toEqual(expected);
    }
    const october = await t.sqlite.countPersons(MONTHS[1]!, scope);
    if (scope.org === 'GM9999') return expect(october).toEqual([]);
    for (const figure of ['accesses', 'denials', 'offHours', 'weekend', 'distinctClients'] as const)
      expect(
        october.some((p) => p[figure] > 1),
        figure,
      ).toBe(true);
    if (scope.org !== 'GM0281')
      for (const figure of ['emergency', 'tokenRefusals', 'bsnLookups'] as const)
        expect(
          october.some((p) => p[figure] > 0),
          figure,
        ).toBe(true);
  });

  it('keeps the same rows in audit_period_counts: the closed periods only, line counts and persons: scopes', async () => {
    const { onSqlite, onPg } = await kept(t);
    expect(onPg).toEqual(onSqlite);
    const scopes = new Set(onPg.map((r) => r.scope as string));
    // The scoped readings came after the every-organisation ones, so they read those rows filtered and kept none.
    expect(scopes).toEqual(new Set(['*', 'persons:*']));
    expect(onPg.length).toBe(2 * (2 + DAYS.length));
    // November is still open (the head lies in it): never kept.
    expect(onPg.some((r) => Number(r.from) === MONTHS[2]!.from)).toBe(false);
  });

  it('a scoped reading of a kept every-organisation figure is that figure filtered, on both', async () => {
    const october = MONTHS[1]!;
    await t.pool.query('DELETE FROM audit_period_counts WHERE scope = $1', ['GM0281']);
    t.db.$client.prepare('DELETE FROM audit_period_counts WHERE scope = ?').run('GM0281');
    const every = (await t.pg.countLines([october]))[0]!;
    expect((await t.pg.countLines([october], { org: 'GM0281' }))[0]).toEqual(every.filter((c) => c.org === 'GM0281'));
    expect((await t.sqlite.countLines([october], { org: 'GM0281' }))[0]).toEqual(every.filter((c) => c.org === 'GM0281'));
  });

  it('gives the replay the same pages', async () => {
    for (const [window, limit] of [
      [{ from: START, to: START + 60 * DAY_MS }, 17],
      [{ from: START + 10 * DAY_MS, to: START + 20 * DAY_MS }, 5],
      [{ from: START + 90 * DAY_MS, to: START + 99 * DAY_MS }, 10],
    ] as const) {
      const expected = await pages(t.sqlite, window, limit);
      expect(await pages(t.pg, window, limit)).toEqual(expected);
    }
    expect((await pages(t.pg, { from: START, to: START + 60 * DAY_MS }, 17)).flat().length).toBeGreaterThan(150);
    expect(await t.pg.linesByAction({ actions: [], from: 0, to: Number.MAX_SAFE_INTEGER, after: 0, limit: 10 })).toEqual([]);
  });

  it('exports the same Logboek records, asking each client of the records once', async () => {
    const where = { registerUrl: 'https://avg.example.nl/rva', gatewayUrl: 'https://doelpoort.example/' };
    const asked: string[] = [];
    const sources = {
      ...where,
      subjectOf: async (clientRef: string) => {
        asked.push(clientRef);
        await new Promise((resolve) => setImmediate(resolve));
        const bsn = bsnOf(clientRef);
        return bsn === undefined ? undefined : t.pg.pseudonym(bsn);
      },
    };
    const synchronous = {
      ...where,
      subjectOf: (clientRef: string) => {
        const bsn = bsnOf(clientRef);
        return bsn === undefined ? undefined : t.sqlite.pseudonym(bsn);
      },
    };
    for (const range of [{}, { from: START + 12 * DAY_MS, to: START + 30 * DAY_MS }, { from: START + 200 * DAY_MS }]) {
      // The CLI's generator, unchanged, is the reference for both readers.
      const reference: LogboekRecord[] = [...exportLogboek(t.db, synchronous, range)];
      asked.length = 0;
      const onPg = await t.pg.exportLogboek(sources, range);
      expect(onPg).toEqual(reference);
      expect(new Set(asked).size).toBe(asked.length);
      expect(await t.sqlite.exportLogboek(sources, range)).toEqual(reference);
    }
    const all = await t.pg.exportLogboek(sources);
    expect(all).toHaveLength(LINES);
    expect(all.some((r) => r.attributes['dpl.core.data_subject_id'] === t.pg.pseudonym(bsnOf('WZR-200003')!))).toBe(true);
    expect(all.some((r) => r.attributes['dpl.core.data_subject_id'] === PSEUDONYM)).toBe(true);
  });
});

describePg('kept figures and pruning on both databases', () => {
  let fresh: FreshPg;
  let t: Twins;

  beforeAll(async () => {
    fresh = await freshPg('pgaudit_prune');
    t = twins(fresh, 50);
    for (let n = 1; n <= 240; n++) {
      await t.append(line(n));
      t.clock.advance(5 * HOUR);
    }
  }, 120_000);
  afterAll(() => fresh?.drop());

  it('a late line (a clock set back) drops the kept figures of its periods on both, and the counts take it in', async () => {
    const october = MONTHS[1]!;
    const before = await t.sqlite.countLines([october]);
    expect(await t.pg.countLines([october])).toEqual(before);
    await t.pg.countPersons(october);
    await t.sqlite.countPersons(october);
    expect((await kept(t)).onPg.length).toBe(2);

    const now = t.clock.now();
    t.clock.advance(october.to - 2 * DAY_MS - now);
    await t.append(line(1000));
    t.clock.advance(now - t.clock.now() + HOUR);
    await t.append(line(1001));

    const { onSqlite, onPg } = await kept(t);
    expect(onSqlite).toEqual([]);
    expect(onPg).toEqual([]);
    const after = await t.sqlite.countLines([october]);
    expect(after[0]!.reduce((n, c) => n + c.lines, 0)).toBe(before[0]!.reduce((n, c) => n + c.lines, 0) + 1);
    expect(await t.pg.countLines([october])).toEqual(after);
    expect(await t.pg.countPersons(october)).toEqual(await t.sqlite.countPersons(october));
    expect((await t.pool.query('SELECT through_seq FROM audit_period_counts WHERE scope = $1', ['*'])).rows).toEqual([{ through_seq: 242 }]);
  });

  it('refuses a prune inside the retention period on both, and writes nothing', async () => {
    const options = { before: t.clock.now() - 10 * DAY_MS, now: t.clock.now(), retentionDays: 30 };
    expect(() => pruneAudit(t.sqlite, options)).toThrow(expect.objectContaining({ code: 'REQUEST_INVALID' }));
    await expect(pruneAuditPg(t.pool, t.pg, options)).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
    const [{ n }] = (await t.pool.query('SELECT count(*)::int AS n FROM audit_log')).rows as [{ n: number }];
    expect(n).toBe(242);
    expect(t.db.$client.prepare('SELECT count(*) AS n FROM audit_log').get()).toEqual({ n: 242 });
  });

  it('prunes alike, in chunks, keeping the hashes: both chains still verify, and the readers agree on what is left', async () => {
    const october = MONTHS[1]!;
    await t.pg.countLines([october]);
    await t.sqlite.countLines([october]);
    const options = { before: october.from + 20 * DAY_MS, now: t.clock.now(), retentionDays: 7, chunk: 25 };
    const onSqlite = pruneAudit(t.sqlite, options);
    const onPg = await pruneAuditPg(t.pool, t.pg, options);
    expect(onSqlite.pruned).toBeGreaterThan(50);
    expect(onSqlite.seqs.length).toBeGreaterThan(2);
    expect(onPg).toEqual(onSqlite);
    // Blanked alike, prune lines included (same positions, same content but their random trace ids).
    const blanked = 'SELECT seq, at, action, outcome, leaf_hash, chain_hash, actor_org, client_ref, time_class FROM audit_log WHERE entry IS NULL ORDER BY seq';
    expect((await t.pool.query(blanked)).rows).toEqual(t.db.$client.prepare(blanked).all());
    // The kept figures of a period that held a blanked line are gone on both.
    const { onSqlite: keptSqlite, onPg: keptPg } = await kept(t);
    expect(keptPg).toEqual(keptSqlite);
    expect(keptPg.filter((r) => Number(r.from) < options.before)).toEqual([]);

    const verifiedSqlite = await t.sqlite.verifyAsync();
    expect(verifiedSqlite).toMatchObject({ ok: true });
    expect(await t.pg.verifyAsync()).toMatchObject({ ok: true, records: verifiedSqlite.ok ? verifiedSqlite.records : -1 });
    expect(await t.pg.countLines(MONTHS)).toEqual(await t.sqlite.countLines(MONTHS));
    expect(await t.pg.countPersons(october)).toEqual(await t.sqlite.countPersons(october));
    const window = { from: START, to: START + 90 * DAY_MS };
    expect(await pages(t.pg, window, 30)).toEqual(await pages(t.sqlite, window, 30));

    // Once more: nothing left to blank, one line with count 0 on each.
    const again = { ...options, now: t.clock.now() };
    const second = await pruneAuditPg(t.pool, t.pg, again);
    expect(second).toEqual(pruneAudit(t.sqlite, again));
    expect(second.pruned).toBe(0);
    expect(await t.pg.verifyAsync()).toMatchObject({ ok: true });
  });

  it('a blanking no prune line covers is refused by the guard and fails verify on PostgreSQL', async () => {
    const [newest] = (await t.pool.query("SELECT seq FROM audit_log WHERE entry IS NOT NULL AND action <> 'audit.pruned' ORDER BY seq DESC LIMIT 1")).rows as [
      { seq: number },
    ];
    await expect(t.pool.query('UPDATE audit_log SET entry = NULL, actor_org = NULL WHERE seq = $1', [newest.seq])).rejects.toThrow(/append-only/);
    const client = await t.pool.connect();
    try {
      // As the owner could, with the triggers off: verify still names the line.
      await client.query('SET session_replication_role = replica');
      await client.query(
        `UPDATE audit_log SET entry = NULL, actor_sub = NULL, actor_org = NULL, client_ref = NULL, purpose = NULL, decision_id = NULL,
           actor_iss = NULL, actor_role = NULL, bsn_lookup = NULL, noodtoegang = NULL, time_class = NULL WHERE seq = $1`,
        [newest.seq],
      );
      await client.query('SET session_replication_role = origin');
    } finally {
      client.release();
    }
    expect(await t.pg.verifyAsync()).toMatchObject({ ok: false, firstBad: { seq: newest.seq, reason: 'BLANKED_NOT_PRUNED' } });
  });
});

describePg('the use cases that read the log outside the unit of work, on both databases', () => {
  let fresh: FreshPg;
  let t: Twins;
  let n = 0;

  beforeAll(async () => {
    fresh = await freshPg('pgaudit_usecases');
    t = twins(fresh, 25);
    for (let k = 1; k <= 150; k++) {
      await t.append(line(k));
      t.clock.advance(7 * HOUR + 13 * 60_000);
    }
  }, 120_000);
  afterAll(() => fresh?.drop());

  /** A Werkzaak privacy officer with a toezicht token; the same facts on both databases, so the chains stay equal. */
  function officer(): ToezichtCaller {
    n++;
    const requester = { issuer: 'https://login.werkzaak.example', sub: 'po-anna', org: 'WERKZAAK', role: 'privacy-officer', purpose: 'toezicht' } as const;
    const trace = { traceId: n.toString(16).padStart(32, 'f'), spanId: n.toString(16).padStart(16, 'f') };
    return { requester, facts: auditFacts({ trace, origin: '192.0.2.9' }, requester), done: 200 };
  }

  it('answer alike through the reader: reports, export, checkpoint and verification, each with its line', async () => {
    const sqliteDeps = {
      audit: t.sqlite,
      clock: t.clock,
      uow: new SqliteUnitOfWork({ audit: t.sqlite, records: new RecordStore(openRecordsDatabase(':memory:')), policies: new PolicyVersions(t.db, t.clock) }),
      records: { bsnOf },
      registerUrl: 'https://avg.example.nl/rva',
      gatewayUrl: 'https://doelpoort.example/',
    };
    const pgDeps = { ...sqliteDeps, audit: t.pg, uow: new PgUnitOfWork({ pool: t.pool, audit: t.pg }), records: { bsnOf: async (ref: string) => bsnOf(ref) } };
    const both = async <T>(work: (deps: typeof sqliteDeps | typeof pgDeps, caller: ToezichtCaller) => Promise<T>): Promise<T> => {
      const caller = officer();
      const onSqlite = await work(sqliteDeps, caller);
      const onPg = await work(pgDeps, caller);
      expect(onPg).toEqual(onSqlite);
      return onPg;
    };
    const october = await both((deps, caller) => monthlyReport(deps, caller, '2026-10'));
    expect(october.figures.find((f) => f.key === 'accesses')?.value).toBeGreaterThan(20);
    await both((deps, caller) => monthlyReport(deps, caller, '2026-10'));
    const users = await both((deps, caller) => userReport(deps, caller, { from: '2026-10-01', to: '2026-10-31' }));
    expect(users.persons.length).toBeGreaterThan(3);
    const exported = await both((deps, caller) => logboekExport(deps, caller, { from: START, to: START + 20 * DAY_MS }));
    expect(exported.length).toBeGreaterThan(50);
    const checkpoint = await both((deps, caller) => downloadCheckpoint(deps, caller));
    expect(checkpoint.jwk).toEqual(t.sqlite.checkpointJwk);
    const verified = await both((deps, caller) => verifyAuditTrail(deps, caller));
    expect(verified).toMatchObject({ ok: true });
    // Each reading wrote its line on both, at the same positions with the same hashes.
    const chain = 'SELECT seq, action, chain_hash FROM audit_log ORDER BY seq';
    const onPg = (await t.pool.query(chain)).rows;
    expect(onPg).toEqual(t.db.$client.prepare(chain).all());
    expect(onPg.slice(150).map((r) => r.action)).toEqual(['oversight.read', 'oversight.read', 'oversight.read', 'audit.read', 'audit.read', 'audit.read']);
  });
});
