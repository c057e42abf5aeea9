import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { describe, expect, it } from 'vitest';
import type { AuditEntry, AuditLine } from '../src/audit/entry.js';
import { auditFacts } from '../src/audit/facts.js';
import type { Caller } from '../src/caller.js';
import type { ClientReading } from '../src/clients/decision.js';
import { readInbox, readKp4Clients } from '../src/clients/lists.js';
import { DAY_MS, isoDate } from '../src/clock.js';
import { openRecordsDatabase } from '../src/db.js';
import { inboxSchema, kp4ListSchema } from '../src/http/lists.js';
import { DecisionCache } from '../src/policy/decision-cache.js';
import { ImpactReplay } from '../src/policy/impact.js';
import { loadPolicyDirectory } from '../src/policy/load.js';
import { openHandovers, relationship, type Purpose, type Requester, type Role } from '../src/purposes.js';
import { bsnCheckDigit } from '../src/records/generate.js';
import { RecordStore } from '../src/records/store.js';
import type { Overdracht, SuiteRecord } from '../src/records/suite-record.js';
import { EXAMPLE_EXPORT_FILE } from '../src/demo.js';
import { protectedRouteMatrix, type TestGrant } from './security-matrix.js';
import { TODAY, tempDir } from './support.js';
import { type BothSetup, forEachDatabase, importRecords } from './both-databases.js';

const FIXTURE = fs.readFileSync(EXAMPLE_EXPORT_FILE, 'utf8').trim().split('\n');
const anna = JSON.parse(FIXTURE[0]!) as SuiteRecord;
const POLICIES_DIR = fileURLToPath(new URL('../policies', import.meta.url));
const RECORDS_MIGRATIONS = fileURLToPath(new URL('../schema/records-migrations', import.meta.url));

const daysAgo = (n: number) => isoDate(Date.parse(TODAY) - n * DAY_MS);

let bsnPrefix = 30_000_000;
/** A fresh BSN that passes the elfproef. */
function nextBsn(): string {
  for (;;) {
    const check = bsnCheckDigit(String(++bsnPrefix));
    if (check !== null) return `${bsnPrefix}${check}`;
  }
}

/** A handover to `naar`; its toelichting is a value no list may show. */
function ov(
  id: string,
  richting: Overdracht['richting'],
  status: Overdracht['status'],
  datum: string,
  naar: string,
  extra: Partial<Overdracht> = {},
): Overdracht {
  return {
    id,
    richting,
    status,
    datum,
    vanOrganisatie: richting === 'KP3-KP4' ? 'WERKZAAK' : 'GM1960',
    naarOrganisatie: naar,
    onderbouwing: richting === 'KP3-KP4' ? 'onderzoek-zorgprofessional' : 'vrijwilligerswerk',
    clientGeinformeerd: true,
    bezwaarTegenDelen: false,
    driegesprekGewenst: false,
    toelichting: `Vertrouwelijke toelichting bij ${id}`,
    ...extra,
  };
}

/** A client like Anna (medical findings, a fraud investigation, a fine, the justice domain), with its own key and name. */
function client(ref: string, changes: Partial<SuiteRecord>, gemeente = 'GM1960'): SuiteRecord {
  return {
    ...structuredClone(anna),
    clientRef: ref,
    bsn: nextBsn(),
    persoon: {
      ...structuredClone(anna.persoon),
      voornamen: `Voornaam${ref.slice(-2)}`,
      achternaam: `Achternaam-${ref}`,
      gemeente,
      telefoon: `06-2${ref.slice(-7)}`,
    },
    overdrachten: [],
    ...changes,
  };
}

/** The handovers of the inbox tests (today is 2026-11-23); the fixture adds WZR-100001 (GM1960) and WZR-100003 (KP4-KP3). */
const INBOX_CLIENTS: SuiteRecord[] = [
  client('WZR-200001', { overdrachten: [ov('OV-1', 'KP3-KP4', 'aangevraagd', daysAgo(3), 'GM1960', { driegesprekGewenst: true })] }),
  client('WZR-200002', { overdrachten: [ov('OV-2', 'KP3-KP4', 'afgerond', daysAgo(10), 'GM1960')] }), // same day as WZR-100001's OV-1
  client('WZR-200003', { overdrachten: [ov('OV-1', 'KP3-KP4', 'afgerond', daysAgo(100), 'GM1960')] }),
  client('WZR-200004', { overdrachten: [ov('OV-1', 'KP3-KP4', 'afgerond', daysAgo(89), 'GM1960')] }),
  client('WZR-200005', { overdrachten: [ov('OV-1', 'KP3-KP4', 'afgerond', daysAgo(90), 'GM1960')] }),
  client('WZR-200006', { overdrachten: [ov('OV-1', 'KP3-KP4', 'aangevraagd', daysAgo(1), 'GM0281')] }),
  client('WZR-200007', { overdrachten: [ov('OV-1', 'KP4-KP3', 'aangevraagd', daysAgo(2), 'WERKZAAK')] }),
  client('WZR-200008', { overdrachten: [ov('OV-1', 'KP3-KP4', 'afgewezen', daysAgo(4), 'GM1960')] }),
  client('WZR-200009', {
    overdrachten: [ov('OV-1', 'KP3-KP4', 'afgerond', daysAgo(50), 'GM1960'), ov('OV-2', 'KP3-KP4', 'aangevraagd', daysAgo(22), 'GM1960')],
  }),
  client('WZR-200010', { overdrachten: [ov('OV-1', 'KP4-KP3', 'afgerond', daysAgo(10), 'WERKZAAK')] }),
];

