// The one config loader: the environment of CLI.md, read once, checked, and passed down.
// Nothing else reads process.env.
import path from 'node:path';
import { UserError } from './errors.ts';
import { limits } from './limits.ts';

export type Config = {
  readonly dataDir: string;
  /** null: an embedded PostgreSQL server under dataDir. */
  readonly databaseUrl: string | null;
  /** null: the embedded log under dataDir. */
  readonly kafkaBrokers: readonly string[] | null;
  readonly topics: readonly string[];
  readonly embeddedPartitions: number;
  readonly httpPort: number;
  /** The role the service works as (SET ROLE): it may append, never rewrite. */
  readonly databaseRole: string;
  /** An Ed25519 private key in PEM, when not kept under dataDir. */
  readonly signingKeyPem: string | null;
  /** LEDGER_TRUSTED_KEYS: paths of Ed25519 public keys (PEM, SPKI) trusted besides the service's own (trust.ts). */
  readonly trustedKeyFiles: readonly string[];
  /** Reconciliation: the folder the nightly job takes each day's files from (processor-D.csv, bank-D.csv|xml). */
  readonly reconInboxDir: string;
  /** Reconciliation: when the nightly job runs, `HH:MM` in UTC. */
  readonly reconTimeUtc: string;
  /** Reconciliation: the grace window and the bank date tolerance, in days (RECONCILIATION.md: 2 and 3). */
  readonly reconGraceDays: number;
  readonly reconToleranceDays: number;
  /** Where people reach the service; report files link figures to `${publicUrl}/api/figures/…`. */
  readonly publicUrl: string;
  /** Messages per projector transaction (LEDGER_BATCH_MESSAGES, at most limits.batchMessagesMax). */
  readonly batchMessagesMax: number;
  /**
   * Worker threads projecting batches (LEDGER_PROJECTOR_THREADS, default 2: one per core),
   * each with two batches of different partitions in flight on two connections
   * (batch-workers.ts); 0 projects on the main thread.
   */
  readonly projectorThreads: number;
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = path.resolve(env.LEDGER_DATA_DIR ?? './.ledger');
  const brokers = nonEmpty(env.KAFKA_BROKERS);
  return {
    dataDir,
    databaseUrl: nonEmpty(env.DATABASE_URL),
    kafkaBrokers: brokers === null ? null : parseBrokers(brokers),
    topics: parseTopics(env.LEDGER_TOPICS ?? 'marketplace.events'),
    embeddedPartitions: parseInteger('LEDGER_PARTITIONS', env.LEDGER_PARTITIONS ?? '6', 1, 1024),
    httpPort: parseInteger('PORT', env.PORT ?? '8080', 0, 65535),
    databaseRole: env.LEDGER_DB_ROLE ?? 'ledger_writer',
    signingKeyPem: nonEmpty(env.LEDGER_SIGNING_KEY),
    trustedKeyFiles: (nonEmpty(env.LEDGER_TRUSTED_KEYS) ?? '').split(':').map((p) => p.trim())
      .filter((p) => p !== '').map((p) => path.resolve(p)),
    reconInboxDir: path.resolve(nonEmpty(env.LEDGER_RECON_INBOX) ?? path.join(dataDir, 'inbox')),
    reconTimeUtc: parseTimeOfDay('LEDGER_RECON_TIME', env.LEDGER_RECON_TIME ?? '02:00'),
    reconGraceDays: parseInteger('LEDGER_RECON_GRACE_DAYS', env.LEDGER_RECON_GRACE_DAYS ?? '2', 0, 60),
    reconToleranceDays: parseInteger('LEDGER_RECON_TOLERANCE_DAYS', env.LEDGER_RECON_TOLERANCE_DAYS ?? '3', 0, 60),
    batchMessagesMax: parseInteger('LEDGER_BATCH_MESSAGES', env.LEDGER_BATCH_MESSAGES ?? String(limits.batchMessagesMax),
      1, limits.batchMessagesMax),
    projectorThreads: parseInteger('LEDGER_PROJECTOR_THREADS', env.LEDGER_PROJECTOR_THREADS ?? '2', 0, 16),
    publicUrl: (nonEmpty(env.LEDGER_PUBLIC_URL) ?? `http://localhost:${env.PORT ?? '8080'}`).replace(/\/+$/, ''),
  };
}

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value.trim() === '' ? null : value.trim();
}

function parseBrokers(value: string): string[] {
  const brokers = value.split(',').map((b) => b.trim()).filter((b) => b !== '');
  for (const broker of brokers) {
    if (!/^[^:\s]+:\d{1,5}$/.test(broker)) {
      throw new UserError('bad_config', `KAFKA_BROKERS: ${JSON.stringify(broker)} is not host:port`);
    }
  }
  return brokers;
}

function parseTopics(value: string): string[] {
  const topics = value.split(',').map((t) => t.trim()).filter((t) => t !== '');
  if (topics.length === 0) throw new UserError('bad_config', 'LEDGER_TOPICS names no topic');
  for (const topic of topics) {
    if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic)) {
      throw new UserError('bad_config', `LEDGER_TOPICS: ${JSON.stringify(topic)} is not a valid topic name`);
    }
  }
  return topics;
}

function parseTimeOfDay(name: string, value: string): string {
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(value)) {
    throw new UserError('bad_config', `${name}=${JSON.stringify(value)} is not a time of day HH:MM (UTC)`);
  }
  return value;
}

function parseInteger(name: string, value: string, min: number, max: number): number {
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new UserError('bad_config', `${name}=${JSON.stringify(value)} is not a whole number from ${min} to ${max}`);
  }
  return parsed;
}
