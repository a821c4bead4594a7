// The nightly reconciliation in `ledger serve`: at LEDGER_RECON_TIME (UTC, default 02:00)
// it reconciles the day before, as the service identity `reconciliation-job`, with the
// files it finds in the inbox (LEDGER_RECON_INBOX, default LEDGER_DATA_DIR/inbox):
//
//   processor-YYYY-MM-DD.csv        the processor balance file of that date
//   bank-YYYY-MM-DD.csv  or  .xml   the bank statement (CSV, or camt.053 XML)
//
// A missing file is not a silent skip: the run is still recorded, with its input check
// failed and that side not reconciled, and the job says so on stderr.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import cron from 'node-cron';
import type { Config } from '../config.ts';
import type { Pool } from '../db/database.ts';
import type { RunRecord } from './record.ts';
import { runReconciliation, type InputSpec } from './run.ts';
import { dayMs } from './types.ts';

export const jobIdentity = 'reconciliation-job';

type JobConfig = Pick<Config, 'dataDir' | 'reconInboxDir' | 'reconTimeUtc' | 'reconGraceDays' | 'reconToleranceDays'>;

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
  pool: Pool, config: JobConfig, now: Date, publish?: (run: RunRecord) => Promise<unknown>,
): Promise<RunRecord> {
  const date = new Date((Math.floor(now.getTime() / dayMs) - 1) * dayMs).toISOString().slice(0, 10);
  const run = await runReconciliation(pool, {
    date, ...inboxFiles(config.reconInboxDir, date), requestedBy: jobIdentity, graceDays: config.reconGraceDays,
    toleranceDays: config.reconToleranceDays, now: () => new Date(),
  });
  await writeRunFile(run, path.join(config.dataDir, 'reconciliation'));
  await publish?.(run);
  return run;
}

/**
 * Schedules the nightly run (node-cron, UTC). Returns a stop function; it also stops on
 * SIGINT or SIGTERM, so that `ledger serve` needs one line to start it.
 */
export function startNightlyReconciliation(
  pool: Pool, config: JobConfig, say: (line: string) => void, publish?: (run: RunRecord) => Promise<unknown>,
): () => void {
  const [hour, minute] = config.reconTimeUtc.split(':').map(Number);
  const task = cron.schedule(`${minute} ${hour} * * *`, async () => {
    try {
      const run = await runNightlyReconciliation(pool, config, new Date(), publish);
      for (const line of summaryLines(run)) say(`reconciliation: ${line}`);
    } catch (error) {
      say(`reconciliation: the nightly run failed: ${(error as Error).message}`);
    }
  }, { timezone: 'Etc/UTC', name: 'nightly-reconciliation', noOverlap: true });
  const stop = () => {
    void task.stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  say(`ledger: nightly reconciliation at ${config.reconTimeUtc} UTC from ${config.reconInboxDir}`);
  return stop;
}

export async function writeRunFile(run: RunRecord, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `reconciliation-${run.date}-${run.run_id}.json`);
  await writeFile(file, `${JSON.stringify(run, null, 2)}\n`);
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
