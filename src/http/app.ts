import { Hono } from 'hono';
import { DoelpoortError } from '../errors.js';
import { requestContext } from './context.js';
import type { AppDeps } from './deps.js';
import type { HonoEnv } from './env.js';
import { requireAccessToken } from './auth.js';
import { limitBodies } from './body-limit.js';
import { rateLimit } from './rate-limit.js';
import { securityHeaders } from './security-headers.js';
import { auditOperations, auditRoutes } from './audit.js';
import { clientOperations, clientRoutes } from './clients.js';
import { healthOperations, healthRoutes } from './health.js';
import { oauthOperations, oauthRoutes } from './oauth.js';
import { openApiDocument, type Operation } from './openapi.js';
import { oversightOperations, oversightRoutes } from './oversight.js';
import { policyOperations, policyRoutes } from './policies.js';
import { onError, problemResponse } from './problem.js';
import { assetRoutes } from '../web/assets.js';

const API_VERSION = '1.0.0';

const openApiOperation: Operation = {
  method: 'get',
  path: '/openapi.json',
  operationId: 'openapi',
  summary: 'This OpenAPI 3.1 description, generated from the zod schemas the routes validate with',
  tags: ['operations'],
  security: 'none',
  responses: { 200: { description: 'The OpenAPI document' } },
};

/** The HTTP side of the gateway over its dependencies: one app per call, no module-level state, so every test builds its own. */
export function createApp(deps: AppDeps): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>();
  app.use(requestContext);
  app.use(securityHeaders);
  // Before authentication: an address past its limit, or a body past its route's, costs no token check.
  app.use(rateLimit(deps));
  app.use(limitBodies(deps));
  app.onError(onError);
  app.notFound((c) => problemResponse(c, new DoelpoortError('RECORD_NOT_FOUND', 'no such resource')));
  app.route('/', healthRoutes(deps));
  app.route('/', oauthRoutes(deps));
  app.route('/', assetRoutes());
  // Every /v1 route, mounted here or later, needs an access token; requester is then on the context.
  app.use('/v1/*', requireAccessToken(deps));
  app.route('/v1/clients', clientRoutes(deps));
  app.route('/v1', auditRoutes(deps));
  app.route('/v1/policies', policyRoutes(deps));
  app.route('/v1/oversight', oversightRoutes(deps));

  const operations: Operation[] = [
    ...healthOperations,
    ...oauthOperations,
    ...clientOperations,
    ...auditOperations,
    ...policyOperations,
    ...oversightOperations,
    openApiOperation,
  ];
  const description = JSON.stringify(openApiDocument(operations, { version: API_VERSION, serverUrl: deps.config.publicUrl }));
  app.get('/openapi.json', (c) => c.body(description, 200, { 'content-type': 'application/json' }));
  return app;
}
