import fs from 'node:fs';
import path from 'node:path';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chainHash, GENESIS, leafHash, lineContent } from '../src/audit/chain.js';
import type { AuditEntry } from '../src/audit/entry.js';
import { AuditLog } from '../src/audit/log.js';
import { timeClass } from '../src/audit/office-hours.js';
import { fixedClock } from '../src/clock.js';
import type { Db } from '../src/db.js';
import type { Role } from '../src/purposes.js';
import { PURPOSES, type Purpose } from '../src/purposes.js';
import * as schema from '../schema/index.js';
import { appendLine } from '../src/unit-of-work.js';
import { type BothCtx, type BothSetup, forEachDatabase, runSql } from './both-databases.js';
import { accessToken, protectedRouteMatrix, send, type TestGrant } from './security-matrix.js';
import { IDP_ISSUER, setupTokens } from './token-support.js';
import { tempDir, TODAY } from './support.js';
import { EXAMPLE_EXPORT_FILE } from '../src/demo.js';

// ---------------------------------------------------------------------------------------------------------------
// A generated audit log with known counts, written through the real unit of work with the clock at chosen times.

interface Person {
  sub: string;
  role: Role;
  org: string;
  purpose: Purpose;
}

const coach = (sub: string): Person => ({ sub, role: 'participatiecoach', org: 'GM1960', purpose: 'begeleiding-kp4' });
const A = coach('coach-a');
const B = coach('coach-b');
const C = coach('coach-c');
/** Reads far more than the others of West Betuwe: must stand out on volume. */
const X = coach('coach-x');
/** Is refused again and again: must stand out on denials. */
const D = coach('coach-d');
/** Works at night: must stand out outside office hours. */
const E = coach('coach-e');
/** Tiel's only debt counsellor: many accesses, but no peers, so never compared. */
const S: Person = { sub: 'shv-1', role: 'schuldhulpverlener', org: 'GM0281', purpose: 'schuldhulpverlening' };
const W: Person = { sub: 'wc-1', role: 'werkcoach', org: 'WERKZAAK', purpose: 'overdracht-kp3' };

let n = 0;
const hex = (len: number) => (++n).toString(16).padStart(len, '0');

function base(p: Person): Omit<AuditEntry, 'action' | 'outcome' | 'reason' | 'httpStatus'> {
  return {
    traceId: hex(32),
    spanId: hex(16),
    origin: '127.0.0.1',
    actor: { iss: IDP_ISSUER, sub: p.sub, role: p.role, org: p.org },
    purpose: p.purpose,
    processingActivityId: PURPOSES[p.purpose].processingActivityId,
  } as never;
}

function read(p: Person, clientRef: string, outcome: 'permit' | 'deny' = 'permit', extra: Partial<AuditEntry> = {}): AuditEntry {
  return {
    action: 'record.read',
    ...base(p),
    clientRef,
    outcome,
    reason: outcome === 'permit' ? 'PERMIT' : 'NO_HANDOVER_TO_ORGANISATION',
    httpStatus: outcome === 'permit' ? 200 : 403,
    ...(outcome === 'permit' ? { released: ['persoon.voornamen'], bsnPseudonym: 'c'.repeat(64) } : {}),
    ...extra,
  } as AuditEntry;
}

function token(p: Person, outcome: 'permit' | 'deny', facts: { clientRef?: string; bsn?: boolean; reason?: string }): AuditEntry {
  return {
    action: outcome === 'permit' ? 'token.issued' : 'token.refused',
    ...base(p),
    ...(outcome === 'permit' ? { tokenId: `tok-${hex(8)}` } : {}),
    ...(facts.clientRef ? { clientRef: facts.clientRef } : {}),
    ...(facts.bsn ? { bsnPseudonym: 'd'.repeat(64) } : {}),
    outcome,
    reason: facts.reason ?? (outcome === 'permit' ? 'PERMIT' : 'CLIENT_UNKNOWN'),
    httpStatus: outcome === 'permit' ? 200 : 403,
  } as AuditEntry;
}

/** `count` moments from `startIso`, a minute apart. */
const minutes = (startIso: string, count: number) => Array.from({ length: count }, (_, i) => new Date(Date.parse(startIso) + i * 60_000).toISOString());
const ref = (k: number) => `WZR-${String(200000 + k)}`;

