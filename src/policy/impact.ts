import { isReadAction, type AuditLine } from '../audit/entry.js';
import { listFieldsOf } from '../clients/list-fields.js';
import { isoDate } from '../clock.js';
import type { Purpose, Role } from '../purposes.js';
import type { SuiteRecord } from '../records/suite-record.js';
import type { PolicySet } from './compile.js';
import { decide } from './decide.js';

/** The deny reason the data routes log when the policy, not the token or the relationship, refused. */
export const POLICY_DENIES = 'POLICY_DENIES';

/** Why a logged line in the window was not replayed; each is counted in the report. */
export type SkipReason = 'NOT_A_POLICY_DECISION' | 'NO_CLIENT' | 'RECORD_GONE' | 'PRUNED';

/** How one replayed line would change: access and field names, never values. */
export interface ImpactExample {
  auditSeq: number;
  clientRef: string;
  decisionId?: string;
  role: Role;
  purpose: Purpose;
  access: 'unchanged' | 'granted' | 'refused';
  newlyReleased: string[];
  newlyWithheld: string[];
}

/** The changes for one role and purpose; field counts are lines, by field with list indices written `[]`. */
export interface ImpactGroup {
  role: Role;
  purpose: Purpose;
  replayed: number;
  changed: number;
  accessGranted: number;
  accessRefused: number;
  newlyReleased: Array<{ field: string; lines: number }>;
  newlyWithheld: Array<{ field: string; lines: number }>;
}

/** What a policy version would have changed in the decisions logged over a window. */
export interface ImpactReport {
  policyVersion: string;
  scanned: number;
  replayed: number;
  changed: number;
  skipped: Record<SkipReason, number>;
  groups: ImpactGroup[];
  examples: ImpactExample[];
  /** True when more lines changed than `examples` holds. */
  examplesTruncated: boolean;
}

interface GroupAcc {
  role: Role;
  purpose: Purpose;
  replayed: number;
  changed: number;
  accessGranted: number;
  accessRefused: number;
  newlyReleased: Map<string, number>;
  newlyWithheld: Map<string, number>;
}

const generic = (field: string) => field.replace(/\[\d+\]/g, '[]');

/**
 * Replays logged decisions under `set`, against the current record, on the day each line was logged, and compares the
 * outcome with what the line itself logged (not with a re-decision under the active policy):
 * - a permitted line: fields released now but not then are newly released; fields released then but not now
 *   (withheld, or in a section no longer covered) are newly withheld; nothing released now is access newly refused;
 * - a line the policy denied (`POLICY_DENIES`): anything released now is access newly granted.
 * Other denials (token, route, relationship, unknown record) were not the policy's and are skipped, as are lines
 * without a client, lines of a client no longer on record, and pruned lines. A list line (`list.read`) named only the
 * fields its item showed, so it is compared only on what a list can show (src/clients/list-fields.ts), by field.
 */
export class ImpactReplay {
  readonly #groups = new Map<string, GroupAcc>();
  readonly #examples: ImpactExample[] = [];
  readonly #skipped: Record<SkipReason, number> = { NOT_A_POLICY_DECISION: 0, NO_CLIENT: 0, RECORD_GONE: 0, PRUNED: 0 };
  #scanned = 0;
  #replayed = 0;
  #changed = 0;
  #truncated = false;

  readonly maxExamples: number;
  readonly #couldSee: ((record: SuiteRecord) => boolean) | undefined;

  constructor(
    readonly set: PolicySet,
    readonly record: (clientRef: string) => SuiteRecord | undefined,
    options: {
      /**
       * The clients whose lines the replay may use (a municipal officer's: those its organisation could see). When
       * given, a line of any other client, and a line naming no client on record, is left out of every count.
       */
      couldSee?: (record: SuiteRecord) => boolean;
      maxExamples?: number;
    } = {},
  ) {
    this.maxExamples = options.maxExamples ?? 20;
    this.#couldSee = options.couldSee;
  }

