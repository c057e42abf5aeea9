import type { Db } from '../db.js';
import { PURPOSES } from '../purposes.js';
import type { Awaitable } from '../unit-of-work.js';
import type { AuditAction, AuditEntry } from './entry.js';

/**
 * The audit log as the Logboek Dataverwerkingen standard (Logius, version 1.0.0) records processings: one log record
 * per audit line, with only the fields and `dpl.core.*` attributes the standard defines (docs/logboek.md maps them
 * field by field). The standard keeps users out of its records: the actor, the caller's address, the token, the
 * reason of a denial and the field names stay in the audit log, which a record links back to by its trace and span id.
 */

/** `status`: `Ok` a processing that took place, `Unset` one refused without an internal fault, `Error` a fault. */
export type LogboekStatus = 'Unset' | 'Ok' | 'Error';

/** The standard's attributes: its `dpl.core` namespace, and `exception.type` from its section on errors. */
export interface LogboekAttributes {
  /** The processing activity's URI in the register of processing activities. */
  'dpl.core.processing_activity_id'?: string;
  /** The data subject: always the keyed pseudonym of their BSN (hex), whichever way the client was looked up. */
  'dpl.core.data_subject_id'?: string;
  'dpl.core.data_subject_id_type'?: 'BSN';
  /** The calling application, on a record whose parent span is that application's. */
  'dpl.core.foreign_operation.processor'?: string;
  /** On an `Error` record: the reason code of the audit line. */
  'exception.type'?: string;
}

/** One log record. Times are milliseconds since the epoch; ids are lowercase hex (W3C trace context). */
export interface LogboekRecord {
  trace_id: string;
  span_id: string;
  parent_span_id?: string;
  status: LogboekStatus;
  name: string;
  start_time: number;
  end_time: number;
  resource: { attributes: { 'service.name': string } };
  attributes: LogboekAttributes;
}

/** What the export knows besides the log: where the register and the gateway live, and who a client is. */
export interface LogboekContext {
  /** The base URL of the register of processing activities; an activity's URI is this plus its id. */
  registerUrl: string;
  /** The gateway's public URL (`DOELPOORT_PUBLIC_URL`): calling applications are named by their client under it. */
  gatewayUrl: string;
  /**
   * The keyed pseudonym of the BSN of the client with this clientRef as the records hold it now, or undefined when
   * they hold no such client. The BSN itself never reaches the export.
   */
  subjectOf(clientRef: string): string | undefined;
}

/** The name of each action, for a person reading the log (the standard: a description for people, not machines). */
const NAMES: Record<AuditAction, string> = {
  'token.issued': 'Toegangstoken voor een doel verstrekt',
  'token.refused': 'Toegangstoken voor een doel geweigerd',
  'record.read': 'Cliëntgegevens raadplegen',
  'document.read': 'Overdrachtsdocument raadplegen',
  'caseload.read': 'Caseload raadplegen',
  'list.read': 'Cliënt in een werklijst tonen',
  'client.lookup': 'Cliënt zoeken op BSN',
  'session.started': 'Inloggen in de webapplicatie',
  'session.refused': 'Inloggen in de webapplicatie geweigerd',
  'session.ended': 'Uitloggen uit de webapplicatie',
  'session.reauthenticated': 'Opnieuw inloggen voor een goedkeuring',
  'oversight.read': 'Toezichtrapportage inzien',
  'oversight.reviewed': 'Beoordeling van een toezichtrapportage vastleggen',
  'policy.proposed': 'Deelbeleid voorstellen',
  'policy.approved': 'Deelbeleid goedkeuren',
  'policy.rejected': 'Deelbeleid afwijzen',
  'policy.simulated': 'Deelbeleid simuleren',
  'policy.read': 'Deelbeleid inzien',
  'policy.impact': 'Gevolgen van deelbeleid berekenen',
  'audit.read': 'Auditlog inzien',
  'request.refused': 'Verzoek geweigerd',
  'request.limited': 'Verzoeken begrensd',
  'access-report.read': 'Inzageoverzicht opstellen',
  'noodtoegang.read': 'Noodtoegang ter beoordeling inzien',
  'noodtoegang.verdict': 'Oordeel over een noodtoegang vastleggen',
  'audit.pruned': 'Auditregels na de bewaartermijn opschonen',
};

