import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CSP } from '../src/http/security-headers.js';
import { setupTokens } from './token-support.js';

/**
 * The headers every response carries (api.md, Limits and headers), on a real socket through the Node adapter, where
 * the client record is written with one plain header object and every other answer gets the base headers added to its
 * own: both ways must give the same headers, and a handler's own value must win.
 */
let t: Awaited<ReturnType<typeof setupTokens>>;
let origin: string;
let close: () => void;
let token: string;

beforeAll(async () => {
  t = await setupTokens();
  const server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', resolve)));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => {
    server.close();
    (server as import('node:http').Server).closeAllConnections();
  };
  const res = await t.exchange(t.exchangeForm(await t.login(), { purpose: 'overdracht-kp4', client: 'WZR-100001' }));
  token = ((await res.json()) as { access_token: string }).access_token;
});
afterAll(() => close());

function expectBase(res: Response, cacheControl: string | null = 'no-store') {
  expect(res.headers.get('api-version')).toBe('1.0.0');
  expect(res.headers.get('traceparent')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  expect(res.headers.get('content-security-policy')).toBe(DEFAULT_CSP);
  expect(res.headers.get('cache-control')).toBe(cacheControl);
}

describe('response headers', () => {
  it('a client record, on the socket: every base header once, JSON with its length, the incoming trace continued', async () => {
    const traceId = 'c'.repeat(32);
    const res = await fetch(`${origin}/v1/clients/WZR-100001`, {
      headers: { authorization: `Bearer ${token}`, traceparent: `00-${traceId}-${'d'.repeat(16)}-01` },
    });
    expect(res.status).toBe(200);
    expectBase(res);
    expect(res.headers.get('content-type')).toBe('application/json');
    const text = await res.text();
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(text));
    expect(res.headers.get('traceparent')).toContain(traceId);
    expect(JSON.parse(text)).toMatchObject({ clientRef: 'WZR-100001', purpose: 'overdracht-kp4' });
  });

  it('a client record in process (app.request) has the same headers', async () => {
    const res = await t.app.request('/v1/clients/WZR-100001', { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expectBase(res);
    expect(res.headers.get('content-type')).toBe('application/json');
  });

  it('an answer with one header of its own (/health), in process after the Node adapter replaced Response, keeps them all', async () => {
    const res = await t.app.request('/health');
    expect(res.status).toBe(200);
    expect(res.headers.get('api-version')).toBe('1.0.0');
    expect(res.headers.get('content-security-policy')).toBe(DEFAULT_CSP);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const onSocket = await fetch(`${origin}/health`);
    expect(onSocket.headers.get('content-security-policy')).toBe(DEFAULT_CSP);
    expect(onSocket.headers.get('traceparent')).toMatch(/^00-/);
  });

  it('two requests get their own request id and span', async () => {
    const [a, b] = await Promise.all([1, 2].map(() => fetch(`${origin}/v1/clients/WZR-100001`, { headers: { authorization: `Bearer ${token}` } })));
    expect(a!.headers.get('x-request-id')).not.toBe(b!.headers.get('x-request-id'));
    expect(a!.headers.get('traceparent')).not.toBe(b!.headers.get('traceparent'));
  });

  it('a refusal (401 Problem Details) carries the base headers and its challenge', async () => {
    const res = await fetch(`${origin}/v1/clients/WZR-100001`);
    expect(res.status).toBe(401);
    expectBase(res);
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it('a handler’s own cache-control wins over none, and public documents stay cacheable', async () => {
    const res = await fetch(`${origin}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    expectBase(res, 'public, max-age=300');
  });

  it('an unknown API path (404 from notFound) carries them too', async () => {
    const res = await fetch(`${origin}/health/nothing-here`);
    expect(res.status).toBe(404);
    expect(res.headers.get('api-version')).toBe('1.0.0');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
