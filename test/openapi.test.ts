import { describe, expect, it } from 'vitest';
import { toOpenApiPath } from '../src/http/openapi.js';
import { assetRoutes } from '../src/web/assets.js';
import { webRoutes } from '../src/web/routes.js';
import { setupApp } from './support.js';

describe('GET /openapi.json', () => {
  it('publishes an OpenAPI 3.1 document', async () => {
    const { app } = setupApp();
    const res = await app.request('/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/health']).toBeDefined();
  });

  it('describes exactly the routes the app serves, so it cannot drift from the code', async () => {
    const { app, ...deps } = setupApp();
    const doc = (await (await app.request('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    const described = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    const route = (r: { method: string; path: string }) => `${r.method} ${toOpenApiPath(r.path)}`;
    // The web application's pages and their stylesheet are for browsers, not part of the API it describes.
    const web = new Set([...webRoutes(deps).routes, ...assetRoutes().routes].map(route));
    const served = app.routes
      .filter((r) => r.method !== 'ALL')
      .map(route)
      .filter((r) => !web.has(r));
    expect(new Set(described)).toEqual(new Set(served));
    expect(web).toContain('GET /');
  });
});
