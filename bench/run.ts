/**
 * `npm run bench` (issue 7, "Measure the cost of privacy"): on one generated store, measures the baseline server (B,
 * no security) and the gateway doing the real thing (G: a purpose-bound `overdracht-kp4` read with relationship
 * re-check, policy decision, field filtering and a durable audit line), and the token exchange (T) on its own;
 * closed loop and open loop; prints a table and writes bench/results/latest.{json,md}. With `--db postgres` it also
 * measures G on PostgreSQL (one instance, and with `--instances N` N instances on one database, the connections
 * spread over their ports) on a throwaway database of DOELPOORT_BENCH_PG_URL's (or DOELPOORT_TEST_PG_URL's) server,
 * beside SQLite's G in the same run; without a server it says so and skips those points.
 *
 * Options: --clients N (10000; 100000 is the RSS mode), --duration S (5), --runs R (2), --connections C (50),
 *          --rates 1000,2000, --pool P (200 client/token pairs), --web-rate R (200: W's open-loop rate),
 *          --verify-lines N (0: the audit verify point is skipped; 1000000 is the target's), --points G,T,W,B (all), --keep (keep the temp data dir),
 *          --db sqlite|postgres (sqlite), --instances N (1; the PostgreSQL instances beside the one-instance point),
 *          --pg-prefix P (doelpoort_bench: the throwaway database is P_<random>).
 * Tokens, BSNs and record values are never printed: only counts, statuses, refs-free figures.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { exchangeBody, FORM, mintTokens, type Pair, pickClients, probeClientRoute, probeWebPage } from './fixture.js';
import { measureVerify, type VerifyFigures } from './verify-log.js';
import { webSession } from './web-login.js';
import { closedLoop, openLoop, type LoadResult, type RequestFactory, type RequestSpec } from './load.js';
import {
  allCores,
  builtBin,
  cpuMicros,
  demoLogin,
  freePort,
  generateStore,
  memoryMiB,
  pin,
  pinningAvailable,
  ROOT,
  sharedKeyFiles,
  startPgInstances,
  startServer,
  throwawayPgDatabase,
  type Server,
} from './procs.js';

const { values: opts } = parseArgs({
  options: {
    clients: { type: 'string', default: '10000' },
    duration: { type: 'string', default: '5' },
    runs: { type: 'string', default: '2' },
    connections: { type: 'string', default: '50' },
    rates: { type: 'string', default: '1000,2000' },
    pool: { type: 'string', default: '200' },
    'web-rate': { type: 'string', default: '200' },
    // Filling a million lines takes minutes on a busy machine, so the point is asked for: --verify-lines 1000000.
    'verify-lines': { type: 'string', default: '0' },
    points: { type: 'string', default: 'B,G,T,W' },
    keep: { type: 'boolean', default: false },
    db: { type: 'string', default: 'sqlite' },
    instances: { type: 'string', default: '1' },
    // The throwaway database's name is <prefix>_<random>: a shared server may ask for a prefix of one's own.
    'pg-prefix': { type: 'string', default: 'doelpoort_bench' },
  },
});
const CLIENTS = positiveInt('clients', opts.clients);
const DURATION_MS = positiveInt('duration', opts.duration) * 1000;
const RUNS = positiveInt('runs', opts.runs);
const CONNECTIONS = positiveInt('connections', opts.connections);
const RATES = opts.rates.split(',').map((r) => positiveInt('rates', r));
const POOL = positiveInt('pool', opts.pool);
const WEB_RATE = positiveInt('web-rate', opts['web-rate']);
const VERIFY_LINES = Number(opts['verify-lines']);
if (opts.db !== 'sqlite' && opts.db !== 'postgres') {
  console.error('bench: --db must be sqlite or postgres');
  process.exit(2);
}
/** The PostgreSQL points' instance counts: none on SQLite alone, else one and (with --instances N > 1) N. */
const PG_INSTANCES = opts.db === 'postgres' ? [...new Set([1, positiveInt('instances', opts.instances)])] : [];
/** The server the PostgreSQL points make their throwaway database on (any database URL on it). */
const PG_SERVER = process.env.DOELPOORT_BENCH_PG_URL || process.env.DOELPOORT_TEST_PG_URL || undefined;
/** Which points to measure (a narrower run while working on one); the targets of the others say "not measured". */
const ONLY = new Set(opts.points.toUpperCase().split(','));
const WARMUP_MS = 1000;
/** The RSS mode: a big store, the closed-loop points only, for the peak-memory target. */
const RSS_MODE = CLIENTS >= 100_000;
const SERVER_CORE = '0';
const GENERATOR_CORE = '1';

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`bench: --${name} must be a positive integer`);
    process.exit(2);
  }
  return n;
}

