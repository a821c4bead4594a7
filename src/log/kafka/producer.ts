// The Kafka LogProducer. Every record goes to the partition the caller chose (publish.ts
// computes it with Kafka's murmur2, so the embedded log and Kafka agree); the partitioner
// below refuses a record without one rather than guess. Writes are acknowledged by all
// in-sync replicas and idempotent, so a retried produce does not duplicate a record.
// Topics are created explicitly with their partition count: the broker's auto-creation
// is off, as it should be in production, and a typo must fail rather than create.
import {
  CompressionTypes, type Admin, type ICustomPartitioner, type Kafka, type Message, type Producer,
} from 'kafkajs';
import { UserError, invariant } from '../../errors.ts';
import { limits } from '../../limits.ts';
import type { LogProducer, PublishRecord } from '../types.ts';
import { awaitBrokers, describeKafkaError, kafkaLimits, type KafkaClientOptions } from './client.ts';
import { sleepMs } from '../../sleep.ts';

/**
 * Bytes of values per partition in one produce request. The broker refuses a record batch
 * over message.max.bytes (1 MiB by default); this leaves room for keys and framing.
 */
export const sendPartitionBytesMax = 768 * 1024;
/** A topic this program creates gets at most this replication factor (fewer brokers, fewer). */
const replicationFactorMax = 3;
const topicCreateTimeoutMs = 30_000;

/** kafkajs's partitioner hook, used only to insist that the caller chose the partition. */
const explicitPartitioner: ICustomPartitioner = () => ({ message }) => {
  invariant(typeof message.partition === 'number', 'every published record names its partition');
  return message.partition;
};

export class KafkaProducer implements LogProducer {
  private connected: Promise<{ producer: Producer; admin: Admin }> | null = null;
  private readonly partitionCounts = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly client: KafkaClientOptions,
    /** How long the first call waits for an unreachable broker (default kafkaLimits.reachTimeoutMs). */
    private readonly reachTimeoutMs: number = kafkaLimits.reachTimeoutMs,
  ) {}

  async ensureTopic(topic: string, partitions: number): Promise<number> {
    if (!Number.isSafeInteger(partitions) || partitions < 1) {
      throw new UserError('log_partitions_invalid', `partition count ${partitions} is not a positive integer`);
    }
    const { admin } = await this.connect();
    const existing = await topicPartitionCount(admin, topic);
    if (existing !== null) return this.remember(topic, existing);
    const cluster = await admin.describeCluster();
    const replicationFactor = Math.min(replicationFactorMax, cluster.brokers.length);
    try {
      await admin.createTopics({
        topics: [{
          topic, numPartitions: partitions, replicationFactor,
          // With replicas, acks=all means "on two brokers at least" only if the topic says so.
          configEntries: [{ name: 'min.insync.replicas', value: String(Math.min(2, replicationFactor)) }],
        }],
        validateOnly: false,
        waitForLeaders: true,
        timeout: topicCreateTimeoutMs,
      });
    } catch (error) {
      // kafkajs waits for the leaders by asking for the new topic's metadata, and gives up
      // at once if the broker does not know the topic yet (UNKNOWN_TOPIC_OR_PARTITION),
      // which a busy KRaft broker answers for a moment after creating it (seen in a full
      // test run). The topic was created; it is waited for below.
      if (!isSettling(error)) throw error;
    }
    // Another producer may have created it first, with its own count: ask, don't assume.
    const created = await createdPartitionCount(admin, topic);
    // Returned only once every partition answers, so that callers may read offsets at once.
    await topicOffsets(admin, topic);
    return this.remember(topic, created);
  }

  async publish(topic: string, records: readonly PublishRecord[]): Promise<void> {
    invariant(records.length <= limits.publishLinesMax, 'a publish is bounded');
    if (records.length === 0) return;
    const { producer, admin } = await this.connect();
    const partitionCount = this.partitionCounts.get(topic) ?? await topicPartitionCount(admin, topic);
    if (partitionCount === null) throw topicMissing(topic);
    this.remember(topic, partitionCount);
    for (const messages of produceRequests(records, partitionCount)) {
      try {
        // Sequential sends, one in flight: each partition's records stay in file order.
        await producer.send({
          topic, messages, acks: -1, timeout: kafkaLimits.requestTimeoutMs, compression: CompressionTypes.None,
        });
      } catch (error) {
        throw new UserError('kafka_publish_failed', `publishing to ${topic} failed: ${describeKafkaError(error)}`);
      }
    }
  }

  async endOffsets(topic: string): Promise<Map<number, number>> {
    const { admin } = await this.connect();
    if ((await topicPartitionCount(admin, topic)) === null) throw topicMissing(topic);
    return new Map((await topicOffsets(admin, topic)).map((p) => [p.partition, p.high]));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const connected = await this.connected?.catch(() => null);
    if (connected === null || connected === undefined) return;
    await Promise.allSettled([connected.producer.disconnect(), connected.admin.disconnect()]);
  }

  private remember(topic: string, partitions: number): number {
    this.partitionCounts.set(topic, partitions);
    return partitions;
  }

  /** Connects on first use, so `ledger events publish --help`-like paths never dial out. */
  private connect(): Promise<{ producer: Producer; admin: Admin }> {
    invariant(!this.closed, 'a closed producer is not used');
    if (this.connected === null) {
      this.connected = this.open();
      this.connected.catch(() => { this.connected = null; });
    }
    return this.connected;
  }

  private async open(): Promise<{ producer: Producer; admin: Admin }> {
    await awaitBrokers({ ...this.client, timeoutMs: this.reachTimeoutMs });
    const producer = this.kafka.producer({
      createPartitioner: explicitPartitioner,
      allowAutoTopicCreation: false,
      idempotent: true,
      // The idempotent producer keeps order across retries only with one request in flight.
      maxInFlightRequests: 1,
      retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 5_000 },
      metadataMaxAge: 60_000,
    });
    const admin = this.kafka.admin({ retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 5_000 } });
    await producer.connect();
    await admin.connect();
    return { producer, admin };
  }
}

