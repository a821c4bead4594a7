// The one config loader: the environment of CLI.md, read once, checked, and passed down.
// Nothing else reads process.env.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { UserError } from './errors.ts';
import { limits } from './limits.ts';

export type Config = {
  readonly dataDir: string;
  /** null: an embedded PostgreSQL server under dataDir. */
  readonly databaseUrl: string | null;
  /** null: the embedded log under dataDir. */
  readonly kafkaBrokers: readonly string[] | null;
  /** TLS and SASL towards the brokers (LEDGER_KAFKA_*); both null: plaintext, no authentication. */
  readonly kafkaSecurity: KafkaSecurity;
  readonly topics: readonly string[];
  readonly embeddedPartitions: number;
  readonly httpPort: number;
  /** LEDGER_HTTP_HOST: the address `serve` listens on (default 127.0.0.1; 0.0.0.0 for every interface). */
  readonly httpHost: string;
  /**
   * OIDC, when LEDGER_OIDC_ISSUER is set: bearer JWTs (the issuer, the audience, the JWKS to verify
   * with) and, with LEDGER_OIDC_CLIENT_ID, the web pages' login (authorization code with PKCE;
   * LEDGER_OIDC_CLIENT_SECRET for a confidential client; the redirect is `${publicUrl}/login/oidc/callback`).
   */
  readonly oidc: {
    readonly issuer: string; readonly audience: string; readonly jwksUrl: string | null;
    readonly login: { readonly clientId: string; readonly clientSecret: Secret | null } | null;
  } | null;
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
  /** Where people reach the service; report files link figures to their pages, `${publicUrl}/figures/…`. */
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
  /** Web pages: a browser session ends after this many minutes without a request (LEDGER_SESSION_IDLE_MINUTES, default 30). */
  readonly sessionIdleMinutes: number;
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = path.resolve(env.LEDGER_DATA_DIR ?? './.ledger');
  const brokers = nonEmpty(env.KAFKA_BROKERS);
  const scheduleFile = nonEmpty(env.LEDGER_SCHEDULE_FILE);
  return {
    dataDir,
    databaseUrl: nonEmpty(env.DATABASE_URL),
    kafkaBrokers: brokers === null ? null : parseBrokers(brokers),
    kafkaSecurity: brokers === null ? { tls: null, sasl: null } : parseKafkaSecurity(env),
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
    sessionIdleMinutes: parseInteger('LEDGER_SESSION_IDLE_MINUTES', env.LEDGER_SESSION_IDLE_MINUTES ?? '30', 1, 1440),
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
  const clientId = nonEmpty(env.LEDGER_OIDC_CLIENT_ID);
  const clientSecret = nonEmpty(env.LEDGER_OIDC_CLIENT_SECRET);
  if (issuer === null && (clientId !== null || clientSecret !== null)) {
    throw new UserError('bad_config', `${clientId !== null ? 'LEDGER_OIDC_CLIENT_ID' : 'LEDGER_OIDC_CLIENT_SECRET'} is set ` +
      'but LEDGER_OIDC_ISSUER is not: set the issuer (and LEDGER_OIDC_AUDIENCE) to log in with OIDC');
  }
  if (clientId === null && clientSecret !== null) {
    throw new UserError('bad_config', 'LEDGER_OIDC_CLIENT_SECRET is set but LEDGER_OIDC_CLIENT_ID is not: a secret needs its client');
  }
  if (issuer === null && audience === null) return null;
  if (issuer === null || audience === null) {
    throw new UserError('bad_config', 'LEDGER_OIDC_ISSUER and LEDGER_OIDC_AUDIENCE go together: set both or neither');
  }
  const jwks = nonEmpty(env.LEDGER_OIDC_JWKS_URL);
  return { issuer: parseHttpsUrl('LEDGER_OIDC_ISSUER', issuer), audience,
    jwksUrl: jwks === null ? null : parseHttpsUrl('LEDGER_OIDC_JWKS_URL', jwks),
    login: clientId === null ? null : { clientId, clientSecret: clientSecret === null ? null : new Secret(clientSecret) } };
}

function parseSecret(name: string, value: string | null): string | null {
  if (value !== null && value.length < 24) {
    throw new UserError('bad_config', `${name} must be at least 24 characters: it is a password for a machine`);
  }
  return value;
}

// ---------------------------------------------------------------------------------
// Kafka security: TLS (CA, client certificate) and SASL (PLAIN, SCRAM), as kafkajs takes
// them. Files are read here, once, at start; a secret is held in a Secret, which prints
// as *** wherever a config is logged or serialised.

/** A secret value: reveal() gives it to the one place that needs it; anything else sees ***. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '***';
  }
  toJSON(): string {
    return '***';
  }
  [inspect.custom](): string {
    return 'Secret(***)';
  }
}

export type KafkaTls = {
  /** PEM certificates to trust instead of the system's; null: the system's CAs. */
  readonly ca: string | null;
  /** The client certificate chain and its key (PEM), for brokers that require mTLS. */
  readonly cert: string | null;
  readonly key: Secret | null;
  /** The name the broker's certificate must carry, when it differs from the host dialled. */
  readonly servername: string | null;
};

