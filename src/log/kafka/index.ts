// The Kafka log: KAFKA_BROKERS set. The same Log shape as the embedded one, so nothing
// above src/log can tell which it reads.
import { createHash } from 'node:crypto';
import type { Config } from '../../config.ts';
import type { Log } from '../open.ts';
import { createKafka, type KafkaLogLine } from './client.ts';
import { KafkaConsumer } from './consumer.ts';
import { KafkaProducer } from './producer.ts';

export type KafkaLogOptions = {
  /** Where operational lines go (unreachable broker, rebalances); default stderr. */
  readonly log?: KafkaLogLine;
  /** Overrides the group derived from the database and topics (projectorGroupId). */
  readonly groupId?: string;
  /** How long to wait for an unreachable broker before failing. */
  readonly reachTimeoutMs?: number;
};

export function openKafkaLog(config: Config, options: KafkaLogOptions = {}): Log {
  const brokers = config.kafkaBrokers;
  if (brokers === null) throw new Error('openKafkaLog needs KAFKA_BROKERS');
  const log = options.log ?? ((line: string) => process.stderr.write(`ledger: ${line}\n`));
  const client = { brokers, clientId: 'ledger', log, security: config.kafkaSecurity };
  const kafka = createKafka(client);
  const groupId = options.groupId ?? projectorGroupId(config);
  const reach = options.reachTimeoutMs === undefined ? {} : { reachTimeoutMs: options.reachTimeoutMs };
  return {
    kind: 'kafka',
    producer: new KafkaProducer(kafka, client, options.reachTimeoutMs),
    consumer: () => new KafkaConsumer(kafka, { client, groupId, ...reach }),
    newTopicPartitions: config.embeddedPartitions,
  };
}

/**
 * The consumer group is "the processes projecting these topics into this database": they
 * share the partitions between them. Another database (a second environment, a test, a
 * rebuild) projecting the same topics needs every partition too, so it gets a group of
 * its own. The name shows the database and carries a digest of where it is (host, port,
 * database; never the credentials) and of the topics.
 */
export function projectorGroupId(config: Config): string {
  let where = `embedded:${config.dataDir}`;
  let name = 'embedded';
  if (config.databaseUrl !== null) {
    const url = new URL(config.databaseUrl);
    name = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres';
    where = `${url.hostname}:${url.port || '5432'}/${name}`;
  }
  const digest = createHash('sha256').update(`${where}\n${[...config.topics].sort().join(',')}`).digest('hex');
  return `ledger-projector.${name}.${digest.slice(0, 12)}`;
}
