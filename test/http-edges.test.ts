import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { openDatabase, openRecordsDatabase } from '../src/db.js';
import { gatewayDeps } from '../src/composition.js';
import { createApp } from '../src/http/app.js';
import { conformant } from './openapi-conformance.js';
import { FailureLimiter } from '../src/http/rate-limit.js';
import { DEFAULT_CSP } from '../src/http/security-headers.js';
import { STYLESHEET_PATH } from '../src/web/assets.js';
import { accessToken, type TokenCtx, type TestGrant } from './security-matrix.js';
import { TODAY, tempDir } from './support.js';
import { setupTokens } from './token-support.js';

const coach: TestGrant = { user: { sub: 'coach-1', role: 'participatiecoach', org: 'GM1960' }, purpose: 'overdracht-kp4', client: 'WZR-100001' };

/** What @hono/node-server passes as the app's env: the incoming request, whose socket has the caller's address. */
const fromAddress = (remoteAddress: string) => ({
  incoming: { socket: { remoteAddress, remotePort: 40_000, remoteFamily: remoteAddress.includes(':') ? 'IPv6' : 'IPv4' } },
});

function request(ctx: { app: TokenCtx['app'] }, url: string, init: RequestInit = {}, address = '192.0.2.10') {
  return ctx.app.request(url, init, fromAddress(address));
}

const tokenForm = (body: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(body).toString(),
});

