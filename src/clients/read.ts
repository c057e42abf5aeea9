import type { Caller } from '../caller.js';
import type { AuditEntry } from '../audit/entry.js';
import { subjectFacts } from '../audit/facts.js';
import { isoDate } from '../clock.js';
import { DoelpoortError } from '../errors.js';
import { handoverDocument, type HandoverDocument } from '../overdracht/handover-document.js';
import type { RecordView } from '../policy/release.js';
import { relationship, type Purpose, type Requester } from '../purposes.js';
import { isValidBsn, type SuiteRecord } from '../records/suite-record.js';
import type { Result } from '../result.js';
import { noodtoegangOnRecord } from '../noodtoegang/grant.js';
import type { DenyLine, Tx, UnitOfWork } from '../unit-of-work.js';
import { decideOn, permitLine, readLine, type ClientReading, type Permitted } from './decision.js';
import { DECIDED_BY } from './record-json.js';
import type { Decision } from '../policy/decide.js';

export type { ClientReading } from './decision.js';

/**
 * Reading a client under a purpose: the verbs the API, the web pages and the CLI share. Each takes the requester
 * (from a verified token), the request's facts and its input, and runs one unit of work: read the record, re-check the
 * purpose's relationship (once), decide, append the audit line; it returns the released view once that line is
 * committed, or throws the refusal after its deny line was (src/unit-of-work.ts). No log, no data.
 */

/** The purposes that read a client's record, and the two that have a handover document. */
export const RECORD_PURPOSES: readonly Purpose[] = ['overdracht-kp4', 'begeleiding-kp4', 'overdracht-kp3', 'schuldhulpverlening'];
export const HANDOVER_PURPOSES = ['overdracht-kp4', 'overdracht-kp3'] as const;
type HandoverPurpose = (typeof HANDOVER_PURPOSES)[number];

/** A decision as it leaves: its id and the policy version it was made under. */
export interface DecisionRef {
  id: string;
  policyVersion: string;
}

/** One client as a purpose may see it: the shape of a record answer and of every list item that shows a client. */
export interface ReleasedClient {
  clientRef: string;
  record: RecordView;
  /** The names of the fields held back, with the reason (no rule index). */
  withheld: Array<{ field: string; reason: string }>;
  decision: DecisionRef;
  /** The decision itself, for the response's cached JSON (record-json.ts); never serialised. */
  readonly [DECIDED_BY]?: Decision;
}

/** A page of released clients, and the cursor of the next page (null on the last). */
export interface ReleasedPage {
  items: ReleasedClient[];
  next: string | null;
}

/** A handover document as it leaves, with the decision it rests on. */
export interface HandoverRead {
  document: HandoverDocument;
  decision: DecisionRef;
}

/**
 * An emergency token's access must be on record as its own (src/noodtoegang/grant.ts), and it reads the record only:
 * a handover document rests on a handover, which an emergency access by definition does not.
 */
async function checkNoodtoegang(tx: Tx, requester: Requester, route: 'record' | 'document'): Promise<void> {
  if (requester.noodtoegang === undefined) return;
  if (route === 'document') {
    throw new DoelpoortError('PURPOSE_NOT_ALLOWED', 'an emergency access reads the client’s record, not a handover document', [], {
      reason: 'NOODTOEGANG_NOT_FOR_ROUTE',
    });
  }
  if (!(await noodtoegangOnRecord(tx, requester))) {
    throw new DoelpoortError('ACCESS_DENIED', 'this token’s emergency access is not on record', [], { reason: 'NOODTOEGANG_UNKNOWN' });
  }
}

/** The refusal of a client that does not exist, worded and coded as one without a relationship (its reason aside). */
function unknownClient(): DoelpoortError {
  return new DoelpoortError('RELATIONSHIP_MISSING', 'the relationship this purpose needs with the client does not hold (any more)', [], {
    reason: 'CLIENT_UNKNOWN',
  });
}

