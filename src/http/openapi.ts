import { z } from 'zod';

/** A response header as published; its value is a string unless `schema` says more. */
export interface ResponseHeader {
  description: string;
  /** The header is on every response of this status. */
  required?: boolean;
  schema?: z.ZodType;
}

/** One response of an operation: its body by media type (none: an empty body) and its headers besides `API-Version`. */
export interface OperationResponse {
  description: string;
  /** The body of the one media type `contentType` (application/json when absent). */
  schema?: z.ZodType;
  contentType?: string;
  /** Bodies of further media types the same status may come in (content negotiation). */
  alternatives?: Record<string, z.ZodType>;
  headers?: Record<string, ResponseHeader>;
}

/** One operation of the API as published: the schemas are the very objects the route validates with. */
export interface Operation {
  method: 'get' | 'post';
  /** The path as served, in OpenAPI form: `/v1/clients/{clientRef}`. Under `/v1` it is published relative to the `/v1` server. */
  path: string;
  /** Other paths the same operation is served at; each must be the same path relative to another server (`/openapi.json`). */
  alsoAt?: string[];
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  /** `bearer`: a purpose-bound access token (or DPoP-bound) is required. */
  security: 'bearer' | 'none';
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: { contentType: string; schema: z.ZodType };
  responses: Record<number, OperationResponse>;
}

const PROBLEM_JSON = 'application/problem+json';

