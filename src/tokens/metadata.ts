import { ASYMMETRIC_ALGORITHMS } from './algorithms.js';
import { TOKEN_EXCHANGE_GRANT } from './exchange.js';
import type { TokenService } from './service.js';

/** The one RFC 9396 authorization details type doelpoort knows. */
const AUTHORIZATION_DETAILS_TYPES = ['doelbinding'];

/**
 * RFC 8414 authorization server metadata: what a client needs to find the token endpoint, the keys and what the
 * endpoint accepts. There is no authorization endpoint (a login comes from the user's own identity provider), so no
 * response type: RFC 8414 §2 calls `response_types_supported` required, §3.2 says a claim with zero elements must be
 * left out; it is left out.
 */
export function authorizationServerMetadata(tokens: TokenService) {
  return {
    issuer: tokens.issuer,
    token_endpoint: tokens.tokenEndpoint,
    jwks_uri: `${tokens.issuer}/.well-known/jwks.json`,
    grant_types_supported: [TOKEN_EXCHANGE_GRANT],
    token_endpoint_auth_methods_supported: tokens.clients.authenticationMethods(),
    token_endpoint_auth_signing_alg_values_supported: [...ASYMMETRIC_ALGORITHMS],
    dpop_signing_alg_values_supported: [...ASYMMETRIC_ALGORITHMS],
    authorization_details_types_supported: AUTHORIZATION_DETAILS_TYPES,
    /** RFC 9728 §4: the resources this server issues tokens for, the gateway's own API. */
    protected_resources: [tokens.issuer],
  };
}

/**
 * RFC 9728 protected resource metadata of the `/v1` API. Its identifier is the gateway's URL, the audience of every
 * access token. No `jwks_uri`: the resource signs no responses, and the token keys are the authorization server's.
 */
export function protectedResourceMetadata(tokens: TokenService) {
  return {
    resource: tokens.issuer,
    authorization_servers: [tokens.issuer],
    bearer_methods_supported: ['header'],
    dpop_signing_alg_values_supported: [...ASYMMETRIC_ALGORITHMS],
    dpop_bound_access_tokens_required: tokens.requireDpop,
    authorization_details_types_supported: AUTHORIZATION_DETAILS_TYPES,
    resource_name: 'doelpoort',
    resource_documentation: `${tokens.issuer}/openapi.json`,
  };
}
