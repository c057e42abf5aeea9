import { describe, expect, it } from 'vitest';
import { isBsnLookup } from '../src/audit/bsn-lookup.js';
import type { AuditActor, AuditEntry } from '../src/audit/entry.js';
import { dayBounds, OFF_HOURS, timeClass, WEEKEND } from '../src/audit/office-hours.js';
import { ACCESS_ACTIONS, countPersons, type PersonCount, TOKEN_ACTIONS } from '../src/audit/oversight-query.js';
import type { Db } from '../src/db.js';
import { appendOne, readEntry, setupAudit } from './audit-support.js';

/**
 * countPersons counts every person in one pass over their lines of the period, after a skip through audit_person to
 * find them. Its figures must be those of the per-person queries it replaced (one DISTINCT over the index for the
 * persons, then three queries each: accesses, distinct clients, token lines), and those of the lines as written.
 */

const GEMEENTE = 'https://login.gemeente.example';
const WERKZAAK = 'https://login.werkzaak.example';

/** Persons who differ in one part only: the issuer, the organisation or the role of one subject. */
const ACTORS: AuditActor[] = [
  { iss: GEMEENTE, sub: 'coach-a', role: 'participatiecoach', org: 'GM1960' },
  { iss: WERKZAAK, sub: 'coach-a', role: 'participatiecoach', org: 'GM1960' },
  { iss: GEMEENTE, sub: 'coach-a', role: 'schuldhulpverlener', org: 'GM1960' },
  { iss: GEMEENTE, sub: 'coach-a', role: 'participatiecoach', org: 'GM0281' },
  { iss: GEMEENTE, sub: 'coach-b', role: 'participatiecoach', org: 'GM1960' },
  { iss: GEMEENTE, sub: 'shv-c', role: 'schuldhulpverlener', org: 'GM0281' },
  { iss: WERKZAAK, sub: 'wc-d', role: 'werkcoach', org: 'WERKZAAK' },
  { iss: WERKZAAK, sub: 'wc-e', role: 'werkcoach', org: 'WERKZAAK' },
];
/** Has token lines only, all in the period. */
const TOKENS_ONLY: AuditActor = { iss: GEMEENTE, sub: 'shv-tokens', role: 'schuldhulpverlener', org: 'GM0281' };
/** Has lines only before the period. */
const BEFORE_ONLY: AuditActor = { iss: GEMEENTE, sub: 'coach-old', role: 'participatiecoach', org: 'GM1960' };
/** Has lines in the period, none of them counted (a login, a look-up). */
const UNCOUNTED: AuditActor = { iss: WERKZAAK, sub: 'wc-uncounted', role: 'werkcoach', org: 'WERKZAAK' };