/** RFC 9457 Problem Details as doelpoort sends them. */
export const problemSchema = z
  .object({
    type: z.url().meta({ description: 'A URI naming the kind of problem, one per code' }),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string().meta({ description: 'What went wrong; never a token, a claim or a record value' }),
    instance: z.string().meta({ format: 'uri-reference', description: 'The request path, with a nine-digit segment replaced by `-`' }),
    code: z.string().meta({ description: 'Stable machine-readable code, e.g. TOKEN_EXPIRED, PURPOSE_NOT_ALLOWED' }),
    requestId: z.uuid(),
    problems: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem' });

const problem = (description: string, headers?: Record<string, ResponseHeader>): OperationResponse => ({
  description,
  schema: problemSchema,
  contentType: PROBLEM_JSON,
  ...(headers ? { headers } : {}),
});

const retryAfter: ResponseHeader = { description: 'Seconds until this address may try again', required: true, schema: z.string().regex(/^\d+$/) };

/** The Problem Details responses every protected operation may give. */
export const protectedProblems = {
  401: problem('No, or a bad, expired or wrongly bound access token', {
    'WWW-Authenticate': { description: 'The RFC 6750 / RFC 9449 challenge: Bearer and DPoP, with the accepted DPoP algorithms', required: true },
  }),
  403: problem('The token’s purpose, client or organisation does not allow this'),
  413: problem('A request body over the route’s limit (512 KiB on policy routes, 16 KiB on a break-glass verdict; none elsewhere)'),
  429: problem('Too many failed requests from this address this minute', { 'Retry-After': retryAfter }),
  503: problem('The audit line could not be written; nothing was released'),
} satisfies Record<number, OperationResponse>;

/**
 * What the middleware in front of every route (app.ts) may answer for any operation: a body on a route that takes
 * none (refused and logged), that refusal's audit line not written, and an internal error.
 */
const everyOperation = {
  413: problem('A request body on a route that takes none'),
  500: problem('An internal error; the detail says only "internal error"'),
  503: problem('The audit line could not be written; nothing was released'),
} satisfies Record<number, OperationResponse>;

/** The response header ADR /core/version-header asks of every response. */
const API_VERSION_HEADER = 'API-Version';

const TAGS: Record<string, string> = {
  clients: 'Client data under a purpose (doelbinding)',
  audit: 'The audit log and the access report (toezicht)',
  policies: 'The policy lifecycle (beleidsbeheer)',
  oversight: 'Oversight of the audit log: the review of emergency accesses (toezicht)',
  tokens: 'Purpose-bound access tokens and the keys that verify them',
  operations: 'Liveness and this description',
};

type JsonSchema = Record<string, unknown>;
type Io = 'input' | 'output';

const COMPONENT = '#/components/schemas/';
const ROOT = '~root~';

/**
 * The zod schemas of the operations as JSON Schema: every schema with a `.meta({ id })` becomes a component that the
 * others `$ref`, in one registry conversion per direction (requests are described as zod reads them, responses as
 * zod writes them). A named schema that differs between the two gets a second component, `<id>Input`.
 */
class SchemaSet {
  readonly #roots: Record<Io, z.ZodType[]> = { input: [], output: [] };
  /** The registry id each root schema was converted under; a schema added twice is converted once. */
  readonly #rootIds: Record<Io, Map<z.ZodType, string>> = { input: new Map(), output: new Map() };
  #converted: Record<Io, Record<string, JsonSchema>> | undefined;
  #inputName = new Map<string, string>();

  /** Registers `schema` for conversion in one direction; `resolve(ref)` then gives its JSON Schema. */
  add(schema: z.ZodType, io: Io): { io: Io; index: number } {
    this.#roots[io].push(schema);
    return { io, index: this.#roots[io].length - 1 };
  }

  /** Converts every registered schema; call once, after the last `add`. */
  convert(): void {
    const named = [...z.globalRegistry._idmap.entries()];
    const pass = (io: Io) => {
      const registry = z.registry<{ id: string }>();
      for (const [id, schema] of named) registry.add(schema, { id });
      this.#roots[io].forEach((schema, i) => {
        if (registry.has(schema)) return;
        registry.add(schema, { id: `${ROOT}${i}` });
        this.#rootIds[io].set(schema, `${ROOT}${i}`);
      });
      const { schemas } = z.toJSONSchema(registry, {
        target: 'draft-2020-12',
        io,
        unrepresentable: 'any',
        uri: (id) => `${COMPONENT}${id}`,
      }) as { schemas: Record<string, JsonSchema> };
      if ('__shared' in schemas) throw new TypeError('openapi: a recursive schema without an id cannot be published; give it .meta({ id })');
      for (const s of Object.values(schemas)) {
        delete s.$schema;
        delete s.$id;
      }
      return schemas;
    };
    this.#converted = { input: pass('input'), output: pass('output') };
    // A named schema is published once when both directions read alike, as `<id>` and `<id>Input` otherwise.
    const { input, output } = this.#converted;
    const same = new Map<string, boolean>();
    const alike = (id: string): boolean => {
      if (same.has(id)) return same.get(id)!;
      same.set(id, true);
      const result = JSON.stringify(input[id]) === JSON.stringify(output[id]) && refsOf(input[id]).every(alike);
      same.set(id, result);
      return result;
    };
    for (const id of Object.keys(input)) if (!id.startsWith(ROOT)) this.#inputName.set(id, alike(id) ? id : `${id}Input`);
  }

  /** The JSON Schema of the `index`th schema added for `io`: a `$ref` for a named one, else inline. */
  resolve({ io, index }: { io: Io; index: number }): JsonSchema {
    const converted = this.#converted?.[io];
    if (!converted) throw new TypeError('openapi: convert() before resolve()');
    const schema = this.#roots[io][index]!;
    const id = z.globalRegistry.get(schema)?.id;
    const json = id === undefined ? structuredClone(converted[this.#rootIds[io].get(schema)!]!) : { $ref: `${COMPONENT}${id}` };
    return io === 'input' ? this.#renamed(json) : json;
  }

  /** The components the resolved schemas in `reached` refer to, directly or through each other, by name. */
  components(reached: unknown): Record<string, JsonSchema> {
    const { input, output } = this.#converted!;
    const all = new Map<string, JsonSchema>();
    for (const [id, json] of Object.entries(output)) if (!id.startsWith(ROOT)) all.set(id, json);
    for (const [id, name] of this.#inputName) {
      if (name === id) continue;
      if (all.has(name)) throw new TypeError(`openapi: the input reading of ${id} collides with the schema named ${name}`);
      all.set(name, this.#renamed(input[id]!));
    }
    const out: Record<string, JsonSchema> = {};
    const visit = (name: string) => {
      if (name in out) return;
      const json = all.get(name);
      if (!json) throw new TypeError(`openapi: no schema named ${name}`);
      out[name] = json;
      for (const r of refsOf(json)) visit(r);
    };
    for (const r of refsOf(reached)) visit(r);
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
  }

  /** An input-side schema with its refs to the names the components carry. */
  #renamed(json: JsonSchema): JsonSchema {
    return JSON.parse(
      JSON.stringify(json, (key, value: unknown) =>
        key === '$ref' && typeof value === 'string' && value.startsWith(COMPONENT)
          ? `${COMPONENT}${this.#inputName.get(value.slice(COMPONENT.length)) ?? value.slice(COMPONENT.length)}`
          : value,
      ),
    ) as JsonSchema;
  }
}

/** The component names a JSON value refers to. */
function refsOf(value: unknown): string[] {
  const refs: string[] = [];
  JSON.stringify(value, (key, v: unknown) => {
    if (key === '$ref' && typeof v === 'string' && v.startsWith(COMPONENT)) refs.push(v.slice(COMPONENT.length));
    return v;
  });
  return refs;
}

/** Which server a served path is published under, and the path relative to it. */
function published(path: string): { server: 'v1' | 'root'; key: string } {
  return path.startsWith('/v1/') ? { server: 'v1', key: path.slice('/v1'.length) } : { server: 'root', key: path };
}

/**
 * The OpenAPI 3.1 document of the whole API, generated from the operations' zod schemas. The `/v1` operations are
 * published relative to the server `<publicUrl>/v1` (ADR /core/uri-version); the others (token endpoint, keys,
 * health, this document) carry their own `servers` at the path.
 */
export function openApiDocument(operations: Operation[], info: { version: string; serverUrl: string; contact: { name: string; email: string; url: string } }) {
  const schemas = new SchemaSet();
  const servers = {
    v1: { url: `${info.serverUrl}/v1`, description: 'Version 1 of the API' },
    root: { url: info.serverUrl, description: 'Outside the versioned API' },
  };

  const planned = operations.map((op) => {
    const at = [op.path, ...(op.alsoAt ?? [])].map(published);
    if (at.some((p) => p.key !== at[0]!.key)) throw new TypeError(`openapi: ${op.operationId} is published at one path relative to each server`);
    const responses = { ...(op.security === 'bearer' ? protectedProblems : {}), ...everyOperation, ...op.responses } as Record<number, OperationResponse>;
    return {
      op,
      key: at[0]!.key,
      servers: at.map((p) => p.server),
      params: op.params && schemas.add(op.params, 'input'),
      query: op.query && schemas.add(op.query, 'input'),
      body: op.body && schemas.add(op.body.schema, 'input'),
      responses: Object.entries(responses)
        .sort(([a], [b]) => Number(a) - Number(b))
        .map(([status, r]) => ({
          status,
          r,
          content: Object.entries({ ...(r.schema ? { [r.contentType ?? 'application/json']: r.schema } : {}), ...r.alternatives }).map(
            ([type, schema]) => [type, schemas.add(schema, 'output')] as const,
          ),
          headers: Object.entries(r.headers ?? {}).map(([name, h]) => [name, h, schemas.add(h.schema ?? z.string(), 'output')] as const),
        })),
    };
  });
  schemas.convert();

  const parameters = (where: 'path' | 'query', ref: { io: Io; index: number } | undefined) => {
    if (!ref) return [];
    const json = schemas.resolve(ref) as { properties?: Record<string, JsonSchema>; required?: string[] };
    return Object.entries(json.properties ?? {}).map(([name, s]) => {
      const { description, ...schema } = s;
      return {
        name,
        in: where,
        required: where === 'path' || (json.required ?? []).includes(name),
        ...(typeof description === 'string' ? { description } : {}),
        schema,
      };
    });
  };

  const paths: Record<string, Record<string, unknown>> = {};
  for (const p of planned) {
    const item = (paths[p.key] ??= {});
    const itemServers = p.servers.join(',') === 'v1' ? undefined : p.servers.map((s) => servers[s]);
    if ('servers' in item ? JSON.stringify(item.servers) !== JSON.stringify(itemServers) : Object.keys(item).length > 0 && itemServers !== undefined) {
      throw new TypeError(`openapi: the operations at ${p.key} are served under different servers`);
    }
    if (itemServers) item.servers = itemServers;
    const { op } = p;
    item[op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      tags: op.tags,
      security: op.security === 'bearer' ? [{ bearer: [] }, { dpop: [] }] : [],
      parameters: [...parameters('path', p.params), ...parameters('query', p.query)],
      ...(op.body && p.body ? { requestBody: { required: true, content: { [op.body.contentType]: { schema: schemas.resolve(p.body) } } } } : {}),
      responses: Object.fromEntries(
        p.responses.map(({ status, r, content, headers }) => [
          status,
          {
            description: r.description,
            headers: {
              [API_VERSION_HEADER]: { $ref: `#/components/headers/${API_VERSION_HEADER}` },
              ...Object.fromEntries(
                headers.map(([name, h, ref]) => [
                  name,
                  { description: h.description, ...(h.required ? { required: true } : {}), schema: schemas.resolve(ref) },
                ]),
              ),
            },
            ...(content.length > 0 ? { content: Object.fromEntries(content.map(([type, ref]) => [type, { schema: schemas.resolve(ref) }])) } : {}),
          },
        ]),
      ),
    };
  }

  const usedTags = [...new Set(operations.flatMap((op) => op.tags))];
  return {
    openapi: '3.1.0',
    info: {
      title: 'doelpoort',
      version: info.version,
      description:
        'Purpose-bound access to Werkzaak Rivierenland client records. Obtain a token at POST /oauth/token (RFC 8693 token exchange with one RFC 9396 authorization_details object of type doelbinding); every access is audited.',
      contact: info.contact,
      license: { name: 'EUPL-1.2', identifier: 'EUPL-1.2' },
    },
    servers: [servers.v1],
    tags: usedTags.map((name) => ({ name, ...(TAGS[name] ? { description: TAGS[name] } : {}) })),
    paths,
    components: {
      schemas: schemas.components(paths),
      headers: {
        [API_VERSION_HEADER]: {
          description: 'The full version of the API that answered (info.version), on every response (ADR /core/version-header)',
          required: true,
          schema: { type: 'string', const: info.version },
        },
      },
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
