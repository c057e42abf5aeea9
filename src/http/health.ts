import { Hono } from 'hono';
import { z } from 'zod';
import { DoelpoortError } from '../errors.js';
import type { Operation } from './openapi.js';
import type { AppDeps } from './deps.js';
import type { HonoEnv } from './env.js';

/**
 * `GET /health`: 200 while the database answers (it was open and migrated, or createApp would not have been called);
 * a database that stopped answering is the 503 of the error handler, so a load balancer takes the instance out.
 */
export function healthRoutes(deps: AppDeps) {
  return new Hono<HonoEnv>().get('/health', async (c) => {
    try {
      await deps.ping();
    } catch {
      throw new DoelpoortError('DATABASE_UNAVAILABLE', 'the database does not answer');
    }
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
