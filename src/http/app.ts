import { Hono, type Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { z } from 'zod';
import { DoelpoortError } from '../errors.js';
import { baseHeader, requestContext } from './context.js';
import type { AppDeps } from './deps.js';
import type { HonoEnv } from './env.js';
import { requireAccessToken } from './auth.js';
import { limitBodies } from './body-limit.js';
import { rateLimit } from './rate-limit.js';
import { securityHeaders } from './security-headers.js';
import { auditOperations, auditRoutes } from './audit.js';
import { breakGlassOperations, breakGlassRoutes } from './break-glass.js';
import { clientOperations, clientRoutes } from './clients.js';
import { overdrachtOperations, overdrachtRoutes } from './lists.js';
import { healthOperations, healthRoutes } from './health.js';
import { oauthOperations, oauthRoutes } from './oauth.js';
import { openApiDocument, problemSchema, type Operation } from './openapi.js';
import { oversightOperations, oversightRoutes } from './oversight.js';
import { policyOperations, policyRoutes } from './policies.js';
import { onError, problemResponse } from './problem.js';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { DemoIdentityProvider } from '../demo/identity-provider.js';
import { assetRoutes } from '../web/assets.js';
import type { ClientReading } from '../clients/decision.js';
import { DecisionCache } from '../policy/decision-cache.js';
import { DEMO_IDP_PATH } from '../web/oidc.js';
import { webRoutes } from '../web/routes.js';
import { webError, webNotFound } from '../web/pages/routes.js';

/** The full version of the API: `info.version` of the description and the `API-Version` header of every response. */
const API_VERSION = '1.0.0';

const openApiOperation: Operation = {
  method: 'get',
  path: '/v1/openapi.json',
  // ADR /core/publish-openapi asks for the document in the API's base path; the root copy is where clients found it first.
  alsoAt: ['/openapi.json'],
  operationId: 'openapi',
  summary: 'This OpenAPI 3.1 description, generated from the zod schemas the routes validate with',
  tags: ['operations'],
  security: 'none',
  responses: {
    200: { description: 'The OpenAPI document', schema: z.record(z.string(), z.unknown()).meta({ description: 'An OpenAPI 3.1 document' }) },
    429: {
      description: 'At /v1/openapi.json: too many failed requests from this address this minute',
      schema: problemSchema,
      contentType: 'application/problem+json',
      headers: { 'Retry-After': { description: 'Seconds until this address may try again', required: true } },
    },
  },
};

/** Sets `API-Version` before the handler answers, so every response carries it (ADR /core/version-header). */
const apiVersion = createMiddleware<HonoEnv>(async (c, next) => {
  baseHeader(c, 'api-version', API_VERSION);
  await next();
});

/** The paths of the API (Problem Details, the OpenAPI description); every other path is the web application's. */
export function isApiPath(path: string): boolean {
  return /^\/(v1|oauth|\.well-known)(\/|$)/.test(path) || path === '/health' || path === '/openapi.json';
}

/** The HTTP side of the gateway over its dependencies: one app per call, no module-level state, so every test builds its own. */
export function createApp(deps: AppDeps): Hono<HonoEnv> {
  const operations: Operation[] = [
    ...healthOperations,
    ...oauthOperations,
    ...clientOperations,
    ...overdrachtOperations,
    ...auditOperations,
    ...policyOperations,
    ...oversightOperations,
    ...breakGlassOperations,
    openApiOperation,
  ];
  const description = JSON.stringify(
    openApiDocument(operations, {
      version: API_VERSION,
      serverUrl: deps.config.publicUrl,
      contact: { name: 'Beheer doelpoort', email: deps.config.contactEmail, url: `${deps.config.publicUrl}/` },
    }),
  );
  // Public and free of personal data; ADR /core/publish-openapi asks that any origin may read it.
  const publishDescription = (c: Context<HonoEnv>) => c.body(description, 200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });

  const app = new Hono<HonoEnv>();
  // Demo mode's OpenID provider answers its own requests, on the socket, before any of the gateway's middleware.
  if (deps.demoIdp) app.all(`${DEMO_IDP_PATH}/*`, demoIdpHandler(deps.demoIdp));
  app.use(requestContext(deps.config.trustedProxies));
  app.use(apiVersion);
  app.use(securityHeaders(deps.oidc.formActionOrigins()));
  // Before authentication: an address past its limit, or a body past its route's, costs no token check.
  app.use(rateLimit(deps));
  app.use(limitBodies(deps));
  // The API answers with Problem Details; a person in the web application gets a Dutch page.
  app.onError((error, c) => (isApiPath(c.req.path) ? onError(error, c) : webError(error, c)));
  app.notFound((c) => (isApiPath(c.req.path) ? problemResponse(c, new DoelpoortError('RECORD_NOT_FOUND', 'no such resource')) : webNotFound(c)));
  app.route('/', healthRoutes(deps));
  app.route('/', oauthRoutes(deps));
  app.route('/', assetRoutes());
  app.get('/openapi.json', publishDescription);
  // Before the token guard below: a route that answers first is not reached by later middleware.
  app.get('/v1/openapi.json', publishDescription);
  app.route('/', webRoutes(deps));
  // Every /v1 route, mounted here or later, needs an access token; requester is then on the context.
  app.use('/v1/*', requireAccessToken(deps));
  // One decision cache for every route that decides on clients.
  const reading: ClientReading = { policies: deps.policies, clock: deps.clock, decisions: new DecisionCache() };
  app.route('/v1/clients', clientRoutes(deps, reading));
  app.route('/v1/overdrachten', overdrachtRoutes(deps, reading));
  app.route('/v1', auditRoutes(deps));
  app.route('/v1/policies', policyRoutes(deps));
  app.route('/v1/oversight', oversightRoutes(deps));
  app.route('/v1/oversight/break-glass', breakGlassRoutes(deps));
  return app;
}

/**
 * Hands a request under /demo-idp to the demo provider (a Koa app: it reads and writes Node's own request and
 * response). Only a request that came in on a socket can be handed over; in-process requests (tests) get a 404.
 */
function demoIdpHandler(idp: DemoIdentityProvider) {
  return async (c: import('hono').Context<HonoEnv>) => {
    const env = c.env as { incoming?: import('node:http').IncomingMessage; outgoing?: import('node:http').ServerResponse } | undefined;
    if (!env?.incoming || !env.outgoing) return c.body(null, 404);
    await idp.handle(env.incoming, env.outgoing);
    return RESPONSE_ALREADY_SENT;
  };
}
