// The projector: reads the log through a LogConsumer (embedded or Kafka: it cannot tell)
// and hands each batch to projectBatch in its own transaction. The consumer starts every
// partition at the offset stored in PostgreSQL and never moves past what a committed
// transaction returned, so a restart anywhere resumes exactly where the journal stands.
import { invariant } from '../errors.ts';
import { limits } from '../limits.ts';
import type { LogConsumer, PartitionBatch, TopicPartition } from '../log/types.ts';
import type { Pool } from '../db/database.ts';
import { approvalKeys } from '../ledger/approval.ts';
import type { TrustedKeys } from '../signing/trust.ts';
import { BatchWorkers, type ProjectorThreads } from './batch-workers.ts';
import {
  existingLinePartitions, projectBatchWithRetries, type BatchCounts, type BatchResult,
} from './project-batch.ts';

export type Watermark = Record<string, number>;

export type ProgressReport = {
  topic: string;
  partition: number;
  nextOffset: number;
  highWatermark: number;
  counts: BatchCounts;
};

export type ProjectorOptions = {
  readonly pool: Pool;
  readonly consumer: LogConsumer;
  readonly topics: readonly string[];
  readonly follow: boolean;
  readonly signal: AbortSignal;
  /** The keys an adjustment's approval may be signed by (loadTrustedKeys); any other is quarantined. */
  readonly trustedKeys: TrustedKeys;
  /** Called after each committed batch (progress lines, metrics). */
  readonly onBatch?: (progress: ProgressReport) => void;
  /** Called every `limits.checkpointEntriesInterval` posted entries and at the end. */
  readonly checkpoint?: () => Promise<void>;
  readonly batchMessagesMax?: number;
  /**
   * Partitions projected at once on this thread, each in its own transaction (default 2:
   * one deciding while the server writes the other). Not with `threads`, whose slots set it.
   */
  readonly partitionsConcurrently?: number;
  /**
   * Project batches on worker threads (batch-workers.ts), each with
   * batchesInFlightPerThread batches in flight; absent: on this thread. Same transactions,
   * same results; more cores.
   */
  readonly threads?: ProjectorThreads;
};

export type ProjectorResult = BatchCounts & { watermark: Watermark };

export async function runProjector(options: ProjectorOptions): Promise<ProjectorResult> {
  const { pool } = options;
  const totals: BatchCounts = { posted: 0, duplicates: 0, quarantined: 0 };
  invariant(options.threads === undefined || options.partitionsConcurrently === undefined,
    'with projector threads, their slots set how many partitions are projected at once');
  const workers = options.threads === undefined ? undefined : new BatchWorkers(options.threads, options.trustedKeys);
  const partitionsConcurrently = workers?.slots ?? options.partitionsConcurrently ?? 2;
  let project: (batch: PartitionBatch) => Promise<BatchResult>;
  if (workers === undefined) {
    const ensured = await existingLinePartitions(pool);
    const keys = approvalKeys(options.trustedKeys);
    project = (batch) => projectBatchWithRetries(pool, batch, ensured, keys);
  } else {
    project = (batch) => workers.project(batch);
  }
  let postedSinceCheckpoint = 0;
  const eachBatch = async (batch: PartitionBatch) => {
    const result = await project(batch);
    totals.posted += result.posted;
    totals.duplicates += result.duplicates;
    totals.quarantined += result.quarantined;
    postedSinceCheckpoint += result.posted;
    options.onBatch?.({
      topic: batch.topic, partition: batch.partition, nextOffset: result.nextOffset,
      highWatermark: batch.highWatermark, counts: result,
    });
    if (options.checkpoint !== undefined && postedSinceCheckpoint >= limits.checkpointEntriesInterval) {
      postedSinceCheckpoint = 0;
      await options.checkpoint();
    }
    return { nextOffset: result.nextOffset };
  };
  try {
    await options.consumer.consume({
      topics: options.topics,
      eachBatch,
      startOffset: (tp) => storedOffset(pool, tp),
      follow: options.follow,
      signal: options.signal,
      batchMessagesMax: options.batchMessagesMax ?? limits.batchMessagesMax,
      batchBytesMax: limits.batchBytesMax,
      partitionsConcurrently,
    });
  } finally {
    await workers?.close();
  }
  if (options.checkpoint !== undefined) await options.checkpoint();
  return { ...totals, watermark: await readWatermark(pool) };
}

export async function storedOffset(pool: Pool, tp: TopicPartition): Promise<number> {
  const result = await pool.query<{ next_offset: string }>(
    'SELECT next_offset FROM ledger.log_partitions WHERE topic = $1 AND partition = $2', [tp.topic, tp.partition]);
  return Number(result.rows[0]?.next_offset ?? 0);
}

/** For each partition, the last offset projected into the journal (REPORTS.md watermark). */
export async function readWatermark(pool: Pool): Promise<Watermark> {
  const result = await pool.query<{ topic: string; partition: number; next_offset: string }>(
    'SELECT topic, partition, next_offset FROM ledger.log_partitions ORDER BY topic, partition');
  const watermark: Watermark = {};
  for (const r of result.rows) watermark[`${r.topic}/${r.partition}`] = Number(r.next_offset) - 1;
  return watermark;
}
