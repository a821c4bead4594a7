// Proves the embedded log keeps what is published, exactly, at dense offsets: a round trip
// through real files in a temporary directory, read from the start and from the middle;
// segments rolling at a tiny size, with reads across them and seeks into a later one;
// the on-disk layout; ensureTopic never repartitioning; endOffsets. Each test opens its
// own log directory and removes it afterwards.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEmbeddedLog, type EmbeddedLog } from '../../src/log/embedded/index.ts';
import type { LogMessage, PublishRecord } from '../../src/log/types.ts';

let rootDir = '';
const opened: EmbeddedLog[] = [];

beforeEach(async () => {
  rootDir = join(await mkdtemp(join(tmpdir(), 'ledger-log-')), 'log');
});

afterEach(async () => {
  for (const log of opened.splice(0)) await log.producer.close();
  await rm(join(rootDir, '..'), { recursive: true, force: true });
});

function openLog(options: Parameters<typeof openEmbeddedLog>[1] = {}): EmbeddedLog {
  const log = openEmbeddedLog(rootDir, options);
  opened.push(log);
  return log;
}

/** Reads everything up to the current end, from the given start offsets, in one consume. */
async function readAll(
  log: EmbeddedLog,
  topic: string,
  startOffsets: (partition: number) => number = () => 0,
  batchMessagesMax = 1_000,
): Promise<LogMessage[]> {
  const messages: LogMessage[] = [];
  const consumer = log.consumer();
  await consumer.consume({
    topics: [topic],
    follow: false,
    signal: new AbortController().signal,
    batchMessagesMax,
    batchBytesMax: 1024 * 1024,
    startOffset: async ({ partition }) => startOffsets(partition),
    eachBatch: async (batch) => {
      messages.push(...batch.messages);
      return { nextOffset: batch.messages[batch.messages.length - 1]!.offset + 1 };
    },
  });
  await consumer.close();
  return messages;
}

function ofPartition(messages: LogMessage[], partition: number): LogMessage[] {
  return messages.filter((message) => message.partition === partition);
}

function record(partition: number, index: number, extra: Partial<PublishRecord> = {}) {
  return {
    key: Buffer.from(`key-${index}`),
    value: Buffer.from(JSON.stringify({ index, partition })),
    partition,
    timestampMs: 1_760_000_000_000 + index,
    ...extra,
  } satisfies PublishRecord;
}

async function segmentNames(partition = 0): Promise<string[]> {
  const names = await readdir(join(rootDir, 'events', `partition-${partition}`));
  return names.filter((name) => name.endsWith('.log')).sort();
}

describe('round trip', () => {
  it('returns keys, values, headers and timestamps exactly, at dense offsets', async () => {
    const log = openLog();
    expect(await log.producer.ensureTopic('events', 3)).toBe(3);
    const records: PublishRecord[] = [
      record(0, 0, {
        headers: [
          { key: 'trace', value: Buffer.from([0, 1, 255]) },
          { key: 'ünï', value: Buffer.alloc(0) },
        ],
      }),
      record(2, 1, { key: null }),
      record(0, 2, { value: Buffer.alloc(0), key: Buffer.alloc(0) }),
      record(1, 3, { value: Buffer.from([0xc3, 0x28, 0xff]) }),
    ];
    for (let index = 4; index < 40; index++) records.push(record(index % 3, index));
    await log.producer.publish('events', records);
    await log.producer.publish('events', [record(1, 40)]);

    const messages = await readAll(log, 'events');
    expect(messages).toHaveLength(41);
    for (const partition of [0, 1, 2]) {
      const published = [...records, record(1, 40)].filter((each) => each.partition === partition);
      const read = ofPartition(messages, partition);
      expect(read.map((message) => message.offset)).toEqual(published.map((_, offset) => offset));
      read.forEach((message, index) => {
        const source = published[index]!;
        expect(message.topic).toBe('events');
        expect(message.key).toEqual(source.key);
        expect(message.value).toEqual(source.value);
        expect(message.timestampMs).toBe(source.timestampMs);
        expect(message.headers).toEqual(source.headers ?? []);
      });
    }
    expect(await log.producer.endOffsets('events')).toEqual(new Map([[0, 14], [1, 14], [2, 13]]));
  });

  it('starts each partition at the offset startOffset gives, even at its very end', async () => {
    const log = openLog();
    await log.producer.ensureTopic('events', 2);
    const records = Array.from({ length: 20 }, (_, index) => record(index % 2, index));
    await log.producer.publish('events', records);
    const messages = await readAll(log, 'events', (partition) => (partition === 0 ? 4 : 10));
    expect(ofPartition(messages, 0).map((message) => message.offset)).toEqual([4, 5, 6, 7, 8, 9]);
    expect(ofPartition(messages, 1)).toEqual([]);
    expect(ofPartition(messages, 0)[0]!.value).toEqual(records[8]!.value);
  });

  it('stamps a record without a timestamp with the time of publishing', async () => {
    const log = openLog();
    await log.producer.ensureTopic('events', 1);
    const beforeMs = Date.now();
    await log.producer.publish('events', [{ key: null, value: Buffer.from('x'), partition: 0 }]);
    const [message] = await readAll(log, 'events');
    expect(message!.timestampMs).toBeGreaterThanOrEqual(beforeMs);
    expect(message!.timestampMs).toBeLessThanOrEqual(Date.now());
  });

  it('lays files out as documented: topic.json, partition folders, segment names', async () => {
    const log = openLog();
    await log.producer.ensureTopic('marketplace.events', 2);
    const topicDir = join(rootDir, 'marketplace.events');
    const metadata = JSON.parse(await readFile(join(topicDir, 'topic.json'), 'utf8'));
    expect(metadata).toEqual({ formatVersion: 1, partitions: 2 });
    expect((await readdir(topicDir)).sort()).toEqual(['partition-0', 'partition-1', 'topic.json']);
    const partitionFiles = (await readdir(join(topicDir, 'partition-0'))).sort();
    expect(partitionFiles).toEqual(['00000000000000000000.log', 'committed.bin']);
  });
});

