import type { IncomingMessage } from 'node:http';
import type { Requester, Role } from '../purposes.js';

/** Hono's typed context for doelpoort: what middleware puts on a request for the routes to read. */
export interface TraceContext {
  /** 32 hex: taken from an incoming W3C `traceparent`, or new. */
  traceId: string;
  /** 16 hex: this request's own span. */
  spanId: string;
  /** 16 hex: the caller's span, when a `traceparent` came in. */
  parentSpanId: string | undefined;
}

/** A logged-in person of the web application, as the session middleware (src/web) puts it on the context. */
export interface WebSession {
  /** The verified login: a person is (`issuer`, `sub`). No token is ever kept here. */
  login: { issuer: string; sub: string; role: Role; org: string; name?: string | undefined };
  /** The per-session token every form of this session posts back in its hidden `csrf` field. */
  csrfToken: string;
}

export interface HonoEnv {
  Variables: {
    requestId: string;
    trace: TraceContext;
    /** The caller's address as the socket saw it; `unknown` where there is no socket (in-process requests). */
    clientIp: string;
    /** Who is asking, from a verified access token; set by requireAccessToken (src/http/auth.ts) on `/v1` routes. */
    requester: Requester;
    /** The logged-in person; set by the web application's session middleware on its pages. */
    session: WebSession;
    /** The origins a page's forms may redirect to (CSP `form-action`, beside 'self'); set by securityHeaders. */
    formActionOrigins: readonly string[];
    /**
     * The headers every response of this request starts from (trace, request id, API version, security headers),
     * lower-case names, as one plain object for `respondWith` (src/http/context.ts); also on hono's prepared headers.
     */
    baseHeaders: Record<string, string>;
    /**
     * Node's request, when its body is to be read from it (set by limitBodies for a body framed by a Content-Length
     * within the route's limit, in src/http/body-limit.ts; read with `requestText`).
     */
    nodeBody: IncomingMessage;
  };
}
