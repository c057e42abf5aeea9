import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db.js';
import { PENDING_LOGIN_MS, SessionStore, type SessionLogin } from '../src/web/sessions.js';
import { PgSessionStore } from '../src/web/sessions-pg.js';
import { forEachDatabase, runSql } from './both-databases.js';
import { type FreshPg, freshPg } from './pg-support.js';
import { TODAY } from './support.js';

const MINUTE = 60_000;
const login: SessionLogin = { issuer: 'https://login.gemeente.example', sub: 'coach-1', role: 'participatiecoach', org: 'GM1960', name: 'Sanne de Vries' };
const ID_TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjb2FjaC0xIn0.c2lnbmF0dXJl';
const sha256 = (v: string) => createHash('sha256').update(v).digest('hex');

type Limits = { idleMinutes?: number; maxHours?: number };

forEachDatabase((_, database) => {
  const opened: FreshPg[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((db) => db.drop()));
  });

  /** A store on a fresh database (SQLite in memory, or a PostgreSQL database of its own), and its rows read past it. */
  async function setup(options: Limits = {}) {
    const clock = fixedClock(`${TODAY}T10:00:00Z`);
    const limits = (o: Limits) => ({ idleMinutes: o.idleMinutes ?? 15, maxHours: o.maxHours ?? 8 });
    let target: Parameters<typeof runSql>[0];
    let storeWith: (o: Limits) => SessionStore | PgSessionStore;
    if (database === 'sqlite') {
      const db = openDatabase(':memory:');
      target = { database, db };
      storeWith = (o) => new SessionStore(db, clock, limits(o));
    } else {
      const db = await freshPg('websess');
      opened.push(db);
      target = { database, pool: db.pg.pool };
      storeWith = (o) => new PgSessionStore(db.pg.pool, clock, limits(o));
    }
    const store = storeWith(options);
    const rows = () => runSql(target, 'SELECT * FROM web_sessions');
    const pendingRows = () => runSql(target, 'SELECT * FROM web_pending_logins');
    const lastSeen = async () => (await runSql(target, 'SELECT last_seen_at FROM web_sessions'))[0]!.last_seen_at as number;
    return { clock, store, storeWith, rows, pendingRows, lastSeen };
  }

  describe(SessionStore.name, () => {
    it('stores only the SHA-256 of the session id, never the id itself', async () => {
      const { store, rows } = await setup();
      const { id, csrfToken } = await store.create(login, ID_TOKEN);
      expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(await rows()).toEqual([expect.objectContaining({ id_hash: sha256(id), sub: 'coach-1', org: 'GM1960', csrf_token: csrfToken })]);
      const dump = JSON.stringify(await rows());
      expect(dump).not.toContain(id);
    });

    it('finds a session by its id, with the login and CSRF token but no token of the provider', async () => {
      const { store } = await setup();
      const { id, csrfToken } = await store.create(login, ID_TOKEN);
      const found = await store.get(id);
      expect(found).toEqual({ status: 'active', session: { login, csrfToken }, lastSeenAt: Date.parse(`${TODAY}T10:00:00Z`) });
      expect(JSON.stringify(found)).not.toContain(ID_TOKEN);
    });

    it('knows no session for an unknown, malformed, or stored-hash id', async () => {
      const { store } = await setup();
      const { id } = await store.create(login, ID_TOKEN);
      expect((await store.get('x'.repeat(43))).status).toBe('unknown');
      expect((await store.get('')).status).toBe('unknown');
      expect((await store.get(`${id}x`)).status).toBe('unknown');
      // Someone who read the table holds the hash: it opens nothing.
      expect((await store.get(sha256(id))).status).toBe('unknown');
    });

    it('gives every login a new id: rotation, so an id known before a login is worth nothing after it', async () => {
      const { store } = await setup();
      const ids = new Set(await Promise.all(Array.from({ length: 20 }, async () => (await store.create(login, ID_TOKEN)).id)));
      expect(ids.size).toBe(20);
      const tokens = new Set(await Promise.all(Array.from({ length: 20 }, async () => (await store.create(login, ID_TOKEN)).csrfToken)));
      expect(tokens.size).toBe(20);
    });

    it('ends a session after the idle timeout, and not a moment before', async () => {
      const { store, clock } = await setup({ idleMinutes: 15 });
      const { id } = await store.create(login, ID_TOKEN);
      clock.advance(15 * MINUTE - 1);
      expect((await store.get(id)).status).toBe('active');
      clock.advance(1);
      expect(await store.get(id)).toEqual({ status: 'expired', reason: 'IDLE_TIMEOUT', login });
    });

    it('activity keeps a session alive, but never past its absolute end', async () => {
      const { store, clock } = await setup({ idleMinutes: 15, maxHours: 8 });
      const { id } = await store.create(login, ID_TOKEN);
      for (let t = 0; t < 8 * 60 - 10; t += 10) {
        clock.advance(10 * MINUTE);
        expect((await store.get(id)).status).toBe('active');
        expect(await store.touch(id)).toBe(true);
      }
      clock.advance(10 * MINUTE); // 8 h after the login
      expect(await store.get(id)).toEqual({ status: 'expired', reason: 'ABSOLUTE_TIMEOUT', login });
    });

    it('writes last_seen at most once a minute', async () => {
      const { store, clock, lastSeen } = await setup();
      const { id } = await store.create(login, ID_TOKEN);
      const created = await lastSeen();
      clock.advance(30_000);
      expect(await store.touch(id)).toBe(false);
      expect(await lastSeen()).toBe(created);
      clock.advance(29_999);
      expect(await store.touch(id)).toBe(false);
      clock.advance(1);
      expect(await store.touch(id)).toBe(true);
      expect(await lastSeen()).toBe(created + MINUTE);
      expect(await store.touch(id)).toBe(false);
      expect(await store.touch('y'.repeat(43))).toBe(false);
    });

    it('destroys a session once, handing back its login and the ID token for the provider’s logout', async () => {
      const { store, rows } = await setup();
      const { id } = await store.create(login, ID_TOKEN);
      const other = await store.create({ ...login, sub: 'coach-2' }, ID_TOKEN);
      expect(await store.destroy(id)).toEqual({ login, idToken: ID_TOKEN });
      expect(await store.destroy(id)).toBeUndefined();
      expect((await store.get(id)).status).toBe('unknown');
      expect((await store.get(other.id)).status).toBe('active');
      expect(await rows()).toHaveLength(1);
    });

    it('prunes exactly the expired sessions, each with why it ended', async () => {
      const { store, clock, rows } = await setup({ idleMinutes: 15, maxHours: 1 });
      const old = await store.create({ ...login, sub: 'old' }, ID_TOKEN);
      clock.advance(20 * MINUTE);
      const idle = await store.create({ ...login, sub: 'idle' }, ID_TOKEN);
      const busy = await store.create({ ...login, sub: 'busy' }, ID_TOKEN);
      expect(await store.hasExpired()).toBe(true); // `old` has been idle for 20 minutes
      clock.advance(14 * MINUTE);
      await store.touch(busy.id);
      await store.touch(old.id);
      clock.advance(2 * MINUTE); // idle: 16 min idle; busy and old: active 2 min ago
      expect((await store.prune()).map((p) => [p.login.sub, p.reason])).toEqual([['idle', 'IDLE_TIMEOUT']]);
      for (const step of [10, 10]) {
        clock.advance(step * MINUTE);
        await store.touch(busy.id);
        await store.touch(old.id);
      }
      clock.advance(5 * MINUTE); // old: 61 min after its login, active 5 min ago; busy: 41 min
      await store.touch(busy.id);
      expect((await store.prune()).map((p) => [p.login.sub, p.reason])).toEqual([['old', 'ABSOLUTE_TIMEOUT']]);
      expect(await store.hasExpired()).toBe(false);
      expect(await store.prune()).toEqual([]);
      expect((await rows()).map((r) => r.sub)).toEqual(['busy']);
      expect((await store.get(idle.id)).status).toBe('unknown');
    });

    it('refuses a nonsensical configuration at construction', async () => {
      const { storeWith } = await setup();
      expect(() => storeWith({ idleMinutes: 0, maxHours: 8 })).toThrow(TypeError);
    });
  });

  describe('pending logins', async () => {
    const pending = { nonce: 'n-1', codeVerifier: 'v-1', issuer: 'https://login.gemeente.example', returnTo: '/inbox', binding: 'browser-1' };

    it('stores the state and the browser binding as hashes only', async () => {
      const { store, pendingRows } = await setup();
      await store.beginLogin('state-1', pending);
      const [row] = await pendingRows();
      expect(row).toMatchObject({ state_hash: sha256('state-1'), binding_hash: sha256('browser-1'), nonce: 'n-1', return_to: '/inbox' });
      expect(JSON.stringify(await pendingRows())).not.toMatch(/"state-1"|"browser-1"/);
    });

    it('are taken once: a second callback with the same state finds nothing', async () => {
      const { store, pendingRows } = await setup();
      await store.beginLogin('state-1', pending);
      expect(await store.takeLogin('state-1', 'browser-1')).toEqual({
        ok: true,
        value: { nonce: 'n-1', codeVerifier: 'v-1', issuer: pending.issuer, returnTo: '/inbox' },
      });
      expect(await store.takeLogin('state-1', 'browser-1')).toEqual({ ok: false, reason: 'LOGIN_STATE_UNKNOWN' });
      expect(await pendingRows()).toEqual([]);
    });

    it('expire after ten minutes', async () => {
      const { store, clock } = await setup();
      await store.beginLogin('early', pending);
      await store.beginLogin('late', pending);
      clock.advance(PENDING_LOGIN_MS - 1);
      expect((await store.takeLogin('early', 'browser-1')).ok).toBe(true);
      clock.advance(1);
      expect(await store.takeLogin('late', 'browser-1')).toEqual({ ok: false, reason: 'LOGIN_STATE_UNKNOWN' });
    });

    it('come back only to the browser that started them; a wrong or missing binding spends the pending login', async () => {
      const { store } = await setup();
      await store.beginLogin('s-1', pending);
      await store.beginLogin('s-2', pending);
      expect(await store.takeLogin('s-1', undefined)).toEqual({ ok: false, reason: 'LOGIN_BINDING_MISSING' });
      expect(await store.takeLogin('s-2', 'browser-2')).toEqual({ ok: false, reason: 'LOGIN_BINDING_MISMATCH' });
      expect(await store.takeLogin('s-1', 'browser-1')).toEqual({ ok: false, reason: 'LOGIN_STATE_UNKNOWN' });
      expect(await store.takeLogin('s-2', 'browser-1')).toEqual({ ok: false, reason: 'LOGIN_STATE_UNKNOWN' });
    });

    it('refuse an unknown, empty or absent state', async () => {
      const { store } = await setup();
      await store.beginLogin('s-1', pending);
      expect((await store.takeLogin('s-0', 'browser-1')).ok).toBe(false);
      expect((await store.takeLogin('', 'browser-1')).ok).toBe(false);
      expect((await store.takeLogin(undefined, 'browser-1')).ok).toBe(false);
      expect((await store.takeLogin('x'.repeat(513), 'browser-1')).ok).toBe(false);
    });

    it('are pruned after ten minutes, by the next login or the timer', async () => {
      const { store, clock, pendingRows } = await setup();
      await store.beginLogin('s-1', pending);
      clock.advance(PENDING_LOGIN_MS);
      await store.beginLogin('s-2', pending);
      expect((await pendingRows()).map((r) => r.state_hash)).toEqual([sha256('s-2')]);
      clock.advance(PENDING_LOGIN_MS);
      expect(await store.prunePendingLogins()).toBe(1);
      expect(await pendingRows()).toEqual([]);
    });
  });
});

describe('session configuration', () => {
  it('defaults to 15 idle minutes and 8 hours at most', () => {
    expect(loadConfig({})).toMatchObject({ sessionIdleMinutes: 15, sessionMaxHours: 8 });
    expect(loadConfig({ DOELPOORT_SESSION_IDLE_MINUTES: '5', DOELPOORT_SESSION_MAX_HOURS: '2' })).toMatchObject({ sessionIdleMinutes: 5, sessionMaxHours: 2 });
  });

  it('refuses a value out of range, naming the variable', () => {
    expect(() => loadConfig({ DOELPOORT_SESSION_IDLE_MINUTES: '0' })).toThrow(/^CONFIG_INVALID: DOELPOORT_SESSION_IDLE_MINUTES/);
    expect(() => loadConfig({ DOELPOORT_SESSION_MAX_HOURS: '25' })).toThrow(/^CONFIG_INVALID: DOELPOORT_SESSION_MAX_HOURS/);
    expect(() => loadConfig({ DOELPOORT_SESSION_MAX_HOURS: 'acht' })).toThrow(/DOELPOORT_SESSION_MAX_HOURS/);
  });
});
