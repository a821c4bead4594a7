// Proves the xlsx rendering is a real spreadsheet holding the json's values, read back by
// an independent reader (fflate unzips; the sheet XML, styles and relationships are read
// with regular expressions in render-readers.ts; no exceljs): the Report sheet carries the
// run, parameters, watermark, checkpoint and data hash; each section sheet has a frozen
// header row, widths, text equal to the json's (comma, quote and CRLF included), money
// cells numeric with "$" or "CA$" number formats and equal to the json's decimals in
// cents (compared as integers, never as floats), counts numeric with #,##0, and a
// hyperlink to the figure's lineage on every figure cell; the Lineage sheet lists every
// figure id (linked) with key, dims, value and link. Also: a section longer than a sheet
// continues on "NAME (2)", and exceljs itself reads the file back (a round trip).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellValue } from '../../src/reports/render/cells.ts';
import { renderXlsx } from '../../src/reports/render/xlsx.ts';
import type { Section } from '../../src/reports/render/types.ts';
import { detailSection, figures, header, renderInput, revenueSection } from './render-fixture.ts';
import { decimalToMinor, readXlsx, sheetRows, type Xlsx, type XlsxCell } from './render-readers.ts';

const dataSha256 = '5'.repeat(64);
let dir = '';
let xlsx: Xlsx;
const detail = detailSection(40, true);
const linkOf = (figureId: string) => `https://ledger.example.test/reports/figures/${figureId}`;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'render-xlsx-'));
  await renderXlsx({ ...renderInput([detail]), dataSha256 }, path.join(dir, 'run.xlsx'));
  xlsx = readXlsx(await readFile(path.join(dir, 'run.xlsx')));
});
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

const sheet = (name: string) => {
  const found = xlsx.sheets.find((s) => s.name === name);
  if (found === undefined) throw new Error(`no sheet ${name}`);
  return found;
};

/** Checks one xlsx cell against the json's string for a column of `kind`. */
function expectCell(cell: XlsxCell | null, expected: string | null, kind: string, currency: string | null): void {
  if (expected === null) {
    expect(cell).toBeNull();
    return;
  }
  expect(cell).not.toBeNull();
  if (kind === 'money') {
    expect(cell!.type).toBe('number');
    expect(decimalToMinor(cell!.value)).toBe(decimalToMinor(expected));
    expect(xlsx.numberFormatOfStyle(cell!.styleIndex)).toBe(currency === 'CAD' ? '"CA$"#,##0.00' : '"$"#,##0.00');
  } else if (kind === 'count') {
    expect(cell!.type).toBe('number');
    expect(cell!.value).toBe(expected);
    expect(xlsx.numberFormatOfStyle(cell!.styleIndex)).toBe('#,##0');
  } else {
    expect(cell!.type).toBe('string');
    expect(cell!.value).toBe(expected);
  }
}

async function expectSectionSheet(name: string, section: Section, expectedRows: readonly (readonly import('../../src/reports/render/types.ts').Cell[])[]) {
  const found = sheet(name);
  expect(found.frozenRows).toBe(1);
  expect(found.columnWidths).toHaveLength(section.columns.length);
  for (const width of found.columnWidths) expect(width).toBeGreaterThanOrEqual(8);
  const [titles, ...rows] = sheetRows(found, section.columns.length);
  expect(titles!.map((cell) => cell?.value)).toEqual(section.columns.map((column) => column.title));
  expect(rows).toHaveLength(expectedRows.length);
  rows.forEach((row, rowIndex) => {
    section.columns.forEach((column, columnIndex) => {
      const source = expectedRows[rowIndex]![columnIndex]!;
      const currency = typeof source === 'object' && source !== null ? source.currency ?? null : null;
      expectCell(row[columnIndex]!, cellValue(source), column.kind, currency);
      const address = `${String.fromCharCode(65 + columnIndex)}${rowIndex + 2}`;
      const figureId = typeof source === 'object' && source !== null ? source.figureId : undefined;
      expect(found.links.get(address)).toBe(figureId === undefined ? undefined : linkOf(figureId));
    });
  });
}

