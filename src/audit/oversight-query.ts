import type { Db } from '../db.js';
import { READ_ACTIONS } from './entry.js';
import { OFF_HOURS, WEEKEND } from './office-hours.js';

/**
 * The counting behind the oversight reports, in SQL over the report columns of audit_log (schema/audit.ts), never by
 * reading a line's content. Every count is one range of `at` within one combination of index columns, answered by the
 * index alone: SQLite has no hash aggregate, and a GROUP BY over a month would sort every line of it, so the
 * combinations are listed first and each is counted on its own. The persons are found by a skip through
 * audit_person (one seek per person); the monthly report's combinations still by a DISTINCT over the whole
 * audit_oversight index, which grows with the log (a skip would need a step per NULL-able column). The work is sliced: between counts the event loop gets its turn (a report must not stall the gateway), so
 * a month still running may be counted with the lines of a few milliseconds more in one count than in another.
 * Reads only, outside any transaction (WAL: they never wait for a writer, nor make one wait).
 */

/** The actions whose lines are accesses to client data: the reads, and the lists' lines (`list.read`) once written. */
export const ACCESS_ACTIONS: readonly string[] = [...READ_ACTIONS, 'list.read'];
/** The token exchange's lines: requests for access, and the look-ups by BSN. */
export const TOKEN_ACTIONS: readonly string[] = ['token.issued', 'token.refused'];
const COUNTED: ReadonlySet<string> = new Set([...ACCESS_ACTIONS, ...TOKEN_ACTIONS]);
const IN_ACCESS = ACCESS_ACTIONS.map((a) => `'${a}'`).join(', ');
const IN_TOKEN = TOKEN_ACTIONS.map((a) => `'${a}'`).join(', ');

/** Counting yields to the event loop after this long. */
const SLICE_MS = 15;

/** A clock for slices: yields when the current one is used up. */
function slicer(): () => Promise<void> | undefined {
  let start = performance.now();
  return () => {
    if (performance.now() - start < SLICE_MS) return undefined;
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        start = performance.now();
        resolve();
      }),
    );
  };
}

/** The lines of one combination of report columns within one period. */
export interface LineCount {
  org: string;
  action: string;
  outcome: string;
  role: string | null;
  purpose: string | null;
  bsnLookup: boolean;
  noodtoegang: boolean;
  offHours: boolean;
  weekend: boolean;
  lines: number;
}

/** Only a line with an organisation has an identified actor; the reports count nothing else. */
type Scope = { org?: string | undefined };

/** One combination of report columns as stored (in either database). */
export type Combination = {
  actor_org: string;
  action: string;
  outcome: string;
  actor_role: string | null;
  purpose: string | null;
  bsn_lookup: number | null;
  noodtoegang: number | null;
  time_class: number | null;
};

/** The count of one combination's lines. */
export function lineCountOf(c: Combination, lines: number): LineCount {
  const tc = c.time_class ?? 0;
  return {
    org: c.actor_org,
    action: c.action,
    outcome: c.outcome,
    role: c.actor_role,
    purpose: c.purpose,
    bsnLookup: c.bsn_lookup === 1,
    noodtoegang: c.noodtoegang === 1,
    offHours: (tc & OFF_HOURS) !== 0,
    weekend: (tc & WEEKEND) !== 0,
    lines,
  };
}

/**
 * The counts of the access and token lines of each period (epoch ms, `to` exclusive) per combination of organisation,
 * action, outcome, role, purpose, BSN look-up, noodtoegang and time class; within the organisation of `scope` when
 * it names one. Combinations without lines in a period are left out of it.
 *
 * A period that ended before the newest line is closed: its counts are kept in audit_period_counts once taken
 * (schema/oversight.ts) and read from there; only the periods still open are counted. A scoped caller reads its own
 * scope's counts, or the counts of every organisation filtered to its own, never another scope's.
 */
export async function countLines(db: Db, periods: ReadonlyArray<{ from: number; to: number }>, scope: Scope = {}): Promise<LineCount[][]> {
  const s = db.$client;
  const head = s.prepare<[], { seq: number; at: number }>('SELECT seq, at FROM audit_log ORDER BY seq DESC LIMIT 1').get();
  const key = scope.org ?? EVERY_ORGANISATION;
  const result: Array<LineCount[] | undefined> = periods.map((p) => cachedCounts(s, key, p));
  const open = periods.filter((_, i) => result[i] === undefined);
  if (open.length > 0) {
    const counted = await countInIndex(db, open, scope);
    let k = 0;
    periods.forEach((p, i) => {
      if (result[i] !== undefined) return;
      const counts = counted[k++]!;
      result[i] = counts;
      if (head !== undefined && p.to <= head.at) keepCounts(s, key, p, head.seq, counts);
    });
  }
  return result as LineCount[][];
}

/** The scope key of counts over every organisation (an organisation code never is `*`). */
const EVERY_ORGANISATION = '*';

