// The shape of a log, as the projector sees it: topics split into partitions, each an
// append-only sequence of messages numbered by offset. The embedded log and Kafka both
// sit behind these interfaces, so the projector cannot tell which one it reads.

export type TopicPartition = { readonly topic: string; readonly partition: number };

/** One message exactly as the log holds it; the raw archive keeps all of it. */
export type LogMessage = {
  readonly topic: string;
  readonly partition: number;
  /** Offsets are dense in the embedded log; a safe integer (asserted by readers). */
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: ReadonlyArray<{ readonly key: string; readonly value: Buffer | null }>;
  /** The log's own timestamp (Kafka's CreateTime), milliseconds since the epoch. */
  readonly timestampMs: number;
};

export type PartitionBatch = {
  readonly topic: string;
  readonly partition: number;
  /** Consecutive messages of one partition, in offset order, at least one. */
  readonly messages: readonly LogMessage[];
  /** The offset the next message appended to this partition will get. */
  readonly highWatermark: number;
};

/**
 * Called for each batch. Returns the next offset to read for the partition, which is the
 * offset stored in PostgreSQL by the batch's own transaction. A consumer never moves past
 * what the handler returned, so a failed batch is read again.
 */
export type BatchHandler = (batch: PartitionBatch) => Promise<{ nextOffset: number }>;

/**
 * Where a partition starts: the offset stored in PostgreSQL for it (0 for a partition
 * never projected). Called on every assignment, before any batch of that partition.
 */
export type StartOffsetLookup = (partition: TopicPartition) => Promise<number>;

export type ConsumeOptions = {
  readonly topics: readonly string[];
  readonly eachBatch: BatchHandler;
  readonly startOffset: StartOffsetLookup;
  /** false: return once every assigned partition is caught up. true: run until `signal`. */
  readonly follow: boolean;
  readonly signal: AbortSignal;
  readonly batchMessagesMax: number;
  readonly batchBytesMax: number;
  /**
   * Batches that may be in the handler at once, each of a different partition: batches
   * of one partition are always one at a time. A slot is given to the next partition
   * with data as soon as it is free.
   */
  readonly partitionsConcurrently?: number;
};

/** The reading side, shaped like a Kafka consumer group member. */
export interface LogConsumer {
  consume(options: ConsumeOptions): Promise<void>;
  close(): Promise<void>;
}

export type PublishRecord = {
  readonly key: Buffer | null;
  readonly value: Buffer;
  /** Chosen by the caller with `partitionForKey` (murmur2, as Kafka's default partitioner). */
  readonly partition: number;
  readonly headers?: ReadonlyArray<{ readonly key: string; readonly value: Buffer }>;
  readonly timestampMs?: number;
};

/** The writing side. */
export interface LogProducer {
  /** Creates the topic with this many partitions if it does not exist; returns its partition count. */
  ensureTopic(topic: string, partitions: number): Promise<number>;
  /** Appends in order; durable (fsync'd or acknowledged by all in-sync replicas) on return. */
  publish(topic: string, records: readonly PublishRecord[]): Promise<void>;
  /** The offset the next message appended to each partition will get. */
  endOffsets(topic: string): Promise<Map<number, number>>;
  close(): Promise<void>;
}
