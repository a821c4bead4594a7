// The kafkajs client, built in one place with every option that matters spelled out, and
// the one way this program finds out whether a broker is there: a bounded probe with
// backoff that says, in a line an operator can act on, what it is waiting for. TLS and
// SASL (config.ts, LEDGER_KAFKA_*) are applied here to every client this program makes;
// a refused password or an untrusted certificate is no reason to wait: it fails at once.
import type { ConnectionOptions } from 'node:tls';
import { sleepMs } from '../../sleep.ts';
import { Kafka, logLevel, type KafkaConfig, type LogEntry, type logCreator } from 'kafkajs';
import type { KafkaSecurity } from '../../config.ts';
import { UserError, invariant } from '../../errors.ts';

export type KafkaLogLine = (line: string) => void;

export type KafkaClientOptions = {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly log: KafkaLogLine;
  /** TLS and SASL; absent: plaintext without authentication. */
  readonly security?: KafkaSecurity;
};

/** kafkajs's `ssl` and `sasl` options; the secrets are revealed here and nowhere else. */
export function securityOptions(security: KafkaSecurity | undefined): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const options: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  const tls = security?.tls ?? null;
  if (tls !== null) {
    const ssl: ConnectionOptions = { rejectUnauthorized: true };
    if (tls.ca !== null) ssl.ca = tls.ca;
    if (tls.cert !== null) ssl.cert = tls.cert;
    if (tls.key !== null) ssl.key = tls.key.reveal();
    if (tls.servername !== null) ssl.servername = tls.servername;
    options.ssl = ssl;
  }
  const sasl = security?.sasl ?? null;
  if (sasl !== null) {
    const credentials = { username: sasl.username, password: sasl.password.reveal() };
    options.sasl = sasl.mechanism === 'plain' ? { mechanism: 'plain', ...credentials }
      : sasl.mechanism === 'scram-sha-256' ? { mechanism: 'scram-sha-256', ...credentials }
        : { mechanism: 'scram-sha-512', ...credentials };
  }
  return options;
}

export const kafkaLimits = {
  /** A TCP connect to a broker on a healthy network takes milliseconds. */
  connectionTimeoutMs: 3_000,
  /** A produce with acks=all or a fetch long-poll answers well within this. */
  requestTimeoutMs: 30_000,
  /** How long a command waits for an unreachable broker before giving up. */
  reachTimeoutMs: 30_000,
  reachBackoffInitialMs: 250,
  reachBackoffMaxMs: 5_000,
} as const;

invariant(kafkaLimits.reachBackoffInitialMs < kafkaLimits.reachBackoffMaxMs, 'backoff grows');

export function createKafka(options: KafkaClientOptions): Kafka {
  invariant(options.brokers.length > 0, 'at least one broker');
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    ...securityOptions(options.security),
    connectionTimeout: kafkaLimits.connectionTimeoutMs,
    requestTimeout: kafkaLimits.requestTimeoutMs,
    enforceRequestTimeout: true,
    // Client-level retries cover metadata and connection set-up; each of the consumer,
    // producer and admin has its own budget on top (see where they are built).
    retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 5_000, multiplier: 2, factor: 0.2 },
    logLevel: logLevel.WARN,
    logCreator: lineLogCreator(options.log),
  });
}

/** The same kafkajs line is shown at most once per this interval, with a count of repeats. */
const repeatIntervalMs = 10_000;

/**
 * kafkajs's warnings and errors as one line each. It logs every retry of a transient
 * condition (a coordinator still loading, a broker restarting) at ERROR: these lines are
 * what an operator watching a stuck consumer needs, so they are kept, made short, and
 * rate-limited (a broker that is down for a minute would otherwise print hundreds).
 */
function lineLogCreator(log: KafkaLogLine): logCreator {
  const lastShown = new Map<string, { atMs: number; repeats: number }>();
  return () => ({ namespace, level, log: entry }: LogEntry) => {
    const { message, error } = entry as { message: string; error?: unknown };
    // We bound the idempotent producer's retries on purpose (every loop has a limit); a
    // publish that gives up fails loudly, and a re-publish is deduplicated by event_id.
    if (message.startsWith('Limiting retries for the idempotent producer')) return;
    const label = level === logLevel.ERROR ? 'error' : 'warn';
    const detail = error === undefined || String(error) === message ? '' : `: ${String(error)}`;
    const line = `kafka ${label} [${namespace}] ${message}${detail}`;
    const nowMs = Date.now();
    const shown = lastShown.get(line);
    if (shown !== undefined && nowMs - shown.atMs < repeatIntervalMs) {
      shown.repeats += 1;
      return;
    }
    const repeats = shown === undefined || shown.repeats === 0 ? '' : ` (and ${shown.repeats} more like it)`;
    if (lastShown.size >= 1_000) lastShown.clear(); // bounded: distinct lines are few
    lastShown.set(line, { atMs: nowMs, repeats: 0 });
    try {
      log(`${line}${repeats}`);
    } catch {
      // A log line that cannot be written must not fail the Kafka call that logged it.
    }
  };
}

/** The innermost message of a kafkajs error chain (its causes say what really failed). */
export function describeKafkaError(error: unknown): string {
  const messages: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (!messages.includes(current.message)) messages.push(current.message);
    current = (current as { cause?: unknown }).cause ?? (current as { originalError?: unknown }).originalError;
  }
  return messages.length === 0 ? String(error) : messages.join(': ');
}

