import fs from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, customFetch, type FetchImplementation, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import type { Config } from '../config.js';
import { DoelpoortError } from '../errors.js';
import { organisationSchema } from '../purposes.js';
import { DEMO_IDP_ORGANISATIONS } from './demo-idp.js';
import { REMOTE_JWKS_OPTIONS } from './idps.js';

/** The public client demo mode registers: it may call `/oauth/token` without an assertion, and only in demo mode. */
export const DEMO_CLIENT_ID = 'doelpoort-demo';
/** The built-in web application. It never calls `/oauth/token`; the id is reserved so that no file can register it. */
export const WEB_CLIENT_ID = 'doelpoort-web';
const RESERVED_CLIENT_IDS: ReadonlySet<string> = new Set([DEMO_CLIENT_ID, WEB_CLIENT_ID]);

/** A client id as registered: a safe subset of what an audit line's `clientId` accepts (src/audit/entry.ts). */
const CLIENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** A client id, as registered and as an access token's `client_id` carries it. */
export const clientIdSchema = z.string().regex(CLIENT_ID_PATTERN, 'must be 1 to 128 letters, digits, dots, colons, dashes or underscores');

/** Members of a JWK that only a private (or symmetric) key has: a client's private key never belongs in our files. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** A public asymmetric key (RFC 7517): EC, RSA or OKP, without private members. */
const publicJwkSchema = z
  .looseObject({ kty: z.enum(['EC', 'RSA', 'OKP'], 'must be an asymmetric key (EC, RSA or OKP)') })
  .refine((jwk) => PRIVATE_MEMBERS.every((m) => !(m in jwk)), 'must be a public key: no private or symmetric key material');

/** One registered client as the clients file lists it: its keys inline (`jwks`) or at an `https:` URL (`jwksUri`). */
const clientSchema = z
  .strictObject({
    clientId: clientIdSchema.refine((id) => !RESERVED_CLIENT_IDS.has(id), 'is reserved for a built-in client'),
    /** The organisations this client acts for; a login of any other organisation is refused at the exchange. */
    organisations: z.array(organisationSchema, 'must list the organisations this client acts for').min(1, 'must list at least one organisation'),
    jwks: z.strictObject({ keys: z.array(publicJwkSchema).min(1) }).optional(),
    jwksUri: z.url({ protocol: /^https$/, error: 'must be an https: URL' }).optional(),
  })
  .refine((c) => (c.jwks === undefined) !== (c.jwksUri === undefined), { message: 'needs exactly one of jwks and jwksUri', path: ['jwks'] });
export type ClientConfig = z.infer<typeof clientSchema>;

/** The `DOELPOORT_CLIENTS_FILE` document. */
const clientsFileSchema = z
  .strictObject({ clients: z.array(clientSchema).min(1) })
  .refine((f) => new Set(f.clients.map((c) => c.clientId)).size === f.clients.length, { message: 'client ids must be unique', path: ['clients'] });

/** How a client authenticates at the token endpoint. */
export type ClientAuthentication =
  /** RFC 7523 `private_key_jwt` with the client's own keys (NL GOV OAuth profile, confidential clients). */
  | { method: 'private_key_jwt'; keys: JWTVerifyGetKey }
  /** None: the public demo client, registered in demo mode only. */
  | { method: 'none' };

/** A client that may call `/oauth/token`. */
export interface RegisteredClient {
  clientId: string;
  /** The organisations whose logins it may exchange. */
  organisations: ReadonlySet<string>;
  authentication: ClientAuthentication;
}

/**
 * Turns a validated client entry into a registered client; a remote key set is fetched lazily and cached by jose,
 * as the IdPs' are. `fetch` replaces the network for a remote key set (tests only).
 */
export function registeredClient(client: ClientConfig, options: { fetch?: FetchImplementation } = {}): RegisteredClient {
  const keys = client.jwks
    ? createLocalJWKSet(client.jwks as JSONWebKeySet)
    : createRemoteJWKSet(new URL(client.jwksUri!), { ...REMOTE_JWKS_OPTIONS, ...(options.fetch ? { [customFetch]: options.fetch } : {}) });
  return { clientId: client.clientId, organisations: new Set(client.organisations), authentication: { method: 'private_key_jwt', keys } };
}

/** Parses a clients document; problems name paths, never values. `file` names the document in the message. */
export function parseClients(document: unknown, file = 'DOELPOORT_CLIENTS_FILE'): ClientConfig[] {
  const parsed = clientsFileSchema.safeParse(document);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
    throw new DoelpoortError('CONFIG_INVALID', `${file}: invalid at ${problems[0]!.path}: ${problems[0]!.message}`, problems);
  }
  return parsed.data.clients;
}

/** The clients that may call `/oauth/token`, by client id. */
export class ClientRegistry {
  readonly #byId = new Map<string, RegisteredClient>();

  constructor(clients: readonly RegisteredClient[]) {
    for (const client of clients) this.#byId.set(client.clientId, client);
  }

  /** The registered client with this id, if any. */
  find(clientId: string): RegisteredClient | undefined {
    return this.#byId.get(clientId);
  }

  /** The authentication methods the registered clients use, for the server metadata (RFC 8414). */
  authenticationMethods(): Array<ClientAuthentication['method']> {
    const methods = new Set<ClientAuthentication['method']>(['private_key_jwt']);
    for (const client of this.#byId.values()) methods.add(client.authentication.method);
    return [...methods];
  }
}

/** The public demo client: no authentication, acting for every organisation the demo IdP vouches for. */
const demoClient: RegisteredClient = { clientId: DEMO_CLIENT_ID, organisations: new Set(DEMO_IDP_ORGANISATIONS), authentication: { method: 'none' } };

/**
 * The registry the configuration asks for: the clients file when set, plus (in demo mode only) the public demo client.
 * Without either nobody may call `/oauth/token`; `serve` refuses to start that way. Reads the file synchronously so a
 * bad file stops the process at start.
 */
export function loadClientRegistry(config: Pick<Config, 'clientsFile' | 'demo'>): ClientRegistry {
  const clients: RegisteredClient[] = config.demo ? [demoClient] : [];
  if (config.clientsFile) {
    let document: unknown;
    try {
      document = JSON.parse(fs.readFileSync(config.clientsFile, 'utf8'));
    } catch {
      throw new DoelpoortError('CONFIG_INVALID', `DOELPOORT_CLIENTS_FILE ${config.clientsFile}: cannot be read as JSON`);
    }
    for (const client of parseClients(document, `DOELPOORT_CLIENTS_FILE ${config.clientsFile}`)) clients.push(registeredClient(client));
  }
  return new ClientRegistry(clients);
}
