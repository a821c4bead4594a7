// The nightly reconciliation in `ledger serve`: at LEDGER_RECON_TIME (UTC, default 02:00)
// it reconciles the day before, as the service identity `reconciliation-job`, with the
// files it finds in the inbox (LEDGER_RECON_INBOX, default LEDGER_DATA_DIR/inbox):
//
//   processor-YYYY-MM-DD.csv        the processor balance file of that date
//   bank-YYYY-MM-DD.csv  or  .xml   the bank statement (CSV, or camt.053 XML)
//
// A missing file is not a silent skip: the run is still recorded, with its input check
// failed and that side not reconciled, and the job says so on stderr.
//
// A night missed while no service was leading is caught up, oldest first, as the report
// schedule is (at most limits.nightlyCatchUpDaysMax nights). Each date runs once: the
// database claims it (ledger.nightly_runs, 0009) in the run's own transaction, and a
// per-date advisory lock makes a second process wait and then find it done. Which
// process runs the job (the leader) and when it stops are decided in src/app.
import { existsSync } from 'node:fs';
import path from 'node:path';
import cron from 'node-cron';
import type { Config } from '../config.ts';
import type { Pool } from '../db/database.ts';
import { limits } from '../limits.ts';
import { missedOccurrences, type Schedule } from '../reports/schedule.ts';
import type { RunRecord } from './record.ts';
import { runReconciliation, type InputSpec } from './run.ts';
import { dayMs } from './types.ts';
import { writePrivateFileAtomic } from '../storage/files.ts';
import { readSigningKey } from '../signing/keys.ts';
import { loadTrustedKeys } from '../signing/trust.ts';

/** The job's identity; migration 0009 names it too (its runs claim their date). */
export const jobIdentity = 'reconciliation-job';

type JobConfig = Pick<Config, 'dataDir' | 'reconInboxDir' | 'reconTimeUtc' | 'reconGraceDays' | 'reconToleranceDays'
  | 'signingKeyPem' | 'trustedKeyFiles'>;

/** The inbox files of a date; the bank statement as CSV when present, else as camt.053. */
export function inboxFiles(inboxDir: string, date: string): { processor: InputSpec; bank: InputSpec } {
  const bankCsv = path.join(inboxDir, `bank-${date}.csv`);
  const bankXml = path.join(inboxDir, `bank-${date}.xml`);
  const bank: InputSpec = existsSync(bankCsv) || !existsSync(bankXml)
    ? { path: bankCsv, format: 'csv' } : { path: bankXml, format: 'camt053' };
  return { processor: { path: path.join(inboxDir, `processor-${date}.csv`), format: 'csv' }, bank };
}

/** One nightly run for the day before `now` (UTC); stored, and written to a json file. */
export async function runNightlyReconciliation(
  pool: Pool, config: JobConfig, now: Date, publish?: Publish,
): Promise<RunRecord> {
  return runNightlyFor(pool, config, dateBefore(now), publish);
}

type Publish = (run: RunRecord) => Promise<unknown>;

async function runNightlyFor(pool: Pool, config: JobConfig, date: string, publish?: Publish): Promise<RunRecord> {
  const run = await runReconciliation(pool, {
    date, ...inboxFiles(config.reconInboxDir, date), requestedBy: jobIdentity, graceDays: config.reconGraceDays,
    toleranceDays: config.reconToleranceDays, now: () => new Date(),
    trusted: await loadTrustedKeys(config, await readSigningKey(config.dataDir, config.signingKeyPem)),
  });
  await writeRunFile(run, path.join(config.dataDir, 'reconciliation'));
  await publish?.(run);
  return run;
}

/** The UTC date of the day before `instant`. */
function dateBefore(instant: Date): string {
  return new Date((Math.floor(instant.getTime() / dayMs) - 1) * dayMs).toISOString().slice(0, 10);
}

/**
 * The dates the job owes by `now`, oldest first: each night after `lastDate` whose run
 * time (`timeUtc` on the next day) has come, at most `max` (the newest). With no night run
 * yet, only the latest, as a first start of the report schedule does.
 */
export function nightlyDatesDue(timeUtc: string, lastDate: string | null, now: Date, max: number): string[] {
  const job: Schedule = { name: 'nightly-reconciliation', report: 'reconciliation', cadence: 'daily', at: timeUtc,
    params: {} };
  const lastDueAt = lastDate === null ? null : new Date(Date.parse(`${lastDate}T${timeUtc}:00Z`) + dayMs);
  return missedOccurrences(job, lastDueAt, now, max).map(dateBefore);
}

