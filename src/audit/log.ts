import { createHash, createHmac } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Clock } from '../clock.js';
import type { Db } from '../db.js';
import { DoelpoortError } from '../errors.js';
import { auditEntrySchema, type AuditEntry, type AuditLine } from './entry.js';

const LEAF = Buffer.from([0x00]);
const NODE = Buffer.from([0x01]);
const GENESIS = Buffer.alloc(32);

/** JSON with object keys sorted at every level: one byte string per value, so hashes are reproducible. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** RFC 6962-style leaf hash of a line's content (position, time and entry). */
export function leafHash(content: string): Buffer {
  return createHash('sha256').update(LEAF).update(content).digest();
}

/** The chain hash of a line: its leaf hash bound to the chain hash of the line before. */
export function chainHash(previous: Buffer, leaf: Buffer): Buffer {
  return createHash('sha256').update(NODE).update(previous).update(leaf).digest();
}

/** The hashed content of a line. */
export function lineContent(seq: number, at: number, entry: AuditEntry): string {
  return canonicalJson({ seq, at, entry });
}

/**
 * The audit trail. `append` is synchronous and must run inside the caller's better-sqlite3 transaction when data is
 * released: if it throws, the transaction rolls back and nothing leaves (fail closed).
 */
export class AuditLog {
  readonly #head: Statement<[], { seq: number; chainHash: Buffer }>;
  readonly #insert: Statement<[number, number, string, string, string | null, string | null, string | null, string | null, string | null, string, Buffer, Buffer]>;
  readonly #clock: Clock;
  readonly #pseudonymKey: Buffer;

  constructor(
    readonly db: Db,
    options: { clock: Clock; pseudonymKey: Buffer },
  ) {
    if (options.pseudonymKey.length < 32) throw new TypeError('AuditLog: pseudonymKey must be at least 32 bytes');
    this.#clock = options.clock;
    this.#pseudonymKey = options.pseudonymKey;
    const s = db.$client;
    this.#head = s.prepare('SELECT seq, chain_hash AS chainHash FROM audit_log ORDER BY seq DESC LIMIT 1');
    this.#insert = s.prepare(
      `INSERT INTO audit_log (seq, at, action, outcome, actor_sub, actor_org, client_ref, purpose, decision_id, entry, leaf_hash, chain_hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  /** The keyed pseudonym of a BSN (HMAC-SHA256, hex): the same client links across lines, the log reveals no BSN. */
  pseudonym(bsn: string): string {
    return createHmac('sha256', this.#pseudonymKey).update(bsn).digest('hex');
  }

  /** Appends one line; throws AUDIT_WRITE_FAILED when the entry is malformed or the write fails. */
  append(entry: AuditEntry): AuditLine {
    const parsed = auditEntrySchema.safeParse(entry);
    if (!parsed.success) throw new DoelpoortError('AUDIT_WRITE_FAILED', `audit entry invalid at ${parsed.error.issues[0]?.path.join('.') ?? '?'}`);
    try {
      const head = this.#head.get();
      const seq = (head?.seq ?? 0) + 1;
      const at = this.#clock.now();
      const content = lineContent(seq, at, parsed.data);
      const leaf = leafHash(content);
      const chain = chainHash(head?.chainHash ?? GENESIS, leaf);
      const e = parsed.data;
      this.#insert.run(seq, at, e.action, e.outcome, e.actor?.sub ?? null, e.actor?.org ?? null, e.clientRef ?? null, e.purpose ?? null, e.decisionId ?? null, content, leaf, chain);
      return { seq, at, entry: parsed.data, chainHash: chain.toString('hex') };
    } catch (error) {
      throw new DoelpoortError('AUDIT_WRITE_FAILED', 'the audit line could not be written', [], { cause: error });
    }
  }
}
