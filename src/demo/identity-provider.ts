import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JWK } from 'jose';
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import { publicJwk, readDemoIdpJwk } from '../tokens/demo-idp.js';
import { isSameOriginRequest } from '../web/same-origin.js';
import { CALLBACK_PATH, DEMO_IDP_PATH, demoIssuer, LOGGED_OUT_PATH, readWebClientJwk } from '../web/oidc.js';
import { WEB_CLIENT_ID } from '../tokens/clients.js';
import { DEMO_ACCOUNTS, type DemoAccount } from './accounts.js';
import { accountsPage, errorPage, loggedOutPage, logoutPage } from './identity-provider-pages.js';

/**
 * The demo identity provider: a real OpenID provider (panva's oidc-provider) that demo mode mounts on the gateway's
 * own server under /demo-idp, so that the web login runs the production code path (discovery over HTTP, code flow
 * with PKCE, `private_key_jwt`, RP-initiated logout) without any outside service. It runs only in demo mode, which
 * never opens a data dir with imported records (src/composition.ts); its accounts log in without a password.
 *
 * One client is registered: `doelpoort-web`, authenticating with the public key of the gateway's web client key
 * pair (data dir, web-client.key.jwk). ID tokens are signed with the demo IdP's key (data dir, demo-idp.key.jwk)
 * and carry `role`, `org` and `name`. Its state (interactions, sessions, codes) lives in memory.
 */

/** The demo provider as the gateway's server hands it requests. */
export interface DemoIdentityProvider {
  readonly issuer: string;
  /** Handles one request whose path starts with /demo-idp; resolves once it has answered. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Resolves once the provider is built (oidc-provider loads lazily); rejects when it cannot be. */
  ready(): Promise<void>;
}

/** What the provider needs: where the gateway is, its data dir (keys), and, for tests, other accounts. */
export interface DemoIdentityProviderOptions {
  publicUrl: string;
  dataDir: string;
  accounts?: readonly DemoAccount[];
  /** One JSON line per event the operator should see; codes only. */
  log?: (msg: string, fields: Record<string, unknown>) => void;
}

/** How long the provider's artefacts live, in seconds: short, except its own session (a working day). */
const TTL = { AccessToken: 60, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 8 * 3600, Grant: 8 * 3600 };
/** The largest form the interaction pages read. */
const MAX_FORM_BYTES = 4096;

const defaultLog = (msg: string, fields: Record<string, unknown>) =>
  console.log(JSON.stringify({ level: 'warn', time: new Date().toISOString(), msg, ...fields }));

/**
 * Builds the demo provider in the background (the module is imported only in demo mode, so that nothing else pays
 * for it); requests wait for it.
 */
export function demoIdentityProvider(options: DemoIdentityProviderOptions): DemoIdentityProvider {
  const issuer = demoIssuer(options.publicUrl);
  const built = build(issuer, options);
  built.catch(() => {}); // surfaces through ready() and handle()
  return {
    issuer,
    ready: () => built.then(() => undefined),
    async handle(req, res) {
      const callback = await built;
      // Mounted under /demo-idp: oidc-provider reads its mount path from originalUrl, as behind express.
      const url = req.url ?? '/';
      Object.assign(req, { originalUrl: url });
      req.url = url.slice(DEMO_IDP_PATH.length) || '/';
      await callback(req, res);
    },
  };
}

