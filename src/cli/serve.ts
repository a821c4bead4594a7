// `ledger serve` (npm start): migrations, demo data on an empty log, the projector
// following the log, and a short summary of where things are. HTTP and the scheduler
// join here as their issues land.
import type { Config } from '../config.ts';
import { redactUrl } from '../db/database.ts';
import { generateEventStream } from '../generator/index.ts';
import { checkpointsDir } from '../integrity/checkpoints.ts';
import { openLog } from '../log/open.ts';
import { publishLines } from '../log/publish.ts';
import { runTrialBalance } from '../reports/report-run.ts';
import { startNightlyReconciliation } from '../reconciliation/nightly.ts';
import { openLedger, projectOnce } from './context.ts';

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
    startNightlyReconciliation(ledger.db.pool, config, say);
    say('ledger: following the log; Ctrl-C to stop');
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort());
    process.once('SIGTERM', () => controller.abort());
    await projectOnce(ledger, { follow: true, progress: true, signal: controller.signal });
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
    const lines = generateEventStream({ seed: demo.seed, rentals: demo.rentals, month, badMessages: true });
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

async function printTrialBalance(pool: import('../db/database.ts').Pool, say: (line: string) => void) {
  const run = await runTrialBalance(pool, new Date(Date.now() + 1000).toISOString(), 'serve', new Date());
  for (const f of run.figures.filter((x) => x.key.startsWith('total_'))) {
    say(`ledger: trial balance ${f.dims.currency} ${f.key} ${f.value}`);
  }
}
