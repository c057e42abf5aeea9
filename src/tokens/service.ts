import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { VerifiedTokenCache } from './access-token.js';
import { type ClientRegistry, loadClientRegistry } from './clients.js';
import { loadGatewayKeys, type GatewayKeys } from './gateway-keys.js';
import { loadTrustStore, type TrustStore } from './idps.js';
import { VerifiedLoginCache } from './login-cache.js';
import { ReplayCache, type ReplayStore } from './replay.js';

/** Everything token exchange and token checks need, built once per app. */
export interface TokenService {
  /** Identity providers whose logins are accepted. */
  trust: TrustStore;
  /** The clients that may call the token endpoint. */
  clients: ClientRegistry;
  /** The gateway's own signing keys. */
  keys: GatewayKeys;
  /** DPoP proof `jti`s seen recently. */
  replay: ReplayStore;
  /** Client assertion `jti`s seen recently (RFC 7523 §3, item 7). */
  assertionReplay: ReplayStore;
  /** Access tokens already verified. */
  verified: VerifiedTokenCache;
  /** Subject tokens (logins) already verified at the token exchange. */
  logins: VerifiedLoginCache;
  /** `iss` of issued tokens and the audience accepted: config.publicUrl. */
  issuer: string;
  /** The token endpoint's URL: the `htu` of its DPoP proofs and an audience of client assertions. */
  tokenEndpoint: string;
  ttlSeconds: number;
  requireDpop: boolean;
  clock: Clock;
}

/**
 * Builds the token service from the configuration (IdPs file or demo IdP, clients file and/or the demo client, keys
 * in the data dir or the signing key file). Synchronous; the demo IdP's key loads in the background, so
 * `await service.trust.ready()` at start. The replay stores are in memory unless given (PostgreSQL: PgReplayStore,
 * shared by every instance).
 */
export function createTokenService(
  config: Config,
  clock: Clock,
  overrides: { trust?: TrustStore; clients?: ClientRegistry; replay?: ReplayStore; assertionReplay?: ReplayStore } = {},
): TokenService {
  return {
    trust: overrides.trust ?? loadTrustStore(config),
    clients: overrides.clients ?? loadClientRegistry(config),
    keys: loadGatewayKeys(config, clock),
    replay: overrides.replay ?? new ReplayCache(),
    assertionReplay: overrides.assertionReplay ?? new ReplayCache(),
    verified: new VerifiedTokenCache(10_000, clock),
    logins: new VerifiedLoginCache(clock),
    issuer: config.publicUrl,
    tokenEndpoint: `${config.publicUrl}/oauth/token`,
    ttlSeconds: config.tokenTtlSeconds,
    requireDpop: config.requireDpop,
    clock,
  };
}
