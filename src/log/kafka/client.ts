// The kafkajs client, built in one place with every option that matters spelled out, and
// the one way this program finds out whether a broker is there: a bounded probe with
// backoff that says, in a line an operator can act on, what it is waiting for.
import { Kafka, logLevel, type LogEntry, type logCreator } from 'kafkajs';
import { UserError, invariant } from '../../errors.ts';

export type KafkaLogLine = (line: string) => void;

export type KafkaClientOptions = {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly log: KafkaLogLine;
};

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

async function probe(options: KafkaClientOptions): Promise<string | null> {
  const kafka = new Kafka({
    clientId: `${options.clientId}-probe`,
    brokers: [...options.brokers],
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
    return describeKafkaError(error);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Resolves after `durationMs`, or at once when the signal aborts. */
export function sleepMs(durationMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, durationMs);
    signal?.addEventListener('abort', done, { once: true });
  });
}
