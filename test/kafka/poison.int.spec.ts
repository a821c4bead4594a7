// Poison messages on every partition of a Kafka topic, under a following projector: each
// partition gets, between two stretches of valid events, a message that is not UTF-8 JSON,
// one of an unknown type, and one that breaks a rule (a completion for a rental never
// captured). Each must be quarantined with its position and reason, none may stop its
// partition: the valid events after it are posted, and every partition's stored offset
// reaches its end. The records are placed on explicit partitions, so the embedded-log
// reference receives exactly the same records at the same positions, and the journals
// must be identical.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEventStream } from '../../src/generator/index.ts';
import { verifyLedger } from '../../src/integrity/verify.ts';
import { orderingKey } from '../../src/log/keys.ts';
import { partitionForKey } from '../../src/log/partitioner.ts';
import type { PublishRecord } from '../../src/log/types.ts';
import { journalDigest } from '../support/journal-digest.ts';
import { createKafkaLedger, embeddedDigest, waitUntil, type KafkaLedger } from '../support/kafka.ts';
import { testApprover } from '../support/keys.ts';

const partitions = 6;
const lines = generateEventStream({ seed: 606, rentals: 600, month: '2026-10', approve: testApprover });
const before = lines.slice(0, Math.floor(lines.length / 2)).map(placed);
const after = lines.slice(before.length).map(placed);
const poison = Array.from({ length: partitions }, (_, partition) => poisonFor(partition)).flat();
const expectedReasons = ['malformed_json', 'unknown_type', 'unknown_reference'];

describe('poison messages on every partition', () => {
  let ledger: KafkaLedger;
  beforeAll(async () => {
    ledger = await createKafkaLedger({ partitions, name: 'poison' });
    await ledger.log.producer.ensureTopic(ledger.topic, partitions);
  });
  afterAll(async () => ledger?.close());

  it('are quarantined with their positions while every partition keeps flowing', async () => {
    const reference = embeddedDigest(ledger.topic, partitions, { records: [...before, ...poison, ...after] });
    reference.catch(() => undefined);
    const controller = new AbortController();
    const projecting = ledger.project({ follow: true, signal: controller.signal });
    try {
      let published = 0;
      for (const records of [before, poison, after]) {
        await ledger.log.producer.publish(ledger.topic, records);
        published += records.length;
        const wanted = published;
        await waitUntil(`${wanted} messages projected`, async () => (await ledger.progress()) === wanted, 60_000, 50);
      }
    } finally {
      controller.abort();
    }
    const result = await projecting;
    expect(result.quarantined).toBe(poison.length);

    const ends = await ledger.log.producer.endOffsets(ledger.topic);
    expect(await ledger.storedOffsets()).toEqual(ends);
    const quarantined = await ledger.observer.query<{ partition: number; offset: string; reason: string }>(
      'SELECT partition, "offset", reason FROM ledger.quarantine ORDER BY partition, "offset"');
    const poisonOffsets = poisonPositions();
    expect(quarantined.rows.map((r) => `${r.partition}/${r.offset} ${r.reason}`))
      .toEqual(poisonOffsets.map((p, index) => `${p.partition}/${p.offset} ${expectedReasons[index % 3]}`));
    // After its poison, each partition posted valid events again.
    const lastPosted = await ledger.observer.query<{ partition: number; last: string }>(
      'SELECT partition, max("offset") AS last FROM ledger.journal_entries GROUP BY partition');
    for (const row of lastPosted.rows) {
      const lastPoison = Math.max(...poisonOffsets.filter((p) => p.partition === row.partition).map((p) => p.offset));
      expect(Number(row.last)).toBeGreaterThan(lastPoison);
    }
    expect(lastPosted.rows).toHaveLength(partitions);

    expect(await journalDigest(ledger.db.pool)).toEqual(await reference);
    const report = await verifyLedger(ledger.db.pool);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  });
});

/** A generated line on the partition the publish path would choose for it. */
function placed(line: string): PublishRecord {
  const value = Buffer.from(line, 'utf8');
  const key = orderingKey(value);
  return { key, value, partition: key === null ? 0 : partitionForKey(key, partitions) };
}

/** Not UTF-8, an unknown type, and a completion of a rental never captured. */
function poisonFor(partition: number): PublishRecord[] {
  const key = Buffer.from(`poison-${partition}`);
  const envelope = (type: string, data: Record<string, unknown>) => Buffer.from(JSON.stringify({
    event_id: randomUUID(), type, schema_version: 1, occurred_at: '2026-10-15T12:00:00Z', producer: 'poison', data,
  }));
  return [
    { key, partition, value: Buffer.concat([Buffer.from('{"event_id": "'), Buffer.from([0xc3, 0x28]), Buffer.from('"')]) },
    { key, partition, value: envelope('payment.teleported', { rental_id: `poison-${partition}` }) },
    {
      key, partition, value: envelope('rental.completed', {
        rental_id: `poison-rental-${partition}`, driver_id: 'driver-x', owner_id: 'owner-x', market: 'US-CA',
      }),
    },
  ];
}

/** Where the poison lands: after each partition's share of the first stretch. */
function poisonPositions(): { partition: number; offset: number }[] {
  return Array.from({ length: partitions }, (_, partition) => {
    const first = before.filter((r) => r.partition === partition).length;
    return [0, 1, 2].map((index) => ({ partition, offset: first + index }));
  }).flat();
}
