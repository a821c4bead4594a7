// The embedded log's LogConsumer: one group member with every partition of its topics
// assigned. Progress belongs to the handler (its nextOffset is what PostgreSQL stored),
// so the consumer keeps no position of its own beyond what the handler last returned.
import { UserError, invariant } from '../../errors.ts';
import { sleepMs } from '../../sleep.ts';
import type { ConsumeOptions, LogConsumer, PartitionBatch } from '../types.ts';
import { PartitionReader, type ReaderOptions } from './reader.ts';
import { readTopicPartitions, topicMissing } from './store.ts';

/** How long a following consumer waits, when every partition is caught up, before looking again. */
export const pollIntervalMsDefault = 100;
/**
 * Batches in a row that a partition's handler may answer without moving forward. A handler
 * that retries now and then is fine; one that never advances is a runaway, reported as one.
 */
export const stalledBatchesMax = 1_000;

export type ConsumerOptions = ReaderOptions & { readonly pollIntervalMs?: number };

type Assignment = {
  readonly reader: PartitionReader;
  nextOffset: number;
  /** The committed end offset as last read; with follow: false, fixed at the start. */
  endOffset: number;
  stalledBatches: number;
};

export class EmbeddedConsumer implements LogConsumer {
  private readonly readers = new Map<string, PartitionReader>();
  private running = false;
  private closed = false;

  constructor(
    private readonly rootDir: string,
    private readonly options: ConsumerOptions = {},
  ) {}

