import fs from 'node:fs';
import type { Readable } from 'node:stream';
import type { Checkpoint } from './audit/checkpoint.js';
import type { LogboekRecord, LogboekSources } from './audit/export.js';
import type { LogboekRange } from './audit/reader.js';
import { exportLogboekPg } from './audit/export-pg.js';
import { pruneAudit, type PruneOptions, type PruneResult } from './audit/prune.js';
import { pruneAuditPg } from './audit/prune-pg.js';
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
import { openPostgres, type Pg } from './postgres.js';
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

/** The audit log on PostgreSQL, with the given keys (the configured files'), checkpoints and witness. */
function pgAuditLog(pool: Pg['pool'], config: Config, clock: Clock, keys: { pseudonymKey: Buffer; checkpointKey?: CheckpointKey | undefined }): PgAuditLog {
  const { checkpointEvery, checkpointMinutes, checkpointDir } = config;
  return new PgAuditLog(pool, { clock, ...keys, checkpointEvery, checkpointMinutes, witness: checkpointWitness(checkpointDir) });
}

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
      const audit = pgAuditLog(pg.pool, config, clock, loadConfiguredAuditKeys(config));
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

/** What `doelpoort audit verify|checkpoint|export|prune` need of the log, on either database. */
export interface AuditOffice {
  /** The whole chain recomputed (on SQLite over worker threads), with the external checkpoints and the witness. */
  verify(external: string[]): Promise<VerifyResult>;
  /** A checkpoint of the head unless the newest covers it; the newest. */
  checkpoint(): Promise<Checkpoint | undefined>;
  readonly checkpointJwk: unknown;
  /**
   * The Logboek records of the lines in `range`, oldest first; a client's data subject is the keyed pseudonym of the
   * BSN the records hold for it, and `missing` collects the clients no longer on record (their lines name none).
   */
  logboek(sources: Omit<LogboekSources, 'subjectOf'>, range: LogboekRange, missing: Set<string>): Promise<Iterable<LogboekRecord>>;
  /** Blanks the content of the lines before `options.before`, refusing a date inside the retention period. */
  prune(options: PruneOptions): Promise<PruneResult>;
  close(): Promise<void>;
}

/** A record reader's BSN of a clientRef as the keyed pseudonym, noting the clients it does not hold. */
function subjects(records: { bsnOf(ref: string): Awaitable<string | undefined> } | undefined, pseudonym: (bsn: string) => string, missing: Set<string>) {
  return async (clientRef: string) => {
    const bsn = await records?.bsnOf(clientRef);
    if (bsn === undefined) missing.add(clientRef);
    return bsn === undefined ? undefined : pseudonym(bsn);
  };
}