export const kafkaSaslMechanisms = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type KafkaSaslMechanism = (typeof kafkaSaslMechanisms)[number];

export type KafkaSasl = {
  readonly mechanism: KafkaSaslMechanism;
  readonly username: string;
  readonly password: Secret;
};

export type KafkaSecurity = { readonly tls: KafkaTls | null; readonly sasl: KafkaSasl | null };

function parseKafkaSecurity(env: NodeJS.ProcessEnv): KafkaSecurity {
  const tlsOn = parseSwitch('LEDGER_KAFKA_TLS', env.LEDGER_KAFKA_TLS);
  const tlsNames = ['LEDGER_KAFKA_TLS_CA_FILE', 'LEDGER_KAFKA_TLS_CERT_FILE', 'LEDGER_KAFKA_TLS_KEY_FILE',
    'LEDGER_KAFKA_TLS_SERVERNAME'] as const;
  const stray = tlsNames.find((name) => nonEmpty(env[name]) !== null);
  if (!tlsOn && stray !== undefined) {
    throw new UserError('bad_config', `${stray} is set but LEDGER_KAFKA_TLS is not 1: set LEDGER_KAFKA_TLS=1 to use TLS`);
  }
  const tls = tlsOn ? parseKafkaTls(env) : null;
  const sasl = parseKafkaSasl(env);
  if (sasl?.mechanism === 'plain' && tls === null) {
    throw new UserError('bad_config', 'LEDGER_KAFKA_SASL_MECHANISM=plain would send the password in clear: ' +
      'set LEDGER_KAFKA_TLS=1, or use scram-sha-256 or scram-sha-512');
  }
  return { tls, sasl };
}

function parseKafkaTls(env: NodeJS.ProcessEnv): KafkaTls {
  const caFile = nonEmpty(env.LEDGER_KAFKA_TLS_CA_FILE);
  const certFile = nonEmpty(env.LEDGER_KAFKA_TLS_CERT_FILE);
  const keyFile = nonEmpty(env.LEDGER_KAFKA_TLS_KEY_FILE);
  if ((certFile === null) !== (keyFile === null)) {
    const [set, unset] = certFile === null
      ? ['LEDGER_KAFKA_TLS_KEY_FILE', 'LEDGER_KAFKA_TLS_CERT_FILE'] : ['LEDGER_KAFKA_TLS_CERT_FILE', 'LEDGER_KAFKA_TLS_KEY_FILE'];
    throw new UserError('bad_config', `${set} is set but ${unset} is not: a client certificate needs both`);
  }
  return {
    ca: caFile === null ? null : readPem('LEDGER_KAFKA_TLS_CA_FILE', caFile, /-----BEGIN CERTIFICATE-----/, 'certificate'),
    cert: certFile === null ? null
      : readPem('LEDGER_KAFKA_TLS_CERT_FILE', certFile, /-----BEGIN CERTIFICATE-----/, 'certificate'),
    key: keyFile === null ? null
      : new Secret(readPem('LEDGER_KAFKA_TLS_KEY_FILE', keyFile, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'private key')),
    servername: nonEmpty(env.LEDGER_KAFKA_TLS_SERVERNAME),
  };
}

