import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { VerifiedTokenCache } from './access-token.js';
import { ReplayCache } from './dpop.js';
import { loadGatewayKeys, type GatewayKeys } from './gateway-keys.js';
import { loadTrustStore, type TrustStore } from './idps.js';

/** Everything token exchange and token checks need, built once per app. */
export interface TokenService {
  /** Identity providers whose logins are accepted. */
  trust: TrustStore;
  /** The gateway's own signing keys. */
  keys: GatewayKeys;
  /** DPoP proof `jti`s seen recently. */
  replay: ReplayCache;
  /** Access tokens already verified. */
  verified: VerifiedTokenCache;
  /** `iss` of issued tokens and the audience accepted: config.publicUrl. */
  issuer: string;
  ttlSeconds: number;
  requireDpop: boolean;
  clock: Clock;
}

/**
 * Builds the token service from the configuration (IdPs file or demo IdP, keys in the data dir or the signing key
 * file). Synchronous; the demo IdP's key loads in the background, so `await service.trust.ready()` at start.
 */
export function createTokenService(config: Config, clock: Clock, overrides: { trust?: TrustStore } = {}): TokenService {
  return {
    trust: overrides.trust ?? loadTrustStore(config),
    keys: loadGatewayKeys(config, clock),
    replay: new ReplayCache(),
    verified: new VerifiedTokenCache(10_000, clock),
    issuer: config.publicUrl,
    ttlSeconds: config.tokenTtlSeconds,
    requireDpop: config.requireDpop,
    clock,
  };
}
