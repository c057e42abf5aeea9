import { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { auditFacts } from '../audit/facts.js';
import { DoelpoortError } from '../errors.js';
import { refuse } from '../unit-of-work.js';
import type { AppDeps } from './deps.js';
import { requestFacts } from './context.js';
import type { HonoEnv } from './env.js';
import { problemResponse } from './problem.js';

const KiB = 1024;

/** The routes that take a body, and the most each accepts (api.md, Limits and headers); every other route takes none. */
export const BODY_LIMITS: ReadonlyArray<{ path: string; bytes: number }> = [
  { path: '/oauth/token', bytes: 64 * KiB },
  { path: '/v1/policies', bytes: 512 * KiB },
  // The web application's forms: a choice and a token or two.
  { path: '/login', bytes: 4 * KiB },
  { path: '/logout', bytes: 4 * KiB },
  // The privacy officer's console: a policy document (pasted or a file, multipart) or a hypothetical record; else a note.
  { path: '/beheer/beleid', bytes: 1024 * KiB },
  { path: '/beheer', bytes: 16 * KiB },
  /** A review: a note of at most 2000 characters. */
  { path: '/v1/oversight/reviews', bytes: 16 * KiB },
  /** A verdict: a note of at most 2000 characters, even if every one is sent as a `\uXXXX` escape. */
  { path: '/v1/oversight/break-glass', bytes: 16 * KiB },
  // The emergency access request: a clientRef, a reason of at most 500 characters (UTF-8, url-encoded) and the form token.
  { path: '/noodtoegang', bytes: 16 * KiB },
  // The web application's look-up form: a BSN and the form token.
  { path: '/schuldhulp/zoeken', bytes: 4 * KiB },
];

/** The limit of `path`: that of the route it is or lies under, else 0. */
export function bodyLimitFor(path: string): number {
  return BODY_LIMITS.find((l) => path === l.path || path.startsWith(`${l.path}/`))?.bytes ?? 0;
}

/**
 * Refuses a body over its route's limit with 413 before it is read whole: on the declared `Content-Length` alone, or,
 * for a chunked body, as soon as the bytes read pass the limit (never more than the limit is held). A route that takes
 * no body refuses any. Each refusal is an audit line (`request.refused`, `BODY_TOO_LARGE`) through the group commit;
 * no line, no answer but 503. The rest of a refused body is drained and the connection closed by the Node adapter.
 */
export function limitBodies(deps: Pick<AppDeps, 'uow'>): MiddlewareHandler<HonoEnv> {
  const limited = new Map(BODY_LIMITS.map((l) => [l.bytes, bodyLimit({ maxSize: l.bytes, onError: (c) => tooLarge(c as Context<HonoEnv>) })]));

  async function tooLarge(c: Context<HonoEnv>): Promise<Response> {
    const token = c.req.path === '/oauth/token';
    const error = new DoelpoortError('BODY_TOO_LARGE', 'the request body is larger than this route accepts');
    try {
      await refuse(deps.uow, error, { action: 'request.refused', ...auditFacts(requestFacts(c)) });
    } catch (failed) {
      if (failed !== error) {
        if (token) return c.json({ error: 'temporarily_unavailable', error_description: 'the audit line could not be written' }, 503);
        return problemResponse(c, new DoelpoortError('AUDIT_WRITE_FAILED'));
      }
    }
    if (token) return c.json({ error: 'invalid_request', error_description: 'the request body is larger than this endpoint accepts' }, 413);
    return problemResponse(c, error);
  }

  return createMiddleware<HonoEnv>(async (c, next) => {
    const bytes = bodyLimitFor(c.req.path);
    if (bytes > 0) {
      const incoming = contentLengthFramed(c);
      if (incoming === undefined) return limited.get(bytes)!(c, next);
      // The same judgement as hono's bodyLimit makes of a declared length, without the web Request it builds to read it.
      if (Number(incoming.headers['content-length']) > bytes) return tooLarge(c);
      c.set('nodeBody', incoming);
      await next();
      return undefined;
    }
    // On the wire a request has a body only when its framing headers say so; an empty body is no body. A GET or HEAD
    // is judged by those headers alone: reading `c.req.raw` would make the Node adapter build a whole web Request on
    // the hot path (about a fifth of a read's cost). Other methods may also come as in-process Requests without
    // Content-Length, so their body stream is asked too.
    const declared = c.req.header('content-length');
    const framed = declared !== undefined ? declared.trim() !== '0' : c.req.header('transfer-encoding') !== undefined;
    const hasBody = framed || (c.req.method !== 'GET' && c.req.method !== 'HEAD' && declared === undefined && c.req.raw.body !== null);
    if (hasBody) return tooLarge(c);
    await next();
    return undefined;
  });
}

/**
 * Node's request, when the Node adapter received this one with a plain decimal Content-Length and no
 * Transfer-Encoding: Node's parser then hands over exactly the declared bytes and no more, so the declared length is
 * the body's. Undefined in process (`app.request`), for a chunked body, and for anything odder (hono's bodyLimit
 * judges those, as before).
 */
function contentLengthFramed(c: Context<HonoEnv>): IncomingMessage | undefined {
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  if (!(incoming instanceof IncomingMessage) || incoming.headers['transfer-encoding'] !== undefined) return undefined;
  const declared = incoming.headers['content-length'];
  return declared !== undefined && /^\d{1,15}$/.test(declared) ? incoming : undefined;
}

const UTF8 = new TextDecoder();

/**
 * The request body as text (UTF-8, a leading BOM dropped, as `c.req.text()` reads it). A body limitBodies let through
 * on its Content-Length is read straight from Node's request: `c.req.text()` would make the Node adapter build a whole
 * web Request and its streams, about a third of a token exchange's CPU (bench/README.md, issue 15). Every other body
 * is read through hono.
 */
export async function requestText(c: Context<HonoEnv>): Promise<string> {
  const incoming = c.get('nodeBody');
  if (incoming === undefined) return c.req.text();
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return UTF8.decode(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
}
