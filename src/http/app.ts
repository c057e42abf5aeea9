import { Hono } from 'hono';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Db } from '../db.js';
import { DoelpoortError } from '../errors.js';
import type { CheckpointKey } from '../audit/keys.js';
import { AuditLog } from '../audit/log.js';
import { RecordStore } from '../records/store.js';
import { requestContext } from './context.js';
import type { HonoEnv } from './env.js';
import { healthRoutes } from './health.js';
import { onError, problemResponse } from './problem.js';

/** Everything the app needs, built by the composition root (src/cli/serve.ts) or by a test. */
export interface AppDeps {
  db: Db;
  config: Config;
  clock: Clock;
  records: RecordStore;
  audit: AuditLog;
}

/** The composition root of the HTTP side: one app per call, no module-level state, so every test builds its own. */
export function createApp(deps: AppDeps): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>();
  app.use(requestContext);
  app.onError(onError);
  app.notFound((c) => problemResponse(c, new DoelpoortError('RECORD_NOT_FOUND', 'no such resource')));
  app.route('/', healthRoutes(deps));
  return app;
}

/** Builds the dependencies that follow from a database, so callers pass only what they choose. */
export function appDeps(base: Pick<AppDeps, 'db' | 'config' | 'clock'> & { pseudonymKey: Buffer; checkpointKey?: CheckpointKey }): AppDeps {
  const { pseudonymKey, checkpointKey, ...rest } = base;
  const { checkpointEvery, checkpointMinutes } = base.config;
  const audit = new AuditLog(base.db, { clock: base.clock, pseudonymKey, checkpointKey, checkpointEvery, checkpointMinutes });
  return { ...rest, records: new RecordStore(base.db), audit };
}
