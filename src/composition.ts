import fs from 'node:fs';
import type { Readable } from 'node:stream';
import type { Checkpoint } from './audit/checkpoint.js';
import type { VerifyResult } from './audit/verify.js';
import { privateDataDir } from './cli/private-data-dir.js';
import type { Clock } from './clock.js';
import { databaseFile, recordsFile, type Config } from './config.js';
import { openDatabase, openRecordsDatabase, type Db, type RecordsDb } from './db.js';
import { loadConfiguredAuditKeys, type CheckpointKey } from './audit/keys.js';
import { PgAuditLog } from './audit/log-pg.js';
import { WalSync } from './durability.js';
import { DoelpoortError, isDoelpoortError } from './errors.js';
import { AuditLog } from './audit/log.js';
import { checkpointWitness } from './audit/witness.js';
import type { AppDeps } from './http/deps.js';
import { codeToStatus } from './http/problem.js';
import { FailureLimiter } from './http/rate-limit.js';
import { PgFailureLimiter } from './http/rate-limit-pg.js';
import { instanceId, PgLease } from './leases-pg.js';
import { pgTxStores } from './pg-stores.js';
import { PgUnitOfWork } from './pg-unit-of-work.js';
import { ActivePolicy, SYSTEM_AUTHOR, type PolicyInForce } from './policy/active.js';
import { PgActivePolicy } from './policy/active-pg.js';
import { loadPolicyDirectory } from './policy/load.js';
import { PolicyVersions, type PolicyVersion } from './policy/versions.js';
import { PgPolicyVersions } from './policy/versions-pg.js';
import { openPostgres } from './postgres.js';
import { importSuiteExport, type ImportOptions, type ImportSummary } from './records/import.js';
import { importSuiteExportPg } from './records/import-pg.js';
import { RecordStore } from './records/store.js';
import { PgRecordStore } from './records/store-pg.js';
import { PgReplayStore } from './tokens/replay-pg.js';
import { createTokenService } from './tokens/service.js';
import { SqliteUnitOfWork, type Awaitable, type UnitOfWork } from './unit-of-work.js';
import { demoIdentityProvider } from './demo/identity-provider.js';
import { startWalCheckpointer } from './wal-checkpointer.js';
import { OidcRelyingParty, webLoginProviders } from './web/oidc.js';
import { NoodtoegangStore } from './noodtoegang/store.js';
import { Reauthentications } from './web/reauth.js';
import { SessionNoodtoegang } from './web/session-noodtoegang.js';
import { SessionStore } from './web/sessions.js';
import { PgSessionStore } from './web/sessions-pg.js';
import { PgReauthentications } from './web/reauth-pg.js';
import { PgSessionNoodtoegang } from './web/session-noodtoegang-pg.js';
import { PgNoodtoegangStore } from './noodtoegang/store-pg.js';

/**
 * The composition root: the one place where doelpoort's parts are built from the configuration and put together.
 * `serve`, the CLI commands and the tests build through it; src/http receives the result as AppDeps. The state lives
 * in the data dir's SQLite files, or with DOELPOORT_DATABASE_URL in PostgreSQL (docs/postgres.md): the same use cases
 * over other stores.
 */

/** The audit log over the state database, with the data dir's keys and the configured checkpoints and witness. */
export function auditLog(db: Db, config: Config, clock: Clock, keys: { pseudonymKey: Buffer; checkpointKey?: CheckpointKey | undefined }): AuditLog {
  const { checkpointEvery, checkpointMinutes, checkpointDir } = config;
  return new AuditLog(db, { clock, ...keys, checkpointEvery, checkpointMinutes, witness: checkpointWitness(checkpointDir) });
}

/** The audit log on PostgreSQL, with the configured keys, checkpoints and witness. */
function pgAuditLog(pg: { pool: PgAuditLogPool }, config: Config, clock: Clock): PgAuditLog {
  const { checkpointEvery, checkpointMinutes, checkpointDir } = config;
  return new PgAuditLog(pg.pool, { clock, ...loadConfiguredAuditKeys(config), checkpointEvery, checkpointMinutes, witness: checkpointWitness(checkpointDir) });
}
type PgAuditLogPool = ConstructorParameters<typeof PgAuditLog>[0];

/**
 * What the CLI's policy commands need of the state, on either database: a unit of work, the policy in force and the
 * stored versions. Policy verbs read no records, so on SQLite the unit of work gets an empty in-memory store rather
 * than a lock on the records file, which a running import may hold.
 */
