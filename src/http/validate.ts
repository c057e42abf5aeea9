import type { z } from 'zod';
import { DoelpoortError } from '../errors.js';

/**
 * Parses untrusted input (params, query, body) with the same zod schema that the OpenAPI description publishes.
 * A failure is REQUEST_INVALID listing every problem by path; values are never echoed.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, where: 'path' | 'query' | 'body'): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => ({
    path: [where, ...i.path.map(String)].join('.'),
    message: i.code === 'unrecognized_keys' ? 'unknown parameter' : i.code === 'invalid_type' ? 'missing or of the wrong type' : 'invalid value',
  }));
  throw new DoelpoortError('REQUEST_INVALID', `invalid ${where}: ${problems.map((p) => p.path).join(', ')}`, problems);
}
