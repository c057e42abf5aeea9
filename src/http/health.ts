import { Hono } from 'hono';
import type { AppDeps } from './app.js';
import type { HonoEnv } from './env.js';

/** `GET /health`: 200 once the database is open and migrated (it is, or createApp would not have been called). */
export function healthRoutes(deps: AppDeps) {
  const ping = deps.db.$client.prepare('SELECT 1');
  return new Hono<HonoEnv>().get('/health', (c) => {
    ping.get();
    return c.json({ status: 'ok' });
  });
}
