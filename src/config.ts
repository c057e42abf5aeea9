import path from 'node:path';
import { z } from 'zod';
import { DoelpoortError } from './errors.js';

/** The longest lifetime DOELPOORT_TOKEN_TTL may give an issued access token, in seconds. */
export const MAX_TOKEN_TTL_SECONDS = 900;

/** Werkzaak Rivierenland's register of processing activities (AVG art. 30), where `WZR-VA-011` and the others live. */
const DEFAULT_REGISTER_URL = 'https://register.werkzaakrivierenland.nl/verwerkingsactiviteiten/';

const flag = z.enum(['0', '1']).transform((v) => v === '1');

/** A PostgreSQL connection URL; its messages never repeat the value, which may hold a password. */
const databaseUrl = z.string().refine((v) => {
  try {
    const u = new URL(v);
    return (u.protocol === 'postgres:' || u.protocol === 'postgresql:') && u.hostname !== '';
  } catch {
    return false;
  }
}, 'must be a postgres:// or postgresql:// URL with a host');
const port = z.coerce.number().int().min(0).max(65535);

/** The environment doelpoort reads, as documented in the README and api.md. */
const envSchema = z.object({
  PORT: port.default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  DOELPOORT_DATA_DIR: z.string().min(1).default('./data'),
  DOELPOORT_POLICIES_DIR: z.string().min(1).default('./policies'),
  DOELPOORT_IDPS_FILE: z.string().min(1).optional(),
  /** The applications that may call /oauth/token (RFC 7523 private_key_jwt); required outside demo mode. */
  DOELPOORT_CLIENTS_FILE: z.string().min(1).optional(),
  /** Demo mode is never a default: `1` (or `serve --demo`) asks for it, and it excludes an IdPs file. */
  DOELPOORT_DEMO: flag.default(false),
  DOELPOORT_TOKEN_TTL: z.coerce.number().int().min(1).max(MAX_TOKEN_TTL_SECONDS, `must be at most ${MAX_TOKEN_TTL_SECONDS} seconds`).default(300),
  DOELPOORT_REQUIRE_DPOP: flag.default(false),
  /** Emergency accesses (break-glass) one person may be granted in any 7 days; 0 turns emergency access off. */
  DOELPOORT_NOODTOEGANG_PER_WEEK: z.coerce.number().int().min(0).max(100).default(3),
  /** Failed token requests and unauthenticated calls a client address may make per minute before 429. */
  DOELPOORT_RATE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(30),
  /** The gateway's own identifier: `iss` of the tokens it issues and the audience it accepts. */
  DOELPOORT_PUBLIC_URL: z.url().optional(),
  /** The mailbox of whoever runs this gateway, published as the API description's contact (ADR /core/doc-openapi-contact). */
  DOELPOORT_CONTACT_EMAIL: z.email().default('beheer@doelpoort.example'),
  DOELPOORT_SIGNING_KEY_FILE: z.string().min(1).optional(),
  /** A keyset file as `keys init` writes it (rotated with `keys rotate`), instead of the data dir's keyset. */
  DOELPOORT_SIGNING_KEYS_FILE: z.string().min(1).optional(),
  /** The BSN pseudonym key (base64url, as `keys init` writes it), instead of the data dir's. */
  DOELPOORT_PSEUDONYM_KEY_FILE: z.string().min(1).optional(),
  /** The checkpoint signing key (a private Ed25519 JWK, as `keys init` writes it), instead of the data dir's. */
  DOELPOORT_CHECKPOINT_KEY_FILE: z.string().min(1).optional(),
  /** All state in PostgreSQL instead of the data dir's SQLite files; then every key comes from a file above. */
  DOELPOORT_DATABASE_URL: databaseUrl.optional(),
  /** Connections each instance keeps to PostgreSQL; the server's max_connections must hold every instance's. */
  DOELPOORT_DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(10),
  DOELPOORT_AUDIT_RETENTION_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .default(5 * 365 + 1),
  DOELPOORT_CHECKPOINT_EVERY: z.coerce.number().int().min(1).default(1000),
  DOELPOORT_CHECKPOINT_MINUTES: z.coerce.number().int().min(1).default(10),
  DOELPOORT_CHECKPOINT_DIR: z.string().min(1).optional(),
  /** The register of processing activities: a processing activity's URI is this base URL plus its id. */
  DOELPOORT_REGISTER_URL: z
    .url({ protocol: /^https?$/ })
    .refine((u) => !/[?#]/.test(u), 'must be a base URL without query or fragment')
    .default(DEFAULT_REGISTER_URL),
  /** A web session ends after this many minutes without a request. */
  DOELPOORT_SESSION_IDLE_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(15),
  /** A web session ends this many hours after its login, however active. */
  DOELPOORT_SESSION_MAX_HOURS: z.coerce.number().int().min(1).max(24).default(8),
});

/** The environment's variables as the configuration the code reads: one name per setting, paths resolved. */
const configSchema = envSchema.transform((e) => ({
  port: e.PORT,
  host: e.HOST,
  dataDir: path.resolve(e.DOELPOORT_DATA_DIR),
  policiesDir: path.resolve(e.DOELPOORT_POLICIES_DIR),
  idpsFile: e.DOELPOORT_IDPS_FILE && path.resolve(e.DOELPOORT_IDPS_FILE),
  /** DOELPOORT_CLIENTS_FILE: the registered clients; demo mode adds the public demo client. */
  clientsFile: e.DOELPOORT_CLIENTS_FILE && path.resolve(e.DOELPOORT_CLIENTS_FILE),
  /** Demo mode (DOELPOORT_DEMO=1): the built-in demo identity provider is trusted. Never with an IdPs file. */
  demo: e.DOELPOORT_DEMO,
  tokenTtlSeconds: e.DOELPOORT_TOKEN_TTL,
  requireDpop: e.DOELPOORT_REQUIRE_DPOP,
  /** DOELPOORT_NOODTOEGANG_PER_WEEK: emergency accesses per person (iss, sub) in a rolling 7 days. */
  noodtoegangPerWeek: e.DOELPOORT_NOODTOEGANG_PER_WEEK,
  /** DOELPOORT_RATE_LIMIT: failed requests per client address and minute. */
  rateLimit: e.DOELPOORT_RATE_LIMIT,
  publicUrl: (e.DOELPOORT_PUBLIC_URL ?? `http://${e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST}:${e.PORT}`).replace(/\/$/, ''),
  contactEmail: e.DOELPOORT_CONTACT_EMAIL,
  signingKeyFile: e.DOELPOORT_SIGNING_KEY_FILE && path.resolve(e.DOELPOORT_SIGNING_KEY_FILE),
  signingKeysFile: e.DOELPOORT_SIGNING_KEYS_FILE && path.resolve(e.DOELPOORT_SIGNING_KEYS_FILE),
  pseudonymKeyFile: e.DOELPOORT_PSEUDONYM_KEY_FILE && path.resolve(e.DOELPOORT_PSEUDONYM_KEY_FILE),
  checkpointKeyFile: e.DOELPOORT_CHECKPOINT_KEY_FILE && path.resolve(e.DOELPOORT_CHECKPOINT_KEY_FILE),
  /** DOELPOORT_DATABASE_URL: a secret (it may hold a password); log it only through `redactedDatabaseUrl`. */
  databaseUrl: e.DOELPOORT_DATABASE_URL,
  databasePoolSize: e.DOELPOORT_DATABASE_POOL_SIZE,
  auditRetentionDays: e.DOELPOORT_AUDIT_RETENTION_DAYS,
  checkpointEvery: e.DOELPOORT_CHECKPOINT_EVERY,
  checkpointMinutes: e.DOELPOORT_CHECKPOINT_MINUTES,
  /** The witness directory every committed checkpoint is copied to (outside the database); unset: none. */
  checkpointDir: e.DOELPOORT_CHECKPOINT_DIR && path.resolve(e.DOELPOORT_CHECKPOINT_DIR),
  /** Always ends with `/`, so that an activity id resolves under it. */
  registerUrl: e.DOELPOORT_REGISTER_URL.endsWith('/') ? e.DOELPOORT_REGISTER_URL : `${e.DOELPOORT_REGISTER_URL}/`,
  sessionIdleMinutes: e.DOELPOORT_SESSION_IDLE_MINUTES,
  sessionMaxHours: e.DOELPOORT_SESSION_MAX_HOURS,
}));

/** doelpoort's configuration, as loadConfig derives it from the environment. */
export type Config = z.output<typeof configSchema>;

/** Parses the environment once; a bad value throws CONFIG_INVALID naming the variable (never its value). */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const known = Object.fromEntries(Object.keys(envSchema.shape).flatMap((k) => (env[k] === undefined || env[k] === '' ? [] : [[k, env[k]]])));
  const parsed = configSchema.safeParse(known);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({ path: String(i.path[0] ?? ''), message: i.message }));
    const first = problems[0]!;
    throw new DoelpoortError('CONFIG_INVALID', `${first.path}: ${first.message}`, problems);
  }
  const config = parsed.data;
  if (config.demo && config.idpsFile) {
    throw new DoelpoortError('CONFIG_INVALID', 'DOELPOORT_DEMO: demo mode cannot be combined with DOELPOORT_IDPS_FILE; set one of them');
  }
  if (config.signingKeyFile && config.signingKeysFile) {
    throw new DoelpoortError('CONFIG_INVALID', 'DOELPOORT_SIGNING_KEYS_FILE: cannot be combined with DOELPOORT_SIGNING_KEY_FILE; set one of them');
  }
  if (config.databaseUrl) requireSharedKeys(config);
  return config;
}