export async function openPolicyOffice(
  config: Config,
  clock: Clock,
): Promise<{ uow: UnitOfWork; policies: PolicyInForce; versions: { get(id: number): Awaitable<PolicyVersion | undefined> }; close(): Promise<void> }> {
  if (config.databaseUrl) {
    const pg = await openPostgres(config.databaseUrl, { max: 2, applicationName: 'doelpoort-cli' });
    try {
      const audit = pgAuditLog(pg, config, clock);
      const versions = new PgPolicyVersions(pg.pool, clock);
      await storeFirstVersion(versions, config);
      const policies = await PgActivePolicy.open(pg.pool, versions);
      const uow = new PgUnitOfWork({ pool: pg.pool, audit, stores: pgTxStores({ records: new PgRecordStore(pg.pool), policies: versions }) });
      return {
        uow,
        policies,
        versions,
        close: async () => {
          await policies.close();
          await pg.close();
        },
      };
    } catch (error) {
      await pg.close();
      throw error;
    }
  }
  const db = openExistingDatabase(config, 'policy');
  const audit = auditLog(db, config, clock, loadConfiguredAuditKeys(config));
  const policies = ActivePolicy.bootstrap(new PolicyVersions(db, clock), config.policiesDir);
  const recordsDb = openRecordsDatabase(':memory:');
  const uow = new SqliteUnitOfWork({ audit, records: new RecordStore(recordsDb), policies: policies.versions });
  return {
    uow,
    policies,
    versions: policies.versions,
    close: async () => {
      recordsDb.$client.close();
      db.$client.close();
    },
  };
}

/** On an empty database the policies directory becomes version 1 (and must be valid); of instances racing, one stores it. */
async function storeFirstVersion(versions: PgPolicyVersions, config: Config): Promise<void> {
  if (!(await versions.active())) await versions.ensureActive(loadPolicyDirectory(config.policiesDir).document, SYSTEM_AUTHOR);
}

/** The data dir's state database, which the gateway created at its first start; REQUEST_INVALID when there is none. */
export function openExistingDatabase(config: Config, command: string): Db {
  if (!fs.existsSync(databaseFile(config))) throw new DoelpoortError('REQUEST_INVALID', `${command}: no database in the data dir (start the gateway once)`);
  privateDataDir(config.dataDir);
  return openDatabase(databaseFile(config));
}

/** What `doelpoort audit verify|checkpoint` need of the log, on either database. */
export interface AuditOffice {
  database: 'sqlite' | 'postgres';
  /** The whole chain recomputed (on SQLite over worker threads), with the external checkpoints and the witness. */
  verify(external: string[]): Promise<VerifyResult>;
  /** A checkpoint of the head unless the newest covers it; the newest. */
  checkpoint(): Promise<Checkpoint | undefined>;
  readonly checkpointJwk: unknown;
  close(): Promise<void>;
}

/** The audit log for the CLI: the data dir's state database, or PostgreSQL. */
export async function openAuditOffice(config: Config, clock: Clock): Promise<AuditOffice & { sqlite?: { db: Db; audit: AuditLog } }> {
  if (config.databaseUrl) {
    const pg = await openPostgres(config.databaseUrl, { max: 2, applicationName: 'doelpoort-cli' });
    const audit = pgAuditLog(pg, config, clock);
    return {
      database: 'postgres',
      verify: (external) => audit.verify({ external }),
      checkpoint: () => audit.checkpoint(),
      checkpointJwk: audit.checkpointJwk,
      close: () => pg.close(),
    };
  }
  const db = openExistingDatabase(config, 'audit');
  const audit = auditLog(db, config, clock, loadConfiguredAuditKeys(config));
  return {
    database: 'sqlite',
    sqlite: { db, audit },
    verify: (external) => audit.verifyParallel({ external }),
    checkpoint: async () => audit.checkpoint(),
    checkpointJwk: audit.checkpointJwk,
    close: async () => {
      db.$client.close();
    },
  };
}

/** `doelpoort import`'s store: the data dir's records file (created on first use), or PostgreSQL. */
export async function openRecordImport(config: Config): Promise<{ importRecords: Gateway['importRecords']; close(): Promise<void> }> {
  if (config.databaseUrl) {
    const pg = await openPostgres(config.databaseUrl, { max: 2, applicationName: 'doelpoort-import' });
    const store = new PgRecordStore(pg.pool, { maxParsed: 0 });
    return { importRecords: (input, options) => importSuiteExportPg(store, input, options), close: () => pg.close() };
  }
  privateDataDir(config.dataDir);
  const db = openRecordsDatabase(recordsFile(config));
  const store = new RecordStore(db);
  return {
    importRecords: (input, options) => importSuiteExport(store, input, options),
    close: async () => {
      db.$client.close();
    },
  };
}