describe('security headers on every response', () => {
  function expectCommon(res: Response): void {
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('content-security-policy')).toBeTruthy();
  }

  it('JSON with personal data: nosniff, no-referrer, the strict CSP and no-store', async () => {
    const ctx = await setupTokens();
    const res = await request(ctx, '/v1/clients/WZR-100001', { headers: { authorization: `Bearer ${await accessToken(ctx, coach)}` } });
    expect(res.status).toBe(200);
    expectCommon(res);
    expect(res.headers.get('content-security-policy')).toBe(DEFAULT_CSP);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('Problem Details (401), a 404 and /health', async () => {
    const ctx = await setupTokens();
    for (const [url, status] of [
      ['/v1/clients/WZR-100001', 401],
      ['/oauth/nope', 404],
      ['/v1/nope', 401],
      ['/health', 200],
      ['/openapi.json', 200],
    ] as const) {
      const res = await request(ctx, url);
      expect(res.status, url).toBe(status);
      expectCommon(res);
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    }
    expect((await request(ctx, '/v1/clients/WZR-100001')).headers.get('cache-control')).toBe('no-store');
  });

  it('/oauth/token, issued and refused', async () => {
    const ctx = await setupTokens();
    const form = ctx.exchangeForm(await ctx.login(), { purpose: 'overdracht-kp4', client: 'WZR-100001' });
    const issued = await request(ctx, '/oauth/token', tokenForm({ ...form, ...(await ctx.clientAuth()) }));
    const refused = await request(ctx, '/oauth/token', tokenForm({ grant_type: 'password', ...(await ctx.clientAuth()) }));
    for (const [res, status] of [
      [issued, 200],
      [refused, 400],
    ] as const) {
      expect(res.status).toBe(status);
      expectCommon(res);
      expect(res.headers.get('content-security-policy')).toBe(DEFAULT_CSP);
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('the printable handover page: a nonce-based CSP without unsafe-inline, and its one stylesheet link carries the nonce', async () => {
    const ctx = await setupTokens();
    const page = async () => {
      const res = await request(ctx, '/v1/clients/WZR-100001/handover-document', {
        headers: { authorization: `Bearer ${await accessToken(ctx, coach)}`, accept: 'text/html' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expectCommon(res);
      expect(res.headers.get('cache-control')).toBe('no-store');
      return { csp: res.headers.get('content-security-policy')!, html: await res.text() };
    };
    const { csp, html } = await page();
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    const nonce = /style-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    expect(nonce!.length).toBeGreaterThanOrEqual(22);
    // Every style of the page is in elements the CSP admits: no style attribute, no style element, the stylesheet's link with the nonce.
    expect(html.match(/<(style|link)\b[^>]*>/g)).toEqual([`<link rel="stylesheet" href="${STYLESHEET_PATH}" nonce="${nonce}"/>`]);
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/<script\b/);
    expect((await page()).csp).not.toBe(csp); // a fresh nonce per response
  });
});

describe('body limits (413 before the body is read whole, logged)', () => {
  it('/oauth/token: a declared Content-Length over 64 KiB is refused with an RFC 6749 body and an audit line', async () => {
    const ctx = await setupTokens();
    const res = await request(ctx, '/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=${'x'.repeat(64 * 1024)}`,
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: 'invalid_request' });
    expect(ctx.lastAudit()).toMatchObject({ action: 'request.refused', outcome: 'deny', reason: 'BODY_TOO_LARGE', httpStatus: 413, origin: '192.0.2.10' });
  });

  it('/oauth/token: a chunked body without Content-Length is refused once it passes 64 KiB, without reading the rest', async () => {
    const ctx = await setupTokens();
    let pulled = 0;
    const chunk = new Uint8Array(16 * 1024).fill(0x61);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= 8 * 1024 * 1024) return controller.close();
        pulled += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const res = await request(ctx, '/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(pulled).toBeLessThan(256 * 1024);
    expect(ctx.lastAudit()).toMatchObject({ action: 'request.refused', reason: 'BODY_TOO_LARGE' });
  });

  it('a body at the limit still reaches the endpoint', async () => {
    const ctx = await setupTokens();
    const res = await request(ctx, '/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `${new URLSearchParams(await ctx.clientAuth())}&grant_type=password&pad=${'x'.repeat(60 * 1024)}`,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'unsupported_grant_type' });
  });

  it('policy routes: over 512 KiB is 413 Problem Details, before any token is checked', async () => {
    const ctx = await setupTokens();
    const big = JSON.stringify({ rules: [], pad: 'x'.repeat(512 * 1024) });
    const res = await request(ctx, '/v1/policies', { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ status: 413, code: 'BODY_TOO_LARGE' });
    expect(ctx.lastAudit()).toMatchObject({ action: 'request.refused', reason: 'BODY_TOO_LARGE', httpStatus: 413 });
    const small = await request(ctx, '/v1/policies', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rules: [] }) });
    expect(small.status).toBe(401);
  });

  it('a route that takes no body accepts none', async () => {
    const ctx = await setupTokens();
    const res = await request(ctx, '/v1/audit', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'BODY_TOO_LARGE' });
  });
});

describe('rate limiting of failed requests per client address', () => {
  it('past DOELPOORT_RATE_LIMIT 401s a minute: 429 Problem Details with Retry-After; other addresses and the next minute are not affected', async () => {
    const ctx = await setupTokens({ DOELPOORT_RATE_LIMIT: '5' });
    for (let i = 0; i < 5; i++) expect((await request(ctx, '/v1/clients/WZR-100001', {}, '198.51.100.7')).status).toBe(401);
    const before = ctx.auditEntries().length;
    const limited = await request(ctx, '/v1/clients/WZR-100001', {}, '198.51.100.7');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toBe('application/problem+json');
    expect(await limited.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(Number(limited.headers.get('retry-after'))).toBe(60); // the fixed clock stands at hh:00:00
    // Even a valid token waits: the address is limited, not the token.
    const token = await accessToken(ctx, coach);
    expect((await request(ctx, '/v1/clients/WZR-100001', { headers: { authorization: `Bearer ${token}` } }, '198.51.100.7')).status).toBe(429);
    expect((await request(ctx, '/v1/clients/WZR-100001', { headers: { authorization: `Bearer ${token}` } }, '198.51.100.8')).status).toBe(200);
    expect(
      ctx
        .auditEntries()
        .slice(before)
        .map((e) => e.action),
    ).toEqual(['record.read']); // no line per 429

    ctx.clock.advance(30_000);
    expect(Number((await request(ctx, '/v1/clients/WZR-100001', {}, '198.51.100.7')).headers.get('retry-after'))).toBe(30);
    ctx.clock.advance(30_000);
    expect((await request(ctx, '/v1/clients/WZR-100001', { headers: { authorization: `Bearer ${token}` } }, '198.51.100.7')).status).toBe(200);
  });

  it('summarises a flood: one request.limited line per address and minute, with the count', async () => {
    const ctx = await setupTokens({ DOELPOORT_RATE_LIMIT: '3' });
    for (const address of ['203.0.113.1', '2001:db8::1']) {
      for (let i = 0; i < 3; i++) await request(ctx, '/v1/audit', {}, address);
    }
    for (let i = 0; i < 40; i++) expect((await request(ctx, '/v1/audit', {}, '203.0.113.1')).status).toBe(429);
    for (let i = 0; i < 7; i++) expect((await request(ctx, '/v1/audit', {}, '2001:db8::1')).status).toBe(429);
    expect(ctx.auditEntries().filter((e) => e.action === 'request.limited')).toEqual([]);
    const minute = ctx.clock.now();
    ctx.clock.advance(60_000);
    await request(ctx, '/health', {}, '203.0.113.99');
    await request(ctx, '/v1/audit', {}, '203.0.113.99'); // the first limited-path request after the minute writes them
    const summaries = ctx.auditEntries().filter((e) => e.action === 'request.limited');
    expect(summaries).toEqual([
      expect.objectContaining({ origin: '203.0.113.1', count: 40, since: minute, outcome: 'deny', reason: 'RATE_LIMITED', httpStatus: 429 }),
      expect.objectContaining({ origin: '2001:db8::1', count: 7, since: minute }),
    ]);
    expect(ctx.audit.verify()).toMatchObject({ ok: true });
  });

  it('/oauth/token: every 4xx counts; past the limit 429 with an RFC 6749 body and Retry-After; a success does not count', async () => {
    const ctx = await setupTokens({ DOELPOORT_RATE_LIMIT: '3' });
    const authenticated = async (form: Record<string, string>) => tokenForm({ ...form, ...(await ctx.clientAuth()) });
    const good = async () => request(ctx, '/oauth/token', await authenticated(ctx.exchangeForm('', { purpose: 'overdracht-kp4', client: 'WZR-100001' })));
    const login = await ctx.login();
    for (let i = 0; i < 5; i++) {
      expect(
        (await request(ctx, '/oauth/token', await authenticated(ctx.exchangeForm(login, { purpose: 'overdracht-kp4', client: 'WZR-100001' })))).status,
      ).toBe(200);
    }
    expect((await good()).status).toBe(400); // an empty subject token
    expect((await request(ctx, '/oauth/token', await authenticated(ctx.exchangeForm(login, { purpose: 'overdracht-kp4', client: 'WZR-100002' })))).status).toBe(
      403,
    );
    expect(
      (await request(ctx, '/oauth/token', { method: 'POST', body: 'x'.repeat(70_000), headers: { 'content-type': 'application/x-www-form-urlencoded' } }))
        .status,
    ).toBe(413);
    const limited = await good();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
    expect(await limited.json()).toMatchObject({ error: 'temporarily_unavailable' });
  });

  it('the in-process request without a socket counts as one address, `unknown`', async () => {
    const ctx = await setupTokens({ DOELPOORT_RATE_LIMIT: '2' });
    await ctx.app.request('/v1/audit');
    await ctx.app.request('/v1/audit');
    expect((await ctx.app.request('/v1/audit')).status).toBe(429);
  });

  it('DOELPOORT_RATE_LIMIT is validated at start', () => {
    expect(loadConfig({}).rateLimit).toBe(30);
    expect(loadConfig({ DOELPOORT_RATE_LIMIT: '100' }).rateLimit).toBe(100);
    for (const bad of ['0', '-1', '2.5', 'many']) expect(() => loadConfig({ DOELPOORT_RATE_LIMIT: bad })).toThrow(/^CONFIG_INVALID: DOELPOORT_RATE_LIMIT/);
  });

  it('remembers a bounded number of addresses, however many fail', () => {
    const clock = fixedClock(`${TODAY}T10:00:00Z`);
    const limiter = new FailureLimiter({ limit: 2, clock, maxAddresses: 100 });
    const trace = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) };
    for (let i = 0; i < 3; i++) limiter.fail('10.0.0.1');
    expect(limiter.admit('10.0.0.1', trace).ok).toBe(false);
    for (let i = 0; i < 100_000; i++) limiter.fail(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    expect(limiter.size).toBe(100);
    // The limited address that had to be forgotten early is summarised then, not lost.
    expect(limiter.takeSummaries()).toEqual([expect.objectContaining({ address: '10.0.0.1', count: 1 })]);
  });
});

describe('refusals go through the group commit', () => {
  it('fifty concurrent 401s share commits instead of one fsync each', async () => {
    const file = path.join(tempDir(), 'doelpoort.db');
    const db = openDatabase(file);
    const config = loadConfig({ DOELPOORT_DATA_DIR: tempDir(), DOELPOORT_RATE_LIMIT: '1000' });
    const deps = gatewayDeps({
      db,
      recordsDb: openRecordsDatabase(':memory:'),
      config,
      clock: fixedClock(`${TODAY}T10:00:00Z`),
      pseudonymKey: randomBytes(32),
    });
    const app = conformant(createApp(deps));
    db.$client.pragma('wal_checkpoint(TRUNCATE)');
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => app.request('/v1/clients/WZR-100001', {}, fromAddress(`192.0.2.${i + 1}`))));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(401));
    expect(db.$client.prepare("SELECT count(*) FROM audit_log WHERE action = 'token.refused'").pluck().get()).toBe(50);
    // Each commit appends at least two pages (the table and an index) to the WAL: fifty commits would be 100+ frames.
    const { log } = (db.$client.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number }>)[0]!;
    expect(log).toBeLessThan(50);
    expect(await deps.audit.verifyAsync()).toMatchObject({ ok: true, records: 50 });
  });
});
