// A bounded number of holders at once, served first come first served: the handler slots
// a consumer shares among the partitions it was handed (kafka/consumer.ts). Pure, no I/O.
import { invariant } from '../errors.ts';

/** Gives the slot back; calling it again does nothing. */
export type ReleaseSlot = () => void;

export class Slots {
  private free: number;
  private readonly waiting: Array<(release: ReleaseSlot) => void> = [];

  constructor(readonly count: number) {
    invariant(Number.isSafeInteger(count) && count >= 1, 'at least one slot');
    this.free = count;
  }

  /** A slot, once one is free; null when the signal aborts first (nothing is then held). */
  acquire(signal: AbortSignal): Promise<ReleaseSlot | null> {
    if (signal.aborted) return Promise.resolve(null);
    if (this.free > 0) {
      this.free -= 1;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve) => {
      const onAbort = () => {
        const index = this.waiting.indexOf(handOver);
        if (index >= 0) this.waiting.splice(index, 1);
        resolve(null);
      };
      const handOver = (release: ReleaseSlot) => {
        signal.removeEventListener('abort', onAbort);
        resolve(release);
      };
      this.waiting.push(handOver);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private releaser(): ReleaseSlot {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // The slot passes straight to the longest waiter, so `free` never counts it.
      const next = this.waiting.shift();
      if (next === undefined) this.free += 1;
      else next(this.releaser());
    };
  }
}