/** The gateway's dependencies on SQLite, with the SQLite stores themselves for the tests and the benchmarks. */
export type SqliteAppDeps = Omit<AppDeps, 'records' | 'audit' | 'sessions' | 'policies'> & {
  db: Db;
  records: RecordStore;
  audit: AuditLog;
  sessions: SessionStore;
  policies: ActivePolicy;
};

/**
 * The gateway's dependencies over two open SQLite databases; `tokens`, `policies`, `oidc` (the web login's providers)
 * and `demoIdp` may be given, else they are built from the configuration (the demo provider only by openGateway).
 * `walSync` (the serving connection's, from openGateway) moves the unit of work's fsync off the event loop.
 */
export function gatewayDeps(
  base: Pick<AppDeps, 'config' | 'clock'> &
    Partial<Pick<AppDeps, 'tokens' | 'oidc' | 'demoIdp'>> & {
      db: Db;
      policies?: ActivePolicy;
      recordsDb: RecordsDb;
      pseudonymKey: Buffer;
      checkpointKey?: CheckpointKey | undefined;
      walSync?: WalSync | undefined;
    },
): SqliteAppDeps {
  const { db, config, clock, recordsDb, pseudonymKey, checkpointKey, walSync } = base;
  const records = new RecordStore(recordsDb);
  const audit = auditLog(db, config, clock, { pseudonymKey, checkpointKey });
  const policies = base.policies ?? ActivePolicy.bootstrap(new PolicyVersions(db, clock), config.policiesDir);
  const sessions = new SessionStore(db, clock, { idleMinutes: config.sessionIdleMinutes, maxHours: config.sessionMaxHours });
  const ping = db.$client.prepare('SELECT 1');
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
    ping: () => {
      ping.get();
    },
  };
}

/** A log line of the gateway's timed work: codes and counts only. */
export type GatewayLog = (msg: string, fields: Record<string, unknown>) => void;

/** The built gateway as `serve` runs it, on either database. */
export interface Gateway {
  deps: AppDeps;
  /** Which database holds the state. */
  database: 'sqlite' | 'postgres';
  /** Imports a Suite export into the records (all or nothing); demo mode's seeding and `doelpoort import`. */
  importRecords(input: Readable, options: ImportOptions): Promise<ImportSummary>;
  /**
   * Starts the timed work of a serving instance: a checkpoint after a quiet spell (on PostgreSQL by the one instance
   * holding the checkpoint lease), and on SQLite the WAL checkpointer. Returns what stops it.
   */
  startTimedWork(log: GatewayLog): () => Promise<void>;
  close(): Promise<void>;
}

/** A store holding imported Suite records is no place for demo mode, whose IdP signs any role for anyone. */
const demoRefusesRecords = (where: 'data dir' | 'database', elsewhere: string) =>
  new DoelpoortError(
    'CONFIG_INVALID',
    `serve: demo mode refuses a ${where} that holds imported Suite records; use DOELPOORT_IDPS_FILE, or ${elsewhere} for the demo`,
  );

/** The gateway on the configured database: the data dir's SQLite files, or PostgreSQL with DOELPOORT_DATABASE_URL. */
export function openGateway(config: Config, clock: Clock): Promise<Gateway> {
  return config.databaseUrl ? openPgGateway(config, config.databaseUrl, clock) : Promise.resolve(openSqliteGateway(config, clock));
}