/** The audit log for the CLI: the data dir's state database, or PostgreSQL. */
export async function openAuditOffice(config: Config, clock: Clock): Promise<AuditOffice> {
  if (config.databaseUrl) {
    const pg = await openPostgres(config.databaseUrl, { max: 2, applicationName: 'doelpoort-cli' });
    const audit = pgAuditLog(pg.pool, config, clock, loadConfiguredAuditKeys(config));
    const records = new PgRecordStore(pg.pool, { maxParsed: 0 });
    return {
      verify: (external) => audit.verify({ external }),
      checkpoint: () => audit.checkpoint(),
      checkpointJwk: audit.checkpointJwk,
      logboek: (sources, range, missing) => exportLogboekPg(pg.pool, { ...sources, subjectOf: subjects(records, (b) => audit.pseudonym(b), missing) }, range),
      prune: (options) => pruneAuditPg(pg.pool, audit, options),
      close: () => pg.close(),
    };
  }
  const db = openExistingDatabase(config, 'audit');
  const audit = auditLog(db, config, clock, loadConfiguredAuditKeys(config));
  // The records file may be absent (a state database copied for an audit): then no line names a data subject.
  const recordsDb = fs.existsSync(recordsFile(config)) ? openRecordsDatabase(recordsFile(config)) : undefined;
  const records = recordsDb && new RecordStore(recordsDb);
  return {
    verify: (external) => audit.verifyParallel({ external }),
    checkpoint: async () => audit.checkpoint(),
    checkpointJwk: audit.checkpointJwk,
    logboek: (sources, range, missing) => audit.exportLogboek({ ...sources, subjectOf: subjects(records, (b) => audit.pseudonym(b), missing) }, range),
    prune: async (options) => pruneAudit(audit, options),
    close: async () => {
      recordsDb?.$client.close();
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
  let deps: PgAppDeps;
  try {
    if (config.demo && !(await new PgRecordStore(pg.pool).holdsOnlyDemoRecords())) throw demoRefusesRecords('database', 'another DOELPOORT_DATABASE_URL');
    const demoIdp = config.demo ? demoIdentityProvider({ publicUrl: config.publicUrl, dataDir: config.dataDir }) : undefined;
    deps = await pgGatewayDeps({ pg, config, clock, demoIdp, ...loadConfiguredAuditKeys(config) });
  } catch (error) {
    await pg.close();
    throw error;
  }
  const { pool, audit } = deps;
  return {
    deps,
    database: 'postgres',
    importRecords: (input, options) => importSuiteExportPg(deps.records, input, options),
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
      await deps.policies.close();
      await pg.close();
    },
  };
}

/** The gateway's dependencies on PostgreSQL, with the PostgreSQL stores themselves for the tests and the benchmarks. */
export type PgAppDeps = Omit<AppDeps, 'records' | 'audit' | 'policies'> & {
  pool: Pg['pool'];
  records: PgRecordStore;
  audit: PgAuditLog;
  policies: PgActivePolicy;
};

/**
 * The gateway's dependencies over an open PostgreSQL database (the pool is the caller's to close, after
 * `policies.close()`); `tokens` and `oidc` may be given, else they are built from the configuration.
 */
export async function pgGatewayDeps(
  base: Pick<AppDeps, 'config' | 'clock'> &
    Partial<Pick<AppDeps, 'tokens' | 'oidc' | 'demoIdp'>> & { pg: Pg; pseudonymKey: Buffer; checkpointKey?: CheckpointKey | undefined },
): Promise<PgAppDeps> {
  const { pg, config, clock, pseudonymKey, checkpointKey } = base;
  const { pool } = pg;
  const records = new PgRecordStore(pool);
  const audit = pgAuditLog(pool, config, clock, { pseudonymKey, checkpointKey });
  const versions = new PgPolicyVersions(pool, clock);
  await storeFirstVersion(versions, config);
  const policies = await PgActivePolicy.open(pool, versions);
  const sessions = new PgSessionStore(pool, clock, { idleMinutes: config.sessionIdleMinutes, maxHours: config.sessionMaxHours });
  const uow = new PgUnitOfWork({ pool, audit, stores: pgTxStores({ records, policies: versions, sessions }), statusOf: (code) => codeToStatus[code] });
  const tokens =
    base.tokens ?? createTokenService(config, clock, { replay: new PgReplayStore(pool, 'dpop'), assertionReplay: new PgReplayStore(pool, 'client-assertion') });
  return {
    pool,
    config,
    clock,
    records,
    audit,
    uow,
    tokens,
    limiter: new PgFailureLimiter({ db: pool, limit: config.rateLimit, clock }),
    policies,
    sessions,
    reauthentications: new PgReauthentications(pool, clock),
    sessionNoodtoegang: new PgSessionNoodtoegang(pool, clock),
    noodtoegangCounts: new PgNoodtoegangStore(pool),
    oidc: base.oidc ?? new OidcRelyingParty(webLoginProviders(config), { publicUrl: config.publicUrl, clock }),
    demoIdp: base.demoIdp,
    ping: async () => {
      await pool.query('SELECT 1');
    },
  };
}
