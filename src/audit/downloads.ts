import { DoelpoortError } from '../errors.js';
import { WERKZAAK } from '../organisations.js';
import type { Awaitable, DenyLine } from '../unit-of-work.js';
import type { Checkpoint } from './checkpoint.js';
import type { LogboekRecord } from './export.js';
import { requireToezicht, type ToezichtCaller, type ToezichtDeps } from './toezicht.js';

/**
 * What a privacy officer downloads of the audit trail, each download an `audit.read` line: the newest signed
 * checkpoint (to keep outside doelpoort and compare later with `doelpoort audit verify --checkpoint`), and the
 * Logboek Dataverwerkingen export as `doelpoort audit export` produces it.
 */

/** The newest signed checkpoint and the public key it verifies under, as `doelpoort audit checkpoint` prints it. */
export interface CheckpointDownload extends Checkpoint {
  jwk: unknown;
}

/** The newest signed checkpoint; REQUEST_INVALID when none has been written yet (an empty log, or no key). */
export function downloadCheckpoint(deps: ToezichtDeps, caller: ToezichtCaller): Promise<CheckpointDownload> {
  const deny: DenyLine = { action: 'audit.read', ...caller.facts };
  return deps.uow.run(
    async (tx) => {
      requireToezicht(caller.requester);
      const latest = await deps.audit.latestCheckpoint();
      if (!latest) throw new DoelpoortError('REQUEST_INVALID', 'no checkpoint has been written yet', [], { reason: 'NO_CHECKPOINT' });
      await tx.audit.append({ action: 'audit.read', ...caller.facts, outcome: 'permit', reason: 'CHECKPOINT_DOWNLOADED', httpStatus: caller.done });
      return { ...latest, jwk: deps.audit.checkpointJwk };
    },
    { deny },
  );
}

/**
 * The Logboek records of the lines in `range` (epoch ms, inclusive), oldest first, for a Werkzaak officer: the export
 * covers the whole log, whose controller is Werkzaak, so a municipal officer is refused (`EXPORT_NEEDS_CONTROLLER`).
 * Data subjects are named by the keyed pseudonym of their BSN, never the BSN. The records are gathered after the
 * line is durable: no line, no export.
 */
export async function logboekExport(
  deps: ToezichtDeps & { records: { bsnOf(clientRef: string): Awaitable<string | undefined> }; registerUrl: string; gatewayUrl: string },
  caller: ToezichtCaller,
  range: { from?: number | undefined; to?: number | undefined },
): Promise<LogboekRecord[]> {
  const deny: DenyLine = { action: 'audit.read', ...caller.facts };
  await deps.uow.run(
    async (tx) => {
      requireToezicht(caller.requester);
      if (caller.requester.org !== WERKZAAK)
        throw new DoelpoortError('ACCESS_DENIED', 'the Logboek export covers the whole log: Werkzaak officers only', [], { reason: 'EXPORT_NEEDS_CONTROLLER' });
      await tx.audit.append({ action: 'audit.read', ...caller.facts, outcome: 'permit', reason: 'LOGBOEK_EXPORTED', httpStatus: caller.done });
    },
    { deny },
  );
  const subjectOf = async (clientRef: string) => {
    const bsn = await deps.records.bsnOf(clientRef);
    return bsn === undefined ? undefined : deps.audit.pseudonym(bsn);
  };
  return deps.audit.exportLogboek({ registerUrl: deps.registerUrl, gatewayUrl: deps.gatewayUrl, subjectOf }, range);
}
