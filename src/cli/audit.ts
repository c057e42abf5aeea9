import fs from 'node:fs';
import { systemClock } from '../clock.js';
import { loadConfig, recordsFile, type Config } from '../config.js';
import { openRecordsDatabase, type Db } from '../db.js';
import { DoelpoortError } from '../errors.js';
import { exportLogboek } from '../audit/export.js';
import type { AuditLog } from '../audit/log.js';
import { pruneAudit } from '../audit/prune.js';
import { auditQuerySchema } from '../audit/query.js';
import { openAuditOffice, type AuditOffice } from '../composition.js';
import { RecordStore } from '../records/store.js';
import { parseCommandArgs, type Command } from './args.js';
import { writeNdjson } from './ndjson.js';

const usage = 'usage: doelpoort audit verify [--checkpoint FILE] | checkpoint | export [--from DATE] [--to DATE] | prune --before DATE';

/** `doelpoort audit <verify|checkpoint|export|prune>`: the audit trail for operators and privacy officers. */
export async function auditCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const command = sub ? subcommands[sub] : undefined;
  if (!command) throw new DoelpoortError('REQUEST_INVALID', usage);
  return command(rest);
}

const subcommands: Record<string, Command> = {
  /** Prints `ok N lines, head H`, or the first bad line and why (exit 1). */
  async verify(args) {
    const { values } = parseCommandArgs(args, { checkpoint: { type: 'string', multiple: true } });
    const external = (values.checkpoint ?? []).map(readCheckpointFile);
    return withAudit(async (audit) => {
      const result = await audit.verify(external);
      if (result.ok) console.log(`ok ${result.records} lines, head ${result.head}`);
      else console.log(`broken at line ${result.firstBad.seq}: ${result.firstBad.reason} (${result.records} lines before it verify)`);
      const w = result.witness;
      console.log(
        !w.configured
          ? 'witness: none configured (DOELPOORT_CHECKPOINT_DIR)'
          : w.checkpoint
            ? `witness: compared with its newest checkpoint, ${w.checkpoint.size} lines at ${new Date(w.checkpoint.at).toISOString()}`
            : 'witness: configured, holds no checkpoint yet',
      );
      return result.ok ? 0 : 1;
    });
  },

  /** Writes a checkpoint of the current head if the latest does not cover it, and prints the latest as JSON. */
  async checkpoint(args) {
    parseCommandArgs(args, {});
    return withAudit(async (audit) => {
      const checkpoint = await audit.checkpoint();
      if (!checkpoint) throw new DoelpoortError('REQUEST_INVALID', 'audit checkpoint: the log is empty');
      console.log(JSON.stringify({ ...checkpoint, jwk: audit.checkpointJwk }, null, 2));
      return 0;
    });
  },

  /**
   * Logboek Dataverwerkingen records as NDJSON on stdout, oldest first. A client's data subject id is the keyed
   * pseudonym of the BSN the records hold for its clientRef; clients no longer on record are counted on stderr.
   */
  async export(args) {
    const { values } = parseCommandArgs(args, { from: { type: 'string' }, to: { type: 'string' } });
    const range = dateRange(values);
    return withSqliteAudit('export', async (audit, config, db) => {
      const recordsDb = fs.existsSync(recordsFile(config)) ? openRecordsDatabase(recordsFile(config)) : undefined;
      try {
        const records = recordsDb && new RecordStore(recordsDb);
        const missing = new Set<string>();
        const subjectOf = (clientRef: string) => {
          const bsn = records?.bsnOf(clientRef);
          if (bsn === undefined) missing.add(clientRef);
          return bsn === undefined ? undefined : audit.pseudonym(bsn);
        };
        await writeNdjson(exportLogboek(db, { registerUrl: config.registerUrl, gatewayUrl: config.publicUrl, subjectOf }, range));
        if (missing.size > 0) {
          console.error(`audit export: ${missing.size} clients named in the exported lines are not in the records; their lines name no data subject`);
        }
        return 0;
      } finally {
        recordsDb?.$client.close();
      }
    });
  },

  /** Blanks the content of lines older than --before; refuses a date inside the retention period. */
  async prune(args) {
    const { values } = parseCommandArgs(args, { before: { type: 'string' } });
    if (!values.before) throw new DoelpoortError('REQUEST_INVALID', 'audit prune: --before DATE is required');
    const { from: before } = dateRange({ from: values.before });
    return withSqliteAudit('prune', (audit, config) => {
      const result = pruneAudit(audit, { before: before!, now: systemClock.now(), retentionDays: config.auditRetentionDays });
      const first = result.seqs[0]!;
      const last = result.seqs.at(-1)!;
      console.log(`pruned ${result.pruned} lines (recorded as line ${first === last ? first : `${first} to ${last}`})`);
      return 0;
    });
  },
};

/** Runs `work` over the audit log of the configured database, closed afterwards whatever happens. */
async function withAudit(work: (audit: AuditOffice) => Promise<number>): Promise<number> {
  const office = await openAuditOffice(loadConfig(process.env), systemClock);
  try {
    return await work(office);
  } finally {
    await office.close();
  }
}

/** The SQLite audit log, for the subcommands not yet available on PostgreSQL. */
async function withSqliteAudit(command: string, work: (audit: AuditLog, config: Config, db: Db) => number | Promise<number>): Promise<number> {
  const config = loadConfig(process.env);
  if (config.databaseUrl)
    throw new DoelpoortError('CONFIG_INVALID', `audit ${command}: not available on PostgreSQL in this release (DOELPOORT_DATABASE_URL is set)`);
  const office = await openAuditOffice(config, systemClock);
  try {
    return await work(office.sqlite!.audit, config, office.sqlite!.db);
  } finally {
    await office.close();
  }
}

function dateRange(values: { from?: string | undefined; to?: string | undefined }) {
  const parsed = auditQuerySchema.pick({ from: true, to: true }).safeParse(values);
  if (!parsed.success)
    throw new DoelpoortError(
      'REQUEST_INVALID',
      `--${String(parsed.error.issues[0]?.path[0] ?? 'from')} must be a date YYYY-MM-DD, an ISO date-time or epoch milliseconds`,
    );
  return parsed.data;
}

/** A checkpoint file as `audit checkpoint` prints it (JSON with `signature`), or the bare compact JWS. */
function readCheckpointFile(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch {
    throw new DoelpoortError('REQUEST_INVALID', 'audit verify: the checkpoint file cannot be read');
  }
  if (!text.startsWith('{')) return text;
  try {
    const signature = (JSON.parse(text) as { signature?: unknown }).signature;
    if (typeof signature === 'string') return signature;
  } catch {
    // fall through
  }
  throw new DoelpoortError('REQUEST_INVALID', 'audit verify: the checkpoint file has no signature');
}