  async consume(options: ConsumeOptions): Promise<void> {
    invariant(!this.closed, 'a closed consumer does not consume');
    invariant(!this.running, 'one consume at a time per consumer');
    invariant(options.batchMessagesMax >= 1, 'a batch holds at least one message');
    invariant(options.batchBytesMax >= 1, 'a batch holds at least one byte');
    this.running = true;
    try {
      const assignments = await this.assign(options);
      await this.run(assignments, options);
    } finally {
      this.running = false;
      // Files are closed between consumes (a forgotten close() leaks nothing); the sparse
      // indexes stay, so the next consume seeks without scanning again.
      await Promise.allSettled([...this.readers.values()].map((reader) => reader.close()));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const readers = [...this.readers.values()];
    this.readers.clear();
    await Promise.allSettled(readers.map((reader) => reader.close()));
  }

  /**
   * Round-robin over the partitions with data, up to `partitionsConcurrently` batches in
   * the handler at once and never two of one partition. A slot is refilled the moment its
   * batch is done, not when the slowest of a group is: one partition's slow batch (a large
   * state lookup, a retried transaction) keeps only its own slot busy.
   */
  private async run(assignments: Assignment[], options: ConsumeOptions): Promise<void> {
    const pollIntervalMs = this.options.pollIntervalMs ?? pollIntervalMsDefault;
    const concurrency = options.partitionsConcurrently ?? 1;
    invariant(Number.isSafeInteger(concurrency) && concurrency >= 1, 'concurrency is a positive integer');
    const inFlight = new Map<Assignment, Promise<void>>();
    // The first batch to fail ends the run, whenever it fails (even while the scan below
    // awaits a read): kept here, so no failure goes unhandled or unseen.
    const failures: unknown[] = [];
    let cursor = 0; // where the round-robin scan resumes
    try {
      // Endless by design when following: it ends on abort, on an error, or (not following)
      // once every partition reached the end offset it had at the start.
      for (;;) {
        if (failures.length > 0) throw failures[0];
        if (options.signal.aborted) return;
        for (let scanned = 0; scanned < assignments.length && inFlight.size < concurrency; scanned++) {
          const assignment = assignments[cursor] as Assignment;
          cursor = (cursor + 1) % assignments.length;
          if (inFlight.has(assignment)) continue;
          if (options.follow && assignment.nextOffset >= assignment.endOffset) {
            assignment.endOffset = await assignment.reader.committedEndOffset();
          }
          if (assignment.nextOffset >= assignment.endOffset || failures.length > 0) continue;
          const delivered = deliverBatch(assignment, options)
            .catch((error: unknown) => { failures.push(error); })
            .finally(() => inFlight.delete(assignment));
          inFlight.set(assignment, delivered);
        }
        if (inFlight.size > 0) {
          await Promise.race(inFlight.values());
          continue;
        }
        if (failures.length > 0) throw failures[0];
        if (!options.follow) return; // nothing in flight and nothing left before the end offsets
        await sleepMs(pollIntervalMs, options.signal);
      }
    } finally {
      // Batches in flight finish (or fail) before consume returns: a stop never abandons a
      // handler half way, and an error is reported only once the others are settled.
      await Promise.allSettled(inFlight.values());
    }
  }

  /** Asks where each partition starts, and refuses a start past the partition's end. */
  private async assign(options: ConsumeOptions): Promise<Assignment[]> {
    invariant(options.topics.length >= 1, 'a consumer reads at least one topic');
    const assignments: Assignment[] = [];
    for (const topic of options.topics) {
      const partitions = await readTopicPartitions(this.rootDir, topic);
      if (partitions === null) throw topicMissing(this.rootDir, topic);
      for (let partition = 0; partition < partitions; partition++) {
        const reader = this.reader(topic, partition);
        const endOffset = await reader.committedEndOffset();
        const nextOffset = await options.startOffset({ topic, partition });
        checkStartOffset(topic, partition, nextOffset, endOffset);
        assignments.push({ reader, nextOffset, endOffset, stalledBatches: 0 });
      }
    }
    return assignments;
  }

  /** Readers are kept across consume calls: their sparse indexes are worth keeping. */
  private reader(topic: string, partition: number): PartitionReader {
    const key = `${topic}\u0000${partition}`;
    let reader = this.readers.get(key);
    if (reader === undefined) {
      reader = new PartitionReader(this.rootDir, topic, partition, this.options);
      this.readers.set(key, reader);
    }
    return reader;
  }
}

async function deliverBatch(assignment: Assignment, options: ConsumeOptions): Promise<void> {
  const { reader } = assignment;
  const firstOffset = assignment.nextOffset;
  const messages = await reader.read(
    firstOffset,
    assignment.endOffset,
    options.batchMessagesMax,
    options.batchBytesMax,
  );
  const batch: PartitionBatch = {
    topic: reader.topic,
    partition: reader.partition,
    messages,
    highWatermark: assignment.endOffset,
  };
  const { nextOffset } = await options.eachBatch(batch);
  const where = `${reader.topic}/${reader.partition}`;
  invariant(Number.isSafeInteger(nextOffset), `handler's nextOffset for ${where} is an integer`);
  invariant(nextOffset >= 0, `handler's nextOffset ${nextOffset} for ${where} is not negative`);
  invariant(
    nextOffset <= firstOffset + messages.length,
    `handler's nextOffset ${nextOffset} for ${where} is not past the batch it was given`,
  );
  assignment.stalledBatches = nextOffset > firstOffset ? 0 : assignment.stalledBatches + 1;
  if (assignment.stalledBatches > stalledBatchesMax) {
    throw new Error(
      `the handler returned no progress on ${where} at offset ${firstOffset} ` +
        `${stalledBatchesMax} times in a row`,
    );
  }
  assignment.nextOffset = nextOffset;
}

function checkStartOffset(
  topic: string,
  partition: number,
  startOffset: number,
  endOffset: number,
): void {
  const where = `${topic}/${partition}`;
  invariant(Number.isSafeInteger(startOffset), `start offset for ${where} is an integer`);
  invariant(startOffset >= 0, `start offset ${startOffset} for ${where} is not negative`);
  if (startOffset > endOffset) {
    throw new UserError(
      'log_offset_out_of_range',
      `${topic}/${partition}: the stored position is offset ${startOffset}, but the embedded log ` +
        `ends at offset ${endOffset}; this log is not the one the database was projected from`,
    );
  }
}

