// Proves that kafkajs 2.2.4 works with the Kafka version we pin (KAFKA_VERSION): every
// client call the Kafka path relies on runs against a real single-node KRaft broker
// started by tools/kafka-broker, with no mock. The steps run in order as one scenario
// on one topic: create it explicitly (auto-create is off), produce keyed messages,
// read them in a group with manual commits, seek, commit and fetch offsets, read the
// watermarks, then restart the broker and read a message written before the restart.
import {
  Kafka,
  Partitioners,
  logLevel,
  type Admin,
  type Consumer,
  type Producer,
} from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KAFKA_VERSION, startKafkaBroker, type KafkaBroker } from '../../tools/kafka-broker/broker.ts';

const PARTITIONS = 6;
const MESSAGES = 60;
const KEYS = 12;
const WAIT_TIMEOUT_MS = 30_000;
const WAIT_POLL_MS = 50;

interface ReadRecord {
  partition: number;
  offset: number;
  key: string;
  value: string;
}

function kafkaClient(brokers: string, clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: [brokers],
    // Transient coordinator-loading errors are retried by kafkajs and are noise here.
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2_000 },
  });
}

function groupConsumer(kafka: Kafka, groupId: string): Consumer {
  return kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    sessionTimeout: 10_000,
    rebalanceTimeout: 10_000,
    heartbeatInterval: 1_000,
    // A short fetch wait keeps each step of the test fast once the data is there.
    maxWaitTimeInMs: 100,
  });
}

/** Runs the consumer with manual commits and collects every record it is handed. */
async function collectInto(consumer: Consumer, records: ReadRecord[]): Promise<void> {
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: true,
    partitionsConsumedConcurrently: 1,
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) {
        records.push({
          partition: batch.partition,
          offset: Number(message.offset),
          key: message.key?.toString() ?? '',
          value: message.value?.toString() ?? '',
        });
      }
    },
  });
}

/** Polls a condition on collected records, bounded by WAIT_TIMEOUT_MS. */
async function waitFor(description: string, condition: () => boolean): Promise<void> {
  const attemptsMax = WAIT_TIMEOUT_MS / WAIT_POLL_MS;
  for (let attempt = 0; attempt < attemptsMax; attempt++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
  }
  throw new Error(`timed out after ${WAIT_TIMEOUT_MS} ms waiting for ${description}`);
}

function keyedMessages(count: number): { key: string; value: string }[] {
  return Array.from({ length: count }, (_, seq) => ({ key: `account-${seq % KEYS}`, value: `event-${seq}` }));
}

function countByPartition(records: ReadRecord[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const record of records) counts.set(record.partition, (counts.get(record.partition) ?? 0) + 1);
  return counts;
}

