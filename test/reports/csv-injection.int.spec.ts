// Issue 12 item 7: no csv a report writes lets a spreadsheet run a formula, and every
// value stays recoverable. Ids and markets come from the log, references from bank and
// processor files; each hostile value starts with one of `=`, `+`, `-`, `@`, TAB, CR.
// How: captures whose owner_id and market are hostile are projected into a fresh ledger,
// and revenue, owner-balances, form-1099-k, gl-detail and trial-balance run through the
// engine; a reconciliation reads a processor file whose source ids are hostile and is
// published as its report. gl-detail's own cells (the log's topic, fixed prefixes) carry
// no id at their start, so its layout is also rendered with a hostile value in every
// text column. Each csv is read by the tests' own RFC 4180 parser: every field that
// starts with a formula character must be a plain negative decimal (an amount, which stays
// a number), each hostile value is there as `'` + value, and dropping that one `'` gives
// back exactly the json's value.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReconciliation } from '../../src/reconciliation/run.ts';
import { reconciliationRenderInput } from '../../src/reconciliation/render.ts';
import { csvTextValue, renderCsv } from '../../src/reports/render/csv.ts';
import { publishRenderedRun } from '../../src/reports/runs.ts';
import { createTestLedger, eventLine, type TestLedger } from '../support/ledger.ts';
import { reportContext, runReport } from '../support/reports.ts';
import { bankHeader, processorHeader } from '../reconciliation/support.ts';
import { detailColumns, header, renderInput } from './render-fixture.ts';
import { parseCsv } from './render-readers.ts';

const hostile = ['=1+2', '+1+2', '-1+2', '@SUM(1,2)', '\t=1+2', '\r=1+2'] as const;
const formulaStart = /^[=+\-@\t\r]/;

function capture(n: number): string {
  return eventLine('payment.captured', `2026-10-${String(10 + n).padStart(2, '0')}T10:00:00Z`, {
    payment_id: `pay_inj_${n}`, rental_id: `rnt_inj_${n}`, driver_id: `drv_inj_${n}`, owner_id: hostile[n],
    market: hostile[n], processor: 'stripe', processor_ref: `ch_inj_${n}`, currency: 'USD', rental_amount: '100.00',
    commission: '25.00', protection_fee: '10.00', service_fee: '5.00', tax: '9.00', deposit: '0.00',
    processor_fee: '5.00', total: '124.00',
  });
}

/** Every field a spreadsheet would start as a formula: none, but for plain negative decimals. */
function unsafeFields(records: readonly (string | null)[][]): string[] {
  return records.flat().filter((field): field is string =>
    field !== null && formulaStart.test(field) && !/^-[0-9]+(\.[0-9]+)?$/.test(field));
}

function expectNeutralised(records: readonly (string | null)[][], values: readonly string[]): void {
  expect(unsafeFields(records)).toEqual([]);
  const fields = new Set(records.flat());
  for (const value of values) {
    expect(fields.has(`'${value}`), JSON.stringify(value)).toBe(true);
    expect(csvTextValue(`'${value}`)).toBe(value);
  }
}

type JsonRun = { figures: { id: string; dims: Record<string, string>; value: string }[] };

/** The csv's figures block read back (one `'` dropped from text) equals the json's figures. */
function expectFiguresRecovered(records: readonly (string | null)[][], json: JsonRun): void {
  const head = records.findIndex((record) => record[0] === 'figure_id');
  const columns = records[head]!;
  const byId = new Map(records.slice(head + 1).filter((record) => record.length === columns.length)
    .map((record) => [record[0]!, record]));
  for (const figure of json.figures) {
    const record = byId.get(figure.id)!;
    expect(record.at(-1), figure.id).toBe(figure.value);
    for (const [dim, value] of Object.entries(figure.dims)) {
      expect(csvTextValue(record[columns.indexOf(`dims.${dim}`)]!), `${figure.id} ${dim}`).toBe(value);
    }
  }
}

