import { generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../src/clock.js';
import { LOGIN_RECHECK_MS, VerifiedLoginCache } from '../src/tokens/login-cache.js';
import type { UserIdentity } from '../src/tokens/user-token.js';
import { setupTokens } from './token-support.js';

const identity: UserIdentity = { issuer: 'https://login.gemeente.example', sub: 'user-1', role: 'participatiecoach', org: 'GM1960' };
const detail = { purpose: 'overdracht-kp4', client: 'WZR-100001' };

describe('VerifiedLoginCache', () => {
  it('serves a login until its exp and not at it', () => {
    const clock = fixedClock('2026-11-23T10:00:00Z');
    const cache = new VerifiedLoginCache(clock);
    const exp = clock.now() / 1000 + 60;
    cache.set('a.b.c', identity, exp);
    clock.advance(59_999);
    expect(cache.get('a.b.c')).toEqual(identity);
    clock.advance(1);
    expect(cache.get('a.b.c')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('asks for a fresh check LOGIN_RECHECK_MS after a verification, however long the login lives', () => {
    const clock = fixedClock('2026-11-23T10:00:00Z');
    const cache = new VerifiedLoginCache(clock);
    cache.set('a.b.c', identity, clock.now() / 1000 + 12 * 3600);
    clock.advance(LOGIN_RECHECK_MS - 1);
    expect(cache.get('a.b.c')).toEqual(identity);
    clock.advance(1);
    expect(cache.get('a.b.c')).toBeUndefined();
  });

  it('does not store a login already expired', () => {
    const clock = fixedClock('2026-11-23T10:00:00Z');
    const cache = new VerifiedLoginCache(clock);
    cache.set('a.b.c', identity, clock.now() / 1000);
    expect(cache.size).toBe(0);
    expect(cache.get('a.b.c')).toBeUndefined();
  });

  it('matches the whole token only', () => {
    const clock = fixedClock('2026-11-23T10:00:00Z');
    const cache = new VerifiedLoginCache(clock);
    cache.set('aaa.bbb.ccc', identity, clock.now() / 1000 + 60);
    for (const other of ['aaa.bbb.cc', 'aaa.bbb.ccc ', 'AAA.bbb.ccc', 'aaa.bbb.ccd', 'aaa.bbb']) expect(cache.get(other)).toBeUndefined();
    expect(cache.get('aaa.bbb.ccc')).toEqual(identity);
  });

  it('holds at most maxEntries, dropping the one used longest ago', () => {
    const clock = fixedClock('2026-11-23T10:00:00Z');
    const cache = new VerifiedLoginCache(clock, 2);
    const exp = clock.now() / 1000 + 60;
    cache.set('t1', { ...identity, sub: 'u1' }, exp);
    cache.set('t2', { ...identity, sub: 'u2' }, exp);
    expect(cache.get('t1')?.sub).toBe('u1'); // t1 is now the most recently used
    cache.set('t3', { ...identity, sub: 'u3' }, exp);
    expect(cache.size).toBe(2);
    expect(cache.get('t2')).toBeUndefined();
    expect(cache.get('t1')?.sub).toBe('u1');
    expect(cache.get('t3')?.sub).toBe('u3');
    expect(() => new VerifiedLoginCache(clock, 0)).toThrow(TypeError);
  });
});

describe('the token exchange with the login cache', () => {
  it('exchanges one login repeatedly from the cache, with the same outcome and a line each', async () => {
    const t = await setupTokens();
    const login = await t.login();
    for (let i = 0; i < 3; i++) expect((await t.exchange(t.exchangeForm(login, detail))).status).toBe(200);
    expect(t.tokens.logins.size).toBe(1);
    expect(t.auditEntries().filter((e) => e.action === 'token.issued')).toHaveLength(3);
  });

  it('refuses a cached login once it has expired', async () => {
    const t = await setupTokens();
    const login = await t.login({ exp: t.nowSeconds() + 120 });
    expect((await t.exchange(t.exchangeForm(login, detail))).status).toBe(200);
    // Past exp and jose's clock tolerance: the cache must not answer for it.
    t.clock.advance(181_000);
    const res = await t.exchange(t.exchangeForm(login, detail));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_grant');
    expect(t.lastAudit()).toMatchObject({ action: 'token.refused', reason: 'SUBJECT_TOKEN_EXPIRED' });
    expect(t.tokens.logins.size).toBe(0);
  });

  it('does not let a token that differs from a cached one in its signature through', async () => {
    const t = await setupTokens();
    const login = await t.login();
    expect((await t.exchange(t.exchangeForm(login, detail))).status).toBe(200);
    const [h, p, s] = login.split('.') as [string, string, string];
    const flipped = `${h}.${p}.${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
    const res = await t.exchange(t.exchangeForm(flipped, detail));
    expect(res.status).toBe(400);
    expect(t.lastAudit()).toMatchObject({ action: 'token.refused', reason: 'SUBJECT_TOKEN_SIGNATURE_INVALID' });
    expect(t.tokens.logins.size).toBe(1);
  });

  it('never remembers a login that was refused', async () => {
    const t = await setupTokens();
    const stranger = await generateKeyPair('ES256');
    const forged = await t.login({}, { key: stranger.privateKey });
    for (let i = 0; i < 2; i++) {
      const res = await t.exchange(t.exchangeForm(forged, detail));
      expect(res.status).toBe(400);
      expect(t.lastAudit()).toMatchObject({ action: 'token.refused', reason: 'SUBJECT_TOKEN_SIGNATURE_INVALID' });
    }
    const elsewhere = await t.login({ aud: 'another-service' });
    await t.exchange(t.exchangeForm(elsewhere, detail));
    expect(t.lastAudit()).toMatchObject({ action: 'token.refused', reason: 'SUBJECT_TOKEN_WRONG_AUDIENCE' });
    expect(t.tokens.logins.size).toBe(0);
  });

  it('still applies the checks after the login: the same cached login is refused for a purpose its role lacks', async () => {
    const t = await setupTokens();
    const login = await t.login();
    expect((await t.exchange(t.exchangeForm(login, detail))).status).toBe(200);
    const res = await t.exchange(t.exchangeForm(login, { purpose: 'overdracht-kp3', client: 'WZR-100003' }));
    expect(res.status).toBe(403);
    expect(t.lastAudit()).toMatchObject({ action: 'token.refused', reason: 'PURPOSE_NOT_FOR_ROLE' });
  });
});
