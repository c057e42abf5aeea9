import type { AuditFacts } from './audit/facts.js';
import { isDoelpoortError, type DoelpoortError } from './errors.js';
import type { Requester } from './purposes.js';

/** Who calls a verb (an API route, a CLI command, a web page), and how their channel answers, for the audit line. */
export interface Caller {
  requester: Pick<Requester, 'issuer' | 'sub' | 'role' | 'org' | 'purpose'>;
  /** What every line of the call starts with (src/audit/facts.ts). */
  facts: AuditFacts;
  /** The status the channel answers a success with, for the permit line; absent where there is none (the CLI). */
  done?: number;
}

/**
 * An input as the caller parsed it: the value, or the coded error its validation gave. A verb takes it as a value so
 * that it refuses (and logs) a bad input in its own order: after the check of who is asking.
 */
export type Input<T> = { ok: true; value: T } | { ok: false; error: DoelpoortError };

/** What `parse` returns as an input, or the coded error it throws. */
export function inputOf<T>(parse: () => T): Input<T> {
  try {
    return { ok: true, value: parse() };
  } catch (error) {
    if (isDoelpoortError(error)) return { ok: false, error };
    throw error;
  }
}

/** The input's value; its validation error is thrown (inside a unit of work: a refusal with its deny line). */
export function valueOf<T>(input: Input<T>): T {
  if (!input.ok) throw input.error;
  return input.value;
}
