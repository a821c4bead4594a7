// The Kafka path end to end, at the size the issue asks for: a generated stream of over
// 100,000 events (bad ones mixed in) is published to a real broker with the real
// `ledger events publish` command (6 partitions, keys and partitions per EVENTS.md), and
// projected by the real `ledger project` command in a child process. The same lines go
// through the embedded log, uninterrupted, into another database, under the same topic
// name (entry ids derive from topic, partition and offset). The two journals must be
// identical entry for entry and hash for hash, pass `ledger verify`, and the offsets the
// projector mirrored to its Kafka consumer group must equal the ones PostgreSQL stores.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEventStream } from '../../src/generator/index.ts';
import { verifyLedger } from '../../src/integrity/verify.ts';
import { createKafka } from '../../src/log/kafka/client.ts';
import { projectorGroupId } from '../../src/log/kafka/index.ts';
import { journalDigest } from '../support/journal-digest.ts';
import { createKafkaLedger, embeddedDigest, startLedger, type Digest, type KafkaLedger } from '../support/kafka.ts';
import { testApprover } from '../support/keys.ts';

const partitions = 6;
const lines = generateEventStream({
  seed: 20261203, rentals: 12_000, month: '2026-10', badMessages: true, approve: testApprover,
});

describe('a 100,000-event stream on Kafka', () => {
  let ledger: KafkaLedger;
  let reference: Promise<Digest>;
  beforeAll(async () => {
    expect(lines.length).toBeGreaterThanOrEqual(100_000);
    ledger = await createKafkaLedger({ partitions, name: 'projection' });
    // The reference runs while the Kafka side publishes and projects.
    reference = embeddedDigest(ledger.topic, partitions, { lines });
    reference.catch(() => undefined);
  });
  afterAll(async () => {
    await reference?.catch(() => undefined);
    await ledger?.close();
  });

  it('projects to the same journal as the embedded log, and mirrors its offsets to the group', async () => {
    const file = path.join(ledger.dataDir, 'events.ndjson');
    await writeFile(file, `${lines.join('\n')}\n`);
    const published = await startLedger(ledger, ['events', 'publish', file, '--json']).exited;
    expect(published.stderr).not.toMatch(/internal error/);
    expect(published.code).toBe(0);
    expect(JSON.parse(published.stdout)).toEqual({ published: lines.length });
    const ends = await ledger.log.producer.endOffsets(ledger.topic);
    expect(ends.size).toBe(partitions);
    expect([...ends.values()].reduce((sum, n) => sum + n, 0)).toBe(lines.length);

    const projected = await startLedger(ledger, ['project', '--json']).exited;
    expect(projected.stderr).not.toMatch(/internal error/);
    expect(projected.code).toBe(0);
    const counts = JSON.parse(projected.stdout) as { posted: number; duplicates: number; quarantined: number };
    expect(counts.posted + counts.duplicates + counts.quarantined).toBe(lines.length);
    expect(counts.quarantined).toBeGreaterThan(0);

    expect(await journalDigest(ledger.db.pool)).toEqual(await reference);
    const report = await verifyLedger(ledger.db.pool);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(await mirroredOffsets(ledger)).toEqual(await ledger.storedOffsets());
    expect(await ledger.storedOffsets()).toEqual(ends);
  }, 300_000); // 100,000 events, projected twice: about 115 s on a slow 2-core machine
});

async function mirroredOffsets(ledger: KafkaLedger): Promise<Map<number, number>> {
  const kafka = createKafka({ brokers: [ledger.brokers], clientId: 'ledger-test', log: () => undefined });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [topic] = await admin.fetchOffsets({ groupId: projectorGroupId(ledger.config), topics: [ledger.topic] });
    return new Map(topic?.partitions.map((p) => [p.partition, Number(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}
