import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../src/clock.js';
import { openDatabase } from '../src/db.js';
import type { AppDeps } from '../src/http/deps.js';
import { NOODTOEGANG_WINDOW_MS, noodtoegangLeft, type GrantedNoodtoegang } from '../src/noodtoegang/grant.js';
import { NoodtoegangStore } from '../src/noodtoegang/store.js';
import { PgNoodtoegangStore } from '../src/noodtoegang/store-pg.js';
import { openPostgres } from '../src/postgres.js';
import { FRESH_LOGIN_MS, Reauthentications, type ReauthStore } from '../src/web/reauth.js';
import { PgReauthentications } from '../src/web/reauth-pg.js';
import { SessionNoodtoegang, type SessionNoodtoegangStore } from '../src/web/session-noodtoegang.js';
import { PgSessionNoodtoegang } from '../src/web/session-noodtoegang-pg.js';
import { PENDING_LOGIN_MS, type SessionLogin, SessionStore, type WebSessions } from '../src/web/sessions.js';
import { PgSessionStore } from '../src/web/sessions-pg.js';
import { type FreshPg, freshPg, pgUrl } from './pg-support.js';
import { TODAY } from './support.js';

/**
 * The web application's own state outside the unit of work, on both databases: the pending re-logins and the grants
 * they leave (src/web/reauth.ts, reauth-pg.ts), the emergency access a session holds (session-noodtoegang.ts,
 * session-noodtoegang-pg.ts) and the weekly count the request form shows. Every case runs on SQLite and on
 * PostgreSQL alike; on PostgreSQL two pools (two instances) race for one re-login and one grant, and only one wins.
 */

// What the composition root puts in AppDeps must fit either implementation (a type error here otherwise).
type Fits<T> = (store: T) => void;
const fitsSessions: Fits<WebSessions> & Fits<AppDeps['sessions']> = () => {};
const fitsReauth: Fits<ReauthStore> & Fits<AppDeps['reauthentications']> = () => {};
const fitsHeld: Fits<SessionNoodtoegangStore> & Fits<AppDeps['sessionNoodtoegang']> = () => {};
const fitsCounts: Fits<AppDeps['noodtoegangCounts']> = () => {};

const databases: FreshPg[] = [];
afterAll(async () => {
  await Promise.all(databases.splice(0).map((d) => d.drop()));
});
async function fresh(): Promise<FreshPg> {
  const d = await freshPg('pgweb');
  databases.push(d);
  return d;
}

/** Both implementations, or SQLite alone where no PostgreSQL server is configured (CI always has one). */
const both = <T>(sqlite: T, postgres: T): Array<[string, T]> => [['sqlite', sqlite], ...(pgUrl ? [['postgres', postgres] as [string, T]] : [])];

const MINUTE = 60_000;
const login: SessionLogin = { issuer: 'https://login.gemeente.example', sub: 'coach-1', role: 'participatiecoach', org: 'GM1960', name: 'Sanne de Vries' };
const STATE = 'c3RhdGUtb2YtYS1yZS1sb2dpbi10aGF0LWlzLWxvbmc';
const START = {
  issuer: login.issuer,
  nonce: 'nonce-1',
  codeVerifier: 'verifier-that-is-long-enough-for-pkce-0123456789',
  step: 'noodtoegang:WZR-100001',
  detail: 'Overdracht is mondeling toegezegd maar nog niet geregistreerd.',
  returnTo: '/noodtoegang/bevestigen',
};

interface Side {
  clock: ReturnType<typeof fixedClock>;
  reauth: ReauthStore;
  held: SessionNoodtoegangStore;
  counts: AppDeps['noodtoegangCounts'];
  /** Records an emergency access of `login`'s person at `at`. */
  recordGrant(n: number, at: number): Promise<void>;
  /** A new session of `login`; its id. */
  session(): Promise<string>;
  /** Ends a session as a logout does. */
  destroy(id: string): Promise<void>;
  /** Every row of the tables these stores write, as text. */
  dump(): Promise<string>;
}

