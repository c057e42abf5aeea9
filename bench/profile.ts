/**
 * A CPU profile of the gateway under load, and its per-stage breakdown (issue 15): `npx tsx bench/profile.ts`.
 *
 * Generates a store, starts `doelpoort serve` (demo mode) under `node --cpu-prof`, pinned to core 0 with the load
 * generator on core 1 where taskset allows, mints the same purpose-bound tokens as `npm run bench`, sends closed-loop
 * load at one point (G: `GET /v1/clients/{ref}`; T: the token exchange; W: the handover page in a web session) for `--duration` seconds after a warm-up,
 * stops the server (SIGTERM; Node writes the profile on exit) and prints the self time of the measured window grouped
 * by stage. The `.cpuprofile` is kept (`--out`, default bench/results/profile-<point>.cpuprofile) for a flame graph
 * (Chrome DevTools, speedscope). Tokens and record values are never printed.
 *
 * Options: --point G|T|W (G), --clients N (10000), --duration S (8), --connections C (50), --out FILE, --keep;
 * `--analyse FILE.cpuprofile` prints the breakdown of a profile kept before (its window and figures are in FILE.json).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { exchangeBody, FORM, mintTokens, pickClients, probeClientRoute } from './fixture.js';
import { webSession } from './web-login.js';
import { closedLoop, type RequestFactory } from './load.js';
import { builtBin, cpuMicros, demoLogin, freePort, generateStore, pin, pinningAvailable, ROOT, startServer } from './procs.js';

const { values: opts } = parseArgs({
  options: {
    point: { type: 'string', default: 'G' },
    clients: { type: 'string', default: '10000' },
    duration: { type: 'string', default: '8' },
    connections: { type: 'string', default: '50' },
    out: { type: 'string' },
    analyse: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const POINT = ((point: string) => {
  if (point !== 'G' && point !== 'T' && point !== 'W') throw new TypeError('--point must be G, T or W');
  return point;
})(opts.point.toUpperCase());
const say = (line: string) => console.error(line);

/** One frame of a V8 CPU profile. */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * The stage a frame's source belongs to, or undefined for frames that say nothing by themselves (natives, Node's
 * internals other than the HTTP stack), which take the stage of the nearest caller that does.
 */
function stageOfUrl(frameUrl: string, fn: string): string | undefined {
  // The server runs built (scripts/build.mjs): dist/src/x.js is src/x.ts (or .tsx) of the checkout.
  const url = frameUrl.replace(/\/dist\/src\/(.*)\.js$/, '/src/$1.ts');
  // better-sqlite3's statements are native calls V8 does not sample as frames of their own: their time is the self
  // time of the function that runs them. These two run little else.
  if (url.endsWith('/src/unit-of-work.ts') && fn === '#runBatch') return 'SQLite: savepoints, COMMIT and its fsync';
  if (url.endsWith('/src/audit/log.ts') && fn === '#write') return 'SQLite: audit insert and its indexes';
  if (url.includes('/src/audit/')) return 'audit line: build, canonical JSON, hash, chain';
  if (url.includes('/src/unit-of-work.ts') || url.includes('/src/db.ts')) return 'unit of work (JS)';
  if (url.includes('/src/records/')) return 'record read (store, JSON.parse, freeze)';
  if (url.includes('/jose/') || url.includes('/src/tokens/') || url.endsWith('/src/http/auth.ts')) return 'token verification (auth.ts, jose)';
  if (url.includes('/src/policy/') || url.includes('/@casl/') || url.endsWith('/src/clients/decision.ts') || url.endsWith('/src/purposes.ts'))
    return 'decision (relationship, cached decision)';
  if (url.includes('/hono/dist/') && (fn === 'json' || fn === 'body' || fn === 'html')) return 'serialisation (response body)';
  if (url.includes('/src/clients/') || url.endsWith('/src/http/clients.ts') || url.endsWith('/src/http/validate.ts'))
    return 'route and verb (clients.ts, read.ts, zod)';
  if (url.includes('/zod/')) return 'route and verb (clients.ts, read.ts, zod)';
  if (url.includes('/hono/dist/jsx/') || url.includes('/hono/dist/helper/html/') || url.includes('/hono/dist/utils/html'))
    return 'web page: JSX to HTML (hono/jsx)';
  if (url.includes('/src/web/')) return 'web page: session, route and page (src/web)';
  if (url.includes('/src/http/') || url.includes('/src/trace.ts')) return 'HTTP layer: our middleware';
  if (url.includes('/hono/') || url.includes('/@hono/node-server/')) return 'HTTP layer: hono and its Node adapter';
  if (/^node:(_http_|http|net|internal\/(http|streams|stream_base|net|url)|stream|events)/.test(url) || url.includes('/undici/'))
    return 'HTTP layer: node:http, net, streams';
  return undefined;
}

