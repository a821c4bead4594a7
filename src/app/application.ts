// The one place that builds the service from its config: the database (migrated, then the
// service's own login), the log and the projector over it, the report context (the
// signing key, the data dir), the schedulers and the HTTP application. `ledger serve`
// (src/app/service.ts), every CLI command and the tests open it the same way, so a
// report run from the shell, the API and the scheduler is made by the same parts.
// Opened in one place, closed in one place.
import type { Config } from '../config.ts';
import { openDatabase, type Database } from '../db/database.ts';
import { writeCheckpoint } from '../integrity/checkpoints.ts';
import { openLog } from '../log/open.ts';
import { runProjector, type ProgressReport, type ProjectorResult } from '../projector/projector.ts';
import type { ReportContext } from '../reports/runs.ts';
import type { ScheduleFile } from '../reports/schedule.ts';
import { signingKeyForLedger } from '../signing/ledger-key.ts';
import { loadTrustedKeys } from '../signing/trust.ts';
import type { HttpApp } from '../http/server.ts';
import { createMetrics, type Metrics } from '../observability/metrics.ts';
import { logProgress, terminalProgress } from '../observability/progress-stderr.ts';
import { buildApp, type BuildOptions } from './http.ts';
import type { LeaderWork } from './leader.ts';
import { startSchedulers } from './schedulers.ts';
import { sleepMs } from '../sleep.ts';

export type Application = {
  readonly config: Config;
  readonly db: Database;
  /** The instant every decision of this process is taken at (tests pass a controlled one). */
  readonly clock: () => Date;
  /** What report runs are made and signed with: the service's key, data dir and lineage address. */
  reportContext(): Promise<ReportContext>;
  /** Projects until caught up (or, following, until the signal), with signed checkpoints. */
  project(options: ProjectOptions): Promise<ProjectorResult>;
  /** The HTTP application (API and pages), built but not listening: `inject` in tests, `listen` in serve. */
  http(options?: BuildOptions & { metrics?: Metrics }): Promise<HttpApp>;
  /** What the leader election starts each time this process leads: the report schedule and the nightly reconciliation. */
  leaderWork(schedule: ScheduleFile, say: (line: string) => void): Promise<() => LeaderWork>;
  close(): Promise<void>;
};

export type OpenOptions = {
  /** Migrate as the owner first (default); `false` for commands that must not change the schema. */
  readonly migrate?: boolean;
  readonly clock?: () => Date;
};

/** Migrates (as the owner, unless told not to), then works as the service's own login. */
export async function openApplication(config: Config, options: OpenOptions = {}): Promise<Application> {
  const db = await openDatabase(config, {
    log: process.env.LEDGER_DEBUG === '1' ? (line) => process.stderr.write(`postgres: ${line}\n`) : () => undefined,
    migrate: options.migrate !== false,
  });
  const clock = options.clock ?? (() => new Date());
  let reports: Promise<ReportContext> | null = null;
  const application: Application = {
    config, db, clock,
    reportContext: () => (reports ??= (async () => ({
      pool: db.pool,
      key: await signingKeyForLedger(db.pool, config),
      dataDir: config.dataDir,
      lineageBaseUrl: `${config.publicUrl}/figures`,
    }))()),
    project: (projectOptions) => projectOnce(application, projectOptions),
    http: async (buildOptions = {}) => {
      const { metrics, ...rest } = buildOptions;
      return buildApp(config, { pool: db.pool, metrics: metrics ?? createMetrics(db.pool), clock,
        reports: await application.reportContext() }, rest);
    },
    leaderWork: async (schedule, say) => {
      const reports = await application.reportContext();
      return () => startSchedulers({ reports, schedule, config, say });
    },
    close: () => db.close(),
  };
  return application;
}

export async function withApplication<T>(
  config: Config, options: OpenOptions, work: (application: Application) => Promise<T>,
): Promise<T> {
  const application = await openApplication(config, options);
  try {
    return await work(application);
  } finally {
    await application.close();
  }
}

