import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { generateCheckpointKey } from '../src/audit/keys.js';
import { PgAuditLog } from '../src/audit/log-pg.js';
import { auditQuerySchema } from '../src/audit/query.js';
import { OversightReviews } from '../src/audit/reviews.js';
import { PgOversightReviews } from '../src/audit/reviews-pg.js';
import { fixedClock } from '../src/clock.js';
import { openDatabase, openRecordsDatabase } from '../src/db.js';
import { EXAMPLE_EXPORT_FILE } from '../src/demo.js';
import { DoelpoortError } from '../src/errors.js';
import { codeToStatus } from '../src/http/problem.js';
import { parseInput } from '../src/http/validate.js';
import { PgUnitOfWork } from '../src/pg-unit-of-work.js';
import { pgTxStores } from '../src/pg-stores.js';
import { NoodtoegangStore, type NoodtoegangGrant } from '../src/noodtoegang/store.js';
import { PgNoodtoegangStore } from '../src/noodtoegang/store-pg.js';
import { policyVersionOf } from '../src/policy/compile.js';
import type { PolicyDocument } from '../src/policy/document.js';
import { PolicyVersions } from '../src/policy/versions.js';
import { PgPolicyVersions } from '../src/policy/versions-pg.js';
import { generateSuiteExport } from '../src/records/generate.js';
import { type ImportOptions, importSuiteExport } from '../src/records/import.js';
import { importSuiteExportPg } from '../src/records/import-pg.js';
import { RecordStore } from '../src/records/store.js';
import { PgRecordStore } from '../src/records/store-pg.js';
import type { SuiteRecord } from '../src/records/suite-record.js';
import { PENDING_LOGIN_MS, SessionStore, type SessionLogin } from '../src/web/sessions.js';
import { PgSessionStore } from '../src/web/sessions-pg.js';
import type { Awaitable, DenyLine } from '../src/unit-of-work.js';
import { readEntry } from './audit-support.js';
import { openPostgres } from '../src/postgres.js';
import { type FreshPg, freshPg, pgUrl } from './pg-support.js';
import { TODAY } from './support.js';

/**
 * Every PostgreSQL store against its SQLite twin: each table of cases runs on both (`describe.each` over the two
 * factories), so what passes proves the two answer alike, refusals included. The PostgreSQL side gets a database of
 * its own per test (a store's guards refuse TRUNCATE, so there is no cleaning up in between).
 */

const databases: FreshPg[] = [];
afterAll(async () => {
  await Promise.all(databases.splice(0).map((d) => d.drop()));
});
async function fresh(): Promise<FreshPg> {
  const d = await freshPg('pgstores');
  databases.push(d);
  return d;
}
const database = async (): Promise<pg.Pool> => (await fresh()).pg.pool;

/** Both implementations, or SQLite alone where no PostgreSQL server is configured (CI always has one). */
const both = <T>(sqlite: T, postgres: T): Array<[string, T]> => [['sqlite', sqlite], ...(pgUrl ? [['postgres', postgres] as [string, T]] : [])];

/** The code of the DoelpoortError `f` rejects with. */
async function codeOf(f: () => Awaitable<unknown>): Promise<string> {
  try {
    await f();
  } catch (error) {
    if (error instanceof DoelpoortError) return error.code;
    throw error;
  }
  throw new Error('expected a DoelpoortError');
}

// ---------------------------------------------------------------------------------------------------------------
// Records and the import

const fixture = fs.readFileSync(EXAMPLE_EXPORT_FILE, 'utf8');
const fixtureLines = fixture.trim().split('\n');
const anna = JSON.parse(fixtureLines[0]!) as SuiteRecord;
const mutate = (f: (r: Record<string, any>) => void, base: SuiteRecord = anna) => {
  const r = structuredClone(base) as Record<string, any>;
  f(r);
  return JSON.stringify(r);
};

type Records = Pick<RecordStore, 'get' | 'clientRefByBsn' | 'bsnOf' | 'count' | 'holdsOnlyDemoRecords' | 'caseload' | 'inbox' | 'kp4Clients' | 'replace'>;
type AsyncRecords = { [K in keyof Records]: (...args: Parameters<Records[K]>) => Awaitable<ReturnType<Records[K]>> };

interface RecordsSide {
  store: AsyncRecords;
  run(text: string, options?: Partial<ImportOptions>): Promise<Awaited<ReturnType<typeof importSuiteExport>>>;
  /** Every row of every records table, to show a failed import changed nothing. */
  snapshot(): Promise<unknown>;
  handoversTo(org: string, status: string): Promise<string[]>;
}

const clock = () => fixedClock(`${TODAY}T10:00:00Z`);
const TABLES = ['clients', 'overdrachten', 'schuldhulptrajecten', 'klantprofielen'];

const recordSides = both<() => Promise<RecordsSide>>(
  async () => {
    const store = new RecordStore(openRecordsDatabase(':memory:'));
    const all = (sql: string, ...args: string[]) => store.db.$client.prepare(sql).all(...args);
    return {
      store,
      run: (text, options) => importSuiteExport(store, Readable.from([text]), { clock: clock(), ...options }),
      snapshot: async () => TABLES.map((t) => all(`SELECT * FROM ${t} ORDER BY 1, 2`)),
      handoversTo: async (org, status) =>
        (all('SELECT client_ref AS ref FROM overdrachten WHERE naar_organisatie = ? AND status = ? ORDER BY 1', org, status) as Array<{ ref: string }>).map(
          (r) => r.ref,
        ),
    };
  },
  async () => {
    const pool = await database();
    const store = new PgRecordStore(pool);
    const all = async (sql: string, ...args: string[]) => (await pool.query(sql, args)).rows;
    return {
      store,
      // Batches of two, so that every case crosses batch boundaries.
      run: (text, options) => importSuiteExportPg(store, Readable.from([text]), { clock: clock(), batchSize: 2, ...options }),
      snapshot: async () => Promise.all(TABLES.map((t) => all(`SELECT * FROM ${t} ORDER BY 1, 2`))),
      handoversTo: async (org, status) =>
        (await all('SELECT client_ref AS ref FROM overdrachten WHERE naar_organisatie = $1 AND status = $2 ORDER BY 1', org, status)).map(
          (r) => r.ref as string,
        ),
    };
  },
);

