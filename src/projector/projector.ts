// The projector: reads the log through a LogConsumer (embedded or Kafka: it cannot tell)
// and hands each batch to projectBatch in its own transaction. The consumer starts every
// partition at the offset stored in PostgreSQL and never moves past what a committed
// transaction returned, so a restart anywhere resumes exactly where the journal stands.
import { limits } from '../limits.ts';
import type { LogConsumer, PartitionBatch, TopicPartition } from '../log/types.ts';
import { withTransaction, type Pool } from '../db/database.ts';
import { projectBatch, StateConflictError, type BatchCounts } from './project-batch.ts';

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
  /** Called after each committed batch (progress lines, metrics). */
  readonly onBatch?: (progress: ProgressReport) => void;
  /** Called every `limits.checkpointEntriesInterval` posted entries and at the end. */
  readonly checkpoint?: () => Promise<void>;
  readonly batchMessagesMax?: number;
  /** Partitions projected at once, each in its own transaction (default 2: one per core). */
  readonly partitionsConcurrently?: number;
};

export type ProjectorResult = BatchCounts & { watermark: Watermark };

export async function runProjector(options: ProjectorOptions): Promise<ProjectorResult> {
  const { pool } = options;
  const totals: BatchCounts = { posted: 0, duplicates: 0, quarantined: 0 };
  const ensured = await existingLinePartitions(pool);
  let postedSinceCheckpoint = 0;
  const eachBatch = async (batch: PartitionBatch) => {
    const result = await projectWithRetries(pool, batch, ensured);
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
  await options.consumer.consume({
    topics: options.topics,
    eachBatch,
    startOffset: (tp) => storedOffset(pool, tp),
    follow: options.follow,
    signal: options.signal,
    batchMessagesMax: options.batchMessagesMax ?? limits.batchMessagesMax,
    batchBytesMax: limits.batchBytesMax,
    partitionsConcurrently: options.partitionsConcurrently ?? 2,
  });
  if (options.checkpoint !== undefined) await options.checkpoint();
  return { ...totals, watermark: await readWatermark(pool) };
}

/**
 * A batch that needs a month's line partition first gets it (outside the batch's
 * transaction, so no lock is held across it) and is tried again; so is a batch that lost
 * a race on a new state key to another partition's transaction. Both are bounded.
 */
async function projectWithRetries(pool: Pool, batch: PartitionBatch, ensured: Set<string>) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const result = await withTransaction(pool, (client) => projectBatch(client, batch, ensured));
      if (result.missingPeriods.length === 0) return result;
      for (const period of result.missingPeriods) {
        await pool.query('SELECT ledger.ensure_line_partition($1::date)', [`${period}-01`]);
        ensured.add(period);
      }
    } catch (error) {
      const lostRace = error instanceof StateConflictError || (error as { code?: string }).code === '23505';
      if (!lostRace || attempt >= limits.transactionAttemptsMax) throw error;
    }
    if (attempt >= limits.transactionAttemptsMax) {
      throw new Error(`batch ${batch.topic}/${batch.partition} could not be projected in ${attempt} attempts`);
    }
  }
}

async function existingLinePartitions(pool: Pool): Promise<Set<string>> {
  const result = await pool.query<{ relname: string }>(`SELECT c.relname FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'ledger.journal_lines'::regclass`);
  return new Set(result.rows.map((r) => r.relname.replace(/^journal_lines_(\d{4})_(\d{2})$/, '$1-$2')));
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
