import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AuditEntry } from '../audit/entry.js';
import type { Caller } from '../caller.js';
import { DAY_MS, isoDate, type Clock } from '../clock.js';
import { DoelpoortError } from '../errors.js';
import type { ActivePolicy } from '../policy/active.js';
import { PURPOSES, relationship, type Purpose, type Requester, type Role } from '../purposes.js';
import type { SuiteRecord } from '../records/suite-record.js';
import type { Awaiting, DenyLine, Tx, UnitOfWork } from '../unit-of-work.js';
import { personKey, type NoodtoegangGrant, type NoodtoegangStore } from './store.js';

/**
 * Granting an emergency access (break-glass, api.md "Emergency access"): what a request for one must say, how long
 * its token lives, and the weekly limit, counted and recorded in the unit of work that writes the token's audit line.
 */

/** The longest an emergency token lives, in seconds (15 minutes), whatever DOELPOORT_TOKEN_TTL allows. */
export const NOODTOEGANG_TTL_SECONDS = 900;

/** The rolling window of the limit per person: 7 days. */
export const NOODTOEGANG_WINDOW_MS = 7 * DAY_MS;

/** The shortest and longest written reason, in characters (code points), after trimming. */
export const REDEN_MIN = 20;
export const REDEN_MAX = 500;

/** Control characters other than tab and line breaks: a reason is text a person wrote, shown to an officer. */
const CONTROL = /(?![\t\n\r])\p{Cc}/u;

const length = (s: string) => [...s].length;

/** The written reason of an emergency access request, trimmed; the refusal never echoes it. */
const redenSchema = z
  .string()
  .trim()
  .refine((s) => length(s) >= REDEN_MIN && length(s) <= REDEN_MAX && !CONTROL.test(s), `must be ${REDEN_MIN} to ${REDEN_MAX} characters of text`);

/** The `noodtoegang` member of a `doelbinding` object: `{ "reden": "…" }` and nothing else. */
export const noodtoegangRequestSchema = z.strictObject({ reden: redenSchema });

/**
 * Records `grant` unless its person has had `limit` emergency accesses in the 7 days before it: the count and the row
 * share the work's transaction, so of two concurrent requests past the limit at most one is granted. Returns whether
 * it was recorded; the caller then appends the line of the one outcome.
 */
export async function recordNoodtoegang(tx: Tx, grant: NoodtoegangGrant, limit: number): Promise<boolean> {
  const recent = await tx.noodtoegang.countSince(grant.actor, grant.at - NOODTOEGANG_WINDOW_MS);
  if (recent >= limit) return false;
  await tx.noodtoegang.record(grant);
  return true;
}

/**
 * Whether the emergency access an emergency token names is on record as granted to this very token, person and
 * client: read on every use of the token, so a token whose access is not on record reads nothing (fail closed).
 */
export async function noodtoegangOnRecord(tx: Tx, requester: Requester): Promise<boolean> {
  if (requester.noodtoegang === undefined) return false;
  const granted = await tx.noodtoegang.get(requester.noodtoegang.id);
  return (
    granted !== undefined &&
    granted.tokenId === requester.tokenId &&
    granted.clientRef === requester.client &&
    granted.purpose === requester.purpose &&
    personKey(granted.actor) === personKey({ iss: requester.issuer, sub: requester.sub })
  );
}

/** Emergency access as configured: the policy whose emergency rules allow it, and the limit per person per 7 days. */
export interface NoodtoegangSetting {
  policies: Pick<ActivePolicy, 'set'>;
  /** DOELPOORT_NOODTOEGANG_PER_WEEK; 0 switches emergency access off. */
  perWeek: number;
}

/** Whether emergency access is there to ask for at all, for this role and purpose: an emergency rule, a limit above 0. */
export function noodtoegangAvailable(setting: NoodtoegangSetting | undefined, role: Role, purpose: Purpose): boolean {
  return setting !== undefined && setting.perWeek > 0 && setting.policies.set.allowsNoodtoegang(role, purpose);
}

/**
 * Whether an emergency access is the way to this client: it exists, and the purpose's relationship does not hold
 * (where it holds, a normal access is the way; `basis` says which). An unknown client is its own reason, which every
 * caller answers exactly like an emergency access that is not allowed, so that no answer says who exists.
 */
export function emergencyBasis(
  purpose: Purpose,
  user: { org: string },
  record: SuiteRecord | undefined,
  today: string,
): { ok: true } | { ok: false; reason: 'CLIENT_UNKNOWN' } | { ok: false; reason: 'NOODTOEGANG_NOT_NEEDED'; basis: string } {
  if (!record) return { ok: false, reason: 'CLIENT_UNKNOWN' };
  const rel = relationship(purpose, user, record, today);
  return rel.holds ? { ok: false, reason: 'NOODTOEGANG_NOT_NEEDED', basis: rel.basis } : { ok: true };
}

