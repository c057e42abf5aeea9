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
import { requestFacts } from './context.js';
import type { AppDeps } from './deps.js';
import type { HonoEnv } from './env.js';
import type { Operation } from './openapi.js';
import { purposeSchema } from '../purposes.js';

/** The one place where a token endpoint error becomes a status (RFC 6749 §5.2, RFC 9449 §5). */
const exchangeErrorStatus: Record<ExchangeError, ContentfulStatusCode> = {
  invalid_request: 400,
  invalid_grant: 400,
  unsupported_grant_type: 400,
  invalid_dpop_proof: 400,
  access_denied: 403,
};
const statusOf = (error: ExchangeError | undefined): ContentfulStatusCode => (error === undefined ? 200 : exchangeErrorStatus[error]);

/** RFC 6749 §5.1: token responses must not be cached. */
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/** `POST /oauth/token` (RFC 8693 token exchange) and `GET /.well-known/jwks.json` (the gateway's public keys). */
export function oauthRoutes(deps: AppDeps) {
  const { tokens, records, audit, uow } = deps;
  const exchangeDeps = { tokens, records, uow, pseudonym: (bsn: string) => audit.pseudonym(bsn), statusOf };
  return new Hono<HonoEnv>()
    .post('/oauth/token', async (c) => {
      // At most 64 KiB: limitBodies (body-limit.ts) refused anything larger with 413 before this reads it.
      const input = { contentType: c.req.header('content-type'), body: await c.req.text(), dpopProof: c.req.header('dpop') };
      let outcome: ExchangeOutcome;
      try {
        outcome = await exchangeToken(input, requestFacts(c), exchangeDeps);
      } catch {
        // No log, no token.
        return c.json({ error: 'temporarily_unavailable', error_description: 'the audit line could not be written' }, 503, NO_STORE);
      }
      if (outcome.ok) return c.json(exchangeResponse(outcome.value), 200, NO_STORE);
      const challenge: Record<string, string> = outcome.error === 'invalid_dpop_proof' ? { 'www-authenticate': 'DPoP error="invalid_dpop_proof"' } : {};
      return c.json({ error: outcome.error, error_description: EXCHANGE_ERROR_DESCRIPTIONS[outcome.error] }, statusOf(outcome.error), {
        ...NO_STORE,
        ...challenge,
      });
    })
    .get('/.well-known/jwks.json', (c) => c.json({ keys: tokens.keys.published() }, 200, { 'cache-control': 'public, max-age=300' }));
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

/** The published description of the token endpoint and the key set. */
export const oauthOperations: Operation[] = [
  {
    method: 'post',
    path: '/oauth/token',
    operationId: 'exchangeToken',
    summary: 'RFC 8693 token exchange: a login of a trusted IdP plus one doelbinding (RFC 9396) becomes a purpose-bound access token',
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
              }),
            )
            .length(1),
        }),
      },
      400: { description: 'Malformed request or bad subject token (RFC 6749 §5.2)', schema: oauthError },
      403: { description: 'access_denied: the purpose does not hold for this requester and client', schema: oauthError },
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
];
