import { createHmac } from 'node:crypto';

/** How many BSNs' pseudonyms are kept: a busy morning's clients, a few hundred kilobytes. */
const KEPT = 10_000;

/**
 * The keyed pseudonym of a BSN (HMAC-SHA256 under the log's pseudonym key, hex): the same client links across lines,
 * the log reveals no BSN. The most recently computed ones are kept, since every read of a client computes its
 * client's again (an HMAC costs more than the rest of building its line); the BSNs are in this process's records anyway.
 */
export class Pseudonyms {
  readonly #key: Buffer;
  readonly #kept = new Map<string, string>();

  constructor(key: Buffer) {
    this.#key = key;
  }

  of(bsn: string): string {
    const kept = this.#kept.get(bsn);
    if (kept !== undefined) return kept;
    const pseudonym = createHmac('sha256', this.#key).update(bsn).digest('hex');
    if (this.#kept.size >= KEPT) this.#kept.delete(this.#kept.keys().next().value!);
    this.#kept.set(bsn, pseudonym);
    return pseudonym;
  }
}
