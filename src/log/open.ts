// Which log: Kafka when KAFKA_BROKERS is set, else the embedded log under LEDGER_DATA_DIR.
import path from 'node:path';
import type { Config } from '../config.ts';
import { UserError } from '../errors.ts';
import { openEmbeddedLog } from './embedded/index.ts';
import type { LogConsumer, LogProducer } from './types.ts';

export type Log = {
  readonly kind: 'embedded' | 'kafka';
  readonly producer: LogProducer;
  consumer(): LogConsumer;
  /** Partitions a new topic gets when this program creates it. */
  readonly newTopicPartitions: number;
};

export async function openLog(config: Config): Promise<Log> {
  if (config.kafkaBrokers !== null) {
    throw new UserError('kafka_unavailable', 'KAFKA_BROKERS is set, but the Kafka log adapter is not ' +
      'built yet (issue 3); unset it to use the embedded log');
  }
  const log = openEmbeddedLog(path.join(config.dataDir, 'log'));
  return { kind: 'embedded', producer: log.producer, consumer: log.consumer, newTopicPartitions: config.embeddedPartitions };
}
