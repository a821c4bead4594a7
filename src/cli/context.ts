// What a command works with: the database (migrated), the log, the signing key. Opened
// in one place, closed in one place.
import type { Config } from '../config.ts';
import { openDatabase, type Database } from '../db/database.ts';
import { writeCheckpoint } from '../integrity/checkpoints.ts';
import { openLog } from '../log/open.ts';
import { runProjector, type ProgressReport, type ProjectorResult } from '../projector/projector.ts';
import { signingKeyForLedger } from '../signing/ledger-key.ts';
import { loadTrustedKeys } from '../signing/trust.ts';

export type Ledger = {
  readonly config: Config;
  readonly db: Database;
  close(): Promise<void>;
};

/** Migrates (as the owner, unless told not to), then works as the service's own login. */
export async function openLedger(config: Config, options: { migrate?: boolean } = {}): Promise<Ledger> {
  const db = await openDatabase(config, {
    log: process.env.LEDGER_DEBUG === '1' ? (line) => process.stderr.write(`postgres: ${line}\n`) : () => undefined,
    migrate: options.migrate !== false,
  });
  return { config, db, close: () => db.close() };
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

export type ProjectOptions = {
  follow: boolean;
  progress: boolean;
  signal?: AbortSignal;
  /** Told of every committed batch (the service's metrics). */
  onBatch?: (report: ProgressReport) => void;
};

/** Projects until caught up (or, following, until the signal), with signed checkpoints. */
export async function projectOnce(ledger: Ledger, options: ProjectOptions): Promise<ProjectorResult> {
  const { config, db } = ledger;
  const log = await openLog(config);
  const key = await signingKeyForLedger(db.pool, config);
  const trustedKeys = await loadTrustedKeys(config, key);
  const consumer = log.consumer();
  const controller = new AbortController();
  const stop = () => controller.abort();
  options.signal?.addEventListener('abort', stop);
  if (options.signal?.aborted === true) stop();
  // A caller with a signal (serve) owns the process's signals; a one-shot command stops here.
  const ownSignals = options.signal === undefined;
  if (ownSignals) {
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  }
  const progress = options.progress ? progressReporter() : undefined;
  try {
    return await runProjector({
      pool: db.pool, consumer, topics: config.topics, follow: options.follow, signal: controller.signal, trustedKeys,
      batchMessagesMax: config.batchMessagesMax,
      ...(config.projectorThreads === 0 ? {} : {
        threads: { count: config.projectorThreads, databaseUrl: db.serviceUrl, databaseRole: null },
      }),
      checkpoint: async () => { await writeCheckpoint(db.pool, key, config.dataDir, new Date()); },
      ...(progress === undefined && options.onBatch === undefined ? {} : { onBatch: (report: ProgressReport) => {
        progress?.(report);
        options.onBatch?.(report);
      } }),
    });
  } finally {
    if (ownSignals) {
      process.removeListener('SIGTERM', stop);
      process.removeListener('SIGINT', stop);
    }
    options.signal?.removeEventListener('abort', stop);
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
