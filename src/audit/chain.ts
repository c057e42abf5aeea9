import { hash } from 'node:crypto';
import { canonicalJson } from '../canonical-json.js';
import { isBsnLookup } from './bsn-lookup.js';
import type { AuditEntry } from './entry.js';
import { timeClass } from './office-hours.js';

/**
 * The hash chain of the audit log (RFC 6962 prefixes): leaf = SHA-256(0x00 ‖ content), chain = SHA-256(0x01 ‖
 * previous chain ‖ leaf), with 32 zero bytes before the first line. What `content` is depends on the line's format
 * (the `format` column; docs/architecture.md, "The audit chain"):
 * - format 1 (NULL in the column: every line written before format 2): the canonical JSON of { seq, at, entry }, as
 *   stored in `audit_log.entry`; verify parses it and checks every query column against it.
 * - format 2: the line encoding of exactly the stored columns, in LINE_COLUMNS order, each one NULL (`~`) or its text
 *   (an integer in decimal) prefixed by its length in UTF-16 code units and a colon, after the format tag `2`. The
 *   stored `entry` (JSON of { seq, at, entry }) is one of those columns, hashed as the text it is; verify recomputes
 *   the leaf from the row as read, without parsing anything.
 */

/** The chain hash "before" line 1. */
export const GENESIS: Buffer = Buffer.alloc(32);

/** The format new lines are written in. */
export const LINE_FORMAT = 2;

/** The columns a format-2 leaf covers, in the order it hashes them. */
export const LINE_COLUMNS = [
  'seq',
  'at',
  'action',
  'outcome',
  'actor_iss',
  'actor_sub',
  'actor_role',
  'actor_org',
  'client_ref',
  'purpose',
  'decision_id',
  'bsn_lookup',
  'noodtoegang',
  'time_class',
  'entry',
] as const;

/** One stored line's values in LINE_COLUMNS order. */
export type LineValues = [
  seq: number,
  at: number,
  action: string,
  outcome: string,
  actorIss: string | null,
  actorSub: string | null,
  actorRole: string | null,
  actorOrg: string | null,
  clientRef: string | null,
  purpose: string | null,
  decisionId: string | null,
  bsnLookup: number | null,
  noodtoegang: number | null,
  timeClass: number | null,
  entry: string | null,
];

/** RFC 6962-style leaf hash of a format-1 line's content (position, time and entry). */
export function leafHash(content: string): Buffer {
  // '\u0000' is the one byte 0x00 in UTF-8; one-shot hash() is about twice as fast as createHash() per line.
  return hash('sha256', `\u0000${content}`, 'buffer');
}

/**
 * The leaf hash of a format-2 line from its stored values (LINE_COLUMNS order, exactly 15): 0x00 ‖ UTF-8 of the line
 * encoding; elements after the 15th are ignored (a row may carry more). The caller checks each value's type (text or
 * integer per column) first: the encoding of an integer and of its decimal text are the same.
 */
export function leafHashV2(values: ArrayLike<unknown>): Buffer {
  // A string built by concatenation and hashed once: one UTF-8 conversion per line, no intermediate Buffers.
  let text = '\u00002';
  for (let i = 0; i < 15; i++) {
    const v = values[i];
    if (v === null || v === undefined) text += '~';
    else {
      const s = typeof v === 'string' ? v : String(v as number);
      text += `${s.length}:${s}`;
    }
  }
  return hash('sha256', text, 'buffer');
}

/** The chain hash of a line: its leaf hash bound to the chain hash of the line before. */
export function chainHash(previous: Buffer, leaf: Buffer): Buffer {
  node.set(previous, 1);
  node.set(leaf, 33);
  return hash('sha256', node, 'buffer');
}

/** Scratch space for 0x01 ‖ previous ‖ leaf; safe to share because hashing is synchronous. */
const node = Buffer.alloc(65, 0x01);

/** The hashed content of a format-1 line (kept for the lines written before format 2, and their tests). */
export function lineContent(seq: number, at: number, entry: AuditEntry): string {
  return canonicalJson({ seq, at, entry });
}

/**
 * The stored `entry` text of a format-2 line: JSON of { seq, at, entry } in the entry's own key order (the hash
 * covers the text as stored, so it need not be canonical).
 */
export function storedContent(seq: number, at: number, entry: AuditEntry): string {
  return `{"seq":${seq},"at":${at},"entry":${JSON.stringify(entry)}}`;
}

/**
 * The stored values of the format-2 line `seq` of `entry` at `at`, in LINE_COLUMNS order: what every database writes
 * and the leaf hashes. `tc` is the time class of `at`, when the caller has it already (a batch shares one time).
 */
export function lineValues(seq: number, at: number, entry: AuditEntry, tc: number = timeClass(at)): LineValues {
  const actor = entry.actor;
  return [
    seq,
    at,
    entry.action,
    entry.outcome,
    actor?.iss ?? null,
    actor?.sub ?? null,
    actor?.role ?? null,
    actor?.org ?? null,
    entry.clientRef ?? null,
    entry.purpose ?? null,
    entry.decisionId ?? null,
    isBsnLookup(entry) ? 1 : null,
    entry.noodtoegang === true ? 1 : null,
    tc,
    storedContent(seq, at, entry),
  ];
}