async function problemsOf(promise: Promise<unknown>): Promise<string[]> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DoelpoortError);
  expect((error as DoelpoortError).code).toBe('IMPORT_INVALID');
  return (error as DoelpoortError).problems.map((p) => `${p.path}: ${p.message}`);
}

describe.each(recordSides)('records on %s', (_, side) => {
  it('imports the example export and reads each record back whole', async () => {
    const { store, run } = await side();
    expect(await run(fixture)).toMatchObject({ lines: 6, imported: 6, replaced: 0 });
    expect(await store.count()).toBe(6);
    expect(await store.get('WZR-100001')).toEqual(anna);
    expect(Object.isFrozen(await store.get('WZR-100001'))).toBe(true);
    expect(await store.get('WZR-100001')).toBe(await store.get('WZR-100001'));
    expect(await store.clientRefByBsn(anna.bsn)).toBe('WZR-100001');
    expect(await store.bsnOf('WZR-100001')).toBe(anna.bsn);
    expect(await store.get('WZR-999999')).toBeUndefined();
    expect(await store.clientRefByBsn('000000000')).toBeUndefined();
  });

  it('replaces a client whole on a later export, projections included', async () => {
    const { store, run, handoversTo } = await side();
    await run(fixture);
    expect(await handoversTo('GM1960', 'aangevraagd')).toContain('WZR-100001');
    const later = mutate((r) => {
      r.overdrachten[0].status = 'afgerond';
      delete r.boetes;
    });
    expect(await run(`${later}\n`)).toMatchObject({ imported: 1, replaced: 1 });
    expect(await store.count()).toBe(6);
    expect((await store.get('WZR-100001'))!.boetes).toBeUndefined();
    expect(await handoversTo('GM1960', 'aangevraagd')).not.toContain('WZR-100001');
    expect(await handoversTo('GM1960', 'afgerond')).toContain('WZR-100001');
  });

  const badLines: Array<[string, string, RegExp]> = [
    ['a BSN failing the elfproef', mutate((r) => (r.bsn = '123456789')), /^line 3: bsn: must be nine digits passing the elfproef$/],
    ['an unknown key', mutate((r) => (r.persoon.geboortdatum = '1968-04-12')), /^line 3: persoon: unknown key\(s\) geboortdatum$/],
    ['a duplicate id', mutate((r) => (r.contactmomenten[1].id = 'CM-1')), /^line 3: contactmomenten\[1\].id: duplicate id within this client$/],
    ['malformed JSON', '{"clientRef": "WZR-1", "bsn": ', /^line 3: not valid JSON/],
  ];

  it.each(badLines)('rejects %s, names the line, and leaves the store as it was', async (_, line, expected) => {
    const { run, snapshot } = await side();
    await run(`${fixtureLines.slice(3).join('\n')}\n`);
    const before = await snapshot();
    const problems = await problemsOf(run(`${fixtureLines.map((l, i) => (i === 2 ? line : l)).join('\n')}\n`));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected);
    expect(await snapshot()).toEqual(before);
  });

  it('reports every problem of the file in line order, a taken BSN among them', async () => {
    const { run } = await side();
    await run(`${fixtureLines[0]}\n`);
    const stolen = mutate((r) => (r.clientRef = 'WZR-100077'));
    const text = [fixtureLines[1], stolen, fixtureLines[2], '{', mutate((r) => (r.bsn = '1'), JSON.parse(fixtureLines[3]!) as SuiteRecord)].join('\n');
    expect(await problemsOf(run(text))).toEqual([
      'line 2: bsn: this BSN already belongs to another client',
      'line 4: not valid JSON (malformed or truncated line)',
      'line 5: bsn: must be nine digits passing the elfproef',
    ]);
  });

  it('rejects an empty file, and the same client twice in one file', async () => {
    const { run, store } = await side();
    expect(await problemsOf(run(''))).toEqual(['line 1: the file holds no records']);
    expect(await problemsOf(run(`${fixtureLines[0]}\n${fixtureLines[0]}\n`))).toEqual(['line 2: clientRef: the same client already appears on line 1']);
    expect(await store.count()).toBe(0);
  });

  it('refuses a BSN that belongs to another client, in the store or on an earlier line', async () => {
    const { run, store } = await side();
    await run(fixture);
    expect(await problemsOf(run(mutate((r) => (r.clientRef = 'WZR-100077'))))).toEqual(['line 1: bsn: this BSN already belongs to another client']);
    const second = JSON.parse(fixtureLines[1]!) as SuiteRecord;
    const twice = [
      mutate((r) => (r.clientRef = 'WZR-200001'), { ...anna, bsn: '100000009' }),
      mutate((r) => (r.clientRef = 'WZR-200002'), { ...second, bsn: '100000009' }),
    ];
    expect(await problemsOf(run(twice.join('\n')))).toEqual(['line 2: bsn: this BSN already belongs to another client']);
    expect(await store.count()).toBe(6);
  });

  it('frees a client’s old BSN for the lines after it, as writing one by one would', async () => {
    const { run, store } = await side();
    await run(fixture);
    const second = JSON.parse(fixtureLines[1]!) as SuiteRecord;
    // Anna gets a new BSN on line 1; a new client takes her old one on line 2 (same batch) and another on line 3.
    const text = [
      mutate((r) => (r.bsn = '100000009')),
      mutate((r) => (r.clientRef = 'WZR-300001'), anna),
      mutate((r) => ((r.clientRef = 'WZR-300002'), (r.bsn = '100000010')), second),
    ].join('\n');
    expect(await run(text)).toMatchObject({ imported: 3, replaced: 1 });
    expect(await store.clientRefByBsn(anna.bsn)).toBe('WZR-300001');
    expect(await store.clientRefByBsn('100000009')).toBe('WZR-100001');
    // The other way round (the new client first) is refused: at that line the BSN is still Anna's.
    const { run: run2 } = await side();
    await run2(fixture);
    expect(await problemsOf(run2([mutate((r) => (r.clientRef = 'WZR-300001')), mutate((r) => (r.bsn = '100000009'))].join('\n')))).toEqual([
      'line 1: bsn: this BSN already belongs to another client',
    ]);
  });

  it('knows whether it holds only demo records', async () => {
    const { store, run } = await side();
    expect(await store.holdsOnlyDemoRecords()).toBe(true);
    await run(fixture, { origin: 'demo' });
    expect(await store.holdsOnlyDemoRecords()).toBe(true);
    await expect(run('{}\n')).rejects.toThrow(DoelpoortError);
    expect(await store.holdsOnlyDemoRecords()).toBe(true);
    await run(`${fixtureLines[0]}\n`);
    expect(await store.holdsOnlyDemoRecords()).toBe(false);
    const { store: bare } = await side();
    await bare.replace(anna, 0);
    expect(await bare.holdsOnlyDemoRecords()).toBe(false);
  });

  it('pages the caseload, active trajectories only, in byte order of the clientRef', async () => {
    const { store } = await side();
    const withTraject = (ref: string, bsn: string, gemeente: string, vanaf: string, tot: string | null): SuiteRecord => ({
      ...anna,
      clientRef: ref,
      bsn,
      schuldhulptrajecten: [{ id: 'SH-1', gemeente, vanaf, tot }],
    });
    await store.replace(withTraject('WZR-3', '100000009', 'GM0281', '2026-01-01', null), 0);
    await store.replace(withTraject('WZR-1', '100000010', 'GM0281', '2025-01-01', '2027-01-01'), 0);
    await store.replace(withTraject('WZR-2', '100000022', 'GM0281', '2025-01-01', '2025-06-30'), 0);
    await store.replace(withTraject('WZR-4', '100000034', 'GM0297', '2026-01-01', null), 0);
    // Hyphens and digits: a linguistic collation would order these otherwise than SQLite's bytes.
    await store.replace(withTraject('WZR10', '100000046', 'GM0281', '2026-01-01', null), 0);
    await store.replace(withTraject('WZR-10', '100000058', 'GM0281', '2026-01-01', null), 0);
    const first = await store.caseload('GM0281', TODAY, { limit: 2 });
    expect(first).toEqual({ items: ['WZR-1', 'WZR-10'], next: 'WZR-10' });
    expect(await store.caseload('GM0281', TODAY, { limit: 2, after: first.next! })).toEqual({ items: ['WZR-3', 'WZR10'], next: null });
  });
});

