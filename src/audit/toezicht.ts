import type { Caller } from '../caller.js';
import { DoelpoortError } from '../errors.js';
import { refuse, type DenyLine, type UnitOfWork } from '../unit-of-work.js';
import type { AuditEntry } from './entry.js';
import type { AuditLine } from './entry.js';
import type { AuditReader } from './reader.js';
import { encodeCursor, type AuditPage, type AuditQuery, type AuditScope } from './query.js';
import type { VerifyResult } from './verify.js';

/**
 * The privacy officer's reading of the audit log (`toezicht`): the query and the verification of the chain. Reading
 * the log is itself logged. A municipal officer sees the lines of their own organisation's staff; a Werkzaak officer
 * sees all. A refusal (another token, a bad filter) is a deny line of the same action.
 */

/** Who reads the log: a caller over a channel with statuses (the lines of audit.read and access-report.read carry one). */
export type ToezichtCaller = Caller & { done: number };

/** What the officer's audit verbs need. */
export interface ToezichtDeps {
  uow: UnitOfWork;
  audit: AuditReader;
}

/** Only a privacy officer's `toezicht` token reads the log; the deny line says the route does not fit the purpose. */
export function requireToezicht(requester: Caller['requester']): void {
  if (requester.purpose === 'toezicht' && requester.role === 'privacy-officer') return;
  throw new DoelpoortError('PURPOSE_NOT_ALLOWED', 'reading the audit log needs a toezicht token', [], { reason: 'PURPOSE_NOT_FOR_ROUTE' });
}

/** The lines an officer may read: a municipal officer's own organisation's staff, a Werkzaak officer's all. */
export function auditScope(requester: Caller['requester']): AuditScope {
  return requester.org === 'WERKZAAK' ? {} : { actorOrg: requester.org };
}

type ReadLine = Extract<AuditEntry, { action: 'audit.read' }>;

/** The permit line of a reading: its reason code, and the client it was about. */
function permit(caller: ToezichtCaller, reason: string, clientRef?: string): ReadLine {
  return { action: 'audit.read', ...caller.facts, outcome: 'permit', reason, httpStatus: caller.done, ...(clientRef === undefined ? {} : { clientRef }) };
}

/** One page of the lines matching the officer's filters, newest first, within their scope. */
export function queryAudit(deps: ToezichtDeps, caller: ToezichtCaller, filters: AuditQuery): Promise<AuditPage> {
  const deny: DenyLine = { action: 'audit.read', ...caller.facts };
  return deps.uow.run(
    async (tx) => {
      requireToezicht(caller.requester);
      const page = await tx.audit.list({ ...filters, ...auditScope(caller.requester) });
      await tx.audit.append(permit(caller, 'AUDIT_LISTED', filters.clientRef));
      return page;
    },
    { deny },
  );
}

/**
 * Recomputes the hash chain and checks the signed checkpoints (in slices, before the unit of work: it yields), and
 * logs that it was done and what it found (`AUDIT_VERIFIED` or `AUDIT_BROKEN`).
 */
export async function verifyAuditTrail(deps: ToezichtDeps, caller: ToezichtCaller): Promise<VerifyResult> {
  const deny: DenyLine = { action: 'audit.read', ...caller.facts };
  try {
    requireToezicht(caller.requester);
  } catch (error) {
    if (error instanceof DoelpoortError) return refuse(deps.uow, error, deny);
    throw error;
  }
  const result = await deps.audit.verifyAsync();
  await deps.uow.run(async (tx) => tx.audit.append(permit(caller, result.ok ? 'AUDIT_VERIFIED' : 'AUDIT_BROKEN')), { deny });
  return result;
}

/**
 * One line by its sequence number, within the officer's scope: a line outside it is not found, exactly like a line
 * that does not exist (RECORD_NOT_FOUND, `AUDIT_LINE_NOT_FOUND`).
 */
export function readAuditLine(deps: ToezichtDeps, caller: ToezichtCaller, seq: number): Promise<AuditLine> {
  const deny: DenyLine = { action: 'audit.read', ...caller.facts };
  return deps.uow.run(
    async (tx) => {
      requireToezicht(caller.requester);
      const [line] = (await tx.audit.list({ cursor: encodeCursor(seq + 1), limit: 1, ...auditScope(caller.requester) })).items;
      if (!line || line.seq !== seq) throw new DoelpoortError('RECORD_NOT_FOUND', 'no such audit line', [], { reason: 'AUDIT_LINE_NOT_FOUND' });
      await tx.audit.append(permit(caller, 'AUDIT_LINE_READ', line.entry?.clientRef));
      return line;
    },
    { deny },
  );
}
