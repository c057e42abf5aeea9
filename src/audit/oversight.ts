import { z } from 'zod';
import type { Clock } from '../clock.js';
import { DoelpoortError } from '../errors.js';
import { organisationName } from '../organisations.js';
import { PURPOSES, purposeSchema, type Purpose } from '../purposes.js';
import { refuse, type DenyLine, type UnitOfWork } from '../unit-of-work.js';
import type { AuditEntry } from './entry.js';
import { dayBounds, localDate, monthBounds, shiftMonth, TIME_ZONE } from './office-hours.js';
import { isAccess, type LineCount, type PersonCount } from './oversight-query.js';
import type { AuditReader } from './reader.js';
import type { Review, ReviewPage, ReviewSubject } from './reviews.js';
import { auditScope, requireToezicht, type ToezichtCaller } from './toezicht.js';

/**
 * The oversight reports of a privacy officer (`toezicht`): the monthly anonymous report, the per-person report and
 * the review trail. Figures only: no record value, BSN, claim or pseudonym ever reaches a report. Each viewing is
 * itself an audit line (`oversight.read`), each review one too (`oversight.reviewed`). A municipal officer's reports
 * cover the lines of their own organisation's staff, a Werkzaak officer's all (as src/audit/toezicht.ts scopes the log).
 *
 * The reports are counted before their unit of work, in slices (src/audit/oversight-query.ts), not inside it: a count
 * of a busy month takes up to a second or two, and inside the unit of work it would hold the write lock every
 * request's line needs. The figures leave only after the viewing's line is durable: no line, no report.
 */

/** What the oversight verbs need. */
export interface OversightDeps {
  uow: UnitOfWork;
  audit: AuditReader;
  clock: Clock;
}

/** A calendar month, `YYYY-MM`. */
export const monthSchema = z
  .string()
  .regex(/^(19|20|21)\d\d-(0[1-9]|1[0-2])$/, 'must be a month, YYYY-MM')
  .meta({ description: 'A calendar month in Europe/Amsterdam, YYYY-MM', example: '2026-10' });
/** A calendar day, `YYYY-MM-DD`, that exists. */
export const daySchema = z
  .string()
  .regex(/^(19|20|21)\d\d-\d\d-\d\d$/, 'must be a date, YYYY-MM-DD')
  .refine((d) => {
    const ms = Date.parse(`${d}T00:00:00Z`);
    return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === d;
  }, 'must be a date that exists')
  .meta({ description: 'A calendar day in Europe/Amsterdam, YYYY-MM-DD', example: '2026-10-01' });

/** The query of `GET /v1/oversight/monthly`. */
export const monthlyQuerySchema = z.strictObject({ month: monthSchema });
/** The query of `GET /v1/oversight/users`: local days, both inclusive, at most USER_REPORT_MAX_DAYS apart. */
export const userQuerySchema = z.strictObject({ from: daySchema, to: daySchema });

/** How many months before the reported one the monthly report compares with. */
export const PREVIOUS_MONTHS = 6;
/** The longest period of the per-person report, in days: a quarter. */
export const USER_REPORT_MAX_DAYS = 92;
/** The longest period a review may cover, in days. */
export const REVIEW_MAX_DAYS = 366;

// ---------------------------------------------------------------------------------------------------------------
// The monthly report

/** The figures of the monthly report. */
export const FIGURE_KEYS = ['accesses', 'permits', 'denials', 'tokenRefusals', 'bsnLookups', 'offHours', 'weekend', 'emergency'] as const;
export type FigureKey = (typeof FIGURE_KEYS)[number];

/** What each figure counts, in the words a page shows (Dutch: an officer reads them). */
export const FIGURE_TEXT: Record<FigureKey, { label: string; description: string }> = {
  accesses: {
    label: 'Raadplegingen',
    description: 'Verzoeken om gegevens van een cliënt te lezen (dossier, overdrachtsdocument, caseload of lijst), toegestaan of geweigerd.',
  },
  permits: { label: 'Toegestaan', description: 'Raadplegingen waarbij gegevens zijn verstrekt.' },
  denials: { label: 'Geweigerd', description: 'Raadplegingen die zijn geweigerd.' },
  tokenRefusals: {
    label: 'Geweigerde toegangsaanvragen',
    description:
      'Aanvragen van een doelgebonden toegang door een aangemelde medewerker die zijn geweigerd (geen relatie met de cliënt, verkeerde rol of organisatie).',
  },
  bsnLookups: {
    label: 'Opzoekingen op BSN',
    description: 'Aanvragen van toegang waarin de cliënt met een BSN werd aangeduid in plaats van een cliëntnummer, toegestaan of geweigerd.',
  },
  offHours: { label: 'Buiten kantoortijd', description: 'Raadplegingen tussen 19:00 en 07:00 Nederlandse tijd, op elke dag.' },
  weekend: { label: 'In het weekend', description: 'Raadplegingen op zaterdag of zondag, Nederlandse tijd (ook als ze buiten kantoortijd vielen).' },
  emergency: { label: 'Noodtoegang', description: 'Raadplegingen met noodtoegang, die elk apart worden beoordeeld.' },
};

