import { z } from 'zod';
import { DAY_MS } from '../clock.js';
import type { Requester } from '../purposes.js';
import type { Tx } from '../unit-of-work.js';
import { personKey, type NoodtoegangGrant } from './store.js';

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