/** A caseload line about one client, under the request's line for the page. */
const CASELOAD_CLIENT = 'Cliëntgegevens in een caseload raadplegen';

/**
 * The standard's rule: `Error` only for a fault inside the system (5xx, or an `error` line), `Unset` for a processing
 * handled without fault even when the input did not hold (a 4xx refusal); `Ok` marks the permits explicitly.
 */
export function logboekStatus(entry: Pick<AuditEntry, 'outcome' | 'httpStatus'>): LogboekStatus {
  if (entry.outcome === 'error' || (entry.httpStatus !== undefined && entry.httpStatus >= 500)) return 'Error';
  return entry.outcome === 'permit' ? 'Ok' : 'Unset';
}

/** The URI of a processing activity: its id (`WZR-VA-011`) under the register's base URL. */
export function processingActivityUri(registerUrl: string, id: string): string {
  return new URL(encodeURIComponent(id), registerUrl.endsWith('/') ? registerUrl : `${registerUrl}/`).href;
}

/** The calling application as the gateway knows it: its registered client, or only that it is a caller. */
function callerUrl(gatewayUrl: string, clientId: string | undefined): string {
  const clients = `${gatewayUrl.replace(/\/$/, '')}/oauth/clients`;
  return clientId === undefined ? clients : `${clients}/${encodeURIComponent(clientId)}`;
}

/**
 * The clientRef whose data subject the record of this line names, when the records must be asked: a line of a
 * processing activity that names a client but carries no BSN pseudonym of its own. Undefined otherwise.
 */
export function subjectRefOf(entry: AuditEntry): string | undefined {
  if (entry.bsnPseudonym !== undefined) return undefined;
  if (!entry.clientRef || activityOf(entry) === undefined) return undefined;
  return entry.clientRef;
}

/** The processing activity of a line: its own, or its purpose's. */
function activityOf(entry: AuditEntry): string | undefined {
  return entry.processingActivityId ?? (entry.purpose ? PURPOSES[entry.purpose].processingActivityId : undefined);
}

/**
 * The Logboek record of one audit line written at `at` (epoch ms), `subject` the pseudonym the records gave for
 * `subjectRefOf(entry)` (undefined when there is none, or none was asked): a pure function, the same in every
 * database and for every way the subject was found.
 */
export function logboekRecord(
  at: number,
  entry: AuditEntry,
  subject: string | undefined,
  where: Pick<LogboekContext, 'registerUrl' | 'gatewayUrl'>,
): LogboekRecord {
  const attributes: LogboekAttributes = {};
  const activity = activityOf(entry);
  if (activity) {
    attributes['dpl.core.processing_activity_id'] = processingActivityUri(where.registerUrl, activity);
    // A processing of personal data belongs to an activity in the register: a line without one (a token refused for
    // an unknown purpose, before any record was read) names no data subject.
    const named = entry.bsnPseudonym ?? subject;
    if (named) {
      attributes['dpl.core.data_subject_id'] = named;
      attributes['dpl.core.data_subject_id_type'] = 'BSN';
    }
  }
  const remoteParent = entry.parentSpanId !== undefined && entry.remoteParent === true;
  if (remoteParent) attributes['dpl.core.foreign_operation.processor'] = callerUrl(where.gatewayUrl, entry.clientId);
  const status = logboekStatus(entry);
  if (status === 'Error') attributes['exception.type'] = entry.reason;
  return {
    trace_id: entry.traceId,
    span_id: entry.spanId,
    ...(entry.parentSpanId === undefined ? {} : { parent_span_id: entry.parentSpanId }),
    status,
    name: entry.action === 'caseload.read' && entry.clientRef ? CASELOAD_CLIENT : NAMES[entry.action],
    start_time: at,
    end_time: at,
    resource: { attributes: { 'service.name': 'doelpoort' } },
    attributes,
  };
}

/** The Logboek record of one audit line written at `at` (epoch ms), its subject asked of `context` when needed. */
export function toLogboek(at: number, entry: AuditEntry, context: LogboekContext): LogboekRecord {
  const ref = subjectRefOf(entry);
  return logboekRecord(at, entry, ref === undefined ? undefined : context.subjectOf(ref), context);
}

