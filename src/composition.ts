import type { Clock } from './clock.js';
import { databaseFile, recordsFile, type Config } from './config.js';
import { openDatabase, openRecordsDatabase, type Db, type RecordsDb } from './db.js';
import { loadConfiguredAuditKeys, type CheckpointKey } from './audit/keys.js';
import { WalSync } from './durability.js';
import { DoelpoortError } from './errors.js';
import { AuditLog } from './audit/log.js';
import { checkpointWitness } from './audit/witness.js';
import type { AppDeps } from './http/deps.js';
import { codeToStatus } from './http/problem.js';
import { FailureLimiter } from './http/rate-limit.js';
import { ActivePolicy } from './policy/active.js';
import { PolicyVersions } from './policy/versions.js';
import { RecordStore } from './records/store.js';
import { createTokenService } from './tokens/service.js';
import { SqliteUnitOfWork } from './unit-of-work.js';
import { demoIdentityProvider } from './demo/identity-provider.js';
import { OidcRelyingParty, webLoginProviders } from './web/oidc.js';
import { NoodtoegangStore } from './noodtoegang/store.js';
import { Reauthentications } from './web/reauth.js';
import { SessionNoodtoegang } from './web/session-noodtoegang.js';
import { SessionStore } from './web/sessions.js';

/**
 * The composition root: the one place where doelpoort's parts are built from the configuration and put together.
 * `serve`, the CLI commands and the tests build through it; src/http receives the result as AppDeps.
 */

/** The audit log over the state database, with the data dir's keys and the configured checkpoints and witness. */
export function auditLog(db: Db, config: Config, clock: Clock, keys: { pseudonymKey: Buffer; checkpointKey?: CheckpointKey | undefined }): AuditLog {
  const { checkpointEvery, checkpointMinutes, checkpointDir } = config;
  return new AuditLog(db, { clock, ...keys, checkpointEvery, checkpointMinutes, witness: checkpointWitness(checkpointDir) });
}

/**
 * What the CLI's policy commands need over the state database: the audit log, the policies and a unit of work. Policy
 * verbs read no records, so the unit of work gets an empty in-memory store rather than a lock on the records file,
 * which a running import may hold. `close` closes that store; the caller closes `db`.
 */
export function policyOffice(db: Db, config: Config, clock: Clock): { uow: SqliteUnitOfWork; policies: ActivePolicy; close(): void } {
  const audit = auditLog(db, config, clock, loadConfiguredAuditKeys(config));
  const policies = ActivePolicy.bootstrap(new PolicyVersions(db, clock), config.policiesDir);
  const recordsDb = openRecordsDatabase(':memory:');
  const uow = new SqliteUnitOfWork({ audit, records: new RecordStore(recordsDb), policies: policies.versions });
  return { uow, policies, close: () => recordsDb.$client.close() };
}

/**
 * The gateway's dependencies over two open databases; `tokens`, `policies`, `oidc` (the web login's providers) and
 * `demoIdp` may be given, else they are built from the configuration (the demo provider only by openGateway).
 * `walSync` (the serving connection's, from openGateway) moves the unit of work's fsync off the event loop.
 */
export function gatewayDeps(
  base: Pick<AppDeps, 'db' | 'config' | 'clock'> &
    Partial<Pick<AppDeps, 'tokens' | 'policies' | 'oidc' | 'demoIdp'>> & {
      recordsDb: RecordsDb;
      pseudonymKey: Buffer;
      checkpointKey?: CheckpointKey | undefined;
      walSync?: WalSync | undefined;
    },
): AppDeps {
  const { db, config, clock, recordsDb, pseudonymKey, checkpointKey, walSync } = base;
  const records = new RecordStore(recordsDb);
  const audit = auditLog(db, config, clock, { pseudonymKey, checkpointKey });
  const policies = base.policies ?? ActivePolicy.bootstrap(new PolicyVersions(db, clock), config.policiesDir);
  const sessions = new SessionStore(db, clock, { idleMinutes: config.sessionIdleMinutes, maxHours: config.sessionMaxHours });
  return {
    db,
    config,
    clock,
    records,
    audit,
    uow: new SqliteUnitOfWork({ audit, records, policies: policies.versions, sessions, statusOf: (code) => codeToStatus[code], walSync }),
    tokens: base.tokens ?? createTokenService(config, clock),
    limiter: new FailureLimiter({ limit: config.rateLimit, clock }),
    policies,
    sessions,
    reauthentications: new Reauthentications(db, clock),
    sessionNoodtoegang: new SessionNoodtoegang(db, clock),
    noodtoegangCounts: new NoodtoegangStore(db),
    oidc: base.oidc ?? new OidcRelyingParty(webLoginProviders(config), { publicUrl: config.publicUrl, clock }),
    demoIdp: base.demoIdp,
  };
}

/**
 * The gateway on the data dir's own files (both databases, the audit keys and the keyset, created on first use). Demo
 * mode refuses a records file that holds imported Suite records. The serving connection's commits are made durable
 * by an fdatasync of its WAL off the event loop (src/durability.ts); every other connection commits with FULL.
 */
export function openGateway(config: Config, clock: Clock): { deps: AppDeps; close(): void } {
  const db = openDatabase(databaseFile(config));
  const recordsDb = openRecordsDatabase(recordsFile(config));
  const walSync = WalSync.open(db.$client);
  const close = () => {
    walSync.close();
    db.$client.close();
    recordsDb.$client.close();
  };
  // Before the demo IdP (which signs any role for anyone) exists at all.
  if (config.demo && !new RecordStore(recordsDb).holdsOnlyDemoRecords()) {
    close();
    throw new DoelpoortError(
      'CONFIG_INVALID',
      'serve: demo mode refuses a data dir that holds imported Suite records; use DOELPOORT_IDPS_FILE, or another DOELPOORT_DATA_DIR for the demo',
    );
  }
  // Demo mode's OpenID provider, on this server under /demo-idp; the web login reaches it like any other provider.
  const demoIdp = config.demo ? demoIdentityProvider({ publicUrl: config.publicUrl, dataDir: config.dataDir }) : undefined;
  const deps = gatewayDeps({ db, recordsDb, config, clock, demoIdp, walSync, ...loadConfiguredAuditKeys(config) });
  return { deps, close };
}
