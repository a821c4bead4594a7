// `ledger serve` (npm start): migrations, demo data on an empty log, the projector
// following the log, the report scheduler (missed runs caught up first), and a short
// summary of where things are.
import type { Config } from '../config.ts';
import { fromMinor, toDecimalString, type CurrencyCode } from '../ledger/money.ts';
import { redactUrl } from '../db/database.ts';
import { generateEventStream } from '../generator/index.ts';
import { approverFor } from '../ledger/approval.ts';
import { loadSigningKey } from '../signing/keys.ts';
import { checkpointsDir } from '../integrity/checkpoints.ts';
import { openLog } from '../log/open.ts';
import { publishLines } from '../log/publish.ts';
import { catchUp, loadSchedule, startScheduler } from '../reports/scheduler.ts';
import { startNightlyReconciliation } from '../reconciliation/nightly.ts';
import { reconciliationRenderInput } from '../reconciliation/render.ts';
import { publishRenderedRun } from '../reports/runs.ts';
import { openLedger, projectOnce } from './context.ts';
import { reportContext } from './report-commands.ts';

const demo = { seed: 1, rentals: 2_000 } as const;

export async function serve(config: Config): Promise<void> {
  const ledger = await openLedger(config);
  const say = (line: string) => process.stderr.write(`${line}\n`);
  try {
    await seedDemoData(config, say);
    const caughtUp = await projectOnce(ledger, { follow: false, progress: true });
    say(`ledger: data in ${config.dataDir}`);
    say(`ledger: PostgreSQL ${redactUrl(ledger.db.url)}`);
    say(`ledger: log ${config.kafkaBrokers === null ? `embedded, ${config.dataDir}/log` : config.kafkaBrokers.join(',')}`);
    say(`ledger: signed checkpoints in ${checkpointsDir(config.dataDir)}`);
    say(`ledger: projected ${caughtUp.posted} entries, ${caughtUp.duplicates} duplicates, ` +
      `${caughtUp.quarantined} quarantined`);
    await printTrialBalance(ledger.db.pool, say);
    const reports = await reportContext(ledger);
    const schedule = await loadSchedule();
    const caughtUpRuns = await catchUp(reports, schedule, new Date(), say);
    say(`ledger: scheduler caught up ${caughtUpRuns.length} report runs; files under ${config.dataDir}/reports`);
    const stopScheduler = startScheduler(reports, schedule, say);
    startNightlyReconciliation(ledger.db.pool, config, say,
      (run) => publishRenderedRun(reports, reconciliationRenderInput(run)));
    say('ledger: following the log; Ctrl-C to stop');
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort());
    process.once('SIGTERM', () => controller.abort());
    try {
      await projectOnce(ledger, { follow: true, progress: true, signal: controller.signal });
    } finally {
      await stopScheduler();
    }
    say('ledger: stopped');
  } finally {
    await ledger.close();
  }
}

async function seedDemoData(config: Config, say: (line: string) => void): Promise<void> {
  const log = await openLog(config);
  try {
    const topic = config.topics[0] as string;
    await log.producer.ensureTopic(topic, log.newTopicPartitions);
    const ends = await log.producer.endOffsets(topic);
    if ([...ends.values()].some((end) => end > 0)) return;
    const month = previousMonth(new Date());
    const approve = approverFor(await loadSigningKey(config.dataDir, config.signingKeyPem));
    const lines = generateEventStream({ seed: demo.seed, rentals: demo.rentals, month, badMessages: true, approve });
    await publishLines(log.producer, topic, log.newTopicPartitions, lines);
    say(`ledger: the log was empty; published ${lines.length} demo events for ${month} (seed ${demo.seed})`);
  } finally {
    await log.producer.close();
  }
}

function previousMonth(now: Date): string {
  const date = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return date.toISOString().slice(0, 7);
}

/** A one-line-per-currency summary; full trial balances are report runs (`ledger report run`). */
async function printTrialBalance(pool: import('../db/database.ts').Pool, say: (line: string) => void) {
  const totals = await pool.query<{ currency: CurrencyCode; debits: string; credits: string }>(
    `SELECT currency, coalesce(sum(amount_minor) FILTER (WHERE side = 'debit'), 0) AS debits,
            coalesce(sum(amount_minor) FILTER (WHERE side = 'credit'), 0) AS credits
       FROM ledger.journal_lines GROUP BY currency ORDER BY currency`);
  for (const t of totals.rows) {
    const show = (minor: string) => toDecimalString(fromMinor(t.currency, BigInt(minor)));
    say(`ledger: trial balance ${t.currency}: debits ${show(t.debits)}, credits ${show(t.credits)}, ` +
      `balance ${show((BigInt(t.debits) - BigInt(t.credits)).toString())}`);
  }
}
