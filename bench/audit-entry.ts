import { randomBytes } from 'node:crypto';
import type { AuditEntry } from '../src/audit/entry.js';

const RELEASED = Object.freeze(['persoon.voornamen', 'persoon.achternaam', 'persoon.adres.postcode', 'klantprofielen', 'ontheffingen[0].soort']);
const WITHHELD = Object.freeze(['belastbaarheidsonderzoeken[0].diagnose', 'belastbaarheidsonderzoeken[0].medicatie', 'bsn']);

/**
 * The n-th line of the audit benchmarks: a participatiecoach's `record.read` as the gateway writes it, one in ten a
 * denial, 500 persons and 5,000 clients in turn. `pseudonym` is the log's own (or a precomputed table's).
 */
export function benchEntry(n: number, pseudonym: (bsn: string) => string): AuditEntry {
  const deny = n % 10 === 0;
  return {
    action: 'record.read',
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    actor: { iss: 'https://login.bench.example', sub: `coach-${n % 500}`, role: 'participatiecoach', org: 'GM1960' },
    origin: '127.0.0.1',
    channel: 'api',
    clientId: 'doelpoort-demo',
    outcome: deny ? 'deny' : 'permit',
    reason: deny ? 'NO_HANDOVER_TO_ORGANISATION' : 'PERMIT',
    httpStatus: deny ? 403 : 200,
    purpose: 'overdracht-kp4',
    processingActivityId: 'WZR-VA-011',
    tokenId: `tok-${n}`,
    clientRef: `WZR-${100000 + (n % 5000)}`,
    bsnPseudonym: pseudonym(String(100000000 + (n % 5000))),
    policyVersion: 'v1-abcdef',
    decisionId: `dec-${n}`,
    released: RELEASED as string[],
    withheld: WITHHELD as string[],
  };
}
