import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { canonicalJson } from '../src/canonical-json.js';
import { policyVersionOf } from '../src/policy/compile.js';
import type { PolicyDocument } from '../src/policy/document.js';
import { loadPolicyDirectory } from '../src/policy/load.js';
import { type ActiveVersionSource, LISTENER_NAME, PgActivePolicy } from '../src/policy/active-pg.js';
import type { PolicyVersion } from '../src/policy/versions.js';
import { openPostgres, type Pg, type Queryable } from '../src/postgres.js';
import { describePg, freshPg, type FreshPg } from './pg-support.js';
import { POLICIES_DIR } from './policy-support.js';

/**
 * The stored versions as the policy in force reads them, straight from the table. It stands in for PgPolicyVersions
 * (src/policy/versions-pg.ts, another branch) until the two meet; the integrator passes that class instead.
 */
function tableVersions(q: Queryable): ActiveVersionSource {
  const read = async (where: string, values: unknown[]): Promise<PolicyVersion | undefined> => {
    const { rows } = await q.query<Record<string, unknown>>(`SELECT * FROM policy_versions WHERE ${where}`, values);
    const r = rows[0];
    if (!r) return undefined;
    return {
      id: Number(r.id),
      document: JSON.parse(String(r.document)),
      hash: String(r.hash),
      status: r.status as PolicyVersion['status'],
      author: { iss: String(r.author_iss), sub: String(r.author_sub), org: String(r.author_org) },
      createdAt: new Date(Number(r.created_at)).toISOString(),
      baseVersion: r.base_version === null ? null : Number(r.base_version),
      decider: (r.decider_sub as string | null) ?? null,
      deciderIss: (r.decider_iss as string | null) ?? null,
      decidedAt: r.decided_at === null ? null : new Date(Number(r.decided_at)).toISOString(),
      rejectReason: (r.reject_reason as string | null) ?? null,
    };
  };
  return { active: () => read("status = 'active'", []), get: (id) => read('id = $1', [id]) };
}

const base = loadPolicyDirectory(POLICIES_DIR).document as PolicyDocument;
/** Another valid document, `n` in its first rule's reason: another version. */
const variant = (n: number): PolicyDocument => ({
  rules: base.rules.map((r, i) => (i === 0 ? { ...r, reason: `${(r as { reason?: string }).reason ?? 'regel'} (${n})` } : r)),
});

async function store(q: Queryable, document: PolicyDocument, status: 'draft' | 'active'): Promise<number> {
  const { rows } = await q.query<{ id: number }>(
    `INSERT INTO policy_versions (document, hash, status, author_iss, author_sub, author_org, created_at)
     VALUES ($1, $2, $3, 'https://login.example', 'po-anna', 'WERKZAAK', $4) RETURNING id`,
    [canonicalJson(document), policyVersionOf(document), status, Date.now()],
  );
  return Number(rows[0]!.id);
}

/** What an approval does in the database, in one transaction: retire the active version, activate the draft. */
async function approve(pg: Pg, id: number, options: { rollback?: boolean } = {}): Promise<void> {
  const client = await pg.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query("UPDATE policy_versions SET status = 'retired' WHERE status = 'active'");
    await client.query("UPDATE policy_versions SET status = 'active', decider_sub = 'po-bert', decided_at = $2 WHERE id = $1", [id, Date.now()]);
    await client.query(options.rollback ? 'ROLLBACK' : 'COMMIT');
  } finally {
    client.release();
  }
}

/** Waits until `check` holds, at most `ms`; returns how long it took. */
async function within(ms: number, check: () => boolean): Promise<number> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - start;
}

describePg('the active policy across instances (PostgreSQL)', () => {
  let db: FreshPg;
  let other: Pg;
  const open: PgActivePolicy[] = [];
  const instance = async (pg: Pg) => {
    const policy = await PgActivePolicy.open(pg.pool, tableVersions(pg.pool));
    open.push(policy);
    return policy;
  };

  beforeAll(async () => {
    db = await freshPg('pgshared_policy');
    other = await openPostgres(db.url, { migrate: false, max: 4 });
    await store(db.pg.pool, base, 'active');
  });
  afterEach(async () => {
    for (const p of open.splice(0)) await p.close();
  });
  afterAll(async () => {
    await other?.close();
    await db?.drop();
  });

  it('puts an approval on instance A in force on instance B within a second, by the notification', async () => {
    const a = await instance(db.pg);
    const b = await instance(other);
    await within(2000, () => a.listening && b.listening);
    const before = b.version.id;
    expect(a.version.id).toBe(before);
    const draft = await store(db.pg.pool, variant(1), 'draft');
    await approve(db.pg, draft);
    await a.refresh(); // the approving instance re-reads at once (lifecycle's approvePolicy)
    expect(a.version.id).toBe(draft);
    const took = await within(1000, () => b.version.id === draft);
    expect(took).toBeLessThan(500); // the NOTIFY, not the one-second poll
    expect(b.set.version).toBe(policyVersionOf(variant(1)));
    expect(b.version.status).toBe('active');
  });

  it('changes nothing on B for an approval that rolled back', async () => {
    const b = await instance(other);
    await within(2000, () => b.listening);
    const before = b.version.id;
    const draft = await store(db.pg.pool, variant(2), 'draft');
    await approve(db.pg, draft, { rollback: true });
    await new Promise((resolve) => setTimeout(resolve, 1300)); // past a poll
    expect(b.version.id).toBe(before);
  });

  it('recovers from a dropped listener connection: the poll serves the new version within a second, and it listens again', async () => {
    const b = await instance(other);
    await within(2000, () => b.listening);
    const { rows } = await db.pg.pool.query<{ ok: boolean }>(
      'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()',
      [LISTENER_NAME],
    );
    expect(rows).toEqual([{ ok: true }]);
    await within(1000, () => !b.listening);
    const draft = await store(db.pg.pool, variant(3), 'draft');
    await approve(db.pg, draft);
    await within(1500, () => b.version.id === draft);
    // Connected again: the next approval arrives by notification.
    await within(3000, () => b.listening);
    const next = await store(db.pg.pool, variant(4), 'draft');
    await approve(db.pg, next);
    expect(await within(1000, () => b.version.id === next)).toBeLessThan(500);
  });

  it('keeps the version read last in force while the database cannot be reached, and says so once', async () => {
    const lost = await openPostgres(db.url, { migrate: false, max: 2 });
    const b = await PgActivePolicy.open(lost.pool, tableVersions(lost.pool));
    open.push(b);
    const before = b.version;
    await lost.close(); // every query on this pool fails from now on
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(b.version).toBe(before);
    expect(b.set.version).toBe(before.hash);
  });

  it('refuses to start on a database without an active version', async () => {
    const empty = await freshPg('pgshared_nopolicy');
    try {
      await expect(PgActivePolicy.open(empty.pg.pool, tableVersions(empty.pg.pool))).rejects.toThrow(/no active policy version/);
    } finally {
      await empty.drop();
    }
  });
});
