import type { AuditReader } from '../audit/reader.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Db } from '../db.js';
import type { ActivePolicy } from '../policy/active.js';
import type { RecordStore } from '../records/store.js';
import type { TokenService } from '../tokens/service.js';
import type { UnitOfWork } from '../unit-of-work.js';
import type { DemoIdentityProvider } from '../demo/identity-provider.js';
import type { OidcRelyingParty } from '../web/oidc.js';
import type { SessionStore } from '../web/sessions.js';
import type { FailureLimits } from './rate-limit.js';

/** What the routes and middleware depend on; built by the composition root (src/composition.ts) or a test. */
export interface AppDeps {
  /** The state database: audit log, checkpoints, policy versions. The only one a request writes. */
  db: Db;
  config: Config;
  clock: Clock;
  records: RecordStore;
  audit: AuditReader;
  /** The one way to run audited work: read, decide, append, commit, then answer (src/unit-of-work.ts). */
  uow: UnitOfWork;
  tokens: TokenService;
  /** The policy in force and the stored versions. */
  policies: ActivePolicy;
  /** Failed requests per client address (DOELPOORT_RATE_LIMIT). */
  limiter: FailureLimits;
  /** The web application's sessions and pending logins (in `db`). */
  sessions: SessionStore;
  /** The web login's OpenID providers: the IdPs file's `oidc` entries, or the demo provider. */
  oidc: OidcRelyingParty;
  /** Demo mode's own OpenID provider, mounted under /demo-idp; absent outside demo mode. */
  demoIdp?: DemoIdentityProvider | undefined;
}
