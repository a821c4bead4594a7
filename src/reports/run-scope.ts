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
  for (const row of rows.rows) {
    const currency = row.currency ?? currencies.get(row.report) ?? null;
    subjects.get(row.run_id)?.push({
      currency: currency === 'USD' || currency === 'CAD' ? currency : null, market: row.market,
    });
  }
  return subjects;
}