/** The GM1960 coach's inbox, newest first (datum, then id, then clientRef), and which handover each shows. */
const GM1960_INBOX = [
  ['WZR-200001', 'OV-1', 0],
  ['WZR-200002', 'OV-2', 0],
  ['WZR-100001', 'OV-1', 0],
  ['WZR-200009', 'OV-2', 1],
  ['WZR-200004', 'OV-1', 0],
] as const;

const kp = (profiel: 'KP3' | 'KP4', vanaf: string, tot: string | null) => ({ profiel, vanaf, tot });
/** The KP4 list's clients; the fixture adds WZR-100005 (KP4 in GM0668) and WZR-100001 (KP3 in GM1960). */
const KP4_CLIENTS: SuiteRecord[] = [
  client('WZR-300003', { klantprofielen: [kp('KP3', '2020-01-01', '2025-12-31'), kp('KP4', '2026-01-01', null)] }),
  client('WZR-300001', { klantprofielen: [kp('KP4', '2024-05-01', null)] }),
  client('WZR-300002', { klantprofielen: [kp('KP4', '2025-02-01', null)] }),
  client('WZR-300004', { klantprofielen: [kp('KP4', '2024-01-01', '2026-10-01'), kp('KP3', '2026-10-02', null)] }), // KP4 ended
  client('WZR-300005', { klantprofielen: [kp('KP4', '2026-12-01', null)] }), // not yet
  client('WZR-300006', { klantprofielen: [kp('KP3', '2020-01-01', null), kp('KP4', '2026-01-01', null)] }), // the first active is KP3
  client('WZR-300007', { klantprofielen: [kp('KP4', '2024-01-01', null)] }, 'GM0281'), // elsewhere
];
const GM1960_KP4 = [
  ['WZR-300001', '2024-05-01', 0],
  ['WZR-300002', '2025-02-01', 0],
  ['WZR-300003', '2026-01-01', 1],
] as const;

/** The values a list may show: every other string of a record must stay out of a list answer. */
function forbiddenValues(records: SuiteRecord[]): string[] {
  const allowed = new Set<string>();
  const out = new Set<string>();
  for (const r of records) {
    allowed.add(r.clientRef).add(r.persoon.voornamen).add(r.persoon.achternaam);
    for (const o of r.overdrachten ?? [])
      allowed
        .add(o.id)
        .add(o.datum)
        .add(o.status)
        .add(o.onderbouwing ?? '');
    for (const k of r.klantprofielen ?? []) allowed.add(k.vanaf);
  }
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.add(v);
    else if (typeof v === 'number') out.add(String(v));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  records.forEach(walk);
  // Short values (a score, an enum such as `geen`, a purpose) could occur as keys or by chance; the long ones must not.
  return [...out].filter((v) => v.length >= 6 && !allowed.has(v) && !['aangevraagd', 'afgerond', 'overdracht'].includes(v));
}

/** A policy directory: the default set with `edit` applied to the participatiecoach's file. */
function policiesWith(edit: (text: string) => string): string {
  const dir = tempDir('doelpoort-policies-');
  for (const f of fs.readdirSync(POLICIES_DIR)) if (f.endsWith('.yaml')) fs.copyFileSync(path.join(POLICIES_DIR, f), path.join(dir, f));
  const file = path.join(dir, 'participatiecoach.yaml');
  const text = fs.readFileSync(file, 'utf8');
  const edited = edit(text);
  expect(edited).not.toBe(text);
  fs.writeFileSync(file, edited);
  return dir;
}

const PERSOON_FIELDS = 'fields: [voornamen, achternaam, geboortedatum, adres.*, gemeente, telefoon, email]';

/** An app made by `make` (on either database) with the lists' clients imported over the fixture, and its helpers. */
async function listsApp(make: BothSetup, env: Record<string, string> = {}) {
  const ctx = await make(env);
  const all = [...INBOX_CLIENTS, ...KP4_CLIENTS];
  await importRecords(ctx, all);
  const records = [...FIXTURE.map((l) => JSON.parse(l) as SuiteRecord), ...all];

  /** An access token from the real exchange, for a login of this role and organisation. */
  async function token(role: Role, org: string, purpose: Purpose, clientRef?: string): Promise<string> {
    const login = await ctx.login({ role, org, sub: `${role}-${org}` });
    const res = await ctx.exchange(ctx.exchangeForm(login, { purpose, ...(clientRef ? { client: clientRef } : {}) }));
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  }
  const get = async (url: string, bearer: string): Promise<Response> => ctx.app.request(url, { headers: { authorization: `Bearer ${bearer}` } });
  /**
   * The lines written while `action` ran: the lines about clients (and the refusals), and apart from them the page's
   * own permit line, which a listing page writes first and under whose span each client line has its own.
   */
  async function linesOf<T>(action: () => T | Promise<T>): Promise<{ value: T; lines: Array<Record<string, any>>; pageLine: Record<string, any> | undefined }> {
    const before = (await ctx.auditEntries()).length;
    const value = await action();
    const written: Array<Record<string, any>> = (await ctx.auditEntries()).slice(before);
    const isPageLine = (l: Record<string, any>) => l.action === 'list.read' && l.clientRef === undefined && l.reason === 'PERMIT';
    return { value, lines: written.filter((l) => !isPageLine(l)), pageLine: written.find(isPageLine) };
  }
  return { ...ctx, all: records, token, get, linesOf };
}

