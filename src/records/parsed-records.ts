import { deepFreeze } from '../freeze.js';
import type { SuiteRecord } from './suite-record.js';

/** A page of a caseload: client refs in order, and the cursor for the next page when there is one. */
export interface Page<T> {
  items: T[];
  next: string | null;
}

/** A page of `limit` from `rows` read with `limit + 1`: the extra row only says that there is a next page. */
export function pageOf<R, T>(rows: R[], limit: number, item: (row: R) => T, cursor: (item: T) => string): Page<T> {
  const items = rows.slice(0, limit).map(item);
  return { items, next: rows.length > limit ? cursor(items[items.length - 1]!) : null };
}

/**
 * Parsed records by clientRef with the text they were parsed from, least recently read first, shared by both record
 * stores. While a row's text is unchanged the same deep-frozen object is returned, parsed once (so caches keyed by it,
 * like DecisionCache, stay valid: a re-import by any process changes the text, and so the object).
 */
export class ParsedRecords {
  readonly #parsed = new Map<string, { text: string; record: SuiteRecord }>();

  /** `max`: how many parsed records to keep for reuse (0: parse on every read). */
  constructor(readonly max: number) {}

  /** The record of `text` as read now for `clientRef`. */
  of(clientRef: string, text: string): SuiteRecord {
    const hit = this.#parsed.get(clientRef);
    if (hit !== undefined) {
      this.#parsed.delete(clientRef);
      if (hit.text === text) {
        this.#parsed.set(clientRef, hit);
        return hit.record;
      }
    }
    const record = deepFreeze(JSON.parse(text) as SuiteRecord);
    if (this.max > 0) {
      if (this.#parsed.size >= this.max) this.#parsed.delete(this.#parsed.keys().next().value!);
      this.#parsed.set(clientRef, { text, record });
    }
    return record;
  }
}
