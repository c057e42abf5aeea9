import fs from 'node:fs';
import { Readable } from 'node:stream';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../src/audit/entry.js';
import type { AuditLog } from '../src/audit/log.js';
import { exportLogboek, logboekStatus, processingActivityUri, toLogboek, type LogboekContext, type LogboekRecord } from '../src/audit/export.js';
import { loadConfig } from '../src/config.js';
import { generateSuiteExport } from '../src/records/generate.js';
import { importSuiteExport } from '../src/records/import.js';
import { appendOne, readEntry } from './audit-support.js';
import { TODAY } from './support.js';
import { IDP_ISSUER, PUBLIC_URL, setupTokens, TEST_CLIENT_ID } from './token-support.js';

const schema = JSON.parse(fs.readFileSync(new URL('../docs/logboek-record.schema.json', import.meta.url), 'utf8')) as object;
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats.default(ajv);
const validate = ajv.compile(schema);

const REGISTER = 'https://register.werkzaakrivierenland.nl/verwerkingsactiviteiten/';
const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${CALLER_TRACE}-${CALLER_SPAN}-01`;

/** The schema's verdict on one record: its errors, or an empty list. */
function schemaErrors(record: unknown): string[] {
  return validate(record) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** The span id the gateway gave a request, as its `traceparent` answer header says. */
function spanOf(response: Response): string {
  return response.headers.get('traceparent')!.split('-')[2]!;
}

/**
 * A realistic day on the real app (example records, plus the generated clients with a Tiel debt trajectory): token
 * exchanges by clientRef and by BSN, permits, denials, a caseload with a caller's trace context, a refused token; and
 * the export context the CLI builds (the records' BSN of a clientRef, as the audit log's pseudonym).
 */
async function setup() {
  const ctx = await setupTokens();
  const tiel = [...generateSuiteExport({ seed: 7, clients: 400, today: TODAY })].filter((r) =>
    (r.schuldhulptrajecten ?? []).some((t) => t.gemeente === 'GM0281' && t.vanaf <= TODAY && (t.tot == null || t.tot >= TODAY)),
  );
  await importSuiteExport(ctx.records, Readable.from(tiel.map((r) => `${JSON.stringify(r)}\n`)), { clock: ctx.clock });
  const context: LogboekContext = {
    registerUrl: ctx.config.registerUrl,
    gatewayUrl: ctx.config.publicUrl,
    subjectOf: (clientRef) => {
      const bsn = ctx.records.bsnOf(clientRef);
      return bsn === undefined ? undefined : ctx.audit.pseudonym(bsn);
    },
  };
  async function token(claims: Record<string, unknown>, detail: Record<string, unknown>, headers: Record<string, string> = {}) {
    const res = await ctx.exchange(ctx.exchangeForm(await ctx.login(claims), detail), headers);
    return { res, token: res.ok ? ((await res.json()) as { access_token: string }).access_token : undefined };
  }
  const get = (path: string, bearer: string, headers: Record<string, string> = {}) =>
    ctx.app.request(path, { headers: { authorization: `Bearer ${bearer}`, ...headers } });
  const exported = () => [...exportLogboek(ctx.db, context)];
  return { ...ctx, context, token, get, exported, tielRefs: tiel.map((r) => r.clientRef) };
}

describe('the Logboek Dataverwerkingen export of a realistic log', () => {
  it('conforms to the schema written from the standard, line by line, and the chain still verifies', async () => {
    const { token, get, exported, audit, auditEntries } = await setup();
    const coach = await token({}, { purpose: 'overdracht-kp4', client: 'WZR-100001' });
    expect((await get('/v1/clients/WZR-100001', coach.token!, { traceparent: TRACEPARENT })).status).toBe(200);
    expect((await get('/v1/clients/WZR-100002', coach.token!)).status).toBe(403);
    expect((await get('/v1/clients/WZR-100001/handover-document', coach.token!)).status).toBe(200);
    expect((await token({ role: 'werkcoach' }, { purpose: 'overdracht-kp4', client: 'WZR-100001' })).res.status).toBe(403);
    expect((await token({}, { purpose: 'nosy', client: 'WZR-100001' })).res.status).toBe(400);
    const shv = await token({ role: 'schuldhulpverlener', org: 'GM0281' }, { purpose: 'schuldhulpverlening' });
    expect((await get('/v1/clients', shv.token!, { traceparent: TRACEPARENT })).status).toBe(200);
    expect((await token({ role: 'schuldhulpverlener', org: 'GM0281' }, { purpose: 'schuldhulpverlening', bsn: '101013036' })).res.status).toBe(200);
    expect((await token({ role: 'schuldhulpverlener', org: 'GM0281' }, { purpose: 'schuldhulpverlening', client: 'WZR-100004' })).res.status).toBe(200);
    appendError(audit);

    const records = exported();
    expect(records).toHaveLength(auditEntries().length);
    for (const record of records) expect(schemaErrors(record), JSON.stringify(record)).toEqual([]);
    expect(new Set(records.map((r) => r.status))).toEqual(new Set(['Ok', 'Unset', 'Error']));
    expect(audit.verify().ok).toBe(true);
  });

  it('maps permits to Ok, refusals (4xx) to Unset and faults (5xx) to Error, with the fault’s code', async () => {
    const { token, get, exported, audit } = await setup();
    const coach = await token({}, { purpose: 'overdracht-kp4', client: 'WZR-100001' });
    await get('/v1/clients/WZR-100001', coach.token!);
    await get('/v1/clients/WZR-100002', coach.token!);
    appendError(audit);
    const [issued, permit, deny, fault] = exported();
    expect([issued!.status, permit!.status, deny!.status, fault!.status]).toEqual(['Ok', 'Ok', 'Unset', 'Error']);
    expect(fault!.attributes['exception.type']).toBe('RECORDS_UNAVAILABLE');
    expect(deny!.attributes).not.toHaveProperty('exception.type');
    expect(permit!.name).toBe('Cliëntgegevens raadplegen');
  });

  it('names each processing activity by its URI in the register', async () => {
    const { token, get, exported } = await setup();
    const coach = await token({}, { purpose: 'overdracht-kp4', client: 'WZR-100001' });
    await get('/v1/clients/WZR-100001', coach.token!);
    await token({ role: 'schuldhulpverlener', org: 'GM0281' }, { purpose: 'schuldhulpverlening', client: 'WZR-100004' });
    expect(exported().map((r) => r.attributes['dpl.core.processing_activity_id'])).toEqual([
      `${REGISTER}WZR-VA-011`,
      `${REGISTER}WZR-VA-011`,
      `${REGISTER}WZR-VA-021`,
    ]);
  });

  it('records an incoming traceparent as the parent span of another application, and no parent without one', async () => {
    const { token, get, exported, auditEntries } = await setup();
    const coach = await token({}, { purpose: 'overdracht-kp4', client: 'WZR-100001' });
    const traced = await get('/v1/clients/WZR-100001', coach.token!, { traceparent: TRACEPARENT });
    await get('/v1/clients/WZR-100001', coach.token!, { traceparent: `00-${'0'.repeat(32)}-${CALLER_SPAN}-01` }); // invalid: a new trace
    expect(auditEntries()[1]).toMatchObject({ traceId: CALLER_TRACE, parentSpanId: CALLER_SPAN, remoteParent: true });
    const [issued, read, untraced] = exported();
    expect(issued).not.toHaveProperty('parent_span_id');
    expect(issued!.attributes).not.toHaveProperty('dpl.core.foreign_operation.processor');
    expect(read).toMatchObject({ trace_id: CALLER_TRACE, span_id: spanOf(traced), parent_span_id: CALLER_SPAN });
    expect(read!.attributes['dpl.core.foreign_operation.processor']).toBe(`${PUBLIC_URL}/oauth/clients/${TEST_CLIENT_ID}`);
    expect(untraced!.trace_id).not.toBe(CALLER_TRACE);
    expect(untraced).not.toHaveProperty('parent_span_id');
  });

  it('gives every client of a caseload page a span of its own under the request’s, whose own line has the caller as parent', async () => {
    const { token, get, exported, tielRefs, auditEntries } = await setup();
    const shv = await token({ role: 'schuldhulpverlener', org: 'GM0281' }, { purpose: 'schuldhulpverlening' });
    const res = await get('/v1/clients', shv.token!, { traceparent: TRACEPARENT });
    const page = (await res.json()) as { items: Array<{ clientRef: string }> };
    expect(page.items).toHaveLength(tielRefs.length + 1);
    const [, request, ...subjects] = exported();
    expect(request).toMatchObject({ trace_id: CALLER_TRACE, span_id: spanOf(res), parent_span_id: CALLER_SPAN, name: 'Caseload raadplegen', status: 'Ok' });
    expect(request!.attributes).not.toHaveProperty('dpl.core.data_subject_id');
    expect(auditEntries()[1]).toMatchObject({ action: 'caseload.read', count: page.items.length });
    expect(subjects).toHaveLength(page.items.length);
    for (const s of subjects) {
      expect(s).toMatchObject({ trace_id: CALLER_TRACE, parent_span_id: request!.span_id, name: 'Cliëntgegevens in een caseload raadplegen' });
      expect(s.attributes).not.toHaveProperty('dpl.core.foreign_operation.processor');
    }
    const spans = subjects.map((s) => s.span_id);
    expect(new Set([...spans, request!.span_id]).size).toBe(spans.length + 1);
    expect(new Set(subjects.map((s) => s.attributes['dpl.core.data_subject_id'])).size).toBe(page.items.length);
  });

  it('identifies a client by the pseudonym of their BSN, whether looked up by BSN or by clientRef, allowed or not', async () => {
    const { token, get, exported, audit } = await setup();
    const shv = { role: 'schuldhulpverlener', org: 'GM0281' };
    await token(shv, { purpose: 'schuldhulpverlening', bsn: '101013036' });
    const byRef = await token(shv, { purpose: 'schuldhulpverlening', client: 'WZR-100004' });
    await get('/v1/clients/WZR-100004', byRef.token!);
    await token({}, { purpose: 'overdracht-kp4', client: 'WZR-100004' }); // no handover to GM1960: refused
    await token({}, { purpose: 'overdracht-kp4', client: 'WZR-999999' }); // no such client
    const records = exported();
    const subject = audit.pseudonym('101013036');
    expect(records.slice(0, 4).map((r) => [r.status, r.attributes['dpl.core.data_subject_id'], r.attributes['dpl.core.data_subject_id_type']])).toEqual([
      ['Ok', subject, 'BSN'],
      ['Ok', subject, 'BSN'],
      ['Ok', subject, 'BSN'],
      ['Unset', subject, 'BSN'],
    ]);
    expect(records[4]!.attributes).not.toHaveProperty('dpl.core.data_subject_id');
  });

  it('leaves users, tokens, addresses, reasons, field names and clientRefs in the audit log', async () => {
    const { token, get, exported, auditEntries } = await setup();
    const coach = await token({ sub: 'coach-anna-7' }, { purpose: 'overdracht-kp4', client: 'WZR-100001' });
    await get('/v1/clients/WZR-100001', coach.token!, { traceparent: TRACEPARENT });
    await get('/v1/clients/WZR-100002', coach.token!);
    await token({ sub: 'coach-anna-7' }, { purpose: 'overdracht-kp4', bsn: '101010011' });
    const text = JSON.stringify(exported());
    const entries = auditEntries();
    const secrets = entries.flatMap((e) => [e.tokenId, e.decisionId, e.policyVersion, e.clientRef, e.reason === 'PERMIT' ? undefined : e.reason]);
    for (const value of [IDP_ISSUER, 'coach-anna-7', 'GM1960', 'participatiecoach', 'overdracht-kp4', '101010011', ...secrets]) {
      if (typeof value === 'string') expect(text).not.toContain(value);
    }
    for (const field of (entries[1]!.released as string[]).slice(0, 5)) expect(text).not.toContain(field);
    expect(text).not.toMatch(/"doelpoort\.|"actor|"origin|"iss"|"sub"/);
  });
});

describe('the record schema', () => {
  const good: LogboekRecord = {
    trace_id: CALLER_TRACE,
    span_id: 'a'.repeat(16),
    parent_span_id: CALLER_SPAN,
    status: 'Ok',
    name: 'Cliëntgegevens raadplegen',
    start_time: 1,
    end_time: 1,
    resource: { attributes: { 'service.name': 'doelpoort' } },
    attributes: {
      'dpl.core.processing_activity_id': `${REGISTER}WZR-VA-011`,
      'dpl.core.data_subject_id': 'f'.repeat(64),
      'dpl.core.data_subject_id_type': 'BSN',
      'dpl.core.foreign_operation.processor': `${PUBLIC_URL}/oauth/clients`,
    },
  };

  it('accepts a record of the standard and refuses what the export used to write, or half of a rule', () => {
    expect(schemaErrors(good)).toEqual([]);
    const { parent_span_id: _, ...orphan } = good;
    const bad: Array<[string, unknown]> = [
      ['the old status', { ...good, status: 'OK' }],
      ['status_code', { ...good, status_code: 'STATUS_CODE_OK' }],
      ['ISO times', { ...good, start_time: '2026-11-23T10:00:00.000Z' }],
      ['a doelpoort attribute', { ...good, attributes: { ...good.attributes, 'doelpoort.actor.sub': 'coach-1' } }],
      ['a number attribute', { ...good, attributes: { ...good.attributes, 'dpl.core.data_subject_id': 7 } }],
      ['an activity id that is no URI', { ...good, attributes: { ...good.attributes, 'dpl.core.processing_activity_id': 'WZR-VA-011' } }],
      ['a subject without its type', { ...good, attributes: { 'dpl.core.processing_activity_id': `${REGISTER}WZR-VA-011`, 'dpl.core.data_subject_id': 'x' } }],
      ['a subject without an activity', { ...good, attributes: { 'dpl.core.data_subject_id': 'x', 'dpl.core.data_subject_id_type': 'BSN' } }],
      ['a caller without its span', orphan],
      ['an upper-case span', { ...good, span_id: 'A'.repeat(16) }],
      ['an all-zero trace', { ...good, trace_id: '0'.repeat(32) }],
      ['no attributes', { ...good, attributes: undefined }],
    ];
    for (const [what, record] of bad) expect(schemaErrors(JSON.parse(JSON.stringify(record))), what).not.toEqual([]);
  });
});

describe(toLogboek.name, () => {
  const context: LogboekContext = { registerUrl: 'https://avg.example.nl/rva', gatewayUrl: 'https://doelpoort.example/', subjectOf: () => undefined };

  it('names the calling application by its registered client when the line has one', () => {
    const entry = { ...readEntry(1), parentSpanId: CALLER_SPAN, remoteParent: true, clientId: 'wijkteam-app' } as AuditEntry;
    const record = toLogboek(0, entry, context);
    expect(record.attributes['dpl.core.foreign_operation.processor']).toBe('https://doelpoort.example/oauth/clients/wijkteam-app');
    expect(record.attributes['dpl.core.processing_activity_id']).toBe('https://avg.example.nl/rva/WZR-VA-012');
    expect(schemaErrors(record)).toEqual([]);
  });

  it('keeps a local parent (the request’s span) without naming another application', () => {
    const record = toLogboek(0, { ...readEntry(1), parentSpanId: 'a'.repeat(16) } as AuditEntry, context);
    expect(record.parent_span_id).toBe('a'.repeat(16));
    expect(record.attributes).not.toHaveProperty('dpl.core.foreign_operation.processor');
  });

  it('exports a line written before this version (clientRef only, no parent) with its subject from the records', () => {
    const line = readEntry(1);
    const record = toLogboek(Date.parse(`${TODAY}T10:00:00Z`), line, { ...context, subjectOf: (ref) => (ref === line.clientRef ? 'f'.repeat(64) : undefined) });
    expect(record).toEqual({
      trace_id: line.traceId,
      span_id: line.spanId,
      status: 'Ok',
      name: 'Cliëntgegevens raadplegen',
      start_time: Date.parse(`${TODAY}T10:00:00Z`),
      end_time: Date.parse(`${TODAY}T10:00:00Z`),
      resource: { attributes: { 'service.name': 'doelpoort' } },
      attributes: {
        'dpl.core.processing_activity_id': 'https://avg.example.nl/rva/WZR-VA-012',
        'dpl.core.data_subject_id': 'f'.repeat(64),
        'dpl.core.data_subject_id_type': 'BSN',
      },
    } satisfies LogboekRecord);
  });

  it.each([
    ['permit', 200, 'Ok'],
    ['permit', undefined, 'Ok'],
    ['deny', 401, 'Unset'],
    ['deny', 403, 'Unset'],
    ['deny', 404, 'Unset'],
    ['deny', 429, 'Unset'],
    ['deny', 500, 'Error'],
    ['error', 503, 'Error'],
    ['error', undefined, 'Error'],
  ] as const)('status of a %s line with HTTP %s is %s', (outcome, httpStatus, status) => {
    expect(logboekStatus({ outcome, httpStatus })).toBe(status);
  });
});

describe('the register of processing activities', () => {
  it('is configured by DOELPOORT_REGISTER_URL (http or https, no query), ending in a slash', () => {
    expect(loadConfig({}).registerUrl).toBe(REGISTER);
    expect(loadConfig({ DOELPOORT_REGISTER_URL: 'https://avg.example.nl/rva' }).registerUrl).toBe('https://avg.example.nl/rva/');
    for (const bad of ['javascript:alert(1)', 'ftp://x.example/', 'https://x.example/?id=', 'register']) {
      expect(() => loadConfig({ DOELPOORT_REGISTER_URL: bad }), bad).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    }
    expect(processingActivityUri('https://avg.example.nl/rva/', 'WZR VA/1')).toBe('https://avg.example.nl/rva/WZR%20VA%2F1');
  });
});

/** A read that failed inside the system: the kind of line an outage of the records leaves (503). */
function appendError(audit: AuditLog) {
  appendOne(audit, { ...readEntry(2), outcome: 'error', reason: 'RECORDS_UNAVAILABLE', httpStatus: 503, released: [], withheld: [] } as AuditEntry);
}
