// A small RenderInput for the renderer tests, built by hand: a revenue-like run in two
// currencies with figure-linked money and count cells, a text cell holding a comma and a
// double quote (and one holding a line break), a three-row section, a chart, and helpers
// for long sections (an array, or an async iterable generated row by row).
import { figure } from '../../src/reports/figures.ts';
import type { Cell, Column, RenderInput, RunHeader, Section } from '../../src/reports/render/types.ts';
import { detailColumns } from '../../src/reports/layout.ts';

export const runId = '0b7e6c1a-5f2d-4c3e-9a8b-1d2e3f4a5b6c';

export const header: RunHeader = {
  report: 'revenue',
  title: 'Revenue, October 2026',
  run_id: runId,
  template_version: '1',
  params: { period: '2026-10' },
  watermark: { 'marketplace.events/1': 987, 'marketplace.events/0': 1234 },
  generated_at: '2026-11-01T02:00:03Z',
  requested_by: 'scheduler',
  supersedes: null,
  checkpoint: { checkpoint_id: 12, merkle_root: 'c0ffee'.padEnd(64, '0') },
};

export const figures = [
  figure(runId, 'net_revenue', { currency: 'USD', market: 'US-CA' }, '1234.56'),
  figure(runId, 'rentals_closed', { currency: 'USD', market: 'US-CA' }, '12'),
  figure(runId, 'net_revenue', { currency: 'CAD', market: 'CA-ON' }, '-20.05'),
  figure(runId, 'rentals_closed', { currency: 'CAD', market: 'CA-ON' }, '3'),
  figure(runId, 'net_revenue', { currency: 'USD', market: 'US-NY' }, '1000000.00'),
  figure(runId, 'rentals_closed', { currency: 'USD', market: 'US-NY' }, '4021'),
];

const f = (index: number) => figures[index]!;

export const revenueColumns: readonly Column[] = [
  { key: 'currency', title: 'Currency', kind: 'text', width: 9 },
  { key: 'market', title: 'Market', kind: 'text', width: 10 },
  { key: 'net_revenue', title: 'Net revenue', kind: 'money', width: 16 },
  { key: 'rentals_closed', title: 'Rentals closed', kind: 'count', width: 12 },
  { key: 'note', title: 'Note', kind: 'text', width: 30 },
];

const moneyCell = (index: number): Cell =>
  ({ value: f(index).value, figureId: f(index).id, currency: f(index).dims['currency']! });
const countCell = (index: number): Cell => ({ value: f(index).value, figureId: f(index).id });

export const revenueSection: Section = {
  name: 'Revenue',
  title: 'Revenue by currency and market',
  columns: revenueColumns,
  rows: [
    ['USD', 'US-CA', moneyCell(0), countCell(1), 'late, "adjusted" entry'],
    ['CAD', 'CA-ON', moneyCell(2), countCell(3), null],
    ['USD', 'US-NY', moneyCell(4), countCell(5), 'two\r\nlines'],
  ],
};

/** gl-detail's real columns, so the renderer tests render the shape the reports do. */
export { detailColumns };

/** One synthetic gl-detail line: deterministic in its index, money with two places. */
export function detailRow(index: number): Cell[] {
  const currency = index % 3 === 0 ? 'CAD' : 'USD';
  const hex = index.toString(16).padStart(12, '0');
  const amount = `${(index * 37) % 100_000}.${String(index % 100).padStart(2, '0')}`;
  return [
    `0190a1b2-c3d4-7e5f-8a9b-${hex}`, `evt_${hex}${hex}`, 'rental.completed',
    `2026-10-${String(1 + (index % 28)).padStart(2, '0')}T10:11:12.123456Z`, '2300',
    index % 2 === 0 ? 'debit' : 'credit', { value: amount, currency }, currency,
    '{"market":"US-CA","rental_id":"r_1"}', `marketplace.events/${index % 4}@${index}`,
  ];
}

export function detailSection(rowCount: number, streamed: boolean): Section {
  const rows = streamed
    ? async function* generate(): AsyncGenerator<readonly Cell[]> {
      for (let index = 0; index < rowCount; index += 1) yield detailRow(index);
    }
    : Array.from({ length: rowCount }, (_unused, index) => detailRow(index));
  return { name: 'GL detail', title: 'General ledger detail', columns: detailColumns, rows };
}

export function renderInput(extraSections: readonly Section[] = []): RenderInput {
  return {
    header,
    figures,
    sections: [revenueSection, ...extraSections],
    charts: [{
      title: 'Net revenue by market (USD)', currency: 'USD',
      bars: [{ label: 'US-CA', value: '1234.56' }, { label: 'US-NY', value: '1000000.00' }],
    }, {
      title: 'Net revenue by market (CAD)', currency: 'CAD', bars: [{ label: 'CA-ON', value: '-20.05' }],
    }],
    lineageBaseUrl: 'https://ledger.example.test/reports/figures',
    dataSha256: '',
  };
}
