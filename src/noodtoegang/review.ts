import { z } from 'zod';
import type { AuditEntry } from '../audit/entry.js';
import { requireToezicht, type ToezichtCaller } from '../audit/toezicht.js';
import type { Clock } from '../clock.js';
import { DoelpoortError } from '../errors.js';
import { POLICY_CONTROLLER, samePerson } from '../policy/versions.js';
import { seesEveryClient, type Purpose } from '../purposes.js';
import type { DenyLine, UnitOfWork } from '../unit-of-work.js';
import { NOODTOEGANG_WINDOW_MS } from './grant.js';
import { VERDICTS, type NoodtoegangActor, type NoodtoegangRecord, type Verdict } from './store.js';

/**
 * The review of emergency accesses (api.md, Oversight): the queue a privacy officer reads with a `toezicht` token,
 * and the verdict a Werkzaak privacy officer records on each. A Werkzaak officer's queue holds every emergency
 * access; a municipal officer's those of their own organisation's staff, as their reading of the audit log does.
 * Verdicts are Werkzaak's alone (the controller of the records), never on one's own emergency access, and once. Each
 * viewing and each verdict is an audit line; the reason and the note are free text and stay in the table.
 */

/** How long an emergency access may wait for its verdict before the queue shows it as overdue: 7 days. */
export const REVIEW_DUE_MS = NOODTOEGANG_WINDOW_MS;

/** The most items a page of the queue may ask for. */
const MAX_LIMIT = 100;

const CURSOR_PREFIX = 'n1.';
const encodeCursor = (seq: number) => CURSOR_PREFIX + Buffer.from(String(seq)).toString('base64url');
function decodeCursor(cursor: string): number {
  const seq = cursor.startsWith(CURSOR_PREFIX) ? Number(Buffer.from(cursor.slice(CURSOR_PREFIX.length), 'base64url').toString()) : Number.NaN;
  if (!Number.isSafeInteger(seq) || seq < 1) throw new DoelpoortError('REQUEST_INVALID', 'the cursor is invalid');
  return seq;
}

/** The query of the review queue; unknown parameters are refused. */
export const noodtoegangQuerySchema = z.strictObject({
  status: z.enum(['open', 'all']).default('open').meta({ description: '`open`: only those without a verdict (the default); `all`: every one' }),
  cursor: z.string().max(64).optional().meta({ description: 'The `next` of the previous page (opaque)' }),
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(20),
});
export type NoodtoegangQueryInput = z.output<typeof noodtoegangQuerySchema>;

/** The body of a verdict. */
export const verdictBodySchema = z.strictObject({
  verdict: z.enum(VERDICTS),
  note: z.string().trim().min(1).max(2000).meta({ description: 'Why: at most 2000 characters, kept with the verdict, never in a log line' }),
});
export type VerdictInput = z.output<typeof verdictBodySchema>;

/** One emergency access as the queue shows it. */
export interface NoodtoegangItem {
  id: string;
  /** ISO date-time of the grant. */
  at: string;
  clientRef: string;
  purpose: Purpose;
  /** The person granted it (iss, sub), their role and organisation. */
  actor: NoodtoegangActor;
  /** The registered client the token was issued to. */
  clientId: string;
  /** The reason they wrote. */
  reden: string;
  verdict: Verdict | null;
  /** Who recorded the verdict, when, and their note; null while there is none. */
  review: { note: string; by: { iss: string; sub: string }; at: string } | null;
  /** No verdict yet, and granted more than 7 days ago. */
  overdue: boolean;
}

/** A page of the queue, oldest first, and the cursor of the next (null on the last). */
export interface NoodtoegangPage {
  items: NoodtoegangItem[];
  next: string | null;
}

/** What the review verbs need. */
export interface ReviewDeps {
  uow: UnitOfWork;
  clock: Clock;
}

function itemOf(record: NoodtoegangRecord, now: number): NoodtoegangItem {
  const { id, at, clientRef, purpose, actor, clientId, reden, verdict } = record;
  return {
    id,
    at: new Date(at).toISOString(),
    clientRef,
    purpose,
    actor,
    clientId,
    reden,
    verdict: verdict?.verdict ?? null,
    review: verdict && { note: verdict.note, by: { iss: verdict.iss, sub: verdict.sub }, at: new Date(verdict.at).toISOString() },
    overdue: verdict === null && at < now - REVIEW_DUE_MS,
  };
}

/** One page of the review queue within the officer's scope, oldest first; the viewing is a `noodtoegang.read` line. */
export function listNoodtoegang(deps: ReviewDeps, caller: ToezichtCaller, query: NoodtoegangQueryInput): Promise<NoodtoegangPage> {
  const deny: DenyLine = { action: 'noodtoegang.read', ...caller.facts };
  return deps.uow.run(
    async (tx) => {
      const { requester } = caller;
      requireToezicht(requester);
      const after = query.cursor === undefined ? 0 : decodeCursor(query.cursor);
      const actorOrg = seesEveryClient(requester.org) ? undefined : requester.org;
      const page = await tx.noodtoegang.list({ open: query.status === 'open', actorOrg, after, limit: query.limit });
      const line: AuditEntry = {
        action: 'noodtoegang.read',
        ...caller.facts,
        outcome: 'permit',
        reason: 'NOODTOEGANG_LISTED',
        httpStatus: caller.done,
        count: page.items.length,
      };
      await tx.audit.append(line);
      const now = deps.clock.now();
      return { items: page.items.map((r) => itemOf(r, now)), next: page.more ? encodeCursor(page.items.at(-1)!.seq) : null };
    },
    { deny },
  );
}

