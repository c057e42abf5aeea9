import type { JWK } from 'jose';
import type { Awaitable } from '../unit-of-work.js';
import type { Checkpoint } from './checkpoint.js';
import type { AuditLine } from './entry.js';
import type { LogboekRecord, LogboekSources } from './export.js';
import type { LineCount, PersonCount } from './oversight-query.js';
import type { VerifyOptions, VerifyResult } from './verify.js';

/**
 * What the use cases read of the audit log outside the unit of work, on either database: the SQLite `AuditLog`
 * (src/audit/log.ts) and the PostgreSQL `PgAuditLog` (src/audit/log-pg.ts) both are one, with the same answers for
 * the same lines. Everything that involves the database is awaited. Lines are appended only through the unit of work
 * (`tx.audit`), never here; the one write is `checkpoint`, which signs the head the log already has.
 */
export interface AuditReader {
  /** The keyed pseudonym of a BSN (HMAC-SHA256, hex): computed from the key alone, so no database is involved. */
  pseudonym(bsn: string): string;
  /** The public checkpoint key as a JWK, for publication; undefined when this log writes no checkpoints. */
  readonly checkpointJwk: JWK | undefined;
  /** The newest stored checkpoint, if any. */
  latestCheckpoint(): Awaitable<Checkpoint | undefined>;
  /** Signs the current head unless the latest checkpoint covers it (the periodic checkpoint of `serve`); the latest. */
  checkpoint(): Awaitable<Checkpoint | undefined>;
  /** Recomputes the whole chain and checks the checkpoints, without stalling the event loop for long. */
  verifyAsync(options?: VerifyOptions): Promise<VerifyResult>;
  /** The oversight report's line counts per period and combination of report columns (src/audit/oversight-query.ts). */
  countLines(periods: ReadonlyArray<Period>, scope?: CountScope): Promise<LineCount[][]>;
  /** The per-person report's figures over a period (src/audit/oversight-query.ts). */
  countPersons(period: Period, scope?: CountScope): Promise<PersonCount[]>;
  /** One page of the lines of some actions in a time window, oldest first, after line `after` (the impact replay). */
  linesByAction(query: LinesByActionQuery): Awaitable<AuditLine[]>;
  /** The Logboek Dataverwerkingen records of the lines in `range` (epoch ms, inclusive), oldest first. */
  exportLogboek(sources: LogboekSources, range?: LogboekRange): Promise<LogboekRecord[]>;
}

/** A period of the counts: epoch ms, `to` exclusive. */
export type Period = { from: number; to: number };

/** The counts of one organisation's staff, or (no org) of every identified actor. */
export type CountScope = { org?: string | undefined };

/** A page of the replay: lines of `actions` with `from <= at <= to` (epoch ms) and `seq > after`, at most `limit`. */
export interface LinesByActionQuery {
  actions: readonly AuditLine['action'][];
  from: number;
  to: number;
  after: number;
  limit: number;
}

/** The lines an export covers: `from <= at <= to`, both optional. */
export type LogboekRange = { from?: number | undefined; to?: number | undefined };