const OCTOBER = dayBounds('2026-10-01', '2026-10-31');
/** A weekend across the end of summer time (Sunday 25 October), and a single Wednesday. */
const WEEKEND_DST = dayBounds('2026-10-24', '2026-10-25');
const ONE_DAY = dayBounds('2026-10-14', '2026-10-14');

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** One line of `actor` of every kind the reports count or must not count. */
function lineOf(n: number, actor: AuditActor, r: () => number): AuditEntry {
  const roll = r();
  const outcome = roll < 0.15 ? 'deny' : roll < 0.2 ? 'error' : 'permit';
  const clientRef = `WZR-${100000 + Math.floor(r() * 40)}`;
  const kind = r();
  const common = {
    traceId: n.toString(16).padStart(32, '0'),
    spanId: n.toString(16).padStart(16, '0'),
    actor,
    origin: '127.0.0.1',
    purpose: 'begeleiding-kp4' as const,
    processingActivityId: 'WZR-VA-012',
  };
  if (kind < 0.1) {
    // A token request by BSN (refused: no clientRef), by clientRef (refused), or issued (by BSN or not).
    const byBsn = r() < 0.5;
    if (r() < 0.5) {
      return {
        action: 'token.refused',
        ...common,
        outcome: 'deny',
        reason: 'CLIENT_UNKNOWN',
        httpStatus: 403,
        ...(byBsn ? { bsnPseudonym: 'b'.repeat(64) } : { clientRef }),
      };
    }
    return {
      action: 'token.issued',
      ...common,
      tokenId: `tok-${n}`,
      clientRef,
      outcome: 'permit',
      reason: 'PERMIT',
      httpStatus: 200,
      ...(byBsn ? { bsnPseudonym: 'b'.repeat(64) } : {}),
    };
  }
  if (kind < 0.13) return { action: 'client.lookup', ...common, outcome: 'permit', reason: 'PERMIT', httpStatus: 200, bsnPseudonym: 'b'.repeat(64) };
  if (kind < 0.15) return { action: 'session.started', ...common, outcome: 'permit', reason: 'LOGIN', httpStatus: 200, channel: 'web' } as AuditEntry;
  const action = ACCESS_ACTIONS[Math.floor(r() * ACCESS_ACTIONS.length)] as 'record.read' | 'list.read';
  const emergency = r() < 0.08;
  // A list line without a client: the page listed nobody.
  const withClient = action !== 'list.read' || r() < 0.8;
  const entry = readEntry(n, {
    action,
    actor,
    outcome,
    reason: outcome === 'permit' ? 'PERMIT' : outcome === 'deny' ? 'NO_HANDOVER_TO_ORGANISATION' : 'INTERNAL',
    httpStatus: outcome === 'permit' ? 200 : outcome === 'deny' ? 403 : 500,
    clientRef,
    ...(emergency ? { noodtoegang: true } : {}),
  });
  if (!withClient) delete entry.clientRef;
  return entry;
}

/** A log over late September to early November: lines at every hour of every day, weekends and the DST change. */
function setup() {
  const ctx = setupAudit({ checkpointKey: null });
  const r = random(13);
  const written: Array<{ at: number; entry: AuditEntry }> = [];
  let n = 0;
  const write = (at: number, entry: AuditEntry) => {
    ctx.clock.advance(at - ctx.clock.now());
    appendOne(ctx.audit, entry);
    written.push({ at, entry });
  };
  const start = Date.parse('2026-09-20T00:00:00Z');
  const end = Date.parse('2026-11-05T00:00:00Z');
  // One line every 37 minutes on average, each of a person drawn at random; uncounted lines between them.
  for (let at = start; at < end; at += Math.floor(r() * 74 * 60_000) + 1) {
    n++;
    const inOctober = at >= OCTOBER.from && at < OCTOBER.to;
    const d = r();
    if (d < 0.05 && at < OCTOBER.from) write(at, lineOf(n, BEFORE_ONLY, r));
    else if (d < 0.05 && inOctober)
      write(
        at,
        lineOf(n, TOKENS_ONLY, () => 0.01),
      );
    else if (d < 0.08)
      write(
        at,
        lineOf(n, UNCOUNTED, () => 0.14),
      );
    else if (d < 0.11) {
      const refused = { origin: '127.0.0.1', outcome: 'deny', reason: 'BODY_TOO_LARGE', httpStatus: 413 } as const;
      write(at, { action: 'request.refused', traceId: n.toString(16).padStart(32, '0'), spanId: n.toString(16).padStart(16, '0'), ...refused });
    } else write(at, lineOf(n, ACTORS[Math.floor(r() * ACTORS.length)]!, r));
  }
  return { ...ctx, written };
}

