import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { auditFacts, type AuditFacts, type RequestFacts } from '../audit/facts.js';
import { newSpanId, newTraceId } from '../trace.js';
import type { HonoEnv, TraceContext } from './env.js';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

/** W3C trace context: continue an incoming `traceparent` (a valid one only), or start a new trace. */
export function traceFrom(header: string | undefined): TraceContext {
  const m = header ? TRACEPARENT.exec(header.trim()) : null;
  const valid = m && !/^0+$/.test(m[1]!) && !/^0+$/.test(m[2]!);
  return {
    traceId: valid ? m[1]! : newTraceId(),
    spanId: newSpanId(),
    parentSpanId: valid ? m[2]! : undefined,
  };
}

/**
 * A response whose headers are the request's base headers, then `headers`: one plain object, which the Node adapter
 * writes as it is (hono's own helpers merge into a WHATWG `Headers` for more than one header, and the adapter then reads
 * them back). The base headers are also on hono's prepared headers (for every other answer), so they must all be in
 * `baseHeaders`: a handler that returns this response answers with these headers and no others.
 */
export function respondWith(c: Context<HonoEnv>, body: string, status: number, headers: Record<string, string>): Response {
  return new Response(body, { status, headers: { ...c.get('baseHeaders'), ...headers } });
}

/** Sets a base header: on hono's prepared headers (every answer built by hono) and in `baseHeaders` (respondWith). */
export function baseHeader(c: Context<HonoEnv>, name: string, value: string): void {
  c.get('baseHeaders')[name] = value;
  c.header(name, value);
}

/**
 * The client address of a request: the socket's, unless the socket is a trusted reverse proxy
 * (DOELPOORT_TRUSTED_PROXIES); then the right-most address of `X-Forwarded-For` that is not itself a trusted proxy
 * (each proxy appends the address it saw, so only the part the trusted ones wrote is believed). A malformed header
 * leaves the proxy's own address: a client may write anything into the left of that header, never the right.
 */
export function clientAddress(socket: string, forwardedFor: string | undefined, trusted: net.BlockList | undefined): string {
  if (!trusted || !isTrusted(trusted, socket) || forwardedFor === undefined) return socket;
  const hops = forwardedFor.split(',').map((h) => h.trim());
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (net.isIP(hop) === 0) return socket;
    if (!isTrusted(trusted, hop)) return hop;
  }
  return socket;
}

function isTrusted(list: net.BlockList, address: string): boolean {
  const family = net.isIP(address);
  if (family === 0) return false;
  // An IPv4 client of a dual-stack socket arrives as ::ffff:a.b.c.d.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return list.check(mapped[1]!, 'ipv4');
  return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Sets requestId, trace context and client IP for every request, and starts the base headers: `traceparent` echoing
 * the trace, `x-request-id`. `trustedProxies`: the reverse proxies whose `X-Forwarded-For` is believed.
 */
export function requestContext(trustedProxies?: net.BlockList) {
  return createMiddleware<HonoEnv>(async (c, next) => {
    const trace = traceFrom(c.req.header('traceparent'));
    c.set('requestId', randomUUID());
    c.set('trace', trace);
    let ip = 'unknown';
    // In-process requests (tests, app.request) have no socket; getConnInfo would throw for them.
    if ((c.env as { incoming?: unknown } | undefined)?.incoming !== undefined) {
      try {
        ip = clientAddress(getConnInfo(c).remote.address ?? 'unknown', c.req.header('x-forwarded-for'), trustedProxies);
      } catch {
        // A socket already gone.
      }
    }
    c.set('clientIp', ip);
    c.set('baseHeaders', {});
    // Set before the response exists, so the handler's response is built with them: setting a header on a finished
    // response makes @hono/node-server build a full web Response (a ReadableStream body) instead of its fast path.
    baseHeader(c, 'traceparent', `00-${trace.traceId}-${trace.spanId}-01`);
    baseHeader(c, 'x-request-id', c.get('requestId'));
    await next();
  });
}

/**
 * The facts of this request for its audit lines: trace and origin, and once an access token is verified the client
 * it was issued to (its `client_id`).
 */
export function requestFacts(c: Context<HonoEnv>): RequestFacts {
  const clientId = c.get('requester')?.clientId;
  return { trace: c.get('trace'), origin: c.get('clientIp'), channel: 'api', ...(clientId ? { clientId } : {}) };
}

/** The facts every audit line of an authenticated request starts with: trace, origin, actor, purpose and token. */
export function requesterFacts(c: Context<HonoEnv>): AuditFacts {
  return auditFacts(requestFacts(c), c.get('requester'));
}
