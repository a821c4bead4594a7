// Report runs as a caller may see them (API.md, Scope): the use cases behind both
// GET /api/report-runs and the web pages. A run is visible when every (currency, market)
// of its figures is within one of the caller's scopes; out of scope is absent, never
// counted, so a page of runs is filled from as many stored runs as it takes (bounded).
import type { Scope } from '../access-control/scope.ts';
import { allInScope } from '../access-control/scope.ts';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Pool } from '../db/database.ts';
import { UserError } from '../errors.ts';
import { runSubjects, type ReportCurrencies } from './run-scope.ts';
import { listRuns, loadRun, loadTemplates, type StoredRun } from './runs.ts';

const listScanPagesMax = 20;

export type RunListFilter = { readonly report?: string | undefined; readonly period?: string | undefined };
export type ListedRun = Awaited<ReturnType<typeof listRuns>>[number];

/** Reports whose figures carry no currency dim, and the currency they are in (for scope). */
export async function reportCurrencies(templatesDir?: string): Promise<ReportCurrencies> {
  return new Map([...await loadTemplates(templatesDir)].map(([report, template]) => [report, template.currency]));
}

/** The runs among `runIds` whose every figure is within the caller's scopes. */
export async function visibleRuns(
  pool: Pool, currencies: ReportCurrencies, scopes: readonly Scope[], runIds: readonly string[],
): Promise<Set<string>> {
  if (runIds.length === 0) return new Set();
  const subjects = await runSubjects(pool, runIds, currencies);
  return new Set(runIds.filter((id) => (subjects.get(id) ?? [])
    .every((subject) => scopes.some((scope) => allInScope(scope, [subject])))));
}

/** The run, or a 404 when it does not exist or is outside every scope. */
export async function runInScope(
  pool: Pool, currencies: ReportCurrencies, scopes: readonly Scope[], id: string,
): Promise<StoredRun> {
  const run = await loadRun(pool, id).catch(() => null);
  if (run === null || !(await visibleRuns(pool, currencies, scopes, [id])).has(id)) {
    throw new UserError('not_found', `no report run ${id}`);
  }
  return run;
}

/** A run matches a period filter when its period, as_of date or year starts with it. */
function matchesPeriod(params: Record<string, string>, period: string | undefined): boolean {
  if (period === undefined || period === '') return true;
  return [params.period, params.as_of, params.year].some((v) => v !== undefined && v.startsWith(period));
}

/** Runs in scope, newest first, `limit` of them from before `beforeSeq`; `nextSeq` for the next page. */
export async function listRunsInScope(
  pool: Pool, currencies: ReportCurrencies, scopes: readonly Scope[],
  page: { limit: number; beforeSeq?: number | undefined; filter?: RunListFilter },
): Promise<{ items: ListedRun[]; nextSeq: number | null }> {
  let before = page.beforeSeq;
  const items: ListedRun[] = [];
  let more = true;
  for (let scanned = 0; scanned < listScanPagesMax && more && items.length < page.limit; scanned += 1) {
    const raw = await listRuns(pool, page.limit, before);
    more = raw.length === page.limit;
    before = raw.at(-1)?.run_seq ?? before;
    const wanted = raw.filter((r) => (page.filter?.report === undefined || page.filter.report === ''
      || r.report === page.filter.report) && matchesPeriod(r.params, page.filter?.period));
    const seen = await visibleRuns(pool, currencies, scopes, wanted.map((r) => r.run_id));
    for (const run of wanted) if (seen.has(run.run_id) && items.length < page.limit) items.push(run);
  }
  const last = items.at(-1);
  return { items, nextSeq: items.length === page.limit && last !== undefined ? last.run_seq : null };
}

export const runFileFormats = ['json', 'csv', 'xlsx', 'pdf', 'manifest'] as const;
export type RunFileFormat = (typeof runFileFormats)[number];

/** A run's files as this service keeps them: name, published SHA-256 ('' for the manifest), size or null when absent. */
export async function runFiles(dataDir: string, run: StoredRun) {
  const dir = path.join(dataDir, 'reports', run.header.run_id);
  const files: Array<{ format: RunFileFormat; name: string; sha256: string; bytes: number | null }> = [];
  for (const format of runFileFormats) {
    const entry = format === 'manifest' ? null : run.files[format];
    const name = entry?.name ?? (format === 'manifest' ? `${run.header.report}-${run.header.run_id}.manifest.json` : null);
    if (name === null) continue;
    const bytes = await stat(path.join(dir, name)).then((s) => s.size, () => null);
    files.push({ format, name, sha256: entry?.sha256 ?? '', bytes });
  }
  return files;
}

const seriesMonthsMax = 12;

/**
 * One figure by market across months, from the newest run in scope of `report` for each
 * period up to `lastPeriod` with the same currency parameter (at most 12 months): the
 * data of "revenue by market across months". Figures of runs the caller cannot see are
 * never read.
 */
export async function figureAcrossMonths(
  pool: Pool, currencies: ReportCurrencies, scopes: readonly Scope[],
  request: { report: string; key: string; lastPeriod: string; currencyParam: string | undefined },
): Promise<Array<{ period: string; figures: Array<{ dims: Record<string, string>; value: string }> }>> {
  const listed = await listRunsInScope(pool, currencies, scopes, { limit: 200, filter: { report: request.report } });
  const newestByPeriod = new Map<string, string>();
  for (const run of listed.items) {
    const period = run.params.period;
    if (period === undefined || period > request.lastPeriod || run.params.currency !== request.currencyParam) continue;
    if (!newestByPeriod.has(period)) newestByPeriod.set(period, run.run_id);
  }
  const periods = [...newestByPeriod.keys()].sort().slice(-seriesMonthsMax);
  const runIds = periods.map((p) => newestByPeriod.get(p) as string);
  const rows = await pool.query<{ run_id: string; dims: Record<string, string>; value: string }>(
    `SELECT run_id, dims, value FROM ledger.report_figures WHERE run_id = ANY($1::uuid[]) AND key = $2 ORDER BY ordinal`,
    [runIds, request.key]);
  return periods.map((period) => ({ period, figures: rows.rows.filter((r) => r.run_id === newestByPeriod.get(period))
    .map((r) => ({ dims: r.dims, value: r.value })) }));
}