type Figures = Record<FigureKey, number>;

/** One figure of the month, with the months before it for comparison. */
export interface MonthlyFigure {
  key: FigureKey;
  label: string;
  description: string;
  value: number;
  /** Oldest first: the PREVIOUS_MONTHS months before, then the reported month itself. */
  series: Array<{ month: string; value: number }>;
  /** The average over the previous months that have any line in scope (one decimal); null when none has. */
  previousAverage: number | null;
}

/** The month's figures of one organisation, role and purpose. */
export interface MonthlyGroup extends Figures {
  organisation: string;
  organisationName: string;
  role: string | null;
  purpose: string | null;
  purposeLabel: string | null;
}

/** The monthly anonymous report: figures per organisation, role and purpose, and each compared with the months before. */
export interface MonthlyReport {
  month: string;
  /** The month as moments: local midnight of its first day up to (not including) that of the next month. */
  from: string;
  to: string;
  timeZone: typeof TIME_ZONE;
  /** `alle`, or the organisation whose staff's lines the report covers. */
  reikwijdte: string;
  generatedAt: string;
  /** The months of every series, oldest first; the last is `month`. */
  months: string[];
  figures: MonthlyFigure[];
  groups: MonthlyGroup[];
}

const noFigures = (): Figures => ({ accesses: 0, permits: 0, denials: 0, tokenRefusals: 0, bsnLookups: 0, offHours: 0, weekend: 0, emergency: 0 });

/** Adds one count's lines to the figures they fall under. */
function tally(f: Figures, c: LineCount): void {
  if (isAccess(c)) {
    f.accesses += c.lines;
    if (c.outcome === 'permit') f.permits += c.lines;
    if (c.outcome === 'deny') f.denials += c.lines;
    if (c.offHours) f.offHours += c.lines;
    if (c.weekend) f.weekend += c.lines;
    if (c.noodtoegang) f.emergency += c.lines;
    return;
  }
  if (c.action === 'token.refused') f.tokenRefusals += c.lines;
  if (c.bsnLookup) f.bsnLookups += c.lines;
}

/** The month of a report: a valid month that has begun (the running one included). */
function reportedMonth(month: string, now: number): string {
  const parsed = monthSchema.safeParse(month);
  if (!parsed.success) throw new DoelpoortError('REQUEST_INVALID', 'month must be YYYY-MM', [{ path: 'query.month', message: 'invalid value' }]);
  if (parsed.data > localDate(now).slice(0, 7)) {
    throw new DoelpoortError('REQUEST_INVALID', 'month lies in the future', [{ path: 'query.month', message: 'lies in the future' }]);
  }
  return parsed.data;
}

/** The checks before a report is counted; a refusal is its deny line. */
async function checked<T>(deps: OversightDeps, deny: DenyLine, check: () => T): Promise<T> {
  try {
    return check();
  } catch (error) {
    if (error instanceof DoelpoortError) return refuse(deps.uow, error, deny);
    throw error;
  }
}

/** Appends the permit line of a viewing and answers with the report once the line is durable. */
async function viewed<T>(
  deps: OversightDeps,
  caller: ToezichtCaller,
  report: T,
  line: { reason: string; count: number; from: number; to: number },
): Promise<T> {
  const entry: AuditEntry = { action: 'oversight.read', ...caller.facts, outcome: 'permit', httpStatus: caller.done, ...line };
  await deps.uow.run(async (tx) => tx.audit.append(entry), { deny: { action: 'oversight.read', ...caller.facts } });
  return report;
}

const oneDecimal = (n: number) => Math.round(n * 10) / 10;

