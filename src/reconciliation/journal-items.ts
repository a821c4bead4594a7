// The journal's side of a run: for every entry that moved money through the processor or
// the bank, what the outside world should show (RECONCILIATION.md, Matching rules). It is
// the journal that is reconciled, so amounts come from its lines: a processor item's gross
// is the entry's net movement on 1100 (processor clearing) plus its fee line (5000 for a
// charge, 5110 for a dispute), a bank item's amount is its net movement on 1000 (bank).
// The references (processor_ref, processor_payout_id, remittance_id, arrival_date) come
// from the archived event the entry was projected from. Read in pages, in one snapshot
// that also gives the run's watermark.
import { withTransaction, type Client, type Pool } from '../db/database.ts';
import { invariant } from '../errors.ts';
import { isCurrencyCode } from '../ledger/money.ts';
import { reconLimits } from './limits.ts';
import { parseDay } from './parse.ts';
import { type Category, type EntryLineage, type LedgerItem } from './types.ts';

const itemEventTypes = [
  'payment.captured', 'payment.refunded', 'deposit.released', 'dispute.opened', 'dispute.won',
  'payout.paid', 'payout.failed', 'processor.payout', 'tax.remitted',
];

export type EntryRow = {
  entry_id: string; event_id: string; event_type: string; topic: string; partition: number; offset: string;
  effective_at: string; effective_ms: string; currency: string | null; processor_ref: string | null;
  processor_payout_id: string | null; remittance_id: string | null; arrival_date: string | null;
  payout_id: string | null; clearing_net: string; bank_net: string; fee_5000: string; fee_5110: string;
};

export type JournalSide = {
  /** `topic/partition` → the last offset projected, as REPORTS.md's watermark. */
  readonly watermark: Record<string, number>;
};

/** Reads every item with effective time before `endMs` and hands each to `accept`. */
export async function loadLedgerItems(
  pool: Pool, endMs: number, accept: (item: LedgerItem) => void,
): Promise<JournalSide> {
  return withTransaction(pool, async (client) => {
    const marks = await client.query<{ topic: string; partition: number; next_offset: string }>(
      'SELECT topic, partition, next_offset FROM ledger.log_partitions ORDER BY topic, partition');
    const watermark: Record<string, number> = {};
    for (const m of marks.rows) watermark[`${m.topic}/${m.partition}`] = Number(m.next_offset) - 1;
    const transferRefs = await failedPayoutTransfers(client, endMs);
    let after = '00000000-0000-0000-0000-000000000000';
    for (let page = 0; ; page += 1) {
      invariant(page * reconLimits.ledgerPageEntries < reconLimits.reconItemsMax, 'entry pages within the bound');
      const rows = await readPage(client, endMs, after);
      for (const row of rows) {
        for (const item of itemsOf(row, transferRefs)) accept(item);
      }
      if (rows.length < reconLimits.ledgerPageEntries) break;
      after = (rows[rows.length - 1] as EntryRow).entry_id;
    }
    return { watermark };
  }, { isolation: 'repeatable read' });
}

async function readPage(client: Client, endMs: number, after: string): Promise<EntryRow[]> {
  const result = await client.query<EntryRow>(`SELECT e.entry_id, e.event_id, e.event_type, e.topic, e.partition,
      e."offset", to_char(e.effective_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS effective_at,
      floor(extract(epoch FROM e.effective_at) * 1000)::bigint AS effective_ms,
      d.data->>'currency' AS currency, d.data->>'processor_ref' AS processor_ref,
      d.data->>'processor_payout_id' AS processor_payout_id, d.data->>'remittance_id' AS remittance_id,
      d.data->>'arrival_date' AS arrival_date, d.data->>'payout_id' AS payout_id,
      s.clearing_net, s.bank_net, s.fee_5000, s.fee_5110
    FROM ledger.journal_entries e
    JOIN ledger.raw_messages r ON r.topic = e.topic AND r.partition = e.partition AND r."offset" = e."offset"
    CROSS JOIN LATERAL (SELECT convert_from(r.value, 'UTF8')::jsonb -> 'data' AS data) d
    CROSS JOIN LATERAL (SELECT
        coalesce(sum(CASE WHEN l.side = 'debit' THEN l.amount_minor ELSE -l.amount_minor END)
          FILTER (WHERE l.account = '1100'), 0) AS clearing_net,
        coalesce(sum(CASE WHEN l.side = 'debit' THEN l.amount_minor ELSE -l.amount_minor END)
          FILTER (WHERE l.account = '1000'), 0) AS bank_net,
        coalesce(sum(l.amount_minor) FILTER (WHERE l.account = '5000' AND l.side = 'debit'), 0) AS fee_5000,
        coalesce(sum(l.amount_minor) FILTER (WHERE l.account = '5110' AND l.side = 'debit'), 0) AS fee_5110
      FROM ledger.journal_lines l WHERE l.entry_id = e.entry_id AND l.booked_period = e.booked_period) s
    WHERE e.event_type = ANY($1::text[]) AND e.effective_at < $2 AND e.entry_id > $3
    ORDER BY e.entry_id LIMIT ${reconLimits.ledgerPageEntries}`,
  [itemEventTypes, new Date(endMs).toISOString(), after]);
  return result.rows;
}

