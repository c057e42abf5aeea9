import { listAuditPg } from './audit/query-pg.js';
import { PgOversightReviews } from './audit/reviews-pg.js';
import { PgNoodtoegangStore } from './noodtoegang/store-pg.js';
import type { PgTxStores } from './pg-unit-of-work.js';
import type { PgPolicyVersions } from './policy/versions-pg.js';
import type { PgRecordStore } from './records/store-pg.js';
import type { PgSessionStore } from './web/sessions-pg.js';

/**
 * The PostgreSQL stores as the unit of work hands them to a work: each bound to the batch's transaction, the record
 * store sharing its parsed records across batches. Without `sessions` (the CLI) a work that touches them fails.
 */
export function pgTxStores(stores: { records: PgRecordStore; policies: PgPolicyVersions; sessions?: PgSessionStore | undefined }): PgTxStores {
  const { records, policies, sessions } = stores;
  return {
    records: (q) => records.on(q),
    policies: (q) => policies.on(q),
    ...(sessions ? { sessions: (q) => sessions.on(q) } : {}),
    reviews: (q) => new PgOversightReviews(q),
    noodtoegang: (q) => new PgNoodtoegangStore(q),
    auditList: (q) => (query) => listAuditPg(q, query),
  };
}
