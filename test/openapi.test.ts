import { validate } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';
import { createApp } from '../src/http/app.js';
import { toOpenApiPath } from '../src/http/openapi.js';
import { conformanceOf, conformant, isApiPath, type Answer } from './openapi-conformance.js';
import { setupApp } from './support.js';
import { PUBLIC_URL } from './token-support.js';

type Doc = {
  openapi: string;
  info: { version: string; contact: Record<string, string> };
  servers: Array<{ url: string }>;
  paths: Record<string, Record<string, unknown> & { servers?: Array<{ url: string }> }>;
};

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

async function served(env: Record<string, string> = { DOELPOORT_PUBLIC_URL: PUBLIC_URL }) {
  const ctx = setupApp(env);
  const res = await ctx.app.request('/openapi.json');
  const text = await res.text();
  return { ...ctx, res, text, doc: JSON.parse(text) as Doc };
}

describe('GET /openapi.json', () => {
  it('publishes an OpenAPI 3.1 document that an independent validator accepts', async () => {
    const { res, doc } = await served();
    expect(res.status).toBe(200);
    expect(doc.openapi).toBe('3.1.0');
    // @readme/openapi-parser: the OpenAPI 3.1 schema, every $ref resolved, its own rules (all errors) on top.
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid ? [] : result.errors.map((e) => e.message)).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('names the /v1 server, and its own server for each operation outside it', async () => {
    const { doc } = await served();
    expect(doc.servers).toEqual([{ url: `${PUBLIC_URL}/v1`, description: expect.any(String) }]);
    expect(doc.paths['/clients/{clientRef}']?.servers).toBeUndefined();
    for (const path of ['/health', '/oauth/token', '/.well-known/jwks.json']) expect(doc.paths[path]?.servers?.map((s) => s.url)).toEqual([PUBLIC_URL]);
    expect(doc.paths['/openapi.json']?.servers?.map((s) => s.url)).toEqual([`${PUBLIC_URL}/v1`, PUBLIC_URL]);
    expect(doc.info.contact).toEqual({ name: expect.any(String), email: 'beheer@doelpoort.example', url: `${PUBLIC_URL}/` });
  });

  it('is the same document at /v1/openapi.json, without a token, readable from any origin', async () => {
    const { app, text } = await served();
    const v1 = await app.request('/v1/openapi.json');
    expect(v1.status).toBe(200);
    expect(await v1.text()).toBe(text);
    expect(v1.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('describes exactly the API routes the app serves, so it cannot drift from the code', async () => {
    const { app, doc } = await served();
    const described = Object.entries(doc.paths).flatMap(([key, item]) =>
      (item.servers ?? doc.servers).flatMap((s) =>
        Object.keys(item)
          .filter((m) => METHODS.includes(m))
          .map((m) => `${m.toUpperCase()} ${new URL(s.url).pathname.replace(/\/$/, '')}${key}`),
      ),
    );
    const routes = app.routes.filter((r) => r.method !== 'ALL').map((r) => ({ method: r.method, path: toOpenApiPath(r.path) }));
    expect(new Set(described)).toEqual(new Set(routes.filter((r) => isApiPath(r.path)).map((r) => `${r.method} ${r.path}`)));
    // What the document leaves out is the web application only.
    expect(described.every((d) => isApiPath(d.split(' ')[1]!))).toBe(true);
  });

  it('sends API-Version, the document’s info.version, on every response', async () => {
    const { app, doc } = await served();
    const answers = await Promise.all([
      app.request('/health'),
      app.request('/openapi.json'),
      app.request('/v1/clients/WZR-100001'),
      app.request('/no/such/path'),
      app.request('/health', { method: 'POST', body: 'x' }),
      app.request('/oauth/token', { method: 'POST' }),
    ]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 401, 404, 413, 400]);
    for (const r of answers) expect(r.headers.get('api-version')).toBe(doc.info.version);
  });
});

describe('conformance of answers to the document (test/openapi-conformance.ts)', () => {
  const record = {
    clientRef: 'WZR-100001',
    purpose: 'overdracht-kp4',
    record: { persoon: { voornamen: 'Anna' }, belastbaarheidsonderzoeken: [{ datum: '2026-01-05', arbeidsvermogen: 'beperkt' }] },
    withheld: [],
    decision: { id: 'd-1', policyVersion: 'p-1' },
  };
  const answer = (over: Partial<Answer> & { json?: unknown } = {}): Answer => {
    const { json = record, ...rest } = over;
    return {
      method: 'GET',
      path: '/v1/clients/WZR-100001',
      status: 200,
      headers: new Headers({ 'content-type': 'application/json', 'api-version': '1.0.0' }),
      body: JSON.stringify(json),
      ...rest,
    };
  };

  it('accepts an answer the document describes', async () => {
    const { text } = await served();
    expect(conformanceOf(text).check(answer())).toEqual([]);
  });

  it('fails a body that does not match, such as a guardrail field in a released record', async () => {
    const conformance = conformanceOf((await served()).text);
    const leaked = structuredClone(record);
    (leaked.record.belastbaarheidsonderzoeken[0] as Record<string, unknown>).diagnose = 'x';
    expect(conformance.check(answer({ json: leaked }))).toContainEqual(expect.stringContaining('"additionalProperty":"diagnose"'));
    expect(conformance.check(answer({ json: { ...record, record: { ...record.record, fraudeonderzoeken: [] } } })).length).toBeGreaterThan(0);
    expect(conformance.check(answer({ json: { ...record, decision: { id: 'd-1' } } }))).toContainEqual(expect.stringContaining('policyVersion'));
  });

  it('fails an undocumented status, content type, operation or missing header', async () => {
    const conformance = conformanceOf((await served()).text);
    expect(conformance.check(answer({ status: 418 }))).toEqual([expect.stringContaining('418 is not a documented status')]);
    expect(conformance.check(answer({ headers: new Headers({ 'content-type': 'text/plain', 'api-version': '1.0.0' }) }))).toEqual([
      expect.stringContaining('text/plain is not a documented content type'),
    ]);
    expect(conformance.check(answer({ headers: new Headers({ 'content-type': 'application/json' }) }))).toEqual([
      expect.stringContaining('API-Version is missing'),
    ]);
    expect(conformance.check(answer({ headers: new Headers({ 'content-type': 'application/json', 'api-version': '0.9.0' }) }))).toEqual([
      expect.stringContaining('API-Version does not match'),
    ]);
    expect(conformance.check(answer({ method: 'DELETE', status: 200 }))).toEqual([expect.stringContaining('does not describe')]);
    expect(conformance.check(answer({ status: 401 }))).toContainEqual(expect.stringContaining('WWW-Authenticate is missing'));
  });

  it('makes a request through a wrapped app fail when its answer does not conform', async () => {
    const ctx = setupApp();
    const app = createApp(ctx);
    // A route the document does not describe, present before the app is wrapped: as if it were the app's own.
    app.get('/oauth/undocumented', (c) => c.json({ ok: true }));
    const checked = conformant(app);
    await expect(checked.request('/oauth/undocumented')).rejects.toThrow(/does not conform to \/openapi.json/);
    expect((await checked.request('/health')).status).toBe(200);
  });
});
