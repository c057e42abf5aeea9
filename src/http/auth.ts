import type { Context, MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import { auditFacts } from '../audit/facts.js';
import { DoelpoortError, isDoelpoortError, type ErrorCode } from '../errors.js';
import { verifyAccessToken, type AccessToken } from '../tokens/access-token.js';
import { ASYMMETRIC_ALGORITHMS } from '../tokens/algorithms.js';
import { verifyDpopProof } from '../tokens/dpop.js';
import { refuse as refuseLogged, type DenyLine } from '../unit-of-work.js';
import type { AppDeps } from './deps.js';
import { requestFacts } from './context.js';
import type { HonoEnv } from './env.js';
import { problemResponse } from './problem.js';

/** Our access tokens are compact JWS: three base64url segments, never padded (one token, one spelling). */
const AUTHORIZATION = /^(Bearer|DPoP) +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;
const DPOP_ALGS = `algs="${ASYMMETRIC_ALGORITHMS.join(' ')}"`;

/** Value-free details per refusal code. */
const details: Partial<Record<ErrorCode, string>> = {
  TOKEN_MISSING: 'an access token from POST /oauth/token is required',
  TOKEN_INVALID: 'the access token is not valid here',
  TOKEN_EXPIRED: 'the access token has expired',
  DPOP_INVALID: 'the DPoP proof is missing or invalid for this token and request',
};

type Refusal = { code: 'TOKEN_MISSING' | 'TOKEN_INVALID' | 'TOKEN_EXPIRED' | 'DPOP_INVALID'; reason: string; token?: AccessToken };

/**
 * Requires one of our access tokens (RFC 9068) on every request it guards, and a DPoP proof (RFC 9449) for a
 * DPoP-bound token or when DOELPOORT_REQUIRE_DPOP=1. Sets `c.get('requester')`. Each refusal is a 401 Problem
 * Details with a `WWW-Authenticate` challenge and an audit line (`token.refused`); no log, no answer (503).
 */
export function requireAccessToken(deps: Pick<AppDeps, 'tokens' | 'uow'>): MiddlewareHandler<HonoEnv> {
  const { tokens, uow } = deps;
  return createMiddleware<HonoEnv>(async (c, next) => {
    const outcome = await authenticate(c, deps);
    if ('code' in outcome) return await refuse(c, outcome);
    c.set('requester', outcome.requester);
    await next();
    return undefined;
  });

  async function authenticate(c: Context<HonoEnv>, { tokens }: Pick<AppDeps, 'tokens'>): Promise<AccessToken | Refusal> {
    const header = c.req.header('authorization');
    if (!header) return { code: 'TOKEN_MISSING', reason: 'TOKEN_MISSING' };
    const m = AUTHORIZATION.exec(header.trim());
    if (!m) return { code: 'TOKEN_INVALID', reason: 'AUTHORIZATION_MALFORMED' };
    const scheme = m[1]!.toLowerCase();
    const token = m[2]!;

    let verified = tokens.verified.get(token);
    if (!verified) {
      const result = await verifyAccessToken(token, tokens.keys, { issuer: tokens.issuer, clock: tokens.clock });
      if (!result.ok) return { code: result.reason, reason: result.reason };
      verified = result.value;
      tokens.verified.set(token, verified);
    }

    if (verified.jkt === undefined) {
      if (tokens.requireDpop) return { code: 'DPOP_INVALID', reason: 'DPOP_REQUIRED', token: verified };
      // RFC 9449 §7.2: the DPoP scheme is only for DPoP-bound tokens.
      if (scheme !== 'bearer') return { code: 'TOKEN_INVALID', reason: 'TOKEN_NOT_DPOP_BOUND', token: verified };
      return verified;
    }
    // RFC 9449 §7.1: a bound token presented as a bearer token is refused.
    if (scheme !== 'dpop') return { code: 'DPOP_INVALID', reason: 'DPOP_SCHEME_REQUIRED', token: verified };
    const proof = c.req.header('dpop');
    if (!proof) return { code: 'DPOP_INVALID', reason: 'DPOP_PROOF_MISSING', token: verified };
    const url = `${tokens.issuer}${new URL(c.req.url).pathname}`;
    const checked = await verifyDpopProof(proof, { method: c.req.method, url, accessToken: token }, { clock: tokens.clock, replay: tokens.replay });
    if (!checked.ok) return { code: 'DPOP_INVALID', reason: checked.reason, token: verified };
    if (checked.value.jkt !== verified.jkt) return { code: 'DPOP_INVALID', reason: 'DPOP_KEY_MISMATCH', token: verified };
    return verified;
  }

  /** Group commit: a flood of refusals shares one commit per event-loop turn instead of one fsync each. */
  async function refuse(c: Context<HonoEnv>, refusal: Refusal): Promise<Response> {
    const known = refusal.token?.requester;
    const request = known?.clientId ? { ...requestFacts(c), clientId: known.clientId } : requestFacts(c);
    const deny: DenyLine = { action: 'token.refused', ...auditFacts(request, known), ...(known?.client ? { clientRef: known.client } : {}) };
    const error = new DoelpoortError(refusal.code, details[refusal.code], [], { reason: refusal.reason });
    try {
      await refuseLogged(uow, error, deny);
    } catch (failed) {
      if (failed !== error) return problemResponse(c, isDoelpoortError(failed) ? failed : new DoelpoortError('AUDIT_WRITE_FAILED'));
    }
    return problemResponse(c, error, { 'www-authenticate': challenge(refusal, tokens.requireDpop, `${tokens.issuer}/.well-known/oauth-protected-resource`) });
  }
}

/** The RFC 6750 §3 / RFC 9449 §7.1 challenge for a refusal, naming the RFC 9728 metadata (§5.1) on each scheme. */
function challenge(refusal: Refusal, requireDpop: boolean, metadataUrl: string): string {
  const metadata = `resource_metadata="${metadataUrl}"`;
  const dpop = refusal.token?.jkt !== undefined || requireDpop || refusal.code === 'DPOP_INVALID';
  if (refusal.code === 'TOKEN_MISSING')
    return requireDpop ? `DPoP ${DPOP_ALGS}, ${metadata}` : `Bearer realm="doelpoort", ${metadata}, DPoP ${DPOP_ALGS}, ${metadata}`;
  if (refusal.code === 'DPOP_INVALID') return `DPoP error="invalid_dpop_proof", ${DPOP_ALGS}, ${metadata}`;
  return dpop ? `DPoP error="invalid_token", ${DPOP_ALGS}, ${metadata}` : `Bearer error="invalid_token", ${metadata}`;
}
