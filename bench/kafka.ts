// Events per second from a real Kafka broker to the committed, hashed journal, against two
// references measured in the same run on the same PostgreSQL server: the embedded-log
// path (same events, same partitions, same projector, a database of its own) and a plain
// COPY of the same rows that path wrote into bare tables (support.ts sameRowsBaseline).
// The 200,000 events are published
// before the clock starts. The Kafka figure is printed twice: from consume() to the last
// commit (so including the consumer group's join), and from the moment the group was
// joined (the consumer's "joined group" line) to the last commit, which the ratio uses:
// the join is a fixed cost of a few seconds at start-up, not a rate. KAFKA_BROKERS picks a broker;
// unset, one is started from tools/kafka-broker and stopped at the end.
import path from 'node:path';
import { loadConfig } from '../src/config.ts';
import type { Pool } from '../src/db/database.ts';
import { generateEventStream } from '../src/generator/index.ts';
import { openEmbeddedLog } from '../src/log/embedded/index.ts';
import { openKafkaLog } from '../src/log/kafka/index.ts';
import type { LogConsumer } from '../src/log/types.ts';
import { publishLines } from '../src/log/publish.ts';
import { runProjector, type ProjectorResult } from '../src/projector/projector.ts';
import { startKafkaBroker, type KafkaBroker } from '../tools/kafka-broker/broker.ts';
import { decisionFloor, floorLines, journalSchemaFloor } from './floors.ts';
import {
  benchApprover, benchDatabase, benchTrustedKeys, cpuPerItemLine, cpuSnapshot, nowMs, oneRowPerEventCopy, perSecond, processCpuUs, profiled, projectorConnections, projectorThreads, sameRowsBaseline,
} from './support.ts';

const eventsWanted = 200_000;
const partitions = 6;
const topic = `bench.kafka.${Date.now()}`;

export async function benchKafka(): Promise<void> {
  const lines = generateEventStream({ seed: 42, rentals: 26_000, month: '2026-10', approve: benchApprover })
    .slice(0, eventsWanted);
  const broker = await brokerForBench();
  const db = await benchDatabase();
  try {
    const kafkaDb = await db.sibling('kafka');
    const config = loadConfig({ DATABASE_URL: kafkaDb.url, LEDGER_DATA_DIR: db.dataDir, KAFKA_BROKERS: broker.brokers,
      LEDGER_TOPICS: topic, LEDGER_PARTITIONS: String(partitions) });
    let joinedAtMs: number | undefined;
    const kafka = openKafkaLog(config, {
      log: (line) => {
        if (line.startsWith('kafka: joined group')) joinedAtMs ??= nowMs();
        process.stderr.write(`[kafka] ${line}\n`);
      },
    });
    const publishStarted = nowMs();
    await publishLines(kafka.producer, topic, partitions, lines);
    const publishMs = nowMs() - publishStarted;
    await kafka.producer.close();
    const embedded = openEmbeddedLog(path.join(db.dataDir, 'log'));
    await publishLines(embedded.producer, topic, partitions, lines);
    await embedded.producer.close();

    const oneRowMs = await oneRowPerEventCopy(db.adminPool, topic, partitions, lines);
    const brokerCpu = async (): Promise<number | undefined> => {
      const pid = broker.pid();
      return pid === undefined ? undefined : processCpuUs(pid);
    };
    // Each path starts on a server with no dirty buffers. Without this the Kafka path, run
    // second, found shared_buffers full of the embedded run's dirty pages (550 MB written,
    // no checkpoint due for 15 min) and wrote them out itself: its backends wrote 90 MB and
    // evicted 15,000 buffers where the embedded run's wrote and evicted none (pg_stat_io).
    await db.adminPool.query('CHECKPOINT');
    const embeddedCpuBefore = await cpuSnapshot(db.adminPool);
    const brokerCpuBefore = await brokerCpu();
    const embeddedRun = await timedProjection(db.serviceUrl, db.pool, embedded.consumer(), 'embedded');
    const embeddedCpuAfter = await cpuSnapshot(db.adminPool);
    const brokerCpuBetween = await brokerCpu();
    // As in projector.ts between its two runs: the embedded run's rows are vacuumed and
    // analysed now, so autovacuum does not do it on the same server during the Kafka run
    // (its CPU is the server's, counted against that run, and it takes a core).
    await db.adminPool.query('VACUUM (ANALYZE)');
    await db.adminPool.query('CHECKPOINT');
    const kafkaCpuBefore = await cpuSnapshot(db.adminPool);
    const brokerCpuKafkaBefore = await brokerCpu();
    const kafkaRun = await timedProjection(kafkaDb.serviceUrl, kafkaDb.pool, kafka.consumer(), 'kafka');
    const kafkaCpuAfter = await cpuSnapshot(db.adminPool);
    const brokerCpuAfter = await brokerCpu();
    if (joinedAtMs === undefined) throw new Error('the Kafka consumer never said it joined its group');
    const kafkaJoinedMs = kafkaRun.endedMs - joinedAtMs;
    if (kafkaRun.result.posted !== embeddedRun.result.posted) {
      throw new Error(`the two paths disagree: ${kafkaRun.result.posted} vs ${embeddedRun.result.posted} entries`);
    }
    const kafkaWithJoinPerSecond = perSecond(lines.length, kafkaRun.ms);
    const kafkaPerSecond = perSecond(lines.length, kafkaJoinedMs);
    const embeddedPerSecond = perSecond(lines.length, embeddedRun.ms);
    // As in projector.ts: no autovacuum of the run's rows during the measurements below.
    await db.adminPool.query('VACUUM (ANALYZE)');
    await kafkaDb.adminPool.query('VACUUM (ANALYZE)');
    const baseline = await sameRowsBaseline(db.adminPool, projectorConnections);
    const baselinePerSecond = perSecond(lines.length, baseline.ms);
    const schemaFloor = await journalSchemaFloor(db.adminPool, (await db.sibling('floor')).pool, projectorConnections, lines.length);
    const definingDecisions = await decisionFloor(topic, partitions, lines, 'defining');
    const decisions = await decisionFloor(topic, partitions, lines, 'hot');
    const oneRowPerSecond = perSecond(lines.length, oneRowMs);
    const { result } = kafkaRun;
    process.stdout.write([
      `data: ${lines.length} events over ${partitions} partitions on Kafka ${broker.version} → ${result.posted} ` +
        `entries, ${result.duplicates} duplicates, ${result.quarantined} quarantined`,
      `publish (before the clock): ${publishMs} ms, ${perSecond(lines.length, publishMs)} events/s, acks=all, idempotent`,
      `baseline: COPY of the same ${baseline.rows} rows (${baseline.rowsByTable}) into bare tables on ` +
        `${projectorConnections} connections: ${baseline.ms} ms, ${baselinePerSecond} events/s`,
      `embedded log → journal: ${embeddedRun.ms} ms, ${embeddedPerSecond} events/s`,
      `kafka → journal, from the group joined: ${kafkaJoinedMs} ms, ${kafkaPerSecond} events/s ` +
        `(with the join: ${kafkaRun.ms} ms, ${kafkaWithJoinPerSecond} events/s)`,
      `ratio kafka/embedded: ${(kafkaPerSecond / embeddedPerSecond).toFixed(2)} (target ≥ 0.9; with the join ` +
        `${(kafkaWithJoinPerSecond / embeddedPerSecond).toFixed(2)})`,
      `ratio kafka/baseline: ${(kafkaPerSecond / baselinePerSecond).toFixed(2)}`,
      `embedded: ${cpuPerItemLine(embeddedCpuBefore, embeddedCpuAfter, lines.length, 'event')}`,
      `kafka (with the join; the broker's own CPU not counted): ` +
        cpuPerItemLine(kafkaCpuBefore, kafkaCpuAfter, lines.length, 'event'),
      ...brokerCpuLine(brokerCpuBefore, brokerCpuBetween, brokerCpuKafkaBefore, brokerCpuAfter, lines.length,
        embeddedRun.ms, kafkaRun.ms),
      `reference: COPY of one row per event (position and bytes) on one connection: ${oneRowMs} ms, ` +
        `${oneRowPerSecond} rows/s; ratio kafka/that ${(kafkaPerSecond / oneRowPerSecond).toFixed(2)}`,
      ...floorLines(decisions, schemaFloor, definingDecisions),
    ].join('\n') + '\n');
  } finally {
    await db.close();
    await broker.stop();
  }
}

