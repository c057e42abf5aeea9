import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db.js';
import { PENDING_LOGIN_MS, SessionStore, type SessionLogin } from '../src/web/sessions.js';
import { TODAY } from './support.js';

const MINUTE = 60_000;
const login: SessionLogin = { issuer: 'https://login.gemeente.example', sub: 'coach-1', role: 'participatiecoach', org: 'GM1960', name: 'Sanne de Vries' };
const ID_TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjb2FjaC0xIn0.c2lnbmF0dXJl';
const sha256 = (v: string) => createHash('sha256').update(v).digest('hex');

function setup(options: { idleMinutes?: number; maxHours?: number } = {}) {
  const db = openDatabase(':memory:');
  const clock = fixedClock(`${TODAY}T10:00:00Z`);
  const store = new SessionStore(db, clock, { idleMinutes: options.idleMinutes ?? 15, maxHours: options.maxHours ?? 8 });
  const rows = () => db.$client.prepare('SELECT * FROM web_sessions').all() as Array<Record<string, unknown>>;
  const pendingRows = () => db.$client.prepare('SELECT * FROM web_pending_logins').all() as Array<Record<string, unknown>>;
  const lastSeen = () => db.$client.prepare('SELECT last_seen_at FROM web_sessions').pluck().get() as number;
  return { db, clock, store, rows, pendingRows, lastSeen };
}

describe(SessionStore.name, () => {
  it('stores only the SHA-256 of the session id, never the id itself', () => {
    const { store, rows, db } = setup();
    const { id, csrfToken } = store.create(login, ID_TOKEN);
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(rows()).toEqual([expect.objectContaining({ id_hash: sha256(id), sub: 'coach-1', org: 'GM1960', csrf_token: csrfToken })]);
    const dump = JSON.stringify(db.$client.prepare('SELECT * FROM web_sessions').all());
    expect(dump).not.toContain(id);
  });

  it('finds a session by its id, with the login and CSRF token but no token of the provider', () => {
    const { store } = setup();
    const { id, csrfToken } = store.create(login, ID_TOKEN);
    const found = store.get(id);
    expect(found).toEqual({ status: 'active', session: { login, csrfToken }, lastSeenAt: Date.parse(`${TODAY}T10:00:00Z`) });
    expect(JSON.stringify(found)).not.toContain(ID_TOKEN);
  });

  it('knows no session for an unknown, malformed, or stored-hash id', () => {
    const { store } = setup();
    const { id } = store.create(login, ID_TOKEN);
    expect(store.get('x'.repeat(43)).status).toBe('unknown');
    expect(store.get('').status).toBe('unknown');
    expect(store.get(`${id}x`).status).toBe('unknown');
    // Someone who read the table holds the hash: it opens nothing.
    expect(store.get(sha256(id)).status).toBe('unknown');
  });

  it('gives every login a new id: rotation, so an id known before a login is worth nothing after it', () => {
    const { store } = setup();
    const ids = new Set(Array.from({ length: 20 }, () => store.create(login, ID_TOKEN).id));
    expect(ids.size).toBe(20);
    const tokens = new Set(Array.from({ length: 20 }, () => store.create(login, ID_TOKEN).csrfToken));
    expect(tokens.size).toBe(20);
  });

  it('ends a session after the idle timeout, and not a moment before', () => {
    const { store, clock } = setup({ idleMinutes: 15 });
    const { id } = store.create(login, ID_TOKEN);
    clock.advance(15 * MINUTE - 1);
    expect(store.get(id).status).toBe('active');
    clock.advance(1);
    expect(store.get(id)).toEqual({ status: 'expired', reason: 'IDLE_TIMEOUT', login });
  });

  it('activity keeps a session alive, but never past its absolute end', () => {
    const { store, clock } = setup({ idleMinutes: 15, maxHours: 8 });
    const { id } = store.create(login, ID_TOKEN);
    for (let t = 0; t < 8 * 60 - 10; t += 10) {
      clock.advance(10 * MINUTE);
      expect(store.get(id).status).toBe('active');
      expect(store.touch(id)).toBe(true);
    }
    clock.advance(10 * MINUTE); // 8 h after the login
    expect(store.get(id)).toEqual({ status: 'expired', reason: 'ABSOLUTE_TIMEOUT', login });
  });

  it('writes last_seen at most once a minute', () => {
    const { store, clock, lastSeen } = setup();
    const { id } = store.create(login, ID_TOKEN);
    const created = lastSeen();
    clock.advance(30_000);
    expect(store.touch(id)).toBe(false);
    expect(lastSeen()).toBe(created);
    clock.advance(29_999);
    expect(store.touch(id)).toBe(false);
    clock.advance(1);
    expect(store.touch(id)).toBe(true);
    expect(lastSeen()).toBe(created + MINUTE);
    expect(store.touch(id)).toBe(false);
    expect(store.touch('y'.repeat(43))).toBe(false);
  });

  it('destroys a session once, handing back its login and the ID token for the provider’s logout', () => {
    const { store, rows } = setup();
    const { id } = store.create(login, ID_TOKEN);
    const other = store.create({ ...login, sub: 'coach-2' }, ID_TOKEN);
    expect(store.destroy(id)).toEqual({ login, idToken: ID_TOKEN });
    expect(store.destroy(id)).toBeUndefined();
    expect(store.get(id).status).toBe('unknown');
    expect(store.get(other.id).status).toBe('active');
    expect(rows()).toHaveLength(1);
  });

  it('prunes exactly the expired sessions, each with why it ended', () => {
    const { store, clock, rows } = setup({ idleMinutes: 15, maxHours: 1 });
    const old = store.create({ ...login, sub: 'old' }, ID_TOKEN);
    clock.advance(20 * MINUTE);
    const idle = store.create({ ...login, sub: 'idle' }, ID_TOKEN);
    const busy = store.create({ ...login, sub: 'busy' }, ID_TOKEN);
    expect(store.hasExpired()).toBe(true); // `old` has been idle for 20 minutes
    clock.advance(14 * MINUTE);
    store.touch(busy.id);
    store.touch(old.id);
    clock.advance(2 * MINUTE); // idle: 16 min idle; busy and old: active 2 min ago
    expect(store.prune().map((p) => [p.login.sub, p.reason])).toEqual([['idle', 'IDLE_TIMEOUT']]);
    for (const step of [10, 10]) {
      clock.advance(step * MINUTE);
      store.touch(busy.id);
      store.touch(old.id);
    }
    clock.advance(5 * MINUTE); // old: 61 min after its login, active 5 min ago; busy: 41 min
    store.touch(busy.id);
    expect(store.prune().map((p) => [p.login.sub, p.reason])).toEqual([['old', 'ABSOLUTE_TIMEOUT']]);
    expect(store.hasExpired()).toBe(false);
    expect(store.prune()).toEqual([]);
    expect(rows().map((r) => r.sub)).toEqual(['busy']);
    expect(store.get(idle.id).status).toBe('unknown');
  });

  it('refuses a nonsensical configuration at construction', () => {
    const db = openDatabase(':memory:');
    expect(() => new SessionStore(db, fixedClock(`${TODAY}T10:00:00Z`), { idleMinutes: 0, maxHours: 8 })).toThrow(TypeError);
  });
});

