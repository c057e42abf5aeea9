/**
 * The one error type of doelpoort. Domain code throws it with a code from a closed union; only `src/http` maps a
 * code to a status. A `detail` names fields, variables or ids, never a value: values may be personal data.
 */
export const ERROR_CODES = [
  'CONFIG_INVALID',
  'REQUEST_INVALID',
  'BODY_TOO_LARGE',
  'RATE_LIMITED',
  'TOKEN_MISSING',
  'TOKEN_INVALID',
  'TOKEN_EXPIRED',
  'DPOP_INVALID',
  'PURPOSE_NOT_ALLOWED',
  'CLIENT_NOT_ALLOWED',
  'RELATIONSHIP_MISSING',
  'ACCESS_DENIED',
  'RECORD_NOT_FOUND',
  'IMPORT_INVALID',
  'RECORD_INVALID',
  'POLICY_INVALID',
  'POLICY_NOT_FOUND',
  'POLICY_NOT_DRAFT',
  'POLICY_SELF_APPROVAL',
  'POLICY_DECIDER_NOT_CONTROLLER',
  'POLICY_STALE',
  'NOODTOEGANG_NOT_FOUND',
  'NOODTOEGANG_NOT_CONTROLLER',
  'NOODTOEGANG_SELF_REVIEW',
  'NOODTOEGANG_JUDGED',
  'AUDIT_WRITE_FAILED',
  'DATABASE_UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** One problem in a larger input: a path into the document or file, and what is wrong there. */
export interface Problem {
  path: string;
  message: string;
}

export class DoelpoortError extends Error {
  override readonly name = 'DoelpoortError';

  constructor(
    readonly code: ErrorCode,
    /** Human-readable, value-free explanation. */
    readonly detail: string = code,
    /** Every problem found, for inputs validated as a whole (imports, policy documents, configuration). */
    readonly problems: readonly Problem[] = [],
    options?: { cause?: unknown; reason?: string },
  ) {
    super(`${code}: ${detail}`, options);
    this.reason = options?.reason ?? code;
  }

  /** The reason code of the refusal's audit line (`NO_HANDOVER_TO_ORGANISATION`); the code itself unless given. */
  readonly reason: string;
}

/** True for our own coded errors; anything else is a programming mistake or an I/O failure. */
export function isDoelpoortError(error: unknown): error is DoelpoortError {
  return error instanceof DoelpoortError;
}
