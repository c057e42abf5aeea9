import { randomBytes, randomUUID } from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import { createMiddleware } from 'hono/factory';
import type { HonoEnv, TraceContext } from './env.js';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

/** W3C trace context: continue an incoming `traceparent` (a valid one only), or start a new trace. */
export function traceFrom(header: string | undefined): TraceContext {
  const m = header ? TRACEPARENT.exec(header.trim()) : null;
  const valid = m && !/^0+$/.test(m[1]!) && !/^0+$/.test(m[2]!);
  return {
    traceId: valid ? m[1]! : randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    parentSpanId: valid ? m[2]! : undefined,
  };
}

/** Sets requestId, trace context and client IP for every request, and echoes the trace in `traceparent`. */
export const requestContext = createMiddleware<HonoEnv>(async (c, next) => {
  const trace = traceFrom(c.req.header('traceparent'));
  c.set('requestId', randomUUID());
  c.set('trace', trace);
  let ip = 'unknown';
  try {
    ip = getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    // In-process requests (tests, app.request) have no socket.
  }
  c.set('clientIp', ip);
  await next();
  c.header('traceparent', `00-${trace.traceId}-${trace.spanId}-01`);
  c.header('x-request-id', c.get('requestId'));
});