/** The generated log: [moment (UTC), entry]. Weekday daytime in October 2026 is 10:00 local = 08:00Z (summer time). */
function generatedLog(): Array<[string, AuditEntry]> {
  const lines: Array<[string, AuditEntry]> = [];
  const add = (at: string, e: AuditEntry) => lines.push([at, e]);
  // West Betuwe's coaches A, B, C: 10 daytime reads each on Wednesday 7 October, of 5 clients; two of A's are emergencies.
  for (const [k, p] of [A, B, C].entries()) {
    minutes(`2026-10-07T08:${String(k * 15).padStart(2, '0')}:00Z`, 10).forEach((at, i) =>
      add(at, read(p, ref(i % 5), 'permit', p === A && i < 2 ? { noodtoegang: true } : {})),
    );
  }
  // X: 60 daytime reads of 20 clients on Wednesday 14 October, and 9 at chosen hours, one of them in November.
  minutes('2026-10-14T08:00:00Z', 60).forEach((at, i) => add(at, read(X, ref(100 + (i % 20)))));
  for (const at of [
    '2026-10-06T17:30:00Z', // Tuesday 19:30 local: off-hours
    '2026-10-08T04:30:00Z', // Thursday 06:30 local: off-hours
    '2026-10-10T10:00:00Z', // Saturday 12:00 local: weekend
    '2026-10-10T19:00:00Z', // Saturday 21:00 local: off-hours and weekend
    '2026-10-26T05:30:00Z', // Monday 06:30 local in winter time (UTC+1): off-hours, though 07:30 in summer time
    '2026-10-26T17:30:00Z', // Monday 18:30 local in winter time: daytime, though 19:30 in summer time
    '2026-10-07T18:30:00Z', // Wednesday 20:30 local: off-hours, though 18:30 UTC
    '2026-09-30T22:30:00Z', // Thursday 1 October 00:30 local: October, off-hours
    '2026-10-31T23:30:00Z', // Sunday 1 November 00:30 local: November, not October
  ]) {
    add(at, read(X, ref(300)));
  }
  // D: 5 permitted and 5 denied daytime reads, and 10 refused token requests.
  minutes('2026-10-13T08:00:00Z', 5).forEach((at, i) => add(at, read(D, ref(400 + i))));
  minutes('2026-10-13T09:00:00Z', 5).forEach((at, i) => add(at, read(D, ref(410 + i), 'deny')));
  minutes('2026-10-13T10:00:00Z', 10).forEach((at, i) => add(at, token(D, 'deny', { clientRef: ref(420 + i), reason: 'CLIENT_IN_OTHER_MUNICIPALITY' })));
  // E: 12 reads at 22:00 local on weekdays (20:00Z), of 3 clients.
  for (let i = 0; i < 12; i++) {
    const day = [5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 19, 20][i]!;
    add(`2026-10-${String(day).padStart(2, '0')}T20:00:00Z`, read(E, ref(500 + (i % 3))));
  }
  // S: 70 daytime reads of 7 clients; 3 look-ups by BSN issued and 1 refused; a refusal that named both (no look-up).
  minutes('2026-10-15T09:00:00Z', 70).forEach((at, i) => add(at, read(S, ref(600 + (i % 7)))));
  minutes('2026-10-16T09:00:00Z', 3).forEach((at, i) => add(at, token(S, 'permit', { clientRef: ref(600 + i), bsn: true })));
  add('2026-10-16T09:10:00Z', token(S, 'deny', { bsn: true, reason: 'CLIENT_UNKNOWN' }));
  add('2026-10-16T09:20:00Z', token(S, 'deny', { clientRef: ref(600), bsn: true, reason: 'CLIENT_AND_BSN' }));
  // W: 5 daytime reads.
  minutes('2026-10-20T08:00:00Z', 5).forEach((at, i) => add(at, read(W, ref(700 + i))));
  // Not counted: refused requests of nobody identified, and an officer's reading of the log.
  const nobody = { traceId: hex(32), spanId: hex(16), origin: '127.0.0.1', outcome: 'deny', reason: 'TOKEN_EXPIRED', httpStatus: 400 } as const;
  add('2026-10-21T08:00:00Z', { action: 'token.refused', ...nobody });
  add('2026-10-21T08:01:00Z', { action: 'token.refused', ...nobody, bsnPseudonym: 'e'.repeat(64) });
  add('2026-10-21T08:02:00Z', {
    action: 'audit.read',
    ...base({ sub: 'po', role: 'privacy-officer', org: 'WERKZAAK', purpose: 'toezicht' }),
    outcome: 'permit',
    reason: 'AUDIT_LISTED',
    httpStatus: 200,
  } as AuditEntry);
  // The months before: 4 of A's reads in September, 3 of W's in July.
  minutes('2026-09-09T08:00:00Z', 4).forEach((at, i) => add(at, read(A, ref(i))));
  minutes('2026-07-08T08:00:00Z', 3).forEach((at, i) => add(at, read(W, ref(700 + i))));
  return lines.sort((a, b) => a[0].localeCompare(b[0]));
}

/** An app made by `make` with the generated log written through its unit of work, the clock back at TODAY 10:00 afterwards. */
async function withLog(make: BothSetup): Promise<BothCtx> {
  const ctx = await make();
  const back = ctx.clock.now();
  for (const [at, entry] of generatedLog()) {
    ctx.clock.advance(Date.parse(at) - ctx.clock.now());
    await appendLine(ctx.uow, entry);
  }
  ctx.clock.advance(back - ctx.clock.now());
  return ctx;
}

