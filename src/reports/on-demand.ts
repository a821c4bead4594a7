// Running a report on demand (API.md: POST /api/report-runs, and the web page's form):
// the params are checked first (400 before anything), the caller must hold a grant whose
// scope covers what the run will show (params.currency and params.market), then the run
// is made; the answer waits a few seconds for it, else says it is running and the caller
// follows its id. One instance serves the API and the pages, so either sees the other's
// runs in progress.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { scopeCovers, type Scope } from '../access-control/scope.ts';
import type { GrantRecord } from '../access-control/store.ts';
import { UserError } from '../errors.ts';
import { ProgressMeter } from '../observability/progress.ts';
import { checkRunParams, createRun, type ReportContext } from './runs.ts';

/** How long a request waits for a run before answering that it is running ("within a few seconds"). */
export const runWaitMs = 5_000;
const failedKeptMs = 10 * 60_000;

export type RunInProgress = {
  readonly id: string; readonly report: string; readonly params: Record<string, string | undefined>;
  readonly requestedBy: string; readonly startedAt: Date; failed: string | null;
  /** Rows rendered so far, of how many: kept here, in memory, until the run is published (then the row says it all). */
  readonly meter: ProgressMeter;
};

export class OnDemandRuns {
  private readonly running = new Map<string, RunInProgress>();
  constructor(private readonly ctx: ReportContext) {}

  /** The run `identityId` started that is still running (or failed lately), else null. */
  progress(id: string, identityId: string | undefined): RunInProgress | null {
    const run = this.running.get(id);
    return run !== undefined && run.requestedBy === identityId ? run : null;
  }

  /** The grant among `grants` (reports:run, in force) that covers the run's scope, else a 403. */
  async grantFor(report: string, params: Record<string, string>, grants: readonly GrantRecord[]): Promise<GrantRecord> {
    await checkRunParams(report, params, this.ctx.templatesDir); // 400 before anything
    const asked: Scope = { currencies: params.currency === undefined ? null : [params.currency as 'USD'],
      markets: params.market === undefined ? null : [params.market] };
    const grant = grants.find((g) => scopeCovers(g.scope, asked));
    if (grant === undefined) {
      throw new UserError('forbidden', 'your grant does not cover this run\'s scope: run it with params.currency ' +
        'and params.market within your scope', 'params');
    }
    return grant;
  }

  /** Starts the run; `finished` when it was published within runWaitMs. */
  async start(
    request: { report: string; params: Record<string, string>; requestedBy: string; at: Date }, log: Logger | null,
  ): Promise<{ id: string; finished: boolean }> {
    const id = randomUUID();
    const entry: RunInProgress = { id, report: request.report, params: request.params, requestedBy: request.requestedBy,
      startedAt: request.at, failed: null,
      meter: new ProgressMeter({ label: 'rendering', unit: 'rows', clock: () => performance.now() }) };
    this.running.set(id, entry);
    const made = createRun(this.ctx, { report: request.report, params: request.params, requestedBy: request.requestedBy,
      now: request.at, runId: id, onProgress: (done, total) => entry.meter.update(done, total) })
      .then(() => { this.running.delete(id); }, (error: unknown) => {
        entry.failed = error instanceof Error ? error.message : String(error);
        setTimeout(() => this.running.delete(id), failedKeptMs).unref();
        throw error;
      });
    const finished = await Promise.race([made.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), runWaitMs).unref())]);
    if (!finished) made.catch((error: unknown) => log?.error({ err: error, run: id }, 'report run failed'));
    return { id, finished };
  }
}