/** Runs `work` every `minutes`, logging (never throwing) what fails; returns what stops it. */
function every(minutes: number, log: GatewayLog, what: string, work: () => unknown): () => void {
  const timer = setInterval(async () => {
    try {
      await work();
    } catch (error) {
      log(`${what} failed`, { code: isDoelpoortError(error) ? error.code : 'INTERNAL' });
    }
  }, minutes * 60_000);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The gateway on the data dir's own files (both databases, the audit keys and the keyset, created on first use). Demo
 * mode refuses a records file that holds imported Suite records. The serving connection's commits are made durable
 * by an fdatasync of its WAL off the event loop (src/durability.ts); every other connection commits with FULL.
 */
function openSqliteGateway(config: Config, clock: Clock): Gateway {
  const db = openDatabase(databaseFile(config));
  const recordsDb = openRecordsDatabase(recordsFile(config));
  const walSync = WalSync.open(db.$client);
  const close = async () => {
    walSync.close();
    db.$client.close();
    recordsDb.$client.close();
  };
  // Before the demo IdP (which signs any role for anyone) exists at all.
  if (config.demo && !new RecordStore(recordsDb).holdsOnlyDemoRecords()) {
    void close();
    throw demoRefusesRecords('data dir', 'another DOELPOORT_DATA_DIR');
  }
  // Demo mode's OpenID provider, on this server under /demo-idp; the web login reaches it like any other provider.
  const demoIdp = config.demo ? demoIdentityProvider({ publicUrl: config.publicUrl, dataDir: config.dataDir }) : undefined;
  const deps = gatewayDeps({ db, recordsDb, config, clock, demoIdp, walSync, ...loadConfiguredAuditKeys(config) });
  return {
    deps,
    database: 'sqlite',
    importRecords: (input, options) => importSuiteExport(deps.records, input, options),
    startTimedWork(log) {
      // A quiet spell would otherwise leave its last lines without a checkpoint until the next request.
      const stopCheckpoints = every(config.checkpointMinutes, log, 'audit checkpoint', () => deps.audit.checkpoint());
      const stopWalCheckpointer = startWalCheckpointer(db);
      return async () => {
        stopCheckpoints();
        await stopWalCheckpointer();
      };
    },
    close,
  };
}

/**
 * The gateway on PostgreSQL: one of any number of instances on one database (docs/postgres.md). Everything that may
 * not stay in one process is shared through the database: the audit chain (appends serialised under its advisory
 * lock), the policy in force (followed by LISTEN/NOTIFY), the DPoP and client-assertion replay caches, the rate
 * limits, the web sessions, and the checkpoint timer (a lease). The keys come from the configured files, the same
 * on every instance (loadConfig requires them). The migrations run at open, under a lock of their own.
 */
async function openPgGateway(config: Config, url: string, clock: Clock): Promise<Gateway> {
  const pg = await openPostgres(url, { max: config.databasePoolSize });
  const { pool } = pg;
  let policies: PgActivePolicy | undefined;
  try {
    const records = new PgRecordStore(pool);
    if (config.demo && !(await records.holdsOnlyDemoRecords())) throw demoRefusesRecords('database', 'another DOELPOORT_DATABASE_URL');
    const audit = pgAuditLog(pg, config, clock);
    const versions = new PgPolicyVersions(pool, clock);
    await storeFirstVersion(versions, config);
    policies = await PgActivePolicy.open(pool, versions);
    const sessions = new PgSessionStore(pool, clock, { idleMinutes: config.sessionIdleMinutes, maxHours: config.sessionMaxHours });
    const uow = new PgUnitOfWork({ pool, audit, stores: pgTxStores({ records, policies: versions, sessions }), statusOf: (code) => codeToStatus[code] });
    const demoIdp = config.demo ? demoIdentityProvider({ publicUrl: config.publicUrl, dataDir: config.dataDir }) : undefined;
    const tokens = createTokenService(config, clock, { replay: new PgReplayStore(pool, 'dpop'), assertionReplay: new PgReplayStore(pool, 'client-assertion') });
    const deps: AppDeps = {
      config,
      clock,
      records,
      audit: audit as unknown as AppDeps['audit'],
      uow,
      tokens,
      limiter: new PgFailureLimiter({ db: pool, limit: config.rateLimit, clock }),
      policies,
      sessions,
      reauthentications: new PgReauthentications(pool, clock),
      sessionNoodtoegang: new PgSessionNoodtoegang(pool, clock),
      noodtoegangCounts: new PgNoodtoegangStore(pool),
      oidc: new OidcRelyingParty(webLoginProviders(config), { publicUrl: config.publicUrl, clock }),
      demoIdp,
      ping: async () => {
        await pool.query('SELECT 1');
      },
    };
    const inForce = policies;
    return {
      deps,
      database: 'postgres',
      importRecords: (input, options) => importSuiteExportPg(records, input, options),
      startTimedWork(log) {
        // One instance at a time writes the quiet spell's checkpoint; another takes over once its lease lapses.
        const lease = new PgLease(pool, 'audit-checkpoint', instanceId(), 3 * config.checkpointMinutes * 60_000);
        const stop = every(config.checkpointMinutes, log, 'audit checkpoint', async () => {
          if (await lease.acquire()) await audit.checkpoint();
        });
        return async () => {
          stop();
          await lease.release().catch(() => {});
        };
      },
      async close() {
        await inForce.close();
        await pg.close();
      },
    };
  } catch (error) {
    await policies?.close();
    await pg.close();
    throw error;
  }
}