/**
 * The monthly anonymous report of `month` (`YYYY-MM`, Europe/Amsterdam): accesses per organisation, role and purpose,
 * permits and denials, refused token requests, look-ups by BSN, accesses off-hours and at weekends, emergency
 * accesses; each figure with its series over the PREVIOUS_MONTHS months before. A month not begun yet is refused.
 */
export async function monthlyReport(deps: OversightDeps, caller: ToezichtCaller, month: string): Promise<MonthlyReport> {
  const deny: DenyLine = { action: 'oversight.read', ...caller.facts };
  const now = deps.clock.now();
  const reported = await checked(deps, deny, () => {
    requireToezicht(caller.requester);
    return reportedMonth(month, now);
  });
  const scope = auditScope(caller.requester);
  const months = Array.from({ length: PREVIOUS_MONTHS + 1 }, (_, i) => shiftMonth(reported, i - PREVIOUS_MONTHS));
  const bounds = months.map(monthBounds);
  const perMonth = await deps.audit.countLines(bounds, { org: scope.actorOrg });

  const totals = perMonth.map((counts) => {
    const f = noFigures();
    for (const c of counts) tally(f, c);
    return f;
  });
  const hasLines = perMonth.map((counts) => counts.length > 0);
  const figures = FIGURE_KEYS.map((key): MonthlyFigure => {
    const previous = totals.slice(0, PREVIOUS_MONTHS).filter((_, i) => hasLines[i]);
    return {
      key,
      ...FIGURE_TEXT[key],
      value: totals[PREVIOUS_MONTHS]![key],
      series: months.map((m, i) => ({ month: m, value: totals[i]![key] })),
      previousAverage: previous.length === 0 ? null : oneDecimal(previous.reduce((sum, f) => sum + f[key], 0) / previous.length),
    };
  });

  const groups = new Map<string, MonthlyGroup>();
  for (const c of perMonth[PREVIOUS_MONTHS]!) {
    const id = JSON.stringify([c.org, c.role, c.purpose]);
    let g = groups.get(id);
    if (!g) {
      const known = purposeSchema.safeParse(c.purpose);
      g = {
        organisation: c.org,
        organisationName: organisationName(c.org),
        role: c.role,
        purpose: c.purpose,
        purposeLabel: known.success ? PURPOSES[known.data as Purpose].label : null,
        ...noFigures(),
      };
      groups.set(id, g);
    }
    tally(g, c);
  }
  const rows = [...groups.values()]
    .filter((g) => FIGURE_KEYS.some((k) => g[k] > 0))
    .sort(
      (a, b) =>
        a.organisationName.localeCompare(b.organisationName, 'nl') ||
        (a.role ?? '').localeCompare(b.role ?? '') ||
        (a.purpose ?? '').localeCompare(b.purpose ?? ''),
    );

  const { from, to } = bounds[PREVIOUS_MONTHS]!;
  const report: MonthlyReport = {
    month: reported,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    timeZone: TIME_ZONE,
    reikwijdte: scope.actorOrg ?? 'alle',
    generatedAt: new Date(now).toISOString(),
    months,
    figures,
    groups: rows,
  };
  return viewed(deps, caller, report, { reason: 'OVERSIGHT_MONTHLY', count: rows.length, from, to });
}

// ---------------------------------------------------------------------------------------------------------------
// The per-person report

/** The rules by which a person stands out against their peers. */
export const STAND_OUT_RULE_IDS = ['volume', 'denials', 'outsideOfficeHours'] as const;
export type StandOutRuleId = (typeof STAND_OUT_RULE_IDS)[number];

/**
 * A rule: a person stands out when they have at least MINIMUM_PEERS peers (others of the same role and organisation
 * in the period), at least `minimum` of what the rule counts, and a `measure` above the threshold: `factor` times the
 * median of their peers' measure, and never below `floor`. The median resists one other outlier among the peers; the
 * minimum keeps a handful of lines from making a person stand out; the floor keeps peers who all score zero from
 * making any score stand out; and without enough peers nobody is compared at all (a person alone in their role and
 * organisation is shown with `peers` 0 and never stands out by accident).
 */
export interface StandOutRule {
  id: StandOutRuleId;
  label: string;
  /** The rule in full, with its numbers (Dutch: the page shows it). */
  description: string;
  /** What is compared: a number of accesses, or a share (0..1). */
  measure: 'accesses' | 'denialShare' | 'outsideOfficeHoursShare';
  factor: number;
  floor: number;
  /** The least number of the lines the rule counts (accesses, refusals, accesses outside office hours). */
  minimum: number;
}

