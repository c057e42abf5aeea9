import { z } from 'zod';
import { purposeSchema, roleSchema } from '../purposes.js';
import { CLIENT_REF_PATTERN, ORGANISATION_PATTERN } from '../records/suite-record.js';

/**
 * What one audit line holds (domain.md: BIO2 8.15, NEN 7513, Logboek Dataverwerkingen). A new kind of event is a new
 * variant of the union, never a free-form string. Lines hold field *names* and codes, never record values, BSNs
 * (only their keyed pseudonym), tokens or claims other than the actor's iss, sub, role and org.
 */

/** A field path as released or withheld: `persoon.adres.postcode`, `belastbaarheidsonderzoeken[0].diagnose`. */
const fieldName = z.string().regex(/^[A-Za-z]+(\[\d+\])?(\.[A-Za-z]+(\[\d+\])?)*$/, 'must be a field path');
const code = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'must be an UPPER_SNAKE code');
const tokenId = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be a token id');
const hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`));
/** A random UUID, lower-case hex with hyphens (the id of an emergency access). */
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Who acted: a person is the pair (`iss`, `sub`), the issuer of their login and its subject. */
export const actorSchema = z.strictObject({
  iss: z.string().min(1).max(512),
  sub: z.string().min(1).max(256),
  role: roleSchema,
  org: z.string().regex(ORGANISATION_PATTERN),
});
export type AuditActor = z.infer<typeof actorSchema>;

/** The actor of an audit line for a verified person (a requester or a login). */
export function auditActor(person: { issuer: string; sub: string; role: AuditActor['role']; org: string }): AuditActor {
  return { iss: person.issuer, sub: person.sub, role: person.role, org: person.org };
}

const common = {
  traceId: hex(32),
  spanId: hex(16),
  /**
   * The span that started this line's action: the caller's, from a valid incoming W3C `traceparent` (then
   * `remoteParent`: it is an action of another application), or, on a line about one data subject of a request that
   * covers several, the request's own span. Absent on lines written before spans were recorded, and on a request
   * that came without a trace context.
   */
  parentSpanId: hex(16).optional(),
  remoteParent: z.literal(true).optional(),
  /** Absent when the caller could not be identified (a refused login token). */
  actor: actorSchema.optional(),
  /** The client IP as the socket saw it. */
  origin: z.string().max(64),
  /** Where the request came in: the API, the web application, or the command line. */
  channel: z.enum(['api', 'web', 'cli']).optional(),
  /** The registered OAuth client the request came through (`doelpoort-web` for the web application). */
  clientId: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be a client id')
    .optional(),
  outcome: z.enum(['permit', 'deny', 'error']),
  /** Why: a stable code (`PERMIT`, `NO_HANDOVER_TO_ORGANISATION`, `TOKEN_EXPIRED`, …). */
  reason: code,
  httpStatus: z.number().int().min(100).max(599),
  purpose: purposeSchema.optional(),
  processingActivityId: z.string().max(64).optional(),
  /** The access token's `jti`: an id, so a whole token (it has dots) is refused. */
  tokenId: tokenId.optional(),
  /** A BSN-shaped value (nine digits) is refused: the BSN goes in only as `bsnPseudonym`. */
  clientRef: z.string().regex(CLIENT_REF_PATTERN, 'must be a clientRef, never a BSN').optional(),
  /** HMAC-SHA256 of the BSN under the data dir's pseudonym key, hex: links lines of one client, reveals no BSN. */
  bsnPseudonym: hex(64).optional(),
  policyVersion: z.string().max(128).optional(),
  decisionId: z.string().max(64).optional(),
  released: z.array(fieldName).optional(),
  withheld: z.array(fieldName).optional(),
  /**
   * The line is about an emergency access (break-glass): the request for an emergency token (`token.issued`, or
   * `token.refused` once the request was read as one), and every use of such a token; the oversight reports count it. Absent otherwise.
   */
  noodtoegang: z.literal(true).optional(),
  /** The emergency access the line is about (its id in the `noodtoegang` table, where the written reason is kept). */
  noodtoegangId: z.string().regex(UUID_PATTERN, 'must be an emergency access id').optional(),
};

/**
 * Policy lines: `policyId` is the stored version the line is about (its id in policy_versions; `policyVersion` holds
 * its hash); `count` is how many items the request covered (versions listed, decisions replayed).
 */
const policy = {
  policyId: z.number().int().min(1).optional(),
  count: z.number().int().min(0).optional(),
  /** Absent on a line the CLI wrote (`doelpoort policy propose`). */
  httpStatus: common.httpStatus.optional(),
};

export const auditEntrySchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('token.issued'), ...common, purpose: purposeSchema, tokenId, actor: actorSchema }),
  z.strictObject({ action: z.literal('token.refused'), ...common }),
  z.strictObject({ action: z.literal('record.read'), ...common }),
  z.strictObject({ action: z.literal('document.read'), ...common }),
  z.strictObject({ action: z.literal('caseload.read'), ...common, count: z.number().int().min(0).optional() }),
  /**
   * One client of a list (the handover inbox, the KP4 clients), decided on as if the requester were bound to it:
   * `released` names exactly the fields the list item showed. A line without a client: the page listed nobody.
   */
  z.strictObject({ action: z.literal('list.read'), ...common, count: z.number().int().min(0).optional() }),
  /** A look-up of one client by BSN (schuldhulpverlening): the BSN only as `bsnPseudonym`; `clientRef` when one was found. */
  z.strictObject({ action: z.literal('client.lookup'), ...common }),
  z.strictObject({ action: z.literal('policy.proposed'), ...common, ...policy }),
  z.strictObject({ action: z.literal('policy.approved'), ...common, ...policy }),
  z.strictObject({ action: z.literal('policy.rejected'), ...common, ...policy }),
  z.strictObject({ action: z.literal('policy.simulated'), ...common, ...policy }),
  /** A privacy officer listed or read policy versions. */
  z.strictObject({ action: z.literal('policy.read'), ...common, ...policy }),
  /** An impact replay of `count` logged decisions under version `policyId`. */
  z.strictObject({ action: z.literal('policy.impact'), ...common, ...policy }),
  z.strictObject({ action: z.literal('audit.read'), ...common }),
  /** A request refused at the edge, before any route read it (a body over the route's limit: `BODY_TOO_LARGE`). */
  z.strictObject({ action: z.literal('request.refused'), ...common }),
  /** `count` requests from `origin` refused with 429 in the minute starting at `since` (epoch ms): one line, not one each. */
  z.strictObject({ action: z.literal('request.limited'), ...common, count: z.number().int().min(0), since: z.number().int() }),
  z.strictObject({ action: z.literal('access-report.read'), ...common }),
  /** A person logged in to the web application (channel `web`): a new session, `reason` `LOGIN`. */
  z.strictObject({ action: z.literal('session.started'), ...common, actor: actorSchema }),
  /**
   * A web login refused, with a reason per refusal (`LOGIN_STATE_UNKNOWN`, `LOGIN_NONCE_MISMATCH`,
   * `LOGIN_ORGANISATION_NOT_VOUCHED`, …); the actor only once the login itself was verified.
   */
  z.strictObject({ action: z.literal('session.refused'), ...common }),
  /**
   * A web session ended: `LOGOUT`, `IDLE_TIMEOUT`, `ABSOLUTE_TIMEOUT` or `REPLACED` (a new login in the same browser).
   * Without a status when no request ended it (a session found expired by the periodic prune).
   */
  z.strictObject({ action: z.literal('session.ended'), ...common, actor: actorSchema, httpStatus: common.httpStatus.optional() }),
  /** A privacy officer viewed the review queue of emergency accesses: `count` accesses on the page. */
  z.strictObject({ action: z.literal('noodtoegang.read'), ...common, count: z.number().int().min(0).optional() }),
  /** A Werkzaak privacy officer recorded the verdict on emergency access `noodtoegangId` (the note stays in its row). */
  z.strictObject({ action: z.literal('noodtoegang.verdict'), ...common, verdict: z.enum(['terecht', 'onterecht']).optional() }),
  /**
   * A logged-in person logged in again at their provider (`prompt=login`, `max_age=0`) immediately before a step that
   * asks for it (approving a policy version): `REAUTHENTICATED`. A refused one is a `session.refused` line.
   */
  z.strictObject({ action: z.literal('session.reauthenticated'), ...common, actor: actorSchema }),
  /**
   * Retention pruning is about to blank the content of the `count` lines in fromSeq..toSeq older than `before` (epoch
   * ms), which lies at least `retentionDays` before this line; written by the CLI before the blanking, in its
   * transaction. A prune that found nothing to blank has no range.
   */
  z.strictObject({
    action: z.literal('audit.pruned'),
    ...common,
    httpStatus: common.httpStatus.optional(),
    before: z.number().int(),
    count: z.number().int().min(0),
    fromSeq: z.number().int().min(1).optional(),
    toSeq: z.number().int().min(1).optional(),
    retentionDays: z.number().int().min(1),
  }),
  /**
   * A privacy officer viewed an oversight report (reason `OVERSIGHT_MONTHLY`, `OVERSIGHT_USERS`, `OVERSIGHT_REVIEWS`):
   * `count` is how many rows it showed (groups, persons, reviews); `from`..`to` (epoch ms, `to` exclusive) the period
   * it covered. Figures only: the line never holds a figure's value.
   */
  z.strictObject({
    action: z.literal('oversight.read'),
    ...common,
    count: z.number().int().min(0).optional(),
    from: z.number().int().optional(),
    to: z.number().int().optional(),
  }),
  /**
   * A privacy officer recorded that a report or a period was reviewed (reason `REVIEW_MONTHLY`, `REVIEW_USERS`,
   * `REVIEW_BREAK_GLASS`, `REVIEW_PERIOD`): `reviewId` is its row in oversight_reviews, `from`..`to` (epoch ms, `to`
   * exclusive) the period reviewed. The note stays in that row, never in the line.
   */
  z.strictObject({
    action: z.literal('oversight.reviewed'),
    ...common,
    reviewId: z.number().int().min(1).optional(),
    from: z.number().int().optional(),
    to: z.number().int().optional(),
  }),
]);

export type AuditEntry = z.infer<typeof auditEntrySchema>;
export type AuditAction = AuditEntry['action'];

/** The actions whose lines record a read of one client's data under a purpose: the decisions, and the consultations. */
export const READ_ACTIONS = ['record.read', 'document.read', 'caseload.read', 'list.read'] as const satisfies readonly AuditAction[];

/** Whether a line of `action` records a read of client data. */
export const isReadAction = (action: AuditAction): action is (typeof READ_ACTIONS)[number] => (READ_ACTIONS as readonly string[]).includes(action);

/** A stored line: the entry plus its place in the chain. */
export interface AuditLine {
  seq: number;
  /** Epoch milliseconds. */
  at: number;
  action: AuditAction;
  outcome: AuditEntry['outcome'];
  /** Undefined once pruned. */
  entry: AuditEntry | undefined;
  /** Hex. */
  chainHash: string;
}

// ---------------------------------------------------------------------------------------------------------------
// The same rules as auditEntrySchema, as plain code for the hot path (AuditLog.append): zod's parse of every entry
// cost about a tenth of a client read. test/audit-entry-guard.test.ts checks that both accept exactly the same.

const FIELD_NAME = /^[A-Za-z]+(\[\d+\])?(\.[A-Za-z]+(\[\d+\])?)*$/;
const CODE = /^[A-Z][A-Z0-9_]*$/;
const TOKEN_ID = /^[A-Za-z0-9_-]{1,128}$/;
const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const ROLES: ReadonlySet<unknown> = new Set(roleSchema.options);
const PURPOSE_NAMES: ReadonlySet<unknown> = new Set(purposeSchema.options);
const OUTCOMES: ReadonlySet<unknown> = new Set(['permit', 'deny', 'error']);
const CHANNELS: ReadonlySet<unknown> = new Set(['api', 'web', 'cli']);
const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const VERDICTS: ReadonlySet<unknown> = new Set(['terecht', 'onterecht']);
const KEYS: Record<string, ReadonlySet<string>> = Object.fromEntries(
  auditEntrySchema.options.map((o) => [o.shape.action.value, new Set(Object.keys(o.shape))]),
);
/** Frozen field lists already found to hold names only: a cached decision's lists are checked once, not per line. */
const checkedLists = new WeakSet<readonly unknown[]>();

const isString = (v: unknown, max = Infinity): v is string => typeof v === 'string' && v.length <= max;
const isInt = (v: unknown, min = -Infinity, max = Infinity) => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;

function fieldList(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  if (checkedLists.has(v)) return true;
  for (const f of v) if (typeof f !== 'string' || !FIELD_NAME.test(f)) return false;
  if (Object.isFrozen(v)) checkedLists.add(v);
  return true;
}

/** Each common key's rule; an absent (undefined) optional key passes. */
const RULES: Record<string, (v: unknown) => boolean> = {
  traceId: (v) => isString(v) && HEX32.test(v),
  spanId: (v) => isString(v) && HEX16.test(v),
  parentSpanId: (v) => isString(v) && HEX16.test(v),
  remoteParent: (v) => v === true,
  actor: (v) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
    const a = v as Record<string, unknown>;
    for (const k of Object.keys(a)) if (k !== 'iss' && k !== 'sub' && k !== 'role' && k !== 'org') return false;
    return (
      isString(a.iss, 512) &&
      a.iss.length >= 1 &&
      isString(a.sub, 256) &&
      a.sub.length >= 1 &&
      ROLES.has(a.role) &&
      isString(a.org) &&
      ORGANISATION_PATTERN.test(a.org)
    );
  },
  origin: (v) => isString(v, 64),
  channel: (v) => CHANNELS.has(v),
  clientId: (v) => isString(v) && CLIENT_ID.test(v),
  outcome: (v) => OUTCOMES.has(v),
  reason: (v) => isString(v) && CODE.test(v),
  httpStatus: (v) => isInt(v, 100, 599),
  purpose: (v) => PURPOSE_NAMES.has(v),
  processingActivityId: (v) => isString(v, 64),
  tokenId: (v) => isString(v) && TOKEN_ID.test(v),
  clientRef: (v) => isString(v) && CLIENT_REF_PATTERN.test(v),
  bsnPseudonym: (v) => isString(v) && HEX64.test(v),
  policyVersion: (v) => isString(v, 128),
  decisionId: (v) => isString(v, 64),
  released: fieldList,
  withheld: fieldList,
  noodtoegang: (v) => v === true,
  noodtoegangId: (v) => isString(v) && UUID_PATTERN.test(v),
  verdict: (v) => VERDICTS.has(v),
  from: (v) => isInt(v),
  to: (v) => isInt(v),
  reviewId: (v) => isInt(v, 1),
  count: (v) => isInt(v, 0),
  before: (v) => isInt(v),
  fromSeq: (v) => isInt(v, 1),
  toSeq: (v) => isInt(v, 1),
  retentionDays: (v) => isInt(v, 1),
  policyId: (v) => isInt(v, 1),
  since: (v) => isInt(v),
};
/** The keys each action requires, read off the schema so the two cannot disagree. */
const REQUIRED: Record<string, readonly string[]> = Object.fromEntries(
  auditEntrySchema.options.map((o) => [
    o.shape.action.value,
    Object.entries(o.shape as Record<string, z.ZodType>)
      .filter(([k, schema]) => k !== 'action' && !schema.safeParse(undefined).success)
      .map(([k]) => k),
  ]),
);
// A key the schema knows and the guard does not would fail every append at run time; fail at load instead.
for (const keys of Object.values(KEYS)) for (const k of keys) if (k !== 'action' && !RULES[k]) throw new TypeError(`audit entry guard: no rule for '${k}'`);

/**
 * Where `entry` breaks auditEntrySchema (the name of the first offending key), or null when the schema accepts it:
 * the same verdict as `auditEntrySchema.safeParse(entry).success`, without building a parsed copy.
 */
export function auditEntryProblem(entry: unknown): string | null {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return '';
  const e = entry as Record<string, unknown>;
  const keys = typeof e.action === 'string' && Object.hasOwn(KEYS, e.action) ? KEYS[e.action]! : undefined;
  if (!keys) return 'action';
  for (const k of Object.keys(e)) if (!keys.has(k)) return k;
  for (const k of REQUIRED[e.action as string]!) if (e[k] === undefined) return k;
  for (const k of keys) {
    if (k === 'action') continue;
    const v = e[k];
    if (v !== undefined && !RULES[k]!(v)) return k;
  }
  return null;
}
