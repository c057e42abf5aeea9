import { describe, expect, it } from 'vitest';
import { setupApp } from './support.js';

describe('GET /health', () => {
  it('answers 200 once the database is open and migrated', async () => {
    const { app } = setupApp();
    const res = await app.request('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('continues an incoming W3C trace and starts a new span', async () => {
    const { app } = setupApp();
    const res = await app.request('/health', { headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } });
    expect(res.headers.get('traceparent')).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(res.headers.get('traceparent')).not.toContain('b7ad6b7169203331');
  });

  it('sends traceparent and x-request-id on every kind of response: data, refusal, unknown path, error', async () => {
    const { app } = setupApp();
    for (const [path, status] of [
      ['/health', 200],
      ['/openapi.json', 200],
      ['/v1/clients/WZR-100001', 401],
      ['/nope', 404],
      ['/v1/clients/WZR-100001?x=1', 401],
    ] as const) {
      const res = await app.request(path);
      expect(res.status).toBe(status);
      expect(res.headers.get('traceparent')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('answers an unknown path of the API with a problem document, and any other with the Dutch 404 page', async () => {
    const { app } = setupApp();
    const res = await app.request('/oauth/nope');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ status: 404, code: 'RECORD_NOT_FOUND', instance: '/oauth/nope' });
    const page = await app.request('/nope');
    expect(page.status).toBe(404);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('lang="nl"');
  });
});
