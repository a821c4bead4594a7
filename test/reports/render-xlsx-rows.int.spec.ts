// The xlsx renderer writes section rows as sheet XML directly (SheetRowWriter) instead of
// through exceljs's Row and Cell objects, which cost a million gl-detail lines a minute of
// CPU. This holds the direct path to exactly the bytes exceljs's own row path writes, on
// rows with every kind of cell: text needing XML escapes, control characters, a literal
// `_x0041_`, an empty string, empty cells, a row of empty cells, money in both
// currencies and an unknown one, zero and negative zero, the largest exact amount and one
// too large for a spreadsheet number (a note: left to exceljs), counts, figure links
// (left to exceljs), and a section long enough to continue on further sheets.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderXlsx } from '../../src/reports/render/xlsx.ts';
import type { Cell, Column, RenderInput, Section } from '../../src/reports/render/types.ts';
import { detailSection, renderInput } from './render-fixture.ts';

let dir = '';
beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'render-xlsx-rows-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

const columns: readonly Column[] = [
  { key: 'text', title: 'Text', kind: 'text' },
  { key: 'when', title: 'When', kind: 'datetime' },
  { key: 'amount', title: 'Amount', kind: 'money' },
  { key: 'count', title: 'Count', kind: 'count' },
  { key: 'day', title: 'Day', kind: 'date' },
];

const texts = ['plain', 'a & b < c > d "e" \'f\'', 'tab\there', 'line\nbreak', 'cr\rhere', 'bell\x07', 'del\x7f',
  '_x0041_ literal', '', 'é, 😀, 中文', '=SUM(1,2)', ' leading space', 'trailing space '];
const amounts: Cell[] = [
  { value: '0.00', currency: 'USD' }, { value: '-0.00', currency: 'USD' }, { value: '-5.10', currency: 'CAD' },
  { value: '1234567890123.45', currency: 'USD' }, { value: '10000000000000.00', currency: 'USD' },
  { value: '7.5', currency: 'EUR' }, { value: '0012.30', currency: 'CAD' }, { value: '42.00', figureId: 'fig-1', currency: 'USD' },
  null, { value: '99.99' },
];
const counts: Cell[] = ['12', '-3', '0', '1000000000000000', { value: '7', figureId: 'fig-2' }, null];

function trickyRow(index: number): Cell[] {
  if (index % 17 === 16) return [null, null, null, null, null];
  return [texts[index % texts.length] ?? null, index % 5 === 0 ? null : `2026-10-0${1 + (index % 9)}T00:00:00.000001Z`,
    amounts[index % amounts.length] ?? null, counts[index % counts.length] ?? null, index % 4 === 0 ? '' : '2026-10-31'];
}

function trickySection(rowCount: number): Section {
  return { name: 'Tricky', title: 'Every kind of cell', columns,
    rows: Array.from({ length: rowCount }, (_unused, index) => trickyRow(index)) };
}

async function bothPaths(input: RenderInput, name: string, sheetRowsMax?: number): Promise<[Buffer, Buffer]> {
  const direct = path.join(dir, `${name}-direct.xlsx`);
  const reference = path.join(dir, `${name}-exceljs.xlsx`);
  const directSha = await renderXlsx(input, direct, { ...(sheetRowsMax === undefined ? {} : { sheetRowsMax }) });
  const referenceSha = await renderXlsx(input, reference, { exceljsRows: true,
    ...(sheetRowsMax === undefined ? {} : { sheetRowsMax }) });
  expect(directSha).toBe(referenceSha);
  return [await readFile(direct), await readFile(reference)];
}

describe('xlsx: the fast row path writes what exceljs writes', () => {
  it('every kind of cell, on sheets that continue', async () => {
    const input = { ...renderInput([trickySection(200), detailSection(300, true)]), dataSha256: 'b'.repeat(64) };
    const [direct, reference] = await bothPaths(input, 'tricky', 70);
    expect(direct.equals(reference)).toBe(true);
    // The rows are really there: continuation sheets, an escaped text, a note on the too-large amount.
    const entries = unzipSync(new Uint8Array(direct));
    const sheets = Object.keys(entries).filter((name) => /worksheets\/sheet[0-9]+\.xml$/.test(name));
    // Report, Revenue, 3 of Tricky (200 rows by 70), 5 of GL detail (300 by 70), Lineage.
    expect(sheets).toHaveLength(11);
    const xml = sheets.map((name) => Buffer.from(entries[name]!).toString('utf8')).join('');
    expect(xml).toContain('a &amp; b &lt; c &gt; d &quot;e&quot; &apos;f&apos;');
    expect(xml).toContain('_x005F_x0041_ literal');
    expect(xml).toContain('bell_x0007_');
    expect(xml).toContain('<v>1234567890123.45</v>');
  });

  it('a streamed gl-detail section at the sheets’ default length', async () => {
    const input = { ...renderInput([detailSection(2_000, true)]), dataSha256: 'c'.repeat(64) };
    const [direct, reference] = await bothPaths(input, 'detail');
    expect(direct.equals(reference)).toBe(true);
  });
});
