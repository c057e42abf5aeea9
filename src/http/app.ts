import { Hono } from 'hono';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Db, RecordsDb } from '../db.js';
import { DoelpoortError } from '../errors.js';
import type { CheckpointKey } from '../audit/keys.js';
import { AuditLog } from '../audit/log.js';
import { checkpointWitness } from '../audit/witness.js';
import { ActivePolicy } from '../policy/active.js';
import { PolicyVersions } from '../policy/versions.js';
import { RecordStore } from '../records/store.js';
import { SqliteUnitOfWork, type UnitOfWork } from '../unit-of-work.js';
import { requestContext } from './context.js';
import type { HonoEnv } from './env.js';
import { createTokenService, type TokenService } from '../tokens/service.js';
import { requireAccessToken } from './auth.js';
import { limitBodies } from './body-limit.js';
import { FailureLimiter, rateLimit } from './rate-limit.js';
import { securityHeaders } from './security-headers.js';
import { auditOperations, auditRoutes } from './audit.js';
import { clientOperations, clientRoutes } from './clients.js';
import { healthOperations, healthRoutes } from './health.js';
import { oauthOperations, oauthRoutes } from './oauth.js';
import { openApiDocument, type Operation } from './openapi.js';
import { policyOperations, policyRoutes } from './policies.js';
import { codeToStatus, onError, problemResponse } from './problem.js';

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

/** Everything the app needs, built by the composition root (src/cli/serve.ts) or by a test. */
export interface AppDeps {
  /** The state database: audit log, checkpoints, policy versions. The only one a request writes. */
  db: Db;
  config: Config;
  clock: Clock;
  records: RecordStore;
  audit: AuditLog;
  /** The one way to run audited work: read, decide, append, commit, then answer (src/unit-of-work.ts). */
  uow: UnitOfWork;
  tokens: TokenService;
  /** The policy in force and the stored versions. */
  policies: ActivePolicy;
  /** Failed requests per client address (DOELPOORT_RATE_LIMIT). */
  limiter: FailureLimiter;
}

/** The composition root of the HTTP side: one app per call, no module-level state, so every test builds its own. */
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
  // Every /v1 route, mounted here or later, needs an access token; requester is then on the context.
  app.use('/v1/*', requireAccessToken(deps));
  app.route('/v1/clients', clientRoutes(deps));
  app.route('/v1', auditRoutes(deps));
  app.route('/v1/policies', policyRoutes(deps));

  const operations: Operation[] = [...healthOperations, ...oauthOperations, ...clientOperations, ...auditOperations, ...policyOperations, openApiOperation];
  const description = JSON.stringify(openApiDocument(operations, { version: API_VERSION, serverUrl: deps.config.publicUrl }));
  app.get('/openapi.json', (c) => c.body(description, 200, { 'content-type': 'application/json' }));
  return app;
}

/** Builds the dependencies that follow from a database, so callers pass only what they choose. */
export function appDeps(
  base: Pick<AppDeps, 'db' | 'config' | 'clock'> & Partial<Pick<AppDeps, 'tokens' | 'policies'>> & { recordsDb: RecordsDb; pseudonymKey: Buffer; checkpointKey?: CheckpointKey },
): AppDeps {
  const { pseudonymKey, checkpointKey, recordsDb, ...rest } = base;
  const { checkpointEvery, checkpointMinutes, checkpointDir } = base.config;
  const records = new RecordStore(recordsDb);
  const audit = new AuditLog(base.db, { clock: base.clock, pseudonymKey, checkpointKey, checkpointEvery, checkpointMinutes, witness: checkpointWitness(checkpointDir) });
  const policies = base.policies ?? ActivePolicy.bootstrap(new PolicyVersions(base.db, base.clock), base.config.policiesDir);
  return {
    ...rest,
    records,
    audit,
    uow: new SqliteUnitOfWork({ audit, records, policies: policies.versions, statusOf: (code) => codeToStatus[code] }),
    tokens: base.tokens ?? createTokenService(base.config, base.clock),
    limiter: new FailureLimiter({ limit: base.config.rateLimit, clock: base.clock }),
    policies,
  };
}
