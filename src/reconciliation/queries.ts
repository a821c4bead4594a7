// Reconciliation runs and breaks as a caller may read them: the queries behind
// /api/reconciliation-* and the reconciliation web pages. Scope: processor and bank rows
// have a currency and no market, so a run is in scope only for one grant with all
// markets whose currencies cover every currency of the run (a run with no currency at all
// needs a grant on everything), and a break only for a grant with all markets and its
// currency (docs/contract-readings.md). A resolution is recorded once, with its trail
// record in the same transaction.
import { allInScope, type Scope, type Subject } from '../access-control/scope.ts';
import { appendTrail } from '../access-control/trail.ts';
import { withTransaction, type Pool } from '../db/database.ts';
import { isUserError, UserError } from '../errors.ts';
import type { CurrencyCode } from '../ledger/money.ts';
import { money } from './record.ts';
import { resolveBreak } from './store.ts';

/** A run's currencies: of its tallies (every outcome, matched too) and of its unmatched items. */
const runColumns = `r.run_id, to_char(r.run_date, 'YYYY-MM-DD') AS run_date, r.requested_by, r.started_at, r.finished_at,
  r.supersedes, r.params, r.inputs, r.watermark, r.outcomes, r.checks, r.breaks_open, r.ok,
  (extract(epoch FROM r.started_at) * 1000000)::bigint::text AS started_us,
  ARRAY(SELECT jsonb_array_elements_text(jsonb_path_query_array(r.outcomes, '$.categories[*].currency'))
        UNION SELECT i.currency FROM ledger.reconciliation_items i WHERE i.run_id = r.run_id) AS currencies`;

export type RunRow = {
  run_id: string; run_date: string; requested_by: string; started_at: Date; finished_at: Date; supersedes: string | null;
  params: unknown; inputs: unknown; watermark: unknown; outcomes: { outcomes: unknown; categories: unknown };
  checks: unknown; breaks_open: number; ok: boolean; started_us: string; currencies: CurrencyCode[];
};

export function runSubjects(currencies: readonly CurrencyCode[]): Subject[] {
  if (currencies.length === 0) return [{ currency: null, market: null }];
  return currencies.map((currency) => ({ currency, market: null }));
}

/**
 * The SQL form of grantForRun over a list: scopes as JSON `[[currencies] | null]`, one per
 * grant with all markets. A null entry sees every run; a list sees runs whose currencies
 * it covers, and never a run with none.
 */
export function runScopeFilter(scopes: readonly Scope[]): string {
  return JSON.stringify(scopes.filter((s) => s.markets === null).map((s) => s.currencies));
}
const runScopeSql = (param: string, currenciesSql: string) => `EXISTS (
  SELECT 1 FROM jsonb_array_elements(${param}::jsonb) g(c)
  WHERE jsonb_typeof(g.c) = 'null' OR (cardinality(${currenciesSql}) > 0
    AND ${currenciesSql} <@ ARRAY(SELECT jsonb_array_elements_text(g.c))))`;

export function runJson(row: RunRow) {
  return { id: row.run_id, date: row.run_date, requested_by: row.requested_by, started_at: row.started_at.toISOString(),
    finished_at: row.finished_at.toISOString(), supersedes: row.supersedes, currencies: [...row.currencies].sort(),
    params: row.params, outcomes: row.outcomes.outcomes, categories: row.outcomes.categories, checks: row.checks,
    breaks_open: row.breaks_open, ok: row.ok };
}

export const runKeyPattern = /^(\d{1,20}):([0-9a-f-]{36})$/;
export const isRunKey = (key: unknown): key is string => typeof key === 'string' && runKeyPattern.test(key);

export type BreakRow = {
  item_no: number; break_id: string; outcome: string; source: string; category: string; currency: CurrencyCode;
  reference: string; opened_on: string; age_days: number; ledger_amount_minor: string | null;
  external_amount_minor: string | null; ledger_fee_minor: string | null; external_fee_minor: string | null;
  entry_id: string | null; event_id: string | null; event_type: string | null; effective_at: Date | null;
  topic: string | null; partition: number | null; offset: string | null; file: string | null; line: number | null;
  external_id: string | null; external_date: string | null;
  resolved_by: string | null; resolved_at: string | null; reason: string | null;
};

const big = (v: string | null) => (v === null ? null : BigInt(v));

/** As the run record shows a break (src/reconciliation/record.ts, BreakRecord). */
export function breakJson(r: BreakRow) {
  const ledger = big(r.ledger_amount_minor);
  const external = big(r.external_amount_minor);
  return {
    break_id: r.break_id, outcome: r.outcome, source: r.source, category: r.category, currency: r.currency,
    reference: r.reference, opened_on: r.opened_on, age_days: r.age_days,
    status: r.resolved_by === null ? 'open' : 'resolved',
    resolution: r.resolved_by === null ? null : { resolved_by: r.resolved_by, resolved_at: r.resolved_at, reason: r.reason },
    ledger_amount: money(ledger, r.currency), external_amount: money(external, r.currency),
    difference: money(ledger !== null && external !== null ? external - ledger : null, r.currency),
    ledger_fee: money(big(r.ledger_fee_minor), r.currency), external_fee: money(big(r.external_fee_minor), r.currency),
    ledger: r.entry_id === null ? null : { entry_id: r.entry_id, event_id: r.event_id, event_type: r.event_type,
      effective_at: r.effective_at?.toISOString() ?? null, topic: r.topic, partition: r.partition,
      offset: Number(r.offset) },
    external: r.file === null ? null : { file: r.file, line: r.line, id: r.external_id, date: r.external_date },
  };
}


