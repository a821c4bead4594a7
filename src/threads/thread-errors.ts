// An error crossing a thread boundary. A structured clone keeps an Error's message but not
// its code, and callers decide on the code (a lost connection is retried, a unique
// violation is a lost race): so the fields are carried explicitly and rebuilt.

export type ThreadError = {
  readonly name: string; readonly message: string; readonly code?: string; readonly stack?: string;
};

export const threadEntryUrl = new URL('./thread-entry.mjs', import.meta.url);

export function describeThreadError(error: unknown): ThreadError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name, message: error.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(error.stack === undefined ? {} : { stack: error.stack }),
  };
}

/** The error as the caller's thread would have seen it: same name, message and code. */
export function fromThreadError(described: ThreadError): Error {
  const error = new Error(described.message) as Error & { code?: string };
  error.name = described.name;
  if (described.code !== undefined) error.code = described.code;
  if (described.stack !== undefined) error.stack = described.stack;
  return error;
}
