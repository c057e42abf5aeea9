import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import {
  EXCHANGE_ERROR_DESCRIPTIONS,
  exchangeResponse,
  exchangeToken,
  tokenRequestSchema,
  type ExchangeError,
  type ExchangeOutcome,
} from '../tokens/exchange.js';
import { authorizationServerMetadata, protectedResourceMetadata } from '../tokens/metadata.js';
import { requestText } from './body-limit.js';
import { requestFacts } from './context.js';
import type { AppDeps } from './deps.js';
import type { HonoEnv } from './env.js';
import type { Operation } from './openapi.js';
import { purposeSchema } from '../purposes.js';

/** The one place where a token endpoint error becomes a status (RFC 6749 §5.2, RFC 9449 §5). */
const exchangeErrorStatus: Record<ExchangeError, ContentfulStatusCode> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unsupported_grant_type: 400,
  invalid_dpop_proof: 400,
  access_denied: 403,
};
const statusOf = (error: ExchangeError | undefined): ContentfulStatusCode => (error === undefined ? 200 : exchangeErrorStatus[error]);

/** RFC 6749 §5.1: token responses must not be cached. */
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };
/** Public documents that change only with the configuration or a key rotation. */
const PUBLIC_CACHE = { 'cache-control': 'public, max-age=300' };

