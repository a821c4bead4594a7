// Starts what the whole suite needs, once: a PostgreSQL server and a Kafka broker.
// PostgreSQL: DATABASE_URL when set (CI machines have one on 127.0.0.1:5432), else an
// embedded server in a temporary directory, with durability settings off because a test
// never outlives its server. Kafka: KAFKA_BROKERS when set, else one real KRaft broker
// from tools/kafka-broker (jars cached between runs, fresh storage per run), stopped at
// teardown. Tests that stop or restart a broker start their own with startKafkaBroker.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';
import { clusterHomeOf } from '../support/embedded-cluster.ts';
import { startTestBroker } from '../support/kafka.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    /** Bootstrap address of the suite's Kafka broker, `host:port[,host:port…]`. */
    kafkaBrokers: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Both start at once (each takes a few seconds); if one fails, the other is stopped.
  const started = await Promise.allSettled([startPostgres(project), startKafka(project)]);
  const stops = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stopAll = async () => {
    await Promise.allSettled(stops.map((stop) => stop()));
  };
  const failed = started.find((s) => s.status === 'rejected');
  if (failed !== undefined) {
    await stopAll();
    throw failed.reason;
  }
  return stopAll;
}

async function startPostgres(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.DATABASE_URL;
  if (given !== undefined && given !== '') {
    project.provide('adminDatabaseUrl', given);
    return async () => undefined;
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ledger-test-pg-'));
  const server = await startEmbeddedPostgres(dataDir, {
    log: () => undefined,
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
    databaseName: 'postgres',
  });
  project.provide('adminDatabaseUrl', server.url);
  return async () => {
    await server.stop();
    // As root the cluster may live outside the data dir (pg-location says where).
    const home = await clusterHomeOf(dataDir);
    if (home !== dataDir) await rm(home, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  };
}

async function startKafka(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.KAFKA_BROKERS;
  if (given !== undefined && given.trim() !== '') {
    project.provide('kafkaBrokers', given.trim());
    return async () => undefined;
  }
  const broker = await startTestBroker({ log: (line) => process.stderr.write(`[kafka] ${line}\n`) });
  project.provide('kafkaBrokers', broker.brokers);
  return () => broker.stop();
}
