import type { Db } from '../db.js';
import { PURPOSES } from '../purposes.js';
import type { AuditEntry } from './entry.js';

/**
 * One processing as the Logboek Dataverwerkingen standard (logius) records it: an OpenTelemetry-style span with the
 * `dpl.core.*` attributes, plus doelpoort's own attributes under `doelpoort.*` (names and codes only).
 *
 * `status_code` is `OK` for a permit and `ERROR` for a deny or an error: only an `OK` line is a processing of the
 * data subject's data that actually took place; `doelpoort.outcome` and `doelpoort.reason` tell denials from
 * failures. The data subject is the BSN pseudonym when the line has one, else the clientRef; a line about no client
 * (a policy change, an audit read) has no data subject attributes. Pruned lines have no content and are skipped.
 */
export interface LogboekRecord {
  trace_id: string;
  span_id: string;
  name: string;
  start_time: string;
  end_time: string;
  status_code: 'OK' | 'ERROR';
  attributes: Record<string, string | number | string[]>;
}

/** The Logboek record of one line. */
export function toLogboek(seq: number, at: number, entry: AuditEntry): LogboekRecord {
  const time = new Date(at).toISOString();
  const attributes: LogboekRecord['attributes'] = { 'doelpoort.seq': seq, 'doelpoort.outcome': entry.outcome, 'doelpoort.reason': entry.reason };
  const activity = entry.processingActivityId ?? (entry.purpose ? PURPOSES[entry.purpose].processingActivityId : undefined);
  if (activity) attributes['dpl.core.processing_activity_id'] = activity;
  if (entry.bsnPseudonym) {
    attributes['dpl.core.data_subject_id'] = entry.bsnPseudonym;
    attributes['dpl.core.data_subject_id_type'] = 'BSN-pseudoniem';
  } else if (entry.clientRef) {
    attributes['dpl.core.data_subject_id'] = entry.clientRef;
    attributes['dpl.core.data_subject_id_type'] = 'clientRef';
  }
  if (entry.purpose) attributes['doelpoort.purpose'] = entry.purpose;
  if (entry.actor) {
    attributes['doelpoort.actor.iss'] = entry.actor.iss;
    attributes['doelpoort.actor.sub'] = entry.actor.sub;
    attributes['doelpoort.actor.role'] = entry.actor.role;
    attributes['doelpoort.actor.org'] = entry.actor.org;
  }
  if (entry.clientRef) attributes['doelpoort.client_ref'] = entry.clientRef;
  if (entry.policyVersion) attributes['doelpoort.policy_version'] = entry.policyVersion;
  if (entry.decisionId) attributes['doelpoort.decision_id'] = entry.decisionId;
  if (entry.tokenId) attributes['doelpoort.token_id'] = entry.tokenId;
  if (entry.released) attributes['doelpoort.fields.released'] = entry.released;
  if (entry.withheld) attributes['doelpoort.fields.withheld'] = entry.withheld;
  return {
    trace_id: entry.traceId,
    span_id: entry.spanId,
    name: entry.action,
    start_time: time,
    end_time: time,
    status_code: entry.outcome === 'permit' ? 'OK' : 'ERROR',
    attributes,
  };
}

/** The lines with `from <= at <= to` (epoch ms, both optional) as Logboek records, oldest first, one at a time. */
export function* exportLogboek(db: Db, range: { from?: number | undefined; to?: number | undefined } = {}): Generator<LogboekRecord> {
  const rows = db.$client
    .prepare<[number, number], [number, number, string]>('SELECT seq, at, entry FROM audit_log WHERE at >= ? AND at <= ? AND entry IS NOT NULL ORDER BY seq')
    .raw()
    .iterate(range.from ?? Number.MIN_SAFE_INTEGER, range.to ?? Number.MAX_SAFE_INTEGER);
  for (const [seq, at, content] of rows) {
    yield toLogboek(seq, at, (JSON.parse(content) as { entry: AuditEntry }).entry);
  }
}