/** The per-person queries countPersons replaced, as they were: the reference its figures must equal. */
function perPersonQueries(db: Db, period: { from: number; to: number }, org?: string): PersonCount[] {
  const s = db.$client;
  const inAccess = ACCESS_ACTIONS.map((a) => `'${a}'`).join(', ');
  const inToken = TOKEN_ACTIONS.map((a) => `'${a}'`).join(', ');
  type Person = { actor_org: string; actor_iss: string; actor_sub: string; actor_role: string };
  const persons = s
    .prepare<{ org?: string }, Person>(
      `SELECT DISTINCT actor_org, actor_iss, actor_sub, actor_role FROM audit_log INDEXED BY audit_person
       WHERE ${org === undefined ? 'actor_org IS NOT NULL' : 'actor_org = @org'} AND actor_iss IS NOT NULL`,
    )
    .all(org === undefined ? {} : { org });
  const person = 'actor_org = @actor_org AND actor_iss = @actor_iss AND actor_sub = @actor_sub AND actor_role = @actor_role';
  const accesses = s.prepare<
    Person & { from: number; to: number },
    Omit<PersonCount, 'org' | 'iss' | 'sub' | 'role' | 'distinctClients' | 'tokenRefusals' | 'bsnLookups'>
  >(
    `SELECT count(*) AS accesses, total(outcome = 'permit') AS permits, total(outcome = 'deny') AS denials,
       total(time_class & ${OFF_HOURS}) AS offHours, total(time_class >= ${WEEKEND}) AS weekend, total(time_class > 0) AS outsideOfficeHours,
       total(noodtoegang) AS emergency
     FROM audit_log INDEXED BY audit_person WHERE ${person} AND action IN (${inAccess}) AND at >= @from AND at < @to`,
  );
  const clients = s
    .prepare<Person & { from: number; to: number }, number>(
      `SELECT count(*) FROM (SELECT DISTINCT client_ref FROM audit_log INDEXED BY audit_person
         WHERE ${person} AND action IN (${inAccess}) AND at >= @from AND at < @to AND outcome = 'permit' AND client_ref IS NOT NULL)`,
    )
    .pluck();
  const tokens = s.prepare<Person & { from: number; to: number }, { tokenRefusals: number; bsnLookups: number }>(
    `SELECT total(action = 'token.refused') AS tokenRefusals, total(bsn_lookup) AS bsnLookups
     FROM audit_log INDEXED BY audit_person WHERE ${person} AND action IN (${inToken}) AND at >= @from AND at < @to`,
  );
  const result: PersonCount[] = [];
  for (const p of persons) {
    const a = accesses.get({ ...p, ...period })!;
    const t = tokens.get({ ...p, ...period })!;
    if (a.accesses > 0 || t.tokenRefusals > 0 || t.bsnLookups > 0) {
      const distinctClients = a.accesses > 0 ? (clients.get({ ...p, ...period }) ?? 0) : 0;
      result.push({ org: p.actor_org, iss: p.actor_iss, sub: p.actor_sub, role: p.actor_role, ...a, distinctClients, ...t });
    }
  }
  return result;
}

/** The figures counted from the lines as written, without SQL, in the index's order of persons. */
function fromLines(written: ReadonlyArray<{ at: number; entry: AuditEntry }>, period: { from: number; to: number }, org?: string): PersonCount[] {
  const persons = new Map<string, PersonCount & { clients: Set<string> }>();
  for (const { at, entry } of written) {
    const actor = entry.actor;
    if (actor === undefined || at < period.from || at >= period.to || (org !== undefined && actor.org !== org)) continue;
    const access = ACCESS_ACTIONS.includes(entry.action);
    if (!access && !TOKEN_ACTIONS.includes(entry.action)) continue;
    const key = JSON.stringify([actor.org, actor.iss, actor.sub, actor.role]);
    let p = persons.get(key);
    if (p === undefined) {
      p = {
        ...{ org: actor.org, iss: actor.iss, sub: actor.sub, role: actor.role, accesses: 0, permits: 0, denials: 0, offHours: 0, weekend: 0 },
        ...{ outsideOfficeHours: 0, emergency: 0, distinctClients: 0, tokenRefusals: 0, bsnLookups: 0, clients: new Set<string>() },
      };
      persons.set(key, p);
    }
    if (access) {
      const tc = timeClass(at);
      p.accesses++;
      if (entry.outcome === 'permit') p.permits++;
      if (entry.outcome === 'deny') p.denials++;
      if (tc & OFF_HOURS) p.offHours++;
      if (tc & WEEKEND) p.weekend++;
      if (tc !== 0) p.outsideOfficeHours++;
      if (entry.noodtoegang === true) p.emergency++;
      if (entry.outcome === 'permit' && entry.clientRef !== undefined) p.clients.add(entry.clientRef);
    } else {
      if (entry.action === 'token.refused') p.tokenRefusals++;
      if (isBsnLookup(entry)) p.bsnLookups++;
    }
  }
  const binary = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...persons.values()]
    .filter((p) => p.accesses > 0 || p.tokenRefusals > 0 || p.bsnLookups > 0)
    .map(({ clients, ...p }) => ({ ...p, distinctClients: clients.size }))
    .sort((a, b) => binary(a.org, b.org) || binary(a.iss, b.iss) || binary(a.sub, b.sub) || binary(a.role, b.role));
}

