import { relationship, type Purpose, type RelationshipReason, type Role } from '../purposes.js';
import type { SuiteRecord } from '../records/suite-record.js';
import type { PolicySet } from './compile.js';
import { decide } from './decide.js';

/** Who a simulation asks for: a role of an organisation, with a purpose. */
export interface SimulatedRequester {
  role: Role;
  org: string;
  purpose: Purpose;
}

/**
 * What a policy set would decide for a requester on a client's current record, as names only: the decision's
 * `view` (the values) is dropped here, so no caller of this module can pass it on.
 */
export interface Simulation {
  decision: {
    allowed: boolean;
    policyVersion: string;
    relationship: { holds: true } | { holds: false; reason: RelationshipReason };
  };
  released: string[];
  withheld: Array<{ field: string; reason: string; rule?: number }>;
  matchedRules: number[];
}

/**
 * Simulates a request as the gateway would answer it today: when the relationship the purpose needs does not hold,
 * nothing is released (the data routes refuse before the policy is asked), so released and withheld are empty. An
 * emergency access is the other way round: it is granted only where the relationship does not hold and the version
 * has an emergency rule for the role and purpose, and is then decided by those rules alone.
 */
export function simulate(
  set: PolicySet,
  requester: SimulatedRequester,
  record: SuiteRecord,
  today: string,
  options: { noodtoegang?: boolean } = {},
): Simulation {
  const rel = relationship(requester.purpose, requester, record, today);
  if (options.noodtoegang) {
    const granted = !rel.holds && set.allowsNoodtoegang(requester.role, requester.purpose);
    const held = rel.holds ? { holds: true as const } : { holds: false as const, reason: rel.reason };
    if (!granted) return { decision: { allowed: false, policyVersion: set.version, relationship: held }, released: [], withheld: [], matchedRules: [] };
    const { allowed, policyVersion, released, withheld, matchedRules } = decide(set, requester, record, { today, noodtoegang: true });
    return {
      decision: { allowed, policyVersion, relationship: held },
      released,
      withheld: withheld.map(({ field, reason, rule }) => ({ field, reason, ...(rule !== undefined ? { rule } : {}) })),
      matchedRules,
    };
  }
  if (!rel.holds) {
    return {
      decision: { allowed: false, policyVersion: set.version, relationship: { holds: false, reason: rel.reason } },
      released: [],
      withheld: [],
      matchedRules: [],
    };
  }
  const { allowed, policyVersion, released, withheld, matchedRules } = decide(set, requester, record, { today });
  return {
    decision: { allowed, policyVersion, relationship: { holds: true } },
    released,
    withheld: withheld.map(({ field, reason, rule }) => ({ field, reason, ...(rule !== undefined ? { rule } : {}) })),
    matchedRules,
  };
}
