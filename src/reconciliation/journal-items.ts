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
import { entryIdFor } from '../ledger/entry.ts';
import { positionText, type Category, type EntryLineage, type LedgerItem } from './types.ts';

const itemEventTypes = [
  'payment.captured', 'payment.refunded', 'deposit.released', 'dispute.opened', 'dispute.won',
  'payout.paid', 'payout.failed', 'processor.payout', 'tax.remitted',
];

export type EntryRow = {
  topic: string; partition: number; offset: string; event_type: string; effective_us: string;
  currency: string | null; processor_ref: string | null; processor_payout_id: string | null;
  remittance_id: string | null; arrival_date: string | null; payout_id: string | null;
  clearing_net: string; bank_net: string; fee_5000: string; fee_5110: string;
};

export type JournalSide = {
  /** `topic/partition` → the last offset projected, as REPORTS.md's watermark. */
  readonly watermark: Record<string, number>;
};

/**
 * Reads every item with effective time before `endMs` and hands each to `accept`: one
 * query (the lines summed per entry, joined to the entries and their archived events) read
 * through a cursor, page by page, in one snapshot that also gives the run's watermark.
 */
export async function loadLedgerItems(
  pool: Pool, endMs: number, accept: (item: LedgerItem) => void,
): Promise<JournalSide> {
  return withTransaction(pool, async (client) => {
    const marks = await client.query<{ topic: string; partition: number; next_offset: string }>(
      'SELECT topic, partition, next_offset FROM ledger.log_partitions ORDER BY topic, partition');
    const watermark: Record<string, number> = {};
    for (const m of marks.rows) watermark[`${m.topic}/${m.partition}`] = Number(m.next_offset) - 1;
    const transferRefs = await failedPayoutTransfers(client, endMs);
    const topics = new Map<string, string>();
    await client.query(`DECLARE ledger_items NO SCROLL CURSOR FOR ${itemsQuery}`,
      [itemEventTypes, new Date(endMs).toISOString()]);
    for (let page = 0; ; page += 1) {
      invariant(page * reconLimits.ledgerPageEntries <= reconLimits.reconItemsMax, 'entry pages within the bound');
      const rows = await client.query<EntryRow>(`FETCH ${reconLimits.ledgerPageEntries} FROM ledger_items`);
      for (const row of rows.rows) {
        // One string per topic, not one per entry: a run holds a million of these.
        const topic = topics.get(row.topic) ?? row.topic;
        topics.set(topic, topic);
        row.topic = topic; // the row is this page's own: no copy (a spread costs a microsecond)
        for (const item of itemsOf(row, transferRefs)) accept(item);
      }
      if (rows.rows.length < reconLimits.ledgerPageEntries) break;
    }
    await client.query('CLOSE ledger_items');
    return { watermark };
  }, { isolation: 'repeatable read' });
}

/**
 * Lines are joined to their entries and summed per entry in one pass, then joined to the
 * archived events, whose JSON is parsed once per item. Grouping after the join lets
 * PostgreSQL see a million rows where it saw a thousand (an entry joined to an aggregate
 * of lines), which it had planned as a million index lookups into the archive. The
 * subqueries end in OFFSET 0 so that it neither parses each message once per field read
 * (it would inline the parse into every ->> below) nor parses messages that are not items.
 */
