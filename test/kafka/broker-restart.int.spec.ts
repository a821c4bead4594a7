// The broker stopped and restarted under a running projector. This test starts a broker
// of its own (the suite's is shared). Half the stream is published and `ledger project
// --follow` starts on it; once it has committed something, the broker is stopped and
// started again on the same port and data while the projector is mid-stream. kafkajs loses
// its connections, retries, and (if the outage outlasts its retries) crashes and is
// restarted by the consumer; either way it rejoins the group and resumes from the offsets
// PostgreSQL stores. The second half is published after the restart by the same producer,
// the projector catches up, SIGTERM stops it cleanly, and the journal must equal the
// uninterrupted embedded-log run of the whole stream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEventStream } from '../../src/generator/index.ts';
import { verifyLedger } from '../../src/integrity/verify.ts';
import type { KafkaBroker } from '../../tools/kafka-broker/broker.ts';
import { journalDigest } from '../support/journal-digest.ts';
import { testApprover } from '../support/keys.ts';
import {
  createKafkaLedger, embeddedDigest, startLedger, startTestBroker, waitUntil, type Digest, type KafkaLedger,
} from '../support/kafka.ts';

const partitions = 6;
const lines = generateEventStream({
  seed: 9001, rentals: 3_000, month: '2026-10', badMessages: true, approve: testApprover,
});
const half = Math.floor(lines.length / 2);

describe('the broker restarted mid-stream', () => {
  let broker: KafkaBroker;
  let ledger: KafkaLedger;
  let reference: Promise<Digest>;
  beforeAll(async () => {
    broker = await startTestBroker({ log: (line) => process.stderr.write(`[kafka restart test] ${line}\n`) });
    ledger = await createKafkaLedger({ partitions, name: 'restart', brokers: broker.brokers });
    reference = embeddedDigest(ledger.topic, partitions, { lines });
    reference.catch(() => undefined);
    await ledger.publish(lines.slice(0, half));
  });
  afterAll(async () => {
    await reference?.catch(() => undefined);
    await ledger?.close();
    await broker?.stop();
  });

  // The test's own time covers its waits (60 s, the restart, 120 s), so that a stall ends
  // in waitUntil's message with the projector's log rather than in vitest's timeout.
  it('keeps projecting through the restart and ends identical', { timeout: 240_000 }, async () => {
    const child = startLedger(ledger, ['project', '--follow', '--json']);
    const withLog = (error: unknown) => new Error(`${(error as Error).message}; the projector's log ends:\n` +
      child.stderr().slice(-6_000));
    try {
      await waitUntil('a first commit', async () => (await ledger.progress()) > 0, 60_000, 5).catch((error: unknown) => {
        throw withLog(error);
      });
      await broker.restart();
      const afterRestart = await ledger.progress();
      await ledger.publish(lines.slice(half));
      await waitUntil('the whole stream projected', async () => (await ledger.progress()) === lines.length, 120_000, 100)
        .catch((error: unknown) => { throw withLog(error); });
      // The restart came mid-stream: there was work left for after it.
      expect(afterRestart).toBeLessThan(lines.length);
      child.kill('SIGTERM');
      const run = await child.exited;
      expect(run.stderr).not.toMatch(/internal error/);
      expect(run.code).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    expect(await ledger.storedOffsets()).toEqual(await ledger.log.producer.endOffsets(ledger.topic));
    expect(await journalDigest(ledger.db.pool)).toEqual(await reference);
    const report = await verifyLedger(ledger.db.pool);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  });
});
