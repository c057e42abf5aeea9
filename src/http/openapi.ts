import { z } from 'zod';

/** One operation of the API as published: the schemas are the very objects the route validates with. */
export interface Operation {
  method: 'get' | 'post';
  /** OpenAPI form: `/v1/clients/{clientRef}`. */
  path: string;
  operationId: string;
  summary: string;
  tags: string[];
  /** `bearer`: a purpose-bound access token (or DPoP-bound) is required. */
  security: 'bearer' | 'none';
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: { contentType: string; schema: z.ZodType };
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
}

/** RFC 9457 Problem Details as doelpoort sends them. */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    code: z.string().meta({ description: 'Stable machine-readable code, e.g. TOKEN_EXPIRED, PURPOSE_NOT_ALLOWED' }),
    requestId: z.string(),
    problems: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem' });

/** The Problem Details responses every protected operation may give. */
export const protectedProblems = {
  401: { description: 'No, or a bad, expired or wrongly bound access token', schema: problemSchema, contentType: 'application/problem+json' },
  403: { description: 'The token’s purpose, client or organisation does not allow this', schema: problemSchema, contentType: 'application/problem+json' },
  413: {
    description: 'A request body over the route’s limit (512 KiB on policy routes; none elsewhere)',
    schema: problemSchema,
    contentType: 'application/problem+json',
  },
  429: {
    description: 'Too many failed requests from this address this minute; see Retry-After',
    schema: problemSchema,
    contentType: 'application/problem+json',
  },
  503: { description: 'The audit line could not be written; nothing was released', schema: problemSchema, contentType: 'application/problem+json' },
} as const;

const toSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any', io: 'input' });

function parameters(where: 'path' | 'query', schema: z.ZodObject | undefined) {
  if (!schema) return [];
  const json = toSchema(schema) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: s,
  }));
}

/** The OpenAPI 3.1 document of the whole API, generated from the operations' zod schemas. */
export function openApiDocument(operations: Operation[], info: { version: string; serverUrl: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(op.responses)) {
      responses[status] = {
        description: r.description,
        ...(r.schema ? { content: { [r.contentType ?? 'application/json']: { schema: toSchema(r.schema) } } } : {}),
      };
    }
    (paths[op.path] ??= {})[op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      tags: op.tags,
      ...(op.security === 'bearer' ? { security: [{ bearer: [] }, { dpop: [] }] } : { security: [] }),
      parameters: [...parameters('path', op.params), ...parameters('query', op.query)],
      ...(op.body ? { requestBody: { required: true, content: { [op.body.contentType]: { schema: toSchema(op.body.schema) } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'doelpoort',
      version: info.version,
      description:
        'Purpose-bound access to Werkzaak Rivierenland client records. Obtain a token at POST /oauth/token (RFC 8693 token exchange with one RFC 9396 authorization_details object of type doelbinding); every access is audited.',
    },
    servers: [{ url: info.serverUrl }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (at+jwt, RFC 9068)' },
        dpop: { type: 'http', scheme: 'DPoP', description: 'RFC 9449 sender-constrained token with a DPoP proof header' },
      },
    },
  };
}

/** Hono's `:param` path form as OpenAPI's `{param}`. */
export function toOpenApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}