const itemsQuery = `SELECT x.topic, x.partition, x."offset", x.event_type, x.effective_us,
    d.data->>'currency' AS currency, d.data->>'processor_ref' AS processor_ref,
    d.data->>'processor_payout_id' AS processor_payout_id, d.data->>'remittance_id' AS remittance_id,
    d.data->>'arrival_date' AS arrival_date, d.data->>'payout_id' AS payout_id,
    x.clearing_net, x.bank_net, x.fee_5000, x.fee_5110
  FROM (SELECT s.*, r.value FROM (SELECT e.topic, e.partition, e."offset", e.event_type,
        floor(extract(epoch FROM e.effective_at) * 1000000)::bigint AS effective_us,
        coalesce(sum(CASE WHEN l.side = 'debit' THEN l.amount_minor ELSE -l.amount_minor END)
          FILTER (WHERE l.account = '1100'), 0) AS clearing_net,
        coalesce(sum(CASE WHEN l.side = 'debit' THEN l.amount_minor ELSE -l.amount_minor END)
          FILTER (WHERE l.account = '1000'), 0) AS bank_net,
        coalesce(sum(l.amount_minor) FILTER (WHERE l.account = '5000' AND l.side = 'debit'), 0) AS fee_5000,
        coalesce(sum(l.amount_minor) FILTER (WHERE l.account = '5110' AND l.side = 'debit'), 0) AS fee_5110
      FROM ledger.journal_entries e
      JOIN ledger.journal_lines l ON l.entry_id = e.entry_id AND l.booked_period = e.booked_period
     WHERE l.account IN ('1000', '1100', '5000', '5110') AND l.effective_at < $2
       AND e.event_type = ANY($1::text[]) AND e.effective_at < $2
     GROUP BY e.entry_id) s
    JOIN ledger.raw_messages r ON r.topic = s.topic AND r.partition = s.partition AND r."offset" = s."offset"
    OFFSET 0) x
  CROSS JOIN LATERAL (SELECT convert_from(x.value, 'UTF8')::jsonb -> 'data' AS data OFFSET 0) d`;

/** payout.failed carries no processor_ref: its item is the failed payout's original `tr_` id. */
async function failedPayoutTransfers(client: Client, endMs: number): Promise<Map<string, string>> {
  const result = await client.query<{ payout_id: string; processor_ref: string }>(`WITH failed AS (
      SELECT convert_from(r.value, 'UTF8')::jsonb -> 'data' ->> 'payout_id' AS payout_id
        FROM ledger.journal_entries e
        JOIN ledger.raw_messages r ON r.topic = e.topic AND r.partition = e.partition AND r."offset" = e."offset"
       WHERE e.event_type = 'payout.failed' AND e.effective_at < $1)
    SELECT f.payout_id, p.data ->> 'processor_ref' AS processor_ref
      FROM failed f JOIN (
        SELECT convert_from(r.value, 'UTF8')::jsonb -> 'data' AS data
          FROM ledger.journal_entries e
          JOIN ledger.raw_messages r ON r.topic = e.topic AND r.partition = e.partition AND r."offset" = e."offset"
         WHERE e.event_type = 'payout.paid' AND EXISTS (SELECT 1 FROM failed)) p
        ON p.data ->> 'payout_id' = f.payout_id`, [new Date(endMs).toISOString()]);
  return new Map(result.rows.map((r) => [r.payout_id, r.processor_ref]));
}

/** The items one entry stands for: none, one, or two (a processor.payout is two items). */
export function itemsOf(row: EntryRow, transferRefs: ReadonlyMap<string, string>): LedgerItem[] {
  const currency = row.currency;
  // The message is built only on failure: a template per entry costs a million strings.
  if (currency === null || !isCurrencyCode(currency)) {
    invariant(false, `entry at ${row.topic}/${row.partition}@${row.offset} has a configured currency`);
  }
  const clearing = BigInt(row.clearing_net);
  const base: ItemBase = { currency, effectiveAtUs: Number(row.effective_us), arrivalDay: null, topic: row.topic,
    partition: row.partition, offset: Number(row.offset) };
  switch (row.event_type) {
    case 'payment.captured':
      return processorItem(base, 'charge', row.processor_ref, clearing + BigInt(row.fee_5000), BigInt(row.fee_5000));
    case 'payment.refunded':
    case 'deposit.released':
      return processorItem(base, 'refund', row.processor_ref, clearing, null);
    case 'dispute.opened':
      return processorItem(base, 'dispute', row.processor_ref, clearing + BigInt(row.fee_5110), BigInt(row.fee_5110));
    case 'dispute.won':
      return processorItem(base, 'dispute_reversal', row.processor_ref, clearing, null);
    case 'payout.paid':
      return processorItem(base, 'transfer', row.processor_ref, clearing, null);
    case 'payout.failed':
      return processorItem(base, 'transfer_reversal', transferRefs.get(row.payout_id ?? ''), clearing, null);
    case 'processor.payout':
      return [...processorItem(base, 'payout', row.processor_payout_id, clearing, null),
        ...bankItem(row, base, 'payout')];
    case 'tax.remitted':
      return bankItem(row, base, 'tax_remittance');
    default:
      return [];
  }
}