function parseKafkaSasl(env: NodeJS.ProcessEnv): KafkaSasl | null {
  const mechanismText = nonEmpty(env.LEDGER_KAFKA_SASL_MECHANISM);
  const username = nonEmpty(env.LEDGER_KAFKA_SASL_USERNAME);
  const passwordText = env.LEDGER_KAFKA_SASL_PASSWORD ?? '';
  const passwordFile = nonEmpty(env.LEDGER_KAFKA_SASL_PASSWORD_FILE);
  if (mechanismText === null) {
    const stray = [['LEDGER_KAFKA_SASL_USERNAME', username], ['LEDGER_KAFKA_SASL_PASSWORD', passwordText || null],
      ['LEDGER_KAFKA_SASL_PASSWORD_FILE', passwordFile]].find(([, value]) => value !== null);
    if (stray !== undefined) {
      throw new UserError('bad_config', `${stray[0]} is set but LEDGER_KAFKA_SASL_MECHANISM is not ` +
        `(one of ${kafkaSaslMechanisms.join(', ')})`);
    }
    return null;
  }
  const mechanism = mechanismText.toLowerCase();
  if (!(kafkaSaslMechanisms as readonly string[]).includes(mechanism)) {
    throw new UserError('bad_config', `LEDGER_KAFKA_SASL_MECHANISM=${JSON.stringify(mechanismText)} is not one of ` +
      kafkaSaslMechanisms.join(', '));
  }
  if (username === null) throw new UserError('bad_config', `LEDGER_KAFKA_SASL_MECHANISM=${mechanism} needs LEDGER_KAFKA_SASL_USERNAME`);
  if (passwordText !== '' && passwordFile !== null) {
    throw new UserError('bad_config', 'LEDGER_KAFKA_SASL_PASSWORD and LEDGER_KAFKA_SASL_PASSWORD_FILE are both set: keep one');
  }
  // A password file ends with a newline as editors write it; the newline is not the password's.
  const password = passwordFile === null ? passwordText
    : readSetting('LEDGER_KAFKA_SASL_PASSWORD_FILE', passwordFile).replace(/\r?\n$/, '');
  if (password === '') {
    throw new UserError('bad_config', `LEDGER_KAFKA_SASL_MECHANISM=${mechanism} needs LEDGER_KAFKA_SASL_PASSWORD ` +
      'or LEDGER_KAFKA_SASL_PASSWORD_FILE (not empty)');
  }
  return { mechanism: mechanism as KafkaSaslMechanism, username, password: new Secret(password) };
}

function parseSwitch(name: string, value: string | undefined): boolean {
  const text = (value ?? '').trim().toLowerCase();
  if (text === '' || text === '0' || text === 'false') return false;
  if (text === '1' || text === 'true') return true;
  throw new UserError('bad_config', `${name}=${JSON.stringify(value)} is not 1 or 0`);
}

/** A file named by a setting, read now; the error names the setting, never the content. */
function readSetting(name: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'unreadable';
    throw new UserError('bad_config', `${name}=${file}: cannot read the file (${code})`);
  }
}

function readPem(name: string, file: string, marker: RegExp, what: string): string {
  const text = readSetting(name, file);
  if (!marker.test(text)) throw new UserError('bad_config', `${name}=${file} holds no PEM ${what}`);
  return text;
}
