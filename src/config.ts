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
  /** LEDGER_HTTP_HOST: the address `serve` listens on (default 127.0.0.1; 0.0.0.0 for every interface). */
  readonly httpHost: string;
  /** OIDC bearer JWTs, when LEDGER_OIDC_ISSUER is set: the issuer, the audience, the JWKS to verify with. */
  readonly oidc: { readonly issuer: string; readonly audience: string; readonly jwksUrl: string | null } | null;
  /** LEDGER_METRICS_TOKEN: a Prometheus scraper's bearer token for GET /metrics alone. */
  readonly metricsScrapeToken: string | null;
  /**
   * LEDGER_DB_ROLE: the login role the service works as (it may append, never rewrite);
   * null for `<database>_service`. Made and checked by src/db/service-login.ts.
   */
  readonly databaseRole: string | null;
  /** LEDGER_SERVICE_DATABASE_URL: the service's login when a DBA made it; null to let the owner make it. */
  readonly serviceDatabaseUrl: string | null;
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
  /**
   * Scale-out: how often a standby `ledger serve` tries to take the leader lock, and the
   * leader checks it still holds it (LEDGER_LEADER_POLL_MS, default 10 s).
   */
  readonly leaderPollMs: number;
  /** The report schedule (LEDGER_SCHEDULE_FILE, default reports-templates/schedule.json). */
  readonly scheduleFile: string | null;
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = path.resolve(env.LEDGER_DATA_DIR ?? './.ledger');
  const brokers = nonEmpty(env.KAFKA_BROKERS);
  const scheduleFile = nonEmpty(env.LEDGER_SCHEDULE_FILE);
  return {
    dataDir,
    databaseUrl: nonEmpty(env.DATABASE_URL),
    kafkaBrokers: brokers === null ? null : parseBrokers(brokers),
    topics: parseTopics(env.LEDGER_TOPICS ?? 'marketplace.events'),
    embeddedPartitions: parseInteger('LEDGER_PARTITIONS', env.LEDGER_PARTITIONS ?? '6', 1, 1024),
    httpPort: parseInteger('PORT', env.PORT ?? '8080', 0, 65535),
    httpHost: parseHost(nonEmpty(env.LEDGER_HTTP_HOST) ?? '127.0.0.1'),
    oidc: parseOidc(env),
    metricsScrapeToken: parseSecret('LEDGER_METRICS_TOKEN', nonEmpty(env.LEDGER_METRICS_TOKEN)),
    databaseRole: nonEmpty(env.LEDGER_DB_ROLE) === null ? null
      : checkRoleName(nonEmpty(env.LEDGER_DB_ROLE) as string, 'LEDGER_DB_ROLE'),
    serviceDatabaseUrl: nonEmpty(env.LEDGER_SERVICE_DATABASE_URL),
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
    leaderPollMs: parseInteger('LEDGER_LEADER_POLL_MS', env.LEDGER_LEADER_POLL_MS ?? '10000', 100, 60_000),
    scheduleFile: scheduleFile === null ? null : path.resolve(scheduleFile),
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

/** A PostgreSQL role name the service may log in as: plain, and none of the reserved ones. */
function checkRoleName(name: string, variable: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new UserError('bad_config', `${variable}=${JSON.stringify(name)} is not a role name ` +
      '(lower-case letters, digits and _, at most 63, not starting with a digit)');
  }
  if (name === 'ledger_writer' || name === 'postgres' || name.startsWith('pg_')) {
    throw new UserError('bad_config', `${variable}=${JSON.stringify(name)} is reserved; ` +
      'name a login role of the service\'s own (default: <database>_service)');
  }
  return name;
}

function parseHost(value: string): string {
  if (!/^[A-Za-z0-9.:-]{1,253}$/.test(value)) {
    throw new UserError('bad_config', `LEDGER_HTTP_HOST=${JSON.stringify(value)} is not a host name or address`);
  }
  return value;
}

function parseHttpsUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UserError('bad_config', `${name}=${JSON.stringify(value)} is not a URL`);
  }
  const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) {
    throw new UserError('bad_config', `${name} must be https (http only on localhost)`);
  }
  return value.replace(/\/+$/, '');
}

/** OIDC: all of issuer and audience, or none; the JWKS, unless given, is the issuer's discovery document's. */
function parseOidc(env: NodeJS.ProcessEnv): Config['oidc'] {
  const issuer = nonEmpty(env.LEDGER_OIDC_ISSUER);
  const audience = nonEmpty(env.LEDGER_OIDC_AUDIENCE);
  if (issuer === null && audience === null) return null;
  if (issuer === null || audience === null) {
    throw new UserError('bad_config', 'LEDGER_OIDC_ISSUER and LEDGER_OIDC_AUDIENCE go together: set both or neither');
  }
  const jwks = nonEmpty(env.LEDGER_OIDC_JWKS_URL);
  return { issuer: parseHttpsUrl('LEDGER_OIDC_ISSUER', issuer), audience,
    jwksUrl: jwks === null ? null : parseHttpsUrl('LEDGER_OIDC_JWKS_URL', jwks) };
}

function parseSecret(name: string, value: string | null): string | null {
  if (value !== null && value.length < 24) {
    throw new UserError('bad_config', `${name} must be at least 24 characters: it is a password for a machine`);
  }
  return value;
}
