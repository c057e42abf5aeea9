import { z } from 'zod';
import { purposeSchema, roleSchema } from '../purposes.js';

/**
 * What one audit line holds (domain.md: BIO2 8.15, NEN 7513, Logboek Dataverwerkingen). A new kind of event is a new
 * variant of the union, never a free-form string. Lines hold field *names* and codes, never record values, BSNs
 * (only their keyed pseudonym), tokens or claims other than sub, role and org.
 */

/** A field path as released or withheld: `persoon.adres.postcode`, `belastbaarheidsonderzoeken[0].diagnose`. */
const fieldName = z.string().regex(/^[A-Za-z]+(\[\d+\])?(\.[A-Za-z]+(\[\d+\])?)*$/, 'must be a field path');
const code = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'must be an UPPER_SNAKE code');
const tokenId = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be a token id');
const hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`));

export const actorSchema = z.strictObject({ sub: z.string().min(1).max(256), role: roleSchema, org: z.string().regex(/^(WERKZAAK|GM\d{4})$/) });

const common = {
  traceId: hex(32),
  spanId: hex(16),
  /** Absent when the caller could not be identified (a refused login token). */
  actor: actorSchema.optional(),
  /** The client IP as the socket saw it. */
  origin: z.string().max(64),
  outcome: z.enum(['permit', 'deny', 'error']),
  /** Why: a stable code (`PERMIT`, `NO_HANDOVER_TO_ORGANISATION`, `TOKEN_EXPIRED`, …). */
  reason: code,
  httpStatus: z.number().int().min(100).max(599),
  purpose: purposeSchema.optional(),
  processingActivityId: z.string().max(64).optional(),
  /** The access token's `jti`: an id, so a whole token (it has dots) is refused. */
  tokenId: tokenId.optional(),
  /** A BSN-shaped value (nine digits) is refused: the BSN goes in only as `bsnPseudonym`. */
  clientRef: z.string().regex(/^[A-Z0-9-]{1,32}$/).refine((v) => !/^\d{9}$/.test(v), 'must not be a BSN').optional(),
  /** HMAC-SHA256 of the BSN under the data dir's pseudonym key, hex: links lines of one client, reveals no BSN. */
  bsnPseudonym: hex(64).optional(),
  policyVersion: z.string().max(128).optional(),
  decisionId: z.string().max(64).optional(),
  released: z.array(fieldName).optional(),
  withheld: z.array(fieldName).optional(),
};

/**
 * Policy lines: `policyId` is the stored version the line is about (its id in policy_versions; `policyVersion` holds
 * its hash); `count` is how many items the request covered (versions listed, decisions replayed).
 */
const policy = {
  policyId: z.number().int().min(1).optional(),
  count: z.number().int().min(0).optional(),
  /** Absent on a line the CLI wrote (`doelpoort policy propose`). */
  httpStatus: common.httpStatus.optional(),
};

export const auditEntrySchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('token.issued'), ...common, purpose: purposeSchema, tokenId, actor: actorSchema }),
  z.strictObject({ action: z.literal('token.refused'), ...common }),
  z.strictObject({ action: z.literal('record.read'), ...common }),
  z.strictObject({ action: z.literal('document.read'), ...common }),
  z.strictObject({ action: z.literal('caseload.read'), ...common, count: z.number().int().min(0).optional() }),
  z.strictObject({ action: z.literal('policy.proposed'), ...common, ...policy }),
  z.strictObject({ action: z.literal('policy.approved'), ...common, ...policy }),
  z.strictObject({ action: z.literal('policy.rejected'), ...common, ...policy }),
  z.strictObject({ action: z.literal('policy.simulated'), ...common, ...policy }),
  /** A privacy officer listed or read policy versions. */
  z.strictObject({ action: z.literal('policy.read'), ...common, ...policy }),
  /** An impact replay of `count` logged decisions under version `policyId`. */
  z.strictObject({ action: z.literal('policy.impact'), ...common, ...policy }),
  z.strictObject({ action: z.literal('audit.read'), ...common }),
  z.strictObject({ action: z.literal('access-report.read'), ...common }),
  /** Retention pruning blanked the content of `count` lines older than `before` (epoch ms); written by the CLI. */
  z.strictObject({
    action: z.literal('audit.pruned'),
    ...common,
    httpStatus: common.httpStatus.optional(),
    before: z.number().int(),
    count: z.number().int().min(0),
  }),
]);

export type AuditEntry = z.infer<typeof auditEntrySchema>;
export type AuditAction = AuditEntry['action'];

/** A stored line: the entry plus its place in the chain. */
export interface AuditLine {
  seq: number;
  /** Epoch milliseconds. */
  at: number;
  action: AuditAction;
  outcome: AuditEntry['outcome'];
  /** Undefined once pruned. */
  entry: AuditEntry | undefined;
  /** Hex. */
  chainHash: string;
}
