import type { z } from 'zod';
import { DoelpoortError } from '../errors.js';

/** REQUEST_INVALID listing every problem by path; values are never echoed. */
function invalid(where: 'path' | 'query' | 'body', error: z.ZodError): DoelpoortError {
  const problems = error.issues.map((i) => ({
    path: [where, ...i.path.map(String)].join('.'),
    message: i.code === 'unrecognized_keys' ? 'unknown parameter' : i.code === 'invalid_type' ? 'missing or of the wrong type' : 'invalid value',
  }));
  return new DoelpoortError('REQUEST_INVALID', `invalid ${where}: ${problems.map((p) => p.path).join(', ')}`, problems);
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

/** `parseInput` for input whose refusal must be logged: `logRefusal` (an audit line) settles before REQUEST_INVALID. */
export async function parseInputLogged<S extends z.ZodType>(schema: S, input: unknown, where: 'path' | 'query' | 'body', logRefusal: () => Promise<unknown>): Promise<z.infer<S>> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  await logRefusal();
  throw invalid(where, result.error);
}
