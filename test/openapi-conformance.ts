import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import type { Hono } from 'hono';
import type { HonoEnv } from '../src/http/env.js';

/**
 * Checks every answer of the real app against the OpenAPI document that same app serves: the operation (by method and
 * path template), the status, the media type, the body (ajv, JSON Schema 2020-12 with formats) and the required
 * headers. An answer the document does not describe is a failure, so the HTTP tests prove the description true.
 */

type Json = Record<string, unknown>;
interface MediaType {
  schema?: Json;
}
interface ResponseObject {
  headers?: Record<string, Json>;
  content?: Record<string, MediaType>;
}
interface OperationObject {
  responses: Record<string, ResponseObject>;
}
interface Document {
  servers: Array<{ url: string }>;
  paths: Record<string, Record<string, unknown> & { servers?: Array<{ url: string }> }>;
  components: { schemas?: Record<string, Json>; headers?: Record<string, Json> };
}

/** An answer as the checker sees it. */
export interface Answer {
  method: string;
  /** The request path, without the query. */
  path: string;
  status: number;
  headers: Headers;
  /** The body as text; empty for none. */
  body: string;
}

/** The paths of the API; everything else (the web application, its assets) is not described by the document. */
export function isApiPath(path: string): boolean {
  return /^\/(v1|oauth|\.well-known)(\/|$)/.test(path) || path === '/health' || path === '/openapi.json';
}

const COMPONENTS_ID = 'https://doelpoort.invalid/openapi/components';

/** A path template of the document as a pattern over request paths. */
interface Route {
  template: string;
  pattern: RegExp;
  params: number;
  item: Record<string, unknown>;
}

/** One document's operations and compiled schemas. */
export class Conformance {
  readonly #doc: Document;
  readonly #routes: Route[];
  readonly #ajv = new Ajv2020({ strict: true, allErrors: true });
  readonly #compiled = new Map<string, ValidateFunction>();

  constructor(doc: Document) {
    this.#doc = doc;
    (formats as unknown as (ajv: Ajv2020) => void)(this.#ajv);
    this.#ajv.addSchema({ $id: COMPONENTS_ID, $defs: rebased(doc.components.schemas ?? {}) });
    this.#routes = Object.entries(doc.paths).flatMap(([key, item]) =>
      (item.servers ?? doc.servers).map((server) => {
        const template = `${new URL(server.url).pathname.replace(/\/$/, '')}${key}`;
        const source = template
          .split(/(\{[^}]+\})/)
          .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
          .join('');
        return { template, pattern: new RegExp(`^${source}$`), params: (key.match(/\{/g) ?? []).length, item };
      }),
    );
    // A literal segment wins over a template one (OpenAPI's rule for /policies/simulate against /policies/{id}).
    this.#routes.sort((a, b) => a.params - b.params);
  }

  /** The operation that answers `method path`, with its template, or undefined when the document has none. */
  operation(method: string, path: string): { template: string; op: OperationObject } | undefined {
    const m = method === 'HEAD' ? 'get' : method.toLowerCase();
    for (const r of this.#routes) {
      if (r.pattern.test(path) && r.item[m]) return { template: r.template, op: r.item[m] as OperationObject };
    }
    return undefined;
  }

  /** Everything about `answer` that the document does not say; empty when it conforms. */
  check(answer: Answer): string[] {
    const found = this.operation(answer.method, answer.path);
    if (!found) {
      // No operation: the app's not-found (or a refusal in front of it) must still be a Problem.
      if (answer.status < 400) return [`${answer.status} for an operation the document does not describe`];
      const versioned = answer.headers.has('api-version') ? [] : ['the API-Version header is missing'];
      return [
        ...versioned,
        ...this.#body(answer, `${answer.status} (no operation)`, { schema: { $ref: '#/components/schemas/Problem' } }, 'application/problem+json'),
      ];
    }
    const where = `${answer.method} ${found.template}`;
    const response = found.op.responses[String(answer.status)];
    if (!response) return [`${answer.status} is not a documented status of ${where}`];
    const problems: string[] = [];
    for (const [name, declared] of Object.entries(response.headers ?? {})) {
      const header = this.#resolve(declared) as { required?: boolean; schema?: Json };
      const value = answer.headers.get(name);
      if (value === null) {
        if (header.required) problems.push(`${where} ${answer.status}: the required header ${name} is missing`);
      } else if (header.schema && !this.#validator(`header:${where}:${answer.status}:${name}`, header.schema)(value)) {
        problems.push(`${where} ${answer.status}: header ${name} does not match its schema`);
      }
    }
    if (answer.body === '') {
      if (response.content && answer.method !== 'HEAD') problems.push(`${where} ${answer.status}: an empty body where the document describes one`);
      return problems;
    }
    if (!response.content) return [...problems, `${where} ${answer.status}: a body where the document describes none`];
    const type = mediaType(answer.headers.get('content-type'));
    const media = response.content[type];
    if (!media) return [...problems, `${where} ${answer.status}: ${type} is not a documented content type (${Object.keys(response.content).join(', ')})`];
    return [...problems, ...this.#body(answer, `${where} ${answer.status}`, media, type)];
  }

  #body(answer: Answer, where: string, media: MediaType, expectedType: string): string[] {
    const type = mediaType(answer.headers.get('content-type'));
    if (type !== expectedType) return [`${where}: ${type} instead of ${expectedType}`];
    if (!media.schema) return [];
    let value: unknown = answer.body;
    if (type === 'application/json' || type.endsWith('+json')) {
      try {
        value = JSON.parse(answer.body);
      } catch {
        return [`${where}: the body is not JSON`];
      }
    }
    const validate = this.#validator(`${where}:${type}`, media.schema);
    if (validate(value)) return [];
    return (validate.errors ?? []).map(
      (e) => `${where}: ${e.instancePath || '(body)'} ${e.message ?? 'is invalid'}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`,
    );
  }

