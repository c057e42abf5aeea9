import type { Purpose } from '../purposes.js';
import type { DenyLine, UnitOfWork } from '../unit-of-work.js';
import { READ_ACTIONS, type AuditAction, type AuditEntry } from './entry.js';
import type { AuditFacts } from './facts.js';

/**
 * A person's own use ("Mijn gebruik"): the lines in which they are the actor, so they can see what was recorded in
 * their name. Reading it is itself a line. A person is (`iss`, `sub`): the lines listed are those of the actor the
 * caller's own facts name, never of anyone a parameter names.
 */

/** The actions a person's own use shows: the reads of client data, and the look-ups by BSN. */
export const OWN_USE_ACTIONS = [...READ_ACTIONS, 'client.lookup'] as const satisfies readonly AuditAction[];

/** One access as the person sees it: no reason code (it could tell an unknown client from one without a relationship). */
export interface OwnUse {
  seq: number;
  /** Epoch milliseconds. */
  at: number;
  action: (typeof OWN_USE_ACTIONS)[number];
  outcome: AuditEntry['outcome'];
  clientRef?: string | undefined;
  purpose?: Purpose | undefined;
  channel?: AuditEntry['channel'];
}

/** A page of a person's own use, newest first. */
export interface OwnUsePage {
  items: OwnUse[];
  next: string | null;
}

/** Who reads their own use: the facts of their lines (which name them as actor), and the status of the answer. */
export interface OwnUseCaller {
  facts: AuditFacts;
  done: number;
}

/** One page of the caller's own accesses, newest first; the reading is logged as `audit.read` `OWN_USE_LISTED`. */
export function readOwnUse(uow: UnitOfWork, caller: OwnUseCaller, page: { cursor?: string | undefined; limit: number }): Promise<OwnUsePage> {
  const actor = caller.facts.actor;
  if (!actor) throw new TypeError('readOwnUse: the caller’s facts name no actor');
  const deny: DenyLine = { action: 'audit.read', ...caller.facts };
  return uow.run(
    async (tx) => {
      const lines = await tx.audit.list({ actor: actor.sub, actorIss: actor.iss, actions: OWN_USE_ACTIONS, cursor: page.cursor, limit: page.limit });
      await tx.audit.append({ action: 'audit.read', ...caller.facts, outcome: 'permit', reason: 'OWN_USE_LISTED', httpStatus: caller.done });
      const items = lines.items.map(({ seq, at, action, outcome, entry }) => ({
        seq,
        at,
        action: action as OwnUse['action'],
        outcome,
        clientRef: entry?.clientRef,
        purpose: entry?.purpose,
        channel: entry?.channel,
      }));
      return { items, next: lines.next };
    },
    { deny },
  );
}
