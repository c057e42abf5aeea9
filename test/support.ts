import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateCheckpointKey } from '../src/audit/keys.js';
import { AuditLog } from '../src/audit/log.js';
import type { AuditReader } from '../src/audit/reader.js';
import { fixedClock } from '../src/clock.js';
import { databaseFile, loadConfig, recordsFile, type Config } from '../src/config.js';
import { openDatabase, openRecordsDatabase } from '../src/db.js';
import { gatewayDeps } from '../src/composition.js';
import { createApp } from '../src/http/app.js';
import { conformant } from './openapi-conformance.js';

/** The fixed day every test runs on; generated records are placed around it. */
export const TODAY = '2026-11-23';

const tempDirs = new Set<string>();
process.once('exit', () => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory, removed when the test process ends. */
export function tempDir(prefix = 'doelpoort-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/**
 * A real app on fresh databases migrated from schema/, with a fixed clock and a temp data dir: in memory, or with
 * `onDisk` the data dir's own files (doelpoort.db and records.db), for tests that need a second connection.
 */
export function setupApp(env: Record<string, string> = {}, configOverrides: Partial<Config> = {}, { onDisk = false }: { onDisk?: boolean } = {}) {
  const dataDir = tempDir();
  const config = { ...loadConfig({ DOELPOORT_DATA_DIR: dataDir, ...env }), ...configOverrides };
  const db = openDatabase(onDisk ? databaseFile(config) : ':memory:');
  const recordsDb = openRecordsDatabase(onDisk ? recordsFile(config) : ':memory:');
  const clock = fixedClock(`${TODAY}T10:00:00Z`);
  const deps = gatewayDeps({ db, recordsDb, config, clock, pseudonymKey: randomBytes(32), checkpointKey: generateCheckpointKey() });
  // Every answer the tests receive is checked against the app's own /openapi.json (openapi-conformance.ts).
  return { ...deps, audit: sqliteAudit(deps.audit), clock, app: conformant(createApp(deps)) };
}

/** The SQLite log behind deps built on SQLite (AppDeps names only the reader both databases' logs are). */
export function sqliteAudit(audit: AuditReader): AuditLog {
  if (!(audit instanceof AuditLog)) throw new TypeError('sqliteAudit: these deps were not built on SQLite');
  return audit;
}
