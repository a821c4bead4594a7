// The matching rules of RECONCILIATION.md, one by one, on the pure matcher: given the
// journal's items, when external rows are offered, then each ends in exactly the expected
// state. Each rule has an "allows" (it matches), a "refuses" (the break it must report) and
// a "stays quiet" (what it must not report) case.
import { describe, expect, it } from 'vitest';
import { Matcher, type MatchResult } from '../../src/reconciliation/match.ts';
import {
  dayMs, type BankLine, type Category, type LedgerItem, type ProcessorRow,
} from '../../src/reconciliation/types.ts';

const runDay = Date.parse('2026-10-20T00:00:00Z') / dayMs;
const settings = { runDay, graceDays: 2, toleranceDays: 3 };
const at = (iso: string) => Date.parse(iso);
const day = (date: string) => Date.parse(`${date}T00:00:00Z`) / dayMs;

let entries = 0;
function item(over: Partial<LedgerItem> & { category: Category; reference: string }): LedgerItem {
  entries += 1;
  return {
    source: 'processor', currency: 'USD', amountMinor: 10_000n, feeMinor: null,
    effectiveAtUs: at('2026-10-10T12:00:00Z') * 1000, arrivalDay: null, topic: 't', partition: 0, offset: entries,
    ...over,
  };
}

let lines = 1;
function row(over: Partial<ProcessorRow> & { category: ProcessorRow['category']; sourceId: string }): ProcessorRow {
  lines += 1;
  return {
    file: 'p.csv', line: lines, balanceTransactionId: `txn_${lines}`, createdAtMs: at('2026-10-10T12:00:00Z'),
    currency: 'USD', grossMinor: 10_000n, feeMinor: 0n, ...over,
  };
}

function bankLine(over: Partial<BankLine> & { reference: string }): BankLine {
  lines += 1;
  return { file: 'b.csv', line: lines, bookingDay: day('2026-10-12'), amountMinor: 10_000n, currency: 'USD',
    description: '', ...over };
}

function reconcile(given: LedgerItem[], rows: (ProcessorRow | BankLine)[]): { verdicts: string[]; result: MatchResult } {
  const matcher = new Matcher(settings);
  for (const i of given) matcher.addLedgerItem(i);
  const verdicts = rows.map((r) => ('balanceTransactionId' in r ? matcher.offerProcessorRow(r) : matcher.offerBankLine(r)));
  return { verdicts, result: matcher.finish() };
}

const states = (result: MatchResult) => result.items.map((i) => `${i.outcome} ${i.source} ${i.category} ${i.reference}`);

describe('processor rows', () => {
  it('allows a charge whose gross and fee agree', () => {
    const { verdicts, result } = reconcile([item({ category: 'charge', reference: 'ch_1', feeMinor: 300n })],
      [row({ category: 'charge', sourceId: 'ch_1', feeMinor: 300n })]);
    expect(verdicts).toEqual(['matched']);
    expect(result.items).toEqual([]);
  });

  it('refuses a charge whose fee differs: amount_mismatch with both sides', () => {
    const { result } = reconcile([item({ category: 'charge', reference: 'ch_1', feeMinor: 300n })],
      [row({ category: 'charge', sourceId: 'ch_1', feeMinor: 301n })]);
    expect(states(result)).toEqual(['amount_mismatch processor charge ch_1']);
    expect(result.items[0]?.ledger?.feeMinor).toBe(300n);
    expect(result.items[0]?.external?.feeMinor).toBe(301n);
  });

  it('stays quiet about a refund row\'s fee: only the columns the table names are compared', () => {
    const { verdicts } = reconcile([item({ category: 'refund', reference: 're_1', amountMinor: -500n })],
      [row({ category: 'refund', sourceId: 're_1', grossMinor: -500n, feeMinor: 25n })]);
    expect(verdicts).toEqual(['matched']);
  });

  it('refuses a currency difference as no match, not an amount mismatch', () => {
    const { verdicts, result } = reconcile([item({ category: 'charge', reference: 'ch_1', feeMinor: 0n })],
      [row({ category: 'charge', sourceId: 'ch_1', currency: 'CAD' })]);
    expect(verdicts).toEqual(['missing_in_ledger']);
    expect(states(result)).toEqual(['missing_in_ledger processor charge ch_1', 'missing_externally processor charge ch_1']);
  });

  it('refuses a row for the same id under another category (a dispute is not its reversal)', () => {
    const { result } = reconcile([item({ category: 'dispute', reference: 'dp_1', amountMinor: -100n, feeMinor: 0n })],
      [row({ category: 'dispute_reversal', sourceId: 'dp_1', grossMinor: 100n })]);
    expect(states(result)).toEqual(['missing_in_ledger processor dispute_reversal dp_1',
      'missing_externally processor dispute dp_1']);
  });

  it('matches one to one: a second row for an item already matched is duplicate_external', () => {
    const { verdicts } = reconcile([item({ category: 'transfer', reference: 'tr_1' })], [
      row({ category: 'transfer', sourceId: 'tr_1' }), row({ category: 'transfer', sourceId: 'tr_1' })]);
    expect(verdicts).toEqual(['matched', 'duplicate_external']);
  });

  it('refuses a row whose id was already seen; the first copy matches normally', () => {
    const first = row({ category: 'payout', sourceId: 'po_1' });
    const { verdicts, result } = reconcile([item({ category: 'payout', reference: 'po_1' })], [first, { ...first, line: 99 }]);
    expect(verdicts).toEqual(['matched', 'duplicate_external']);
    expect(result.items[0]?.external?.line).toBe(99);
  });

  it('matches two items of one key with two rows, in order (still one to one)', () => {
    const { verdicts, result } = reconcile(
      [item({ category: 'refund', reference: 're_1' }), item({ category: 'refund', reference: 're_1' })],
      [row({ category: 'refund', sourceId: 're_1' }), row({ category: 'refund', sourceId: 're_1' })]);
    expect(verdicts).toEqual(['matched', 'matched']);
    expect(result.items).toEqual([]);
  });

  it('stays quiet about rows created after the run\'s day and entries effective after it', () => {
    const { verdicts, result } = reconcile(
      [item({ category: 'charge', reference: 'ch_late', feeMinor: 0n, effectiveAtUs: at('2026-10-21T00:00:00Z') * 1000 })],
      [row({ category: 'charge', sourceId: 'ch_x', createdAtMs: at('2026-10-21T00:00:00Z') })]);
    expect(verdicts).toEqual(['outside_window']);
    expect(result.items).toEqual([]);
  });
});