/** A closed period's kept counts in scope `key`: its own row, or for an organisation the `*` row filtered to it. */
function cachedCounts(s: Db['$client'], key: string, period: { from: number; to: number }): LineCount[] | undefined {
  return keptRows<LineCount>(s, '', key, period);
}

/**
 * The rows kept for a closed period under `kind` (a prefix of the scope key: '' for the line counts, `persons:` for
 * the per-person figures) in scope `org`: its own row, or for an organisation the every-organisation row filtered to
 * it; never another organisation's row.
 */
function keptRows<T extends { org: string }>(s: Db['$client'], kind: string, org: string, period: { from: number; to: number }): T[] | undefined {
  const read = s
    .prepare<{ scope: string; from: number; to: number }, string>(
      'SELECT counts FROM audit_period_counts WHERE scope = @scope AND "from" = @from AND "to" = @to',
    )
    .pluck();
  const own = read.get({ scope: kind + org, ...period });
  if (own !== undefined) return JSON.parse(own) as T[];
  if (org === EVERY_ORGANISATION) return undefined;
  const every = read.get({ scope: kind + EVERY_ORGANISATION, ...period });
  return every === undefined ? undefined : (JSON.parse(every) as T[]).filter((c) => c.org === org);
}

/**
 * Keeps a closed period's counts, taken with line `throughSeq` the newest, unless a line appended since lies in the
 * period (a clock set back while counting; AuditLog drops kept counts on such a line from then on). Kept counts are a
 * cache: a read-only connection, a busy database or a transaction in progress leaves them untaken, never the report.
 */
function keepCounts(s: Db['$client'], key: string, period: { from: number; to: number }, throughSeq: number, counts: readonly object[]): void {
  if (s.readonly || s.inTransaction) return;
  try {
    s.prepare(
      `INSERT OR REPLACE INTO audit_period_counts (scope, "from", "to", through_seq, counts)
       SELECT @scope, @from, @to, @throughSeq, @counts WHERE NOT EXISTS (SELECT 1 FROM audit_log WHERE seq > @throughSeq AND at < @to)`,
    ).run({ scope: key, ...period, throughSeq, counts: JSON.stringify(counts) });
  } catch (error) {
    if ((error as { code?: unknown }).code === undefined || !String((error as { code: unknown }).code).startsWith('SQLITE_')) throw error;
  }
}

/** countLines from the index alone, for every period given. */
async function countInIndex(db: Db, periods: ReadonlyArray<{ from: number; to: number }>, scope: Scope): Promise<LineCount[][]> {
  const s = db.$client;
  const columns = 'actor_org, action, outcome, actor_role, purpose, bsn_lookup, noodtoegang, time_class';
  const combinations = s
    .prepare<Scope, Combination>(
      `SELECT DISTINCT ${columns} FROM audit_log INDEXED BY audit_oversight WHERE ${scope.org === undefined ? 'actor_org IS NOT NULL' : 'actor_org = @org'}`,
    )
    .all(scope.org === undefined ? {} : { org: scope.org })
    .filter((c) => COUNTED.has(c.action));
  const count = s
    .prepare<Combination & { from: number; to: number }, number>(
      `SELECT count(*) FROM audit_log INDEXED BY audit_oversight
       WHERE actor_org = @actor_org AND action = @action AND outcome = @outcome AND actor_role IS @actor_role AND purpose IS @purpose
         AND bsn_lookup IS @bsn_lookup AND noodtoegang IS @noodtoegang AND time_class IS @time_class AND at >= @from AND at < @to`,
    )
    .pluck();
  const pause = slicer();
  const result: LineCount[][] = [];
  for (const period of periods) {
    const counts: LineCount[] = [];
    for (const c of combinations) {
      const lines = count.get({ ...c, from: period.from, to: period.to }) ?? 0;
      if (lines > 0) {
        counts.push(lineCountOf(c, lines));
      }
      await pause();
    }
    result.push(counts);
  }
  return result;
}

/** Whether a count is of accesses (reads and lists). */
export const isAccess = (c: LineCount): boolean => ACCESS_ACTIONS.includes(c.action);

/** One person's figures over a period: their accesses, and their token requests. */
export interface PersonCount {
  org: string;
  iss: string;
  sub: string;
  role: string;
  accesses: number;
  permits: number;
  denials: number;
  offHours: number;
  weekend: number;
  /** Off-hours or at the weekend (or both). */
  outsideOfficeHours: number;
  emergency: number;
  /** The clients whose data a permitted access released. */
  distinctClients: number;
  tokenRefusals: number;
  bsnLookups: number;
}

type Person = { actor_org: string; actor_iss: string; actor_sub: string; actor_role: string };

/**
 * The figures of every person (issuer, subject, role, organisation) with access or token lines in the period (epoch
 * ms, `to` exclusive); within the organisation of `scope` when it names one.
 */
