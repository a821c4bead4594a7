// The one error type for a user's mistake: a bad flag, a bad file, an unreachable
// server. Its message is shown as is, on one line, with no stack trace; anything else
// that escapes is a bug in this program and is reported as one.
export class UserError extends Error {
  readonly code: string;
  readonly field: string | undefined;
  constructor(code: string, message: string, field?: string) {
    super(message);
    this.name = 'UserError';
    this.code = code;
    this.field = field;
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}

/** Asserts an invariant of this program: a failure is our bug, so it throws and rolls back. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) invariantFailed(message);
}

/**
 * For checks on a hot path whose message is built from values: `if (!ok) invariantFailed(…)`
 * builds the message only when the check fails, where `invariant(ok, …)` builds it on
 * every call.
 */
export function invariantFailed(message: string): never {
  throw new Error(`invariant violated: ${message}`);
}