type ItemBase = Omit<LedgerItem, 'source' | 'category' | 'reference' | 'amountMinor' | 'feeMinor'>;

/** A module function, not a closure made per entry: see parse.ts badRow. */
function processorItem(base: ItemBase, category: Category, reference: string | null | undefined, amountMinor: bigint,
  feeMinor: bigint | null): LedgerItem[] {
  if (typeof reference !== 'string' || reference === '') {
    invariant(false, `entry at ${positionText(base)} names its reference`);
  }
  if (amountMinor === 0n && (feeMinor ?? 0n) === 0n) return []; // nothing moved: nothing to settle
  return [{
    source: 'processor', category, reference, currency: base.currency, amountMinor, feeMinor,
    effectiveAtUs: base.effectiveAtUs, arrivalDay: null, topic: base.topic, partition: base.partition,
    offset: base.offset,
  }];
}

function bankItem(row: EntryRow, base: ItemBase, category: 'payout' | 'tax_remittance'): LedgerItem[] {
  const reference = category === 'payout' ? row.processor_payout_id : row.remittance_id;
  if (typeof reference !== 'string' || reference === '') {
    invariant(false, `entry at ${positionText(base)} names its reference`);
  }
  const amountMinor = BigInt(row.bank_net);
  if (amountMinor === 0n) return [];
  const arrivalDay = category === 'payout' ? parseDay(row.arrival_date ?? '') : null;
  if (category === 'payout' && arrivalDay === null) {
    invariant(false, `entry at ${positionText(base)} has an arrival date`);
  }
  return [{
    source: 'bank', category, reference, currency: base.currency, amountMinor, feeMinor: null,
    effectiveAtUs: base.effectiveAtUs, arrivalDay, topic: base.topic, partition: base.partition, offset: base.offset,
  }];
}

/**
 * The full lineage (entry id, event id, type, effective time) of the entries a run reports,
 * by position. Entry ids derive from positions (entry.ts), so this is a primary-key lookup;
 * each row read is checked against the position asked for.
 */
export async function loadLineages(
  pool: Pool, positions: readonly Pick<LedgerItem, 'topic' | 'partition' | 'offset'>[],
): Promise<Map<string, EntryLineage>> {
  const lineages = new Map<string, EntryLineage>();
  const ids = [...new Set(positions.map((p) => entryIdFor(p)))];
  for (let first = 0; first < ids.length; first += reconLimits.ledgerPageEntries) {
    const rows = await pool.query<{ entry_id: string; event_id: string; event_type: string; effective_at: string;
      topic: string; partition: number; offset: string }>(`SELECT entry_id, event_id, event_type, topic, partition,
        "offset", to_char(effective_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS effective_at
      FROM ledger.journal_entries WHERE entry_id = ANY($1::uuid[])`,
    [ids.slice(first, first + reconLimits.ledgerPageEntries)]);
    for (const r of rows.rows) {
      const lineage = { entryId: r.entry_id, eventId: r.event_id, eventType: r.event_type, effectiveAt: r.effective_at,
        topic: r.topic, partition: r.partition, offset: Number(r.offset) };
      invariant(entryIdFor(lineage) === r.entry_id, `entry ${r.entry_id} sits at the position its id names`);
      lineages.set(positionText(lineage), lineage);
    }
  }
  return lineages;
}
