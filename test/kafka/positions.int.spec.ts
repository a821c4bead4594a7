// Where the Kafka consumer starts, and when it refuses to. PostgreSQL's stored offset is
// the truth; Kafka's committed offsets are a mirror. Shown on a real broker:
// - a consumer group whose Kafka offsets are already at the end (a mirror from another
//   database, an operator's reset) still projects everything: each partition seeks back
//   to the stored offset, and the journal equals the embedded-log run;
// - a partition whose first records were deleted (retention) below the stored offset is a
//   gap: the projector stops with a clear error naming the partition and the missing
//   offsets, and projects nothing, rather than let kafkajs jump over them;
// - a stored offset past the partition's end means the topic is not the one the journal
//   came from, and says so;
// - an unreachable broker is retried with backoff, each attempt said in a line, then
//   reported as such, naming KAFKA_BROKERS.
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { UserError } from '../../src/errors.ts';
import { generateEventStream } from '../../src/generator/index.ts';
import { createKafka } from '../../src/log/kafka/client.ts';
import { openKafkaLog, projectorGroupId } from '../../src/log/kafka/index.ts';
import { journalDigest } from '../support/journal-digest.ts';
import { createKafkaLedger, embeddedDigest, type KafkaLedger } from '../support/kafka.ts';
import { testApprover } from '../support/keys.ts';

const partitions = 3;
const lines = generateEventStream({ seed: 8, rentals: 200, month: '2026-10', approve: testApprover });

describe('where the Kafka consumer starts', () => {
  const ledgers: KafkaLedger[] = [];
  const ledger = async (name: string) => {
    const created = await createKafkaLedger({ partitions, name });
    ledgers.push(created);
    return created;
  };
  afterAll(async () => {
    await Promise.all(ledgers.map((l) => l.close()));
  });

  it('seeks back to the stored offsets when the group\'s Kafka offsets are ahead', async () => {
    const ahead = await ledger('ahead');
    const reference = embeddedDigest(ahead.topic, partitions, { lines });
    await ahead.publish(lines);
    const ends = await ahead.log.producer.endOffsets(ahead.topic);
    await withAdmin(ahead.brokers, (admin) => admin.setOffsets({
      groupId: projectorGroupId(ahead.config), topic: ahead.topic,
      partitions: [...ends].map(([partition, offset]) => ({ partition, offset: String(offset) })),
    }));
    const result = await ahead.project();
    expect(result.posted + result.duplicates + result.quarantined).toBe(lines.length);
    expect(await journalDigest(ahead.db.pool)).toEqual(await reference);
  });

  it('stops at a gap: records deleted below the stored offset are never skipped', async () => {
    const gap = await ledger('gap');
    await gap.publish(lines);
    await withAdmin(gap.brokers, async (admin) => {
      await admin.fetchTopicMetadata({ topics: [gap.topic] }); // deleteTopicRecords needs it loaded
      await admin.deleteTopicRecords({ topic: gap.topic, partitions: [{ partition: 1, offset: '5' }] });
    });
    const failure = await gap.project().then(() => null, (error: unknown) => error);
    expect(failure).toBeInstanceOf(UserError);
    expect((failure as UserError).code).toBe('log_gap');
    expect((failure as UserError).message).toContain(`log gap on ${gap.topic}/1`);
    expect((failure as UserError).message).toContain('offsets 0..4 are missing');
    expect(await gap.progress()).toBe(0);
  });

  it('refuses a stored offset past the end of the partition', async () => {
    const pastEnd = await ledger('past-end');
    await pastEnd.publish(lines);
    await pastEnd.db.adminPool.query(
      'INSERT INTO ledger.log_partitions (topic, partition, next_offset) VALUES ($1, 2, 1000000)', [pastEnd.topic]);
    const failure = await pastEnd.project().then(() => null, (error: unknown) => error);
    expect((failure as UserError).code).toBe('log_offset_out_of_range');
    expect((failure as UserError).message).toContain(`${pastEnd.topic}/2: the journal's next offset is 1000000`);
  });

  it('retries an unreachable broker with backoff, then names it', async () => {
    const port = await closedPort();
    const logged: string[] = [];
    const config = loadConfig({ KAFKA_BROKERS: `127.0.0.1:${port}`, LEDGER_TOPICS: 'nowhere', LEDGER_DATA_DIR: '/tmp' });
    const log = openKafkaLog(config, { reachTimeoutMs: 1_500, log: (line) => logged.push(line) });
    const consumer = log.consumer();
    const consuming = consumer.consume({
      topics: ['nowhere'], follow: false, signal: new AbortController().signal, batchMessagesMax: 10,
      batchBytesMax: 1_000, eachBatch: async () => ({ nextOffset: 0 }), startOffset: async () => 0,
    });
    const failure = await consuming.then(() => null, (error: unknown) => error);
    expect((failure as UserError).code).toBe('kafka_unreachable');
    expect((failure as UserError).message).toMatch(new RegExp(`cannot reach the Kafka broker\\(s\\) 127.0.0.1:${port} ` +
      '\\(KAFKA_BROKERS\\) after \\d+ attempts'));
    expect(logged.some((line) => /cannot reach .*; retrying in \d/.test(line))).toBe(true);
    await expect(log.producer.endOffsets('nowhere')).rejects.toThrow(/cannot reach the Kafka broker/);
    await log.producer.close();
  });
});

async function withAdmin<T>(
  brokers: string, work: (admin: ReturnType<ReturnType<typeof createKafka>['admin']>) => Promise<T>,
): Promise<T> {
  const admin = createKafka({ brokers: [brokers], clientId: 'ledger-test', log: () => undefined }).admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

/** A loopback port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
