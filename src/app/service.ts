// The service `ledger serve` runs, built from its config and started and stopped in one
// order. Start: migrations, the log made ready (demo data as the policy says), the
// projector caught up, a summary, then the leader election (the leader runs the
// schedulers) and the projector following the log. Stop (the signal): the election
// (the schedulers stop, their run in hand finishes, the lock is released) and the
// projector (its batch in hand commits) at once, then the database once both are done. Several services may share one database and one broker:
// the projector's consumer group splits the partitions, and the leader lock makes one of
// them run each scheduled report and each night's reconciliation.
import type { Config } from '../config.ts';
import { createPool, redactUrl, type Pool } from '../db/database.ts';
import { checkpointsDir } from '../integrity/checkpoints.ts';
import { fromMinor, toDecimalString, type CurrencyCode } from '../ledger/money.ts';
import type { ScheduleFile } from '../reports/schedule.ts';
import { loadSchedule } from '../reports/scheduler.ts';
import { openLedger, projectOnce, type Ledger } from '../cli/context.ts';
import { reportContext } from '../cli/report-commands.ts';
import { prepareLog, type DemoPolicy } from './demo.ts';
import { startElection } from './leader.ts';
import { startSchedulers } from './schedulers.ts';

export type ServiceOptions = {
  readonly demo: DemoPolicy;
  /** Aborted to stop the service (serve's SIGINT and SIGTERM). */
  readonly signal: AbortSignal;
  readonly say: (line: string) => void;
};

/** Runs the service until `signal`; resolves once everything is stopped and closed. */
export async function runService(config: Config, { demo, signal, say }: ServiceOptions): Promise<void> {
  const schedule = await loadSchedule(config.scheduleFile);
  const ledger = await openLedger(config);
  try {
    await prepareLog(config, demo, say);
    if (signal.aborted) return;
    const caughtUp = await projectOnce(ledger, { follow: false, progress: true, signal });
    if (signal.aborted) return;
    await printSummary(ledger, caughtUp, say);
    await follow(ledger, schedule, signal, say);
  } finally {
    await ledger.close();
  }
}

async function follow(
  ledger: Ledger, schedule: ScheduleFile, signal: AbortSignal, say: (line: string) => void,
): Promise<void> {
  const { config } = ledger;
  const reports = await reportContext(ledger);
  // The lock's session is a connection of its own: the service's pool recycles its own.
  const lockPool = createPool(ledger.db.serviceUrl, null, 1);
  const election = startElection({
    pool: lockPool, pollMs: config.leaderPollMs, log: say,
    lead: () => startSchedulers({ reports, schedule, config, say }),
  });
  say(`ledger: following the log; the leader runs the schedulers (lock polled every ${config.leaderPollMs} ms); ` +
    'Ctrl-C to stop');
  // On the signal the schedulers stop and the lock is released at once, while the
  // projector finishes its batch in hand.
  let electionStopped: Promise<void> | null = null;
  const stopElection = () => (electionStopped ??= election.stop());
  signal.addEventListener('abort', stopElection, { once: true });
  try {
    await projectOnce(ledger, { follow: true, progress: true, signal });
  } finally {
    signal.removeEventListener('abort', stopElection);
    await stopElection();
    await lockPool.end();
  }
}

async function printSummary(
  ledger: Ledger, caughtUp: { posted: number; duplicates: number; quarantined: number }, say: (line: string) => void,
): Promise<void> {
  const { config } = ledger;
  say(`ledger: data in ${config.dataDir}`);
  say(`ledger: PostgreSQL ${redactUrl(ledger.db.serviceUrl)} (the service's own login, ${ledger.db.serviceRole})`);
  say(`ledger: log ${config.kafkaBrokers === null ? `embedded, ${config.dataDir}/log` : config.kafkaBrokers.join(',')}`);
  say(`ledger: signed checkpoints in ${checkpointsDir(config.dataDir)}`);
  say(`ledger: projected ${caughtUp.posted} entries, ${caughtUp.duplicates} duplicates, ` +
    `${caughtUp.quarantined} quarantined`);
  await printTrialBalance(ledger.db.pool, say);
}

/** A one-line-per-currency summary; full trial balances are report runs (`ledger report run`). */
async function printTrialBalance(pool: Pool, say: (line: string) => void): Promise<void> {
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
