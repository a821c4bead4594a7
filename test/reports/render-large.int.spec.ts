// Proves the xlsx rendering streams: a 200,000-row section given as an async iterable
// (each row made when asked, as the engine's query stream hands them over) renders with
// the process's RSS, sampled every 25 ms, growing by less than 300 MB, which holding the
// rows or the sheet's XML (~90 MB of text) in memory would not allow with room to spare;
// and the sheet then holds every row: the independent reader (fflate, only the one
// sheet decompressed) finds the header, row 200,001 with the last row's values, and no
// row after it. Kept near 10 s on the 2-core machine.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellValue } from '../../src/reports/render/cells.ts';
import { renderXlsx } from '../../src/reports/render/xlsx.ts';
import { detailRow, detailSection, renderInput } from './render-fixture.ts';
import { columnLetter, decimalToMinor } from './render-readers.ts';

const rowCount = 200_000;
const growthBytesMax = 300 * 2 ** 20;

let dir = '';
beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'render-large-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('xlsx of a large streamed section', () => {
  it(`renders ${rowCount} rows without holding them`, async () => {
    const file = path.join(dir, 'large.xlsx');
    const startRssBytes = process.memoryUsage().rss;
    let peakRssBytes = startRssBytes;
    const sampler = setInterval(() => { peakRssBytes = Math.max(peakRssBytes, process.memoryUsage().rss); }, 25);
    try {
      await renderXlsx({ ...renderInput([detailSection(rowCount, true)]), dataSha256: '' }, file);
    } finally {
      clearInterval(sampler);
    }
    const growthBytes = Math.max(peakRssBytes, process.memoryUsage().rss) - startRssBytes;
    expect(growthBytes).toBeLessThan(growthBytesMax);

    // Sheet 3 is the detail section (Report, Revenue, GL detail, Lineage).
    const sheetName = 'xl/worksheets/sheet3.xml';
    const files = unzipSync(new Uint8Array(await readFile(file)), { filter: (entry) => entry.name.replace(/^\//, '') === sheetName });
    const xml = Buffer.from(Object.values(files)[0]!).toString('utf8');
    expect(xml).toContain('<row r="1"');
    const lastRowStart = xml.indexOf(`<row r="${rowCount + 1}"`);
    expect(lastRowStart).toBeGreaterThan(0);
    expect(xml).not.toContain(`<row r="${rowCount + 2}"`);
    const lastRow = xml.slice(lastRowStart, xml.indexOf('</row>', lastRowStart));
    const expected = detailRow(rowCount - 1);
    const value = (column: number) => new RegExp(`<c r="${columnLetter(column)}${rowCount + 1}"[^>]*><v>([^<]*)</v>`).exec(lastRow)?.[1];
    expect(value(0)).toBe(cellValue(expected[0]!));
    expect(value(9)).toBe(cellValue(expected[9]!));
    expect(decimalToMinor(value(6)!)).toBe(decimalToMinor(cellValue(expected[6]!)!));
  });
});
