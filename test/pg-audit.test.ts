import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../src/audit/log.js';
import { generateCheckpointKey } from '../src/audit/keys.js';
import { PgAuditLog } from '../src/audit/log-pg.js';
import { pruneAudit } from '../src/audit/prune.js';
import { verifyAudit } from '../src/audit/verify.js';
import { verifyAuditPg } from '../src/audit/verify-pg.js';
import { DAY_MS, fixedClock } from '../src/clock.js';
import { openDatabase, openRecordsDatabase } from '../src/db.js';
import { PolicyVersions } from '../src/policy/versions.js';
import { PgUnitOfWork } from '../src/pg-unit-of-work.js';
import { RecordStore } from '../src/records/store.js';
import { appendLine, SqliteUnitOfWork } from '../src/unit-of-work.js';
import { chainHash, LINE_COLUMNS, leafHash, leafHashV2 } from '../src/audit/chain.js';
import { appendFormat1, readEntry } from './audit-support.js';
import { describePg, freshPg, type FreshPg } from './pg-support.js';
import { TODAY } from './support.js';

const T0 = Date.parse(`${TODAY}T10:00:00Z`);
const quiet = { onWriteFailure: () => {} };

/** Every column of audit_log, for a copy of SQLite's lines as they are. */
const COPIED = `${LINE_COLUMNS.join(', ')}, leaf_hash, chain_hash, format`;

/** Copies SQLite's lines and checkpoints as they are onto `client` (no trigger fires: superuser, test only). */
async function copyToPg(s: Database.Database, client: pg.PoolClient): Promise<void> {
  await client.query('SET session_replication_role = replica');
  for (const row of s.prepare(`SELECT ${COPIED} FROM audit_log ORDER BY seq`).raw().all() as unknown[][]) {
    await client.query(`INSERT INTO audit_log (${COPIED}) VALUES (${row.map((_, i) => `$${i + 1}`).join(', ')})`, row);
  }
  for (const row of s.prepare('SELECT size, head, at, signature FROM audit_checkpoints').raw().all() as unknown[][]) {
    await client.query('INSERT INTO audit_checkpoints (size, head, at, signature) VALUES ($1, $2, $3, $4)', row);
  }
  await client.query('SET session_replication_role = origin');
}

/** The chain on SQLite: `n` lines through its unit of work, on a fixed clock. */
function sqliteChain(options: { checkpointEvery?: number } = {}) {
  const db = openDatabase(':memory:');
  const clock = fixedClock(`${TODAY}T10:00:00Z`);
  const checkpointKey = generateCheckpointKey();
  const pseudonymKey = randomBytes(32);
  const audit = new AuditLog(db, { clock, pseudonymKey, checkpointKey, checkpointEvery: options.checkpointEvery ?? 1000, ...quiet });
  const uow = new SqliteUnitOfWork({ audit, records: new RecordStore(openRecordsDatabase(':memory:')), policies: new PolicyVersions(db, clock) });
  return { db, clock, audit, uow, checkpointKey, pseudonymKey };
}