const say = (line: string) => console.error(line);

// ---------------------------------------------------------------------------------------------------------------
// Points and their figures

type ServerKind = 'baseline' | 'gateway';
interface PointSpec {
  id: string;
  label: string;
  server: ServerKind;
  what: 'client-read' | 'token-exchange' | 'web-page';
  mode: 'closed' | 'open';
  rate: number | null;
  /** Server pinned to one core (generator on another), or free to use the whole machine. */
  pinned: boolean;
  /** The gateway's database, and on PostgreSQL how many instances share it (connections spread over their ports). */
  db: 'sqlite' | 'postgres';
  instances: number;
}

interface RunFigures {
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  completed: number;
  unexpectedStatus: number;
  errors: number;
  statuses: Record<string, number>;
  /** Server CPU time per completed request, µs (user + system, all threads). */
  serverCpuUsPerReq: number | null;
  /** Server CPU use during the run, in cores (1.0 = one core busy all the time). */
  serverCores: number | null;
  /** The generator's own CPU use, in cores: near 1.0 on a pinned generator means it, not the server, was the limit. */
  generatorCores: number;
}

interface PointResult extends PointSpec {
  status: 'ok' | 'failed' | 'unavailable';
  reason?: string;
  runs: RunFigures[];
  /** Median over runs of each figure. */
  median?: Omit<RunFigures, 'statuses'>;
  /** Relative spread of req/s over runs: (max − min) / median. */
  rpsSpread?: number;
  p99Range?: [number, number];
}

const letter = (p: Pick<PointSpec, 'server' | 'what'>) =>
  p.server === 'baseline' ? 'B' : p.what === 'token-exchange' ? 'T' : p.what === 'web-page' ? 'W' : 'G';
const NAMES = { B: 'B baseline', G: 'G gateway', T: 'T token exchange', W: 'W handover page (web session)' } as const;

