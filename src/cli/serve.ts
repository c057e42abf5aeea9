import { serve } from '@hono/node-server';
import { systemClock } from '../clock.js';
import { loadConfig, redactedDatabaseUrl, type Config } from '../config.js';
import { openGateway } from '../composition.js';
import { seedDemo } from '../demo.js';
import { DoelpoortError, isDoelpoortError } from '../errors.js';
import { createApp } from '../http/app.js';
import { limitedEntry } from '../http/rate-limit.js';
import { appendLine } from '../unit-of-work.js';
import { traceFrom } from '../http/context.js';
import { pruneSessions, webRequestFacts } from '../web/login.js';
import { parseCommandArgs } from './args.js';
import { privateDataDir } from './private-data-dir.js';

/** How long SIGTERM waits for in-flight requests before closing their connections. */
const DRAIN_DEADLINE_MS = 10_000;

/**
 * `doelpoort serve [--demo]`: reads the environment, builds the gateway (src/composition.ts), listens; SIGTERM drains.
 * Refuses to start without identity providers and registered clients: an IdPs file and a clients file, or demo mode
 * asked for (`--demo` or DOELPOORT_DEMO=1).
 */
export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { demo: { type: 'boolean' } });
  const config = loadConfig(values.demo ? { ...process.env, DOELPOORT_DEMO: '1' } : process.env);
  if (!config.idpsFile && !config.demo) {
    throw new DoelpoortError('CONFIG_INVALID', 'serve: no identity providers: set DOELPOORT_IDPS_FILE, or DOELPOORT_DEMO=1 (or --demo) for demo mode');
  }
  if (!config.clientsFile && !config.demo) {
    throw new DoelpoortError('CONFIG_INVALID', 'serve: no registered clients: set DOELPOORT_CLIENTS_FILE, or DOELPOORT_DEMO=1 (or --demo) for demo mode');
  }
  privateDataDir(config.dataDir);
  const gateway = await openGateway(config, systemClock);
  const { deps } = gateway;
  await deps.tokens.trust.ready();
  await deps.demoIdp?.ready();
  if (config.demo) {
    const seeded = await seedDemo(config, gateway, systemClock);
    if (seeded) log('demo records imported', { clients: seeded.imported });
  }

  const stopTimedWork = gateway.startTimedWork(log);

  // Sessions whose browser never came back end here, each with its line; pending logins past ten minutes go too.
  const sessionPrune = setInterval(() => {
    pruneSessions(deps, webRequestFacts({ trace: traceFrom(undefined), origin: 'internal' })).catch((error: unknown) => {
      log('session prune failed', { code: isDoelpoortError(error) ? error.code : 'INTERNAL' });
    });
  }, 60_000);
  sessionPrune.unref();

  const app = createApp(deps);
  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }) as import('node:http').Server;
  // Keep idle connections longer than clients and proxies do, so the server is never the side that closes a socket
  // a client is about to reuse (Node's 5 s default races with busy clients).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  // Before the announcement: a supervisor that stops the server as soon as it reads "listening" must get a drain,
  // not Node's default exit by the signal.
  const stopping = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log('listening', {
    url: `http://${config.host}:${config.port}`,
    demo: config.demo,
    database: config.databaseUrl ? redactedDatabaseUrl(config.databaseUrl) : 'sqlite',
    clients: await deps.records.count(),
  });
  if (config.demo) printDemoHelp(config);

  log('stopping', { signal: await stopping });
  await new Promise<void>((resolve) => {
    // close() stops accepting and waits for in-flight requests. A keep-alive socket turns idle once its request is
    // answered, and would then wait out keepAliveTimeout: close idle sockets as they appear, and every socket after
    // a deadline.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    const deadline = setTimeout(() => server.closeAllConnections(), DRAIN_DEADLINE_MS);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(deadline);
      resolve();
    });
    server.closeIdleConnections();
  });
  clearInterval(sessionPrune);
  // The minute in progress has refused requests whose summary line would otherwise never be written.
  for (const summary of deps.limiter.drain()) {
    try {
      await appendLine(deps.uow, limitedEntry(summary));
    } catch (error) {
      log('rate limit summary not written', { code: isDoelpoortError(error) ? error.code : 'INTERNAL' });
    }
  }
  await stopTimedWork();
  await gateway.close();
  log('stopped', {});
  return 0;
}

function printDemoHelp(config: Config): void {
  const base = `http://${config.host}:${config.port}`;
  console.log(`
Open ${config.publicUrl} and log in: choose an organisation, then a demo account such as "Participatiecoach — West Betuwe".

doelpoort is running in demo mode at ${base} (synthetic records; the demo logins are trusted only in demo mode).
The API, with a login token from the command line:

  1. Log in as a participatiecoach of West Betuwe (the demo identity provider prints a login token):
       LOGIN=$(npm run --silent doelpoort -- demo-token --role participatiecoach --org GM1960)
  2. Exchange it for a token bound to one purpose and one client, as the public demo client doelpoort-demo:
       TOKEN=$(curl -s ${base}/oauth/token -d client_id=doelpoort-demo \\
         -d grant_type=urn:ietf:params:oauth:grant-type:token-exchange \\
         -d subject_token_type=urn:ietf:params:oauth:token-type:jwt \\
         --data-urlencode "subject_token=$LOGIN" \\
         --data-urlencode 'authorization_details=[{"type":"doelbinding","purpose":"overdracht-kp4","client":"WZR-100001"}]' \\
         | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')
  3. Read what that purpose may see, as JSON or as the printable handover page:
       curl -s -H "Authorization: Bearer $TOKEN" ${base}/v1/clients/WZR-100001
       curl -s -H "Authorization: Bearer $TOKEN" -H 'Accept: text/html' ${base}/v1/clients/WZR-100001/handover-document > overdracht.html

  The README walks a coach, a debt counsellor and a privacy officer through the rest. Stop with Ctrl-C.
`);
}

/** One JSON line per event on stdout; codes, ids and counts only, never values. */
function log(msg: string, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ level: 'info', time: new Date().toISOString(), msg, ...fields }));
}
