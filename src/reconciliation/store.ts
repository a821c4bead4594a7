// Where runs, their unmatched items and the resolutions of breaks are kept (migration
// 0004). Everything here appends: a run is written whole in one transaction, and a
// resolution is one row that the database refuses to change.
import { copyRows, type CopyValue } from '../db/copy.ts';
import { withTransaction, type Client, type Pool } from '../db/database.ts';
import { UserError } from '../errors.ts';
import type { AssignedItem, PriorBreak } from './breaks.ts';
import { dayText } from './match.ts';
import type { Resolution, RunRecord } from './record.ts';
import { dayMs, positionText, type EntryLineage } from './types.ts';

/** The breaks of the run that precedes a run of `runDay`: the latest run of an earlier date. */
export async function priorBreaks(pool: Pool, runDay: number): Promise<Map<string, PriorBreak>> {
  const rows = await pool.query<{ break_key: string; break_id: string; opened_on: string }>(
    `SELECT i.break_key, i.break_id, to_char(i.opened_on, 'YYYY-MM-DD') AS opened_on
       FROM ledger.reconciliation_items i
      WHERE i.outcome <> 'pending' AND i.run_id = (SELECT run_id FROM ledger.reconciliation_runs
              WHERE run_date < $1 ORDER BY run_date DESC, started_at DESC, run_id DESC LIMIT 1)`,
    [dayText(runDay)]);
  return new Map(rows.rows.map((r) => [r.break_key, {
    breakId: r.break_id, openedOnDay: Date.parse(`${r.opened_on}T00:00:00Z`) / dayMs,
  }]));
}

/** The latest earlier run of the same date, which a new run supersedes. */
export async function latestRunOf(pool: Pool, runDay: number): Promise<string | null> {
  const rows = await pool.query<{ run_id: string }>(`SELECT run_id FROM ledger.reconciliation_runs
      WHERE run_date = $1 ORDER BY started_at DESC, run_id DESC LIMIT 1`, [dayText(runDay)]);
  return rows.rows[0]?.run_id ?? null;
}

export async function resolutionsOf(pool: Pool | Client, breakIds: readonly string[]): Promise<Map<string, Resolution>> {
  const rows = await pool.query<{ break_id: string; resolved_by: string; resolved_at: string; reason: string }>(
    `SELECT break_id, resolved_by, to_char(resolved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS resolved_at,
            reason FROM ledger.reconciliation_resolutions WHERE break_id = ANY($1::text[])`, [breakIds]);
  return new Map(rows.rows.map((r) => [r.break_id, { resolved_by: r.resolved_by, resolved_at: r.resolved_at,
    reason: r.reason }]));
}

const itemColumns = [
  'run_id', 'item_no', 'break_id', 'break_key', 'outcome', 'source', 'category', 'currency', 'reference',
  'opened_on', 'age_days', 'ledger_amount_minor', 'ledger_fee_minor', 'external_amount_minor', 'external_fee_minor',
  'entry_id', 'event_id', 'event_type', 'effective_at', 'topic', 'partition', 'offset', 'file', 'line',
  'external_id', 'external_date',
];

function itemRow(
  runId: string, index: number, item: AssignedItem, lineages: ReadonlyMap<string, EntryLineage>,
): CopyValue[] {
  const { ledger, external } = item;
  const lineage = ledger === null ? undefined : lineages.get(positionText(ledger));
  return [
    runId, index + 1, item.breakId, item.breakKey, item.outcome, item.source, item.category, item.currency,
    item.reference, dayText(item.openedOnDay), item.ageDays, ledger?.amountMinor ?? null, ledger?.feeMinor ?? null,
    external?.amountMinor ?? null, external?.feeMinor ?? null, lineage?.entryId ?? null, lineage?.eventId ?? null,
    lineage?.eventType ?? null, lineage?.effectiveAt ?? null, lineage?.topic ?? null, lineage?.partition ?? null,
    lineage?.offset ?? null, external?.file ?? null, external?.line ?? null, external?.id ?? null,
    external?.date ?? null,
  ];
}

/** Writes the run and every unmatched item (breaks and pending) in one transaction. */
export async function insertRun(
  pool: Pool, record: RunRecord, items: readonly AssignedItem[], lineages: ReadonlyMap<string, EntryLineage>,
): Promise<void> {
  await withTransaction(pool, async (client) => {
    await client.query(`INSERT INTO ledger.reconciliation_runs (run_id, run_date, requested_by, started_at,
        finished_at, supersedes, params, inputs, watermark, outcomes, checks, breaks_open, ok)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, [
      record.run_id, record.date, record.requested_by, record.started_at, record.finished_at, record.supersedes,
      JSON.stringify(record.params), JSON.stringify(record.inputs), JSON.stringify(record.watermark),
      JSON.stringify({ outcomes: record.outcomes, categories: record.categories }), JSON.stringify(record.checks),
      record.breaks_open, record.ok,
    ]);
    await copyRows(client, 'ledger.reconciliation_items', itemColumns,
      items.map((item, index) => itemRow(record.run_id, index, item, lineages)));
  });
}

/**
 * Records who resolved a break, when and why. A break is resolved once: the resolution is
 * never edited, and a second one is refused. Given a transaction's client, it joins that
 * transaction (the HTTP route records the trail row beside it).
 */
export async function resolveBreak(pool: Pool | Client, request: {
  breakId: string; resolvedBy: string; reason: string; now: Date;
}): Promise<Resolution> {
  const reason = request.reason.trim();
  if (reason === '') throw new UserError('reason_required', 'a resolution needs a reason', 'reason');
  if (request.resolvedBy.trim() === '') throw new UserError('resolver_required', 'a resolution needs who resolved it');
  const known = await pool.query<{ outcome: string }>(`SELECT outcome FROM ledger.reconciliation_items
      WHERE break_id = $1 AND outcome <> 'pending' LIMIT 1`, [request.breakId]);
  if (known.rows.length === 0) {
    throw new UserError('unknown_break', `no reconciliation break ${JSON.stringify(request.breakId)}`, 'break_id');
  }
  const inserted = await pool.query(`INSERT INTO ledger.reconciliation_resolutions (break_id, resolved_by, resolved_at,
      reason) VALUES ($1, $2, $3, $4) ON CONFLICT (break_id) DO NOTHING`,
  [request.breakId, request.resolvedBy, request.now.toISOString(), reason]);
  if (inserted.rowCount !== 1) {
    throw new UserError('already_resolved', `break ${request.breakId} is already resolved; a resolution is never edited`);
  }
  const resolution = (await resolutionsOf(pool, [request.breakId])).get(request.breakId);
  if (resolution === undefined) throw new Error(`resolution of ${request.breakId} was not recorded`);
  return resolution;
}
