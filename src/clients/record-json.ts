import type { Decision } from '../policy/decide.js';
import type { Purpose } from '../purposes.js';
import type { ReleasedClient } from './read.js';

/**
 * The decision a released client was made from. A symbol key: JSON.stringify, object schemas and the response never
 * see it.
 */
export const DECIDED_BY: unique symbol = Symbol('decided by');

/**
 * The JSON of a decision's released view and withheld names, written once per cached decision. Keyed by the decision
 * object itself (weakly): DecisionCache hands out one frozen decision per policy set, record version, role,
 * organisation, purpose and day, so the bytes can never outlive it or serve another decision or record version, and
 * they hold nothing of the requester (clientRef, purpose and decision id are added per response). A decision that is
 * not frozen (an uncached one) could change, and is written afresh.
 */
const fragments = new WeakMap<Decision, string>();

function releasedFragment(decision: Decision): string {
  const cached = fragments.get(decision);
  if (cached !== undefined) return cached;
  const withheld = decision.withheld.map(({ field, reason }) => ({ field, reason }));
  const fragment = `"record":${JSON.stringify(decision.view)},"withheld":${JSON.stringify(withheld)}`;
  if (Object.isFrozen(decision) && Object.isFrozen(decision.view) && Object.isFrozen(decision.withheld)) fragments.set(decision, fragment);
  return fragment;
}

/**
 * The body of `GET /v1/clients/{clientRef}`: the very bytes `JSON.stringify({ clientRef, purpose, record, withheld,
 * decision })` gives, with the released part from the decision's cached JSON.
 */
export function clientRecordJson(client: ReleasedClient, purpose: Purpose): string {
  const decision = client[DECIDED_BY];
  const fragment = decision ? releasedFragment(decision) : `"record":${JSON.stringify(client.record)},"withheld":${JSON.stringify(client.withheld)}`;
  return `{"clientRef":${JSON.stringify(client.clientRef)},"purpose":${JSON.stringify(purpose)},${fragment},"decision":${JSON.stringify(client.decision)}}`;
}