describe.skipIf(!pgUrl)('records on both: one generated export, the same answers', () => {
  it('answers every caseload, inbox and KP4 list page alike, and the import summary too', async () => {
    const text = [...generateSuiteExport({ clients: 600, seed: 7, today: TODAY })].map((r) => JSON.stringify(r)).join('\n');
    const [[, makeSqlite], [, makePg]] = recordSides as [[string, () => Promise<RecordsSide>], [string, () => Promise<RecordsSide>]];
    const [a, b] = [await makeSqlite(), await makePg()];
    const summary = async (s: RecordsSide) => ({ ...(await s.run(text, { batchSize: 97 } as Partial<ImportOptions>)), durationMs: 0 });
    expect(await summary(b)).toEqual(await summary(a));
    const walk = async <T>(page: (after: string | undefined) => Awaitable<{ items: T[]; next: string | null } | undefined>) => {
      const all: T[] = [];
      let after: string | undefined;
      do {
        const p = (await page(after))!;
        all.push(...p.items);
        after = p.next ?? undefined;
      } while (after !== undefined);
      return all;
    };
    const gemeenten = ['GM0214', 'GM0216', 'GM0263', 'GM0281', 'GM0297', 'GM0668', 'GM1740', 'GM1960'];
    let listed = 0;
    for (const g of gemeenten) {
      for (const s of [a, b]) expect(s).toBeDefined();
      const caseload = await walk((after) => a.store.caseload(g, TODAY, { limit: 7, ...(after ? { after } : {}) }));
      expect(await walk((after) => b.store.caseload(g, TODAY, { limit: 7, ...(after ? { after } : {}) }))).toEqual(caseload);
      const kp4 = await walk((after) => a.store.kp4Clients(g, TODAY, { limit: 9, after }));
      expect(await walk((after) => b.store.kp4Clients(g, TODAY, { limit: 9, after }))).toEqual(kp4);
      for (const open of [
        { naarOrganisatie: g, richting: 'KP3-KP4' as const, afgerondAfter: '2026-08-25' },
        { naarOrganisatie: g, richting: 'KP3-KP4' as const, afgerondAfter: null },
      ]) {
        const inbox = await walk((after) => a.store.inbox(open, { limit: 5, after }));
        expect(await walk((after) => b.store.inbox(open, { limit: 5, after }))).toEqual(inbox);
        listed += inbox.length;
      }
      listed += caseload.length + kp4.length;
    }
    const inbox = { naarOrganisatie: 'WERKZAAK', richting: 'KP4-KP3' as const, afgerondAfter: null };
    expect(await walk((after) => b.store.inbox(inbox, { limit: 4, after }))).toEqual(await walk((after) => a.store.inbox(inbox, { limit: 4, after })));
    expect(listed).toBeGreaterThan(100);
    // A cursor that names no client of the inbox is refused alike.
    expect(await b.store.inbox(inbox, { limit: 4, after: 'WZR-NOPE' })).toBeUndefined();
    expect(await a.store.inbox(inbox, { limit: 4, after: 'WZR-NOPE' })).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Policy versions

const v1 = { rules: [{ role: 'werkcoach', purpose: 'overdracht-kp3', action: 'read', subject: 'Persoon', fields: ['voornamen'] }] };
const v2 = { rules: [{ role: 'werkcoach', purpose: 'overdracht-kp3', action: 'read', subject: 'Persoon', fields: ['voornamen', 'achternaam'] }] };
const WERKZAAK_IDP = 'https://login.werkzaak.example';
const alice = { iss: WERKZAAK_IDP, sub: 'po-alice', org: 'WERKZAAK' };
const bob = { iss: WERKZAAK_IDP, sub: 'po-bob', org: 'WERKZAAK' };
const tiel = { iss: 'https://login.tiel.example', sub: 'po-tiel', org: 'GM0281' };
const system = { iss: 'doelpoort', sub: 'system', org: 'WERKZAAK' };

type Versions = Pick<PolicyVersions, 'active' | 'get' | 'list' | 'ensureActive' | 'propose' | 'approve' | 'reject'>;
type AsyncVersions = { [K in keyof Versions]: (...args: Parameters<Versions[K]>) => Awaitable<ReturnType<Versions[K]>> };

const versionSides = both<() => Promise<AsyncVersions>>(
  async () => new PolicyVersions(openDatabase(':memory:'), clock()),
  async () => new PgPolicyVersions(await database(), clock()),
);

describe.each(versionSides)('policy versions on %s', (_, side) => {
  const setup = async () => {
    const versions = await side();
    await versions.ensureActive(v1, system);
    return versions;
  };

  it('stores the policies directory as version 1 on first start, and only then', async () => {
    const versions = await setup();
    expect(await versions.active()).toMatchObject({ id: 1, status: 'active', hash: policyVersionOf(v1 as unknown as PolicyDocument), decider: 'system' });
    await versions.ensureActive(v2, system);
    expect(await versions.list()).toHaveLength(1);
  });

  it('keeps a proposal as a draft until another officer approves it; the author cannot', async () => {
    const versions = await setup();
    expect(await versions.propose(v2, alice)).toMatchObject({ id: 2, status: 'draft', baseVersion: 1, author: alice, createdAt: `${TODAY}T10:00:00.000Z` });
    expect(await codeOf(() => versions.approve(2, alice))).toBe('POLICY_SELF_APPROVAL');
    expect(await codeOf(() => versions.approve(2, { ...alice, sub: 'PO-ALICE' }))).toBe('POLICY_SELF_APPROVAL');
    expect((await versions.active())!.id).toBe(1);
    const { activated, retired } = await versions.approve(2, bob);
    expect(activated).toMatchObject({ id: 2, status: 'active', decider: 'po-bob', deciderIss: WERKZAAK_IDP, decidedAt: `${TODAY}T10:00:00.000Z` });
    expect(retired).toMatchObject({ id: 1, status: 'retired', decider: 'system' });
    expect((await versions.active())!.document).toEqual(v2);
    expect((await versions.list()).map((v) => [v.id, v.status])).toEqual([
      [2, 'active'],
      [1, 'retired'],
    ]);
  });

  it('refuses a stale draft, one that is not a draft, or one that does not exist', async () => {
    const versions = await setup();
    await versions.propose(v2, alice);
    await versions.propose(v1, alice);
    await versions.approve(2, bob);
    expect(await codeOf(() => versions.approve(3, bob))).toBe('POLICY_STALE');
    expect(await codeOf(() => versions.approve(2, bob))).toBe('POLICY_NOT_DRAFT');
    expect(await codeOf(() => versions.approve(99, bob))).toBe('POLICY_NOT_FOUND');
    expect((await versions.get(3))!.status).toBe('draft');
  });

  it('rejects a draft with its reason, after which it cannot be approved nor rejected again', async () => {
    const versions = await setup();
    await versions.propose(v2, alice);
    expect(await versions.reject(2, bob, 'te ruim')).toMatchObject({ status: 'rejected', rejectReason: 'te ruim', decider: 'po-bob' });
    expect(await codeOf(() => versions.approve(2, bob))).toBe('POLICY_NOT_DRAFT');
    expect(await codeOf(() => versions.reject(2, bob, 'nogmaals'))).toBe('POLICY_NOT_DRAFT');
    expect(await codeOf(() => versions.reject(42, bob, 'weg'))).toBe('POLICY_NOT_FOUND');
  });

  it('lets only a privacy officer of WERKZAAK decide; two issuers with one sub are two persons', async () => {
    const versions = await setup();
    await versions.propose(v2, tiel);
    expect(await codeOf(() => versions.approve(2, { ...tiel, sub: 'po-tiel-2' }))).toBe('POLICY_DECIDER_NOT_CONTROLLER');
    expect(await codeOf(() => versions.reject(2, tiel, 'ingetrokken'))).toBe('POLICY_DECIDER_NOT_CONTROLLER');
    expect((await versions.get(2))!.status).toBe('draft');
    expect(await codeOf(() => versions.approve(2, { ...tiel, org: 'WERKZAAK' }))).toBe('POLICY_SELF_APPROVAL');
    expect((await versions.approve(2, { iss: WERKZAAK_IDP, sub: 'po-tiel', org: 'WERKZAAK' })).activated).toMatchObject({ id: 2, author: tiel });
  });

  it('rolls back by proposing an old version again, through the same four eyes', async () => {
    const versions = await setup();
    await versions.propose(v2, alice);
    await versions.approve(2, bob);
    const again = await versions.propose((await versions.get(1))!.document, bob);
    expect(await codeOf(() => versions.approve(again.id, bob))).toBe('POLICY_SELF_APPROVAL');
    await versions.approve(again.id, alice);
    expect(await versions.active()).toMatchObject({ id: 3, hash: policyVersionOf(v1 as unknown as PolicyDocument), baseVersion: 2 });
  });
});

describe.skipIf(!pgUrl)('policy versions on postgres, two instances at once', () => {
  it('approves one of two drafts on the same base, and the other is stale: one active version, never two', async () => {
    const { pg: opened, url } = await fresh();
    const pool = opened.pool;
    const second = (await openPostgres(url, { migrate: false })).pool;
    try {
      const a = new PgPolicyVersions(pool, clock());
      const b = new PgPolicyVersions(second, clock());
      await Promise.all([a.ensureActive(v1, system), b.ensureActive(v1, system)]);
      expect(await a.list()).toHaveLength(1);
      await a.propose(v2, alice);
      await b.propose(v2, tiel);
      for (let round = 0; round < 3; round++) {
        const base = (await a.active())!.id;
        const [x, y] = [await a.propose(v1, alice), await b.propose(v2, tiel)];
        expect([x.baseVersion, y.baseVersion]).toEqual([base, base]);
        const outcomes = await Promise.allSettled([a.approve(x.id, bob), b.approve(y.id, bob)]);
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
        expect((refused.reason as DoelpoortError).code).toBe('POLICY_STALE');
        const statuses = (await a.list()).map((v) => v.status);
        expect(statuses.filter((s) => s === 'active')).toHaveLength(1);
      }
    } finally {
      await second.end();
    }
  });

  it('takes part in the caller’s transaction: a refusal leaves it usable, a rollback takes the approval back', async () => {
    const pool = await database();
    const versions = new PgPolicyVersions(pool, clock());
    await versions.ensureActive(v1, system);
    await versions.propose(v2, alice);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const inTx = versions.on(client);
      expect(await codeOf(() => inTx.approve(2, alice))).toBe('POLICY_SELF_APPROVAL');
      expect((await inTx.approve(2, bob)).activated.status).toBe('active');
      expect((await versions.active())!.id).toBe(1); // not committed: the pool sees version 1
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect((await versions.active())!.id).toBe(1);
    expect((await versions.get(2))!.status).toBe('draft');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Web sessions and pending logins

const MINUTE = 60_000;
const login: SessionLogin = { issuer: 'https://login.gemeente.example', sub: 'coach-1', role: 'participatiecoach', org: 'GM1960', name: 'Sanne de Vries' };
const ID_TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjb2FjaC0xIn0.c2lnbmF0dXJl';

type Sessions = Pick<SessionStore, 'create' | 'get' | 'touch' | 'destroy' | 'hasExpired' | 'prune' | 'beginLogin' | 'takeLogin' | 'prunePendingLogins'>;
type AsyncSessions = { [K in keyof Sessions]: (...args: Parameters<Sessions[K]>) => Awaitable<ReturnType<Sessions[K]>> };
type SessionOptions = { idleMinutes: number; maxHours: number };

const sessionSides = both<(c: ReturnType<typeof clock>, o: SessionOptions) => Promise<{ store: AsyncSessions; dump(): Promise<string> }>>(
  async (c, o) => {
    const db = openDatabase(':memory:');
    const dump = async () =>
      JSON.stringify([db.$client.prepare('SELECT * FROM web_sessions').all(), db.$client.prepare('SELECT * FROM web_pending_logins').all()]);
    return { store: new SessionStore(db, c, o), dump };
  },
  async (c, o) => {
    const pool = await database();
    const dump = async () =>
      JSON.stringify([(await pool.query('SELECT * FROM web_sessions')).rows, (await pool.query('SELECT * FROM web_pending_logins')).rows]);
    return { store: new PgSessionStore(pool, c, o), dump };
  },
);

describe.each(sessionSides)('sessions on %s', (_, side) => {
  const setup = async (o: Partial<SessionOptions> = {}) => {
    const c = clock();
    const { store, dump } = await side(c, { idleMinutes: o.idleMinutes ?? 15, maxHours: o.maxHours ?? 8 });
    return { clock: c, store, dump };
  };

  it('stores only hashes of the session id, and finds the session by its id alone', async () => {
    const { store, dump } = await setup();
    const { id, csrfToken } = await store.create(login, ID_TOKEN);
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await dump()).not.toContain(id);
    expect(await store.get(id)).toEqual({ status: 'active', session: { login, csrfToken }, lastSeenAt: Date.parse(`${TODAY}T10:00:00Z`) });
    for (const wrong of ['x'.repeat(43), '', `${id}x`]) expect((await store.get(wrong)).status).toBe('unknown');
  });

  it('ends a session after the idle timeout, and never lets activity pass its absolute end', async () => {
    const { store, clock: c } = await setup({ idleMinutes: 15, maxHours: 1 });
    const { id } = await store.create(login, ID_TOKEN);
    c.advance(15 * MINUTE - 1);
    expect((await store.get(id)).status).toBe('active');
    expect(await store.touch(id)).toBe(true);
    c.advance(15 * MINUTE - 1);
    expect((await store.get(id)).status).toBe('active');
    c.advance(1);
    expect(await store.get(id)).toEqual({ status: 'expired', reason: 'IDLE_TIMEOUT', login });
    const other = await store.create(login, ID_TOKEN);
    for (let t = 0; t < 5; t++) {
      c.advance(10 * MINUTE);
      await store.touch(other.id);
    }
    c.advance(10 * MINUTE);
    expect(await store.get(other.id)).toEqual({ status: 'expired', reason: 'ABSOLUTE_TIMEOUT', login });
  });

  it('writes last_seen at most once a minute', async () => {
    const { store, clock: c } = await setup();
    const { id } = await store.create(login, ID_TOKEN);
    c.advance(59_999);
    expect(await store.touch(id)).toBe(false);
    c.advance(1);
    expect(await store.touch(id)).toBe(true);
    expect(await store.touch(id)).toBe(false);
    expect(await store.touch('y'.repeat(43))).toBe(false);
    expect(((await store.get(id)) as { lastSeenAt: number }).lastSeenAt).toBe(Date.parse(`${TODAY}T10:01:00Z`));
  });

  it('destroys a session once, handing back its login and ID token', async () => {
    const { store } = await setup();
    const { id } = await store.create(login, ID_TOKEN);
    const other = await store.create({ ...login, sub: 'coach-2' }, ID_TOKEN);
    expect(await store.destroy(id)).toEqual({ login, idToken: ID_TOKEN });
    expect(await store.destroy(id)).toBeUndefined();
    expect(await store.destroy('kort')).toBeUndefined();
    expect((await store.get(id)).status).toBe('unknown');
    expect((await store.get(other.id)).status).toBe('active');
  });

  it('prunes exactly the expired sessions, each with why it ended', async () => {
    const { store, clock: c } = await setup({ idleMinutes: 15, maxHours: 1 });
    const old = await store.create({ ...login, sub: 'old' }, ID_TOKEN);
    c.advance(20 * MINUTE);
    const idle = await store.create({ ...login, sub: 'idle' }, ID_TOKEN);
    const busy = await store.create({ ...login, sub: 'busy' }, ID_TOKEN);
    expect(await store.hasExpired()).toBe(true);
    c.advance(14 * MINUTE);
    await store.touch(busy.id);
    await store.touch(old.id);
    c.advance(2 * MINUTE);
    expect((await store.prune()).map((p) => [p.login.sub, p.reason])).toEqual([['idle', 'IDLE_TIMEOUT']]);
    for (const step of [10, 10]) {
      c.advance(step * MINUTE);
      await store.touch(busy.id);
      await store.touch(old.id);
    }
    c.advance(5 * MINUTE);
    await store.touch(busy.id);
    expect((await store.prune()).map((p) => [p.login.sub, p.reason])).toEqual([['old', 'ABSOLUTE_TIMEOUT']]);
    expect(await store.hasExpired()).toBe(false);
    expect(await store.prune()).toEqual([]);
    expect((await store.get(idle.id)).status).toBe('unknown');
    expect((await store.get(busy.id)).status).toBe('active');
  });

  const pending = { nonce: 'n-1', codeVerifier: 'v-1', issuer: 'https://login.gemeente.example', returnTo: '/inbox', binding: 'browser-1' };

  it('takes a pending login once, only from its browser, within ten minutes', async () => {
    const { store, clock: c, dump } = await setup();
    await store.beginLogin('state-1', pending);
    await store.beginLogin('s-2', pending);
    await store.beginLogin('s-3', { ...pending, returnTo: undefined });
    expect(await dump()).not.toMatch(/"state-1"|"browser-1"/);
    expect(await store.takeLogin('state-1', 'browser-1')).toEqual({
      ok: true,
      value: { nonce: 'n-1', codeVerifier: 'v-1', issuer: pending.issuer, returnTo: '/inbox' },
    });
    expect(await store.takeLogin('state-1', 'browser-1')).toEqual({ ok: false, reason: 'LOGIN_STATE_UNKNOWN' });
    expect(await store.takeLogin('s-2', 'browser-2')).toEqual({ ok: false, reason: 'LOGIN_BINDING_MISMATCH' });
    expect(await store.takeLogin('s-2', 'browser-1')).toEqual({ ok: false, reason: 'LOGIN_STATE_UNKNOWN' });
    for (const state of [undefined, '', 'x'.repeat(513)])
      expect(await store.takeLogin(state, 'browser-1')).toEqual({ ok: false, reason: 'LOGIN_STATE_UNKNOWN' });
    c.advance(PENDING_LOGIN_MS);
    expect(await store.takeLogin('s-3', 'browser-1')).toEqual({ ok: false, reason: 'LOGIN_STATE_UNKNOWN' });
    await store.beginLogin('s-4', pending);
    expect(await store.takeLogin('s-4', undefined)).toEqual({ ok: false, reason: 'LOGIN_BINDING_MISSING' });
    await store.beginLogin('s-5', pending);
    c.advance(PENDING_LOGIN_MS);
    expect(await store.prunePendingLogins()).toBe(1);
    expect(await store.prunePendingLogins()).toBe(0);
  });

  it('refuses a nonsensical configuration at construction', async () => {
    await expect(side(clock(), { idleMinutes: 0, maxHours: 8 })).rejects.toThrow(TypeError);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The review trail and the emergency accesses

type Reviews = Pick<OversightReviews, 'record' | 'list'>;
type AsyncReviews = { [K in keyof Reviews]: (...args: Parameters<Reviews[K]>) => Awaitable<ReturnType<Reviews[K]>> };
type Nood = Pick<NoodtoegangStore, 'record' | 'countSince' | 'get' | 'list' | 'judge'>;
type AsyncNood = { [K in keyof Nood]: (...args: Parameters<Nood[K]>) => Awaitable<ReturnType<Nood[K]>> };

const trailSides = both<() => Promise<{ reviews: AsyncReviews; nood: AsyncNood }>>(
  async () => {
    const db = openDatabase(':memory:');
    return { reviews: new OversightReviews(db), nood: new NoodtoegangStore(db) };
  },
  async () => {
    const pool = await database();
    return { reviews: new PgOversightReviews(pool), nood: new PgNoodtoegangStore(pool) };
  },
);

const T0 = Date.parse(`${TODAY}T10:00:00Z`);
const grant = (n: number, over: Partial<NoodtoegangGrant> = {}): NoodtoegangGrant => ({
  id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  at: T0 + n * MINUTE,
  actor: { iss: 'https://login.gemeente.example', sub: `coach-${n % 2}`, role: 'participatiecoach', org: n % 3 === 0 ? 'GM0281' : 'GM1960' },
  clientId: 'doelpoort-web',
  clientRef: `WZR-${100000 + n}`,
  purpose: 'begeleiding-kp4',
  reden: 'Cliënt staat voor de deur en de overdracht is nog niet geregistreerd',
  tokenId: `tok-${n}`,
  ...over,
});

describe.each(trailSides)('review trail and emergency accesses on %s', (_, side) => {
  it('records reviews and lists them newest first, by organisation, a page at a time', async () => {
    const { reviews } = await side();
    const officer = (org: string) => ({ iss: 'https://login.werkzaak.example', sub: `po-${org}`, org });
    for (let n = 1; n <= 5; n++)
      expect(
        await reviews.record({
          at: T0 + n,
          officer: officer(n % 2 ? 'WERKZAAK' : 'GM0281'),
          subject: 'monthly',
          periodFrom: '2026-10-01',
          periodTo: '2026-10-31',
          note: `n${n}`,
        }),
      ).toBe(n);
    const first = await reviews.list({ limit: 2 });
    expect(first.items.map((r) => r.id)).toEqual([5, 4]);
    expect(first.items[0]).toEqual({
      id: 5,
      at: T0 + 5,
      officer: officer('WERKZAAK'),
      subject: 'monthly',
      periodFrom: '2026-10-01',
      periodTo: '2026-10-31',
      note: 'n5',
    });
    const second = await reviews.list({ limit: 2, cursor: first.next! });
    expect(second.items.map((r) => r.id)).toEqual([3, 2]);
    expect((await reviews.list({ limit: 2, cursor: second.next! })).next).toBeNull();
    expect((await reviews.list({ limit: 10, org: 'GM0281' })).items.map((r) => r.id)).toEqual([4, 2]);
    expect(await codeOf(() => reviews.list({ limit: 2, cursor: 'r1.bm9wZQ' }))).toBe('REQUEST_INVALID');
  });

  it('counts a person’s emergency accesses across case variants, lists the queue with its filters, judges once', async () => {
    const { nood } = await side();
    for (let n = 1; n <= 7; n++) await nood.record(grant(n));
    expect(await nood.countSince({ iss: 'https://login.gemeente.example', sub: 'COACH-1' }, T0)).toBe(4);
    expect(await nood.countSince({ iss: 'https://LOGIN.gemeente.example', sub: 'coach-1' }, T0 + 3 * MINUTE)).toBe(2);
    expect(await nood.countSince({ iss: 'https://login.other.example', sub: 'coach-1' }, 0)).toBe(0);
    expect(await nood.get(grant(2).id)).toEqual({ ...grant(2), seq: 2, verdict: null });
    expect(await nood.get('00000000-0000-4000-8000-999999999999')).toBeUndefined();
    const verdict = { verdict: 'onterecht' as const, note: 'geen spoed', iss: 'https://login.werkzaak.example', sub: 'po-1', at: T0 + 99 };
    expect(await nood.judge(grant(2).id, verdict)).toBe(true);
    expect(await nood.judge(grant(2).id, { ...verdict, verdict: 'terecht' })).toBe(false);
    expect(await nood.judge('00000000-0000-4000-8000-999999999999', verdict)).toBe(false);
    expect((await nood.get(grant(2).id))!.verdict).toEqual({ verdict: 'onterecht', note: 'geen spoed', iss: verdict.iss, sub: 'po-1', at: T0 + 99 });
    const seqs = async (q: { open: boolean; actorOrg?: string; after: number; limit: number }) => {
      const page = await nood.list(q);
      return [page.items.map((i) => i.seq), page.more];
    };
    expect(await seqs({ open: false, after: 0, limit: 3 })).toEqual([[1, 2, 3], true]);
    expect(await seqs({ open: true, after: 0, limit: 3 })).toEqual([[1, 3, 4], true]);
    expect(await seqs({ open: true, after: 4, limit: 3 })).toEqual([[5, 6, 7], false]);
    expect(await seqs({ open: false, actorOrg: 'GM0281', after: 0, limit: 5 })).toEqual([[3, 6], false]);
    expect(await seqs({ open: true, actorOrg: 'GM1960', after: 1, limit: 5 })).toEqual([[4, 5, 7], false]);
  });
});

describe.skipIf(!pgUrl)('emergency accesses on postgres, two instances at once', () => {
  it('counts a person’s grant of the other instance before its own: the weekly limit holds across instances', async () => {
    const { pg: opened, url } = await fresh();
    const pool = opened.pool;
    const second = (await openPostgres(url, { migrate: false })).pool;
    const person = grant(1).actor;
    // Each "instance" counts and, under a limit of 1, grants in one transaction, as the unit of work runs a grant.
    const tryGrant = async (p: pg.Pool, n: number) => {
      const client = await p.connect();
      try {
        await client.query('BEGIN');
        const store = new PgNoodtoegangStore(client);
        const count = await store.countSince(person, 0);
        await new Promise((r) => setTimeout(r, 50)); // the other instance counts meanwhile
        if (count === 0) await store.record(grant(n, { actor: person }));
        await client.query('COMMIT');
        return count === 0;
      } finally {
        client.release();
      }
    };
    try {
      const granted = await Promise.all([tryGrant(pool, 1), tryGrant(second, 2)]);
      expect(granted.filter(Boolean)).toHaveLength(1);
      expect(await new PgNoodtoegangStore(pool).countSince(person, 0)).toBe(1);
    } finally {
      await second.end();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The stores inside the PostgreSQL unit of work

describe.skipIf(!pgUrl)('the PostgreSQL stores in PgUnitOfWork', () => {
  it('reads, writes and rolls back with the work: a refused approval leaves its deny line and the draft as it was', async () => {
    const { pg: opened } = await fresh();
    const pool = opened.pool;
    const c = clock();
    const audit = new PgAuditLog(pool, { clock: c, pseudonymKey: randomBytes(32), checkpointKey: generateCheckpointKey(), checkpointEvery: 1000 });
    const records = new PgRecordStore(pool);
    const policies = new PgPolicyVersions(pool, c);
    const sessions = new PgSessionStore(pool, c, { idleMinutes: 15, maxHours: 8 });
    const uow = new PgUnitOfWork({ pool, audit, stores: pgTxStores({ records, policies, sessions }), statusOf: (code) => codeToStatus[code] });
    await importSuiteExportPg(records, Readable.from([fixture]), { clock: c });
    await policies.ensureActive(v1, system);
    await policies.propose(v2, alice);
    const { outcome: _o, reason: _r, httpStatus: _h, ...deny } = readEntry(1);
    const reasons = async () =>
      (await pool.query<{ entry: string }>('SELECT entry FROM audit_log ORDER BY seq')).rows.map((r) => JSON.parse(r.entry).entry.reason);

    const [record, refusal, proposedThenRefused] = await Promise.allSettled([
      uow.run(
        async (tx) => {
          const r = await tx.records.get('WZR-100001');
          const page = await tx.records.caseload('GM1960', TODAY, { limit: 5 });
          await tx.audit.append(readEntry(2));
          return { r, page };
        },
        { deny: deny as DenyLine },
      ),
      uow.run(
        async (tx) => {
          await tx.policies.approve(2, alice);
          return tx.audit.append(readEntry(3));
        },
        { deny: deny as DenyLine },
      ),
      uow.run(
        async (tx) => {
          await tx.policies.propose(v1, bob);
          throw new DoelpoortError('POLICY_INVALID', 'refused after the write');
        },
        { deny: deny as DenyLine },
      ),
    ]);
    expect(record.status === 'fulfilled' && record.value.r).toEqual(anna);
    expect(refusal).toMatchObject({ status: 'rejected', reason: { code: 'POLICY_SELF_APPROVAL' } });
    expect(proposedThenRefused).toMatchObject({ status: 'rejected', reason: { code: 'POLICY_INVALID' } });
    expect((await policies.list()).map((v) => [v.id, v.status])).toEqual([
      [2, 'draft'],
      [1, 'active'],
    ]);
    expect(await reasons()).toEqual(['PERMIT', 'POLICY_SELF_APPROVAL', 'POLICY_INVALID']);

    const approved = await uow.run(
      async (tx) => {
        const { activated } = await tx.policies.approve(2, bob);
        const session = await tx.sessions.create(login, ID_TOKEN);
        const reviews = await tx.reviews.list({ limit: 5 });
        const queue = await tx.noodtoegang.list({ open: true, after: 0, limit: 5 });
        const lines = await tx.audit.list({ ...parseAuditQuery({ limit: 10 }) });
        await tx.audit.append(readEntry(4));
        return { activated, session, reviews, queue, lines };
      },
      { deny: deny as DenyLine },
    );
    expect(approved.activated).toMatchObject({ id: 2, status: 'active' });
    expect(approved.lines.items.map((l) => l.seq)).toEqual([3, 2, 1]);
    expect((await policies.active())!.id).toBe(2);
    expect((await sessions.get(approved.session.id)).status).toBe('active');
    expect(await reasons()).toEqual(['PERMIT', 'POLICY_SELF_APPROVAL', 'POLICY_INVALID', 'PERMIT']);
  });
});

const parseAuditQuery = (q: Record<string, unknown>) => parseInput(auditQuerySchema, q, 'query');