const options = { idleMinutes: 120, maxHours: 8 };
const grantOf = (n: number, at: number) => ({
  id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  at,
  actor: { iss: login.issuer, sub: login.sub, role: login.role, org: login.org },
  clientId: 'doelpoort-web',
  clientRef: `WZR-${100000 + n}`,
  purpose: 'begeleiding-kp4' as const,
  reden: 'Cliënt staat voor de deur en de overdracht is nog niet geregistreerd',
  tokenId: `tok-${n}`,
});

const sides = both<() => Promise<Side>>(
  async () => {
    const clock = fixedClock(`${TODAY}T10:00:00Z`);
    const db = openDatabase(':memory:');
    const sessions = new SessionStore(db, clock, options);
    const reauth = new Reauthentications(db, clock);
    const held = new SessionNoodtoegang(db, clock);
    const counts = new NoodtoegangStore(db);
    fitsSessions(sessions);
    fitsReauth(reauth);
    fitsHeld(held);
    fitsCounts(counts);
    const all = (table: string) => db.$client.prepare(`SELECT * FROM ${table}`).all();
    return {
      clock,
      reauth,
      held,
      counts,
      recordGrant: async (n, at) => counts.record(grantOf(n, at)),
      session: async () => sessions.create(login, 'id-token').id,
      destroy: async (id) => void sessions.destroy(id),
      dump: async () => JSON.stringify([all('web_sessions'), all('web_reauthentications')]),
    };
  },
  async () => {
    const clock = fixedClock(`${TODAY}T10:00:00Z`);
    const { pool } = (await fresh()).pg;
    const sessions = new PgSessionStore(pool, clock, options);
    const reauth = new PgReauthentications(pool, clock);
    const held = new PgSessionNoodtoegang(pool, clock);
    const counts = new PgNoodtoegangStore(pool);
    fitsSessions(sessions);
    fitsReauth(reauth);
    fitsHeld(held);
    fitsCounts(counts);
    const all = async (table: string) => (await pool.query(`SELECT * FROM ${table}`)).rows;
    return {
      clock,
      reauth,
      held,
      counts,
      recordGrant: (n, at) => counts.record(grantOf(n, at)),
      session: async () => (await sessions.create(login, 'id-token')).id,
      destroy: async (id) => void (await sessions.destroy(id)),
      dump: async () => JSON.stringify([await all('web_sessions'), await all('web_reauthentications')]),
    };
  },
);

