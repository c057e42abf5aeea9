/**
 * The `audit verify` point of `npm run bench` (issue 15: 1,000,000 lines in ≤ 3 s), also on its own:
 * `npx tsx bench/verify-log.ts --lines N`. Fills a fresh data dir's audit log with N synthetic lines through the real
 * AuditLog (its own keys, checkpoints as configured, whatever line format the log writes), in transactions of 1,000,
 * then times `audit verify` on it as an operator runs it (a child process, wall time): from the build, as
 * docs/deploy.md has the daily check run it (`node dist/src/cli/main.js audit verify`), and through the `doelpoort`
 * command (tsx's loader) beside it. Prints JSON.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadAuditKeys } from '../src/audit/keys.js';
import { systemClock } from '../src/clock.js';
import { auditLog } from '../src/composition.js';
import { benchEntry } from './audit-entry.js';
import { databaseFile, loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db.js';
import { BIN, builtBin, ROOT } from './procs.js';

/** What the point measured: the lines written, the seconds verify took, and whether it said `ok`. */
export interface VerifyFigures {
  lines: number;
  fillSeconds: number;
  /** `node dist/src/cli/main.js audit verify`: the build. */
  verifySeconds: number;
  /** `doelpoort audit verify`: the sources through tsx's loader. */
  sourceSeconds: number;
  ok: boolean;
}

/**
 * Fills a temp data dir with `lines` lines and times `audit verify` on it: `built`, the CLI of a build made before
 * (`builtBin()`; the caller's, so that no build empties dist/ under a server still running from it), and the
 * `doelpoort` command.
 */
export function measureVerify(lines: number, built: string, env: NodeJS.ProcessEnv = process.env): VerifyFigures {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'doelpoort-verify-'));
  try {
    const config = loadConfig({ ...env, DOELPOORT_DATA_DIR: dataDir });
    const db = openDatabase(databaseFile(config));
    const t0 = process.hrtime.bigint();
    try {
      const audit = auditLog(db, config, systemClock, loadAuditKeys(dataDir));
      const pseudonym = (bsn: string) => audit.pseudonym(bsn);
      const batch = db.$client.transaction((from: number, to: number) => {
        for (let n = from; n < to; n++) audit.appendInTransaction(benchEntry(n, pseudonym));
      });
      for (let n = 0; n < lines; n += 1000) batch.immediate(n, Math.min(lines, n + 1000));
    } finally {
      db.$client.close();
    }
    const fillSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const verify = (bin: string) => {
      const t1 = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [bin, 'audit', 'verify'], { cwd: ROOT, env: { ...env, DOELPOORT_DATA_DIR: dataDir }, encoding: 'utf8' });
      return { seconds: Number(process.hrtime.bigint() - t1) / 1e9, ok: r.status === 0 && r.stdout.startsWith(`ok ${lines} lines`) };
    };
    const fromBuild = verify(built);
    const source = verify(BIN);
    return { lines, fillSeconds, verifySeconds: fromBuild.seconds, sourceSeconds: source.seconds, ok: fromBuild.ok && source.ok };
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { lines: { type: 'string', default: '1000000' } } });
  console.log(JSON.stringify(measureVerify(Number(values.lines), builtBin())));
}