async function build(issuer: string, options: DemoIdentityProviderOptions) {
  const log = options.log ?? defaultLog;
  const { Provider } = await importQuietly(log);
  const { createMemoryAdapter } = await import('oidc-provider/lib/adapters/memory_adapter.js');
  const accounts = new Map((options.accounts ?? DEMO_ACCOUNTS).map((a) => [a.sub, a]));
  const gateway = options.publicUrl;
  const origin = new URL(issuer).origin;
  const nonceOf = (ctx: KoaContextWithOIDC) => String(ctx.state.nonce);

  const provider = new Provider(issuer, {
    // oidc-provider's own in-memory store, one per provider (its default warns that it is not for production: this is
    // the demo, whose provider state may be lost on every restart).
    adapter: createMemoryAdapter(),
    clients: [
      {
        client_id: WEB_CLIENT_ID,
        client_name: 'doelpoort',
        application_type: 'web',
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [publicJwk(readWebClientJwk(options.dataDir))] },
        redirect_uris: [`${gateway}${CALLBACK_PATH}`],
        post_logout_redirect_uris: [`${gateway}${LOGGED_OUT_PATH}`],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        id_token_signed_response_alg: 'ES256',
      },
    ],
    clientAuthMethods: ['private_key_jwt'],
    jwks: { keys: [readDemoIdpJwk(options.dataDir) as JWK & { kty: string }] },
    async findAccount(_ctx: unknown, sub: string) {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: () => ({ sub, role: account.role, org: account.org, name: account.name }) };
    },
    claims: { openid: ['sub', 'role', 'org', 'name'] },
    scopes: ['openid'],
    // The claims belong in the ID token: the web login reads no userinfo (and the endpoint is off).
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    pkce: { required: () => true },
    issueRefreshToken: async () => false,
    clientBasedCORS: () => false,
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx: KoaContextWithOIDC, form: string) => {
          ctx.type = 'html';
          ctx.body = await logoutPage({ nonce: nonceOf(ctx), form });
        },
        postLogoutSuccessSource: async (ctx: KoaContextWithOIDC) => {
          ctx.type = 'html';
          ctx.body = await loggedOutPage({ nonce: nonceOf(ctx) });
        },
      },
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `${DEMO_IDP_PATH}/interaction/${interaction.uid}` },
    // The web application is first-party: a login grants it `openid` without a consent screen.
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const { client, session, result, provider: p } = ctx.oidc;
      const grantId = result?.consent?.grantId ?? (client ? session.grantIdFor(client.clientId) : undefined);
      if (grantId) return p.Grant.find(grantId);
      if (!client || client.clientId !== WEB_CLIENT_ID || !session.accountId) return undefined;
      const grant = new p.Grant({ accountId: session.accountId, clientId: client.clientId });
      grant.addOIDCScope('openid');
      await grant.save();
      return grant;
    },
    async renderError(ctx: KoaContextWithOIDC, out: { error?: unknown }) {
      ctx.type = 'html';
      ctx.body = await errorPage({ nonce: nonceOf(ctx), code: typeof out.error === 'string' ? out.error : 'server_error', back: `${gateway}/` });
    },
    cookies: {
      keys: [randomBytes(32).toString('base64url')],
      long: { httpOnly: true, sameSite: 'lax', path: DEMO_IDP_PATH },
      short: { httpOnly: true, sameSite: 'lax', path: DEMO_IDP_PATH },
    },
    ttl: TTL,
  });
  provider.silent = true;
  provider.on('server_error', (_ctx, error) => log('demo identity provider error', { error: error instanceof Error ? error.name : 'unknown' }));

  provider.use(async (ctx, next) => {
    const nonce = randomBytes(16).toString('base64');
    ctx.state.nonce = nonce;
    ctx.set('content-security-policy', idpCsp(nonce, gateway));
    ctx.set('x-content-type-options', 'nosniff');
    ctx.set('referrer-policy', 'no-referrer');
    const m = /^\/interaction\/([A-Za-z0-9_-]{1,64})(\/login|\/abort)?$/.exec(ctx.path);
    if (!m) return next();
    ctx.set('cache-control', 'no-store');
    try {
      await interaction(ctx, m[1]!, m[2]);
    } catch (error) {
      // An interaction that is gone (expired, finished, no cookie) is the person's problem; anything else is ours.
      const gone = error instanceof Error && error.name === 'SessionNotFound';
      if (!gone) log('demo identity provider error', { error: error instanceof Error ? error.name : 'unknown' });
      ctx.status = gone ? 400 : 500;
      ctx.type = 'html';
      ctx.body = await errorPage({ nonce, code: gone ? 'session_not_found' : 'server_error', back: `${gateway}/` });
    }
  });

  /** GET: the account choice; POST …/login: log the chosen account in; POST …/abort: the person cancelled. */
  async function interaction(ctx: KoaContextWithOIDC, uid: string, action: string | undefined): Promise<void> {
    const { req, res } = ctx;
    if (action === undefined) {
      if (ctx.method !== 'GET') return methodNotAllowed(ctx);
      const details = await provider.interactionDetails(req, res);
      if (details.uid !== uid || details.prompt.name !== 'login') throw Object.assign(new Error('interaction'), { name: 'SessionNotFound' });
      ctx.type = 'html';
      ctx.body = await accountsPage({
        nonce: nonceOf(ctx),
        action: `${DEMO_IDP_PATH}/interaction/${uid}/login`,
        abortAction: `${DEMO_IDP_PATH}/interaction/${uid}/abort`,
        accounts: [...accounts.values()],
      });
      return;
    }
    if (ctx.method !== 'POST') return methodNotAllowed(ctx);
    // The interaction cookie is SameSite=Lax already; a form from another origin is refused outright as well.
    if (!isSameOriginRequest({ origin: ctx.get('origin') || undefined, secFetchSite: ctx.get('sec-fetch-site') || undefined }, origin)) {
      ctx.status = 403;
      ctx.type = 'html';
      ctx.body = await errorPage({ nonce: nonceOf(ctx), code: 'cross_origin_form', back: `${gateway}/` });
      return;
    }
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw Object.assign(new Error('interaction'), { name: 'SessionNotFound' });
    let result: Parameters<Provider['interactionResult']>[2];
    if (action === '/abort') {
      result = { error: 'access_denied', error_description: 'the person cancelled the login' };
    } else {
      const account = accounts.get((await readForm(req)).get('account') ?? '');
      if (!account || details.prompt.name !== 'login') {
        ctx.status = 400;
        ctx.type = 'html';
        ctx.body = await errorPage({ nonce: nonceOf(ctx), code: 'unknown_account', back: `${gateway}/` });
        return;
      }
      result = { login: { accountId: account.sub } };
    }
    const to = await provider.interactionResult(req, res, result, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(to);
  }

  return provider.callback();
}

async function methodNotAllowed(ctx: KoaContextWithOIDC): Promise<void> {
  ctx.status = 405;
  ctx.body = '';
}

/** The provider's pages: nothing loads but the gateway's stylesheet under this response's nonce; forms go back to it. */
function idpCsp(nonce: string, gateway: string): string {
  const origin = new URL(gateway).origin;
  return `default-src 'none'; style-src 'nonce-${nonce}'; base-uri 'none'; form-action 'self' ${origin}; frame-ancestors 'none'`;
}

/** A small url-encoded form body, read whole up to MAX_FORM_BYTES; a larger one reads as empty. */
async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) return new URLSearchParams();
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * oidc-provider v9 asks for Node.js 22 and says so on the console when it is imported under Node 20 (which doelpoort
 * supports, and on which it runs). That one notice becomes one of our JSON lines; anything else it prints passes.
 */
async function importQuietly(log: (msg: string, fields: Record<string, unknown>) => void): Promise<typeof import('oidc-provider')> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING: Unsupported runtime')) {
      log('demo identity provider: oidc-provider asks for Node.js 22 or later', { node: process.version });
    } else warn(...args);
  };
  try {
    return await import('oidc-provider');
  } finally {
    console.warn = warn;
  }
}
