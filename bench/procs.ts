/**
 * Child processes for the benchmark and the load test: the CLI, the gateway and the baseline, pinned to cores with
 * `taskset` where the machine allows it, and their CPU time and peak memory read from /proc. Every child is stopped
 * by its own pid; nothing here ever signals a process it did not start.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** The repository root (the worktree the benchmark runs in). */
export const ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
/** The doelpoort command line, run by `node` like an installed bin. */
export const BIN = path.join(ROOT, 'bin', 'doelpoort.js');

/**
 * The doelpoort command line as `npm start` runs the server: the sources built to JavaScript in dist/
 * (scripts/build.mjs), built now so that it is never stale. What the benchmark measures is what production runs.
 */
export function builtBin(): string {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`scripts/build.mjs failed: ${r.stderr.trim()}`);
  return path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
}

/** Whether `taskset` exists and there are at least two cores to pin server and generator apart. */
export function pinningAvailable(): { ok: boolean; why: string } {
  if (process.platform !== 'linux') return { ok: false, why: 'not Linux' };
  if (os.availableParallelism() < 2) return { ok: false, why: 'fewer than two cores' };
  const probe = spawnSync('taskset', ['-p', String(process.pid)], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return { ok: false, why: 'taskset not available' };
  return { ok: true, why: '' };
}

/** All cores, as a taskset list (`0-1`). */
export function allCores(): string {
  return `0-${os.availableParallelism() - 1}`;
}

/** Sets the affinity of every thread of `pid` to `cores` (a taskset list); false when taskset refused. */
export function pin(pid: number, cores: string): boolean {
  const r = spawnSync('taskset', ['-a', '-p', '-c', cores, String(pid)], { encoding: 'utf8' });
  return !r.error && r.status === 0;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The command line to spawn `node args…`, under `taskset -c cores` when cores are given. */
function nodeCommand(args: string[], cores: string | null): [string, string[]] {
  return cores ? ['taskset', ['-c', cores, process.execPath, ...args]] : [process.execPath, args];
}

/** Runs `doelpoort generate --clients N --seed S | doelpoort import - --demo` with the given data dir: synthetic records demo mode accepts. */
export async function generateStore(dataDir: string, clients: number, seed: number, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const childEnv = { ...env, DOELPOORT_DATA_DIR: dataDir };
  const gen = spawn(process.execPath, [BIN, 'generate', '--clients', String(clients), '--seed', String(seed)], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const imp = spawn(process.execPath, [BIN, 'import', '-', '--demo'], { cwd: ROOT, env: childEnv, stdio: ['pipe', 'ignore', 'pipe'] });
  gen.stdout!.pipe(imp.stdin!);
  const errors: string[] = [];
  gen.stderr!.on('data', (b: Buffer) => errors.push(b.toString()));
  imp.stderr!.on('data', (b: Buffer) => errors.push(b.toString()));
  const [g, i] = await Promise.all([exitOf(gen), exitOf(imp)]);
  if (g !== 0 || i !== 0) {
    // The CLI prints line numbers and field names, never values, so its last lines are safe to show.
    throw new Error(`generate | import failed (exit ${g}, ${i}): ${errors.join('').trim().split('\n').slice(-3).join(' / ')}`);
  }
}

/**
 * A demo IdP login token for `role` at `org` (via `doelpoort demo-token`), as `sub` when given (two officers of one
 * organisation need two); the caller must never print it.
 */
export function demoLogin(dataDir: string, role: string, org: string, env: NodeJS.ProcessEnv = process.env, sub?: string): string {
  const r = spawnSync(process.execPath, [BIN, 'demo-token', '--role', role, '--org', org, ...(sub ? ['--sub', sub] : [])], {
    cwd: ROOT,
    env: { ...env, DOELPOORT_DATA_DIR: dataDir },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`demo-token --role ${role} --org ${org} failed with exit ${r.status}`);
  return r.stdout.trim();
}

/** Whether the child has ended: with an exit code, or by a signal (then its exitCode stays null). */
const ended = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (ended(child)) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

/** A server started as a child process. */
export interface Server {
  name: string;
  pid: number;
  origin: string;
  /** The last lines the server wrote (its logs hold codes and ids, never values), for diagnosing a failed start. */
  tail(): string;
  stop(): Promise<void>;
}

const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of started) if (!ended(child) && child.pid) process.kill(child.pid, 'SIGKILL');
});

/** Starts `node args…` (optionally pinned) and resolves once `readyPath` on it answers at all. */
export async function startServer(options: {
  name: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  port: number;
  cores: string | null;
  readyPath: string;
  timeoutMs?: number;
}): Promise<Server> {
  const [cmd, args] = nodeCommand(options.args, options.cores);
  const child = spawn(cmd, args, { cwd: ROOT, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  const lines: string[] = [];
  const keep = (b: Buffer) => {
    lines.push(...b.toString().split('\n').filter(Boolean));
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const origin = `http://127.0.0.1:${options.port}`;
  const server: Server = {
    name: options.name,
    pid: child.pid!,
    origin,
    tail: () => lines.join('\n'),
    stop: async () => {
      if (!ended(child)) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => !ended(child) && child.kill('SIGKILL'), 5000);
        await exitOf(child);
        clearTimeout(timer);
      }
      started.delete(child);
    },
  };
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    if (ended(child)) throw new Error(`${options.name} exited with ${child.exitCode ?? child.signalCode} before it was ready:\n${server.tail()}`);
    try {
      await fetch(origin + options.readyPath, { signal: AbortSignal.timeout(1000) });
      return server;
    } catch {
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`${options.name} did not answer within ${options.timeoutMs ?? 30_000} ms:\n${server.tail()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Several gateway instances on one PostgreSQL database

/** A database of its own on a PostgreSQL server (one bench run), and how to drop it. */
export interface ThrowawayDatabase {
  url: string;
  drop(): Promise<void>;
}

async function onServer(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * Creates an empty database `<prefix>_<random>` on the server of `serverUrl` (any database URL on it); the first
 * instance started on it migrates it. `drop` disconnects whoever is still on it and drops it.
 */
export async function throwawayPgDatabase(serverUrl: string, prefix: string): Promise<ThrowawayDatabase> {
  if (!/^[a-z][a-z0-9_]{0,40}$/.test(prefix)) throw new TypeError('throwawayPgDatabase: prefix must be a short lower-case identifier');
  // An identifier, never a value: checked above, random suffix, quoted.
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await onServer(serverUrl, `CREATE DATABASE "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await onServer(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

/**
 * Writes the key files every instance shares with `doelpoort keys init --out dir` and returns the variables it
 * prints (DOELPOORT_PSEUDONYM_KEY_FILE, DOELPOORT_CHECKPOINT_KEY_FILE, DOELPOORT_SIGNING_KEYS_FILE: paths, no keys).
 */
export function sharedKeyFiles(dir: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const r = spawnSync(process.execPath, [BIN, 'keys', 'init', '--out', dir], { cwd: ROOT, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`keys init --out failed with exit ${r.status}: ${r.stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
  const vars: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^(DOELPOORT_[A-Z_]+_FILE)=(.+)$/.exec(line.trim());
    if (m) vars[m[1]!] = m[2]!;
  }
  if (Object.keys(vars).length !== 3) throw new Error('keys init --out did not name the three key files');
  return vars;
}

/** Gateway instances on one PostgreSQL database, and the environment they were started with. */
export interface PgInstances {
  servers: Server[];
  /** The environment every instance got, but PORT: for the CLI (`demo-token`, `audit verify`) and further instances. */
  env: NodeJS.ProcessEnv;
  /** The public URL all instances share (tokens' issuer and DPoP `htu`), as behind one load balancer. */
  publicUrl: string;
  /** Starts one more instance on the same database with the same environment. */
  start(name: string): Promise<Server>;
  stop(): Promise<void>;
}

/**
 * Starts `count` gateway instances (`doelpoort serve`) on the PostgreSQL database `databaseUrl`, each on a port of
 * its own, with the same key files (written into `keysDir` by `keys init` unless `keys` are given), the same data
 * dir (in demo mode it holds only the demo IdP's key, so `demoLogin` mints logins every instance trusts) and one
 * public URL (the first instance's origin unless `publicUrl` is given). The first starts alone: it migrates the
 * database, stores the policy version 1 and, in demo mode, seeds an empty database; the others then start together.
 */
export async function startPgInstances(options: {
  databaseUrl: string;
  count: number;
  dataDir: string;
  /** Where `keys init` writes the key files, unless `keys` (the variables it printed) are given. */
  keysDir?: string;
  keys?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  cores?: string | null;
  publicUrl?: string;
  /** The command line the instances run (default: the sources through tsx, BIN). */
  bin?: string;
}): Promise<PgInstances> {
  if (options.count < 1) throw new RangeError('startPgInstances: count must be at least 1');
  if (!options.keys && !options.keysDir) throw new TypeError('startPgInstances: keys or keysDir is required');
  const keys = options.keys ?? sharedKeyFiles(options.keysDir!, options.env);
  const ports = await Promise.all(Array.from({ length: options.count }, freePort));
  const publicUrl = options.publicUrl ?? `http://127.0.0.1:${ports[0]}`;
  const env: NodeJS.ProcessEnv = {
    ...(options.env ?? process.env),
    ...keys,
    DOELPOORT_DATABASE_URL: options.databaseUrl,
    DOELPOORT_DATA_DIR: options.dataDir,
    DOELPOORT_PUBLIC_URL: publicUrl,
    HOST: '127.0.0.1',
  };
  delete env.PORT;
  const servers: Server[] = [];
  const startOn = (name: string, port: number) =>
    startServer({
      name,
      args: [options.bin ?? BIN, 'serve'],
      env: { ...env, PORT: String(port) },
      port,
      cores: options.cores ?? null,
      readyPath: '/health',
      timeoutMs: 60_000,
    });
  const instances: PgInstances = {
    servers,
    env,
    publicUrl,
    start: async (name) => {
      const server = await startOn(name, await freePort());
      servers.push(server);
      return server;
    },
    stop: async () => {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
  try {
    servers.push(await startOn('gateway-1', ports[0]!));
    const rest = await Promise.allSettled(ports.slice(1).map((port, i) => startOn(`gateway-${i + 2}`, port)));
    for (const r of rest) if (r.status === 'fulfilled') servers.push(r.value);
    const failed = rest.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (error) {
    await instances.stop();
    throw error;
  }
  return instances;
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(r.stdout?.trim());
    clockTicks = Number.isInteger(n) && n > 0 ? n : 100;
  }
  return clockTicks;
}

/** CPU time (user + system, all threads) the process has used so far, in microseconds; null off Linux. */
export function cpuMicros(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks / ticksPerSecond()) * 1e6;
  } catch {
    return null;
  }
}

/** Peak (VmHWM) and current (VmRSS) resident memory of the process, in MiB; null off Linux. */
export function memoryMiB(pid: number): { peak: number; current: number } | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { peak: kb('VmHWM') / 1024, current: kb('VmRSS') / 1024 };
  } catch {
    return null;
  }
}