/** Whether the token covers this route and this client; a refusal is thrown (before anything is read). */
function checkToken(requester: Requester, clientRef: string, purposes: readonly Purpose[]): void {
  if (!purposes.includes(requester.purpose)) {
    throw new DoelpoortError('PURPOSE_NOT_ALLOWED', 'this token’s purpose does not cover this resource', [], { reason: 'PURPOSE_NOT_FOR_ROUTE' });
  }
  if (requester.client !== clientRef) {
    throw new DoelpoortError('CLIENT_NOT_ALLOWED', 'this token is bound to another client, or to none', [], { reason: 'TOKEN_FOR_OTHER_CLIENT' });
  }
}

/** The client the caller names, as read inside the work, decided on; a refusal is thrown. */
function decideForToken(reading: ClientReading, asking: Caller, record: SuiteRecord | undefined, grounding = false): Permitted {
  if (!record) {
    // A client the request itself named (a page's URL) may never have existed: refused like one without a relationship.
    if (asking.clientNamedBy === 'request') throw unknownClient();
    // A token names a client the exchange found, so its holder knew of it: saying it is gone reveals nothing new.
    throw new DoelpoortError('RECORD_NOT_FOUND', 'no record for this client');
  }
  const outcome = decideOn(reading, asking.requester, record, isoDate(reading.clock.now()), grounding);
  if (outcome instanceof DoelpoortError) throw outcome;
  return outcome;
}

/** What a response says of a decision: the released view, the withheld names with reasons, the decision's id. */
function released(clientRef: string, { decision, decisionId }: Permitted): ReleasedClient {
  const client: ReleasedClient = {
    clientRef,
    record: decision.view,
    withheld: decision.withheld.map(({ field, reason }) => ({ field, reason })),
    decision: { id: decisionId, policyVersion: decision.policyVersion },
  };
  // Not enumerable: a copy or a comparison of the released client sees only what leaves.
  return Object.defineProperty(client, DECIDED_BY, { value: decision });
}

/** The client's record as the requester's purpose may see it (`GET /v1/clients/{clientRef}`). */
export async function readClientRecord(uow: UnitOfWork, reading: ClientReading, asking: Caller, clientRef: string): Promise<ReleasedClient> {
  const base = readLine('record.read', asking.facts, clientRef, reading.policies.set.version);
  return uow.run(
    async (tx) => {
      checkToken(asking.requester, clientRef, RECORD_PURPOSES);
      await checkNoodtoegang(tx, asking.requester, 'record');
      const permitted = decideForToken(reading, asking, await tx.records.get(clientRef));
      await tx.audit.append(permitLine(tx, base, permitted));
      return released(clientRef, permitted);
    },
    { deny: base },
  );
}

/** The handover document of `overdracht-kp4` / `overdracht-kp3`, showing the handover that grounds the purpose. */
export async function readHandoverDocument(uow: UnitOfWork, reading: ClientReading, asking: Caller, clientRef: string): Promise<HandoverRead> {
  const base = readLine('document.read', asking.facts, clientRef, reading.policies.set.version);
  return uow.run(
    async (tx) => {
      checkToken(asking.requester, clientRef, HANDOVER_PURPOSES);
      await checkNoodtoegang(tx, asking.requester, 'document');
      const permitted = decideForToken(reading, asking, await tx.records.get(clientRef), true);
      await tx.audit.append(permitLine(tx, base, permitted));
      const { record, withheld, decision } = released(clientRef, permitted);
      const purpose = asking.requester.purpose as HandoverPurpose;
      const document = handoverDocument({ clientRef, purpose, record, withheld, overdrachtId: permitted.overdrachtId });
      // Not enumerable, like a released client's: for the page's sections rendered once per decision (src/web/pages/document-sections.tsx).
      return { document: Object.defineProperty(document, DECIDED_BY, { value: permitted.decision }), decision };
    },
    { deny: base },
  );
}

/**
 * The debt counsellor's caseload: the clients in an active trajectory with their municipality, each as the purpose
 * may see it, paginated by clientRef. The request's line (its own span, `count` the clients on the page; an empty
 * page is an access too) comes first, then one line per client, each in a span of its own under the request's
 * (subjectFacts), so a citizen's access report and the Logboek export show the caseload per person.
 */
