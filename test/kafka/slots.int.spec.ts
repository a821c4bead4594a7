// How the Kafka consumer shares its handler slots among partitions, on a real broker.
// kafkajs fetches again only when every batch of the last fetch is done, so the consumer
// takes every partition of a fetch at once and serves their chunks in turn through
// `partitionsConcurrently` slots: never more chunks in the handler, never two of one
// partition, and no partition drains its whole fetch while the others wait.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublishRecord } from '../../src/log/types.ts';
import { createKafkaLedger, type KafkaLedger } from '../support/kafka.ts';

const partitions = 6;
const messagesPerPartition = 60;
const chunkMessages = 10;

type Served = { partition: number; chunk: number };

describe('handler slots on a Kafka topic', () => {
  let ledger: KafkaLedger;
  beforeAll(async () => {
    ledger = await createKafkaLedger({ partitions, name: 'slots' });
    await ledger.log.producer.ensureTopic(ledger.topic, partitions);
    const records: PublishRecord[] = [];
    for (let index = 0; index < messagesPerPartition; index++) {
      for (let partition = 0; partition < partitions; partition++) {
        records.push({ key: null, value: Buffer.from(`p${partition}-${index}`), partition });
      }
    }
    await ledger.log.producer.publish(ledger.topic, records);
  });
  afterAll(async () => ledger?.close());

  /** Reads the whole topic from offset 0 with `slots` handler slots, chunk by chunk. */
  async function consumeAll(slots: number): Promise<{ served: Served[]; mostActive: number }> {
    const stored = new Map<number, number>();
    const active = new Set<number>();
    let mostActive = 0;
    const served: Served[] = [];
    const consumer = ledger.log.consumer();
    await consumer.consume({
      topics: [ledger.topic], follow: false, signal: new AbortController().signal,
      batchMessagesMax: chunkMessages, batchBytesMax: 1024 * 1024, partitionsConcurrently: slots,
      startOffset: async ({ partition }) => stored.get(partition) ?? 0,
      eachBatch: async (batch) => {
        expect(active.has(batch.partition)).toBe(false);
        active.add(batch.partition);
        mostActive = Math.max(mostActive, active.size);
        const first = batch.messages[0]!.offset;
        expect(first).toBe(stored.get(batch.partition) ?? 0);
        served.push({ partition: batch.partition, chunk: first / chunkMessages + 1 });
        await new Promise((resolve) => setTimeout(resolve, 5));
        const nextOffset = batch.messages[batch.messages.length - 1]!.offset + 1;
        stored.set(batch.partition, nextOffset);
        active.delete(batch.partition);
        return { nextOffset };
      },
    });
    await consumer.close();
    expect([...stored.values()]).toEqual(Array(partitions).fill(messagesPerPartition));
    expect(served).toHaveLength(partitions * (messagesPerPartition / chunkMessages));
    return { served, mostActive };
  }

  it('keeps up to partitionsConcurrently chunks in the handler, never two of one partition', async () => {
    const { mostActive } = await consumeAll(2);
    expect(mostActive).toBe(2);
  });

  it('serves the partitions of a fetch in turn, a chunk each, rather than one fetch whole', async () => {
    const { served } = await consumeAll(1);
    // Taken a partition at a time, five of every six chunks would follow one of the same
    // partition; in turn, that happens only when a fetch holds one partition's data.
    let repeats = 0;
    for (let index = 1; index < served.length; index++) {
      if (served[index]!.partition === served[index - 1]!.partition) repeats += 1;
    }
    expect(repeats).toBeLessThan(served.length / 2);
  });
});
