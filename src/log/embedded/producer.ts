// The embedded log's LogProducer. It takes the writer lock on its first write, not when
// it is built, so a process that only reads or asks for end offsets never blocks a writer.
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError, invariant } from '../../errors.ts';
import { limits } from '../../limits.ts';
import type { LogProducer, PublishRecord } from '../types.ts';
import { recordInputOf, segmentFileName, type RecordInput } from './format.ts';
import { acquireWriterLock, type WriterLock } from './lock.ts';
import {
  ensureDirectory,
  fsyncDirectory,
  partitionCountMax,
  partitionDirectory,
  readCommitted,
  readTopicPartitions,
  topicDirectory,
  topicMissing,
  writeCommitted,
  writeTopicMetadata,
} from './store.ts';
import { PartitionWriter } from './writer.ts';

export type ProducerOptions = { readonly segmentBytesMax: number };

export class EmbeddedProducer implements LogProducer {
  private lock: Promise<WriterLock> | null = null;
  private readonly writers = new Map<string, Promise<PartitionWriter[]>>();
  /** Writes run one at a time, so two publishes never interleave their offsets. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly rootDir: string,
    private readonly options: ProducerOptions,
  ) {
    invariant(options.segmentBytesMax > 0, 'segment size is positive');
  }

  async ensureTopic(topic: string, partitions: number): Promise<number> {
    const valid = Number.isSafeInteger(partitions) && partitions >= 1;
    if (!valid || partitions > partitionCountMax) {
      throw new UserError(
        'log_partitions_invalid',
        `partition count ${partitions} is not 1..${partitionCountMax}`,
      );
    }
    const existing = await readTopicPartitions(this.rootDir, topic);
    if (existing !== null) return existing;
    return this.serialized(async () => {
      await this.writerLock();
      // Another writer may have created it before this one took the lock.
      const created = await readTopicPartitions(this.rootDir, topic);
      if (created !== null) return created;
      await this.createTopic(topic, partitions);
      return partitions;
    });
  }

  async publish(topic: string, records: readonly PublishRecord[]): Promise<void> {
    invariant(records.length <= limits.publishLinesMax, 'a publish is bounded');
    if (records.length === 0) return;
    await this.serialized(async () => {
      await this.writerLock();
      const writers = await this.partitionWriters(topic);
      const byPartition = groupByPartition(records, writers.length, Date.now());
      // Partitions are independent files, so their writes and fsyncs overlap.
      const appends = [...byPartition].map(([partition, inputs]) =>
        writers[partition]!.append(inputs),
      );
      const results = await Promise.allSettled(appends);
      const failure = results.find((result) => result.status === 'rejected');
      if (failure !== undefined) {
        // A failed append leaves its file unknown; reopening recovers it as after a crash.
        await this.dropWriters(topic);
        throw failure.reason;
      }
    });
  }

  /** Read from the committed files, so it needs no lock and agrees with what readers see. */
  async endOffsets(topic: string): Promise<Map<number, number>> {
    const partitions = await readTopicPartitions(this.rootDir, topic);
    if (partitions === null) throw topicMissing(this.rootDir, topic);
    const endOffsets = new Map<number, number>();
    for (let partition = 0; partition < partitions; partition++) {
      const directory = partitionDirectory(this.rootDir, topic, partition);
      endOffsets.set(partition, await readCommitted(directory));
    }
    return endOffsets;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.catch(() => undefined);
    for (const writers of this.writers.values()) {
      const opened = await writers.catch(() => [] as PartitionWriter[]);
      for (const writer of opened) await writer.close();
    }
    this.writers.clear();
    const lock = await this.lock?.catch(() => null);
    if (lock) await lock.release();
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    invariant(!this.closed, 'a closed producer is not used');
    const result = this.queue.then(work, work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private writerLock(): Promise<WriterLock> {
    if (this.lock === null) {
      this.lock = ensureDirectory(this.rootDir).then(() => acquireWriterLock(this.rootDir));
      // A refused lock is not remembered: the other writer may be gone by the next call.
      this.lock.catch(() => {
        this.lock = null;
      });
    }
    return this.lock;
  }

  private partitionWriters(topic: string): Promise<PartitionWriter[]> {
    let writers = this.writers.get(topic);
    if (writers === undefined) {
      writers = this.openWriters(topic);
      this.writers.set(topic, writers);
      writers.catch(() => this.writers.delete(topic));
    }
    return writers;
  }

  private async openWriters(topic: string): Promise<PartitionWriter[]> {
    const partitions = await readTopicPartitions(this.rootDir, topic);
    if (partitions === null) throw topicMissing(this.rootDir, topic);
    const writers: PartitionWriter[] = [];
    for (let partition = 0; partition < partitions; partition++) {
      const directory = partitionDirectory(this.rootDir, topic, partition);
      writers.push(await PartitionWriter.open(directory, this.options.segmentBytesMax));
    }
    return writers;
  }

  private async dropWriters(topic: string): Promise<void> {
    const writers = this.writers.get(topic);
    this.writers.delete(topic);
    const opened = (await writers?.catch(() => undefined)) ?? [];
    // Close every handle even if one close fails; the append's error is the one to report.
    await Promise.allSettled(opened.map((writer) => writer.close()));
  }

  /** The metadata file comes last: a topic.json promises that every partition exists. */
  private async createTopic(topic: string, partitions: number): Promise<void> {
    const directory = topicDirectory(this.rootDir, topic);
    await ensureDirectory(directory);
    for (let partition = 0; partition < partitions; partition++) {
      const partitionPath = partitionDirectory(this.rootDir, topic, partition);
      await ensureDirectory(partitionPath);
      // Flag 'a' keeps the segment of an earlier attempt that crashed before topic.json.
      const segment = await open(join(partitionPath, segmentFileName(0)), 'a');
      await segment.close();
      await writeCommitted(partitionPath, 0);
      await fsyncDirectory(partitionPath);
    }
    await fsyncDirectory(directory);
    await fsyncDirectory(this.rootDir);
    await writeTopicMetadata(this.rootDir, topic, partitions);
  }
}

function groupByPartition(
  records: readonly PublishRecord[],
  partitionCount: number,
  timestampMsDefault: number,
): Map<number, RecordInput[]> {
  const byPartition = new Map<number, RecordInput[]>();
  for (const record of records) {
    const { partition } = record;
    invariant(Number.isSafeInteger(partition), 'a record names its partition');
    if (partition < 0 || partition >= partitionCount) {
      invariant(false, `partition ${partition} exists (the topic has ${partitionCount})`);
    }
    invariant(Buffer.isBuffer(record.value), 'a published record has a value');
    let inputs = byPartition.get(partition);
    if (inputs === undefined) {
      inputs = [];
      byPartition.set(partition, inputs);
    }
    inputs.push(recordInputOf(record, timestampMsDefault));
  }
  return byPartition;
}
