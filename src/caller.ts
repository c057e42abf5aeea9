import type { AuditFacts } from './audit/facts.js';
import type { Requester } from './purposes.js';

/** Who calls a verb (an API route, a CLI command, a web page), and how their channel answers, for the audit line. */
export interface Caller {
  requester: Requester;
  /** What every line of the call starts with (src/audit/facts.ts). */
  facts: AuditFacts;
  /** The status the channel answers a success with, for the permit line; absent where there is none (the CLI). */
  done?: number;
}