const officer = (org: string, sub = `po-${org}`): TestGrant => ({ user: { sub, role: 'privacy-officer', org }, purpose: 'toezicht' });
const WERKZAAK_PO = officer('WERKZAAK');
const WEST_BETUWE_PO = officer('GM1960');

async function call<T = any>(ctx: BothCtx, method: 'GET' | 'POST', p: string, grant: TestGrant, body?: unknown) {
  const res = await send(ctx, { method, path: p, body }, await accessToken(ctx, grant));
  return { status: res.status, headers: res.headers, body: (await res.json()) as T };
}

const newLines = async (ctx: BothCtx, before: number) => (await ctx.auditEntries()).slice(before);
const figure = (report: any, key: string) => report.figures.find((f: any) => f.key === key);
const figuresOf = (report: any) => Object.fromEntries(report.figures.map((f: any) => [f.key, f.value]));

// ---------------------------------------------------------------------------------------------------------------

describe('GET /v1/oversight/monthly', () => {
  forEachDatabase((make) => {
    const setup = () => withLog(make);

    it('counts the month exactly, in local time (19:00–07:00, weekends, the DST change, the month’s local edges)', async () => {
      const ctx = await setup();
      const { status, headers, body } = await call(ctx, 'GET', '/v1/oversight/monthly?month=2026-10', WERKZAAK_PO);
      expect(status).toBe(200);
      expect(headers.get('cache-control')).toBe('no-store');
      expect(body).toMatchObject({
        month: '2026-10',
        from: '2026-09-30T22:00:00.000Z',
        to: '2026-10-31T23:00:00.000Z',
        timeZone: 'Europe/Amsterdam',
        reikwijdte: 'alle',
      });
      expect(figuresOf(body)).toEqual({
        accesses: 195, // A, B, C 30 + X 68 + D 10 + E 12 + S 70 + W 5
        permits: 190,
        denials: 5,
        tokenRefusals: 12, // D 10 + S 2 (the refused look-up, and the one that named both)
        bsnLookups: 4, // S: 3 issued + 1 refused; not the one that also named a clientRef
        offHours: 18, // X 6 + E 12
        weekend: 2, // X on Saturday, at noon and at night
        emergency: 2,
      });
      expect(body.groups).toEqual([
        expect.objectContaining({
          organisation: 'GM0281',
          organisationName: 'Tiel',
          role: 'schuldhulpverlener',
          purpose: 'schuldhulpverlening',
          accesses: 70,
          tokenRefusals: 2,
          bsnLookups: 4,
        }),
        expect.objectContaining({ organisation: 'WERKZAAK', role: 'werkcoach', purpose: 'overdracht-kp3', accesses: 5, permits: 5, offHours: 0 }),
        expect.objectContaining({
          organisation: 'GM1960',
          organisationName: 'West Betuwe',
          role: 'participatiecoach',
          purpose: 'begeleiding-kp4',
          purposeLabel: 'Begeleiding KP4',
          accesses: 120,
          denials: 5,
          tokenRefusals: 10,
          offHours: 18,
          weekend: 2,
          emergency: 2,
        }),
      ]);
    });

    it('compares each figure with the 6 months before, as a series per figure', async () => {
      const ctx = await setup();
      const { body } = await call(ctx, 'GET', '/v1/oversight/monthly?month=2026-10', WERKZAAK_PO);
      expect(body.months).toEqual(['2026-04', '2026-05', '2026-06', '2026-07', '2026-08', '2026-09', '2026-10']);
      const accesses = figure(body, 'accesses');
      expect(accesses.series.map((s: any) => s.value)).toEqual([0, 0, 0, 3, 0, 4, 195]);
      expect(accesses.previousAverage).toBe(3.5); // July and September, the months with lines
      expect(accesses.label).toBe('Raadplegingen');
      expect(figure(body, 'offHours').series.map((s: any) => s.value)).toEqual([0, 0, 0, 0, 0, 0, 18]);
      // The line at 00:30 local on 1 November belongs to November.
      const november = await call(ctx, 'GET', '/v1/oversight/monthly?month=2026-11', WERKZAAK_PO);
      expect(figuresOf(november.body)).toMatchObject({ accesses: 1, offHours: 1, weekend: 1 });
      expect(figure(november.body, 'accesses').series.at(-2)).toEqual({ month: '2026-10', value: 195 });
    });

    it('gives a municipal officer the figures of their own organisation’s staff only', async () => {
      const ctx = await setup();
      const { body } = await call(ctx, 'GET', '/v1/oversight/monthly?month=2026-10', WEST_BETUWE_PO);
      expect(body.reikwijdte).toBe('GM1960');
      expect(figuresOf(body)).toEqual({ accesses: 120, permits: 115, denials: 5, tokenRefusals: 10, bsnLookups: 0, offHours: 18, weekend: 2, emergency: 2 });
      expect(body.groups.map((g: any) => g.organisation)).toEqual(['GM1960']);
      expect(figure(body, 'accesses').series.map((s: any) => s.value)).toEqual([0, 0, 0, 0, 0, 4, 120]);
      expect(JSON.stringify(body)).not.toMatch(/GM0281|WERKZAAK|Tiel|schuld/);
    });

    it('holds figures only: no person, client, BSN pseudonym or value', async () => {
      const ctx = await setup();
      const text = JSON.stringify((await call(ctx, 'GET', '/v1/oversight/monthly?month=2026-10', WERKZAAK_PO)).body);
      expect(text).not.toMatch(/coach-|shv-|wc-1|WZR-|c{64}|d{64}|voornamen|https:\/\/login/);
    });

    it('writes one line per viewing, with the period and the number of groups, and never a figure', async () => {
      const ctx = await setup();
      const before = (await ctx.auditEntries()).length;
      await call(ctx, 'GET', '/v1/oversight/monthly?month=2026-10', WEST_BETUWE_PO);
      const lines = await newLines(ctx, before);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        action: 'oversight.read',
        outcome: 'permit',
        reason: 'OVERSIGHT_MONTHLY',
        httpStatus: 200,
        count: 1,
        from: Date.parse('2026-09-30T22:00:00Z'),
        to: Date.parse('2026-10-31T23:00:00Z'),
        actor: { sub: 'po-GM1960', role: 'privacy-officer', org: 'GM1960' },
        purpose: 'toezicht',
      });
    });

    it.each([
      ['month=2026-13', 'REQUEST_INVALID'],
      ['month=2026-1', 'REQUEST_INVALID'],
      ['month=oct', 'REQUEST_INVALID'],
      ['', 'REQUEST_INVALID'],
      ['month=2026-10&org=GM0281', 'REQUEST_INVALID'],
      ['month=2026-12', 'REQUEST_INVALID'], // not begun yet on 23 November 2026
    ])('refuses ?%s with 400 and a deny line', async (q, code) => {
      const ctx = await setup();
      const before = (await ctx.auditEntries()).length;
      const res = await call(ctx, 'GET', `/v1/oversight/monthly?${q}`, WERKZAAK_PO);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.body.code).toBe(code);
      expect(await newLines(ctx, before)).toEqual([
        expect.objectContaining({ action: 'oversight.read', outcome: 'deny', reason: 'REQUEST_INVALID', httpStatus: 400 }),
      ]);
    });

    it('refuses a token that is not a privacy officer’s toezicht token (403 and a deny line)', async () => {
      const ctx = await setup();
      for (const grant of [
        { user: { sub: 'coach-a', role: 'participatiecoach' as const, org: 'GM1960' }, purpose: 'begeleiding-kp4' as const, client: 'WZR-100001' },
        { user: { sub: 'po-x', role: 'privacy-officer' as const, org: 'WERKZAAK' }, purpose: 'beleidsbeheer' as const },
      ]) {
        const before = (await ctx.auditEntries()).length;
        const res = await call(ctx, 'GET', '/v1/oversight/monthly?month=2026-10', grant);
        expect(res.status).toBe(403);
        expect(res.body.code).toBe('PURPOSE_NOT_ALLOWED');
        expect(res.body.figures).toBeUndefined();
        expect(await newLines(ctx, before)).toEqual([
          expect.objectContaining({ action: 'oversight.read', outcome: 'deny', reason: 'PURPOSE_NOT_FOR_ROUTE', httpStatus: 403 }),
        ]);
      }
    });

    it('counts a real look-up by BSN at the token endpoint, and not the same request by clientRef', async () => {
      const ctx = await make();
      // WZR-100004 is in a debt-counselling trajectory with Tiel (test/access-report.test.ts reads it so too).
      const record = fs
        .readFileSync(EXAMPLE_EXPORT_FILE, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { clientRef: string; bsn: string })
        .find((r) => r.clientRef === 'WZR-100004')!;
      const login = await ctx.login({ sub: 'shv-9', role: 'schuldhulpverlener', org: 'GM0281' });
      expect((await ctx.exchange(ctx.exchangeForm(login, { purpose: 'schuldhulpverlening', bsn: record.bsn }))).status).toBe(200);
      expect((await ctx.exchange(ctx.exchangeForm(login, { purpose: 'schuldhulpverlening', client: record.clientRef }))).status).toBe(200);
      expect((await ctx.exchange(ctx.exchangeForm(login, { purpose: 'schuldhulpverlening', bsn: '111222333' }))).status).toBe(403); // a valid BSN of nobody on record
      const { body } = await call(ctx, 'GET', '/v1/oversight/monthly?month=2026-11', WERKZAAK_PO);
      expect(figuresOf(body)).toMatchObject({ bsnLookups: 2, tokenRefusals: 1 });
      expect(JSON.stringify(body)).not.toContain(record.bsn);
    });
  });

  describe('the shared security matrix', () => {
    protectedRouteMatrix(
      { method: 'GET', path: '/v1/oversight/monthly?month=2026-10' },
      { valid: WERKZAAK_PO, wrongPurpose: { user: { sub: 'po', role: 'privacy-officer', org: 'WERKZAAK' }, purpose: 'beleidsbeheer' } },
    );
  });
});

