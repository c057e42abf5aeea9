import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../src/clock.js';
import { PgFailureLimiter } from '../src/http/rate-limit-pg.js';
import { instanceId, PgLease } from '../src/leases-pg.js';
import { openPostgres, type Pg } from '../src/postgres.js';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { verifyClientAssertion } from '../src/tokens/client-assertion.js';
import { verifyDpopProof } from '../src/tokens/dpop.js';
import { PgReplayStore } from '../src/tokens/replay-pg.js';
import { describePg, freshPg, type FreshPg } from './pg-support.js';
import { TODAY } from './support.js';
import { dpopKey } from './token-support.js';

/**
 * The state several instances share on PostgreSQL: each test opens two pools on one database, instance A and
 * instance B, as two gateway processes would.
 */
describePg('shared state on PostgreSQL, two instances', () => {
  let db: FreshPg;
  let b: Pg;
  const trace = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) };

  beforeAll(async () => {
    db = await freshPg('pgshared_state');
    b = await openPostgres(db.url, { migrate: false, max: 4 });
  });
  afterAll(async () => {
    await b?.close();
    await db?.drop();
  });

  describe('replay cache', () => {
    it('refuses on B a DPoP proof used on A, and stores only a hash of what it remembers', async () => {
      const clock = fixedClock(`${TODAY}T10:00:00Z`);
      const onA = { clock, replay: new PgReplayStore(db.pg.pool, 'dpop') };
      const onB = { clock, replay: new PgReplayStore(b.pool, 'dpop') };
      const { proof } = await dpopKey();
      const request = { method: 'POST', url: 'https://doelpoort.test/oauth/token' };
      const jti = 'proof-jti-shared-1';
      const signed = await proof({ htm: 'POST', htu: request.url, iat: clock.now() / 1000, jti });
      expect(await verifyDpopProof(signed, request, onA)).toMatchObject({ ok: true });
      expect(await verifyDpopProof(signed, request, onB)).toEqual({ ok: false, reason: 'DPOP_REPLAYED' });
      expect(await verifyDpopProof(signed, request, onA)).toEqual({ ok: false, reason: 'DPOP_REPLAYED' });
      // Another proof of the same key is new.
      expect(await verifyDpopProof(await proof({ htm: 'POST', htu: request.url, iat: clock.now() / 1000 }), request, onB)).toMatchObject({ ok: true });

      const { rows } = await db.pg.pool.query<{ kind: string; jti_hash: Buffer }>('SELECT kind, jti_hash FROM replay_jti');
      expect(rows.length).toBeGreaterThanOrEqual(2);
      const dump = JSON.stringify(rows.map((r) => [r.kind, r.jti_hash.toString('latin1')]));
      expect(dump).not.toContain(jti);
      for (const r of rows) expect(r.jti_hash).toHaveLength(32);
    });

    it('refuses on B a client assertion used on A (RFC 7523 §3, item 7), whichever instance the client reaches', async () => {
      const clock = fixedClock(`${TODAY}T10:05:00Z`);
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'c-1', alg: 'ES256' }] });
      const context = (pool: Pg['pool']) => ({
        clientId: 'app-1',
        keys,
        audiences: ['https://doelpoort.test/oauth/token'],
        clock,
        replay: new PgReplayStore(pool, 'client-assertion'),
      });
      const now = clock.now() / 1000;
      const assertion = await new SignJWT({ jti: 'assertion-1' })
        .setProtectedHeader({ alg: 'ES256', kid: 'c-1' })
        .setIssuer('app-1')
        .setSubject('app-1')
        .setAudience('https://doelpoort.test/oauth/token')
        .setIssuedAt(now)
        .setExpirationTime(now + 60)
        .sign(privateKey);
      expect(await verifyClientAssertion(assertion, context(db.pg.pool))).toEqual({ ok: true, value: undefined });
      expect(await verifyClientAssertion(assertion, context(b.pool))).toEqual({ ok: false, reason: 'CLIENT_ASSERTION_REPLAYED' });
    });

    it('tells exactly one of many concurrent uses of a value that it is new, across both pools', async () => {
      const stores = [new PgReplayStore(db.pg.pool, 'client-assertion'), new PgReplayStore(b.pool, 'client-assertion')];
      // Later than the test before: its stores' background sweep (at 10:05, not awaited) must not find this row expired.
      const now = Date.parse(`${TODAY}T10:10:00Z`);
      const verdicts = await Promise.all(Array.from({ length: 20 }, (_, i) => stores[i % 2]!.remember('client\u0000race-jti', now + 60_000, now)));
      expect(verdicts.filter((v) => v === 'new')).toHaveLength(1);
      expect(verdicts.filter((v) => v === 'replayed')).toHaveLength(19);
    });

    it('never sweeps a row that a new use took over while the sweep waited for it', async () => {
      const now = Date.parse(`${TODAY}T10:20:00Z`);
      const onA = new PgReplayStore(db.pg.pool, 'client-assertion');
      const onB = new PgReplayStore(b.pool, 'client-assertion');
      const key = 'client\u0000taken-over';
      expect(await onA.remember(key, now + 10, now)).toBe('new');
      // A new use of the value after its expiry takes the row over, in a transaction that is still open...
      const taking = await db.pg.pool.connect();
      try {
        await taking.query('BEGIN');
        const { rowCount } = await taking.query(
          `INSERT INTO replay_jti (kind, jti_hash, expires_at) VALUES ($1, $2, $3)
           ON CONFLICT (kind, jti_hash) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE replay_jti.expires_at <= $4`,
          ['client-assertion', createHash('sha256').update(key).digest(), now + 60_000, now + 20],
        );
        expect(rowCount).toBe(1);
        // ...while a sweep on B saw the row expired and now waits for its lock.
        const sweeping = onB.sweep(now + 20, 1000);
        await waitUntilBlocked(db.pg);
        await taking.query('COMMIT');
        await sweeping; // it may delete other tests' expired rows, never this one
      } finally {
        taking.release();
      }
      expect(await onB.remember(key, now + 60_000, now + 30)).toBe('replayed');
      await Promise.all([onA.settled(), onB.settled()]);
    });

    it('keeps the kinds apart, and honours expiry: an expired value is new again, and the sweep deletes expired rows only', async () => {
      const now = Date.parse(`${TODAY}T11:00:00Z`);
      const dpopA = new PgReplayStore(db.pg.pool, 'dpop');
      const assertionB = new PgReplayStore(b.pool, 'client-assertion');
      expect(await dpopA.remember('same-key', now + 1000, now)).toBe('new');
      expect(await assertionB.remember('same-key', now + 1000, now)).toBe('new');
      const dpopB = new PgReplayStore(b.pool, 'dpop');
      expect(await dpopB.remember('same-key', now + 1000, now + 999)).toBe('replayed');
      expect(await dpopB.remember('same-key', now + 5000, now + 1000)).toBe('new'); // expired at now + 1000: taken over
      expect(await dpopA.remember('same-key', now + 5000, now + 4999)).toBe('replayed');

      await dpopA.settled();
      const count = async (kind: string) =>
        Number((await db.pg.pool.query<{ n: string }>('SELECT count(*) AS n FROM replay_jti WHERE kind = $1', [kind])).rows[0]!.n);
      const before = await count('dpop');
      expect(await dpopA.remember('short-lived', now + 10, now)).toBe('new');
      expect(await dpopA.sweep(now + 10, 1000)).toBeGreaterThanOrEqual(1); // 'short-lived' (and any older)
      expect(await dpopA.remember('short-lived', now + 20_000, now + 11)).toBe('new');
      expect(await count('dpop')).toBeLessThanOrEqual(before + 1);
      // 'same-key' is unexpired until now + 5000: never swept before then.
      expect(await dpopB.sweep(now + 4999, 1000)).toBe(0);
      expect(await dpopB.remember('same-key', now + 6000, now + 4999)).toBe('replayed');
    });

    it('sweeps in bounded batches', async () => {
      const now = Date.parse(`${TODAY}T12:00:00Z`);
      const store = new PgReplayStore(db.pg.pool, 'client-assertion');
      for (let i = 0; i < 25; i++) await store.remember(`batch-${i}`, now + 1, now);
      await store.settled();
      expect(await store.sweep(now + 1, 10)).toBe(10);
      expect(await store.sweep(now + 1, 10)).toBe(10);
      expect(await store.sweep(now + 1, 10)).toBeGreaterThanOrEqual(5);
      expect(await store.sweep(now + 1, 10)).toBe(0);
    });

    it('rejects when the database cannot answer, so that the verifier fails closed', async () => {
      const lost = await openPostgres(db.url, { migrate: false, max: 1 });
      await lost.close();
      await expect(new PgReplayStore(lost.pool, 'dpop').remember('k', 2, 1)).rejects.toThrow();
    });
  });

  describe('rate limit', () => {
    it('counts the failures of an address on both instances together, and refuses it on both past the limit', async () => {
      const clock = fixedClock(`${TODAY}T13:00:00Z`);
      const a = new PgFailureLimiter({ db: db.pg.pool, limit: 3, clock });
      const limiterB = new PgFailureLimiter({ db: b.pool, limit: 3, clock });
      const address = '198.51.100.23';
      await a.fail(address);
      await limiterB.fail(address);
      expect(await a.admit(address, trace)).toEqual({ ok: true });
      expect(await limiterB.admit(address, trace)).toEqual({ ok: true });
      await a.fail(address); // the third, on A
      expect(await limiterB.admit(address, trace)).toEqual({ ok: false, retryAfter: 60 });
      expect(await a.admit(address, trace)).toEqual({ ok: false, retryAfter: 60 });
      expect(await a.admit('198.51.100.24', trace)).toEqual({ ok: true }); // another address
      clock.advance(15_000);
      expect(await limiterB.admit(address, trace)).toEqual({ ok: false, retryAfter: 45 });

      // Each instance summarises the refusals it answered: one line each for the minute, the counts adding up.
      const minute = Date.parse(`${TODAY}T13:00:00Z`);
      expect(a.pendingUntil).toBe(minute + 60_000);
      clock.advance(45_000); // the next minute: a fresh window, nothing counted yet
      expect(await a.admit(address, trace)).toEqual({ ok: true });
      expect(await limiterB.admit(address, trace)).toEqual({ ok: true });
      expect(a.takeSummaries()).toEqual([{ address, since: minute, count: 1, ...trace }]);
      expect(limiterB.takeSummaries()).toEqual([{ address, since: minute, count: 2, ...trace }]);
      expect(a.takeSummaries()).toEqual([]);
    });

    it('keeps addresses as hashes, and sweeps the rows of ended windows', async () => {
      const clock = fixedClock(`${TODAY}T14:00:00Z`);
      const a = new PgFailureLimiter({ db: db.pg.pool, limit: 5, clock });
      await a.fail('192.0.2.200');
      const { rows } = await db.pg.pool.query<{ address_hash: Buffer }>('SELECT address_hash FROM rate_limit_failures WHERE window_start = $1', [clock.now()]);
      expect(rows.map((r) => r.address_hash.toString('hex'))).toEqual([createHash('sha256').update('192.0.2.200').digest('hex')]);
      const old = Number(
        (await db.pg.pool.query<{ n: string }>('SELECT count(*) AS n FROM rate_limit_failures WHERE window_start < $1', [clock.now()])).rows[0]!.n,
      );
      expect(old).toBe(0); // the 13:00 test's rows went when its limiters reached 13:01
      await new PgFailureLimiter({ db: b.pool, limit: 5, clock: fixedClock(`${TODAY}T13:59:30Z`) }).fail('192.0.2.201');
      clock.advance(60_000);
      await a.admit('192.0.2.200', trace); // the window rolls: a sweep in the background
      await a.settled();
      const left = Number(
        (await db.pg.pool.query<{ n: string }>('SELECT count(*) AS n FROM rate_limit_failures WHERE window_start < $1', [clock.now()])).rows[0]!.n,
      );
      expect(left).toBe(0);
    });

    it('counts concurrent failures from both instances exactly', async () => {
      const clock = fixedClock(`${TODAY}T15:00:00Z`);
      const limiters = [new PgFailureLimiter({ db: db.pg.pool, limit: 1000, clock }), new PgFailureLimiter({ db: b.pool, limit: 1000, clock })];
      await Promise.all(Array.from({ length: 40 }, (_, i) => limiters[i % 2]!.fail('203.0.113.40')));
      const { rows } = await db.pg.pool.query<{ failures: number }>('SELECT failures FROM rate_limit_failures WHERE address_hash = $1', [
        createHash('sha256').update('203.0.113.40').digest(),
      ]);
      expect(rows).toEqual([{ failures: 40 }]);
    });
  });

  describe('lease', () => {
    it('lets one instance at a time hold it, renew it, give it up; another takes over once it expired', async () => {
      const onA = new PgLease(db.pg.pool, 'audit-checkpoint', instanceId(), 400);
      const onB = new PgLease(b.pool, 'audit-checkpoint', instanceId(), 400);
      expect(onA.holder).not.toBe(onB.holder);
      expect(await onA.acquire()).toBe(true);
      expect(await onB.acquire()).toBe(false);
      expect(await onA.acquire()).toBe(true); // renewed
      expect(await onA.holds()).toBe(true);
      expect(await onB.holds()).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 500)); // A died: not renewed
      expect(await onA.holds()).toBe(false);
      expect(await onB.acquire()).toBe(true);
      expect(await onA.acquire()).toBe(false);
      await onB.release();
      expect(await onA.acquire()).toBe(true);
      await onA.release();
      await onA.release(); // twice is harmless
      expect(await onB.acquire()).toBe(true);
    });

    it('lets exactly one of many instances racing for a free lease have it', async () => {
      const leases = Array.from({ length: 12 }, (_, i) => new PgLease(i % 2 ? b.pool : db.pg.pool, 'race', instanceId(), 60_000));
      const got = await Promise.all(leases.map((l) => l.acquire()));
      expect(got.filter(Boolean)).toHaveLength(1);
    });

    it('holds the row against a takeover while a transaction that checked it runs', async () => {
      const onA = new PgLease(db.pg.pool, 'fenced', instanceId(), 300);
      const onB = new PgLease(b.pool, 'fenced', instanceId(), 300);
      expect(await onA.acquire()).toBe(true);
      const client = await db.pg.pool.connect();
      try {
        await client.query('BEGIN');
        expect(await onA.holds(client)).toBe(true);
        await new Promise((resolve) => setTimeout(resolve, 400)); // expired meanwhile
        const takeover = onB.acquire();
        const early = await Promise.race([takeover, new Promise((resolve) => setTimeout(() => resolve('waiting'), 200))]);
        expect(early).toBe('waiting'); // blocked by A's FOR SHARE until A's transaction ends
        await client.query('COMMIT');
        expect(await takeover).toBe(true);
      } finally {
        client.release();
      }
    });

    it('refuses a non-positive ttl', () => {
      expect(() => new PgLease(db.pg.pool, 'x', 'y', 0)).toThrow(TypeError);
    });
  });
});

/** Resolves once some session of this database waits for a lock (the statement under test has reached it). */
async function waitUntilBlocked(pg: Pg): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await pg.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if (Number(rows[0]!.n) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('no session ever waited for the lock');
}
