import type { AuditReader } from '../audit/reader.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { PolicyInForce } from '../policy/active.js';
import type { RecordReader } from '../records/store.js';
import type { TokenService } from '../tokens/service.js';
import type { Awaitable, Awaiting, UnitOfWork } from '../unit-of-work.js';
import type { DemoIdentityProvider } from '../demo/identity-provider.js';
import type { OidcRelyingParty } from '../web/oidc.js';
import type { NoodtoegangStore } from '../noodtoegang/store.js';
import type { ReauthStore } from '../web/reauth.js';
import type { SessionNoodtoegangStore } from '../web/session-noodtoegang.js';
import type { WebSessions } from '../web/sessions.js';
import type { FailureLimits } from './rate-limit.js';

/**
 * What the routes and middleware depend on, whatever the database (SQLite or PostgreSQL); built by the composition
 * root (src/composition.ts) or a test. Every write of a request goes through `uow`.
 */
export interface AppDeps {
  config: Config;
  clock: Clock;
  records: RecordReader;
  audit: AuditReader;
  /** The one way to run audited work: read, decide, append, commit, then answer (src/unit-of-work.ts). */
  uow: UnitOfWork;
  tokens: TokenService;
  /** The policy in force and the stored versions (one process on SQLite; followed across instances on PostgreSQL). */
  policies: PolicyInForce;
  /** Failed requests per client address (DOELPOORT_RATE_LIMIT). */
  limiter: FailureLimits;
  /** The web application's sessions and pending logins. */
  sessions: WebSessions;
  /** Pending re-logins and the grants they leave (src/web/reauth.ts). */
  reauthentications: ReauthStore;
  /** The emergency access a web session holds (src/web/session-noodtoegang.ts). */
  sessionNoodtoegang: SessionNoodtoegangStore;
  /** The person's emergency accesses this week, for "how many are left" (the grant counts again in its unit of work). */
  noodtoegangCounts: Awaiting<Pick<NoodtoegangStore, 'countSince'>>;
  /** The web login's OpenID providers: the IdPs file's `oidc` entries, or the demo provider. */
  oidc: OidcRelyingParty;
  /** Demo mode's own OpenID provider, mounted under /demo-idp; absent outside demo mode. */
  demoIdp?: DemoIdentityProvider | undefined;
  /** Answers once the database answers a trivial query (`GET /health`); rejects when it does not. */
  ping(): Awaitable<void>;
}