describe('GET /v1/oversight/users', () => {
  const person = (body: any, sub: string) => body.persons.find((p: any) => p.sub === sub);

  forEachDatabase((make) => {
    const setup = () => withLog(make);

    it('gives each person’s figures exactly, and who stands out under which rule', async () => {
      const ctx = await setup();
      const { status, body } = await call(ctx, 'GET', '/v1/oversight/users?from=2026-10-01&to=2026-10-31', WERKZAAK_PO);
      expect(status).toBe(200);
      expect(body).toMatchObject({ fromDate: '2026-10-01', toDate: '2026-10-31', reikwijdte: 'alle', minimumPeers: 2, timeZone: 'Europe/Amsterdam' });
      expect(body.persons).toHaveLength(8);
      expect(person(body, 'coach-x')).toMatchObject({
        iss: IDP_ISSUER,
        role: 'participatiecoach',
        organisation: 'GM1960',
        accesses: 68,
        distinctClients: 21,
        offHours: 6,
        weekend: 2,
        outsideOfficeHours: 7,
        peers: 5,
        peerMedian: { accesses: 10, denialShare: 0, outsideOfficeHoursShare: 0 },
        standsOut: [{ rule: 'volume', value: 68, threshold: 30 }],
      });
      expect(person(body, 'coach-d')).toMatchObject({
        accesses: 10,
        permits: 5,
        denials: 5,
        tokenRefusals: 10,
        denialShare: 0.75,
        distinctClients: 5,
        standsOut: [{ rule: 'denials', value: 0.75, threshold: 0.2 }],
      });
      expect(person(body, 'coach-e')).toMatchObject({
        accesses: 12,
        offHours: 12,
        offHoursShare: 1,
        distinctClients: 3,
        standsOut: [{ rule: 'outsideOfficeHours', value: 1, threshold: 0.25 }],
      });
      // A normal coach does not stand out; neither does Tiel's only debt counsellor, for lack of peers.
      expect(person(body, 'coach-a')).toMatchObject({ accesses: 10, distinctClients: 5, emergency: 2, standsOut: [] });
      expect(person(body, 'shv-1')).toMatchObject({
        accesses: 70,
        distinctClients: 7,
        tokenRefusals: 2,
        bsnLookups: 4,
        peers: 0,
        peerMedian: null,
        standsOut: [],
      });
      expect(person(body, 'wc-1')).toMatchObject({ accesses: 5, peers: 0, standsOut: [] });
      // Those who stand out come first.
      expect(body.persons.slice(0, 3).map((p: any) => p.sub)).toEqual(['coach-x', 'coach-e', 'coach-d']);
      expect(body.rules.map((r: any) => r.id)).toEqual(['volume', 'denials', 'outsideOfficeHours']);
      expect(body.rules[0].description).toMatch(/3 keer de mediaan/);
    });

    it('compares a person only with others of the same role and organisation, and with at least 2 of them', async () => {
      const ctx = await setup();
      // 7 October: A, B, C, X and E of West Betuwe read, X once (far below the minimum of 50).
      const { body } = await call(ctx, 'GET', '/v1/oversight/users?from=2026-10-07&to=2026-10-07', WERKZAAK_PO);
      expect(body.persons.map((p: any) => p.sub).sort()).toEqual(['coach-a', 'coach-b', 'coach-c', 'coach-e', 'coach-x']);
      const x = person(body, 'coach-x');
      expect(x).toMatchObject({ accesses: 1, peers: 4, standsOut: [] });
      // 14 October: X reads 60 times, E once; one peer is too few to compare with, so nobody stands out.
      const single = await call(ctx, 'GET', '/v1/oversight/users?from=2026-10-14&to=2026-10-14', WERKZAAK_PO);
      expect(single.body.persons.map((p: any) => [p.sub, p.peers, p.standsOut.length])).toEqual([
        ['coach-x', 1, 0],
        ['coach-e', 1, 0],
      ]);
    });

    it('gives a municipal officer their own organisation’s staff only', async () => {
      const ctx = await setup();
      const { body } = await call(ctx, 'GET', '/v1/oversight/users?from=2026-10-01&to=2026-10-31', WEST_BETUWE_PO);
      expect(body.reikwijdte).toBe('GM1960');
      expect(body.persons.map((p: any) => p.sub).sort()).toEqual(['coach-a', 'coach-b', 'coach-c', 'coach-d', 'coach-e', 'coach-x']);
      expect(body.persons.every((p: any) => p.organisation === 'GM1960')).toBe(true);
      expect(JSON.stringify(body)).not.toMatch(/shv-1|wc-1|GM0281/);
      const tiel = await call(ctx, 'GET', '/v1/oversight/users?from=2026-10-01&to=2026-10-31', officer('GM0281'));
      expect(tiel.body.persons.map((p: any) => p.sub)).toEqual(['shv-1']);
    });

    it('writes one line per viewing with the number of persons shown', async () => {
      const ctx = await setup();
      const before = (await ctx.auditEntries()).length;
      await call(ctx, 'GET', '/v1/oversight/users?from=2026-10-01&to=2026-10-31', WEST_BETUWE_PO);
      expect(await newLines(ctx, before)).toEqual([
        expect.objectContaining({
          action: 'oversight.read',
          outcome: 'permit',
          reason: 'OVERSIGHT_USERS',
          count: 6,
          from: Date.parse('2026-09-30T22:00:00Z'),
          to: Date.parse('2026-10-31T23:00:00Z'),
        }),
      ]);
    });

    it.each([
      'from=2026-10-31&to=2026-10-01', // the wrong way round
      'from=2026-02-30&to=2026-03-01', // a day that does not exist
      'from=2026-07-01&to=2026-10-31', // longer than 92 days
      'from=2026-11-01&to=2026-11-30', // ends in the future
      'from=2026-10-01', // no end
      'from=2026-10-01&to=2026-10-31&sub=coach-x', // an unknown parameter
      'from=1696111200000&to=2026-10-31', // epoch milliseconds are not a day
    ])('refuses ?%s with 400 and a deny line', async (q) => {
      const ctx = await setup();
      const before = (await ctx.auditEntries()).length;
      const res = await call(ctx, 'GET', `/v1/oversight/users?${q}`, WERKZAAK_PO);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('REQUEST_INVALID');
      expect(res.body.persons).toBeUndefined();
      expect(await newLines(ctx, before)).toEqual([expect.objectContaining({ action: 'oversight.read', outcome: 'deny', httpStatus: 400 })]);
    });

    it('refuses a coach’s token (403 and a deny line)', async () => {
      const ctx = await setup();
      const before = (await ctx.auditEntries()).length;
      const res = await call(ctx, 'GET', '/v1/oversight/users?from=2026-10-01&to=2026-10-31', {
        user: { sub: 'coach-x', role: 'participatiecoach', org: 'GM1960' },
        purpose: 'begeleiding-kp4',
        client: 'WZR-100001',
      });
      expect(res.status).toBe(403);
      expect(await newLines(ctx, before)).toEqual([expect.objectContaining({ action: 'oversight.read', outcome: 'deny', httpStatus: 403 })]);
    });
  });
});