  #validator(key: string, schema: Json): ValidateFunction {
    let validate = this.#compiled.get(key);
    if (!validate) {
      validate = this.#ajv.compile(rebased(schema));
      this.#compiled.set(key, validate);
    }
    return validate;
  }

  #resolve(value: Json): Json {
    const ref = value.$ref;
    if (typeof ref !== 'string') return value;
    const name = ref.replace('#/components/headers/', '');
    const target = this.#doc.components.headers?.[name];
    if (!target) throw new Error(`openapi conformance: ${ref} does not resolve`);
    return target;
  }
}

/** A schema whose `#/components/schemas/X` refs point into the components schema ajv holds. */
function rebased<T>(schema: T): T {
  return JSON.parse(
    JSON.stringify(schema, (key, v: unknown) =>
      key === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')
        ? `${COMPONENTS_ID}#/$defs/${v.slice('#/components/schemas/'.length)}`
        : v,
    ),
  ) as T;
}

function mediaType(contentType: string | null): string {
  return (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

/** One Conformance per distinct document text: compiling the schemas once per test file, not once per app. */
const byDocument = new Map<string, Conformance>();

/** The Conformance of `text`, the body of a served `/openapi.json`. */
export function conformanceOf(text: string): Conformance {
  let c = byDocument.get(text);
  if (!c) {
    c = new Conformance(JSON.parse(text) as Document);
    byDocument.set(text, c);
  }
  return c;
}

/** A Hono route path (`/v1/whoami`, `/x/:id`, `/x/*`) as a pattern over request paths. */
function routePattern(path: string): RegExp {
  const source = path
    .split('/')
    .map((seg) => (seg === '*' ? '.*' : seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}

/**
 * `app`, its `fetch` (and so `app.request`) checking every answer against the document the app serves: a
 * non-conforming answer rejects the request with the list of differences. Routes a test adds to the app afterwards
 * (a probe such as `/v1/whoami`) are the test's own and are not checked.
 */
export function conformant<A extends Hono<HonoEnv>>(app: A): A {
  const original = app.fetch;
  const production = new Set(app.routes.map((r) => `${r.method} ${r.path}`));
  let conformance: Promise<Conformance> | undefined;
  const load = () => (conformance ??= Promise.resolve(original(new Request('http://localhost/openapi.json'))).then(async (r) => conformanceOf(await r.text())));

  const addedByTest = (method: string, path: string) =>
    app.routes.some((r) => !production.has(`${r.method} ${r.path}`) && (r.method === method || r.method === 'ALL') && routePattern(r.path).test(path));

  const checked = async (request: Request, ...rest: unknown[]): Promise<Response> => {
    const response = await (original as (r: Request, ...x: unknown[]) => Response | Promise<Response>)(request, ...rest);
    const path = new URL(request.url).pathname;
    if (!isApiPath(path) || addedByTest(request.method === 'HEAD' ? 'GET' : request.method, path)) return response;
    const problems = (await load()).check({
      method: request.method,
      path,
      status: response.status,
      headers: response.headers,
      body: await response.clone().text(),
    });
    if (problems.length > 0) throw new Error(`The answer to ${request.method} ${path} does not conform to /openapi.json:\n  ${problems.join('\n  ')}`);
    return response;
  };
  app.fetch = checked as typeof app.fetch;
  return app;
}
