import type { AuditEntry } from './entry.js';

/**
 * Whether a line records a look-up by BSN: a token exchange whose requester named the client by BSN and not by
 * clientRef (a refused one that named both, `CLIENT_AND_BSN`, carries the clientRef it was given; an issued one carries
 * the clientRef the BSN resolved to). The query column `bsn_lookup` holds this; the `oversight` migration computes it alike.
 */
export function isBsnLookup(entry: AuditEntry): boolean {
  if (entry.bsnPseudonym === undefined) return false;
  return entry.action === 'token.issued' || (entry.action === 'token.refused' && entry.clientRef === undefined);
}