/** Partition leadership still settling: right after a topic is created, or a broker moved. */
const settlingErrorTypes = new Set([
  'NOT_LEADER_FOR_PARTITION', 'LEADER_NOT_AVAILABLE', 'UNKNOWN_TOPIC_OR_PARTITION',
  'FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH', 'REPLICA_NOT_AVAILABLE',
]);
const settlingAttemptsMax = 10;

/**
 * Calls `attempt` until it gives a value, while the broker is still settling (it answers
 * null, or fails with a settling error): bounded, with backoff. After the last attempt,
 * the last settling error is thrown, or `notSettled()` when there was none.
 */
async function whileSettling<T>(attempt: () => Promise<T | null>, notSettled: () => Error): Promise<T> {
  let backoffMs = 100;
  for (let attempts = 1; ; attempts++) {
    let lastError: unknown = null;
    try {
      const value = await attempt();
      if (value !== null) return value;
    } catch (error) {
      if (!isSettling(error)) throw error;
      lastError = error;
    }
    if (attempts >= settlingAttemptsMax) throw lastError ?? notSettled();
    await sleepMs(backoffMs);
    backoffMs = Math.min(backoffMs * 2, 2_000);
  }
}

/**
 * Each partition's log start (low) and end (high) offsets. kafkajs's fetchTopicOffsets
 * gives up at once on a partition whose leadership is still settling, which a topic has
 * for a moment after createTopics returns even on one broker; that is retried here.
 */
export async function topicOffsets(
  admin: Admin, topic: string,
): Promise<Array<{ partition: number; low: number; high: number }>> {
  const offsets = await whileSettling(() => admin.fetchTopicOffsets(topic),
    () => new Error(`topic ${topic}: no offsets`));
  return offsets.map((p) => ({
    partition: p.partition,
    low: offsetNumber(p.low, `${topic}/${p.partition} start`),
    high: offsetNumber(p.high, `${topic}/${p.partition} end`),
  }));
}

function isSettling(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (settlingErrorTypes.has((current as { type?: string }).type ?? '')) return true;
    current = (current as { cause?: unknown }).cause ?? (current as { originalError?: unknown }).originalError;
  }
  return false;
}

/**
 * The partition count of a topic this producer just asked to create, once the broker
 * lists it: a moment after the creation it may not yet.
 */
function createdPartitionCount(admin: Admin, topic: string): Promise<number> {
  return whileSettling(() => topicPartitionCount(admin, topic),
    () => new Error(`topic ${topic} was created, but the broker still does not list it after ${settlingAttemptsMax} attempts`));
}

/** The partition count of a topic, or null when the broker does not know it. */
export async function topicPartitionCount(admin: Admin, topic: string): Promise<number | null> {
  const topics = await admin.listTopics();
  if (!topics.includes(topic)) return null;
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  const partitions = metadata.topics[0]?.partitions.length ?? 0;
  invariant(partitions > 0, `topic ${topic} has partitions`);
  return partitions;
}

export function topicMissing(topic: string): UserError {
  return new UserError('log_topic_missing', `topic ${topic} does not exist on the Kafka cluster ` +
    '(KAFKA_BROKERS); publish to it first (`ledger events publish`), which creates it');
}

/**
 * Splits records into produce requests in which no partition carries more than
 * sendPartitionBytesMax of values, keeping each partition's records in order.
 */
export function produceRequests(records: readonly PublishRecord[], partitionCount: number): Message[][] {
  const requests: Message[][] = [];
  let current: Message[] = [];
  const bytesByPartition = new Map<number, number>();
  for (const record of records) {
    const { partition } = record;
    invariant(Number.isSafeInteger(partition), 'a record names its partition');
    if (partition < 0 || partition >= partitionCount) {
      invariant(false, `partition ${partition} exists (the topic has ${partitionCount})`);
    }
    const bytes = record.value.length + (record.key?.length ?? 0);
    const used = bytesByPartition.get(partition) ?? 0;
    if (current.length > 0 && used + bytes > sendPartitionBytesMax) {
      requests.push(current);
      current = [];
      bytesByPartition.clear();
    }
    bytesByPartition.set(partition, (bytesByPartition.get(partition) ?? 0) + bytes);
    current.push(toMessage(record));
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

function toMessage(record: PublishRecord): Message {
  const message: Message = { key: record.key, value: record.value, partition: record.partition };
  if (record.headers !== undefined) {
    // A header key may repeat; kafkajs carries repeats as an array, in order.
    const headers: Record<string, Buffer[]> = {};
    for (const header of record.headers) (headers[header.key] ??= []).push(header.value);
    message.headers = headers;
  }
  if (record.timestampMs !== undefined) message.timestamp = String(record.timestampMs);
  return message;
}

/** Kafka offsets arrive as strings; ours are safe integers (asserted, as the embedded log does). */
export function offsetNumber(value: string, what: string): number {
  const offset = Number(value);
  invariant(Number.isSafeInteger(offset), `${what} offset ${value} is a safe integer`);
  return offset;
}