async function collect(section: Section) {
  const rows = [];
  if (typeof section.rows !== 'function') return section.rows;
  for await (const row of section.rows()) rows.push(row);
  return rows;
}

describe('xlsx read back by an independent reader', () => {
  it('has the Report, section and Lineage sheets in order', () => {
    expect(xlsx.sheets.map((s) => s.name)).toEqual(['Report', 'Revenue', 'GL detail', 'Lineage']);
  });

  it('carries the run in the Report sheet', () => {
    const pairs = new Map(sheetRows(sheet('Report'), 2).map(([label, value]) => [label?.value, value?.value]));
    expect(pairs.get('Revenue, October 2026')).toBeUndefined();
    expect(sheet('Report').cells.get('A1')?.value).toBe(header.title);
    expect(pairs.get('Run id')).toBe(header.run_id);
    expect(pairs.get('Generated at (UTC)')).toBe(header.generated_at);
    expect(pairs.get('Template version')).toBe('1');
    expect(pairs.get('Supersedes')).toBe('(none)');
    expect(pairs.get('Journal checkpoint')).toBe(`#12, Merkle root ${header.checkpoint!.merkle_root}`);
    expect(pairs.get('Data SHA-256 (json)')).toBe(dataSha256);
    expect(pairs.get('period')).toBe('2026-10');
    expect(pairs.get('marketplace.events/0')).toBe('1234');
    expect(pairs.get('marketplace.events/1')).toBe('987');
  });

  it("holds the json's values in the section sheets, typed and linked", async () => {
    await expectSectionSheet('Revenue', revenueSection, await collect(revenueSection));
    await expectSectionSheet('GL detail', detail, await collect(detail));
    expect(sheet('Revenue').cells.get('E2')?.value).toBe('late, "adjusted" entry');
    expect(sheet('Revenue').cells.get('E4')?.value).toBe('two\r\nlines');
  });

  it('lists every figure id with its key, dims, value and link in the Lineage sheet', () => {
    const lineage = sheet('Lineage');
    expect(lineage.frozenRows).toBe(1);
    const [titles, ...rows] = sheetRows(lineage, 6);
    expect(titles!.map((cell) => cell?.value)).toEqual(['Figure id', 'Key', 'currency', 'market', 'Value', 'Lineage']);
    expect(rows.map((row) => row[0]?.value)).toEqual(figures.map((f) => f.id));
    rows.forEach((row, index) => {
      const figure = figures[index]!;
      expect(row[1]?.value).toBe(figure.key);
      expect([row[2]?.value, row[3]?.value]).toEqual([figure.dims['currency'], figure.dims['market']]);
      expectCell(row[4]!, figure.value, figure.key === 'net_revenue' ? 'money' : 'count', figure.dims['currency']!);
      expect(row[5]?.value).toBe(linkOf(figure.id));
      expect(lineage.links.get(`A${index + 2}`)).toBe(linkOf(figure.id));
    });
  });

  it('continues a section longer than a sheet on the next one', async () => {
    const file = path.join(dir, 'split.xlsx');
    await renderXlsx({ ...renderInput(), dataSha256 }, file, { sheetRowsMax: 2 });
    const split = readXlsx(await readFile(file));
    expect(split.sheets.map((s) => s.name)).toEqual(['Report', 'Revenue', 'Revenue (2)', 'Lineage']);
    const second = split.sheets[2]!;
    expect(second.frozenRows).toBe(1);
    expect(sheetRows(second, 5).map((row) => row[1]?.value)).toEqual(['Market', 'US-NY']);
  });

  it('round-trips through exceljs too: numbers, formats and links', async () => {
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(path.join(dir, 'run.xlsx'));
    const revenue = workbook.getWorksheet('Revenue')!;
    const cell = revenue.getCell('C3');
    // exceljs models a linked cell as {text, hyperlink}; the text is still the number.
    expect(cell.value).toEqual({ text: -20.05, hyperlink: linkOf(figures[2]!.id) });
    expect(cell.numFmt).toBe('"CA$"#,##0.00');
    expect(revenue.getCell('A2').value).toBe('USD');
    expect(workbook.getWorksheet('Lineage')!.getCell('A2').hyperlink).toBe(linkOf(figures[0]!.id));
  });
});
