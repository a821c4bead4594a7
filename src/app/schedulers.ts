// What the leader runs: the report schedule and the nightly reconciliation. Started each
// time this process becomes the leader (src/app/leader.ts), stopped when it stops being
// one or the service stops. The cron tasks start first and the catch-up (runs missed
// while nobody led) right after, so an occurrence that falls due during the catch-up is
// fired by cron rather than missed between the two; where they meet on one occurrence,
// its key (scheduled_runs, nightly_runs) and lock let it run once.
import type { Config } from '../config.ts';
import { reconciliationRenderInput } from '../reconciliation/render.ts';
import { catchUpNightly, startNightlyReconciliation } from '../reconciliation/nightly.ts';
import type { RunRecord } from '../reconciliation/record.ts';
import { publishRenderedRun, type ReportContext } from '../reports/runs.ts';
import type { ScheduleFile } from '../reports/schedule.ts';
import { catchUp, startScheduler } from '../reports/scheduler.ts';
import type { LeaderWork } from './leader.ts';

export type SchedulerDeps = {
  readonly reports: ReportContext;
  readonly schedule: ScheduleFile;
  readonly config: Config;
  readonly say: (line: string) => void;
};

export function startSchedulers({ reports, schedule, config, say }: SchedulerDeps): LeaderWork {
  let stopped = false;
  const isStopped = () => stopped;
  const publish = (run: RunRecord) => publishRenderedRun(reports, reconciliationRenderInput(run));
  const stopReports = startScheduler(reports, schedule, say);
  const stopNightly = startNightlyReconciliation(reports.pool, config, say, publish);
  const caughtUp = (async () => {
    const runs = await catchUp(reports, schedule, new Date(), say, isStopped);
    say(`ledger: scheduler caught up ${runs.length} report runs; files under ${config.dataDir}/reports`);
    const nights = await catchUpNightly(reports.pool, config, new Date(), say, { publish, isStopped });
    say(`ledger: nightly reconciliation caught up ${nights.length} night(s)`);
  })().catch((error: unknown) => {
    say(`ledger: the schedulers' catch-up failed (${(error as Error).message}); tried again at the next occurrence`);
  });
  return {
    async stop() {
      stopped = true;
      await Promise.all([stopReports(), stopNightly(), caughtUp]);
    },
  };
}
