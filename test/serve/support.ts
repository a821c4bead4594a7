// Helpers for tests that run `ledger serve` as a real child process.
import { startLedger, waitUntil, type KafkaLedger, type LedgerChild } from '../support/kafka.ts';

/** Waits until the child's stderr matches `pattern` (or fails with what the child said). */
export async function waitForLine(child: LedgerChild, pattern: RegExp, what: string, timeoutMs = 60_000): Promise<void> {
  let exited = false;
  child.exited.then(() => { exited = true; }, () => undefined);
  try {
    await waitUntil(what, () => {
      if (pattern.test(child.stderr())) return true;
      if (exited) throw new Error(`the child exited before ${what}`);
      return false;
    }, timeoutMs, 50);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- stderr of pid ${child.pid} ---\n${child.stderr()}`);
  }
}

/** `ledger serve ARGS` on the ledger, light on CPU (the projector on its main thread). */
export function startServe(ledger: KafkaLedger, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): LedgerChild {
  return startLedger(ledger, ['serve', ...args], { LEDGER_PROJECTOR_THREADS: '0', PORT: '0', ...env });
}

export const following = /ledger: following the log/;