describe.each(sides)('re-authentications on %s', (_, side) => {
  it('keeps a pending re-login under its state, stores only hashes of the state and the session id', async () => {
    const { reauth, session, dump } = await side();
    const id = await session();
    await reauth.begin(STATE, id, START);
    expect(await reauth.has(STATE)).toBe(true);
    for (const other of [`${STATE}x`, '', null, 'x'.repeat(513)]) expect(await reauth.has(other)).toBe(false);
    const stored = await dump();
    expect(stored).not.toContain(STATE);
    expect(stored).not.toContain(id);
  });

  it('hands a pending re-login back once, bound to its session, and then has it no more', async () => {
    const { reauth, session, clock } = await side();
    const id = await session();
    const createdAt = clock.now();
    await reauth.begin(STATE, id, START);
    const { detail, ...rest } = START;
    const taken = await reauth.take(STATE);
    expect(taken).toEqual({ ...rest, detail, createdAt, sessionHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(await reauth.take(STATE)).toBeUndefined();
    expect(await reauth.has(STATE)).toBe(false);
    // Without a detail the row says null, on both databases.
    await reauth.begin(`${STATE}2`, id, { ...rest });
    expect((await reauth.take(`${STATE}2`))?.detail).toBeNull();
    expect(await reauth.take('unknown')).toBeUndefined();
  });

  it('takes a pending re-login only younger than ten minutes, and is gone either way', async () => {
    const { reauth, session, clock } = await side();
    const id = await session();
    await reauth.begin(STATE, id, START);
    await reauth.begin(`${STATE}2`, id, START);
    clock.advance(PENDING_LOGIN_MS - 1);
    expect(await reauth.take(STATE)).toBeDefined();
    clock.advance(1);
    expect(await reauth.has(`${STATE}2`)).toBe(true);
    expect(await reauth.take(`${STATE}2`)).toBeUndefined();
    expect(await reauth.has(`${STATE}2`)).toBe(false);
  });

  it('prunes pending re-logins past ten minutes when a new one begins', async () => {
    const { reauth, session, clock } = await side();
    const id = await session();
    await reauth.begin(STATE, id, START);
    clock.advance(PENDING_LOGIN_MS - 1);
    await reauth.begin(`${STATE}2`, id, START);
    expect(await reauth.has(STATE)).toBe(true);
    clock.advance(1);
    await reauth.begin(`${STATE}3`, id, START);
    expect(await reauth.has(STATE)).toBe(false);
    expect(await reauth.has(`${STATE}2`)).toBe(true);
  });

  it('holds a grant for its step only, with what it was asked with, for five minutes', async () => {
    const { reauth, session, clock } = await side();
    const id = await session();
    const other = await session();
    expect(await reauth.heldStep(id)).toBeUndefined();
    await reauth.grant(id, START.step, START.detail);
    expect(await reauth.heldStep(id)).toBe(START.step);
    expect(await reauth.heldFor(id, START.step)).toEqual({ detail: START.detail });
    expect(await reauth.holds(id, START.step)).toBe(true);
    expect(await reauth.holds(id, 'policy.approve:1')).toBe(false);
    expect(await reauth.heldFor(id, 'policy.approve:1')).toBeUndefined();
    // Another session holds nothing of it.
    expect(await reauth.heldStep(other)).toBeUndefined();
    expect(await reauth.holds(other, START.step)).toBe(false);
    clock.advance(FRESH_LOGIN_MS - 1);
    expect(await reauth.holds(id, START.step)).toBe(true);
    clock.advance(1);
    expect(await reauth.heldStep(id)).toBeUndefined();
    expect(await reauth.holds(id, START.step)).toBe(false);
    expect(await reauth.consume(id, START.step)).toBe(false);
  });

  it('replaces an earlier grant, and says "" for a grant asked with nothing', async () => {
    const { reauth, session } = await side();
    const id = await session();
    await reauth.grant(id, START.step, START.detail);
    await reauth.grant(id, 'policy.approve:7');
    expect(await reauth.heldStep(id)).toBe('policy.approve:7');
    expect(await reauth.heldFor(id, 'policy.approve:7')).toEqual({ detail: '' });
    expect(await reauth.holds(id, START.step)).toBe(false);
  });

  it('uses a grant once; a post for another step uses nothing and clears it', async () => {
    const { reauth, session } = await side();
    const id = await session();
    await reauth.grant(id, START.step, START.detail);
    expect(await reauth.consume(id, START.step)).toBe(true);
    expect(await reauth.consume(id, START.step)).toBe(false);
    expect(await reauth.heldStep(id)).toBeUndefined();
    await reauth.grant(id, START.step, START.detail);
    expect(await reauth.consume(id, 'policy.approve:1')).toBe(false);
    expect(await reauth.holds(id, START.step)).toBe(false);
    expect(await reauth.consume(id, START.step)).toBe(false);
  });

  it('gives no grant to a session that does not exist, and a grant ends with its session', async () => {
    const { reauth, session, destroy } = await side();
    await reauth.grant('y'.repeat(43), START.step);
    expect(await reauth.heldStep('y'.repeat(43))).toBeUndefined();
    const id = await session();
    await reauth.grant(id, START.step);
    await destroy(id);
    expect(await reauth.holds(id, START.step)).toBe(false);
    expect(await reauth.consume(id, START.step)).toBe(false);
  });
});

describe.each(sides)('a session’s emergency access on %s', (_, side) => {
  const access = (clock: { now(): number }, n = 1): GrantedNoodtoegang => ({
    id: `00000000-0000-4000-8000-00000000000${n}`,
    tokenId: `tok-${n}`,
    clientRef: `WZR-10000${n}`,
    purpose: 'begeleiding-kp4',
    until: clock.now() + 15 * MINUTE,
  });

  it('holds the access granted until its end, for its own session only', async () => {
    const { held, session, clock } = await side();
    const id = await session();
    const other = await session();
    expect(await held.live(id)).toBeUndefined();
    const granted = access(clock);
    await held.hold(id, granted);
    expect(await held.live(id)).toEqual(granted);
    expect(await held.live(other)).toBeUndefined();
    expect(await held.live('y'.repeat(43))).toBeUndefined();
    clock.advance(15 * MINUTE - 1);
    expect(await held.live(id)).toEqual(granted);
    clock.advance(1);
    expect(await held.live(id)).toBeUndefined();
  });

  it('replaces an earlier access with a new grant, and ends with the session', async () => {
    const { held, session, destroy, clock } = await side();
    const id = await session();
    await held.hold(id, access(clock, 1));
    clock.advance(MINUTE);
    const second = access(clock, 2);
    await held.hold(id, second);
    expect(await held.live(id)).toEqual(second);
    await destroy(id);
    expect(await held.live(id)).toBeUndefined();
    // Holding for a session that is gone stores nothing.
    await held.hold(id, second);
    expect(await held.live(id)).toBeUndefined();
  });
});

describe.each(sides)('how many emergency accesses are left on %s', (_, side) => {
  it('counts the person’s accesses of the last 7 days against the weekly setting', async () => {
    const { counts, recordGrant, clock } = await side();
    const person = { iss: login.issuer, sub: login.sub };
    const setting = { policies: undefined as never, perWeek: 2 };
    expect(await noodtoegangLeft(counts, clock, person, setting)).toBe(2);
    await recordGrant(1, clock.now() - NOODTOEGANG_WINDOW_MS);
    await recordGrant(2, clock.now() - 1);
    expect(await noodtoegangLeft(counts, clock, person, setting)).toBe(1);
    await recordGrant(3, clock.now());
    await recordGrant(4, clock.now());
    expect(await noodtoegangLeft(counts, clock, person, setting)).toBe(0);
    expect(await noodtoegangLeft(counts, clock, { ...person, sub: 'someone-else' }, setting)).toBe(2);
    expect(await noodtoegangLeft(counts, clock, person, undefined)).toBe(0);
  });
});

describe.skipIf(!pgUrl)('re-authentications on postgres, two instances at once', () => {
  /** Two pools on one fresh database, each an instance's; `run` with both, then both closed. */
  const twoInstances = async (run: (a: pg.Pool, b: pg.Pool, clock: ReturnType<typeof fixedClock>) => Promise<void>) => {
    const { pg: opened, url } = await fresh();
    const second = (await openPostgres(url, { migrate: false, max: 10 })).pool;
    try {
      await run(opened.pool, second, fixedClock(`${TODAY}T10:00:00Z`));
    } finally {
      await second.end();
    }
  };
  const ATTEMPTS = 20;

  it('hands one re-login to exactly one of 20 callbacks racing on two instances', async () => {
    await twoInstances(async (a, b, clock) => {
      const id = (await new PgSessionStore(a, clock, options).create(login, 'id-token')).id;
      const instances = [new PgReauthentications(a, clock), new PgReauthentications(b, clock)];
      for (let round = 0; round < 3; round++) {
        const state = `${STATE}-${round}`;
        await instances[round % 2]!.begin(state, id, START);
        const taken = await Promise.all(Array.from({ length: ATTEMPTS }, (_, n) => instances[n % 2]!.take(state)));
        expect(taken.filter((t) => t !== undefined)).toHaveLength(1);
        expect(await instances[0]!.has(state)).toBe(false);
      }
    });
  });

  it('lets exactly one of 20 posts racing on two instances use a grant', async () => {
    await twoInstances(async (a, b, clock) => {
      const id = (await new PgSessionStore(a, clock, options).create(login, 'id-token')).id;
      const instances = [new PgReauthentications(a, clock), new PgReauthentications(b, clock)];
      for (let round = 0; round < 3; round++) {
        await instances[(round + 1) % 2]!.grant(id, START.step, START.detail);
        const used = await Promise.all(Array.from({ length: ATTEMPTS }, (_, n) => instances[n % 2]!.consume(id, START.step)));
        expect(used.filter(Boolean)).toHaveLength(1);
        expect(await instances[round % 2]!.holds(id, START.step)).toBe(false);
      }
    });
  });
});