describe('segments', () => {
  it('rolls past the segment size, names segments by base offset, reads across them', async () => {
    const log = openLog({ segmentBytesMax: 1_000 });
    await log.producer.ensureTopic('events', 1);
    const records = Array.from({ length: 100 }, (_, index) => record(0, index));
    await log.producer.publish('events', records.slice(0, 30));
    await log.producer.publish('events', records.slice(30));
    const segments = await segmentNames();
    expect(segments.length).toBeGreaterThan(5);
    expect(segments[0]).toBe('00000000000000000000.log');
    const bases = segments.map((name) => Number(name.slice(0, 20)));
    expect(bases).toEqual([...bases].sort((left, right) => left - right));

    const messages = await readAll(log, 'events', () => 0, 7);
    expect(messages.map((message) => message.offset)).toEqual(records.map((_, offset) => offset));
    expect(messages.map((message) => message.value)).toEqual(records.map((each) => each.value));

    // A seek into the middle of a later segment, not at its first record.
    const middle = bases[3]! + 2;
    const tail = await readAll(log, 'events', () => middle, 3);
    const expectedOffsets = records.slice(middle).map((_, index) => middle + index);
    expect(tail.map((message) => message.offset)).toEqual(expectedOffsets);
    expect(tail[0]!.value).toEqual(records[middle]!.value);
  });

  it('gives a record larger than a segment a segment of its own', async () => {
    const log = openLog({ segmentBytesMax: 500 });
    await log.producer.ensureTopic('events', 1);
    const large = Buffer.alloc(2_000, 7);
    await log.producer.publish('events', [
      record(0, 0),
      record(0, 1, { value: large }),
      record(0, 2),
    ]);
    const messages = await readAll(log, 'events');
    expect(messages.map((message) => message.value?.length)).toEqual([25, 2_000, 25]);
    expect(await segmentNames()).toEqual([
      '00000000000000000000.log',
      '00000000000000000001.log',
      '00000000000000000002.log',
    ]);
  });

  it('seeks through the sparse index of a large segment; every offset is reachable', async () => {
    const log = openLog({ indexIntervalBytes: 256 });
    await log.producer.ensureTopic('events', 1);
    const records = Array.from({ length: 500 }, (_, index) => record(0, index));
    await log.producer.publish('events', records);
    for (const start of [0, 1, 63, 64, 255, 498, 499, 500]) {
      const messages = await readAll(log, 'events', () => start, 1);
      expect(messages.map((message) => message.offset)[0] ?? 500, `start ${start}`).toBe(start);
      expect(messages).toHaveLength(500 - start);
    }
  });
});

describe('ensureTopic', () => {
  it('creates once, then returns the existing partition count and never repartitions', async () => {
    const log = openLog();
    expect(await log.producer.ensureTopic('events', 4)).toBe(4);
    expect(await log.producer.ensureTopic('events', 4)).toBe(4);
    expect(await log.producer.ensureTopic('events', 9)).toBe(4);
    await log.producer.close();
    opened.splice(0);
    expect(await openLog().producer.ensureTopic('events', 1)).toBe(4);
    const folders = await readdir(join(rootDir, 'events'));
    expect(folders.filter((name) => name.startsWith('partition-'))).toHaveLength(4);
  });

  it('refuses topic names that are not Kafka topic names, such as a path', async () => {
    const log = openLog();
    await expect(log.producer.ensureTopic('../escape', 1)).rejects.toThrow(/not valid/);
    await expect(log.producer.ensureTopic('events', 0)).rejects.toThrow(/partition count 0/);
  });

  it('reports a missing topic by name on publish, endOffsets and consume', async () => {
    const log = openLog();
    const missing = /topic "nope" does not exist/;
    await expect(log.producer.publish('nope', [record(0, 0)])).rejects.toThrow(missing);
    await expect(log.producer.endOffsets('nope')).rejects.toThrow(missing);
    await expect(readAll(log, 'nope')).rejects.toThrow(missing);
  });
});