/** How many peers a person needs before they are compared with them. */
export const MINIMUM_PEERS = 2;

export const STAND_OUT_RULES: readonly StandOutRule[] = [
  {
    id: 'volume',
    label: 'Veel raadplegingen',
    description: 'Meer dan 3 keer de mediaan van de raadplegingen van collega’s met dezelfde rol en organisatie, en minstens 50.',
    measure: 'accesses',
    factor: 3,
    floor: 0,
    minimum: 50,
  },
  {
    id: 'denials',
    label: 'Veel weigeringen',
    description:
      'Een aandeel weigeringen (geweigerde raadplegingen en toegangsaanvragen) van meer dan 3 keer de mediaan van collega’s en meer dan 20%, bij minstens 10 weigeringen.',
    measure: 'denialShare',
    factor: 3,
    floor: 0.2,
    minimum: 10,
  },
  {
    id: 'outsideOfficeHours',
    label: 'Veel buiten kantoortijd',
    description:
      'Een aandeel raadplegingen buiten kantoortijd (19:00–07:00 of in het weekend) van meer dan 3 keer de mediaan van collega’s en meer dan 25%, bij minstens 10 zulke raadplegingen.',
    measure: 'outsideOfficeHoursShare',
    factor: 3,
    floor: 0.25,
    minimum: 10,
  },
];

/** Why a person stands out: the rule, their measure and the threshold it passed. */
export interface StandOut {
  rule: StandOutRuleId;
  value: number;
  threshold: number;
}

/** One person's figures over the period, and how they compare with their peers. */
export interface PersonFigures {
  iss: string;
  sub: string;
  role: string;
  organisation: string;
  organisationName: string;
  accesses: number;
  permits: number;
  denials: number;
  tokenRefusals: number;
  /** The clients whose data a permitted access released to them. */
  distinctClients: number;
  offHours: number;
  weekend: number;
  /** Accesses off-hours or at the weekend (or both). */
  outsideOfficeHours: number;
  /** Off-hours (19:00–07:00) accesses over all accesses; 0 without accesses. */
  offHoursShare: number;
  /** Accesses off-hours or at the weekend over all accesses. */
  outsideOfficeHoursShare: number;
  /** Refusals (denied accesses and refused token requests) over accesses plus refused token requests. */
  denialShare: number;
  emergency: number;
  bsnLookups: number;
  /** Others of the same role and organisation in the period. */
  peers: number;
  /** The peers' medians; null with fewer than MINIMUM_PEERS peers (the person is then not compared). */
  peerMedian: { accesses: number; denialShare: number; outsideOfficeHoursShare: number } | null;
  standsOut: StandOut[];
}

/** The per-person report over a period of local days. */
export interface UserReport {
  /** The local days reported, both inclusive (`YYYY-MM-DD`). */
  fromDate: string;
  toDate: string;
  /** The period as moments: local midnight of the first day up to (not including) that after the last. */
  from: string;
  to: string;
  timeZone: typeof TIME_ZONE;
  reikwijdte: string;
  generatedAt: string;
  minimumPeers: number;
  rules: readonly StandOutRule[];
  /** Those who stand out first, then by accesses, most first. */
  persons: PersonFigures[];
}

