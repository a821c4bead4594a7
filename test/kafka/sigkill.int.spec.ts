// Exactly once through crashes, on Kafka: a generated stream (bad messages mixed in) is
// published to the suite's broker, then projected by the real `ledger project` command in
// child processes, each SIGKILLed at a random moment after it has committed something
// (so mid-batch, with transactions open and offsets not yet mirrored to the group), then
// run to the end. Every restart joins the same consumer group, finds Kafka's mirrored
// offsets behind or equal to the database's, and must seek to the database's. The journal
// must equal the uninterrupted embedded-log run, entry for entry, and pass verify.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEventStream } from '../../src/generator/index.ts';
import { verifyLedger } from '../../src/integrity/verify.ts';
import { journalDigest } from '../support/journal-digest.ts';
import { testApprover } from '../support/keys.ts';
import { mulberry32 } from '../support/prng.ts';
import {
  createKafkaLedger, embeddedDigest, startLedger, waitUntil, type Digest, type KafkaLedger,
} from '../support/kafka.ts';

const partitions = 6;
const killsWanted = 5;
const lines = generateEventStream({
  seed: 77, rentals: 4_500, month: '2026-10', badMessages: true, approve: testApprover,
});

describe('the Kafka projector killed with SIGKILL', () => {
  let ledger: KafkaLedger;
  let reference: Promise<Digest>;
  beforeAll(async () => {
    ledger = await createKafkaLedger({ partitions, name: 'sigkill' });
    reference = embeddedDigest(ledger.topic, partitions, { lines });
    reference.catch(() => undefined);
    await ledger.publish(lines);
  });
  afterAll(async () => {
    await reference?.catch(() => undefined);
    await ledger?.close();
  });

  it(`ends identical to the uninterrupted run after ${killsWanted} kills mid-batch`, async () => {
    const random = mulberry32(11);
    let kills = 0;
    for (let attempt = 0; attempt < killsWanted * 3 && kills < killsWanted; attempt++) {
      const before = await ledger.progress();
      if (before >= lines.length) break;
      const child = startLedger(ledger, ['project', '--json']);
      const committed = waitUntil('a commit by this child', async () => (await ledger.progress()) > before);
      committed.catch(() => undefined); // the child may exit first
      const outcome = await Promise.race([committed.then(() => 'committed'), child.exited.then(() => 'exited')]);
      let killedAt = lines.length;
      if (outcome === 'committed') {
        await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 100)));
        killedAt = await ledger.progress();
        child.kill('SIGKILL');
      }
      const run = await child.exited;
      // A kill counts when it came before the end: the child had work left in flight.
      if (run.signal === 'SIGKILL' && killedAt < lines.length) kills += 1;
      if (run.signal !== 'SIGKILL') expect(run.stderr).not.toMatch(/internal error/);
    }
    expect(kills).toBeGreaterThanOrEqual(killsWanted);

    const final = await startLedger(ledger, ['project', '--json']).exited;
    expect(final.stderr).not.toMatch(/internal error/);
    expect(final.code).toBe(0);
    expect(await ledger.progress()).toBe(lines.length);
    expect(await journalDigest(ledger.db.pool)).toEqual(await reference);
    const report = await verifyLedger(ledger.db.pool);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  }, 300_000); // process starts and a reference run: about 95 s on a slow 2-core machine
});
