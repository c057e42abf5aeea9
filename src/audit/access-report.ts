import type { Clock } from '../clock.js';
import { PURPOSES } from '../purposes.js';
import type { DenyLine, UnitOfWork } from '../unit-of-work.js';
import { isReadAction } from './entry.js';
import { auditScope, requireToezicht, type ToezichtCaller } from './toezicht.js';

/**
 * A citizen's access report (AVG art. 15), from the audit log: when, which organisation and role, which purpose, which
 * data categories; no staff names and no values. A municipal officer's report covers their own organisation's
 * accesses only, so it says nothing of other organisations' (not even that there are any), and nothing of whether the
 * client exists: an unknown client and one their organisation never consulted get the same empty report.
 */

/** The data categories of the report, by section of the record (Dutch: the citizen reads them). */
const CATEGORIES: Record<string, string> = {
  clientRef: 'Cliëntnummer',
  persoon: 'Persoonsgegevens',
  uitkering: 'Uitkering en inhoudingen',
  klantprofielen: 'Klantprofiel',
  ontheffingen: 'Ontheffingen van de arbeidsplicht',
  belastbaarheidsonderzoeken: 'Belastbaarheid (gegevens over gezondheid)',
  overdrachten: 'Overdracht tussen werkcoach en participatiecoach',
  leefgebieden: 'Leefgebieden (Dariuz)',
  boetes: 'Boetes',
  schuldhulptrajecten: 'Schuldhulpverlening',
  contactmomenten: 'Contactmomenten',
};
/** Lines read per page while the report is built. */
const PAGE = 1000;

/** The categories a set of released field paths falls into. */
function dataCategories(released: readonly string[]): string[] {
  const sections = new Set(released.map((f) => f.split(/[.[]/, 1)[0]!));
  return [...sections].map((s) => CATEGORIES[s] ?? s).sort();
}

/** One consultation of the client's data. */
export interface Raadpleging {
  datum: string;
  organisatie: string;
  rol: string;
  doel: string;
  verwerkingsactiviteit: string;
  gegevenscategorieen: string[];
}

/** The report: whose accesses it covers (`alle`, or the officer's organisation), and the consultations. */
export interface AccessReport {
  clientRef: string;
  opgesteld: string;
  reikwijdte: string;
  raadplegingen: Raadpleging[];
}

/**
 * The access report of one client for a `toezicht` officer.
 */
export function accessReport(deps: { uow: UnitOfWork; clock: Clock }, caller: ToezichtCaller, clientRef: string): Promise<AccessReport> {
  const line: Extract<DenyLine, { action: 'access-report.read' }> = { action: 'access-report.read', ...caller.facts, clientRef };
  return deps.uow.run(
    async (tx) => {
      requireToezicht(caller.requester);
      const scope = auditScope(caller.requester);
      const raadplegingen: Raadpleging[] = [];
      let cursor: string | undefined;
      do {
        const page = await tx.audit.list({ clientRef, outcome: 'permit', limit: PAGE, cursor, ...scope });
        for (const l of page.items) {
          const e = l.entry;
          // Only reads that released data are consultations; pruned lines have no content left to report.
          if (!e || !isReadAction(e.action) || !e.actor || !e.purpose || !e.released?.length) continue;
          raadplegingen.push({
            datum: new Date(l.at).toISOString().slice(0, 10),
            organisatie: e.actor.org,
            rol: e.actor.role,
            doel: e.purpose,
            verwerkingsactiviteit: PURPOSES[e.purpose].processingActivityId,
            gegevenscategorieen: dataCategories(e.released),
          });
        }
        cursor = page.next ?? undefined;
      } while (cursor);
      await tx.audit.append({ ...line, outcome: 'permit', reason: 'ACCESS_REPORT', httpStatus: caller.done });
      return { clientRef, opgesteld: new Date(deps.clock.now()).toISOString(), reikwijdte: scope.actorOrg ?? 'alle', raadplegingen };
    },
    { deny: line },
  );
}
