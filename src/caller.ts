import type { AuditFacts } from './audit/facts.js';
import type { Requester } from './purposes.js';

/** Who calls a verb (an API route, a CLI command, a web page), and how their channel answers, for the audit line. */
export interface Caller {
  requester: Requester;
  /** What every line of the call starts with (src/audit/facts.ts). */
  facts: AuditFacts;
  /** The status the channel answers a success with, for the permit line; absent where there is none (the CLI). */
  done?: number;
  /**
   * Who named the client: a token, which the exchange issued only after finding the client and its relationship (the
   * default), or the request itself (a web page's URL), whose client may not exist. A client the request named and
   * that does not exist is refused like one without a relationship, so the answer never says who exists.
   */
  clientNamedBy?: 'token' | 'request';
}
