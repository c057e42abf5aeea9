import type { Requester } from '../purposes.js';
import type { SuiteRecord } from '../records/suite-record.js';
import { deepFreeze } from '../freeze.js';
import type { PolicySet } from './compile.js';
import { decide, type DecideOptions, type Decision } from './decide.js';

/** At most this many decisions per (policy set, record); more distinct requesters than this start over. */
const MAX_PER_RECORD = 32;

/**
 * Decisions remembered per (policy set, record, role, org, purpose, day, emergency or not): the inputs `decide` depends on, nothing
 * else. The set and the record are keys by identity (weakly held), so a decision lives no longer than the record
 * object: RecordStore hands out one frozen object per stored text, and a re-import (from any process) changes the
 * text read in the request, hence the object, hence the decision. A record that is not frozen could be changed after
 * its decision was cached, so it is decided afresh every time. Cached decisions are deep-frozen and shared.
 */
export class DecisionCache {
  readonly #bySet = new WeakMap<PolicySet, WeakMap<SuiteRecord, Map<string, Decision>>>();

  /**
   * `decide(set, requester, record, options)`, from the cache when the same inputs were decided before. A given
   * `options.relationship` must be the one of these inputs (it is a function of them, so it is no part of the key).
   */
  decide(set: PolicySet, requester: Pick<Requester, 'role' | 'org' | 'purpose'>, record: SuiteRecord, options: DecideOptions): Decision {
    if (!Object.isFrozen(record)) return decide(set, requester, record, options);
    let byRecord = this.#bySet.get(set);
    if (!byRecord) this.#bySet.set(set, (byRecord = new WeakMap()));
    let decisions = byRecord.get(record);
    if (!decisions) byRecord.set(record, (decisions = new Map()));
    // NUL cannot occur in a role, an organisation code, a purpose or a date, so the key is unambiguous.
    const key = `${requester.role}\u0000${requester.org}\u0000${requester.purpose}\u0000${options.today}${options.noodtoegang ? '\u0000noodtoegang' : ''}`;
    let decision = decisions.get(key);
    if (!decision) {
      decision = deepFreeze(decide(set, requester, record, options));
      if (decisions.size >= MAX_PER_RECORD) decisions.clear();
      decisions.set(key, decision);
    }
    return decision;
  }
}
