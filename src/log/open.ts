// Which log: Kafka when KAFKA_BROKERS is set, else the embedded log under LEDGER_DATA_DIR.
import path from 'node:path';
import type { Config } from '../config.ts';
import { openEmbeddedLog } from './embedded/index.ts';
import { openKafkaLog } from './kafka/index.ts';
import type { LogConsumer, LogProducer } from './types.ts';

export type Log = {
  readonly kind: 'embedded' | 'kafka';
  readonly producer: LogProducer;
  consumer(): LogConsumer;
  /** Partitions a new topic gets when this program creates it. */
  readonly newTopicPartitions: number;
};

export async function openLog(config: Config): Promise<Log> {
  // Topics this program creates on Kafka get LEDGER_PARTITIONS partitions too.
  if (config.kafkaBrokers !== null) return openKafkaLog(config);
  const log = openEmbeddedLog(path.join(config.dataDir, 'log'));
  return { kind: 'embedded', producer: log.producer, consumer: log.consumer, newTopicPartitions: config.embeddedPartitions };
}