describe('the review trail: POST and GET /v1/oversight/reviews', () => {
  forEachDatabase((make) => {
    it('records a review with its line (never the note), and lists it', async () => {
      const ctx = await make();
      const before = (await ctx.auditEntries()).length;
      const note = 'Maandrapport oktober besproken; coach-x gevraagd naar de avonden.';
      const res = await call(ctx, 'POST', '/v1/oversight/reviews', WEST_BETUWE_PO, { subject: 'monthly', month: '2026-10', note });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        id: 1,
        at: Date.parse(`${TODAY}T10:00:00Z`),
        officer: { iss: IDP_ISSUER, sub: 'po-GM1960', org: 'GM1960' },
        subject: 'monthly',
        periodFrom: '2026-10-01',
        periodTo: '2026-10-31',
        note,
      });
      const lines = await newLines(ctx, before);
      expect(lines).toEqual([
        expect.objectContaining({
          action: 'oversight.reviewed',
          outcome: 'permit',
          reason: 'REVIEW_MONTHLY',
          httpStatus: 201,
          reviewId: 1,
          from: Date.parse('2026-09-30T22:00:00Z'),
          to: Date.parse('2026-10-31T23:00:00Z'),
        }),
      ]);
      expect(JSON.stringify(lines)).not.toContain('besproken');
      const period = await call(ctx, 'POST', '/v1/oversight/reviews', WEST_BETUWE_PO, {
        subject: 'period',
        from: '2026-11-01',
        to: '2026-11-20',
        note: 'Steekproef.',
      });
      expect(period.body).toMatchObject({ id: 2, subject: 'period', periodFrom: '2026-11-01', periodTo: '2026-11-20' });
      const listed = await call(ctx, 'GET', '/v1/oversight/reviews', WEST_BETUWE_PO);
      expect(listed.body.items.map((r: any) => r.id)).toEqual([2, 1]);
      expect(listed.body.next).toBeNull();
      expect(await ctx.lastAudit()).toMatchObject({ action: 'oversight.read', reason: 'OVERSIGHT_REVIEWS', count: 2 });
    });

    it('lists a municipal officer’s organisation’s reviews only, a Werkzaak officer’s all, a page at a time', async () => {
      const ctx = await make();
      for (const [grant, k] of [
        [WEST_BETUWE_PO, 1],
        [officer('GM0281'), 2],
        [WERKZAAK_PO, 3],
        [officer('GM1960', 'po-2'), 4],
      ] as const) {
        expect(
          (await call(ctx, 'POST', '/v1/oversight/reviews', grant, { subject: 'users', from: '2026-10-01', to: '2026-10-31', note: `review ${k}` })).status,
        ).toBe(201);
      }
      const own = await call(ctx, 'GET', '/v1/oversight/reviews', WEST_BETUWE_PO);
      expect(own.body.items.map((r: any) => r.note)).toEqual(['review 4', 'review 1']);
      const first = await call(ctx, 'GET', '/v1/oversight/reviews?limit=3', WERKZAAK_PO);
      expect(first.body.items.map((r: any) => r.note)).toEqual(['review 4', 'review 3', 'review 2']);
      const second = await call(ctx, 'GET', `/v1/oversight/reviews?limit=3&cursor=${first.body.next}`, WERKZAAK_PO);
      expect(second.body).toEqual({ items: [expect.objectContaining({ note: 'review 1' })], next: null });
      expect((await call(ctx, 'GET', '/v1/oversight/reviews?cursor=nonsense', WERKZAAK_PO)).status).toBe(400);
    });

    it.each([
      ['a BSN in the note', { subject: 'monthly', month: '2026-10', note: 'Cliënt 123456782 besproken' }],
      ['an empty note', { subject: 'monthly', month: '2026-10', note: '   ' }],
      ['a note over 2000 characters', { subject: 'monthly', month: '2026-10', note: 'x'.repeat(2001) }],
      ['an unknown subject', { subject: 'weekly', month: '2026-10', note: 'x' }],
      ['a month for a period', { subject: 'period', month: '2026-10', note: 'x' }],
      ['a month not begun', { subject: 'monthly', month: '2027-01', note: 'x' }],
      ['a period ending in the future', { subject: 'break-glass', from: '2026-11-01', to: '2026-11-30', note: 'x' }],
      ['a period the wrong way round', { subject: 'period', from: '2026-10-31', to: '2026-10-01', note: 'x' }],
      ['an unknown field', { subject: 'monthly', month: '2026-10', note: 'x', officer: 'someone-else' }],
    ])('refuses %s with 400 and a deny line, storing nothing', async (_, body) => {
      const ctx = await make();
      const before = (await ctx.auditEntries()).length;
      const res = await call(ctx, 'POST', '/v1/oversight/reviews', WERKZAAK_PO, body);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('REQUEST_INVALID');
      const lines = await newLines(ctx, before);
      expect(lines).toEqual([expect.objectContaining({ action: 'oversight.reviewed', outcome: 'deny', reason: 'REQUEST_INVALID', httpStatus: 400 })]);
      expect(JSON.stringify(lines)).not.toMatch(/123456782|xxxx/);
      expect(JSON.stringify(res.body)).not.toContain('123456782');
      expect(await runSql(ctx, 'SELECT count(*) AS n FROM oversight_reviews')).toEqual([{ n: 0 }]);
    });

    it('refuses a body that is not JSON, and a coach’s token, with their lines', async () => {
      const ctx = await make();
      const before = (await ctx.auditEntries()).length;
      const res = await ctx.app.request('/v1/oversight/reviews', {
        method: 'POST',
        headers: { authorization: `Bearer ${await accessToken(ctx, WERKZAAK_PO)}`, 'content-type': 'application/json' },
        body: '{not json',
      });
      expect(res.status).toBe(400);
      const coachToken = { user: { sub: 'c', role: 'participatiecoach' as const, org: 'GM1960' }, purpose: 'begeleiding-kp4' as const, client: 'WZR-100001' };
      const coach = await call(ctx, 'POST', '/v1/oversight/reviews', coachToken, { subject: 'monthly', month: '2026-10', note: 'x' });
      expect(coach.status).toBe(403);
      expect((await call(ctx, 'GET', '/v1/oversight/reviews', coachToken)).status).toBe(403);
      expect((await newLines(ctx, before)).map((l) => [l.action, l.outcome, l.httpStatus])).toEqual([
        ['oversight.reviewed', 'deny', 400],
        ['oversight.reviewed', 'deny', 403],
        ['oversight.read', 'deny', 403],
      ]);
      expect(await runSql(ctx, 'SELECT count(*) AS n FROM oversight_reviews')).toEqual([{ n: 0 }]);
    });

    it('keeps the trail append-only: a review is never changed or deleted', async () => {
      const ctx = await make();
      await call(ctx, 'POST', '/v1/oversight/reviews', WERKZAAK_PO, { subject: 'monthly', month: '2026-10', note: 'in orde' });
      await expect(runSql(ctx, "UPDATE oversight_reviews SET note = 'anders'")).rejects.toThrow(/append-only/);
      await expect(runSql(ctx, 'DELETE FROM oversight_reviews')).rejects.toThrow(/append-only/);
    });

    it('refuses a review body over 16 KiB before reading it (413, logged)', async () => {
      const ctx = await make();
      const res = await call(ctx, 'POST', '/v1/oversight/reviews', WERKZAAK_PO, { subject: 'monthly', month: '2026-10', note: 'x'.repeat(17 * 1024) });
      expect(res.status).toBe(413);
      expect(await ctx.lastAudit()).toMatchObject({ action: 'request.refused', reason: 'BODY_TOO_LARGE' });
    });
  });
});

