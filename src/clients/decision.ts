import { randomUUID } from 'node:crypto';
import type { AuditEntry } from '../audit/entry.js';
import type { AuditFacts } from '../audit/facts.js';
import type { Clock } from '../clock.js';
import { DoelpoortError } from '../errors.js';
import type { ActivePolicy } from '../policy/active.js';
import { groundingOverdracht } from '../policy/context.js';
import type { Decision } from '../policy/decide.js';
import type { DecisionCache } from '../policy/decision-cache.js';
import { POLICY_DENIES } from '../policy/impact.js';
import { relationship, type Requester } from '../purposes.js';
import type { SuiteRecord } from '../records/suite-record.js';
import type { DenyLine, Tx } from '../unit-of-work.js';

/**
 * One decision on one client under the requester's purpose, and its audit line: the step every verb of src/clients
 * shares, whether it reads one client (read.ts) or lists many (lists.ts, as if the requester were bound to each).
 */

/** What the verbs read besides the unit of work; `decisions` lives as long as the caller (a cache across requests). */
export interface ClientReading {
  policies: Pick<ActivePolicy, 'set'>;
  decisions: DecisionCache;
  clock: Clock;
}

/** The actions of the lines that record a read of client data by the verbs of src/clients. */
export type ReadAction = 'record.read' | 'document.read' | 'caseload.read' | 'list.read';

/** The line a read starts from (what a deny line of it says too). */
export function readLine(action: ReadAction, facts: AuditFacts, clientRef: string | undefined, policyVersion: string): DenyLine {
  // Every read action's line has the same keys; TypeScript does not see that through the union.
  return { action, ...facts, clientRef, policyVersion } as DenyLine;
}

/** A decision that released something, paired with the id the response and the line share. */
export interface Permitted {
  record: SuiteRecord;
  decision: Decision;
  decisionId: string;
  /** The grounding handover's id (policy/context.ts), when asked for: the handover document and the inbox show it. */
  overdrachtId: string | undefined;
}

/**
 * Re-check and decide on a record already read: the permit, or the refusal (its reason for the line). An emergency
 * token has no relationship to re-check (its basis is the emergency access, which the verb checked is on record):
 * it is decided by the policy's emergency rules alone.
 */
export function decideOn(reading: ClientReading, requester: Requester, record: SuiteRecord, today: string, grounding: boolean): Permitted | DoelpoortError {
  if (requester.noodtoegang !== undefined) {
    const decision = reading.decisions.decide(reading.policies.set, requester, record, { today, noodtoegang: true });
    if (!decision.allowed) return new DoelpoortError('ACCESS_DENIED', 'the policy releases nothing for this purpose', [], { reason: POLICY_DENIES });
    return { record, decision, decisionId: randomUUID(), overdrachtId: undefined };
  }
  const rel = relationship(requester.purpose, requester, record, today);
  if (!rel.holds) {
    return new DoelpoortError('RELATIONSHIP_MISSING', 'the relationship this purpose needs with the client does not hold (any more)', [], {
      reason: rel.reason,
    });
  }
  const decision = reading.decisions.decide(reading.policies.set, requester, record, { today, relationship: rel });
  if (!decision.allowed) return new DoelpoortError('ACCESS_DENIED', 'the policy releases nothing for this purpose', [], { reason: POLICY_DENIES });
  const overdrachtId = grounding ? groundingOverdracht(requester.purpose, requester.org, record, today, rel)?.id : undefined;
  return { record, decision, decisionId: randomUUID(), overdrachtId };
}

/**
 * The permit line of a decision: the field names released and withheld, never a value; the BSN as its pseudonym.
 * A list that shows only some of the released fields gives the names it shows (and those of its fields held back).
 */
export function permitLine(tx: Tx, base: DenyLine, permitted: Permitted, shown?: { released: string[]; withheld: string[] }): AuditEntry {
  const { decision, record, decisionId } = permitted;
  return {
    ...base,
    outcome: 'permit',
    reason: 'PERMIT',
    httpStatus: 200,
    bsnPseudonym: tx.audit.pseudonym(record.bsn),
    decisionId,
    released: shown?.released ?? decision.released,
    withheld: shown?.withheld ?? decision.withheld.map((w) => w.field),
  } as AuditEntry;
}