/**
 * Records a Werkzaak privacy officer's verdict on emergency access `id`, with a note: not by a municipal officer, not
 * on their own emergency access, and once (a second is NOODTOEGANG_JUDGED). The `noodtoegang.verdict` line names the
 * access, its client and the verdict; never the note.
 */
export function judgeNoodtoegang(deps: ReviewDeps, caller: ToezichtCaller, id: string, input: VerdictInput): Promise<NoodtoegangItem> {
  const deny: DenyLine = { action: 'noodtoegang.verdict', ...caller.facts, noodtoegangId: id };
  return deps.uow.run(
    async (tx) => {
      const { requester } = caller;
      requireToezicht(requester);
      if (requester.org !== POLICY_CONTROLLER) {
        throw new DoelpoortError('NOODTOEGANG_NOT_CONTROLLER', 'only a privacy officer of WERKZAAK records a verdict on an emergency access');
      }
      const access = await tx.noodtoegang.get(id);
      if (!access) throw new DoelpoortError('NOODTOEGANG_NOT_FOUND', 'no emergency access with this id');
      if (samePerson(access.actor, { iss: requester.issuer, sub: requester.sub })) {
        throw new DoelpoortError('NOODTOEGANG_SELF_REVIEW', 'an officer does not judge their own emergency access');
      }
      const at = deps.clock.now();
      const judged =
        access.verdict === null &&
        (await tx.noodtoegang.judge(id, { verdict: input.verdict, note: input.note, iss: requester.issuer, sub: requester.sub, at }));
      if (!judged) throw new DoelpoortError('NOODTOEGANG_JUDGED', 'this emergency access has a verdict already');
      await tx.audit.append({
        action: 'noodtoegang.verdict',
        ...caller.facts,
        outcome: 'permit',
        reason: 'NOODTOEGANG_VERDICT_RECORDED',
        httpStatus: caller.done,
        noodtoegangId: id,
        clientRef: access.clientRef,
        verdict: input.verdict,
      });
      return itemOf((await tx.noodtoegang.get(id))!, at);
    },
    { deny },
  );
}

/**
 * One emergency access in full, within the officer's scope: one outside it is not found, exactly like one that does
 * not exist (NOODTOEGANG_NOT_FOUND). The viewing is a `noodtoegang.read` line naming the access and its client.
 */
export function readNoodtoegang(deps: ReviewDeps, caller: ToezichtCaller, id: string): Promise<NoodtoegangItem> {
  const deny: DenyLine = { action: 'noodtoegang.read', ...caller.facts, noodtoegangId: id };
  return deps.uow.run(
    async (tx) => {
      const { requester } = caller;
      requireToezicht(requester);
      const access = await tx.noodtoegang.get(id);
      if (!access || (!seesEveryClient(requester.org) && access.actor.org !== requester.org)) {
        throw new DoelpoortError('NOODTOEGANG_NOT_FOUND', 'no emergency access with this id');
      }
      await tx.audit.append({
        action: 'noodtoegang.read',
        ...caller.facts,
        outcome: 'permit',
        reason: 'NOODTOEGANG_READ',
        httpStatus: caller.done,
        noodtoegangId: id,
        clientRef: access.clientRef,
        count: 1,
      });
      return itemOf(access, deps.clock.now());
    },
    { deny },
  );
}

/**
 * How many emergency accesses in the officer's scope wait for their verdict longer than REVIEW_DUE_MS (7 days): the
 * open queue is read oldest first, so the overdue ones come first and the count stops at the first that is not. One
 * `noodtoegang.read` line, with the count.
 */
export function countOverdueNoodtoegang(deps: ReviewDeps, caller: ToezichtCaller): Promise<number> {
  const deny: DenyLine = { action: 'noodtoegang.read', ...caller.facts };
  return deps.uow.run(
    async (tx) => {
      const { requester } = caller;
      requireToezicht(requester);
      const actorOrg = seesEveryClient(requester.org) ? undefined : requester.org;
      const due = deps.clock.now() - REVIEW_DUE_MS;
      let overdue = 0;
      for (let after = 0; ; ) {
        const page = await tx.noodtoegang.list({ open: true, actorOrg, after, limit: MAX_LIMIT });
        const late = page.items.filter((r) => r.at < due);
        overdue += late.length;
        if (late.length < page.items.length || !page.more) break;
        after = page.items.at(-1)!.seq;
      }
      await tx.audit.append({
        action: 'noodtoegang.read',
        ...caller.facts,
        outcome: 'permit',
        reason: 'NOODTOEGANG_OVERDUE_COUNTED',
        httpStatus: caller.done,
        count: overdue,
      });
      return overdue;
    },
    { deny },
  );
}