/**
 * What an export through the audit reader (src/audit/reader.ts) needs besides the lines: `LogboekContext`, but the
 * records may be read over the network, so `subjectOf` may answer a promise.
 */
export interface LogboekSources extends Omit<LogboekContext, 'subjectOf'> {
  subjectOf(clientRef: string): Awaitable<string | undefined>;
}

/** Subjects asked of the records at once. */
const SUBJECT_BATCH = 64;

/**
 * The records of a run of stored lines (`at`, content; pruned lines left out by the caller) in their order, in
 * either database: the distinct clients of the run not yet in `subjects` are asked of `sources` a batch at a time
 * (never once per line), and remembered there for the runs after it.
 */
export async function logboekRun(
  lines: ReadonlyArray<readonly [at: number, content: string]>,
  sources: LogboekSources,
  subjects: Map<string, string | undefined>,
): Promise<LogboekRecord[]> {
  const entries = lines.map(([at, content]) => [at, (JSON.parse(content) as { entry: AuditEntry }).entry] as const);
  const wanted = new Set<string>();
  for (const [, entry] of entries) {
    const ref = subjectRefOf(entry);
    if (ref !== undefined && !subjects.has(ref)) wanted.add(ref);
  }
  const asked = [...wanted];
  for (let i = 0; i < asked.length; i += SUBJECT_BATCH) {
    const batch = asked.slice(i, i + SUBJECT_BATCH);
    const found = await Promise.all(batch.map((ref) => sources.subjectOf(ref)));
    for (const [k, ref] of batch.entries()) subjects.set(ref, found[k]);
  }
  return entries.map(([at, entry]) => {
    const ref = subjectRefOf(entry);
    return logboekRecord(at, entry, ref === undefined ? undefined : subjects.get(ref), sources);
  });
}

/** Lines turned into records per run. */
export const LOGBOEK_RUN = 2000;

/**
 * The lines with `from <= at <= to` (epoch ms, both optional) as Logboek records, oldest first, one at a time. Pruned
 * lines have no content left and are skipped. Each client's subject is looked up once per export.
 */
export function* exportLogboek(db: Db, context: LogboekContext, range: { from?: number | undefined; to?: number | undefined } = {}): Generator<LogboekRecord> {
  const subjects = new Map<string, string | undefined>();
  const cached: LogboekContext = {
    ...context,
    subjectOf(clientRef) {
      if (!subjects.has(clientRef)) subjects.set(clientRef, context.subjectOf(clientRef));
      return subjects.get(clientRef);
    },
  };
  const rows = db.$client
    .prepare<[number, number], [number, string]>('SELECT at, entry FROM audit_log WHERE at >= ? AND at <= ? AND entry IS NOT NULL ORDER BY seq')
    .raw()
    .iterate(range.from ?? Number.MIN_SAFE_INTEGER, range.to ?? Number.MAX_SAFE_INTEGER);
  for (const [at, content] of rows) {
    yield toLogboek(at, (JSON.parse(content) as { entry: AuditEntry }).entry, cached);
  }
}

/**
 * `exportLogboek` for the audit reader: the same records, with subjects that may be asked asynchronously. The lines
 * are read first (the statement finishes before any subject is asked: a connection is not shared mid-statement).
 */
export async function exportLogboekRecords(
  db: Db,
  sources: LogboekSources,
  range: { from?: number | undefined; to?: number | undefined } = {},
): Promise<LogboekRecord[]> {
  const lines = db.$client
    .prepare<[number, number], [number, string]>('SELECT at, entry FROM audit_log WHERE at >= ? AND at <= ? AND entry IS NOT NULL ORDER BY seq')
    .raw()
    .all(range.from ?? Number.MIN_SAFE_INTEGER, range.to ?? Number.MAX_SAFE_INTEGER);
  const subjects = new Map<string, string | undefined>();
  const records: LogboekRecord[] = [];
  for (let i = 0; i < lines.length; i += LOGBOEK_RUN) records.push(...(await logboekRun(lines.slice(i, i + LOGBOEK_RUN), sources, subjects)));
  return records;
}