describePg('the audit chain on PostgreSQL', () => {
  describe('hashing and verify, against SQLite', () => {
    let fresh: FreshPg;
    beforeAll(async () => {
      fresh = await freshPg('pgcore_audit');
    });
    afterAll(() => fresh?.drop());

    it('the same entries on the same clock give the same chain, hash for hash', async () => {
      const lite = sqliteChain();
      const audit = new PgAuditLog(fresh.pg.pool, { clock: lite.clock, pseudonymKey: lite.pseudonymKey, ...quiet });
      const uow = new PgUnitOfWork({ pool: fresh.pg.pool, audit });
      for (let n = 1; n <= 12; n++) {
        await appendLine(lite.uow, readEntry(n));
        await appendLine(uow, readEntry(n));
      }
      const sqliteRows = lite.db.$client.prepare('SELECT seq, at, entry, leaf_hash, chain_hash FROM audit_log ORDER BY seq').all();
      const pgRows = (await fresh.pg.pool.query('SELECT seq, at, entry, leaf_hash, chain_hash FROM audit_log ORDER BY seq')).rows;
      expect(pgRows).toHaveLength(12);
      expect(pgRows).toEqual(sqliteRows);
      expect(audit.pseudonym('123456782')).toBe(lite.audit.pseudonym('123456782'));
    });
  });

  describe('verify gives the verdicts of SQLite for the same lines', () => {
    let fresh: FreshPg;
    let lite: ReturnType<typeof sqliteChain>;
    let client: pg.PoolClient;

    beforeAll(async () => {
      // SQLite writes the lines (six pruned by its prune, properly covered, then ten more), PostgreSQL gets a copy.
      lite = sqliteChain({ checkpointEvery: 5 });
      for (let n = 1; n <= 6; n++) await appendLine(lite.uow, readEntry(n));
      lite.clock.advance(400 * DAY_MS);
      pruneAudit(lite.audit, { before: T0 + 1000, now: lite.clock.now(), retentionDays: 365 });
      for (let n = 7; n <= 16; n++) await appendLine(lite.uow, readEntry(n));
      expect(lite.audit.verify()).toMatchObject({ ok: true, records: 17 });
      fresh = await freshPg('pgcore_verify');
      client = await fresh.pg.pool.connect();
      await copyToPg(lite.db.$client, client);
      await client.query('SET session_replication_role = replica'); // the tampering below, too
      for (const name of ['audit_log_no_delete', 'audit_log_prune_only', 'audit_checkpoints_no_update']) lite.db.$client.exec(`DROP TRIGGER ${name}`);
    });
    afterAll(async () => {
      client?.release();
      await fresh?.drop();
    });

    const sizes = () => (lite.db.$client.prepare('SELECT size FROM audit_checkpoints ORDER BY size').pluck().all() as number[]).join(',');

    /** Applies `tamper` to both in a transaction, verifies both, rolls both back. */
    async function both(tamper: (run: (sql: string, values?: unknown[]) => Promise<void>) => Promise<void>) {
      const s: Database.Database = lite.db.$client;
      s.exec('BEGIN');
      await client.query('BEGIN');
      try {
        await tamper(async (sql, values = []) => {
          s.prepare(sql.replace(/\$\d+/g, '?')).run(...(values as never[]));
          await client.query(sql, values);
        });
        const publicKey = lite.checkpointKey.publicKey;
        return { sqlite: verifyAudit(lite.db, { publicKey }), pg: await verifyAuditPg(client, { publicKey, page: 4 }) };
      } finally {
        s.exec('ROLLBACK');
        await client.query('ROLLBACK');
      }
    }

    it('the untouched chain verifies on both, with the same head and checkpoints', async () => {
      expect(sizes()).toMatch(/^1,5,7,10,15$/); // the time rule signed one at the prune line, too
      const { sqlite, pg: onPg } = await both(async () => {});
      expect(sqlite).toMatchObject({ ok: true, records: 17 });
      expect(onPg).toEqual(sqlite);
    });

    const cases: [string, number, string, (run: (sql: string, values?: unknown[]) => Promise<void>) => Promise<void>][] = [
      // Format 2: the leaf covers every stored column.
      ['a query column changed', 9, 'LEAF_MISMATCH', (run) => run(`UPDATE audit_log SET actor_org = 'GM0000' WHERE seq = 9`)],
      ['the time class changed', 14, 'LEAF_MISMATCH', (run) => run('UPDATE audit_log SET time_class = 3 WHERE seq = 14')],
      ['the content changed', 10, 'LEAF_MISMATCH', (run) => run(`UPDATE audit_log SET entry = replace(entry, 'coach-', 'coach_') WHERE seq = 10`)],
      ['the format changed', 11, 'CONTENT_MISMATCH', (run) => run('UPDATE audit_log SET format = 3 WHERE seq = 11')],
      ['a line written as format 1 that was format 2', 15, 'LEAF_MISMATCH', (run) => run('UPDATE audit_log SET format = NULL WHERE seq = 15')],
      ['a chain hash changed', 13, 'CHAIN_MISMATCH', (run) => run('UPDATE audit_log SET chain_hash = leaf_hash WHERE seq = 13')],
      ['a line deleted', 11, 'SEQ_GAP', (run) => run('DELETE FROM audit_log WHERE seq = 11')],
      [
        'a line blanked that no prune covers',
        12,
        'BLANKED_NOT_PRUNED',
        (run) =>
          run(`UPDATE audit_log SET entry = NULL, actor_sub = NULL, actor_org = NULL, client_ref = NULL, purpose = NULL, decision_id = NULL,
            actor_iss = NULL, actor_role = NULL, bsn_lookup = NULL, noodtoegang = NULL, time_class = NULL WHERE seq = 12`),
      ],
      ['a pruned line with a column set again', 3, 'PRUNED_NOT_BLANK', (run) => run(`UPDATE audit_log SET actor_org = 'GM1960' WHERE seq = 3`)],
      [
        'a checkpoint signature broken',
        5,
        'CHECKPOINT_INVALID',
        // The third character from the end carries six bits of the signature (the last one only two, whose change
        // may decode to the same bytes): always changed, never left as it was.
        (run) =>
          run(
            `UPDATE audit_checkpoints SET signature = substr(signature, 1, length(signature) - 3)
               || CASE substr(signature, length(signature) - 2, 1) WHEN 'A' THEN 'B' ELSE 'A' END
               || substr(signature, length(signature) - 1) WHERE size = 5`,
          ),
      ],
      ['the log cut below a checkpoint', 15, 'CHECKPOINT_BEYOND_END', (run) => run('DELETE FROM audit_log WHERE seq > 14')],
    ];
    for (const [name, seq, reason, tamper] of cases) {
      it(`${name}: ${reason} at ${seq}, on both`, async () => {
        const { sqlite, pg: onPg } = await both(tamper);
        expect(sqlite).toMatchObject({ ok: false, firstBad: { seq, reason } });
        expect(onPg).toEqual(sqlite);
      });
    }
  });

  describe('lines of format 1 (written before format 2) keep verifying, and the chain goes on after them', () => {
    let fresh: FreshPg;
    let lite: ReturnType<typeof sqliteChain>;
    let client: pg.PoolClient;
    beforeAll(async () => {
      lite = sqliteChain({ checkpointEvery: 4 });
      appendFormat1(lite.db, lite.clock, 5);
      for (let n = 6; n <= 9; n++) await appendLine(lite.uow, readEntry(n));
      fresh = await freshPg('pgmirror_format1');
      client = await fresh.pg.pool.connect();
      await copyToPg(lite.db.$client, client);
    });
    afterAll(async () => {
      client?.release();
      await fresh?.drop();
    });

    it('verifies on both alike; a changed query column is caught against the content (format 1) or by the leaf (format 2)', async () => {
      const publicKey = lite.checkpointKey.publicKey;
      const formats = (await client.query('SELECT format FROM audit_log ORDER BY seq')).rows.map((r) => r.format);
      expect(formats).toEqual([null, null, null, null, null, 2, 2, 2, 2]);
      const onSqlite = verifyAudit(lite.db, { publicKey });
      expect(onSqlite).toMatchObject({ ok: true, records: 9 });
      expect(await verifyAuditPg(client, { publicKey, page: 2 })).toEqual(onSqlite);
      for (const [seq, reason] of [
        [3, 'CONTENT_MISMATCH'],
        [7, 'LEAF_MISMATCH'],
      ] as const) {
        await client.query('BEGIN');
        try {
          await client.query('SET LOCAL session_replication_role = replica');
          await client.query(`UPDATE audit_log SET actor_org = 'GM0000' WHERE seq = $1`, [seq]);
          expect(await verifyAuditPg(client, { publicKey })).toMatchObject({ ok: false, firstBad: { seq, reason } });
        } finally {
          await client.query('ROLLBACK');
        }
      }
    });

    it('PgAuditLog appends format-2 lines after them, which the linkage trigger accepts', async () => {
      const audit = new PgAuditLog(fresh.pg.pool, { clock: lite.clock, pseudonymKey: lite.pseudonymKey, ...quiet });
      await appendLine(new PgUnitOfWork({ pool: fresh.pg.pool, audit }), readEntry(10));
      expect((await client.query('SELECT format FROM audit_log WHERE seq = 10')).rows).toEqual([{ format: 2 }]);
      expect(await audit.verify({ publicKey: lite.checkpointKey.publicKey })).toMatchObject({ ok: true, records: 10 });
    });

    it('a line earlier than the head (a clock set back) drops the kept counts of the periods ending after it, and only those', async () => {
      const audit = new PgAuditLog(fresh.pg.pool, { clock: lite.clock, pseudonymKey: lite.pseudonymKey, ...quiet });
      const uow = new PgUnitOfWork({ pool: fresh.pg.pool, audit });
      const now = lite.clock.now();
      const keep = (from: number, to: number) =>
        client.query(`INSERT INTO audit_period_counts (scope, "from", "to", through_seq, counts) VALUES ('*', $1, $2, 10, '[]')`, [from, to]);
      await keep(now - 3 * 3_600_000, now - 2 * 3_600_000);
      await keep(now - 2 * 3_600_000, now - 30 * 60_000);
      await keep(now - 30 * 60_000, now);
      await appendLine(uow, readEntry(11)); // at the head's time: nothing goes
      expect((await client.query('SELECT count(*)::int AS n FROM audit_period_counts')).rows).toEqual([{ n: 3 }]);
      lite.clock.advance(-3_600_000);
      await appendLine(uow, readEntry(12));
      const left = (await client.query('SELECT "to" FROM audit_period_counts ORDER BY "to"')).rows.map((r) => Number(r.to));
      expect(left).toEqual([now - 2 * 3_600_000]);
      expect(await audit.verify()).toMatchObject({ ok: true, records: 12 });
    });
  });

  describe('the database refuses what the code never does', () => {
    let fresh: FreshPg;
    let audit: PgAuditLog;
    const clock = fixedClock(`${TODAY}T10:00:00Z`);
    beforeAll(async () => {
      fresh = await freshPg('pgcore_guards');
      audit = new PgAuditLog(fresh.pg.pool, {
        clock,
        pseudonymKey: randomBytes(32),
        checkpointKey: generateCheckpointKey(),
        ...quiet,
      });
      const uow = new PgUnitOfWork({ pool: fresh.pg.pool, audit });
      for (let n = 1; n <= 3; n++) await appendLine(uow, readEntry(n));
    });
    afterAll(() => fresh?.drop());

    const refused = (sql: string, values: unknown[] = []) => expect(fresh.pg.pool.query(sql, values)).rejects.toThrow();
    const head = async () => (await fresh.pg.pool.query('SELECT seq, chain_hash, leaf_hash, entry, at FROM audit_log ORDER BY seq DESC LIMIT 1')).rows[0];

    it('no line changes, but for the prune’s blanking, and none is deleted or truncated', async () => {
      await refused(`UPDATE audit_log SET outcome = 'permit' WHERE seq = 3`);
      await refused(`UPDATE audit_log SET entry = NULL, actor_sub = NULL, actor_org = NULL, client_ref = NULL, purpose = NULL, decision_id = NULL,
        actor_iss = NULL, actor_role = NULL, bsn_lookup = NULL, noodtoegang = NULL, time_class = NULL WHERE seq = 1`); // no prune line covers it
      await refused('DELETE FROM audit_log WHERE seq = 3');
      await refused('TRUNCATE audit_log');
      await refused('UPDATE audit_checkpoints SET at = 0');
      await refused('DELETE FROM audit_checkpoints');
      await refused('TRUNCATE audit_checkpoints');
      expect(await audit.verify()).toMatchObject({ ok: true, records: 3 });
    });

    it('a line that does not extend the head is refused: a stale head, a gap, a wrong hash', async () => {
      const h = await head();
      const row = (seq: number, chain: Buffer, leaf = h.leaf_hash as Buffer) => [seq, h.at, 'record.read', 'permit', h.entry, leaf, chain];
      const insert = 'INSERT INTO audit_log (seq, at, action, outcome, entry, leaf_hash, chain_hash) VALUES ($1, $2, $3, $4, $5, $6, $7)';
      await refused(insert, row(3, randomBytes(32))); // the position taken (a second writer on a stale head)
      await refused(insert, row(5, randomBytes(32))); // a gap
      await refused(insert, row(4, randomBytes(32))); // does not follow line 3's chain hash
      await refused(insert, row(4, h.chain_hash as Buffer, randomBytes(32))); // the leaf is not the content's
      expect(await audit.verify()).toMatchObject({ ok: true, records: 3 });
    });

    it('the linkage trigger hashes by the line format: format 2 over the stored columns, format 1 over the content, no other', async () => {
      const h = await head();
      const seq = 4;
      const at = Number(h.at);
      // The trigger hashes the content, never parses it; characters beyond U+FFFF count twice in the encoding's lengths.
      const entry = JSON.stringify({ seq, at, entry: { action: 'record.read', note: 'é 😀 ü' } });
      const values = [
        seq,
        at,
        'record.read',
        'permit',
        'https://login.example',
        'coach-😀',
        'participatiecoach',
        'GM1960',
        'WZR-1',
        'doel',
        null,
        null,
        1,
        2,
        entry,
      ];
      const columns = `${LINE_COLUMNS.join(', ')}, leaf_hash, chain_hash, format`;
      const insert = `INSERT INTO audit_log (${columns}) VALUES (${Array.from({ length: 18 }, (_, i) => `$${i + 1}`).join(', ')})`;
      const row = (leaf: Buffer, format: number | null, v: unknown[] = values) => [...v, leaf, chainHash(h.chain_hash as Buffer, leaf), format];
      const v2 = leafHashV2(values);
      await refused(insert, row(leafHash(entry), 2)); // format 2 with format 1's leaf
      await refused(insert, row(v2, null)); // format 1 with format 2's leaf
      await refused(insert, row(v2, 3)); // no such format
      await refused(insert, row(v2, 2, values.with(7, 'GM0000'))); // a column other than the leaf says
      await refused(insert, row(v2, 2, values.with(13, 3)));
      for (const [leaf, format] of [
        [v2, 2],
        [leafHash(entry), null], // as an instance of the release before writes
      ] as const) {
        const client = await fresh.pg.pool.connect();
        try {
          await client.query('BEGIN');
          await client.query(insert, row(leaf, format));
        } finally {
          await client.query('ROLLBACK');
          client.release();
        }
      }
      expect(await audit.verify()).toMatchObject({ ok: true, records: 3 });
    });

    it('blanking is allowed once a committed prune line covers the lines', async () => {
      clock.advance(2 * DAY_MS);
      const client = await fresh.pg.pool.connect();
      try {
        await client.query('BEGIN');
        const prune = audit.prepare({
          action: 'audit.pruned',
          traceId: 'a'.repeat(32),
          spanId: 'b'.repeat(16),
          origin: 'cli',
          outcome: 'permit',
          reason: 'RETENTION_EXPIRED',
          processingActivityId: 'WZR-VA-091',
          before: T0 + 1,
          retentionDays: 1,
          count: 2,
          fromSeq: 1,
          toSeq: 2,
        } as never);
        await audit.writeLines(client, [prune]);
        await client.query(`UPDATE audit_log SET entry = NULL, actor_sub = NULL, actor_org = NULL, client_ref = NULL, purpose = NULL, decision_id = NULL,
          actor_iss = NULL, actor_role = NULL, bsn_lookup = NULL, noodtoegang = NULL, time_class = NULL WHERE seq <= 2`);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
      expect(await audit.verify()).toMatchObject({ ok: true, records: 4 });
      await refused(`UPDATE audit_log SET entry = NULL WHERE seq = 4`); // a prune line is never blanked
    });

    it('a policy version’s content, an emergency access’s verdict and a review never change', async () => {
      const { rows } = await fresh.pg.pool.query(
        `INSERT INTO policy_versions (document, hash, status, author_sub, author_org, created_at) VALUES ('{}', 'h', 'draft', 's', 'o', 1) RETURNING id`,
      );
      await fresh.pg.pool.query(`UPDATE policy_versions SET status = 'rejected' WHERE id = $1`, [rows[0].id]); // status moves
      await refused(`UPDATE policy_versions SET document = '{"x":1}' WHERE id = $1`, [rows[0].id]);
      await refused('DELETE FROM policy_versions');
      await fresh.pg.pool.query(
        `INSERT INTO noodtoegang (id, at, actor_iss, actor_sub, actor_role, actor_org, person, client_id, client_ref, purpose, reden, token_id)
         VALUES ('n1', 1, 'i', 's', 'r', 'o', 'p', 'c', 'WZR-1', 'doel', 'een reden van voldoende lengte', 't')`,
      );
      const judge = `UPDATE noodtoegang SET verdict = $1, verdict_note = 'n', verdict_iss = 'i', verdict_sub = 's2', verdict_at = 2 WHERE id = 'n1'`;
      await fresh.pg.pool.query(judge, ['terecht']);
      await refused(judge, ['onterecht']);
      await refused(`DELETE FROM noodtoegang`);
      await fresh.pg.pool.query(
        `INSERT INTO oversight_reviews (at, officer_iss, officer_sub, officer_org, subject, period_from, period_to, note) VALUES (1, 'i', 's', 'o', 'monthly', '2026-01-01', '2026-01-31', 'n')`,
      );
      await refused(`UPDATE oversight_reviews SET note = 'other'`);
      await refused('TRUNCATE oversight_reviews');
    });
  });

  describe('two instances', () => {
    let fresh: FreshPg;
    const pools: pg.Pool[] = [];
    beforeAll(async () => {
      fresh = await freshPg('pgcore_instances');
    });
    afterAll(async () => {
      await Promise.all(pools.map((p) => p.end()));
      await fresh?.drop();
    });

    it('each appending from 8 concurrent clients, build one chain with no gap and no fork', async () => {
      const key = generateCheckpointKey();
      const instance = (name: string) => {
        const pool = new pg.Pool({ connectionString: fresh.url, max: 8 });
        pool.on('error', () => {});
        pools.push(pool);
        const audit = new PgAuditLog(pool, {
          clock: { now: () => Date.now() },
          pseudonymKey: randomBytes(32),
          checkpointKey: key,
          checkpointEvery: 250,
          ...quiet,
        });
        return { name, audit, uow: new PgUnitOfWork({ pool, audit, maxBatches: 8 }) };
      };
      const instances = [instance('a'), instance('b')];
      const perClient = 125;
      await Promise.all(
        instances.flatMap(({ name, uow }, i) =>
          Array.from({ length: 8 }, async (_, c) => {
            for (let k = 0; k < perClient; k++) {
              const n = (i * 8 + c) * perClient + k + 1;
              await appendLine(uow, { ...readEntry(n), tokenId: `${name}-${c}-${k}` });
            }
          }),
        ),
      );
      const total = 2 * 8 * perClient;
      const { rows } = await fresh.pg.pool.query<{ n: number; lo: number; hi: number; tokens: number }>(
        `SELECT count(*)::int AS n, min(seq) AS lo, max(seq) AS hi, count(DISTINCT (entry::jsonb #>> '{entry,tokenId}'))::int AS tokens FROM audit_log`,
      );
      expect(rows[0]).toEqual({ n: total, lo: 1, hi: total, tokens: total });
      const verdict = await instances[1]!.audit.verify({ publicKey: key.publicKey });

      expect(verdict).toMatchObject({ ok: true, records: total, checkpoints: expect.any(Number) });
      const sizes = (await fresh.pg.pool.query('SELECT size FROM audit_checkpoints ORDER BY size')).rows.map((r) => r.size as number);
      expect(sizes.filter((s) => s % 250 === 0)).toEqual([250, 500, 750, 1000, 1250, 1500, 1750, 2000]);
    });
  });
});