describe('pending logins', () => {
  const pending = { nonce: 'n-1', codeVerifier: 'v-1', issuer: 'https://login.gemeente.example', returnTo: '/inbox', binding: 'browser-1' };

  it('stores the state and the browser binding as hashes only', () => {
    const { store, pendingRows } = setup();
    store.beginLogin('state-1', pending);
    const [row] = pendingRows();
    expect(row).toMatchObject({ state_hash: sha256('state-1'), binding_hash: sha256('browser-1'), nonce: 'n-1', return_to: '/inbox' });
    expect(JSON.stringify(pendingRows())).not.toMatch(/"state-1"|"browser-1"/);
  });

  it('are taken once: a second callback with the same state finds nothing', () => {
    const { store, pendingRows } = setup();
    store.beginLogin('state-1', pending);
    expect(store.takeLogin('state-1', 'browser-1')).toEqual({
      ok: true,
      value: { nonce: 'n-1', codeVerifier: 'v-1', issuer: pending.issuer, returnTo: '/inbox' },
    });
    expect(store.takeLogin('state-1', 'browser-1')).toEqual({ ok: false, reason: 'LOGIN_STATE_UNKNOWN' });
    expect(pendingRows()).toEqual([]);
  });

  it('expire after ten minutes', () => {
    const { store, clock } = setup();
    store.beginLogin('early', pending);
    store.beginLogin('late', pending);
    clock.advance(PENDING_LOGIN_MS - 1);
    expect(store.takeLogin('early', 'browser-1').ok).toBe(true);
    clock.advance(1);
    expect(store.takeLogin('late', 'browser-1')).toEqual({ ok: false, reason: 'LOGIN_STATE_UNKNOWN' });
  });

  it('come back only to the browser that started them; a wrong or missing binding spends the pending login', () => {
    const { store } = setup();
    store.beginLogin('s-1', pending);
    store.beginLogin('s-2', pending);
    expect(store.takeLogin('s-1', undefined)).toEqual({ ok: false, reason: 'LOGIN_BINDING_MISSING' });
    expect(store.takeLogin('s-2', 'browser-2')).toEqual({ ok: false, reason: 'LOGIN_BINDING_MISMATCH' });
    expect(store.takeLogin('s-1', 'browser-1')).toEqual({ ok: false, reason: 'LOGIN_STATE_UNKNOWN' });
    expect(store.takeLogin('s-2', 'browser-1')).toEqual({ ok: false, reason: 'LOGIN_STATE_UNKNOWN' });
  });

  it('refuse an unknown, empty or absent state', () => {
    const { store } = setup();
    store.beginLogin('s-1', pending);
    expect(store.takeLogin('s-0', 'browser-1').ok).toBe(false);
    expect(store.takeLogin('', 'browser-1').ok).toBe(false);
    expect(store.takeLogin(undefined, 'browser-1').ok).toBe(false);
    expect(store.takeLogin('x'.repeat(513), 'browser-1').ok).toBe(false);
  });

  it('are pruned after ten minutes, by the next login or the timer', () => {
    const { store, clock, pendingRows } = setup();
    store.beginLogin('s-1', pending);
    clock.advance(PENDING_LOGIN_MS);
    store.beginLogin('s-2', pending);
    expect(pendingRows().map((r) => r.state_hash)).toEqual([sha256('s-2')]);
    clock.advance(PENDING_LOGIN_MS);
    expect(store.prunePendingLogins()).toBe(1);
    expect(pendingRows()).toEqual([]);
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