describe('the OpenAPI description', () => {
  it('publishes the four oversight operations with their response schemas', async () => {
    const ctx = await setupTokens();
    const doc = (await (await ctx.app.request('/openapi.json')).json()) as any;
    const monthly = doc.paths['/oversight/monthly'].get.responses['200'].content['application/json'].schema;
    expect(monthly.$ref).toBe('#/components/schemas/OversightMonthlyReport');
    expect(doc.components.schemas.OversightMonthlyReport.properties.figures.type).toBe('array');
    expect(doc.paths['/oversight/users'].get.parameters.map((p: any) => p.name).sort()).toEqual(['from', 'to']);
    expect(doc.paths['/oversight/reviews'].post.requestBody).toBeDefined();
    expect(doc.paths['/oversight/reviews'].get.responses['200']).toBeDefined();
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('the oversight migration', () => {
  it('gives the lines already written the same report columns as an append would (verify agrees), across DST changes', () => {
    const dir = tempDir();
    const folder = path.join(dir, 'migrations');
    fs.cpSync('schema/migrations', folder, { recursive: true });
    const journal = JSON.parse(fs.readFileSync(path.join(folder, 'meta/_journal.json'), 'utf8')) as { entries: Array<{ tag: string }> };
    const oversight = journal.entries.findIndex((e) => e.tag.endsWith('_oversight'));
    expect(oversight).toBeGreaterThan(0);
    fs.writeFileSync(path.join(folder, 'meta/_journal.json'), JSON.stringify({ ...journal, entries: journal.entries.slice(0, oversight) }));
    const sqlite = new Database(path.join(dir, 'old.db'));
    const db = drizzle(sqlite, { schema }) as unknown as Db;
    migrate(db, { migrationsFolder: folder });

    // Lines as the version before wrote them: every hour around both DST changes of 2026 and of 2000, and moments
    // spread over 2000–2030.
    const moments: number[] = [];
    for (const start of ['2026-03-28T00:00:00Z', '2026-10-24T00:00:00Z', '2000-03-25T00:00:00Z', '2000-10-28T00:00:00Z']) {
      for (let h = 0; h < 72; h++) moments.push(Date.parse(start) + h * 3_600_000 + 30 * 60_000);
    }
    for (let k = 0; k < 500; k++) moments.push(Date.parse('2000-01-01T00:00:00Z') + Math.floor(((k * 7919) % 500) * 1_893_456_000));
    const insert = sqlite.prepare(
      'INSERT INTO audit_log (seq, at, action, outcome, actor_sub, actor_org, client_ref, purpose, decision_id, entry, leaf_hash, chain_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    let previous = GENESIS;
    moments.forEach((at, i) => {
      const entry =
        i % 3 === 0
          ? token(S, i % 2 ? 'permit' : 'deny', i % 2 ? { clientRef: ref(1), bsn: true } : { bsn: true })
          : read(i % 2 ? X : W, ref(i % 9), 'permit', i % 5 === 0 ? { noodtoegang: true } : {});
      const content = lineContent(i + 1, at, entry);
      const leaf = leafHash(content);
      previous = chainHash(previous, leaf);
      insert.run(
        i + 1,
        at,
        entry.action,
        entry.outcome,
        entry.actor!.sub,
        entry.actor!.org,
        entry.clientRef ?? null,
        entry.purpose ?? null,
        null,
        content,
        leaf,
        previous,
      );
    });

    migrate(db, { migrationsFolder: 'schema/migrations' });
    const audit = new AuditLog(db, { clock: fixedClock(`${TODAY}T10:00:00Z`), pseudonymKey: randomBytes(32) });
    expect(audit.verify()).toMatchObject({ ok: true, records: moments.length });
    const rows = sqlite
      .prepare('SELECT at, time_class AS tc, bsn_lookup AS bsn, noodtoegang AS nood, actor_role AS role FROM audit_log ORDER BY seq')
      .all() as Array<{
      at: number;
      tc: number;
      bsn: number | null;
      nood: number | null;
      role: string;
    }>;
    expect(rows.filter((r) => r.tc !== timeClass(r.at))).toEqual([]);
    expect(new Set(rows.map((r) => r.tc))).toEqual(new Set([0, 1, 2, 3]));
    expect(rows.filter((r) => r.bsn === 1).length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.nood === 1).length).toBeGreaterThan(0);
    // And the trigger came back: blanking the new columns without a prune line is still refused.
    expect(() => sqlite.prepare('UPDATE audit_log SET time_class = 0 WHERE seq = 1').run()).toThrow(/append-only/);
    sqlite.close();
  });
});
