/**
 * The queries on audit_log and the index each uses: `npx tsx bench/audit-plans.ts [--lines N]`. Fills a temp file
 * database with `--lines` lines (default 20,000) of several organisations, runs ANALYZE, and prints SQLite's
 * EXPLAIN QUERY PLAN of every query the code runs (the statements as src/audit builds them).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { AuditEntry } from '../src/audit/entry.js';
import { AuditLog } from '../src/audit/log.js';
import { systemClock } from '../src/clock.js';
import { openDatabase } from '../src/db.js';

const { values } = parseArgs({ options: { lines: { type: 'string' } } });
const LINES = Number(values.lines ?? 20_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doelpoort-plans-'));
const ORGS = ['GM1960', 'GM0281', 'GM0263', 'WERKZAAK'];
try {
  const db = openDatabase(path.join(dir, 'plans.db'));
  db.$client.pragma('synchronous = OFF');
  const audit = new AuditLog(db, { clock: systemClock, pseudonymKey: randomBytes(32) });
  const fill = db.$client.transaction(() => {
    for (let n = 0; n < LINES; n++) {
      const entry: AuditEntry = {
        action: n % 20 === 0 ? 'token.issued' : 'record.read',
        traceId: randomBytes(16).toString('hex'),
        spanId: randomBytes(8).toString('hex'),
        actor: { iss: 'https://login.example', sub: `p-${n % 300}`, role: 'participatiecoach', org: ORGS[n % 4]! },
        origin: '127.0.0.1',
        outcome: n % 10 === 0 ? 'deny' : 'permit',
        reason: 'PERMIT',
        httpStatus: 200,
        purpose: n % 3 === 0 ? 'begeleiding-kp4' : 'overdracht-kp4',
        tokenId: `t${n}`,
        clientRef: `WZR-${100000 + (n % 3000)}`,
        decisionId: `d${n}`,
      } as AuditEntry;
      audit.appendInTransaction(entry);
    }
  });
  fill.immediate();
  db.$client.exec('ANALYZE');
  const READS = "('record.read', 'document.read', 'caseload.read', 'list.read')";
  const person = 'actor_org = ? AND actor_iss = ? AND actor_sub = ? AND actor_role = ?';
  const identified = 'actor_iss IS NOT NULL AND actor_sub IS NOT NULL AND actor_role IS NOT NULL';
  const queries: Array<[string, string]> = [
    ['list: newest page', 'SELECT seq FROM audit_log ORDER BY seq DESC LIMIT 101'],
    [
      'list: by client (access report, audit viewer)',
      "SELECT seq FROM audit_log WHERE client_ref = 'WZR-100001' AND outcome = 'permit' ORDER BY seq DESC LIMIT 101",
    ],
    ['list: by client, municipal scope', "SELECT seq FROM audit_log WHERE client_ref = 'WZR-100001' AND actor_org = 'GM1960' ORDER BY seq DESC LIMIT 101"],
    [
      'list: by person (own use)',
      `SELECT seq FROM audit_log WHERE actor_sub = 'p-1' AND json_extract(entry, '$.entry.actor.iss') = 'x' AND action IN ${READS} ORDER BY seq DESC LIMIT 101`,
    ],
    ['list: by purpose', "SELECT seq FROM audit_log WHERE purpose = 'begeleiding-kp4' ORDER BY seq DESC LIMIT 101"],
    ['list: by period', 'SELECT seq FROM audit_log WHERE at >= 0 AND at <= 1 ORDER BY seq DESC LIMIT 101'],
    ['list: municipal scope only', "SELECT seq FROM audit_log WHERE actor_org = 'GM1960' ORDER BY seq DESC LIMIT 101"],
    ['impact replay (linesByAction)', `SELECT seq FROM audit_log WHERE at >= 0 AND at <= 1 AND seq > 0 AND action IN ${READS} ORDER BY seq LIMIT 1000`],
    ['export', 'SELECT at, entry FROM audit_log WHERE at >= 0 AND at <= 1 AND entry IS NOT NULL ORDER BY seq'],
    [
      'monthly: combinations',
      'SELECT DISTINCT actor_org, action, outcome, actor_role, purpose, bsn_lookup, noodtoegang, time_class FROM audit_log INDEXED BY audit_oversight WHERE actor_org IS NOT NULL',
    ],
    [
      'monthly: one count',
      "SELECT count(*) FROM audit_log INDEXED BY audit_oversight WHERE actor_org = 'GM1960' AND action = 'record.read' AND outcome = 'permit' AND actor_role IS 'participatiecoach' AND purpose IS 'overdracht-kp4' AND bsn_lookup IS NULL AND noodtoegang IS NULL AND time_class IS 0 AND at >= 0 AND at < 1",
    ],
    [
      'per person: the first person',
      `SELECT actor_org, actor_iss, actor_sub, actor_role FROM audit_log INDEXED BY audit_person WHERE actor_org IS NOT NULL AND ${identified} ORDER BY actor_org, actor_iss, actor_sub, actor_role LIMIT 1`,
    ],
    [
      'per person: the next person (one seek)',
      `SELECT actor_org, actor_iss, actor_sub, actor_role FROM audit_log INDEXED BY audit_person WHERE (actor_org, actor_iss, actor_sub, actor_role, action) > (?, ?, ?, ?, X'') AND ${identified} ORDER BY actor_org, actor_iss, actor_sub, actor_role LIMIT 1`,
    ],
    [
      'per person: accesses and distinct clients',
      `SELECT count(*), total(noodtoegang), count(DISTINCT CASE WHEN outcome = 'permit' THEN client_ref END) FROM audit_log INDEXED BY audit_person WHERE ${person} AND action IN ${READS} AND at >= 0 AND at < 1`,
    ],
    [
      'prune: candidates',
      "SELECT min(seq), max(seq), count(*) FROM (SELECT seq FROM audit_log WHERE seq > 0 AND at < 1 AND entry IS NOT NULL AND action <> 'audit.pruned' ORDER BY seq LIMIT 10000)",
    ],
    ['prune lines (trigger, verify)', "SELECT seq, at, entry FROM audit_log WHERE action = 'audit.pruned' AND entry IS NOT NULL ORDER BY seq"],
    ['append: head', 'SELECT seq, at, chain_hash FROM audit_log ORDER BY seq DESC LIMIT 1'],
    ['verify: a range', 'SELECT seq, entry, chain_hash FROM audit_log WHERE seq >= 1 AND seq <= 100 ORDER BY seq'],
  ];
  for (const [label, sql] of queries) {
    const plan = db.$client
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...(sql.includes('?') ? ['GM1960', 'https://login.example', 'p-1', 'participatiecoach'] : []))
      .map((r) => (r as { detail: string }).detail);
    console.log(`| ${label} | ${plan.join('; ')} |`);
  }
  db.$client.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