function pointsFor(pinning: boolean): PointSpec[] {
  const label = (p: Omit<PointSpec, 'id' | 'label'>) =>
    `${NAMES[letter(p)]}${p.db === 'postgres' ? ` on PostgreSQL, ${p.instances} instance${p.instances > 1 ? 's' : ''}` : ''}, ` +
    `${p.mode === 'closed' ? `closed ${CONNECTIONS} conn` : `open ${p.rate}/s`}${p.pinned ? '' : ', whole machine'}`;
  const make = (q: Omit<PointSpec, 'id' | 'label' | 'db' | 'instances'> & Partial<Pick<PointSpec, 'db' | 'instances'>>): PointSpec => {
    const p = { db: 'sqlite' as const, instances: 1, ...q };
    const where = p.db === 'postgres' ? `-pg${p.instances}` : p.pinned ? '' : '-unpinned';
    return { ...p, id: `${letter(p)}-${p.mode}-${p.mode === 'closed' ? CONNECTIONS : p.rate}${where}`, label: label(p) };
  };
  const pts: PointSpec[] = [
    make({ server: 'baseline', what: 'client-read', mode: 'closed', rate: null, pinned: pinning }),
    make({ server: 'gateway', what: 'client-read', mode: 'closed', rate: null, pinned: pinning }),
  ];
  if (RSS_MODE) return pts;
  pts.push(make({ server: 'gateway', what: 'token-exchange', mode: 'closed', rate: null, pinned: pinning }));
  for (const rate of RATES) {
    pts.push(make({ server: 'baseline', what: 'client-read', mode: 'open', rate, pinned: pinning }));
    pts.push(make({ server: 'gateway', what: 'client-read', mode: 'open', rate, pinned: pinning }));
  }
  if (pinning) pts.push(make({ server: 'gateway', what: 'client-read', mode: 'closed', rate: null, pinned: false }));
  pts.push(make({ server: 'gateway', what: 'web-page', mode: 'closed', rate: null, pinned: pinning }));
  pts.push(make({ server: 'gateway', what: 'web-page', mode: 'open', rate: WEB_RATE, pinned: pinning }));
  // PostgreSQL: the instances (and the database server) use the whole machine; compare with SQLite's whole-machine G.
  for (const instances of PG_INSTANCES)
    pts.push(make({ server: 'gateway', what: 'client-read', mode: 'closed', rate: null, pinned: false, db: 'postgres', instances }));
  return pts.filter((p) => ONLY.has(letter(p)));
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const medianOrNull = (xs: Array<number | null>) => (xs.every((x) => x !== null) ? median(xs as number[]) : null);

function summarise(point: PointResult): void {
  const r = point.runs;
  if (r.length === 0) return;
  point.median = {
    rps: median(r.map((x) => x.rps)),
    p50: median(r.map((x) => x.p50)),
    p90: median(r.map((x) => x.p90)),
    p99: median(r.map((x) => x.p99)),
    p999: median(r.map((x) => x.p999)),
    max: Math.max(...r.map((x) => x.max)),
    completed: median(r.map((x) => x.completed)),
    unexpectedStatus: r.reduce((n, x) => n + x.unexpectedStatus, 0),
    errors: r.reduce((n, x) => n + x.errors, 0),
    serverCpuUsPerReq: medianOrNull(r.map((x) => x.serverCpuUsPerReq)),
    serverCores: medianOrNull(r.map((x) => x.serverCores)),
    generatorCores: median(r.map((x) => x.generatorCores)),
  };
  const rps = r.map((x) => x.rps);
  if (r.length > 1) point.rpsSpread = (Math.max(...rps) - Math.min(...rps)) / point.median.rps;
  point.p99Range = [Math.min(...r.map((x) => x.p99)), Math.max(...r.map((x) => x.p99))];
  const bad = r.filter((x) => x.unexpectedStatus > 0 || x.errors > 0);
  if (bad.length > 0) {
    point.status = 'failed';
    const statuses: Record<string, number> = {};
    for (const x of r) for (const [k, v] of Object.entries(x.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
    point.reason = `responses other than 200: ${JSON.stringify(statuses)}, ${point.median.errors} without a response`;
  } else {
    point.status = 'ok';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Measuring

/** CPU time of all the servers together (µs), or null when one cannot be read. */
function serversCpu(servers: Server[]): number | null {
  const each = servers.map((s) => cpuMicros(s.pid));
  return each.every((x) => x !== null) ? (each as number[]).reduce((a, b) => a + b, 0) : null;
}

/** One run of a point against `servers` (several: the connections spread over their ports). */
async function measure(spec: PointSpec, servers: Server[], request: RequestFactory): Promise<RunFigures> {
  let cpu0: number | null = null;
  let gen0 = process.cpuUsage();
  const onStart = () => {
    cpu0 = serversCpu(servers);
    gen0 = process.cpuUsage();
  };
  const origin = servers.map((s) => s.origin);
  const common = { origin, request, connections: CONNECTIONS, warmupMs: WARMUP_MS, durationMs: DURATION_MS, onStart };
  const result: LoadResult = spec.mode === 'closed' ? await closedLoop(common) : await openLoop({ ...common, rate: spec.rate! });
  const cpu1 = serversCpu(servers);
  const gen = process.cpuUsage(gen0);
  const elapsedUs = result.elapsedMs * 1000;
  const serverUs = cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null;
  return {
    rps: result.rps,
    p50: result.latencyMs.p50,
    p90: result.latencyMs.p90,
    p99: result.latencyMs.p99,
    p999: result.latencyMs.p999,
    max: result.latencyMs.max,
    completed: result.completed,
    unexpectedStatus: result.unexpectedStatus,
    errors: result.errors,
    statuses: result.statuses,
    serverCpuUsPerReq: serverUs !== null && result.completed > 0 ? serverUs / result.completed : null,
    serverCores: serverUs !== null ? serverUs / elapsedUs : null,
    generatorCores: (gen.user + gen.system) / elapsedUs,
  };
}

/** GET /v1/clients/{ref} with each pair's own token, round robin. */
const clientReads =
  (pairs: Pair[]): RequestFactory =>
  (i) => {
    const pair = pairs[i % pairs.length]!;
    return { path: `/v1/clients/${pair.clientRef}`, headers: { authorization: `Bearer ${pair.token}` } };
  };

/**
 * The PostgreSQL points: a throwaway database on PG_SERVER, the key files every instance shares (`keys init`), the
 * SQLite store's generated records imported into it by `doelpoort import` (same seed and day, so the same client
 * picks hold), and per point its instances (startPgInstances, sharing the data dir and so the demo IdP the logins
 * come from), tokens minted on the first and read back on each, then RUNS runs with the connections spread over
 * their ports. A point's instances stop before the next point's start; the database is dropped at the end.
 */
async function measurePostgres(
  points: PointResult[],
  ctx: { dataDir: string; env: NodeJS.ProcessEnv; pairs: Pair[]; logins: Map<string, string>; server: string },
): Promise<void> {
  const database = await throwawayPgDatabase(PG_SERVER!, opts['pg-prefix']);
  try {
    const keys = sharedKeyFiles(path.join(ctx.dataDir, 'pg-keys'), ctx.env);
    say(`bench: PostgreSQL: importing the same ${CLIENTS.toLocaleString('en-US')} clients into a throwaway database…`);
    await generateStore(ctx.dataDir, CLIENTS, 1, { ...ctx.env, ...keys, DOELPOORT_DATABASE_URL: database.url });
    for (const p of points) {
      let instances: Awaited<ReturnType<typeof startPgInstances>> | undefined;
      try {
        instances = await startPgInstances({ databaseUrl: database.url, count: p.instances, dataDir: ctx.dataDir, keys, env: ctx.env, bin: ctx.server });
        const pairs: Pair[] = ctx.pairs.map(({ clientRef, org }) => ({ clientRef, org }));
        const problem =
          (await mintTokens(instances.servers[0]!, pairs, ctx.logins)) ??
          (await Promise.all(instances.servers.map((s) => probeClientRoute(s, pairs)))).find((x) => x !== null) ??
          null;
        if (problem) {
          Object.assign(p, { status: 'unavailable', reason: problem });
          continue;
        }
        for (let run = 1; run <= RUNS; run++) {
          say(`bench: run ${run}/${RUNS}: ${p.label}…`);
          const figures = await measure(p, instances.servers, clientReads(pairs));
          p.runs.push(figures);
          say(
            `        ${fmtInt(figures.rps)} req/s, p50 ${fmt(figures.p50)} ms, p99 ${fmt(figures.p99)} ms, p99.9 ${fmt(figures.p999)} ms, ` +
              `instances' cores ${fmt(figures.serverCores)}` +
              (figures.unexpectedStatus + figures.errors > 0 ? `, ${figures.unexpectedStatus} not 200, ${figures.errors} without a response` : ''),
          );
        }
      } catch (error) {
        Object.assign(p, {
          status: 'unavailable',
          reason: `the instances did not run: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
        });
      } finally {
        await instances?.stop();
      }
    }
  } finally {
    await database.drop();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Report

interface Target {
  name: string;
  target: string;
  value: number | null;
  shown: string;
  met: boolean | null;
  note?: string;
}

const fmt = (n: number | null | undefined, digits = 2) => (n === null || n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits));
const fmtInt = (n: number | null | undefined) => (n === null || n === undefined || Number.isNaN(n) ? '–' : Math.round(n).toLocaleString('en-US'));

function targets(points: PointResult[], rss: Record<string, { peak: number; current: number } | null>, verify: VerifyFigures | null): Target[] {
  const ok = (id: string) => {
    const p = points.find((x) => x.id === id);
    return p?.status === 'ok' ? p.median! : null;
  };
  const closed = `closed-${CONNECTIONS}`;
  const b = ok(`B-${closed}`);
  const g = ok(`G-${closed}`);
  const ratio = b && g ? g.rps / b.rps : null;
  const cpu = g?.serverCpuUsPerReq ?? null;
  // Issue 15's table: the same figures, the same order.
  const list: Target[] = [
    {
      name: 'G server CPU per request (all threads)',
      target: '≤ 120 µs (aim 90)',
      value: cpu,
      shown: cpu === null ? '–' : `${fmt(cpu, 0)} µs`,
      met: cpu === null ? null : cpu <= 120,
      ...(cpu !== null && b?.serverCpuUsPerReq ? { note: `B: ${fmt(b.serverCpuUsPerReq, 0)} µs` } : {}),
    },
    {
      name: 'G/B, closed loop, server on one core, durable audit',
      target: '≥ 0.30 (aim 0.45)',
      value: ratio,
      shown: fmt(ratio),
      met: ratio === null ? null : ratio >= 0.3,
      ...(ratio !== null && ratio >= 0.3 && ratio < 0.45 ? { note: 'below the 0.45 aim' } : {}),
    },
  ];
  if (!RSS_MODE) {
    const whole = ok(`G-${closed}-unpinned`) ?? (pinningAvailable().ok ? null : g);
    list.push({
      name: 'G req/s, whole machine (server unpinned)',
      target: '≥ 6,000',
      value: whole?.rps ?? null,
      shown: fmtInt(whole?.rps),
      met: whole ? whole.rps >= 6000 : null,
    });
    const limits: Record<number, number> = { 1000: 5, 2000: 10 };
    for (const rate of RATES) {
      const limit = limits[rate];
      if (limit === undefined) continue;
      const p = ok(`G-open-${rate}`);
      const floor = ok(`B-open-${rate}`);
      list.push({
        name: `G p99 at ${rate.toLocaleString('en-US')} req/s offered`,
        target: `≤ ${limit} ms`,
        value: p?.p99 ?? null,
        shown: p ? `${fmt(p.p99)} ms` : '–',
        met: p ? p.p99 <= limit : null,
        // The baseline at the same offered rate: what this machine's scheduling and the generator add to any server.
        note: `B p99 at the same rate: ${floor ? `${fmt(floor.p99)} ms` : 'not measured'} (the noise floor)`,
      });
    }
    const t = ok(`T-${closed}`);
    list.push({ name: 'token exchange req/s', target: '≥ 3,000', value: t?.rps ?? null, shown: fmtInt(t?.rps), met: t ? t.rps >= 3000 : null });
    list.push({
      name: `audit verify, ${VERIFY_LINES > 0 ? VERIFY_LINES.toLocaleString('en-US') : '1,000,000'} lines (audit verify from the build, wall time)`,
      target: '≤ 3 s at 1,000,000 lines',
      value: verify?.verifySeconds ?? null,
      shown: verify ? `${fmt(verify.verifySeconds)} s (${fmt(verify.sourceSeconds)} s through tsx)${verify.ok ? '' : ' (**did not say ok**)'}` : '–',
      met: verify && verify.lines >= 1_000_000 ? verify.ok && verify.verifySeconds <= 3 : null,
      ...(verify
        ? verify.lines < 1_000_000
          ? { note: `only ${verify.lines.toLocaleString('en-US')} lines` }
          : {}
        : { note: 'skipped: npm run bench -- --verify-lines 1000000, or npx tsx bench/verify-log.ts --lines 1000000' }),
    });
    const w = ok(`W-open-${WEB_RATE}`);
    const wClosed = ok(`W-${closed}`);
    list.push({
      name: `W handover page p99 at ${WEB_RATE} req/s offered`,
      target: '≤ 20 ms at 200 req/s',
      value: w?.p99 ?? null,
      shown: w ? `${fmt(w.p99)} ms` : '–',
      met: w && WEB_RATE >= 200 ? w.p99 <= 20 : null,
      ...(wClosed ? { note: `closed loop: ${fmtInt(wClosed.rps)} req/s, ${fmt(wClosed.serverCpuUsPerReq, 0)} µs CPU per page` } : {}),
    });
  }
  const peak = rss.gateway?.peak ?? null;
  list.push({
    name: `gateway peak RSS serving ${CLIENTS.toLocaleString('en-US')} clients`,
    target: '≤ 250 MiB at 100,000 clients',
    value: peak,
    shown: peak === null ? '–' : `${fmt(peak, 0)} MiB`,
    // Only a gateway that served the G points has a peak worth comparing; an idle one proves nothing.
    met: RSS_MODE && peak !== null && g ? peak <= 250 : null,
    ...(!RSS_MODE
      ? { note: 'the target is for 100,000 clients: npm run bench -- --clients 100000' }
      : g
        ? {}
        : { note: 'the gateway served no client reads, so its peak is not the one the target is about' }),
  });
  return list;
}

function markdown(report: Report): string {
  const out: string[] = [];
  out.push(`# doelpoort benchmark: the cost of privacy`, '');
  out.push(
    `${report.startedAt}: ${report.clients.toLocaleString('en-US')} clients (seed 1), ${report.runs} runs × ${report.durationS} s per point, ` +
      `${report.machine.cpus} × ${report.machine.cpuModel}, Node ${report.machine.node}, ` +
      `load average ${fmt(report.machine.loadAvgBefore[0])} before and ${fmt(report.machine.loadAvgAfter[0])} after. ` +
      (report.pinning.ok
        ? `Server pinned to core ${SERVER_CORE}, load generator to core ${GENERATOR_CORE}, except where marked "whole machine".`
        : `Not pinned (${report.pinning.why}).`),
    '',
  );
  const busiest = Math.max(report.machine.loadAvgBefore[0] ?? 0, report.machine.loadAvgAfter[0] ?? 0);
  if (busiest > report.machine.cpus / 2) {
    out.push(
      `**Warning: the machine was busy with other work (load average up to ${fmt(busiest)} on ${report.machine.cpus} cores); ` +
        'the servers were starved of CPU (see "server cores" below 1.0 in the closed-loop points), so these figures understate them. ' +
        'Measure on an otherwise idle machine.**',
      '',
    );
  }
  out.push('Figures are medians over the runs; latency in ms (open loop: from the intended send time); spread = (max − min) / median of req/s.', '');
  out.push('| point | status | req/s | spread | p50 | p99 | p99.9 | max | server CPU µs/req | server cores | generator cores |');
  out.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const p of report.points) {
    const m = p.median;
    out.push(
      `| ${p.label} | ${p.status === 'ok' ? 'ok' : `**${p.status}**`} | ${fmtInt(m?.rps)} | ${p.rpsSpread === undefined ? '–' : `${fmt(p.rpsSpread * 100, 1)}%`} | ` +
        `${fmt(m?.p50)} | ${fmt(m?.p99)} | ${fmt(m?.p999)} | ${fmt(m?.max)} | ${fmt(m?.serverCpuUsPerReq, 0)} | ${fmt(m?.serverCores)} | ${fmt(m?.generatorCores)} |`,
    );
  }
  out.push('', '| target | wanted | measured | met |', '|---|---|---:|---|');
  for (const t of report.targets) {
    out.push(`| ${t.name} | ${t.target} | ${t.shown} | ${t.met === null ? 'not measured' : t.met ? 'yes' : '**no**'}${t.note ? ` (${t.note})` : ''} |`);
  }
  const pg = report.points.filter((p) => p.db === 'postgres');
  if (pg.length > 0) {
    const sqliteG =
      report.points.find((p) => p.id === `G-closed-${report.connections}-unpinned`) ?? report.points.find((p) => p.id === `G-closed-${report.connections}`);
    const shown = (p: PointResult | undefined) =>
      p?.median ? `${fmtInt(p.median.rps)} req/s, p99 ${fmt(p.median.p99)} ms` : `not measured${p?.reason ? ` (${p.reason})` : ''}`;
    out.push(
      '',
      `**G on PostgreSQL beside SQLite** (closed ${report.connections} conn, whole machine; the database server on the same two cores, its CPU not in "server cores"):`,
      '',
    );
    out.push(`- SQLite, 1 instance: ${shown(sqliteG)}`);
    for (const p of pg) out.push(`- PostgreSQL, ${p.instances} instance${p.instances > 1 ? 's' : ''}: ${shown(p)}`);
  }
  out.push('', `Peak RSS (VmHWM): baseline ${fmt(report.rssMiB.baseline?.peak, 0)} MiB, gateway ${fmt(report.rssMiB.gateway?.peak, 0)} MiB.`);
  const notes = report.points.filter((p) => p.status !== 'ok');
  if (notes.length > 0) {
    out.push('', '**Not measured or failed:**', '');
    for (const p of notes) out.push(`- ${p.label}: ${p.status}: ${p.reason ?? ''}`);
  }
  const bound = report.points.filter((p) => p.median && p.mode === 'closed' && p.median.generatorCores > 0.9);
  if (bound.length > 0) {
    out.push(
      '',
      `Note: the load generator was near one full core in ${bound.map((p) => p.id).join(', ')}; those req/s may be the generator's limit, not the server's.`,
    );
  }
  return `${out.join('\n')}\n`;
}

interface Report {
  startedAt: string;
  finishedAt: string;
  clients: number;
  runs: number;
  durationS: number;
  connections: number;
  rates: number[];
  tokenPool: number;
  machine: { cpus: number; cpuModel: string; memGiB: number; node: string; kernel: string; loadAvgBefore: number[]; loadAvgAfter: number[] };
  pinning: { ok: boolean; why: string; server: string | null; generator: string | null };
  points: PointResult[];
  targets: Target[];
  rssMiB: Record<string, { peak: number; current: number } | null>;
  verify: VerifyFigures | null;
  unavailable: string[];
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const startedAt = new Date().toISOString();
  const t0 = Date.now();
  const pinning = pinningAvailable();
  // Other work on the machine skews every figure; the load average before and after is kept with them.
  const loadAvgBefore = os.loadavg();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'doelpoort-bench-'));
  const dbFile = path.join(dataDir, 'records.db'); // the Suite copy, which the baseline and the client picks read
  const servers: Server[] = [];
  try {
    say('bench: building the server as npm start runs it (scripts/build.mjs)…');
    const server = builtBin();
    say(`bench: generating and importing ${CLIENTS.toLocaleString('en-US')} clients (seed 1)…`);
    await generateStore(dataDir, CLIENTS, 1);

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DOELPOORT_DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      DOELPOORT_DEMO: '1',
      DOELPOORT_TOKEN_TTL: '900',
      DOELPOORT_RATE_LIMIT: '1000000',
    };
    // Every request comes from loopback, and the expected refusals would otherwise soon be answered 429.
    delete env.DOELPOORT_IDPS_FILE;
    const serverCores = pinning.ok ? SERVER_CORE : null;
    const basePort = await freePort();
    const baseline = await startServer({
      name: 'baseline',
      args: ['--import', 'tsx', path.join(ROOT, 'bench', 'baseline.ts'), dbFile, String(basePort)],
      env,
      port: basePort,
      cores: serverCores,
      readyPath: '/',
    });
    servers.push(baseline);
    const gatewayPort = await freePort();
    const gateway = await startServer({
      name: 'gateway',
      args: [server, 'serve'],
      env: { ...env, PORT: String(gatewayPort) },
      port: gatewayPort,
      cores: serverCores,
      readyPath: '/health',
    });
    servers.push(gateway);

    const pairs = pickClients(dbFile, POOL);
    say(`bench: ${pairs.length} clients with a KP3→KP4 handover requested to their municipality (${new Set(pairs.map((p) => p.org)).size} municipalities)`);
    if (pairs.length === 0) throw new Error('no client with a KP3→KP4 handover aangevraagd in the generated store');
    const logins = new Map<string, string>();
    for (const org of new Set(pairs.map((p) => p.org))) logins.set(org, demoLogin(dataDir, 'participatiecoach', org, env));

    const unavailable: string[] = [];
    const exchangeProblem = await mintTokens(gateway, pairs, logins);
    if (exchangeProblem) unavailable.push(exchangeProblem);
    const readProblem = await probeClientRoute(gateway, pairs);
    if (readProblem) unavailable.push(readProblem);
    const haveTokens = !exchangeProblem;
    const canRead = haveTokens && !readProblem;
    say(
      haveTokens
        ? `bench: minted ${pairs.length} purpose-bound tokens (overdracht-kp4)${canRead ? '' : '; reading with them does not work yet'}`
        : 'bench: no purpose-bound tokens could be minted; the gateway points cannot be measured',
    );

    // The same request bytes for B and G when tokens exist: B ignores the header but pays for parsing it.
    const clientRead: RequestFactory = (i) => {
      const pair = pairs[i % pairs.length]!;
      const spec: RequestSpec = { path: `/v1/clients/${pair.clientRef}` };
      if (pair.token) spec.headers = { authorization: `Bearer ${pair.token}` };
      return spec;
    };
    const exchangeBodies = pairs.map((p) => exchangeBody(logins.get(p.org)!, p.clientRef));
    const tokenExchange: RequestFactory = (i) => ({ method: 'POST', path: '/oauth/token', headers: FORM, body: exchangeBodies[i % exchangeBodies.length]! });

    // W: one web session per municipality, logged in through the demo OpenID provider as a browser would; each
    // request is the handover page of one of the same clients, by the participatiecoach of its municipality.
    const sessions = new Map<string, string>();
    let webProblem: string | null = null;
    if (ONLY.has('W') && !RSS_MODE) {
      try {
        for (const org of new Set(pairs.map((p) => p.org)))
          sessions.set(org, await webSession(gateway.origin, org, `demo-participatiecoach-${org.toLowerCase()}`));
        webProblem = await probeWebPage(gateway, pairs, sessions);
      } catch (error) {
        webProblem = `the web login failed: ${error instanceof Error ? error.message : String(error)}`;
      }
      if (webProblem) unavailable.push(webProblem);
      else say(`bench: ${sessions.size} web sessions (participatiecoach), one per municipality`);
    }
    const webPage: RequestFactory = (i) => {
      const pair = pairs[i % pairs.length]!;
      return { path: `/overdrachten/${pair.clientRef}`, headers: { cookie: sessions.get(pair.org)! } };
    };

    if (pinning.ok && !pin(process.pid, GENERATOR_CORE)) say('bench: could not pin the load generator; continuing unpinned');
    const specs = pointsFor(pinning.ok);
    const results: PointResult[] = specs.map((s) => ({ ...s, status: 'ok', runs: [] }));
    for (const p of results) {
      if (p.server !== 'gateway') continue;
      if (p.what === 'token-exchange' && exchangeProblem) Object.assign(p, { status: 'unavailable', reason: exchangeProblem });
      if (p.what === 'client-read' && !canRead) Object.assign(p, { status: 'unavailable', reason: readProblem ?? exchangeProblem });
      if (p.what === 'web-page' && webProblem) Object.assign(p, { status: 'unavailable', reason: webProblem });
    }

    for (let run = 1; run <= RUNS; run++) {
      for (const p of results) {
        if (p.status === 'unavailable' || p.db === 'postgres') continue;
        const server = p.server === 'baseline' ? baseline : gateway;
        if (pinning.ok) pin(server.pid, p.pinned ? SERVER_CORE : allCores());
        say(`bench: run ${run}/${RUNS}: ${p.label}…`);
        const figures = await measure(p, [server], p.what === 'token-exchange' ? tokenExchange : p.what === 'web-page' ? webPage : clientRead);
        p.runs.push(figures);
        say(
          `        ${fmtInt(figures.rps)} req/s, p50 ${fmt(figures.p50)} ms, p99 ${fmt(figures.p99)} ms, p99.9 ${fmt(figures.p999)} ms` +
            (figures.unexpectedStatus + figures.errors > 0 ? `, ${figures.unexpectedStatus} not 200, ${figures.errors} without a response` : ''),
        );
      }
    }
    // PostgreSQL last, with the SQLite servers idle: a database of its own, the same generated records.
    const pgPoints = results.filter((p) => p.db === 'postgres' && p.status !== 'unavailable');
    if (pgPoints.length > 0) {
      if (!PG_SERVER) {
        const why = 'no PostgreSQL server: set DOELPOORT_BENCH_PG_URL (or DOELPOORT_TEST_PG_URL) to measure it';
        say(`bench: ${why}; the PostgreSQL points are skipped`);
        for (const p of pgPoints) Object.assign(p, { status: 'unavailable', reason: why });
      } else {
        await measurePostgres(pgPoints, { dataDir, env, pairs, logins, server });
      }
    }
    for (const p of results) if (p.status !== 'unavailable') summarise(p);

    const rssMiB = { baseline: memoryMiB(baseline.pid), gateway: memoryMiB(gateway.pid) };
    // The verify point last, with the servers idle: a log of its own, verified as an operator would (verify-log.ts).
    let verify: VerifyFigures | null = null;
    if (VERIFY_LINES > 0 && !RSS_MODE) {
      if (pinning.ok) pin(process.pid, allCores());
      say(`bench: audit verify on ${VERIFY_LINES.toLocaleString('en-US')} generated lines…`);
      verify = measureVerify(VERIFY_LINES, server, env);
      say(
        `        filled in ${fmt(verify.fillSeconds)} s, verified in ${fmt(verify.verifySeconds)} s from the build, ${fmt(verify.sourceSeconds)} s through tsx${verify.ok ? '' : ' (NOT ok)'}`,
      );
    }
    const os_ = os.cpus();
    const report: Report = {
      startedAt,
      finishedAt: new Date().toISOString(),
      clients: CLIENTS,
      runs: RUNS,
      durationS: DURATION_MS / 1000,
      connections: CONNECTIONS,
      rates: RATES,
      tokenPool: pairs.length,
      machine: {
        cpus: os_.length,
        cpuModel: os_[0]?.model.trim() ?? 'unknown',
        memGiB: Math.round(os.totalmem() / 2 ** 30),
        node: process.versions.node,
        kernel: os.release(),
        loadAvgBefore,
        loadAvgAfter: os.loadavg(),
      },
      pinning: { ...pinning, server: pinning.ok ? SERVER_CORE : null, generator: pinning.ok ? GENERATOR_CORE : null },
      points: results,
      targets: [],
      rssMiB,
      verify,
      unavailable,
    };
    report.targets = targets(results, rssMiB, report.verify);

    const md = markdown(report);
    const dir = path.join(ROOT, 'bench', 'results');
    const base = RSS_MODE || CLIENTS !== 10_000 ? `latest-${CLIENTS}` : 'latest';
    fs.mkdirSync(dir, { recursive: true });
    writeAtomically(path.join(dir, `${base}.json`), `${JSON.stringify(report, null, 2)}\n`);
    writeAtomically(path.join(dir, `${base}.md`), md);
    console.log(md);
    say(`bench: wrote bench/results/${base}.json and .md in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    if (unavailable.length > 0) {
      say('bench: NOTE: the gateway points were not all measured; only the figures marked ok are real:');
      for (const u of unavailable) say(`bench:   ${u}`);
    }
    // A point whose responses were not all 200 is a failed run, not a fast one.
    return results.some((p) => p.status === 'failed') ? 1 : 0;
  } finally {
    for (const s of servers.reverse()) await s.stop();
    if (opts.keep) say(`bench: data dir kept at ${dataDir}`);
    else fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

function writeAtomically(file: string, content: string): void {
  fs.writeFileSync(`${file}.tmp`, content);
  fs.renameSync(`${file}.tmp`, file);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