/**
 * Waits until a broker answers DescribeCluster, with exponential backoff, for at most
 * `timeoutMs`; each failed attempt is logged. Throws a UserError naming the brokers when
 * none answered. A separate client with no retries of its own keeps each attempt short,
 * so that the backoff here is the only one.
 */
export async function awaitBrokers(
  options: KafkaClientOptions & { readonly timeoutMs?: number; readonly signal?: AbortSignal },
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? kafkaLimits.reachTimeoutMs;
  const deadlineMs = Date.now() + timeoutMs;
  const where = options.brokers.join(',');
  let backoffMs: number = kafkaLimits.reachBackoffInitialMs;
  // Bounded by the deadline: every pass either returns, throws, or sleeps toward it.
  for (let attempt = 1; ; attempt++) {
    const failure = await probe(options);
    if (failure instanceof UserError) throw failure;
    if (failure === null) {
      if (attempt > 1) options.log(`kafka: reached ${where} after ${attempt} attempts`);
      return;
    }
    const leftMs = deadlineMs - Date.now();
    if (leftMs <= 0 || options.signal?.aborted === true) {
      throw new UserError('kafka_unreachable', `cannot reach the Kafka broker(s) ${where} (KAFKA_BROKERS) ` +
        `after ${attempt} attempts over ${Math.round(timeoutMs / 1000)} s: ${failure}`);
    }
    const waitMs = Math.min(backoffMs, leftMs);
    options.log(`kafka: cannot reach ${where} (${failure}); retrying in ${(waitMs / 1000).toFixed(1)} s ` +
      `(attempt ${attempt}, giving up after ${Math.round(timeoutMs / 1000)} s)`);
    await sleepMs(waitMs, options.signal);
    backoffMs = Math.min(backoffMs * 2, kafkaLimits.reachBackoffMaxMs);
  }
}

/** null: reached; a UserError: refused for good (credentials, certificates); else why not yet. */
async function probe(options: KafkaClientOptions): Promise<string | UserError | null> {
  const kafka = new Kafka({
    clientId: `${options.clientId}-probe`,
    brokers: [...options.brokers],
    ...securityOptions(options.security),
    connectionTimeout: kafkaLimits.connectionTimeoutMs,
    requestTimeout: kafkaLimits.connectionTimeoutMs * 2,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 ? null : 'the cluster lists no broker';
  } catch (error) {
    return refusal(error, options) ?? describeKafkaError(error);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Node's codes for a broker certificate that does not verify against the CAs given. */
const untrustedCertificateCodes = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_SIGNATURE_FAILURE', 'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** OpenSSL's alerts from a broker that wants a client certificate and got none, or one it does not trust. */
const refusedClientCertificateCodes = new Set([
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN', 'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
]);

/**
 * The one-line UserError for a failure that waiting will not cure: the broker refused our
 * credentials, or its certificate does not verify, or it does not speak TLS. null for
 * anything else (a broker still starting, a network blip), which the caller retries.
 */
function refusal(error: unknown, options: KafkaClientOptions): UserError | null {
  const where = options.brokers.join(',');
  const reason = describeKafkaError(error).replace(/\s+/g, ' ');
  const chain = errorChain(error);
  const sasl = options.security?.sasl ?? null;
  if (sasl !== null && chain.some((e) => e.name === 'KafkaJSSASLAuthenticationError')) {
    return new UserError('kafka_auth_failed', `the Kafka broker(s) ${where} refused SASL ${sasl.mechanism.toUpperCase()} ` +
      `authentication as ${JSON.stringify(sasl.username)} (${reason}); check LEDGER_KAFKA_SASL_USERNAME and ` +
      'LEDGER_KAFKA_SASL_PASSWORD');
  }
  const code = chain.map((e) => (e as { code?: unknown }).code).find((c) => typeof c === 'string') as string | undefined;
  if (options.security?.tls != null && code !== undefined && untrustedCertificateCodes.has(code)) {
    return new UserError('kafka_tls_untrusted', `TLS to the Kafka broker(s) ${where}: the broker's certificate is not ` +
      `trusted (${reason}); check LEDGER_KAFKA_TLS_CA_FILE and LEDGER_KAFKA_TLS_SERVERNAME`);
  }
  if (options.security?.tls != null && code !== undefined && refusedClientCertificateCodes.has(code)) {
    // OpenSSL's text carries its source file and line; the alert's name is what an operator needs.
    const alert = /(?:sslv3|tlsv1|tlsv13) alert ([a-z ]+?)(?::|$)/i.exec(reason)?.[1] ?? code;
    return new UserError('kafka_tls_client_refused', `TLS to the Kafka broker(s) ${where}: the broker refused the ` +
      `client certificate (TLS alert: ${alert}); check LEDGER_KAFKA_TLS_CERT_FILE and LEDGER_KAFKA_TLS_KEY_FILE`);
  }
  if (options.security?.tls != null && code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    return new UserError('kafka_tls_refused', `TLS to the Kafka broker(s) ${where}: the broker does not answer TLS ` +
      `on that port (${reason}); check KAFKA_BROKERS and LEDGER_KAFKA_TLS`);
  }
  return null;
}

function errorChain(error: unknown): Error[] {
  const chain: Error[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause ?? (current as { originalError?: unknown }).originalError;
  }
  return chain;
}