/** An RFC 9110 auth-scheme token, as a client may have sent it. */
const AUTH_SCHEME = /^([A-Za-z0-9!#$%&'*+.^_`|~-]{1,32})(?:\s|$)/;

/**
 * RFC 6749 §5.2: an `invalid_client` answer to a client that tried HTTP authentication must challenge with the scheme
 * it used; to any other no challenge is sent (nor for `invalid_dpop_proof`, RFC 9449 §5: that challenge is the
 * resource server's).
 */
function clientChallenge(error: ExchangeError, authorization: string | undefined): Record<string, string> {
  if (error !== 'invalid_client' || authorization === undefined) return {};
  const scheme = AUTH_SCHEME.exec(authorization.trim())?.[1] ?? 'Basic';
  return { 'www-authenticate': `${scheme} realm="doelpoort"` };
}

/**
 * `POST /oauth/token` (RFC 8693 token exchange), `GET /.well-known/jwks.json` (the gateway's public keys), and the
 * metadata documents of RFC 8414 (the authorization server) and RFC 9728 (the `/v1` API as a protected resource).
 */
export function oauthRoutes(deps: AppDeps) {
  const { tokens, records, audit, uow } = deps;
  const exchangeDeps = {
    tokens,
    records,
    uow,
    pseudonym: (bsn: string) => audit.pseudonym(bsn),
    statusOf,
    noodtoegang: { policies: deps.policies, perWeek: deps.config.noodtoegangPerWeek },
  };
  // Built once: they change only with the configuration, and the key set's URL is in them, not the keys.
  const serverMetadata = authorizationServerMetadata(tokens);
  const resourceMetadata = protectedResourceMetadata(tokens);
  return new Hono<HonoEnv>()
    .post('/oauth/token', async (c) => {
      const authorization = c.req.header('authorization');
      // At most 64 KiB: limitBodies (body-limit.ts) refused anything larger with 413 before this reads it.
      const input = {
        contentType: c.req.header('content-type'),
        body: await requestText(c),
        dpopProof: c.req.header('dpop'),
        httpAuthentication: authorization !== undefined,
      };
      let outcome: ExchangeOutcome;
      try {
        outcome = await exchangeToken(input, requestFacts(c), exchangeDeps);
      } catch {
        // No log, no token.
        return c.json({ error: 'temporarily_unavailable', error_description: 'the audit line could not be written' }, 503, NO_STORE);
      }
      if (outcome.ok) return c.json(exchangeResponse(outcome.value), 200, NO_STORE);
      return c.json({ error: outcome.error, error_description: EXCHANGE_ERROR_DESCRIPTIONS[outcome.error] }, statusOf(outcome.error), {
        ...NO_STORE,
        ...clientChallenge(outcome.error, authorization),
      });
    })
    .get('/.well-known/jwks.json', (c) => c.json({ keys: tokens.keys.published() }, 200, PUBLIC_CACHE))
    .get('/.well-known/oauth-authorization-server', (c) => c.json(serverMetadata, 200, PUBLIC_CACHE))
    .get('/.well-known/oauth-protected-resource', (c) => c.json(resourceMetadata, 200, PUBLIC_CACHE));
}

/** A public JWK: the members of a public EC, OKP or RSA key and no others, so a private member can never be published. */
const publicJwkSchema = z.object({
  kty: z.enum(['EC', 'OKP', 'RSA']),
  kid: z.string().meta({ description: 'The RFC 7638 thumbprint of the key' }),
  alg: z.string(),
  use: z.literal('sig'),
  crv: z.string().optional(),
  x: z.string().optional(),
  y: z.string().optional(),
  n: z.string().optional(),
  e: z.string().optional(),
});

const oauthError = z.object({ error: z.string(), error_description: z.string().optional() }).meta({ id: 'OAuthError' });

const algorithms = z.array(z.string()).min(1);

/** RFC 8414 §2, as doelpoort fills it in. */
const authorizationServerMetadataSchema = z
  .object({
    issuer: z.url(),
    token_endpoint: z.url(),
    jwks_uri: z.url(),
    grant_types_supported: z.array(z.string()).min(1),
    token_endpoint_auth_methods_supported: z.array(z.enum(['private_key_jwt', 'none'])).min(1),
    token_endpoint_auth_signing_alg_values_supported: algorithms,
    dpop_signing_alg_values_supported: algorithms,
    authorization_details_types_supported: z.array(z.string()).min(1),
    protected_resources: z.array(z.url()).min(1),
  })
  .meta({ id: 'AuthorizationServerMetadata' });

/** RFC 9728 §2, as doelpoort fills it in. */
const protectedResourceMetadataSchema = z
  .object({
    resource: z.url(),
    authorization_servers: z.array(z.url()).min(1),
    bearer_methods_supported: z.array(z.enum(['header', 'body', 'query'])),
    dpop_signing_alg_values_supported: algorithms,
    dpop_bound_access_tokens_required: z.boolean(),
    authorization_details_types_supported: z.array(z.string()).min(1),
    resource_name: z.string(),
    resource_documentation: z.url(),
  })
  .meta({ id: 'ProtectedResourceMetadata' });

/** The published description of the token endpoint and the key set. */
export const oauthOperations: Operation[] = [
  {
    method: 'post',
    path: '/oauth/token',
    operationId: 'exchangeToken',
    summary:
      'RFC 8693 token exchange: a registered client (RFC 7523 private_key_jwt) brings a login of a trusted IdP plus one doelbinding (RFC 9396) and gets a purpose-bound access token',
    tags: ['tokens'],
    security: 'none',
    body: { contentType: 'application/x-www-form-urlencoded', schema: tokenRequestSchema },
    responses: {
      200: {
        description: 'The access token (at+jwt), bound to one purpose and, usually, one client',
        schema: z.object({
          access_token: z.string(),
          issued_token_type: z.string(),
          token_type: z.enum(['Bearer', 'DPoP']),
          expires_in: z.number().int(),
          authorization_details: z
            .array(
              z.object({
                type: z.literal('doelbinding'),
                purpose: purposeSchema,
                processingActivityId: z.string(),
                client: z.string().optional().meta({ description: 'The clientRef the token is bound to; never a BSN' }),
                noodtoegang: z
                  .literal(true)
                  .optional()
                  .meta({ description: 'An emergency access (break-glass): at most 15 minutes, decided by the emergency rules, reviewed afterwards' }),
              }),
            )
            .length(1),
        }),
      },
      400: { description: 'Malformed request, bad subject token or bad DPoP proof (RFC 6749 §5.2, RFC 9449 §5)', schema: oauthError },
      401: {
        description:
          'invalid_client: no registered client_id, or no valid private_key_jwt client assertion (RFC 7523); WWW-Authenticate only when HTTP authentication was tried',
        schema: oauthError,
      },
      403: {
        description:
          'access_denied: the client does not act for the login’s organisation, or the purpose does not hold for this requester and client; for an emergency access, the policy allows none for this role and purpose, or the person’s weekly limit is reached',
        schema: oauthError,
      },
      413: { description: 'invalid_request: a body over 64 KiB, refused before it was read', schema: oauthError },
      429: {
        description: 'temporarily_unavailable: too many failed requests from this address this minute',
        schema: oauthError,
        headers: { 'Retry-After': { description: 'Seconds until this address may try again', required: true } },
      },
      503: { description: 'The audit line could not be written; no token was issued', schema: oauthError },
    },
  },
  {
    method: 'get',
    path: '/.well-known/jwks.json',
    operationId: 'jwks',
    summary: 'The public keys that verify the access tokens doelpoort issues',
    tags: ['tokens'],
    security: 'none',
    responses: { 200: { description: 'JWK Set (RFC 7517)', schema: z.object({ keys: z.array(publicJwkSchema) }) } },
  },
  {
    method: 'get',
    path: '/.well-known/oauth-authorization-server',
    operationId: 'authorizationServerMetadata',
    summary: 'RFC 8414 authorization server metadata: the token endpoint, the keys, client authentication and DPoP algorithms',
    tags: ['tokens'],
    security: 'none',
    responses: { 200: { description: 'Authorization server metadata', schema: authorizationServerMetadataSchema } },
  },
  {
    method: 'get',
    path: '/.well-known/oauth-protected-resource',
    operationId: 'protectedResourceMetadata',
    summary: 'RFC 9728 protected resource metadata of the /v1 API: its authorization server and how tokens are presented',
    tags: ['tokens'],
    security: 'none',
    responses: { 200: { description: 'Protected resource metadata', schema: protectedResourceMetadataSchema } },
  },
];