describe('the grace window', () => {
  it('keeps an unclaimed entry pending while effective time + 2 days is after D+1 00:00Z', () => {
    const { result } = reconcile([
      item({ category: 'charge', reference: 'ch_recent', feeMinor: 0n, effectiveAtUs: at('2026-10-19T00:00:00Z') * 1000 + 1 }),
      item({ category: 'charge', reference: 'ch_old', feeMinor: 0n, effectiveAtUs: at('2026-10-19T00:00:00Z') * 1000 }),
    ], []);
    expect(states(result)).toEqual(['pending processor charge ch_recent', 'missing_externally processor charge ch_old']);
  });
});

describe('bank lines', () => {
  const payout = () => item({ source: 'bank', category: 'payout', reference: 'po_9', arrivalDay: day('2026-10-12') });

  it('allows a payout booked within ±3 days of its arrival date', () => {
    const { verdicts } = reconcile([payout()], [bankLine({ reference: 'po_9', bookingDay: day('2026-10-15') })]);
    expect(verdicts).toEqual(['matched']);
  });

  it('refuses a payout booked outside the tolerance: the line missing_in_ledger, the entry missing_externally', () => {
    const { result } = reconcile([payout()], [bankLine({ reference: 'po_9', bookingDay: day('2026-10-16') })]);
    expect(states(result)).toEqual(['missing_in_ledger bank payout po_9', 'missing_externally bank payout po_9']);
  });

  it('refuses a payout whose amount differs: amount_mismatch', () => {
    const { result } = reconcile([payout()], [bankLine({ reference: 'po_9', amountMinor: 9_999n })]);
    expect(states(result)).toEqual(['amount_mismatch bank payout po_9']);
  });

  it('stays quiet about a tax remittance\'s date: no date window', () => {
    const tax = item({ source: 'bank', category: 'tax_remittance', reference: 'rmt_1', amountMinor: -700n });
    const { verdicts } = reconcile([tax], [bankLine({ reference: 'rmt_1', amountMinor: -700n, bookingDay: day('2026-09-01') })]);
    expect(verdicts).toEqual(['matched']);
  });

  it('refuses a second line with the same reference as duplicate_external', () => {
    const { verdicts } = reconcile([payout()], [bankLine({ reference: 'po_9' }), bankLine({ reference: 'po_9' })]);
    expect(verdicts).toEqual(['matched', 'duplicate_external']);
  });

  it('reports a line nobody expects as missing_in_ledger, and never a line booked after D', () => {
    const { verdicts, result } = reconcile([], [bankLine({ reference: '' }), bankLine({ reference: '' }),
      bankLine({ reference: 'x', bookingDay: runDay + 1 })]);
    expect(verdicts).toEqual(['missing_in_ledger', 'missing_in_ledger', 'outside_window']);
    expect(new Set(result.items.map((i) => i.breakKey)).size).toBe(2);
  });

  it('treats a processor.payout as two items: the processor row and the bank line', () => {
    const { verdicts, result } = reconcile([item({ category: 'payout', reference: 'po_9', amountMinor: -10_000n }), payout()],
      [row({ category: 'payout', sourceId: 'po_9', grossMinor: -10_000n })]);
    expect(verdicts).toEqual(['matched']);
    expect(states(result)).toEqual(['missing_externally bank payout po_9']);
  });
});

describe('tallies', () => {
  it('counts and sums per outcome, source, category and currency', () => {
    const { result } = reconcile([item({ category: 'refund', reference: 're_1', amountMinor: -500n })],
      [row({ category: 'refund', sourceId: 're_1', grossMinor: -500n }), row({ category: 'charge', sourceId: 'ch_2' })]);
    expect(result.tallies.map((t) => [t.outcome, t.source, t.category, t.currency, t.count, t.amountMinor])).toEqual([
      ['matched', 'processor', 'refund', 'USD', 1, -500n], ['missing_in_ledger', 'processor', 'charge', 'USD', 1, 10_000n],
    ]);
  });
});