export async function readCaseload(
  uow: UnitOfWork,
  reading: ClientReading,
  asking: Caller,
  page: { cursor?: string | undefined; limit: number },
): Promise<ReleasedPage> {
  const { requester, facts } = asking;
  const version = reading.policies.set.version;
  const base = readLine('caseload.read', facts, undefined, version);
  return uow.run(
    async (tx) => {
      if (requester.purpose !== 'schuldhulpverlening' || requester.client !== undefined) {
        throw new DoelpoortError('PURPOSE_NOT_ALLOWED', 'listing clients needs a schuldhulpverlening token without a client', [], {
          reason: 'NOT_A_CASELOAD_TOKEN',
        });
      }
      const today = isoDate(reading.clock.now());
      const refs = await tx.records.caseload(requester.org, today, { after: page.cursor, limit: page.limit });
      const empty = refs.items.length === 0;
      await tx.audit.append({
        ...base,
        outcome: 'permit',
        reason: empty ? 'CASELOAD_EMPTY' : 'PERMIT',
        httpStatus: 200,
        count: refs.items.length,
      } as AuditEntry);
      const items: ReleasedClient[] = [];
      for (const ref of refs.items) {
        const record = await tx.records.get(ref);
        if (!record) continue;
        const line = readLine('caseload.read', subjectFacts(facts), ref, version);
        const outcome = decideOn(reading, requester, record, today, false);
        if (outcome instanceof DoelpoortError) {
          await tx.audit.refused(line, outcome);
          continue;
        }
        await tx.audit.append(permitLine(tx, line, outcome));
        items.push(released(ref, outcome));
      }
      return { items, next: refs.next };
    },
    { deny: base },
  );
}

/** A BSN look-up's outcome: the client found, or the refusal (its deny line already written). */
export type LookupOutcome = Result<{ clientRef: string }, { refusal: DoelpoortError }>;

/**
 * The debt counsellor's look-up of one client by BSN (`schuldhulpverlening`, no client yet): the clientRef of the client
 * with this BSN, when the purpose's relationship holds today (an active trajectory with the counsellor's municipality).
 * A BSN that no client has and one whose client has no such trajectory get the same refusal, and their deny line names
 * no client; every line holds the BSN only as its keyed pseudonym. Nothing of the record is released here: the caller
 * reads it next under the same purpose (readClientRecord), bound to the clientRef found.
 */
export async function findClientByBsn(uow: UnitOfWork, reading: ClientReading, asking: Caller, bsn: string): Promise<LookupOutcome> {
  const { requester } = asking;
  const base: DenyLine = { action: 'client.lookup', ...asking.facts, policyVersion: reading.policies.set.version };
  return uow.run(
    async (tx) => {
      if (requester.purpose !== 'schuldhulpverlening' || requester.client !== undefined) {
        throw new DoelpoortError('PURPOSE_NOT_ALLOWED', 'a look-up by BSN needs the schuldhulpverlening purpose without a client', [], {
          reason: 'PURPOSE_NOT_FOR_ROUTE',
        });
      }
      if (!isValidBsn(bsn)) {
        throw new DoelpoortError('REQUEST_INVALID', 'the BSN is not nine digits passing the elfproef', [{ path: 'body.bsn', message: 'invalid value' }], {
          reason: 'BSN_INVALID',
        });
      }
      const line: DenyLine = { ...base, bsnPseudonym: tx.audit.pseudonym(bsn) };
      const clientRef = await tx.records.clientRefByBsn(bsn);
      const record = clientRef === undefined ? undefined : await tx.records.get(clientRef);
      const rel = record ? relationship(requester.purpose, requester, record, isoDate(reading.clock.now())) : undefined;
      if (!record || !rel?.holds) {
        // One refusal for both, and a line that names no client: neither the answer nor the person's own log says which.
        const refusal = new DoelpoortError('RELATIONSHIP_MISSING', 'no client in an active trajectory with this municipality has this BSN', [], {
          reason: rel && !rel.holds ? rel.reason : 'CLIENT_UNKNOWN',
        });
        await tx.audit.refused(line, refusal);
        return { ok: false, refusal };
      }
      await tx.audit.append({ ...line, clientRef: record.clientRef, outcome: 'permit', reason: 'CLIENT_FOUND', httpStatus: asking.done ?? 200 } as AuditEntry);
      return { ok: true, value: { clientRef: record.clientRef } };
    },
    { deny: base },
  );
}