/** SQLite's own work: better-sqlite3's native methods (no URL), wherever they are called from. */
const SQLITE_NATIVES = new Set(['run', 'get', 'all', 'exec', 'iterate', 'prepare', 'pragma', 'transaction']);

/** Self time (µs) per stage of the samples between `from` and `to` (profile clock, µs); the whole profile if none fall there. */
function breakdown(profile: CpuProfile, window?: { from: number; to: number }): { stages: Map<string, number>; busyUs: number; idleUs: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stageOfNode = new Map<number, string>();
  const stageOf = (id: number): string => {
    const known = stageOfNode.get(id);
    if (known) return known;
    const leaf = byId.get(id)!;
    let stage: string;
    const fn = leaf.callFrame.functionName;
    if (fn === '(garbage collector)') stage = 'garbage collection';
    else if (fn === '(idle)') stage = '(idle)';
    else if (fn === '(program)') stage = 'V8 and the event loop (program)';
    else {
      stage = 'other (Node internals, timers, microtasks)';
      let sqlite = leaf.callFrame.url === '' && SQLITE_NATIVES.has(fn);
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const f = byId.get(cur)!.callFrame;
        const s = stageOfUrl(f.url, f.functionName);
        if (s === undefined) continue;
        if (sqlite) {
          stage = s.startsWith('record read') || s.startsWith('SQLite') ? s : `SQLite, called from: ${s}`;
        } else stage = s;
        sqlite = false;
        break;
      }
    }
    stageOfNode.set(id, stage);
    return stage;
  };
  const all = new Map<string, number>();
  const inWindow = new Map<string, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i]!;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const stage = stageOf(profile.samples[i]!);
    all.set(stage, (all.get(stage) ?? 0) + dt);
    if (window && t >= window.from && t <= window.to) inWindow.set(stage, (inWindow.get(stage) ?? 0) + dt);
  }
  const stages = inWindow.size > 0 ? inWindow : all;
  const idleUs = stages.get('(idle)') ?? 0;
  stages.delete('(idle)');
  const busyUs = [...stages.values()].reduce((a, b) => a + b, 0);
  return { stages, busyUs, idleUs };
}

/** What a profiled run measured besides the profile: the measured window (profile clock, µs), requests, server CPU. */
interface ProfiledRun {
  point: string;
  window: { from: number; to: number } | undefined;
  requests: number;
  cpuUs: number | null;
}

function report(file: string, run: ProfiledRun): void {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const { stages, busyUs, idleUs } = breakdown(profile, run.window);
  const perReq = run.cpuUs !== null && run.requests > 0 ? run.cpuUs / run.requests : null;
  console.log(
    `\n${run.point}: ${run.requests} requests, server CPU ${perReq === null ? '–' : perReq.toFixed(0)} µs/request (all threads, profiler on); ` +
      `main thread busy ${(busyUs / 1e6).toFixed(2)} s, idle ${(idleUs / 1e6).toFixed(2)} s in the measured window`,
  );
  console.log('\n| stage | share of main-thread samples | µs/request |\n|---|---:|---:|');
  for (const [stage, us] of [...stages].sort((a, b) => b[1] - a[1])) {
    const share = us / busyUs;
    console.log(`| ${stage} | ${(share * 100).toFixed(1)}% | ${perReq === null ? '–' : (share * perReq).toFixed(0)} |`);
  }
}

