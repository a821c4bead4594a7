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
import { openApplication, type Application } from './application.ts';
import { prepareLog, type DemoPolicy } from './demo.ts';
import { startElection } from './leader.ts';
import { listen } from './http.ts';
import type { HttpApp } from '../http/server.ts';
import { createMetrics } from '../observability/metrics.ts';
import type { ProgressReport } from '../projector/projector.ts';
import { adminsInForce } from '../access-control/store.ts';
import { bootstrapAdmin } from '../access-control/service.ts';

export type ServiceOptions = {
  readonly demo: DemoPolicy;
  /** Aborted to stop the service (serve's SIGINT and SIGTERM). */
  readonly signal: AbortSignal;
  readonly say: (line: string) => void;
};

/** Runs the service until `signal`; resolves once everything is stopped and closed. */
export async function runService(config: Config, { demo, signal, say }: ServiceOptions): Promise<void> {
  const schedule = await loadSchedule(config.scheduleFile);
  const ledger = await openApplication(config);
  let app: HttpApp | null = null;
  try {
    const metrics = createMetrics(ledger.db.pool);
    app = await ledger.http({ metrics });
    const url = await listen(app, config);
    await prepareLog(config, demo, say);
    if (signal.aborted) return;
    const onBatch = (report: ProgressReport) => metrics.observeBatch(report);
    const caughtUp = await ledger.project({ follow: false, progress: 'log', signal, onBatch });
    if (signal.aborted) return;
    await printSummary(ledger, caughtUp, say);
    await sayHowToLogIn(ledger, url, say);
    await follow(ledger, schedule, signal, say, onBatch);
  } finally {
    await app?.close();
    await ledger.close();
  }
}

/**
 * The URL and how to log in. On the embedded defaults with no admin yet, the first admin
 * is made here and its token shown this once; elsewhere an operator bootstraps by hand.
 */
async function sayHowToLogIn(ledger: Application, url: string, say: (line: string) => void): Promise<void> {
  say(`ledger: API at ${url}/api (OpenAPI: ${url}/api/openapi.json; health: ${url}/api/health)`);
  say(`ledger: web pages at ${url}/ (log in with an API token)`);
  const ctx = { pool: ledger.db.pool, clock: () => new Date() };
  if ((await adminsInForce(ctx.pool, ctx.clock())).length > 0) {
    say('ledger: log in with an API token: `npx ledger access token --as ADMIN --user YOU` issues one');
    return;
  }
  if (ledger.config.databaseUrl !== null) {
    say('ledger: no admin yet: `npx ledger access bootstrap --name NAME --email EMAIL` makes the first, with its token');
    return;
  }
  const first = await bootstrapAdmin(ctx, 'serve:first-start', { name: 'Administrator', email: null });
  say(`ledger: first admin "${first.user.id}" made; its API token, shown this once (keep it):`);
  say(`ledger:   ${first.token}`);
  say(`ledger: try: curl -H "Authorization: Bearer ${first.token}" ${url}/api/access/users`);
}

async function follow(
  ledger: Application, schedule: ScheduleFile, signal: AbortSignal, say: (line: string) => void,
  onBatch: (report: ProgressReport) => void,
): Promise<void> {
  const { config } = ledger;
  // The lock's session is a connection of its own: the service's pool recycles its own.
  const lockPool = createPool(ledger.db.serviceUrl, null, 1);
  const election = startElection({
    pool: lockPool, pollMs: config.leaderPollMs, log: say,
    lead: await ledger.leaderWork(schedule, say),
  });
  say(`ledger: following the log; the leader runs the schedulers (lock polled every ${config.leaderPollMs} ms); ` +
    'Ctrl-C to stop');
  // On the signal the schedulers stop and the lock is released at once, while the
  // projector finishes its batch in hand.
  let electionStopped: Promise<void> | null = null;
  const stopElection = () => (electionStopped ??= election.stop());
  signal.addEventListener('abort', stopElection, { once: true });
  try {
    await ledger.project({ follow: true, progress: 'log', signal, onBatch });
  } finally {
    signal.removeEventListener('abort', stopElection);
    await stopElection();
    await lockPool.end();
  }
}

async function printSummary(
  ledger: Application, caughtUp: { posted: number; duplicates: number; quarantined: number }, say: (line: string) => void,
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
