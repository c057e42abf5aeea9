import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { DoelpoortError, type ErrorCode } from '../errors.js';
import type { HonoEnv } from './env.js';

/** The one place where an error code becomes an HTTP status. */
export const codeToStatus: Record<ErrorCode, ContentfulStatusCode> = {
  CONFIG_INVALID: 500,
  REQUEST_INVALID: 400,
  BODY_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  TOKEN_MISSING: 401,
  TOKEN_INVALID: 401,
  TOKEN_EXPIRED: 401,
  DPOP_INVALID: 401,
  PURPOSE_NOT_ALLOWED: 403,
  CLIENT_NOT_ALLOWED: 403,
  RELATIONSHIP_MISSING: 403,
  ACCESS_DENIED: 403,
  RECORD_NOT_FOUND: 404,
  IMPORT_INVALID: 400,
  RECORD_INVALID: 422,
  POLICY_INVALID: 422,
  POLICY_NOT_FOUND: 404,
  POLICY_NOT_DRAFT: 409,
  POLICY_SELF_APPROVAL: 403,
  POLICY_DECIDER_NOT_CONTROLLER: 403,
  POLICY_STALE: 409,
  NOODTOEGANG_NOT_FOUND: 404,
  NOODTOEGANG_NOT_CONTROLLER: 403,
  NOODTOEGANG_SELF_REVIEW: 403,
  NOODTOEGANG_JUDGED: 409,
  AUDIT_WRITE_FAILED: 503,
  DATABASE_UNAVAILABLE: 503,
  INTERNAL: 500,
};

const titles: Partial<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The request's path, without a path segment that may be a BSN (nine digits): a problem never echoes one. */
function instanceOf(c: Context<HonoEnv>): string {
  return new URL(c.req.url).pathname.replace(/(?<=\/)\d{9}(?=\/|$)/g, '-');
}

/** An RFC 9457 Problem Details response for a coded error. A 500 says "internal error" and nothing else. */
export function problemResponse(c: Context<HonoEnv>, error: DoelpoortError, headers: Record<string, string> = {}): Response {
  const status = codeToStatus[error.code];
  const internal = status === 500;
  const body = {
    type: `https://doelpoort.nl/problems/${error.code.toLowerCase().replaceAll('_', '-')}`,
    title: titles[status] ?? 'Error',
    status,
    detail: internal ? 'internal error' : error.detail,
    instance: instanceOf(c),
    code: internal ? 'INTERNAL' : error.code,
    requestId: c.get('requestId'),
    ...(!internal && error.problems.length > 0 ? { problems: error.problems } : {}),
  };
  return c.body(JSON.stringify(body), status, { 'content-type': 'application/problem+json', ...headers });
}

/** Hono's onError: coded errors become problems; anything else is logged by code only and answered as a bare 500. */
export function onError(error: Error, c: Context<HonoEnv>): Response {
  if (error instanceof DoelpoortError) return problemResponse(c, error);
  // Never log the message of an unknown error: drivers and parsers put values into theirs.
  console.error(JSON.stringify({ level: 'error', msg: 'unhandled error', requestId: c.get('requestId'), error: error.name }));
  return problemResponse(c, new DoelpoortError('INTERNAL'));
}