type Inbox = { purpose: string; items: Array<{ clientRef: string; naam?: string; overdracht?: Record<string, unknown> }>; next: string | null };
type Kp4 = { purpose: string; items: Array<{ clientRef: string; naam?: string; klantprofiel?: { vanaf: string } }>; next: string | null };

/** Every page of a list, following `next` with `limit`. */
async function allPages<T extends { next: string | null }>(get: (url: string) => Promise<Response>, base: string, limit: number): Promise<T[]> {
  const pages: T[] = [];
  let cursor: string | null = null;
  do {
    const res = await get(`${base}?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(res.status).toBe(200);
    const page = (await res.json()) as T;
    pages.push(page);
    cursor = page.next;
  } while (cursor !== null && pages.length < 20);
  return pages;
}

const inboxReleased = (index: number, naam = true) => [
  'clientRef',
  ...(naam ? ['persoon.voornamen', 'persoon.achternaam'] : []),
  ...['id', 'datum', 'status', 'onderbouwing', 'driegesprekGewenst'].map((f) => `overdrachten[${index}].${f}`),
];

describe('GET /v1/overdrachten', () => {
  // The matrix runs its rows on both databases itself.
  const coach = { sub: 'coach-1960', role: 'participatiecoach' as const, org: 'GM1960' };
  protectedRouteMatrix(
    { method: 'GET', path: '/v1/overdrachten' },
    {
      valid: { user: coach, purpose: 'overdracht-kp4' } satisfies TestGrant,
      wrongPurpose: { user: { sub: 'po', role: 'privacy-officer', org: 'WERKZAAK' }, purpose: 'toezicht' },
    },
  );
});

forEachDatabase((make) => {
  const setup = (env: Record<string, string> = {}) => listsApp(make, env);

  describe('GET /v1/overdrachten', () => {
    it('lists exactly the open handovers to the coach’s municipality, newest first, with one permit line per client naming the fields shown', async () => {
      const ctx = await setup();
      const bearer = await ctx.token('participatiecoach', 'GM1960', 'overdracht-kp4');
      const { value: res, lines, pageLine } = await ctx.linesOf(() => ctx.get('/v1/overdrachten', bearer));
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = (await res.json()) as Inbox;
      expect(inboxSchema.safeParse(body).success).toBe(true);
      expect(body.purpose).toBe('overdracht-kp4');
      expect(body.next).toBeNull();
      expect(body.items.map((i) => [i.clientRef, i.overdracht?.id])).toEqual(GM1960_INBOX.map(([ref, id]) => [ref, id]));

      const byRef = new Map(ctx.all.map((r) => [r.clientRef, r]));
      for (const item of body.items) {
        const record = byRef.get(item.clientRef)!;
        const o = record.overdrachten!.find((h) => h.id === item.overdracht!.id)!;
        expect(item).toEqual({
          clientRef: record.clientRef,
          naam: `${record.persoon.voornamen} ${record.persoon.achternaam}`,
          overdracht: { id: o.id, datum: o.datum, status: o.status, onderbouwing: o.onderbouwing, driegesprekGewenst: o.driegesprekGewenst },
        });
      }

      expect(lines).toHaveLength(GM1960_INBOX.length);
      expect(pageLine).toMatchObject({ action: 'list.read', outcome: 'permit', count: GM1960_INBOX.length, httpStatus: 200 });
      for (const line of lines) {
        expect(line.parentSpanId).toBe(pageLine!.spanId);
        expect(line.spanId).not.toBe(pageLine!.spanId);
      }
      expect(new Set(lines.map((l) => l.spanId)).size).toBe(lines.length);
      GM1960_INBOX.forEach(([ref, , index], n) => {
        expect(lines[n]).toMatchObject({
          action: 'list.read',
          outcome: 'permit',
          reason: 'PERMIT',
          clientRef: ref,
          purpose: 'overdracht-kp4',
          httpStatus: 200,
        });
        expect(lines[n]!.released).toEqual(inboxReleased(index));
        expect(lines[n]!.withheld).toEqual([]);
        expect(lines[n]!.bsnPseudonym).toMatch(/^[0-9a-f]{64}$/);
      });
    });

    it('shows no BSN, guardrail value or other record value, in the answer or the lines', async () => {
      const ctx = await setup();
      const bearer = await ctx.token('participatiecoach', 'GM1960', 'overdracht-kp4');
      const { value: res, lines } = await ctx.linesOf(() => ctx.get('/v1/overdrachten', bearer));
      const text = await res.text();
      const forbidden = forbiddenValues(ctx.all);
      for (const secret of ['101010011', 'Sertraline 50 mg', 'Chronische depressieve stoornis', 'Taakstraf in 2018', 'Mogelijk samenwonen niet gemeld']) {
        expect(forbidden).toContain(secret);
      }
      for (const value of forbidden) expect(text).not.toContain(value);
      // A line names the actor's organisation (an id, not a record value) and field names, never a value.
      const lineText = JSON.stringify(lines);
      const names = ctx.all.flatMap((r) => [r.persoon.voornamen, r.persoon.achternaam]);
      for (const value of [...forbidden.filter((v) => !/^(GM\d{4}|WERKZAAK)$/.test(v)), ...names]) expect(lineText).not.toContain(value);
    });

    it('pages through the inbox without loss or repeat', async () => {
      const ctx = await setup();
      const bearer = await ctx.token('participatiecoach', 'GM1960', 'overdracht-kp4');
      for (const limit of [1, 2, 3]) {
        const pages = await allPages<Inbox>((url) => ctx.get(url, bearer), '/v1/overdrachten', limit);
        expect(pages.every((p) => p.items.length <= limit)).toBe(true);
        expect(pages.flatMap((p) => p.items.map((i) => i.clientRef))).toEqual(GM1960_INBOX.map(([ref]) => ref));
        expect(pages.at(-1)!.next).toBeNull();
      }
    });

    it('gives the werkcoach the return inbox: KP4 → KP3 handovers to Werkzaak that are aangevraagd', async () => {
      const ctx = await setup();
      const bearer = await ctx.token('werkcoach', 'WERKZAAK', 'overdracht-kp3');
      const res = await ctx.get('/v1/overdrachten', bearer);
      expect(res.status).toBe(200);
      const body = (await res.json()) as Inbox;
      expect(body.purpose).toBe('overdracht-kp3');
      // WZR-100003 (fixture, 2026-11-21) and WZR-200007; not WZR-200010, whose return handover is afgerond.
      expect(body.items.map((i) => [i.clientRef, i.overdracht?.id, i.overdracht?.status])).toEqual([
        ['WZR-100003', 'OV-2', 'aangevraagd'],
        ['WZR-200007', 'OV-1', 'aangevraagd'],
      ]);
      expect(await ctx.lastAudit()).toMatchObject({ action: 'list.read', outcome: 'permit', clientRef: 'WZR-200007', purpose: 'overdracht-kp3' });
    });

    it('answers an empty inbox with 200 and one line of its own', async () => {
      const ctx = await setup();
      // Buren's only handover (WZR-100006) was completed more than 90 days ago.
      const bearer = await ctx.token('participatiecoach', 'GM0214', 'overdracht-kp4');
      const { value: res, lines } = await ctx.linesOf(() => ctx.get('/v1/overdrachten', bearer));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ purpose: 'overdracht-kp4', items: [], next: null });
      expect(lines).toEqual([expect.objectContaining({ action: 'list.read', outcome: 'permit', reason: 'LIST_EMPTY', httpStatus: 200 })]);
      expect(lines[0]).not.toHaveProperty('clientRef');
    });

    it('hides the name when the policy withholds it, and logs the names as withheld', async () => {
      const policies = policiesWith((t) => t.replace(PERSOON_FIELDS, 'fields: [geboortedatum, adres.*, gemeente, telefoon, email]'));
      const ctx = await setup({ DOELPOORT_POLICIES_DIR: policies });
      const bearer = await ctx.token('participatiecoach', 'GM1960', 'overdracht-kp4');
      const { value: res, lines } = await ctx.linesOf(() => ctx.get('/v1/overdrachten', bearer));
      const body = (await res.json()) as Inbox;
      expect(body.items.map((i) => i.clientRef)).toEqual(GM1960_INBOX.map(([ref]) => ref));
      for (const item of body.items) expect(item).not.toHaveProperty('naam');
      const text = JSON.stringify(body);
      for (const r of ctx.all) expect(text).not.toContain(r.persoon.achternaam);
      GM1960_INBOX.forEach(([, , index], n) => {
        expect(lines[n]!.released).toEqual(inboxReleased(index, false));
        expect(lines[n]!.withheld).toEqual(['persoon.voornamen', 'persoon.achternaam']);
      });
    });

    it('leaves out a client the policy releases nothing of, or whose key it withholds, and writes their deny lines', async () => {
      // Only the handover's id, datum and status, and only while aangevraagd: no clientRef for anyone.
      const dir = tempDir('doelpoort-policies-');
      fs.writeFileSync(
        path.join(dir, 'participatiecoach.yaml'),
        [
          'rules:',
          '  - role: participatiecoach',
          '    purpose: overdracht-kp4',
          '    action: read',
          '    subject: Overdracht',
          '    fields: [id, datum, status]',
          '    conditions:',
          '      status: aangevraagd',
          '      naarOrganisatie: "${requester.org}"',
          '',
        ].join('\n'),
      );
      const ctx = await setup({ DOELPOORT_POLICIES_DIR: dir });
      const bearer = await ctx.token('participatiecoach', 'GM1960', 'overdracht-kp4');
      const { value: res, lines } = await ctx.linesOf(() => ctx.get('/v1/overdrachten', bearer));
      expect(res.status).toBe(200);
      expect(((await res.json()) as Inbox).items).toEqual([]);
      // WZR-200009 keeps its afgerond OV-1 from the view, but the aangevraagd OV-2 is released: its key is not.
      const reasons = Object.fromEntries(lines.map((l) => [l.clientRef, [l.outcome, l.reason, l.released]]));
      expect(reasons).toEqual({
        'WZR-200001': ['deny', 'LIST_KEY_WITHHELD', undefined],
        'WZR-200002': ['deny', 'POLICY_DENIES', undefined],
        'WZR-100001': ['deny', 'LIST_KEY_WITHHELD', undefined],
        'WZR-200009': ['deny', 'LIST_KEY_WITHHELD', undefined],
        'WZR-200004': ['deny', 'POLICY_DENIES', undefined],
      });
      expect(lines.every((l) => l.action === 'list.read' && l.httpStatus === 403)).toBe(true);
    });

    it('re-checks each client on its record, not on the projection alone', async () => {
      const ctx = await setup();
      // A projection row that says open while the record says closed (as a half-applied change would): not listed.
      const halfApplied = "UPDATE overdrachten SET status = 'aangevraagd' WHERE client_ref = 'WZR-200003'";
      if (ctx.database === 'sqlite') ctx.records.db.$client.prepare(halfApplied).run();
      else await ctx.pool.query(halfApplied);
      const bearer = await ctx.token('participatiecoach', 'GM1960', 'overdracht-kp4');
      const { value: res, lines } = await ctx.linesOf(() => ctx.get('/v1/overdrachten', bearer));
      expect(((await res.json()) as Inbox).items.map((i) => i.clientRef)).not.toContain('WZR-200003');
      expect(lines.find((l) => l.clientRef === 'WZR-200003')).toMatchObject({ outcome: 'deny', reason: 'HANDOVER_CLOSED', httpStatus: 403 });
    });

    it.each([
      ['an unknown parameter', '?naar=GM0281', 'REQUEST_INVALID'],
      ['a limit of 0', '?limit=0', 'REQUEST_INVALID'],
      ['a limit over 100', '?limit=101', 'REQUEST_INVALID'],
      ['a BSN-shaped cursor', '?cursor=101010011', 'REQUEST_INVALID'],
      ['a cursor of a client not in this inbox', '?cursor=WZR-200006', 'CURSOR_INVALID'],
      ['a cursor of a client whose handover is closed', '?cursor=WZR-200003', 'CURSOR_INVALID'],
    ])('refuses %s (400, audited, no value in the line)', async (_, query, reason) => {
      const ctx = await setup();
      const bearer = await ctx.token('participatiecoach', 'GM1960', 'overdracht-kp4');
      const { value: res, lines } = await ctx.linesOf(() => ctx.get(`/v1/overdrachten${query}`, bearer));
      expect(res.status).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe('REQUEST_INVALID');
      expect(lines).toEqual([expect.objectContaining({ action: 'list.read', outcome: 'deny', reason, httpStatus: 400 })]);
      expect(lines[0]).not.toHaveProperty('clientRef');
      expect(JSON.stringify(lines)).not.toMatch(/101010011|GM0281|WZR-2000/);
    });

    it.each([
      ['a token bound to a client', 'participatiecoach', 'GM1960', 'overdracht-kp4', 'WZR-100001'],
      ['a begeleiding-kp4 token', 'participatiecoach', 'GM0668', 'begeleiding-kp4', undefined],
      ['a caseload token', 'schuldhulpverlener', 'GM0281', 'schuldhulpverlening', undefined],
    ] as const)('refuses %s with PURPOSE_NOT_ALLOWED and its deny line', async (_, role, org, purpose, clientRef) => {
      const ctx = await setup();
      const bearer = await ctx.token(role, org, purpose, clientRef);
      const { value: res, lines } = await ctx.linesOf(() => ctx.get('/v1/overdrachten', bearer));
      expect(res.status).toBe(403);
      expect(((await res.json()) as { code: string }).code).toBe('PURPOSE_NOT_ALLOWED');
      expect(lines).toEqual([expect.objectContaining({ action: 'list.read', outcome: 'deny', reason: 'NOT_A_LIST_TOKEN', httpStatus: 403, purpose })]);
    });
  });

  describe('GET /v1/clients (begeleiding-kp4 without a client)', () => {
    it('lists the KP4 clients living in the coach’s municipality, by clientRef, with minimal fields and one line each', async () => {
      const ctx = await setup();
      const bearer = await ctx.token('participatiecoach', 'GM1960', 'begeleiding-kp4');
      const { value: res, lines } = await ctx.linesOf(() => ctx.get('/v1/clients', bearer));
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = (await res.json()) as Kp4;
      expect(kp4ListSchema.safeParse(body).success).toBe(true);
      const byRef = new Map(ctx.all.map((r) => [r.clientRef, r]));
      expect(body).toEqual({
        purpose: 'begeleiding-kp4',
        items: GM1960_KP4.map(([ref, vanaf]) => ({
          clientRef: ref,
          naam: `${byRef.get(ref)!.persoon.voornamen} ${byRef.get(ref)!.persoon.achternaam}`,
          klantprofiel: { vanaf },
        })),
        next: null,
      });
      expect(lines.map((l) => [l.action, l.outcome, l.clientRef, l.purpose])).toEqual(
        GM1960_KP4.map(([ref]) => ['list.read', 'permit', ref, 'begeleiding-kp4']),
      );
      GM1960_KP4.forEach(([, , index], n) =>
        expect(lines[n]!.released).toEqual(['clientRef', 'persoon.voornamen', 'persoon.achternaam', `klantprofielen[${index}].vanaf`]),
      );

      const text = JSON.stringify(body);
      for (const value of forbiddenValues(ctx.all)) expect(text).not.toContain(value);
    });

    it('pages by clientRef without loss or repeat, and shows West Maas en Waal its own KP4 client only', async () => {
      const ctx = await setup();
      const bearer = await ctx.token('participatiecoach', 'GM1960', 'begeleiding-kp4');
      const pages = await allPages<Kp4>((url) => ctx.get(url, bearer), '/v1/clients', 2);
      expect(pages.map((p) => p.items.map((i) => i.clientRef))).toEqual([['WZR-300001', 'WZR-300002'], ['WZR-300003']]);

      const other = await ctx.get('/v1/clients', await ctx.token('participatiecoach', 'GM0668', 'begeleiding-kp4'));
      expect(((await other.json()) as Kp4).items.map((i) => i.clientRef)).toEqual(['WZR-100005']);
    });

    it('keeps the caseload for a schuldhulpverlening token, and refuses other tokens with their deny line', async () => {
      const ctx = await setup();
      const caseload = await ctx.get('/v1/clients', await ctx.token('schuldhulpverlener', 'GM0281', 'schuldhulpverlening'));
      expect(((await caseload.json()) as { purpose: string; items: Array<{ clientRef: string }> }).items.map((i) => i.clientRef)).toEqual(['WZR-100004']);

      const inboxToken = await ctx.token('participatiecoach', 'GM1960', 'overdracht-kp4');
      const refused = await ctx.linesOf(() => ctx.get('/v1/clients', inboxToken));
      expect(refused.value.status).toBe(403);
      expect(((await refused.value.json()) as { code: string }).code).toBe('PURPOSE_NOT_ALLOWED');
      expect(refused.lines).toEqual([expect.objectContaining({ action: 'caseload.read', outcome: 'deny', reason: 'NOT_A_CASELOAD_TOKEN' })]);

      const bound = await ctx.linesOf(async () => ctx.get('/v1/clients', await ctx.token('participatiecoach', 'GM1960', 'begeleiding-kp4', 'WZR-300001')));
      expect(bound.value.status).toBe(403);
      expect(bound.lines.at(-1)).toMatchObject({ action: 'list.read', outcome: 'deny', reason: 'NOT_A_LIST_TOKEN' });

      const bad = await ctx.linesOf(() => ctx.get('/v1/clients?gemeente=GM0281', inboxToken));
      expect(bad.value.status).toBe(400);
      expect(bad.lines).toEqual([expect.objectContaining({ action: 'caseload.read', outcome: 'deny', reason: 'REQUEST_INVALID' })]);
      const badKp4 = await ctx.linesOf(async () => ctx.get('/v1/clients?limit=x', await ctx.token('participatiecoach', 'GM1960', 'begeleiding-kp4')));
      expect(badKp4.value.status).toBe(400);
      expect(badKp4.lines.at(-1)).toMatchObject({ action: 'list.read', outcome: 'deny', reason: 'REQUEST_INVALID' });
    });
  });

  describe('a token without a client', () => {
    it.each([
      ['participatiecoach', 'GM1960', 'overdracht-kp4', 'WZR-100001'],
      ['participatiecoach', 'GM0668', 'begeleiding-kp4', 'WZR-100005'],
      ['werkcoach', 'WERKZAAK', 'overdracht-kp3', 'WZR-100003'],
    ] as const)('of %s for %s is issued, but reads no record or handover document (%s)', async (role, org, purpose, clientRef) => {
      const ctx = await setup();
      const bearer = await ctx.token(role, org, purpose);
      const [, payload] = bearer.split('.');
      expect(JSON.parse(Buffer.from(payload!, 'base64url').toString())).not.toHaveProperty('client');
      for (const [url, action] of [
        [`/v1/clients/${clientRef}`, 'record.read'],
        [`/v1/clients/${clientRef}/handover-document`, 'document.read'],
      ] as const) {
        const { value: res, lines } = await ctx.linesOf(() => ctx.get(url, bearer));
        expect(res.status).toBe(403);
        const body = await res.text();
        // begeleiding-kp4 has no handover document at all; for everything else the token names no client.
        expect(JSON.parse(body).code).toBe(action === 'document.read' && purpose === 'begeleiding-kp4' ? 'PURPOSE_NOT_ALLOWED' : 'CLIENT_NOT_ALLOWED');
        expect(body).not.toContain('Achternaam');
        expect(lines).toEqual([expect.objectContaining({ action, outcome: 'deny', clientRef, httpStatus: 403 })]);
        expect(lines[0]).not.toHaveProperty('released');
      }
    });

    it('does not loosen the exchange: a client the relationship does not hold for is still refused', async () => {
      const ctx = await setup();
      for (const [role, org, purpose, clientRef, reason] of [
        ['participatiecoach', 'GM0281', 'overdracht-kp4', 'WZR-100001', 'NO_HANDOVER_TO_ORGANISATION'],
        ['participatiecoach', 'GM1960', 'overdracht-kp4', 'WZR-200003', 'HANDOVER_CLOSED'],
        ['participatiecoach', 'GM1960', 'begeleiding-kp4', 'WZR-300004', 'CLIENT_NOT_KP4'],
        ['werkcoach', 'WERKZAAK', 'overdracht-kp3', 'WZR-200010', 'HANDOVER_CLOSED'],
        ['werkcoach', 'WERKZAAK', 'overdracht-kp4', undefined, 'PURPOSE_NOT_FOR_ROLE'],
      ] as const) {
        const login = await ctx.login({ role, org });
        const res = await ctx.exchange(ctx.exchangeForm(login, { purpose, ...(clientRef ? { client: clientRef } : {}) }));
        expect(res.status).toBe(403);
        expect(await res.json()).toEqual({ error: 'access_denied', error_description: expect.any(String) });
        expect(await ctx.lastAudit()).toMatchObject({ action: 'token.refused', outcome: 'deny', reason });
      }
    });
  });

  describe('readInbox, readKp4Clients', () => {
    const TRACE = { traceId: 'c'.repeat(32), spanId: 'd'.repeat(16) };
    async function verbs(env: Record<string, string> = {}) {
      const ctx = await setup(env);
      const reading: ClientReading = { policies: ctx.policies, clock: ctx.clock, decisions: new DecisionCache() };
      const asking = (role: Role, org: string, purpose: Purpose, client?: string): Caller => {
        const requester: Requester = { issuer: 'https://login.gemeente.example', sub: `${role}-${org}`, role, org, purpose, client, tokenId: 'tok-1' };
        return { requester, facts: auditFacts({ trace: TRACE, origin: '192.0.2.7', channel: 'web', clientId: 'doelpoort-web' }, requester) };
      };
      return { ...ctx, reading, asking };
    }

    it('serve a web page as they serve the API: the same items, the web channel on every line, a subset of what the record read releases', async () => {
      const { uow, reading, asking, linesOf } = await verbs();
      const { value: page, lines } = await linesOf(() => readInbox(uow, reading, asking('participatiecoach', 'GM1960', 'overdracht-kp4'), { limit: 20 }));
      expect(page.items.map((i) => i.clientRef)).toEqual(GM1960_INBOX.map(([ref]) => ref));
      expect(lines.every((l) => l.channel === 'web' && l.clientId === 'doelpoort-web' && l.origin === '192.0.2.7')).toBe(true);

      const { readClientRecord } = await import('../src/clients/read.js');
      const record = await linesOf(() => readClientRecord(uow, reading, asking('participatiecoach', 'GM1960', 'overdracht-kp4', 'WZR-100001'), 'WZR-100001'));
      const full = new Set(record.lines[0]!.released as string[]);
      const listed = lines.find((l) => l.clientRef === 'WZR-100001')!.released as string[];
      expect(listed.length).toBeGreaterThan(0);
      expect(listed.filter((f) => !full.has(f))).toEqual([]);
      expect(full.size).toBeGreaterThan(listed.length);

      const kp4 = await readKp4Clients(uow, reading, asking('participatiecoach', 'GM1960', 'begeleiding-kp4'), { limit: 2 });
      expect(kp4).toEqual({
        items: [expect.objectContaining({ clientRef: 'WZR-300001' }), expect.objectContaining({ clientRef: 'WZR-300002' })],
        next: 'WZR-300002',
      });
    });

    it('refuse a malformed or stale cursor inside the work (deny line), and a bad limit before it (a programming error)', async () => {
      const { uow, reading, asking, linesOf } = await verbs();
      const coach = asking('participatiecoach', 'GM1960', 'overdracht-kp4');
      for (const cursor of ['123456789', 'wzr lower', 'WZR-999999']) {
        const { value, lines } = await linesOf(() => readInbox(uow, reading, coach, { cursor, limit: 5 }).catch((e: unknown) => e));
        expect(value).toMatchObject({ code: 'REQUEST_INVALID', reason: 'CURSOR_INVALID' });
        expect(lines).toEqual([expect.objectContaining({ action: 'list.read', outcome: 'deny', reason: 'CURSOR_INVALID', httpStatus: 400 })]);
        expect(JSON.stringify(lines)).not.toContain(cursor);
      }
      for (const limit of [0, 101, 1.5, Number.NaN]) {
        const { value, lines } = await linesOf(() => readKp4Clients(uow, reading, coach, { limit }).catch((e: unknown) => e));
        expect(value).toBeInstanceOf(TypeError);
        expect(lines).toEqual([]);
      }
    });

    it('stand behind the impact replay: a list line replays unchanged under its own policy, and shows a withheld name under one that hides it', async () => {
      const { uow, reading, asking, policies, records, auditEntries } = await verbs();
      await readInbox(uow, reading, asking('participatiecoach', 'GM1960', 'overdracht-kp4'), { limit: 20 });
      await readKp4Clients(uow, reading, asking('participatiecoach', 'GM1960', 'begeleiding-kp4'), { limit: 20 });
      const lines: AuditLine[] = (await auditEntries())
        .filter((e) => e.action === 'list.read' && e.clientRef !== undefined)
        .map((entry, i) => ({
          seq: i + 1,
          at: Date.parse(`${TODAY}T10:00:00Z`),
          action: 'list.read',
          outcome: 'permit',
          entry: entry as AuditEntry,
          chainHash: '',
        }));
      expect(lines).toHaveLength(GM1960_INBOX.length + GM1960_KP4.length);

      // The replay looks records up synchronously (the report's use case reads a page's records first): read them here.
      const stored = new Map<string, SuiteRecord | undefined>();
      for (const line of lines) stored.set(line.entry!.clientRef!, await records.get(line.entry!.clientRef!));
      const same = new ImpactReplay(policies.set, (ref) => stored.get(ref));
      for (const line of lines) same.add(line);
      expect(same.report()).toMatchObject({ replayed: lines.length, changed: 0 });

      const hidden = loadPolicyDirectory(policiesWith((t) => t.replaceAll(PERSOON_FIELDS, 'fields: [geboortedatum, adres.*, gemeente, telefoon, email]')));
      const changed = new ImpactReplay(hidden, (ref) => stored.get(ref));
      for (const line of lines) changed.add(line);
      const report = changed.report();
      expect(report.changed).toBe(lines.length);
      for (const group of report.groups) {
        expect(group.newlyReleased).toEqual([]);
        expect(group.newlyWithheld).toEqual([
          { field: 'persoon.achternaam', lines: group.replayed },
          { field: 'persoon.voornamen', lines: group.replayed },
        ]);
      }
    });
  });
});

describe('RecordStore: the lists’ projections', () => {
  it('agrees with relationship() on which handovers are open, at the 90-day edge too', async () => {
    const store = new RecordStore(openRecordsDatabase(':memory:'));
    const all = [...FIXTURE.map((l) => JSON.parse(l) as SuiteRecord), ...INBOX_CLIENTS];
    for (const r of all) store.replace(r, 0);
    for (const [purpose, org] of [
      ['overdracht-kp4', 'GM1960'],
      ['overdracht-kp4', 'GM0281'],
      ['overdracht-kp4', 'GM0297'],
      ['overdracht-kp3', 'WERKZAAK'],
    ] as const) {
      for (const today of [TODAY, daysAgo(-1), daysAgo(200)]) {
        const listed = store.inbox(openHandovers(purpose, org, today), { limit: 100 })!.items.map((r) => r.clientRef);
        const holding = all.filter((r) => relationship(purpose, { org }, r, today).holds).map((r) => r.clientRef);
        expect(new Set(listed)).toEqual(new Set(holding));
      }
    }
    expect(openHandovers('overdracht-kp4', 'GM1960', TODAY)).toEqual({ naarOrganisatie: 'GM1960', richting: 'KP3-KP4', afgerondAfter: daysAgo(90) });
    expect(openHandovers('overdracht-kp3', 'WERKZAAK', TODAY)).toEqual({ naarOrganisatie: 'WERKZAAK', richting: 'KP4-KP3', afgerondAfter: null });
  });

  it('rewrites the klantprofielen projection with the record, and answers both lists from their indexes', () => {
    const store = new RecordStore(openRecordsDatabase(':memory:'));
    const [first] = KP4_CLIENTS;
    store.replace(first!, 0);
    expect(store.kp4Clients('GM1960', TODAY, { limit: 10 }).items).toEqual(['WZR-300003']);
    store.replace({ ...first!, persoon: { ...first!.persoon, gemeente: 'GM0297' } }, 0);
    expect(store.kp4Clients('GM1960', TODAY, { limit: 10 }).items).toEqual([]);
    expect(store.kp4Clients('GM0297', TODAY, { limit: 10 }).items).toEqual(['WZR-300003']);
    const rows = store.db.$client.prepare('SELECT n, profiel, vanaf, tot, gemeente FROM klantprofielen ORDER BY n').all();
    expect(rows).toEqual([
      { n: 0, profiel: 'KP3', vanaf: '2020-01-01', tot: '2025-12-31', gemeente: 'GM0297' },
      { n: 1, profiel: 'KP4', vanaf: '2026-01-01', tot: null, gemeente: 'GM0297' },
    ]);

    const plan = (sql: string) => (store.db.$client.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((p) => p.detail).join(' | ');
    expect(plan("SELECT client_ref FROM klantprofielen WHERE gemeente = 'GM1960' AND profiel = 'KP4' AND client_ref > ''")).toMatch(
      /INDEX klantprofielen_gemeente \(gemeente=\? AND profiel=\? AND client_ref>\?\)/,
    );
    expect(plan("SELECT client_ref FROM overdrachten WHERE naar_organisatie = 'GM1960' AND richting = 'KP3-KP4'")).toMatch(/INDEX overdrachten_inbox/);
  });

  it('backfills the klantprofielen of an existing records.db when it is migrated', () => {
    // A records.db as the previous version left it: migrated up to 0001, with records but no klantprofielen table.
    const folder = tempDir('doelpoort-migrations-');
    fs.mkdirSync(path.join(folder, 'meta'));
    const journal = JSON.parse(fs.readFileSync(path.join(RECORDS_MIGRATIONS, 'meta/_journal.json'), 'utf8')) as { entries: Array<{ tag: string }> };
    const earlier = journal.entries.filter((e) => e.tag !== '0002_lists');
    expect(earlier.length).toBe(journal.entries.length - 1);
    fs.writeFileSync(path.join(folder, 'meta/_journal.json'), JSON.stringify({ ...journal, entries: earlier }));
    for (const e of earlier) fs.copyFileSync(path.join(RECORDS_MIGRATIONS, `${e.tag}.sql`), path.join(folder, `${e.tag}.sql`));
    const file = path.join(tempDir(), 'records.db');
    const old = new Database(file);
    migrate(drizzle(old), { migrationsFolder: folder });
    expect(old.prepare("SELECT name FROM sqlite_master WHERE name = 'klantprofielen'").all()).toEqual([]);
    const insert = old.prepare('INSERT INTO clients (client_ref, bsn, gemeente, record, imported_at) VALUES (?, ?, ?, ?, 0)');
    const records = [...FIXTURE.map((l) => JSON.parse(l) as SuiteRecord), ...KP4_CLIENTS];
    for (const r of records) insert.run(r.clientRef, r.bsn, r.persoon.gemeente, JSON.stringify(r));
    old.close();

    const fresh = new RecordStore(openRecordsDatabase(':memory:'));
    for (const r of records) fresh.replace(r, 0);
    const expected = fresh.db.$client.prepare('SELECT * FROM klantprofielen ORDER BY client_ref, n').all();
    expect(expected.length).toBeGreaterThan(records.length);

    const migrated = new RecordStore(openRecordsDatabase(file));
    expect(migrated.db.$client.prepare('SELECT * FROM klantprofielen ORDER BY client_ref, n').all()).toEqual(expected);
    expect(migrated.kp4Clients('GM1960', TODAY, { limit: 10 }).items).toEqual(GM1960_KP4.map(([ref]) => ref));
    migrated.db.$client.close();
  });
});
