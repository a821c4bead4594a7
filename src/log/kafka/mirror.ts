// Offsets mirrored to Kafka, after PostgreSQL committed them, so that the usual lag
// tooling (kafka-consumer-groups.sh, a managed cluster's console) sees the projector's
// progress. The mirror is never read back as truth: the consumer starts every partition
// from the offset PostgreSQL stores. So a mirror commit may lag, fail or be skipped
// without harm, and it is kept off the batch path: commits run one at a time in the
// background, each carrying the newest offset of every partition noted since the last.
import { sleepMs } from '../../sleep.ts';

type PartitionOffset<T> = { topic: string; partition: number; offset: T };
export type MirrorCommit = (offsets: ReadonlyArray<PartitionOffset<string>>) => Promise<void>;

export class OffsetMirror {
  /** Newest stored offset per partition not yet sent, keyed `topic\0partition`. */
  private readonly pending = new Map<string, PartitionOffset<number>>();
  private draining: Promise<void> | null = null;
  private failures = 0;

  constructor(
    private readonly commit: MirrorCommit,
    /** Whether this member still owns the partition; a lost one is not ours to commit. */
    private readonly owns: (topic: string, partition: number) => boolean,
    private readonly log: (line: string) => void,
  ) {}

  /** Records that PostgreSQL now stores `nextOffset` for the partition. */
  note(topic: string, partition: number, nextOffset: number): void {
    const key = `${topic}\u0000${partition}`;
    const previous = this.pending.get(key);
    if (previous === undefined || previous.offset < nextOffset) {
      this.pending.set(key, { topic, partition, offset: nextOffset });
    }
    this.draining ??= this.drain().finally(() => { this.draining = null; });
  }

  /** Sends what is pending; waits at most `timeoutMs` (a broker may be gone at shutdown). */
  async flush(timeoutMs: number): Promise<void> {
    if (this.pending.size > 0) this.draining ??= this.drain().finally(() => { this.draining = null; });
    if (this.draining === null) return;
    const timer = new AbortController();
    await Promise.race([this.draining, sleepMs(timeoutMs, timer.signal)]);
    timer.abort();
  }

  private async drain(): Promise<void> {
    // Bounded: each pass takes everything pending, and notes only arrive with batches.
    while (this.pending.size > 0) {
      const offsets = [...this.pending.values()]
        .filter((p) => this.owns(p.topic, p.partition))
        .map((p) => ({ topic: p.topic, partition: p.partition, offset: String(p.offset) }));
      this.pending.clear();
      if (offsets.length === 0) continue;
      try {
        await this.commit(offsets);
        this.failures = 0;
      } catch (error) {
        // A rebalance (stale generation) or a broker away: the next batch's commit covers it.
        this.failures += 1;
        if (this.failures === 1 || this.failures % 100 === 0) {
          this.log(`kafka: mirroring offsets to the group failed (${(error as Error).message}); ` +
            'the database keeps the true position, lag tools may show an older one');
        }
      }
    }
  }
}