/**
 * How many emergency accesses a person may still be granted in the current 7 days (never below 0). Their own count
 * releases nothing of any client, so it is read outside a unit of work and writes no line; the grant counts again,
 * inside its work, and that count is the one that decides.
 */
export async function noodtoegangLeft(
  store: Awaiting<Pick<NoodtoegangStore, 'countSince'>>,
  clock: Clock,
  person: { iss: string; sub: string },
  setting: NoodtoegangSetting | undefined,
): Promise<number> {
  const perWeek = setting?.perWeek ?? 0;
  return Math.max(0, perWeek - (await store.countSince(person, clock.now() - NOODTOEGANG_WINDOW_MS)));
}

/** An emergency access granted outside a token (the web application): what the session keeps to read with it. */
export interface GrantedNoodtoegang {
  id: string;
  /** The id the access is on record under as its token's (a `jti`'s stand-in): the requester of each reading names it. */
  tokenId: string;
  clientRef: string;
  purpose: Purpose;
  /** Epoch ms: it reads nothing from then on (NOODTOEGANG_TTL_SECONDS after the grant). */
  until: number;
}

/** What granting an emergency access outside a token needs. */
export interface GrantDeps {
  uow: UnitOfWork;
  clock: Clock;
  noodtoegang: NoodtoegangSetting | undefined;
}

/**
 * Grants an emergency access to `clientRef` under the caller's purpose, without a token: the web application's
 * counterpart of the token exchange's emergency request, with the same checks in the same order (available to the
 * role and purpose, the client known, no relationship that holds, the weekly limit) and the same lines: `token.issued`
 * flagged `noodtoegang` with the access's id, or `token.refused` flagged, with the reasons the exchange gives
 * (NOODTOEGANG_NOT_ALLOWED, CLIENT_UNKNOWN, NOODTOEGANG_NOT_NEEDED, NOODTOEGANG_LIMIT). The caller must have made sure
 * the person logged in again just before. What the access releases is decided on each reading (src/clients/read.ts)
 * by the emergency rules alone. The reason goes into the access's row only, never into a line.
 */
export function grantNoodtoegang(deps: GrantDeps, caller: Caller, input: { clientRef: string; reden: string }): Promise<GrantedNoodtoegang> {
  const { requester, facts } = caller;
  const { purpose, clientId } = requester;
  if (clientId === undefined) throw new TypeError('grantNoodtoegang: the caller must name the registered client it acts through');
  const deny = {
    action: 'token.refused',
    ...facts,
    purpose,
    processingActivityId: PURPOSES[purpose].processingActivityId,
    clientRef: input.clientRef,
    noodtoegang: true,
  } as DenyLine;
  const refusal = (code: 'ACCESS_DENIED' | 'REQUEST_INVALID', reason: string, message: string) => new DoelpoortError(code, message, [], { reason });
  return deps.uow.run(
    async (tx) => {
      if (!noodtoegangAvailable(deps.noodtoegang, requester.role, purpose)) {
        throw refusal('ACCESS_DENIED', 'NOODTOEGANG_NOT_ALLOWED', 'the policy allows no emergency access for this role and purpose');
      }
      const at = deps.clock.now();
      const basis = emergencyBasis(purpose, requester, await tx.records.get(input.clientRef), isoDate(at));
      if (!basis.ok && basis.reason === 'CLIENT_UNKNOWN') {
        throw refusal('ACCESS_DENIED', 'CLIENT_UNKNOWN', 'the policy allows no emergency access for this role and purpose');
      }
      if (!basis.ok) throw refusal('REQUEST_INVALID', 'NOODTOEGANG_NOT_NEEDED', 'the relationship this purpose needs holds: no emergency access is needed');
      const id = randomUUID();
      const tokenId = randomUUID();
      const grant: NoodtoegangGrant = {
        id,
        at,
        actor: { iss: requester.issuer, sub: requester.sub, role: requester.role, org: requester.org },
        clientId,
        clientRef: input.clientRef,
        purpose,
        reden: input.reden,
        tokenId,
      };
      if (!(await recordNoodtoegang(tx, grant, deps.noodtoegang!.perWeek))) {
        throw refusal('ACCESS_DENIED', 'NOODTOEGANG_LIMIT', 'the weekly limit of emergency accesses is reached');
      }
      const { actor } = facts;
      await tx.audit.append({
        ...facts,
        action: 'token.issued',
        actor: actor!,
        purpose,
        processingActivityId: PURPOSES[purpose].processingActivityId,
        tokenId,
        clientRef: input.clientRef,
        noodtoegang: true,
        noodtoegangId: id,
        outcome: 'permit',
        reason: 'PERMIT',
        httpStatus: caller.done ?? 200,
      } as AuditEntry);
      return { id, tokenId, clientRef: input.clientRef, purpose, until: at + NOODTOEGANG_TTL_SECONDS * 1000 };
    },
    { deny },
  );
}