/** The scope among `scopes` that covers the whole run, or null: out of scope reads as absent. */
export function scopeCoversRun(scopes: readonly Scope[], currencies: readonly CurrencyCode[]): number {
  const subjects = runSubjects(currencies);
  return scopes.findIndex((scope) => allInScope(scope, subjects));
}

/** Runs in any of `scopes`, newest first, after the cursor key `started_us:run_id`. */
export async function listReconciliationRuns(
  pool: Pool, scopes: readonly Scope[], after: string | null, limit: number,
): Promise<{ rows: RunRow[]; nextKey: string | null }> {
  const key = after === null ? null : runKeyPattern.exec(after);
  const rows = await pool.query<RunRow>(`SELECT * FROM (SELECT ${runColumns} FROM ledger.reconciliation_runs r
     WHERE $1::bigint IS NULL
        OR ((extract(epoch FROM r.started_at) * 1000000)::bigint, r.run_id) < ($1::bigint, $2::uuid)
     ORDER BY r.started_at DESC, r.run_id DESC) runs
    WHERE ${runScopeSql('$3', 'runs.currencies')}
    ORDER BY runs.started_at DESC, runs.run_id DESC LIMIT $4`,
  [key?.[1] ?? null, key?.[2] ?? null, runScopeFilter(scopes), limit + 1]);
  const page = rows.rows.slice(0, limit);
  const last = page[page.length - 1];
  return { rows: page, nextKey: rows.rows.length > limit && last !== undefined ? `${last.started_us}:${last.run_id}` : null };
}

/** One run, or a 404 when it does not exist or no single scope covers it. */
export async function reconciliationRunInScope(pool: Pool, scopes: readonly Scope[], runId: string): Promise<RunRow> {
  const found = await pool.query<RunRow>(`SELECT ${runColumns} FROM ledger.reconciliation_runs r WHERE r.run_id = $1`,
    [runId]);
  const run = found.rows[0];
  if (run === undefined || scopeCoversRun(scopes, run.currencies) < 0) {
    throw new UserError('not_found', `no reconciliation run ${runId}`);
  }
  return run;
}

/** A run's breaks (every outcome but pending), in item order, after `afterItem`. */
export async function runBreaks(
  pool: Pool, runId: string, afterItem: number | null, limit: number, options: { openOnly?: boolean } = {},
): Promise<{ rows: BreakRow[]; nextItem: number | null }> {
  const breaks = await pool.query<BreakRow>(`SELECT i.item_no, i.break_id, i.outcome, i.source, i.category, i.currency,
      i.reference, to_char(i.opened_on, 'YYYY-MM-DD') AS opened_on, i.age_days, i.ledger_amount_minor::text,
      i.external_amount_minor::text, i.ledger_fee_minor::text, i.external_fee_minor::text, i.entry_id, i.event_id,
      i.event_type, i.effective_at, i.topic, i.partition, i."offset"::text AS "offset", i.file, i.line, i.external_id,
      i.external_date, s.resolved_by,
      to_char(s.resolved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS resolved_at, s.reason
    FROM ledger.reconciliation_items i
    LEFT JOIN ledger.reconciliation_resolutions s ON s.break_id = i.break_id
   WHERE i.run_id = $1 AND i.outcome <> 'pending' AND ($2::int IS NULL OR i.item_no > $2)
     AND (NOT $4::boolean OR s.break_id IS NULL)
   ORDER BY i.item_no LIMIT $3`, [runId, afterItem, limit + 1, options.openOnly === true]);
  const page = breaks.rows.slice(0, limit);
  const last = page[page.length - 1];
  return { rows: page, nextItem: breaks.rows.length > limit && last !== undefined ? last.item_no : null };
}

/** The currency of a break (for its scope), or null when there is no such break. */
export async function breakCurrency(pool: Pool, breakId: string): Promise<CurrencyCode | null> {
  const known = await pool.query<{ currency: CurrencyCode }>(`SELECT currency FROM ledger.reconciliation_items
      WHERE break_id = $1 AND outcome <> 'pending' LIMIT 1`, [breakId]);
  return known.rows[0]?.currency ?? null;
}

/** Resolves a break with a reason; the resolution stands only with its trail record. */
export async function resolveBreakRecorded(
  pool: Pool, request: { breakId: string; currency: CurrencyCode; reason: string; at: Date;
    actor: { identityId: string; grantId: string | null; source: string } },
) {
  const { breakId, actor } = request;
  return withTransaction(pool, async (tx) => {
    const resolved = await resolveBreak(tx, { breakId, resolvedBy: actor.identityId, reason: request.reason,
      now: request.at });
    await appendTrail(tx, { at: request.at, actor: actor.identityId, action: 'break.resolve', object: breakId,
      grantId: actor.grantId, source: actor.source, detail: { reason: resolved.reason, currency: request.currency } })
      .catch((error: unknown) => {
        throw Object.assign(new UserError('trail_unavailable', 'the audit trail cannot be written just now; ' +
          'the break was not resolved; try again shortly'), { cause: error });
      });
    return resolved;
  }).catch((error: unknown) => {
    if (isUserError(error) && error.code === 'already_resolved') throw new UserError('conflict', error.message);
    throw error;
  });
}