/**
 * Several instances on one database must hold the same keys, so none may be generated in a data dir: each comes from
 * a configured file (`doelpoort keys init` writes them once). Demo mode's own signing keys stay per data dir.
 */
function requireSharedKeys(config: Config): void {
  const missing = [
    config.pseudonymKeyFile ? [] : ['DOELPOORT_PSEUDONYM_KEY_FILE'],
    config.checkpointKeyFile ? [] : ['DOELPOORT_CHECKPOINT_KEY_FILE'],
    config.signingKeyFile || config.signingKeysFile ? [] : ['DOELPOORT_SIGNING_KEYS_FILE'],
  ].flat();
  if (missing.length === 0) return;
  throw new DoelpoortError(
    'CONFIG_INVALID',
    `${missing[0]}: required with DOELPOORT_DATABASE_URL (every instance needs the same keys; \`doelpoort keys init --out <dir>\` writes them once)`,
    missing.map((name) => ({ path: name, message: 'required with DOELPOORT_DATABASE_URL' })),
  );
}

/** The database URL without its password, for a log line or an error. */
export function redactedDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

/** The state database file inside the data dir (audit log, checkpoints, policy versions). */
export function databaseFile(config: Pick<Config, 'dataDir'> & Partial<Pick<Config, 'databaseUrl'>>): string {
  return sqliteFile(config, 'doelpoort.db');
}

/** The records database file inside the data dir (the Suite copy, written only by `import`). */
export function recordsFile(config: Pick<Config, 'dataDir'> & Partial<Pick<Config, 'databaseUrl'>>): string {
  return sqliteFile(config, 'records.db');
}

/**
 * Every command reaches the SQLite files through here, so none writes them while the operator configured PostgreSQL:
 * silently keeping state in a local file instead would lose it at the next instance. The composition root opens
 * PostgreSQL instead wherever a command runs on it; this refuses a path that would not.
 */
function sqliteFile(config: Pick<Config, 'dataDir'> & Partial<Pick<Config, 'databaseUrl'>>, name: string): string {
  if (config.databaseUrl) {
    throw new DoelpoortError('CONFIG_INVALID', `DOELPOORT_DATABASE_URL: set, so ${name} in the data dir is not used; this command does not run on PostgreSQL`);
  }
  return path.join(config.dataDir, name);
}
