// Issue 12 item 8: every value the journal can hold renders in every format. Two valid
// captures of 9,000,000,000,000.00 (each within the ledger's largest line amount) give
// totals of 18,000,000,000,000.00, beyond the 15 significant digits a spreadsheet number
// keeps. How: the two events are projected into a fresh ledger and revenue, owner-balances,
// form-1099-k, gl-detail and trial-balance are run through the engine (createRun, the path
// of `ledger report run`). For each run the json, the csv (read by an independent RFC 4180
// parser), the xlsx (unzipped and read as XML, no exceljs) and the pdf (its text
// operators, inflated by zlib) must all hold the large figure to the cent; in the xlsx it
// is a text cell carrying a note, while amounts a spreadsheet holds exactly stay numbers.
import { readFile } from 'node:fs/promises';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unzipSync as unzip } from 'fflate';
import { createTestLedger, eventLine, type TestLedger } from '../support/ledger.ts';
import { runReport } from '../support/reports.ts';
import { decimalToMinor, parseCsv, pdfTexts, readXlsx, sheetRows } from './render-readers.ts';

const huge = '9000000000000.00';
const total = '18000000000000.00';
const totalGrouped = '18,000,000,000,000.00';

function capture(n: number): string {
  return eventLine('payment.captured', `2026-10-0${n}T10:00:00Z`, {
    payment_id: `pay_huge_${n}`, rental_id: `rnt_huge_${n}`, driver_id: `drv_${n}`, owner_id: 'own_huge',
    market: 'US-CA', processor: 'stripe', processor_ref: `ch_huge_${n}`, currency: 'USD', rental_amount: huge,
    commission: '0.00', protection_fee: '0.00', service_fee: '0.00', tax: '0.00', deposit: '0.00',
    processor_fee: '0.00', total: huge,
  });
}

/** The text a compressed pdf draws: each FlateDecode stream inflated, then its text operators. */
function pdfText(pdf: Buffer): string {
  const source = pdf.toString('latin1');
  const parts: Buffer[] = [pdf];
  for (const match of source.matchAll(/stream\r?\n/g)) {
    const start = match.index + match[0].length;
    const end = source.indexOf('endstream', start);
    try {
      parts.push(Buffer.from('['), inflateSync(pdf.subarray(start, end)), Buffer.from(']'));
    } catch {
      // Not a deflated stream (a font, say): nothing to read.
    }
  }
  return pdfTexts(Buffer.concat(parts)).join('\n');
}

type Case = { report: string; params: Record<string, string>; key: string; dims: Record<string, string> };

const cases: Case[] = [
  { report: 'revenue', params: { period: '2026-10' }, key: 'gross_booking_value', dims: { currency: 'USD', market: 'US-CA' } },
  { report: 'owner-balances', params: { as_of: '2026-11-01' }, key: 'pending', dims: { currency: 'USD', owner_id: 'own_huge' } },
  { report: 'form-1099-k', params: { year: '2026' }, key: 'gross_amount', dims: { owner_id: 'own_huge' } },
  { report: 'gl-detail', params: { period: '2026-10' }, key: 'debits', dims: { currency: 'USD', account: '1100' } },
  { report: 'trial-balance', params: { as_of: '2026-11-01' }, key: 'total_debits', dims: { currency: 'USD' } },
];

describe('totals beyond what a spreadsheet number holds', () => {
  let ledger: TestLedger;
  beforeAll(async () => {
    ledger = await createTestLedger();
    await ledger.publish([capture(1), capture(2)]);
    expect(await ledger.project()).toMatchObject({ posted: 2, quarantined: 0 });
  });
  afterAll(async () => ledger?.close());

  it.each(cases)('$report renders in every format, exact to the cent', async ({ report, params, key, dims }) => {
    const run = await runReport(ledger, report, params);
    const sorted = (record: Record<string, string>) => JSON.stringify(Object.entries(record).sort());
    const figure = run.figures.find((f) => f.key === key && sorted(f.dims) === sorted(dims));
    expect(figure, `${key} ${JSON.stringify(dims)}`).toBeDefined();
    expect(figure!.value).toBe(total);

    const json = JSON.parse(await readFile(run.files.json!, 'utf8')) as { figures: { id: string; value: string }[] };
    expect(json.figures.find((f) => f.id === figure!.id)?.value).toBe(total);

    const csv = parseCsv(await readFile(run.files.csv!, 'utf8'));
    expect(csv.find((record) => record[0] === figure!.id)?.at(-1)).toBe(total);

    const xlsxBytes = await readFile(run.files.xlsx!);
    const xlsx = readXlsx(xlsxBytes);
    const lineage = xlsx.sheets.find((sheet) => sheet.name === 'Lineage')!;
    const rows = sheetRows(lineage, 12);
    const valueColumn = rows[0]!.findIndex((cell) => cell?.value === 'Value');
    const row = rows.find((cells) => cells[0]?.value === figure!.id)!;
    expect(row[valueColumn]).toMatchObject({ value: total, type: 'string' });
    // The note says why the cell is text; it sits in a comments part of the zip.
    const files = Object.entries(unzip(new Uint8Array(xlsxBytes)));
    const comments = files.filter(([name]) => /xl\/comments\d+\.xml$/.test(name))
      .map(([, bytes]) => Buffer.from(bytes).toString('utf8')).join('');
    expect(comments).toMatch(/15 significant digits/);

    expect(pdfText(await readFile(run.files.pdf!))).toContain(totalGrouped);
  });

  it('keeps amounts a spreadsheet holds exactly as numbers in the same workbook', async () => {
    const run = await runReport(ledger, 'gl-detail', { period: '2026-10' });
    const xlsx = readXlsx(await readFile(run.files.xlsx!));
    const lines = xlsx.sheets.find((sheet) => sheet.name === 'Lines')!;
    const rows = sheetRows(lines, 12);
    const amountColumn = rows[0]!.findIndex((cell) => cell?.value === 'Amount');
    const amounts = rows.slice(1).map((row) => row[amountColumn]!)
      .filter((cell) => /^[0-9.]+$/.test(cell.value) && decimalToMinor(cell.value) === decimalToMinor(huge));
    // Each capture's line to 2000 (owner pending) is 9,000,000,000,000.00: a number, exact.
    expect(amounts.length).toBeGreaterThanOrEqual(2);
    expect(amounts.every((cell) => cell.type === 'number')).toBe(true);
  });
});