const share = (part: number, whole: number) => (whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The rule's count and measure of a person. */
function scored(p: PersonFigures, rule: StandOutRule): { count: number; measure: number } {
  switch (rule.measure) {
    case 'accesses':
      return { count: p.accesses, measure: p.accesses };
    case 'denialShare':
      return { count: p.denials + p.tokenRefusals, measure: p.denialShare };
    case 'outsideOfficeHoursShare':
      return { count: p.outsideOfficeHours, measure: p.outsideOfficeHoursShare };
  }
}

/** Compares every person with the others of their role and organisation under the rules. */
function compare(persons: PersonFigures[]): void {
  const groups = new Map<string, PersonFigures[]>();
  for (const p of persons) {
    const id = JSON.stringify([p.role, p.organisation]);
    groups.set(id, [...(groups.get(id) ?? []), p]);
  }
  for (const group of groups.values()) {
    for (const p of group) {
      const peers = group.filter((q) => q !== p);
      p.peers = peers.length;
      if (peers.length < MINIMUM_PEERS) continue;
      const medianOf = (rule: StandOutRule) => median(peers.map((q) => scored(q, rule).measure));
      const [volume, denials, outside] = STAND_OUT_RULES.map(medianOf) as [number, number, number];
      p.peerMedian = { accesses: volume, denialShare: share(denials, 1), outsideOfficeHoursShare: share(outside, 1) };
      for (const rule of STAND_OUT_RULES) {
        const { count, measure } = scored(p, rule);
        const threshold = Math.max(rule.floor, rule.factor * medianOf(rule));
        if (count >= rule.minimum && measure > threshold) p.standsOut.push({ rule: rule.id, value: measure, threshold: share(threshold, 1) });
      }
    }
  }
}

function personFigures(c: PersonCount): PersonFigures {
  return {
    iss: c.iss,
    sub: c.sub,
    role: c.role,
    organisation: c.org,
    organisationName: organisationName(c.org),
    accesses: c.accesses,
    permits: c.permits,
    denials: c.denials,
    tokenRefusals: c.tokenRefusals,
    distinctClients: c.distinctClients,
    offHours: c.offHours,
    weekend: c.weekend,
    outsideOfficeHours: c.outsideOfficeHours,
    offHoursShare: share(c.offHours, c.accesses),
    outsideOfficeHoursShare: share(c.outsideOfficeHours, c.accesses),
    denialShare: share(c.denials + c.tokenRefusals, c.accesses + c.tokenRefusals),
    emergency: c.emergency,
    bsnLookups: c.bsnLookups,
    peers: 0,
    peerMedian: null,
    standsOut: [],
  };
}

/** A period of local days as given: both valid, in order, not in the future, at most `maxDays` days. */
function localPeriod(from: string, to: string, now: number, maxDays: number, where: 'query' | 'body'): { from: number; to: number } {
  const problem = (field: string, message: string) => new DoelpoortError('REQUEST_INVALID', `${field} ${message}`, [{ path: `${where}.${field}`, message }]);
  if (!daySchema.safeParse(from).success) throw problem('from', 'invalid value');
  if (!daySchema.safeParse(to).success) throw problem('to', 'invalid value');
  if (from > to) throw problem('to', 'lies before from');
  if (to > localDate(now)) throw problem('to', 'lies in the future');
  if ((Date.parse(to) - Date.parse(from)) / 86_400_000 + 1 > maxDays) throw problem('to', `lies more than ${maxDays} days after from`);
  return dayBounds(from, to);
}

/**
 * The per-person report over the local days `from`..`to` (inclusive, at most USER_REPORT_MAX_DAYS): each person's
 * accesses, distinct clients, denials, off-hours share and emergency accesses, and who stands out against their peers
 * (STAND_OUT_RULES). Named: a municipal officer sees their own organisation's staff only.
 */
export async function userReport(deps: OversightDeps, caller: ToezichtCaller, period: { from: string; to: string }): Promise<UserReport> {
  const deny: DenyLine = { action: 'oversight.read', ...caller.facts };
  const now = deps.clock.now();
  const bounds = await checked(deps, deny, () => {
    requireToezicht(caller.requester);
    return localPeriod(period.from, period.to, now, USER_REPORT_MAX_DAYS, 'query');
  });
  const scope = auditScope(caller.requester);
  const persons = (await deps.audit.countPersons(bounds, { org: scope.actorOrg })).map(personFigures);
  compare(persons);
  persons.sort(
    (a, b) =>
      Number(b.standsOut.length > 0) - Number(a.standsOut.length > 0) ||
      b.accesses - a.accesses ||
      a.organisation.localeCompare(b.organisation) ||
      a.sub.localeCompare(b.sub),
  );
  const report: UserReport = {
    fromDate: period.from,
    toDate: period.to,
    from: new Date(bounds.from).toISOString(),
    to: new Date(bounds.to).toISOString(),
    timeZone: TIME_ZONE,
    reikwijdte: scope.actorOrg ?? 'alle',
    generatedAt: new Date(now).toISOString(),
    minimumPeers: MINIMUM_PEERS,
    rules: STAND_OUT_RULES,
    persons,
  };
  return viewed(deps, caller, report, { reason: 'OVERSIGHT_USERS', count: persons.length, ...bounds });
}

// ---------------------------------------------------------------------------------------------------------------
// The review trail

/** A note: free text an officer writes, never a BSN (nine digits in a row): a client is named by clientRef. */
const noteSchema = z
  .string()
  .trim()
  .min(1)
  .max(2000)
  .refine((n) => !/(?<!\d)\d{9}(?!\d)/.test(n), 'must not hold a BSN (nine digits); name a client by clientRef')
  .meta({ description: 'What the officer found and did; at most 2000 characters, never a BSN' });

const periodReview = (subject: Exclude<ReviewSubject, 'monthly'>) =>
  z.strictObject({ subject: z.literal(subject), from: daySchema, to: daySchema, note: noteSchema });

/** The body of `POST /v1/oversight/reviews`: a monthly report by its month, anything else by its local days. */
export const reviewInputSchema = z
  .discriminatedUnion('subject', [
    z.strictObject({ subject: z.literal('monthly'), month: monthSchema, note: noteSchema }),
    periodReview('users'),
    periodReview('break-glass'),
    periodReview('period'),
  ])
  .meta({ id: 'OversightReviewRequest' });
export type ReviewInput = z.infer<typeof reviewInputSchema>;

/** The reason code of a review's line, by subject. */
const REVIEW_REASON: Record<ReviewSubject, string> = {
  monthly: 'REVIEW_MONTHLY',
  users: 'REVIEW_USERS',
  'break-glass': 'REVIEW_BREAK_GLASS',
  period: 'REVIEW_PERIOD',
};

/** The local days a review covers: the month's, or those given. */
function reviewedDays(input: ReviewInput, now: number): { periodFrom: string; periodTo: string; from: number; to: number } {
  if (input.subject === 'monthly') {
    const month = reportedMonth(input.month, now);
    const bounds = monthBounds(month);
    return { periodFrom: `${month}-01`, periodTo: localDate(bounds.to - 1), ...bounds };
  }
  const where = 'body';
  return { periodFrom: input.from, periodTo: input.to, ...localPeriod(input.from, input.to, now, REVIEW_MAX_DAYS, where) };
}

/**
 * Records that the officer reviewed a report or a period, with a note: the review trail an inspection asks for. The
 * review and its `oversight.reviewed` line are written together, or neither is.
 */
export function recordReview(deps: OversightDeps, caller: ToezichtCaller, input: ReviewInput): Promise<Review> {
  const deny: DenyLine = { action: 'oversight.reviewed', ...caller.facts };
  return deps.uow.run(
    async (tx) => {
      const { requester } = caller;
      requireToezicht(requester);
      const parsed = reviewInputSchema.safeParse(input);
      if (!parsed.success) throw new DoelpoortError('REQUEST_INVALID', 'review: invalid body');
      const now = deps.clock.now();
      const { periodFrom, periodTo, from, to } = reviewedDays(parsed.data, now);
      const review: Omit<Review, 'id'> = {
        at: now,
        officer: { iss: requester.issuer, sub: requester.sub, org: requester.org },
        subject: parsed.data.subject,
        periodFrom,
        periodTo,
        note: parsed.data.note,
      };
      const id = await tx.reviews.record(review);
      await tx.audit.append({
        action: 'oversight.reviewed',
        ...caller.facts,
        outcome: 'permit',
        reason: REVIEW_REASON[review.subject],
        httpStatus: caller.done,
        reviewId: id,
        from,
        to,
      });
      return { id, ...review };
    },
    { deny },
  );
}

/** The query of `GET /v1/oversight/reviews`. */
export const reviewsQuerySchema = z.strictObject({
  cursor: z.string().max(64).optional().meta({ description: 'Opaque, from the previous page’s `next`' }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/**
 * The reviews, newest first, a page at a time: a municipal officer's organisation's, or all for a Werkzaak officer.
 */
export function listReviews(deps: OversightDeps, caller: ToezichtCaller, page: z.output<typeof reviewsQuerySchema>): Promise<ReviewPage> {
  const deny: DenyLine = { action: 'oversight.read', ...caller.facts };
  return deps.uow.run(
    async (tx) => {
      requireToezicht(caller.requester);
      const result = await tx.reviews.list({ org: auditScope(caller.requester).actorOrg, cursor: page.cursor, limit: page.limit });
      await tx.audit.append({
        action: 'oversight.read',
        ...caller.facts,
        outcome: 'permit',
        reason: 'OVERSIGHT_REVIEWS',
        httpStatus: caller.done,
        count: result.items.length,
      });
      return result;
    },
    { deny },
  );
}