async function main(): Promise<void> {
  if (opts.analyse) {
    const sidecar = `${opts.analyse.replace(/\.cpuprofile$/, '')}.json`;
    const run = fs.existsSync(sidecar)
      ? (JSON.parse(fs.readFileSync(sidecar, 'utf8')) as ProfiledRun)
      : { point: POINT, window: undefined, requests: 0, cpuUs: null };
    report(opts.analyse, run);
    return;
  }
  const pinning = pinningAvailable();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'doelpoort-profile-'));
  const profDir = path.join(dataDir, 'prof');
  const out = opts.out ?? path.join(ROOT, 'bench', 'results', `profile-${POINT}.cpuprofile`);
  const clients = Number(opts.clients);
  try {
    say(`profile: generating ${clients} clients…`);
    await generateStore(dataDir, clients, 1);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DOELPOORT_DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      DOELPOORT_DEMO: '1',
      DOELPOORT_TOKEN_TTL: '900',
      DOELPOORT_RATE_LIMIT: '1000000',
    };
    delete env.DOELPOORT_IDPS_FILE;
    const port = await freePort();
    const gateway = await startServer({
      name: 'gateway',
      args: ['--cpu-prof', `--cpu-prof-dir=${profDir}`, builtBin(), 'serve'],
      env: { ...env, PORT: String(port) },
      port,
      cores: pinning.ok ? '0' : null,
      readyPath: '/health',
    });
    let window: { from: number; to: number } | undefined;
    let requests = 0;
    let cpuUs: number | null = null;
    try {
      const pairs = pickClients(path.join(dataDir, 'records.db'), 200);
      const logins = new Map<string, string>();
      for (const org of new Set(pairs.map((p) => p.org))) logins.set(org, demoLogin(dataDir, 'participatiecoach', org, env));
      const problem = (await mintTokens(gateway, pairs, logins)) ?? (await probeClientRoute(gateway, pairs));
      if (problem) throw new Error(problem);
      const bodies = pairs.map((p) => exchangeBody(logins.get(p.org)!, p.clientRef));
      // W as npm run bench sends it: one web session per municipality, logged in through the demo provider.
      const sessions = new Map<string, string>();
      if (POINT === 'W')
        for (const org of logins.keys()) sessions.set(org, await webSession(gateway.origin, org, `demo-participatiecoach-${org.toLowerCase()}`));
      const factories: Record<'G' | 'T' | 'W', RequestFactory> = {
        G: (i) => {
          const pair = pairs[i % pairs.length]!;
          return { path: `/v1/clients/${pair.clientRef}`, headers: { authorization: `Bearer ${pair.token}` } };
        },
        T: (i) => ({ method: 'POST', path: '/oauth/token', headers: FORM, body: bodies[i % bodies.length]! }),
        W: (i) => {
          const pair = pairs[i % pairs.length]!;
          return { path: `/overdrachten/${pair.clientRef}`, headers: { cookie: sessions.get(pair.org)! } };
        },
      };
      const request = factories[POINT];
      if (pinning.ok) pin(process.pid, '1');
      let cpu0: number | null = null;
      let from = 0;
      say(`profile: ${POINT}, closed loop, ${opts.connections} connections, ${opts.duration} s (after 2 s warm-up)…`);
      const result = await closedLoop({
        origin: gateway.origin,
        request,
        connections: Number(opts.connections),
        warmupMs: 2000,
        durationMs: Number(opts.duration) * 1000,
        onStart: () => {
          cpu0 = cpuMicros(gateway.pid);
          from = Number(process.hrtime.bigint() / 1000n);
        },
      });
      const cpu1 = cpuMicros(gateway.pid);
      window = { from, to: Number(process.hrtime.bigint() / 1000n) };
      requests = result.completed;
      cpuUs = cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null;
      say(
        `profile: ${Math.round(result.rps)} req/s, ${result.unexpectedStatus} not 200, ${result.errors} without a response, ` +
          `server CPU ${cpuUs === null ? '–' : (cpuUs / requests).toFixed(0)} µs/req, load average ${os.loadavg()[0]!.toFixed(2)}`,
      );
    } finally {
      await gateway.stop();
    }
    const file = fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('the gateway wrote no CPU profile');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.copyFileSync(path.join(profDir, file), out);
    const run: ProfiledRun = { point: POINT, window, requests, cpuUs };
    fs.writeFileSync(`${out.replace(/\.cpuprofile$/, '')}.json`, `${JSON.stringify(run)}\n`);
    report(out, run);
    say(`profile: kept ${path.relative(ROOT, out)}`);
  } finally {
    if (opts.keep) say(`profile: data dir kept at ${dataDir}`);
    else fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`profile: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
