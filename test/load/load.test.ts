/**
 * The load test (`npm run test:load`, not part of `npm test`): a generated store served by the real gateway in a
 * child process, built as `npm start` runs it, many concurrent requesters of every role (./requesters.ts), and the audit accounting: every request
 * to the token endpoint and the /v1 API is accounted for by exactly one audit line, and the chain still verifies
 * afterwards. Every record a requester receives is compared with the policy engine's decision in this process, and
 * every permitted response is matched to its own audit line by decision id.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, builtBin, ROOT, demoLogin, freePort, generateStore, startServer, type Server } from '../../bench/procs.js';
import { loadPolicyDirectory } from '../../src/policy/load.js';
import type { SuiteRecord } from '../../src/records/suite-record.js';
import { tempDir } from '../support.js';
import { newTally, requester, scenarios } from './requesters.js';

const CLIENTS = 2000;
const SEED = 7;
/** Concurrent requesters per scenario, and the reads each makes with its token: the bound on the request count. */
const CLIENTS_PER_SCENARIO = 8;
const REQUESTERS_PER_SCENARIO = 3;
const READS_PER_REQUESTER = 5;

let dataDir: string;
let dbFile: string;
let gateway: Server | undefined;
let records: Map<string, SuiteRecord>;
const policy = loadPolicyDirectory(path.resolve('policies'));

function openReadOnly() {
  return new Database(dbFile, { readonly: true, fileMustExist: true });
}

function auditEntries(): Array<Record<string, any>> {
  const db = openReadOnly();
  try {
    return db
      .prepare<[], { entry: string }>('SELECT entry FROM audit_log ORDER BY seq')
      .all()
      .map((r) => (JSON.parse(r.entry) as { entry: Record<string, any> }).entry);
  } finally {
    db.close();
  }
}

describe('the gateway under concurrent load', () => {
  beforeAll(async () => {
    dataDir = tempDir('doelpoort-load-');
    dbFile = path.join(dataDir, 'doelpoort.db');
    await generateStore(dataDir, CLIENTS, SEED);
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DOELPOORT_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      DOELPOORT_DEMO: '1',
      DOELPOORT_TOKEN_TTL: '900',
      DOELPOORT_RATE_LIMIT: '1000000',
    };
    // Every request comes from loopback, and the expected refusals would otherwise soon be answered 429.
    delete env.DOELPOORT_IDPS_FILE;
    // The server as `npm start` runs it: built to JavaScript (scripts/build.mjs), without tsx.
    gateway = await startServer({ name: 'gateway', args: [builtBin(), 'serve'], env, port, cores: null, readyPath: '/health' });
    const recordsDb = new Database(path.join(dataDir, 'records.db'), { readonly: true, fileMustExist: true });
    try {
      records = new Map(
        recordsDb
          .prepare<[], { record: string }>('SELECT record FROM clients')
          .all()
          .map((r) => {
            const rec = JSON.parse(r.record) as SuiteRecord;
            return [rec.clientRef, rec];
          }),
      );
    } finally {
      recordsDb.close();
    }
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
  });

  it('serves the generated store from a child process', async () => {
    const res = await fetch(`${gateway!.origin}/health`);
    expect(res.status).toBe(200);
    expect(records.size).toBe(CLIENTS);
  });

  it('has requesters of every role to run', () => {
    const roles = new Set(scenarios(records, CLIENTS_PER_SCENARIO).map((s) => s.role));
    expect([...roles].sort()).toEqual(['participatiecoach', 'privacy-officer', 'schuldhulpverlener', 'werkcoach']);
  });

  it('releases exactly what the policy decides to many concurrent requesters of every role, each request with its own audit line', async () => {
    const all = scenarios(records, CLIENTS_PER_SCENARIO);
    const logins = new Map<string, string>();
    for (const s of all) {
      const key = `${s.role} ${s.org}`;
      if (!logins.has(key)) logins.set(key, demoLogin(dataDir, s.role, s.org));
    }
    const tally = newTally();
    const before = auditEntries().length;
    const options = { origin: () => gateway!.origin, reads: READS_PER_REQUESTER, expect: { policy, records } };
    await Promise.all(
      all.flatMap((s) => Array.from({ length: REQUESTERS_PER_SCENARIO }, () => requester(s, logins.get(`${s.role} ${s.org}`)!, tally, options))),
    );
    const lines = auditEntries().slice(before);

    expect(tally.errors).toBe(0);
    expect(tally.unexpectedExchanges).toEqual([]);
    expect(tally.mismatches).toEqual([]);
    // No 5xx under load: a failed audit write would be a 503, and "no log, no data" must never be hit by mere load.
    expect(Object.keys(tally.statuses).filter((s) => Number(s) >= 500)).toEqual([]);
    expect(tally.decisionIds.length).toBeGreaterThan(300);
    expect(lines.length).toBe(tally.expectedLines);
    const logged = new Map(lines.filter((l) => l.decisionId).map((l) => [l.decisionId as string, l]));
    for (const id of tally.decisionIds) expect(logged.get(id)?.outcome).toBe('permit');
    expect(new Set(tally.decisionIds).size).toBe(tally.decisionIds.length);
    expect([...tally.policyVersions]).toEqual([policy.version]);
    expect(lines.filter((l) => l.action === 'token.refused' && l.outcome === 'deny').length).toBe(
      REQUESTERS_PER_SCENARIO * all.filter((s) => !s.expectIssued).length,
    );
  }, 120_000);

  it('leaves an audit chain that `doelpoort audit verify` accepts', async () => {
    await gateway?.stop();
    gateway = undefined;
    const r = spawnSync(process.execPath, [BIN, 'audit', 'verify'], { cwd: ROOT, env: { ...process.env, DOELPOORT_DATA_DIR: dataDir }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ok \d+ lines, head [0-9a-f]{64}/);
  }, 60_000);
});