export async function countPersons(db: Db, period: { from: number; to: number }, scope: Scope = {}): Promise<PersonCount[]> {
  // A closed period's figures are kept like its line counts (countLines), under their own scope keys.
  const s = db.$client;
  const head = s.prepare<[], { seq: number; at: number }>('SELECT seq, at FROM audit_log ORDER BY seq DESC LIMIT 1').get();
  const org = scope.org ?? EVERY_ORGANISATION;
  const kept = keptRows<PersonCount>(s, PERSONS, org, period);
  if (kept !== undefined) return kept;
  const counted = await countPersonsInIndex(db, period, scope);
  if (head !== undefined && period.to <= head.at) keepCounts(s, PERSONS + org, period, head.seq, counted);
  return counted;
}

/** The scope-key prefix of kept per-person figures (an organisation code never starts with it). */
const PERSONS = 'persons:';

/**
 * countPersons from the index alone. The persons are found by a skip through audit_person (one seek each, as below),
 * not by a DISTINCT over it, which would read every line the log holds; each person's accesses are then counted in
 * one pass over their range of the period (with the distinct clients beside the sums), their token lines in another.
 */
async function countPersonsInIndex(db: Db, period: { from: number; to: number }, scope: Scope): Promise<PersonCount[]> {
  const s = db.$client;
  const columns = 'actor_org, actor_iss, actor_sub, actor_role';
  const identified = 'actor_iss IS NOT NULL AND actor_sub IS NOT NULL AND actor_role IS NOT NULL';
  const first = s.prepare<Scope, Person>(
    `SELECT ${columns} FROM audit_log INDEXED BY audit_person
     WHERE ${scope.org === undefined ? 'actor_org IS NOT NULL' : 'actor_org = @org'} AND ${identified} ORDER BY ${columns} LIMIT 1`,
  );
  // The next person after one: past every line of theirs, whatever its action (text sorts before any blob, so X''
  // lies beyond all of them), in one seek. A row value compared as a whole; the four columns alone would seek to the
  // person's own first line and step through all their lines.
  const next = s.prepare<Person, Person>(
    `SELECT ${columns} FROM audit_log INDEXED BY audit_person
     WHERE (${columns}, action) > (@actor_org, @actor_iss, @actor_sub, @actor_role, X'') AND ${identified} ORDER BY ${columns} LIMIT 1`,
  );
  const person = 'actor_org = @actor_org AND actor_iss = @actor_iss AND actor_sub = @actor_sub AND actor_role = @actor_role';
  // The plainest expressions SQLite can sum (a bit, a shift, a column whose NULL `total` skips): each costs per line.
  // The distinct clients in the same pass: a second pass over the permitted lines alone costs more than the CASE.
  const accesses = s.prepare<Person & { from: number; to: number }, Omit<PersonCount, 'org' | 'iss' | 'sub' | 'role' | 'tokenRefusals' | 'bsnLookups'>>(
    `SELECT count(*) AS accesses, total(outcome = 'permit') AS permits, total(outcome = 'deny') AS denials,
       total(time_class & ${OFF_HOURS}) AS offHours, total(time_class >= ${WEEKEND}) AS weekend, total(time_class > 0) AS outsideOfficeHours,
       total(noodtoegang) AS emergency, count(DISTINCT CASE WHEN outcome = 'permit' THEN client_ref END) AS distinctClients
     FROM audit_log INDEXED BY audit_person WHERE ${person} AND action IN (${IN_ACCESS}) AND at >= @from AND at < @to`,
  );
  const tokens = s.prepare<Person & { from: number; to: number }, { tokenRefusals: number; bsnLookups: number }>(
    `SELECT total(action = 'token.refused') AS tokenRefusals, total(bsn_lookup) AS bsnLookups
     FROM audit_log INDEXED BY audit_person WHERE ${person} AND action IN (${IN_TOKEN}) AND at >= @from AND at < @to`,
  );
  const pause = slicer();
  const result: PersonCount[] = [];
  for (let p = first.get(scope.org === undefined ? {} : { org: scope.org }); p !== undefined; p = next.get(p)) {
    if (scope.org !== undefined && p.actor_org !== scope.org) break;
    const a = accesses.get({ ...p, ...period })!;
    const t = tokens.get({ ...p, ...period })!;
    if (a.accesses > 0 || t.tokenRefusals > 0 || t.bsnLookups > 0) {
      const { accesses: n, permits, denials, offHours, weekend, outsideOfficeHours, emergency, distinctClients } = a;
      result.push({
        org: p.actor_org,
        iss: p.actor_iss,
        sub: p.actor_sub,
        role: p.actor_role,
        accesses: n,
        permits,
        denials,
        offHours,
        weekend,
        outsideOfficeHours,
        emergency,
        distinctClients,
        ...t,
      });
    }
    await pause();
  }
  return result;
}

/**
 * The scope keys of audit_period_counts, for the PostgreSQL twin (src/audit/oversight-query-pg.ts), which keeps a
 * closed period's figures by the same rule: `every` is the key of every organisation, `persons` the prefix of the
 * per-person figures' keys (line counts have none).
 */
export const KEPT_SCOPES = { every: EVERY_ORGANISATION, persons: PERSONS } as const;
