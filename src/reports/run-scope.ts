// What a report run is about, for scope (API.md, Scope): the distinct (currency, market)
// of its figures. A run is in a caller's scope only when every one of them is, so a run
// that covers USD and CAD is not visible to someone scoped to CAD.
import type { Pool } from '../db/database.ts';
import type { Subject } from '../access-control/scope.ts';

/** Reports whose figures carry no currency dim, and the currency they are in (form-1099-k: USD). */
export type ReportCurrencies = ReadonlyMap<string, 'USD' | 'CAD' | null>;

export async function runSubjects(
  pool: Pool, runIds: readonly string[], currencies: ReportCurrencies,
): Promise<Map<string, Subject[]>> {
  const rows = await pool.query<{ run_id: string; report: string; currency: string | null; market: string | null }>(
    `SELECT DISTINCT f.run_id, r.report, f.dims->>'currency' AS currency, f.dims->>'market' AS market
       FROM ledger.report_figures f JOIN ledger.report_runs r USING (run_id)
      WHERE f.run_id = ANY($1::uuid[])`, [runIds]);
  const subjects = new Map<string, Subject[]>(runIds.map((id) => [id, []]));
  for (const row of rows.rows) subjects.get(row.run_id)?.push(subjectOf(row.report, row, currencies));
  return subjects;
}

/** A listed run's subjects, from the figure dims listRuns read with it (`figureDims`). */
export function listedRunSubjects(
  run: { report: string; figure_dims?: ReadonlyArray<{ currency: string | null; market: string | null }> },
  currencies: ReportCurrencies,
): Subject[] {
  if (run.figure_dims === undefined) throw new Error('invariant violated: the run was listed without its figure dims');
  return run.figure_dims.map((pair) => subjectOf(run.report, pair, currencies));
}

function subjectOf(report: string, dims: { currency: string | null; market: string | null },
  currencies: ReportCurrencies): Subject {
  const currency = dims.currency ?? currencies.get(report) ?? null;
  return { currency: currency === 'USD' || currency === 'CAD' ? currency : null, market: dims.market };
}
