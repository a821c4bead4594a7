// Two projector processes in one consumer group, one of them killed: its partitions must
// move to the survivor, which finishes them, and nothing is lost or doubled. Both run
// `ledger project --follow` on an empty topic until the group has split the partitions
// between them; only then is the stream published, so that both are projecting when one
// of them (B) is SIGKILLed, right after its first commit, while publishing goes on. The survivor (A) is told by the
// coordinator once B's session expires, rejoins with all six partitions, seeks each to
// the offset PostgreSQL stores (Kafka's mirror of B's progress may lag it), and finishes.
// A batch B had in flight either committed (A skips it under the partition's row lock) or
// rolled back (A projects it). SIGTERM then stops A cleanly (exit 0), and the journal must
// equal the uninterrupted embedded-log run. Both run with small batches
// (LEDGER_BATCH_MESSAGES), so that B's partitions take many commits and the kill lands
// mid-stream: at the default 5,000, each of B's partitions fits in one batch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEventStream } from '../../src/generator/index.ts';
import { verifyLedger } from '../../src/integrity/verify.ts';
import { journalDigest } from '../support/journal-digest.ts';
import { testApprover } from '../support/keys.ts';
import {
  createKafkaLedger, embeddedDigest, ownedPartitions, startLedger, waitUntil, type Digest, type KafkaLedger,
} from '../support/kafka.ts';

const partitions = 6;
const lines = generateEventStream({
  seed: 4242, rentals: 3_000, month: '2026-10', badMessages: true, approve: testApprover,
});

describe('two projectors in one group, one killed', () => {
  let ledger: KafkaLedger;
  let reference: Promise<Digest>;
  beforeAll(async () => {
    ledger = await createKafkaLedger({ partitions, name: 'rebalance' });
    reference = embeddedDigest(ledger.topic, partitions, { lines });
    reference.catch(() => undefined);
    await ledger.log.producer.ensureTopic(ledger.topic, partitions);
  });
  afterAll(async () => {
    await reference?.catch(() => undefined);
    await ledger?.close();
  });

  it('moves the killed member\'s partitions to the survivor and ends identical', async () => {
    const smallBatches = { LEDGER_BATCH_MESSAGES: '250' };
    const a = startLedger(ledger, ['project', '--follow', '--json'], smallBatches);
    const b = startLedger(ledger, ['project', '--follow', '--json'], smallBatches);
    try {
      await waitUntil('the group to split the partitions between A and B', () => {
        const [ownedByA, ownedByB] = [ownedPartitions(a.stderr()), ownedPartitions(b.stderr())];
        if (ownedByA === null || ownedByB === null || ownedByA.length === 0 || ownedByB.length === 0) return false;
        return [...ownedByA, ...ownedByB].sort().join() === '0,1,2,3,4,5';
      }, 60_000, 50);
      const ownedByB = ownedPartitions(b.stderr()) ?? [];

      // B is killed while the stream is still being published, right after its first commit.
      const publishing = ledger.publish(lines);
      publishing.catch(() => undefined); // awaited below
      const progressOfB = async () => {
        const stored = await ledger.storedOffsets();
        return ownedByB.reduce((sum, p) => sum + (stored.get(p) ?? 0), 0);
      };
      await waitUntil('B to commit a batch', async () => (await progressOfB()) > 0, 60_000, 5);
      b.kill('SIGKILL');
      const bAtKill = await progressOfB();
      await publishing;
      const ends = await ledger.log.producer.endOffsets(ledger.topic);
      const bTotal = ownedByB.reduce((sum, p) => sum + (ends.get(p) ?? 0), 0);
      expect(bAtKill).toBeLessThan(bTotal);
      expect((await b.exited).signal).toBe('SIGKILL');

      await waitUntil('A to finish every partition', async () => (await ledger.progress()) === lines.length, 90_000, 100);
      expect(ownedPartitions(a.stderr())).toEqual([0, 1, 2, 3, 4, 5]);
      a.kill('SIGTERM');
      const runA = await a.exited;
      expect(runA.stderr).not.toMatch(/internal error/);
      expect(runA.code).toBe(0);
      expect(JSON.parse(runA.stdout)).toMatchObject({ watermark: expect.any(Object) });
    } finally {
      a.kill('SIGKILL');
      b.kill('SIGKILL');
    }
    expect(await ledger.storedOffsets()).toEqual(await ledger.log.producer.endOffsets(ledger.topic));
    expect(await journalDigest(ledger.db.pool)).toEqual(await reference);
    const report = await verifyLedger(ledger.db.pool);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  });
});
