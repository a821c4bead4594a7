// The one abortable wait: every poll and backoff in the program waits through it, so a
// stop (the signal) never waits out a sleep.

/** Resolves after `durationMs`, or at once when the signal aborts (or has already). */
export function sleepMs(durationMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, durationMs);
    signal?.addEventListener('abort', done, { once: true });
  });
}