describe(`kafkajs 2.2.4 against a real Kafka ${KAFKA_VERSION} broker (KRaft, one node)`, () => {
  const topic = `ledger-compat-${Date.now()}`;
  const groupId = `${topic}-group`;
  const records: ReadRecord[] = [];
  let broker: KafkaBroker;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  let consumer: Consumer;

  beforeAll(async () => {
    broker = await startKafkaBroker({ log: (line) => process.stderr.write(`[kafka] ${line}\n`) });
    kafka = kafkaClient(broker.brokers, 'ledger-compat');
    admin = kafka.admin({ retry: { retries: 8 } });
    await admin.connect();
    producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      idempotent: false,
    });
    await producer.connect();
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await producer?.disconnect();
    await admin?.disconnect();
    await broker?.stop();
  });

  it('creates a topic with 6 partitions only when asked, since auto-create is off', async () => {
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
      waitForLeaders: true,
      timeout: 10_000,
    });
    expect(created).toBe(true);
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]?.partitions).toHaveLength(PARTITIONS);

    // Even a client that asks for auto-creation is refused: a mistyped topic fails.
    const eager = kafkaClient(broker.brokers, 'ledger-compat-eager').producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: true,
      retry: { retries: 1 },
    });
    await eager.connect();
    try {
      await expect(eager.send({ topic: `${topic}-typo`, messages: [{ value: 'x' }] })).rejects.toThrow(
        /does not host this topic-partition/,
      );
    } finally {
      await eager.disconnect();
    }
    expect(await admin.listTopics()).not.toContain(`${topic}-typo`);
  });

  it('routes keyed messages with the DefaultPartitioner and reads them all back with eachBatch', async () => {
    await producer.send({ topic, acks: -1, timeout: 10_000, messages: keyedMessages(MESSAGES) });
    consumer = groupConsumer(kafka, groupId);
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await collectInto(consumer, records);
    await waitFor(`${MESSAGES} records`, () => records.length >= MESSAGES);

    expect(records).toHaveLength(MESSAGES);
    const partitionByKey = new Map<string, Set<number>>();
    for (const record of records) {
      const partitions = partitionByKey.get(record.key) ?? new Set<number>();
      partitions.add(record.partition);
      partitionByKey.set(record.key, partitions);
    }
    expect(partitionByKey.size).toBe(KEYS);
    for (const partitions of partitionByKey.values()) expect(partitions.size).toBe(1);
    expect(countByPartition(records).size).toBeGreaterThan(1);
    // Within a key, order is the order of production.
    for (const key of partitionByKey.keys()) {
      const seqs = records.filter((r) => r.key === key).map((r) => Number(r.value.slice('event-'.length)));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    // autoCommit: false is honoured: reading alone committed nothing.
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(committed?.partitions.map((p) => p.offset)).toEqual(Array.from({ length: PARTITIONS }, () => '-1'));
  });

  it('seeks to a specific offset and re-reads from there', async () => {
    const [busiest] = [...countByPartition(records).entries()].sort((a, b) => b[1] - a[1]);
    if (busiest === undefined) throw new Error('no partition received records');
    const [partition, count] = busiest;
    expect(count).toBeGreaterThan(2);
    const readBefore = records.length;
    consumer.seek({ topic, partition, offset: '2' });
    const reread = (): ReadRecord[] => records.slice(readBefore).filter((r) => r.partition === partition);
    await waitFor(`re-read of partition ${partition} from offset 2`, () => reread().length >= count - 2);
    expect(reread().map((r) => r.offset)).toEqual(Array.from({ length: count - 2 }, (_, i) => i + 2));
  });

  it('commits offsets with commitOffsets, reads them back with fetchOffsets, and resumes from them', async () => {
    const commits = Array.from({ length: PARTITIONS }, (_, partition) => ({
      topic,
      partition,
      offset: String(Math.min(1, countByPartition(records).get(partition) ?? 0)),
    }));
    await consumer.commitOffsets(commits);
    const [fetched] = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(fetched?.partitions).toHaveLength(PARTITIONS);
    const fetchedByPartition = new Map(fetched?.partitions.map((p) => [p.partition, p.offset]));
    for (const commit of commits) expect(fetchedByPartition.get(commit.partition)).toBe(commit.offset);

    // A new member of the group starts at the committed offsets, not at the beginning.
    await consumer.disconnect();
    records.length = 0;
    consumer = groupConsumer(kafka, groupId);
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const skipped = commits.reduce((sum, commit) => sum + Number(commit.offset), 0);
    await collectInto(consumer, records);
    await waitFor(`${MESSAGES - skipped} records after the commits`, () => records.length >= MESSAGES - skipped);
    for (const record of records) expect(record.offset).toBeGreaterThanOrEqual(Number(commits[record.partition]?.offset));
    expect(records).toHaveLength(MESSAGES - skipped);
  });

  it('reports each partition\'s watermarks with fetchTopicOffsets', async () => {
    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets).toHaveLength(PARTITIONS);
    expect(offsets.reduce((sum, p) => sum + Number(p.high), 0)).toBe(MESSAGES);
    for (const p of offsets) expect(p.low).toBe('0');
  });

  it('keeps a message produced before a broker restart readable after it, on the same port', async () => {
    await producer.send({ topic, acks: -1, timeout: 10_000, messages: [{ key: 'account-restart', value: 'before-restart' }] });
    const before = await admin.fetchTopicOffsets(topic);
    await consumer.disconnect();
    await producer.disconnect();
    await admin.disconnect();

    const brokersBefore = broker.brokers;
    await broker.restart();
    expect(broker.brokers).toBe(brokersBefore);

    admin = kafka.admin({ retry: { retries: 8 } });
    await admin.connect();
    expect(await admin.fetchTopicOffsets(topic)).toEqual(expect.arrayContaining(before));
    const afterRecords: ReadRecord[] = [];
    consumer = groupConsumer(kafka, `${groupId}-after-restart`);
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await collectInto(consumer, afterRecords);
    await waitFor('the pre-restart message', () => afterRecords.some((r) => r.value === 'before-restart'));
    await waitFor(`${MESSAGES + 1} records after restart`, () => afterRecords.length >= MESSAGES + 1);
    expect(afterRecords).toHaveLength(MESSAGES + 1);
    // Committed offsets are broker state too, and survived.
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(committed?.partitions).toHaveLength(PARTITIONS);
    expect(committed?.partitions.every((p) => p.offset !== '-1')).toBe(true);
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await producer.connect();
  });
});