/**
 * The broker's JVM shares the cores with the projector and PostgreSQL: its CPU while the
 * Kafka path runs is what that path costs beyond the figures above (while the embedded
 * path runs it idles, which is printed as the reference). Only for a broker started here.
 */
function brokerCpuLine(
  embeddedBefore: number | undefined, embeddedAfter: number | undefined,
  kafkaBefore: number | undefined, kafkaAfter: number | undefined,
  events: number, embeddedMs: number, kafkaMs: number,
): string[] {
  if (embeddedBefore === undefined || embeddedAfter === undefined || kafkaBefore === undefined ||
    kafkaAfter === undefined) return [];
  const share = (us: number, ms: number) => `${((us / 1000 / ms) * 100).toFixed(0)}% of one core`;
  return [`broker JVM cpu: during the kafka run ${((kafkaAfter - kafkaBefore) / events).toFixed(0)} µs per event ` +
    `(${share(kafkaAfter - kafkaBefore, kafkaMs)}); idle during the embedded run ` +
    `${share(embeddedAfter - embeddedBefore, embeddedMs)}`];
}

async function timedProjection(
  url: string, pool: Pool, consumer: LogConsumer, label: string,
): Promise<{ ms: number; endedMs: number; result: ProjectorResult }> {
  const started = nowMs();
  try {
    const result = await profiled(() => runProjector({
      pool, consumer, topics: [topic], follow: false, signal: new AbortController().signal,
      trustedKeys: benchTrustedKeys,
      threads: { count: projectorThreads, databaseUrl: url, databaseRole: null },
    }), label);
    const endedMs = nowMs();
    return { ms: endedMs - started, endedMs, result };
  } finally {
    await consumer.close();
  }
}

type BenchBroker = { brokers: string; version: string; pid(): number | undefined; stop(): Promise<void> };

async function brokerForBench(): Promise<BenchBroker> {
  const given = process.env.KAFKA_BROKERS?.trim();
  if (given !== undefined && given !== '') return { brokers: given, version: 'given', pid: () => undefined, stop: async () => undefined };
  const log = (line: string) => process.stderr.write(`[kafka] ${line}\n`);
  // tools/kafka-broker's random cluster id can begin with '-', which the format step
  // mistakes for an option (one start in 64); a second attempt draws a new id.
  let broker: KafkaBroker | undefined;
  for (let attempt = 1; broker === undefined; attempt++) {
    broker = await startKafkaBroker({ log }).catch((error: unknown) => {
      if (attempt >= 3) throw error;
      return undefined;
    });
  }
  return broker;
}