export type CatchUpOptions = { readonly publish?: Publish; readonly isStopped?: () => boolean };

/**
 * Runs every night owed by `now`, oldest first; returns the runs made. Stops at the first
 * failure (the night is tried again at the next catch-up, before any later one) and,
 * between nights, when `isStopped` says so.
 */
export async function catchUpNightly(
  pool: Pool, config: JobConfig, now: Date, say: (line: string) => void, options: CatchUpOptions = {},
): Promise<RunRecord[]> {
  const last = await pool.query<{ run_date: string | null }>(
    'SELECT max(run_date)::text AS run_date FROM ledger.nightly_runs');
  const made: RunRecord[] = [];
  for (const date of nightlyDatesDue(config.reconTimeUtc, last.rows[0]?.run_date ?? null, now,
    limits.nightlyCatchUpDaysMax)) {
    if (options.isStopped?.() === true) break;
    const outcome = await runNightlyOnce(pool, config, date, say, options.publish);
    if (outcome === 'failed') break;
    if (outcome !== 'already-run') made.push(outcome);
  }
  return made;
}

const uniqueViolation = '23505';

/** The night of `date`, unless it was run already (by this process or another). */
async function runNightlyOnce(
  pool: Pool, config: JobConfig, date: string, say: (line: string) => void, publish?: Publish,
): Promise<RunRecord | 'already-run' | 'failed'> {
  const client = await pool.connect();
  const lockKey = `nightly-reconciliation@${date}`;
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
    const done = await client.query('SELECT 1 FROM ledger.nightly_runs WHERE run_date = $1', [date]);
    if (done.rowCount !== 0) return 'already-run';
    const run = await runNightlyFor(pool, config, date, publish);
    for (const line of summaryLines(run)) say(`reconciliation: ${line}`);
    return run;
  } catch (error) {
    if ((error as { code?: string }).code === uniqueViolation) {
      say(`reconciliation: the night of ${date} was run by another process; not run again`);
      return 'already-run';
    }
    say(`reconciliation: the nightly run for ${date} failed, tried again at the next catch-up: ` +
      `${(error as Error).message}`);
    return 'failed';
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => undefined);
    client.release();
  }
}

/**
 * Schedules the job (node-cron, UTC): each firing catches up every night owed. Returns a
 * function that stops it at once, starts no new night, and resolves when the night in
 * hand is done. It listens to no signal: `ledger serve` stops it with everything else.
 */
export function startNightlyReconciliation(
  pool: Pool, config: JobConfig, say: (line: string) => void, publish?: Publish,
): () => Promise<void> {
  const [hour, minute] = config.reconTimeUtc.split(':').map(Number);
  let stopped = false;
  const inFlight = new Set<Promise<unknown>>();
  const task = cron.schedule(`${minute} ${hour} * * *`, async () => {
    const job = catchUpNightly(pool, config, new Date(), say, { ...(publish === undefined ? {} : { publish }),
      isStopped: () => stopped })
      .catch((error: unknown) => say(`reconciliation: the nightly catch-up failed: ${(error as Error).message}`));
    inFlight.add(job);
    try {
      await job;
    } finally {
      inFlight.delete(job);
    }
  }, { timezone: 'Etc/UTC', name: 'nightly-reconciliation', noOverlap: true });
  say(`ledger: nightly reconciliation at ${config.reconTimeUtc} UTC from ${config.reconInboxDir}`);
  return async () => {
    stopped = true;
    await task.stop();
    await Promise.allSettled([...inFlight]);
  };
}

/** The run as a json file people open: 0640 in a 0750 folder (storage/files.ts). */
export async function writeRunFile(run: RunRecord, dir: string): Promise<string> {
  const file = path.join(dir, `reconciliation-${run.date}-${run.run_id}.json`);
  await writePrivateFileAtomic(file, `${JSON.stringify(run, null, 2)}\n`);
  return file;
}

/** A few lines for a terminal or a log: the outcome counts, open breaks, failed checks. */
export function summaryLines(run: RunRecord): string[] {
  const counts = Object.entries(run.outcomes).map(([outcome, t]) => `${outcome} ${t.count}`).join(', ');
  const failed = run.checks.filter((c) => !c.ok);
  return [
    `run ${run.run_id} for ${run.date}: ${run.ok ? 'ok' : 'NOT OK'}`,
    counts,
    `${run.breaks_open} open break(s), ${run.breaks.length - run.breaks_open} resolved`,
    ...failed.map((c) => `FAIL ${c.name}: ${c.detail}`),
  ];
}