describe('csv formula injection', () => {
  let ledger: TestLedger;
  let dir: string;
  beforeAll(async () => {
    ledger = await createTestLedger();
    await ledger.publish(hostile.map((_value, n) => capture(n)));
    expect(await ledger.project()).toMatchObject({ posted: hostile.length, quarantined: 0 });
    dir = await mkdtemp(path.join(os.tmpdir(), 'csv-injection-'));
  });
  afterAll(async () => {
    await ledger?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const reports: { report: string; params: Record<string, string>; carries: boolean }[] = [
    { report: 'revenue', params: { period: '2026-10' }, carries: true },
    { report: 'owner-balances', params: { as_of: '2026-11-01' }, carries: true },
    { report: 'form-1099-k', params: { year: '2026', min_amount: '1', min_transactions: '0' }, carries: true },
    { report: 'gl-detail', params: { period: '2026-10' }, carries: false },
    { report: 'trial-balance', params: { as_of: '2026-11-01' }, carries: false },
  ];

  it.each(reports)('$report: hostile ids are quoted text with one \' in front, recoverable', async ({ report, params, carries }) => {
    const run = await runReport(ledger, report, params);
    const records = parseCsv(await readFile(run.files.csv!, 'utf8'));
    expectNeutralised(records, carries ? hostile : []);
    expectFiguresRecovered(records, JSON.parse(await readFile(run.files.json!, 'utf8')) as JsonRun);
  });

  it('trial-balance: negative amounts stay plain numbers, unquoted and unprefixed', async () => {
    const run = await runReport(ledger, 'trial-balance', { as_of: '2026-11-01' });
    const text = await readFile(run.files.csv!, 'utf8');
    expect(text).toMatch(/,-[0-9]+\.[0-9]{2}\r\n/);
    expect(text).not.toMatch(/'-[0-9]+\.[0-9]{2}/);
  });

  it('gl-detail layout: a hostile value in every text column is neutralised, amounts stay numbers', async () => {
    const rows = hostile.map((value) => detailColumns.map((column) =>
      (column.kind === 'money' ? { value: '-12.50', currency: 'USD' } : value)));
    const input = renderInput([{ name: 'Lines', title: 'Every journal line', columns: detailColumns, rows }]);
    const file = path.join(dir, 'gl-detail.csv');
    await renderCsv({ ...input, header: { ...header, params: { period: '=1+2' } } }, file);
    const records = parseCsv(await readFile(file, 'utf8'));
    expectNeutralised(records, [...hostile, '=1+2']);
    const lines = records.slice(records.findIndex((record) => record[1] === 'Lines') + 2);
    expect(lines.map((record) => record[detailColumns.findIndex((column) => column.key === 'amount')]))
      .toEqual(hostile.map(() => '-12.50'));
  });

  it('reconciliation: hostile processor references are neutralised in the published csv', async () => {
    const processor = path.join(dir, 'processor.csv');
    const bank = path.join(dir, 'bank.csv');
    const quoted = (value: string) => `"${value.replaceAll('"', '""')}"`;
    await writeFile(processor, [processorHeader, ...hostile.map((value, n) =>
      `txn_inj_${n},2026-10-0${n + 1} 10:00:00,2026-10-0${n + 3} 10:00:00,usd,50.00,1.00,49.00,charge,${quoted(value)}`),
    ''].join('\n'));
    await writeFile(bank, `${bankHeader}\n`);
    const record = await runReconciliation(ledger.db.pool, {
      date: '2026-10-20', processor: { path: processor, format: 'csv' }, bank: { path: bank, format: 'csv' },
      requestedBy: 'test', graceDays: 2, toleranceDays: 3, now: () => new Date('2026-10-20T23:30:00Z'),
    });
    expect(record.breaks.map((b) => b.reference)).toEqual(expect.arrayContaining([...hostile]));
    const published = await publishRenderedRun(await reportContext(ledger), reconciliationRenderInput(record));
    const records = parseCsv(await readFile(published.files.csv!, 'utf8'));
    expectNeutralised(records, hostile);
    const json = JSON.parse(await readFile(published.files.json!, 'utf8')) as
      { sections: { name: string; columns: { key: string }[]; rows: (string | null)[][] }[] };
    const breaks = json.sections.find((section) => section.name === 'Breaks')!;
    const referenceColumn = breaks.columns.findIndex((column) => column.key === 'reference');
    const fromCsv = records.slice(records.findIndex((r) => r[0] === 'section' && r[1] === 'Breaks') + 2)
      .slice(0, breaks.rows.length).map((r) => csvTextValue(r[referenceColumn]!));
    expect(fromCsv).toEqual(breaks.rows.map((row) => row[referenceColumn]));
  });
});
