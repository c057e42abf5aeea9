import { Hono } from 'hono';
import { z } from 'zod';
import type { Operation } from './openapi.js';
import type { AppDeps } from './deps.js';
import type { HonoEnv } from './env.js';

/** `GET /health`: 200 once the database is open and migrated (it is, or createApp would not have been called). */
export function healthRoutes(deps: AppDeps) {
  const ping = deps.db.$client.prepare('SELECT 1');
  return new Hono<HonoEnv>().get('/health', (c) => {
    ping.get();
    return c.json({ status: 'ok' });
  });
}

/** The published description of the health route. */
export const healthOperations: Operation[] = [
  {
    method: 'get',
    path: '/health',
    operationId: 'health',
    summary: 'Liveness: 200 once the database is open and migrated',
    tags: ['operations'],
    security: 'none',
    responses: { 200: { description: 'Up', schema: z.object({ status: z.literal('ok') }) } },
  },
];
