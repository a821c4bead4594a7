// The run record and its rendering, pure: tallies become per-outcome totals (every outcome
// present, amounts per currency as decimal strings) and per-category rows; a break carries
// both amounts, their difference and its lineage; ids of carried breaks follow the key
// and the opening day, so a re-run gives the same ids; the render input has the outcomes,
// breaks, checks and inputs sections with one figure per count and amount.
import { describe, expect, it } from 'vitest';
import { breakIdFor, carryBreaks } from '../../src/reconciliation/breaks.ts';
import type { ReportedItem, Tally } from '../../src/reconciliation/match.ts';
import { breakRecord, outcomeTotals, type RunRecord } from '../../src/reconciliation/record.ts';
import { reconciliationRenderInput } from '../../src/reconciliation/render.ts';

const tallies: Tally[] = [
  { outcome: 'missing_in_ledger', source: 'processor', category: 'charge', currency: 'USD', count: 1, amountMinor: 12_345n },
  { outcome: 'matched', source: 'processor', category: 'refund', currency: 'CAD', count: 2, amountMinor: -500n },
  { outcome: 'matched', source: 'processor', category: 'charge', currency: 'USD', count: 3, amountMinor: 30_000n },
];

const lineages = new Map([['t/2@41', { entryId: 'e1', eventId: 'v1', eventType: 'payment.captured',
  effectiveAt: '2026-10-01T00:00:00.000000Z', topic: 't', partition: 2, offset: 41 }]]);

const mismatch: ReportedItem = {
  outcome: 'amount_mismatch', source: 'processor', category: 'charge', currency: 'USD', reference: 'ch_1',
  breakKey: 'amount_mismatch|processor|t/2@41',
  ledger: { source: 'processor', category: 'charge', reference: 'ch_1', currency: 'USD', amountMinor: 80_080n,
    feeMinor: 2_352n, effectiveAtUs: 0, arrivalDay: null, topic: 't', partition: 2, offset: 41 },
  external: { file: 'p.csv', line: 7, id: 'txn_1', date: '2026-10-01T00:00:00.000Z', amountMinor: 80_180n, feeMinor: 2_352n },
};

describe('the run record', () => {
  it('totals every outcome, per currency, and lists categories in a fixed order', () => {
    const { outcomes, categories } = outcomeTotals(tallies);
    expect(Object.keys(outcomes)).toEqual(['matched', 'amount_mismatch', 'missing_in_ledger', 'missing_externally',
      'duplicate_external', 'pending']);
    expect(outcomes.matched).toEqual({ count: 5, amounts: { USD: '300.00', CAD: '-5.00' } });
    expect(outcomes.pending).toEqual({ count: 0, amounts: {} });
    expect(categories.map((c) => `${c.outcome}/${c.category}/${c.currency}=${c.amount}`)).toEqual([
      'matched/charge/USD=300.00', 'matched/refund/CAD=-5.00', 'missing_in_ledger/charge/USD=123.45']);
  });

  it('shows both sides of a mismatch, the difference and the lineage', () => {
    const [assigned] = carryBreaks([mismatch], new Map(), 20_000);
    expect(breakRecord(assigned!, null, lineages)).toMatchObject({
      break_id: breakIdFor(mismatch.breakKey, 20_000), status: 'open', ledger_amount: '800.80',
      external_amount: '801.80', difference: '1.00', ledger_fee: '23.52', external_fee: '23.52', age_days: 0,
      ledger: { entry_id: 'e1', event_id: 'v1', topic: 't', partition: 2, offset: 41 },
      external: { file: 'p.csv', line: 7, id: 'txn_1' },
    });
  });

  it('carries a break\'s id and opening day from the preceding run; pending is never carried', () => {
    const prior = new Map([[mismatch.breakKey, { breakId: 'brk_aaaaaaaaaaaaaaaaaaaaaaaa', openedOnDay: 19_998 }]]);
    const [carried, pending] = carryBreaks([mismatch, { ...mismatch, outcome: 'pending' }], prior, 20_000);
    expect([carried?.breakId, carried?.ageDays]).toEqual(['brk_aaaaaaaaaaaaaaaaaaaaaaaa', 2]);
    expect([pending?.breakId, pending?.ageDays]).toEqual([breakIdFor(mismatch.breakKey, 20_000), 0]);
  });

  it('renders as sections with a figure for each count and amount', () => {
    const [assigned] = carryBreaks([mismatch], new Map(), 20_000);
    const run = {
      run_id: 'r1', date: '2024-10-04', requested_by: 'test', started_at: 's', finished_at: '2024-10-05T02:00:00.000Z',
      supersedes: null, params: { grace_days: 2, tolerance_days: 3 }, inputs: [], watermark: { 't/0': 3 },
      ...outcomeTotals(tallies), breaks: [breakRecord(assigned!, null, lineages)], breaks_open: 1, checks: [], ok: false,
    } satisfies RunRecord;
    const input = reconciliationRenderInput(run);
    expect(input.header).toMatchObject({ report: 'reconciliation', params: { date: '2024-10-04' },
      generated_at: '2024-10-05T02:00:00.000Z' });
    expect(input.sections.map((s) => s.name)).toEqual(['Outcomes', 'Breaks', 'Checks', 'Inputs']);
    expect(input.figures).toHaveLength(6);
    expect(reconciliationRenderInput(run).figures).toEqual(input.figures);
    const breakRow = (input.sections[1]?.rows as readonly (readonly unknown[])[])[0];
    expect(breakRow).toContain('t/2@41');
    expect(breakRow).toContain('p.csv:7');
  });
});
