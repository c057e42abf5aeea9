import { hash } from 'node:crypto';
import { canonicalJson } from '../canonical-json.js';
import type { AuditEntry } from './entry.js';

/**
 * The hash chain of the audit log (RFC 6962 prefixes): leaf = SHA-256(0x00 ‖ content), chain = SHA-256(0x01 ‖
 * previous chain ‖ leaf), with 32 zero bytes before the first line. `content` is the canonical JSON of
 * { seq, at, entry }, stored as is in `audit_log.entry`, so a line's position and time are hashed with it.
 */

/** The chain hash "before" line 1. */
export const GENESIS: Buffer = Buffer.alloc(32);

/** RFC 6962-style leaf hash of a line's content (position, time and entry). */
export function leafHash(content: string): Buffer {
  // '\u0000' is the one byte 0x00 in UTF-8; one-shot hash() is about twice as fast as createHash() per line.
  return hash('sha256', `\u0000${content}`, 'buffer');
}

/** The chain hash of a line: its leaf hash bound to the chain hash of the line before. */
export function chainHash(previous: Buffer, leaf: Buffer): Buffer {
  node.set(previous, 1);
  node.set(leaf, 33);
  return hash('sha256', node, 'buffer');
}

/** Scratch space for 0x01 ‖ previous ‖ leaf; safe to share because hashing is synchronous. */
const node = Buffer.alloc(65, 0x01);

/** The hashed content of a line. */
export function lineContent(seq: number, at: number, entry: AuditEntry): string {
  return canonicalJson({ seq, at, entry });
}
