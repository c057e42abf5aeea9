import type { z } from 'zod';
import { DoelpoortError } from '../errors.js';
import { refuse, type DenyLine, type UnitOfWork } from '../unit-of-work.js';

/** REQUEST_INVALID listing every problem by path; values are never echoed. */
function invalid(where: 'path' | 'query' | 'body', error: z.ZodError, reason?: string): DoelpoortError {
  const problems = error.issues.map((i) => ({
    path: [where, ...i.path.map(String)].join('.'),
    message: i.code === 'unrecognized_keys' ? 'unknown parameter' : i.code === 'invalid_type' ? 'missing or of the wrong type' : 'invalid value',
  }));
  return new DoelpoortError(
    'REQUEST_INVALID',
    `invalid ${where}: ${problems.map((p) => p.path).join(', ')}`,
    problems,
    reason === undefined ? undefined : { reason },
  );
}

/**
 * Parses untrusted input (params, query, body) with the same zod schema that the OpenAPI description publishes.
 * A failure is REQUEST_INVALID listing every problem by path; values are never echoed.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, where: 'path' | 'query' | 'body'): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw invalid(where, result.error);
}

/**
 * Which refusals of input are logged, one rule for every route: on a route whose requests are audited (every `/v1`
 * route: the requester is known once the token is verified), every refused part of the input (path, query or body)
 * is a deny line of the route's own action, written before the 400 leaves; its reason is `CLIENT_REF_INVALID` when a
 * clientRef is refused (a BSN typed into the path, say: the line never holds the value) and `REQUEST_INVALID`
 * otherwise. Unauthenticated refusals are the edges' (auth.ts, body-limit.ts, rate-limit.ts), and `/oauth/token`
 * logs every outcome of its own. A route may instead hand `parseInput`'s refusal to its verb, which throws it inside
 * its unit of work: the deny line is then the same (the policy and audit routes do so).
 */
export async function parseAudited<S extends z.ZodType>(
  uow: UnitOfWork,
  deny: () => DenyLine,
  schema: S,
  input: unknown,
  where: 'path' | 'query' | 'body',
): Promise<z.infer<S>> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const reason = result.error.issues.some((i) => i.path[0] === 'clientRef') ? 'CLIENT_REF_INVALID' : 'REQUEST_INVALID';
  return refuse(uow, invalid(where, result.error, reason), deny());
}