  /** Replays one audit line (lines of other actions, and lines outside the replay's clients, are ignored). */
  add(line: AuditLine): void {
    if (!isReadAction(line.action)) return;
    const entry = line.entry;
    const record = entry?.clientRef ? this.record(entry.clientRef) : undefined;
    if (this.#couldSee && !(record && this.#couldSee(record))) return;
    this.#scanned++;
    if (!entry) return void this.#skipped.PRUNED++;
    const policyDecided = entry.outcome === 'permit' || (entry.outcome === 'deny' && entry.reason === POLICY_DENIES);
    if (!policyDecided || !entry.actor || !entry.purpose) return void this.#skipped.NOT_A_POLICY_DECISION++;
    if (!entry.clientRef) return void this.#skipped.NO_CLIENT++;
    if (!record) return void this.#skipped.RECORD_GONE++;

    const { role, org } = entry.actor;
    const purpose = entry.purpose;
    // An emergency access is replayed as one: under the version's emergency rules.
    const now = decide(this.set, { role, org, purpose }, record, { today: isoDate(line.at), noodtoegang: entry.noodtoegang === true });
    // A list line named only what its item showed: compared by field (indices as []) within what a list can show.
    const scope = line.action === 'list.read' ? listFieldsOf(purpose) : undefined;
    const inScope = (fields: readonly string[]) => (scope ? [...new Set(fields.map(generic))].filter((f) => scope.has(f)) : fields);
    const nowReleased = inScope(now.released);
    const then = new Set(inScope(entry.outcome === 'permit' ? (entry.released ?? []) : []));
    const released = new Set(nowReleased);
    const newlyReleased = nowReleased.filter((f) => !then.has(f));
    const newlyWithheld = [...then].filter((f) => !released.has(f));
    const access = entry.outcome === 'permit' && !now.allowed ? 'refused' : entry.outcome === 'deny' && now.allowed ? 'granted' : 'unchanged';

    this.#replayed++;
    const key = `${role}|${purpose}`;
    let group = this.#groups.get(key);
    if (!group) {
      group = { role, purpose, replayed: 0, changed: 0, accessGranted: 0, accessRefused: 0, newlyReleased: new Map(), newlyWithheld: new Map() };
      this.#groups.set(key, group);
    }
    group.replayed++;
    if (newlyReleased.length === 0 && newlyWithheld.length === 0 && access === 'unchanged') return;
    this.#changed++;
    group.changed++;
    if (access === 'granted') group.accessGranted++;
    if (access === 'refused') group.accessRefused++;
    for (const f of new Set(newlyReleased.map(generic))) group.newlyReleased.set(f, (group.newlyReleased.get(f) ?? 0) + 1);
    for (const f of new Set(newlyWithheld.map(generic))) group.newlyWithheld.set(f, (group.newlyWithheld.get(f) ?? 0) + 1);
    if (this.#examples.length >= this.maxExamples) {
      this.#truncated = true;
      return;
    }
    this.#examples.push({
      auditSeq: line.seq,
      clientRef: entry.clientRef,
      ...(entry.decisionId !== undefined ? { decisionId: entry.decisionId } : {}),
      role,
      purpose,
      access,
      newlyReleased,
      newlyWithheld,
    });
  }

  /** The report so far; groups ordered by role and purpose, fields by name. */
  report(): ImpactReport {
    const counts = (m: Map<string, number>) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([field, lines]) => ({ field, lines }));
    const groups = [...this.#groups.values()]
      .sort((a, b) => (a.role === b.role ? (a.purpose < b.purpose ? -1 : 1) : a.role < b.role ? -1 : 1))
      .map((g) => ({ ...g, newlyReleased: counts(g.newlyReleased), newlyWithheld: counts(g.newlyWithheld) }));
    return {
      policyVersion: this.set.version,
      scanned: this.#scanned,
      replayed: this.#replayed,
      changed: this.#changed,
      skipped: { ...this.#skipped },
      groups,
      examples: [...this.#examples],
      examplesTruncated: this.#truncated,
    };
  }
}