export type ProjectOptions = {
  follow: boolean;
  /**
   * 'terminal': one line rewritten in place on stderr, only when it is a terminal (the CLI,
   * without --json); 'log': the service's log line every 2 s (JSON unless stderr is a
   * terminal); 'none'.
   */
  progress: 'terminal' | 'log' | 'none';
  signal?: AbortSignal;
  /** Told of every committed batch (the service's metrics). */
  onBatch?: (report: ProgressReport) => void;
};

async function projectOnce(application: Application, options: ProjectOptions): Promise<ProjectorResult> {
  const { config, db } = application;
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
  const progress = options.progress === 'none' ? null
    : await projectorProgress(application, log, options.progress, controller.signal);
  try {
    return await runProjector({
      pool: db.pool, consumer, topics: config.topics, follow: options.follow, signal: controller.signal, trustedKeys,
      batchMessagesMax: config.batchMessagesMax,
      ...(config.projectorThreads === 0 ? {} : {
        threads: { count: config.projectorThreads, databaseUrl: db.serviceUrl, databaseRole: null },
      }),
      checkpoint: async () => { await writeCheckpoint(db.pool, key, config.dataDir, new Date()); },
      ...(progress === null && options.onBatch === undefined ? {} : { onBatch: (report: ProgressReport) => {
        progress?.(report);
        options.onBatch?.(report);
      } }),
    });
  } finally {
    progress?.finish();
    if (ownSignals) {
      process.removeListener('SIGTERM', stop);
      process.removeListener('SIGINT', stop);
    }
    options.signal?.removeEventListener('abort', stop);
    await consumer.close();
    await log.producer.close();
  }
}

/**
 * Messages projected by this run, of a total that is what the log held beyond the
 * committed offsets when it started (each topic's end offsets minus ledger.log_partitions)
 * and grows with what is appended meanwhile: each batch tells its partition's high
 * watermark. The service's log line also names the lag per partition.
 */
async function projectorProgress(
  application: Application, log: Awaited<ReturnType<typeof openLog>>, mode: 'terminal' | 'log', signal: AbortSignal,
): Promise<((report: ProgressReport) => void) & { finish(): void } | null> {
  const lag = new Map<string, number>();
  const sink = mode === 'terminal' ? terminalProgress('projecting', 'messages')
    : logProgress('projecting', 'messages', () => ({ lag: Object.fromEntries([...lag.entries()].sort()) }));
  if (sink === null) return null;
  // The total is a nicety: a stop (the signal) or a slow broker never waits for it.
  const settled = new AbortController();
  const atStart = await Promise.race([lagAtStart(application, log),
    sleepMs(lagAtStartWaitMs, AbortSignal.any([signal, settled.signal])).then(() => new Map<string, number>())]);
  settled.abort(); // the wait's timer, when the offsets came first
  for (const [partition, behind] of atStart) lag.set(partition, behind);
  let done = 0;
  const totalNow = () => done + [...lag.values()].reduce((sum, n) => sum + n, 0);
  sink.update(0, totalNow());
  return Object.assign((report: ProgressReport) => {
    lag.set(`${report.topic}/${report.partition}`, Math.max(0, report.highWatermark - report.nextOffset));
    done += report.counts.posted + report.counts.duplicates + report.counts.quarantined;
    sink.update(done, totalNow());
  }, { finish: () => sink.finish() });
}

const lagAtStartWaitMs = 5_000;

/** Per partition, how far the log runs ahead of the journal; empty when the log cannot say (the total is then learnt batch by batch). */
async function lagAtStart(application: Application, log: Awaited<ReturnType<typeof openLog>>): Promise<Map<string, number>> {
  const lag = new Map<string, number>();
  try {
    const stored = await application.db.pool.query<{ topic: string; partition: number; next_offset: string }>(
      'SELECT topic, partition, next_offset FROM ledger.log_partitions');
    const committed = new Map(stored.rows.map((r) => [`${r.topic}/${r.partition}`, Number(r.next_offset)]));
    for (const topic of application.config.topics) {
      for (const [partition, end] of await log.producer.endOffsets(topic)) {
        lag.set(`${topic}/${partition}`, Math.max(0, end - (committed.get(`${topic}/${partition}`) ?? 0)));
      }
    }
  } catch {
    lag.clear(); // a topic not there yet, say: the total comes from the batches instead
  }
  return lag;
}
