import { SignJWT } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { issueAccessToken, type Grant } from '../src/tokens/access-token.js';
import type { Awaitable } from '../src/unit-of-work.js';
import { pgUrl } from './pg-support.js';
import { IDP_ISSUER, setupPgTokens, setupTokens, TEST_CLIENT_ID } from './token-support.js';

export type TokenCtx = Awaited<ReturnType<typeof setupTokens>>;

/** What the matrix uses of an app, on either database: the PostgreSQL one reads its audit entries asynchronously. */
export type MatrixCtx = Pick<TokenCtx, 'app' | 'clock' | 'tokens' | 'nowSeconds'> & { auditEntries(): Awaitable<Array<Record<string, unknown>>> };

/** How a matrix's app is made: `make` builds the plain app (on SQLite or on PostgreSQL), the setup adds to it. */
export type MatrixSetup = (make: () => Promise<MatrixCtx>) => Promise<MatrixCtx>;

/** A grant as a test writes it: the login's issuer defaults to the trusted test IdP's, the client to the test client. */
export type TestGrant = Omit<Grant, 'user' | 'clientId'> & { user: Omit<Grant['user'], 'issuer'> & { issuer?: string }; clientId?: string };

/** Mints one of our access tokens for a grant with the app's real gateway key, as the exchange would. */
export async function accessToken(ctx: Pick<MatrixCtx, 'tokens' | 'clock'>, grant: TestGrant, ttlSeconds = 300): Promise<string> {
  const user = { issuer: IDP_ISSUER, ...grant.user };
  const full = { clientId: TEST_CLIENT_ID, ...grant, user };
  return (await issueAccessToken(full, ctx.tokens.keys, { issuer: ctx.tokens.issuer, ttlSeconds, clock: ctx.clock })).token;
}

/** A request to a protected route. */
export interface RouteRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
}

export function send(ctx: Pick<MatrixCtx, 'app'>, req: RouteRequest, token?: string, headers: Record<string, string> = {}) {
  return ctx.app.request(req.path, {
    method: req.method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(req.body ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(req.body ? { body: JSON.stringify(req.body) } : {}),
  });
}

/**
 * The shared security matrix every protected route runs (style.md): no token, expired, wrong audience, wrong purpose,
 * another client, another organisation → the right status and `code` on every row, and an audit line for each refusal.
 */
export function protectedRouteMatrix(
  req: RouteRequest,
  grants: { valid: TestGrant; wrongPurpose: TestGrant; otherClient?: TestGrant; otherOrganisation?: TestGrant },
  setup: MatrixSetup = (make) => make(),
) {
  matrixOn(req, grants, () => setup(setupTokens));
  if (pgUrl) {
    // The same rows on PostgreSQL, on one database per matrix (each row counts only the lines it adds).
    let pg: Awaited<ReturnType<typeof setupPgTokens>> | undefined;
    let ctx: Promise<MatrixCtx> | undefined;
    afterAll(async () => {
      await pg?.close();
    });
    describe('on PostgreSQL', () => {
      matrixOn(req, grants, () => {
        ctx ??= setup(async () => {
          pg = await setupPgTokens();
          return pg;
        });
        return ctx;
      });
    });
  }
}

function matrixOn(
  req: RouteRequest,
  grants: { valid: TestGrant; wrongPurpose: TestGrant; otherClient?: TestGrant | undefined; otherOrganisation?: TestGrant | undefined },
  setup: () => Promise<MatrixCtx>,
) {
  async function refused(ctx: MatrixCtx, token: string | undefined, status: number, code: string) {
    const before = (await ctx.auditEntries()).length;
    const res = await send(ctx, req, token);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const body = (await res.json()) as { code: string };
    expect(body.code).toBe(code);
    const lines = (await ctx.auditEntries()).slice(before);
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.every((l) => l.outcome === 'deny' && l.httpStatus === status)).toBe(true);
    if (token) expect(JSON.stringify(lines)).not.toContain(token);
    return res;
  }

  it('answers a valid token', async () => {
    const ctx = await setup();
    const res = await send(ctx, req, await accessToken(ctx, grants.valid));
    expect(res.status).toBeLessThan(300);
  });

  it('refuses a request without a token (401, audited)', async () => {
    const ctx = await setup();
    const res = await refused(ctx, undefined, 401, 'TOKEN_MISSING');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('refuses an expired token (401, audited)', async () => {
    const ctx = await setup();
    const token = await accessToken(ctx, grants.valid, 60);
    ctx.clock.advance(61_000 + 60_000);
    await refused(ctx, token, 401, 'TOKEN_EXPIRED');
  });

  it('refuses a token for another audience (401, audited)', async () => {
    const ctx = await setup();
    const { key, kid, alg } = ctx.tokens.keys.signing;
    const iat = ctx.nowSeconds();
    const token = await new SignJWT({
      idp: IDP_ISSUER,
      role: grants.valid.user.role,
      org: grants.valid.user.org,
      purpose: grants.valid.purpose,
      ...(grants.valid.client ? { client: grants.valid.client } : {}),
      client_id: TEST_CLIENT_ID,
    })
      .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
      .setIssuer(ctx.tokens.issuer)
      .setAudience('https://another-gateway.example')
      .setSubject(grants.valid.user.sub)
      .setJti('wrong-aud')
      .setIssuedAt(iat)
      .setExpirationTime(iat + 300)
      .sign(key);
    await refused(ctx, token, 401, 'TOKEN_INVALID');
  });

  it('refuses a token for another purpose (403, audited)', async () => {
    const ctx = await setup();
    await refused(ctx, await accessToken(ctx, grants.wrongPurpose), 403, 'PURPOSE_NOT_ALLOWED');
  });

  if (grants.otherClient) {
    const other = grants.otherClient;
    it('refuses a token for another client (403, audited)', async () => {
      const ctx = await setup();
      await refused(ctx, await accessToken(ctx, other), 403, 'CLIENT_NOT_ALLOWED');
    });
  }

  if (grants.otherOrganisation) {
    const other = grants.otherOrganisation;
    it('refuses a token of another organisation (403, audited)', async () => {
      const ctx = await setup();
      await refused(ctx, await accessToken(ctx, other), 403, 'RELATIONSHIP_MISSING');
    });
  }
}