const counted = async (ctx: ReturnType<typeof setup>, period: { from: number; to: number }, org?: string) => {
  ctx.db.$client.exec("DELETE FROM audit_period_counts WHERE scope LIKE 'persons:%'");
  return countPersons(ctx.db, period, { org });
};

describe('countPersons: one pass per person after a skip through the index', () => {
  const ctx = setup();

  it('has a log with every case the figures distinguish', () => {
    const october = fromLines(ctx.written, OCTOBER);
    const sum = (key: keyof PersonCount) => october.reduce((s, p) => s + (p[key] as number), 0);
    for (const key of ['denials', 'offHours', 'weekend', 'emergency', 'tokenRefusals', 'bsnLookups'] as const) expect(sum(key)).toBeGreaterThan(3);
    expect(sum('accesses')).toBeGreaterThan(sum('permits') + sum('denials'));
    expect(new Set(october.map((p) => p.org)).size).toBe(3);
    expect(new Set(october.map((p) => p.role)).size).toBe(3);
    // The person with token lines alone is counted; the one before the period and the uncounted one are not.
    expect(october.map((p) => p.sub)).toContain('shv-tokens');
    expect(october.map((p) => p.sub)).not.toContain('coach-old');
    expect(october.map((p) => p.sub)).not.toContain('wc-uncounted');
    expect(october.find((p) => p.sub === 'shv-tokens')).toMatchObject({ accesses: 0, distinctClients: 0 });
  });

  for (const [name, period] of [
    ['October', OCTOBER],
    ['a weekend across the DST change', WEEKEND_DST],
    ['one weekday', ONE_DAY],
  ] as const) {
    it(`gives the figures of the old per-person queries and of the lines, over ${name}, for every scope`, async () => {
      for (const org of [undefined, 'GM1960', 'GM0281', 'WERKZAAK', 'GM0000']) {
        const figures = await counted(ctx, period, org);
        expect(figures).toEqual(perPersonQueries(ctx.db, period, org));
        expect(figures).toEqual(fromLines(ctx.written, period, org));
        if (org === 'GM0000') expect(figures).toEqual([]);
        else expect(figures.length).toBeGreaterThan(0);
        // A closed period is kept, and given back the same.
        expect(await countPersons(ctx.db, period, { org })).toEqual(figures);
      }
    });
  }

  it('finds every person, including one subject under two issuers, two roles and two organisations', async () => {
    const figures = await counted(ctx, OCTOBER);
    const coachA = figures.filter((p) => p.sub === 'coach-a').map((p) => [p.org, p.iss, p.role]);
    expect(coachA).toEqual([
      ['GM0281', GEMEENTE, 'participatiecoach'],
      ['GM1960', GEMEENTE, 'participatiecoach'],
      ['GM1960', GEMEENTE, 'schuldhulpverlener'],
      ['GM1960', WERKZAAK, 'participatiecoach'],
    ]);
    expect(figures).toHaveLength(ACTORS.length + 1);
  });
});