/** payout.failed carries no processor_ref: its item is the failed payout's original `tr_` id. */
async function failedPayoutTransfers(client: Client, endMs: number): Promise<Map<string, string>> {
  const result = await client.query<{ payout_id: string; processor_ref: string }>(`WITH data AS (
      SELECT e.event_type, convert_from(r.value, 'UTF8')::jsonb -> 'data' AS data
        FROM ledger.journal_entries e
        JOIN ledger.raw_messages r ON r.topic = e.topic AND r.partition = e.partition AND r."offset" = e."offset"
       WHERE e.event_type IN ('payout.paid', 'payout.failed')
         AND (e.event_type = 'payout.paid' OR e.effective_at < $1))
    SELECT f.data->>'payout_id' AS payout_id, p.data->>'processor_ref' AS processor_ref
      FROM data f JOIN data p ON p.event_type = 'payout.paid' AND p.data->>'payout_id' = f.data->>'payout_id'
     WHERE f.event_type = 'payout.failed'`, [new Date(endMs).toISOString()]);
  return new Map(result.rows.map((r) => [r.payout_id, r.processor_ref]));
}

/** The items one entry stands for: none, one, or two (a processor.payout is two items). */
export function itemsOf(row: EntryRow, transferRefs: ReadonlyMap<string, string>): LedgerItem[] {
  const currency = row.currency;
  invariant(currency !== null && isCurrencyCode(currency), `entry ${row.entry_id} has a configured currency`);
  const lineage: EntryLineage = {
    entryId: row.entry_id, eventId: row.event_id, eventType: row.event_type, effectiveAt: row.effective_at,
    topic: row.topic, partition: row.partition, offset: Number(row.offset),
  };
  const clearing = BigInt(row.clearing_net);
  const base = { currency, effectiveAtMs: Number(row.effective_ms), arrivalDay: null, lineage };
  const processor = (category: Category, reference: string | null | undefined, amountMinor: bigint,
    feeMinor: bigint | null): LedgerItem[] => {
    invariant(typeof reference === 'string' && reference !== '', `entry ${row.entry_id} names its reference`);
    if (amountMinor === 0n && (feeMinor ?? 0n) === 0n) return []; // nothing moved: nothing to settle
    return [{ ...base, source: 'processor', category, reference, amountMinor, feeMinor }];
  };
  switch (row.event_type) {
    case 'payment.captured':
      return processor('charge', row.processor_ref, clearing + BigInt(row.fee_5000), BigInt(row.fee_5000));
    case 'payment.refunded':
    case 'deposit.released':
      return processor('refund', row.processor_ref, clearing, null);
    case 'dispute.opened':
      return processor('dispute', row.processor_ref, clearing + BigInt(row.fee_5110), BigInt(row.fee_5110));
    case 'dispute.won':
      return processor('dispute_reversal', row.processor_ref, clearing, null);
    case 'payout.paid':
      return processor('transfer', row.processor_ref, clearing, null);
    case 'payout.failed':
      return processor('transfer_reversal', transferRefs.get(row.payout_id ?? ''), clearing, null);
    case 'processor.payout':
      return [...processor('payout', row.processor_payout_id, clearing, null), ...bankItem(row, base, 'payout')];
    case 'tax.remitted':
      return bankItem(row, base, 'tax_remittance');
    default:
      return [];
  }
}

function bankItem(row: EntryRow, base: Omit<LedgerItem, 'source' | 'category' | 'reference' | 'amountMinor' |
  'feeMinor'>, category: 'payout' | 'tax_remittance'): LedgerItem[] {
  const reference = category === 'payout' ? row.processor_payout_id : row.remittance_id;
  invariant(typeof reference === 'string' && reference !== '', `entry ${row.entry_id} names its reference`);
  const amountMinor = BigInt(row.bank_net);
  if (amountMinor === 0n) return [];
  const arrivalDay = category === 'payout' ? parseDay(row.arrival_date ?? '') : null;
  invariant(category !== 'payout' || arrivalDay !== null, `entry ${row.entry_id} has an arrival date`);
  return [{ ...base, source: 'bank', category, reference, amountMinor, feeMinor: null, arrivalDay }];
}

