// What a command works with: the database (migrated), the log, the signing key. Opened
// in one place, closed in one place.
import type { Config } from '../config.ts';
import { openDatabase, type Database } from '../db/database.ts';
import { migrate, type MigrationResult } from '../db/migrate.ts';
import { writeCheckpoint } from '../integrity/checkpoints.ts';
import { openLog } from '../log/open.ts';
import { runProjector, type ProgressReport, type ProjectorResult } from '../projector/projector.ts';
import { loadSigningKey } from '../signing/keys.ts';
import { loadTrustedKeys } from '../signing/trust.ts';

export type Ledger = {
  readonly config: Config;
  readonly db: Database;
  migrate(): Promise<MigrationResult>;
  close(): Promise<void>;
};

export async function openLedger(config: Config, options: { migrate?: boolean } = {}): Promise<Ledger> {
  const db = await openDatabase(config, {
    log: process.env.LEDGER_DEBUG === '1' ? (line) => process.stderr.write(`postgres: ${line}\n`) : () => undefined,
  });
  const ledger: Ledger = { config, db, migrate: () => migrate(db.url), close: () => db.close() };
  if (options.migrate !== false) await ledger.migrate().catch(async (error: unknown) => {
    await db.close();
    throw error;
  });
  return ledger;
}

export async function withLedger<T>(
  config: Config, options: { migrate?: boolean }, work: (ledger: Ledger) => Promise<T>,
): Promise<T> {
  const ledger = await openLedger(config, options);
  try {
    return await work(ledger);
  } finally {
    await ledger.close();
  }
}

export type ProjectOptions = { follow: boolean; progress: boolean; signal?: AbortSignal };

/** Projects until caught up (or, following, until the signal), with signed checkpoints. */
export async function projectOnce(ledger: Ledger, options: ProjectOptions): Promise<ProjectorResult> {
  const { config, db } = ledger;
  const log = await openLog(config);
  const key = await loadSigningKey(config.dataDir, config.signingKeyPem);
  const trustedKeys = await loadTrustedKeys(config, key);
  const consumer = log.consumer();
  const controller = new AbortController();
  const stop = () => controller.abort();
  options.signal?.addEventListener('abort', stop);
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const progress = options.progress ? progressReporter() : undefined;
  try {
    return await runProjector({
      pool: db.pool, consumer, topics: config.topics, follow: options.follow, signal: controller.signal, trustedKeys,
      batchMessagesMax: config.batchMessagesMax,
      ...(config.projectorThreads === 0 ? {} : {
        threads: { count: config.projectorThreads, databaseUrl: db.url, databaseRole: config.databaseRole },
      }),
      checkpoint: async () => { await writeCheckpoint(db.pool, key, config.dataDir, new Date()); },
      ...(progress === undefined ? {} : { onBatch: progress }),
    });
  } finally {
    process.removeListener('SIGTERM', stop);
    process.removeListener('SIGINT', stop);
    await consumer.close();
    await log.producer.close();
  }
}

const progressIntervalMs = 2_000;

/**
 * Per-partition lag and throughput: a line on a terminal, a JSON log line otherwise, at
 * most one every progressIntervalMs, on stderr so that --json output stays clean.
 */
export function progressReporter(): (report: ProgressReport) => void {
  const lag = new Map<string, number>();
  let posted = 0;
  let lastAt = Date.now();
  let postedAtLast = 0;
  return (report) => {
    lag.set(`${report.topic}/${report.partition}`, report.highWatermark - report.nextOffset);
    posted += report.counts.posted + report.counts.duplicates + report.counts.quarantined;
    const now = Date.now();
    if (now - lastAt < progressIntervalMs) return;
    const perSecond = Math.round(((posted - postedAtLast) * 1000) / (now - lastAt));
    lastAt = now;
    postedAtLast = posted;
    const lags = Object.fromEntries([...lag.entries()].sort());
    if (process.stderr.isTTY) {
      const shown = Object.entries(lags).map(([p, l]) => `${p}:${l}`).join(' ');
      process.stderr.write(`projecting: ${posted} messages, ${perSecond}/s; lag ${shown}\n`);
    } else {
      process.stderr.write(`${JSON.stringify({ level: 'info', msg: 'projecting', messages: posted,
        messages_per_second: perSecond, lag: lags })}\n`);
    }
  };
}
