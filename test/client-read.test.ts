import { describe, expect, it } from 'vitest';
import { auditFacts } from '../src/audit/facts.js';
import type { Caller } from '../src/caller.js';
import { readCaseload, readClientRecord, readHandoverDocument, type ClientReading } from '../src/clients/read.js';
import { DecisionCache } from '../src/policy/decision-cache.js';
import type { Purpose, Requester, Role } from '../src/purposes.js';
import { setupTokens } from './token-support.js';

const TRACE = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) };

/** The verbs called as a web page or the CLI would: no HTTP, the real unit of work, records and policies. */
async function setup() {
  const ctx = await setupTokens();
  const reading: ClientReading = { policies: ctx.policies, clock: ctx.clock, decisions: new DecisionCache() };
  const asking = (role: Role, org: string, purpose: Purpose, client?: string): Caller => {
    const requester: Requester = { issuer: 'https://login.gemeente.example', sub: `${role}-${org}`, role, org, purpose, client, tokenId: 'tok-1' };
    return { requester, facts: auditFacts({ trace: TRACE, origin: '192.0.2.1' }, requester) };
  };
  return { ...ctx, reading, asking };
}

describe('readClientRecord', () => {
  it('returns the released view with its decision id, once its permit line (the same id) is committed', async () => {
    const { uow, reading, asking, auditEntries } = await setup();
    const client = await readClientRecord(uow, reading, asking('participatiecoach', 'GM1960', 'overdracht-kp4', 'WZR-100001'), 'WZR-100001');
    expect(client).toMatchObject({ clientRef: 'WZR-100001', decision: { id: expect.any(String), policyVersion: reading.policies.set.version } });
    expect(client.record.belastbaarheidsonderzoeken?.[0]).toBeDefined();
    expect(client.withheld.some((w) => w.field.endsWith('.diagnose'))).toBe(true);
    expect(auditEntries()).toEqual([
      expect.objectContaining({
        action: 'record.read',
        outcome: 'permit',
        decisionId: client.decision.id,
        clientRef: 'WZR-100001',
        origin: '192.0.2.1',
        traceId: TRACE.traceId,
        tokenId: 'tok-1',
      }),
    ]);
  });

  it.each([
    ['another purpose', 'participatiecoach', 'GM1960', 'toezicht', 'WZR-100001', 'PURPOSE_NOT_ALLOWED', 'PURPOSE_NOT_FOR_ROUTE', 403],
    ['a token for another client', 'participatiecoach', 'GM1960', 'overdracht-kp4', 'WZR-100002', 'CLIENT_NOT_ALLOWED', 'TOKEN_FOR_OTHER_CLIENT', 403],
    ['no relationship', 'participatiecoach', 'GM0281', 'overdracht-kp4', 'WZR-100001', 'RELATIONSHIP_MISSING', 'NO_HANDOVER_TO_ORGANISATION', 403],
  ] as const)('refuses %s: the refusal thrown, its deny line committed, nothing released', async (_, role, org, purpose, client, code, reason, httpStatus) => {
    const { uow, reading, asking, auditEntries } = await setup();
    await expect(readClientRecord(uow, reading, asking(role, org, purpose, client), 'WZR-100001')).rejects.toMatchObject({ code, reason });
    const lines = auditEntries();
    expect(lines).toEqual([expect.objectContaining({ action: 'record.read', outcome: 'deny', reason, httpStatus, clientRef: 'WZR-100001' })]);
    expect(lines[0]).not.toHaveProperty('released');
  });
});

describe('readHandoverDocument', () => {
  it('shows the grounding handover and is logged as document.read', async () => {
    const { uow, reading, asking, lastAudit } = await setup();
    const { document, decision } = await readHandoverDocument(
      uow,
      reading,
      asking('participatiecoach', 'GM1960', 'overdracht-kp4', 'WZR-100001'),
      'WZR-100001',
    );
    expect(document).toMatchObject({ clientRef: 'WZR-100001', richting: 'KP3-KP4', overdracht: { id: expect.any(String) } });
    expect(lastAudit()).toMatchObject({ action: 'document.read', outcome: 'permit', decisionId: decision.id });
  });
});

describe('readCaseload', () => {
  it('lists the municipality’s trajectories: the request’s line, then one line per client in a span of its own; refuses a token bound to a client', async () => {
    const { uow, reading, asking, auditEntries } = await setup();
    const page = await readCaseload(uow, reading, asking('schuldhulpverlener', 'GM0281', 'schuldhulpverlening'), { limit: 20 });
    expect(page.items.map((i) => i.clientRef)).toContain('WZR-100004');
    const [request, ...lines] = auditEntries();
    expect(request).toMatchObject({ action: 'caseload.read', outcome: 'permit', reason: 'PERMIT', count: page.items.length, ...TRACE });
    expect(request).not.toHaveProperty('clientRef');
    expect(request).not.toHaveProperty('parentSpanId');
    expect(lines.map((l) => [l.action, l.outcome, l.clientRef])).toEqual(page.items.map((i) => ['caseload.read', 'permit', i.clientRef]));
    expect(lines.map((l) => l.decisionId)).toEqual(page.items.map((i) => i.decision.id));
    for (const l of lines) expect(l).toMatchObject({ traceId: TRACE.traceId, parentSpanId: TRACE.spanId, spanId: expect.not.stringMatching(TRACE.spanId) });
    expect(lines[0]).not.toHaveProperty('remoteParent');

    await expect(readCaseload(uow, reading, asking('schuldhulpverlener', 'GM0281', 'schuldhulpverlening', 'WZR-100004'), { limit: 20 })).rejects.toMatchObject({
      code: 'PURPOSE_NOT_ALLOWED',
    });
    expect(auditEntries().at(-1)).toMatchObject({ action: 'caseload.read', outcome: 'deny', reason: 'NOT_A_CASELOAD_TOKEN', httpStatus: 403 });
  });

  it('logs an empty page as an access of its own', async () => {
    const { uow, reading, asking, auditEntries } = await setup();
    expect(await readCaseload(uow, reading, asking('schuldhulpverlener', 'GM1960', 'schuldhulpverlening'), { limit: 20 })).toEqual({ items: [], next: null });
    expect(auditEntries()).toEqual([expect.objectContaining({ action: 'caseload.read', outcome: 'permit', reason: 'CASELOAD_EMPTY' })]);
  });
});
