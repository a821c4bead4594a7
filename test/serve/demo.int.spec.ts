// Demo data goes where it can do no harm. `ledger serve` with KAFKA_BROKERS and an empty
// topic publishes nothing (the topic's end offsets stay 0 once serve follows the log);
// `serve --demo` seeds it; `--no-demo` keeps even the embedded log empty. Real child
// processes of bin/ledger.mjs, the suite's broker, a fresh database and topic each; each
// serve is stopped with SIGTERM and must exit 0, saying it stopped.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openEmbeddedLog } from '../../src/log/embedded/index.ts';
import { createKafkaLedger, type KafkaLedger } from '../support/kafka.ts';
import { following, startServe, waitForLine } from './support.ts';

const sum = (ends: Map<number, number>) => [...ends.values()].reduce((a, b) => a + b, 0);

describe('demo data in `ledger serve`', () => {
  let ledger: KafkaLedger | undefined;
  afterEach(async () => {
    await ledger?.close();
    ledger = undefined;
  });

  it('publishes nothing into an empty Kafka topic by default', async () => {
    ledger = await createKafkaLedger({ partitions: 2, name: 'serve-no-demo' });
    const child = startServe(ledger);
    await waitForLine(child, /ledger: following the log|published \d+ demo events/, 'serve following the log');
    expect(child.stderr()).not.toMatch(/published \d+ demo events/);
    const ends = await ledger.log.producer.endOffsets(ledger.topic);
    expect([...ends.keys()].sort()).toEqual([0, 1]);
    expect(sum(ends)).toBe(0);
    expect(child.stderr()).toMatch(/demo events go into a Kafka topic only with `ledger serve --demo`/);
    child.kill('SIGTERM');
    const run = await child.exited;
    expect(run.stderr).toMatch(/ledger: stopped\n/);
    expect(run.code).toBe(0);
  });

  it('seeds an empty Kafka topic with --demo, and stops cleanly while projecting it', async () => {
    ledger = await createKafkaLedger({ partitions: 2, name: 'serve-demo' });
    const child = startServe(ledger, ['--demo']);
    await waitForLine(child, /published (\d+) demo events/, 'the demo published');
    const published = Number(/published (\d+) demo events/.exec(child.stderr())?.[1]);
    expect(published).toBeGreaterThan(1_000);
    expect(sum(await ledger.log.producer.endOffsets(ledger.topic))).toBe(published);
    child.kill('SIGTERM');
    const run = await child.exited;
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(0);
  });

  it('keeps the embedded log empty with --no-demo, and refuses --demo with --no-demo', async () => {
    ledger = await createKafkaLedger({ partitions: 2, name: 'serve-embedded' });
    const both = spawnSync(process.execPath, ['bin/ledger.mjs', 'serve', '--demo', '--no-demo'],
      { env: { ...ledger.env(), KAFKA_BROKERS: '' }, encoding: 'utf8' });
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/^ledger: ledger serve: --demo and --no-demo contradict each other; give one\n$/);

    const child = startServe(ledger, ['--no-demo'], { KAFKA_BROKERS: '' });
    await waitForLine(child, following, 'serve following the log');
    child.kill('SIGTERM');
    expect((await child.exited).code).toBe(0);
    const log = openEmbeddedLog(path.join(ledger.dataDir, 'log'));
    try {
      expect(sum(await log.producer.endOffsets(ledger.topic))).toBe(0);
    } finally {
      await log.producer.close();
    }
  });
});
