// Proves the json rendering has exactly REPORTS.md's shape (top-level keys in the
// contract's order, figures as {id, key, dims, value}, map keys sorted, a sections array
// only when the layout has sections, rows as the cells' strings), that an array section
// and the same rows streamed give the same bytes, that jsonSha256 is the json file's
// hash, and that renderAll writes all four files and refuses a stale dataSha256. Then
// the csv is parsed back with a small RFC 4180 parser written in the test
// (render-readers.ts) and every value is compared with the json's: run fields, figures
// with one column per dim, and every section row, commas, quotes and CRLF included.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonSha256, renderAll } from '../../src/reports/render/index.ts';
import { renderJson } from '../../src/reports/render/json.ts';
import { renderCsv } from '../../src/reports/render/csv.ts';
import type { RenderInput } from '../../src/reports/render/types.ts';
import { detailSection, figures, header, renderInput, revenueSection } from './render-fixture.ts';
import { parseCsv } from './render-readers.ts';

type JsonRendering = {
  report: string; run_id: string; template_version: string; params: Record<string, string>;
  watermark: Record<string, number>; generated_at: string;
  figures: { id: string; key: string; dims: Record<string, string>; value: string }[];
  sections?: { name: string; title: string; columns: { key: string; title: string; kind: string }[]; rows: (string | null)[][] }[];
};

let dir = '';
beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'render-json-csv-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

async function renderJsonText(input: RenderInput, name: string): Promise<string> {
  const file = path.join(dir, name);
  await renderJson(input, file);
  return readFile(file, 'utf8');
}

describe('json rendering', () => {
  it("has REPORTS.md's shape, keys in a fixed order", async () => {
    const json = JSON.parse(await renderJsonText(renderInput(), 'shape.json')) as JsonRendering;
    expect(Object.keys(json)).toEqual(['report', 'run_id', 'template_version', 'params', 'watermark', 'generated_at',
      'figures', 'sections']);
    expect(json).toMatchObject({ report: 'revenue', run_id: header.run_id, template_version: '1',
      params: { period: '2026-10' }, generated_at: '2026-11-01T02:00:03Z' });
    expect(Object.keys(json.watermark)).toEqual(['marketplace.events/0', 'marketplace.events/1']);
    expect(json.figures).toEqual(figures.map((f) => ({ id: f.id, key: f.key, dims: f.dims, value: f.value })));
    for (const figure of json.figures) expect(Object.keys(figure)).toEqual(['id', 'key', 'dims', 'value']);
    expect(json.sections?.[0]?.columns.map((c) => c.key)).toEqual(['currency', 'market', 'net_revenue', 'rentals_closed', 'note']);
    expect(json.sections?.[0]?.rows).toEqual([
      ['USD', 'US-CA', '1234.56', '12', 'late, "adjusted" entry'],
      ['CAD', 'CA-ON', '-20.05', '3', null],
      ['USD', 'US-NY', '1000000.00', '4021', 'two\r\nlines'],
    ]);
  });

  it('leaves out sections when the layout has none', async () => {
    const json = JSON.parse(await renderJsonText({ ...renderInput(), sections: [] }, 'bare.json')) as JsonRendering;
    expect(Object.keys(json)).toEqual(['report', 'run_id', 'template_version', 'params', 'watermark', 'generated_at', 'figures']);
  });

  it('gives the same bytes for an array section and the same rows streamed', async () => {
    const fromArray = await renderJsonText(renderInput([detailSection(50, false)]), 'array.json');
    const fromStream = await renderJsonText(renderInput([detailSection(50, true)]), 'stream.json');
    expect(fromStream).toBe(fromArray);
    expect(fromArray.endsWith('\n')).toBe(true);
  });

  it('refuses a row with the wrong number of cells', async () => {
    const short = { ...revenueSection, rows: [['USD', 'US-CA']] };
    await expect(renderJson({ ...renderInput(), sections: [short] }, path.join(dir, 'short.json')))
      .rejects.toThrow(/row 0 has 2 cells for 5 columns/);
  });
});

describe('renderAll', () => {
  it('writes all four files, json first, and returns their hashes', async () => {
    const input = renderInput([detailSection(20, true)]);
    const rendered = await renderAll(input, path.join(dir, 'all'), 'revenue-run');
    expect(Object.keys(rendered).sort()).toEqual(['csv', 'json', 'pdf', 'xlsx']);
    for (const [format, file] of Object.entries(rendered)) {
      expect(path.basename(file.path)).toBe(`revenue-run.${format}`);
      expect(file.sha256).toBe(createHash('sha256').update(await readFile(file.path)).digest('hex'));
    }
    expect(await jsonSha256(renderInput([detailSection(20, true)]))).toBe(rendered.json.sha256);
  });

  it('refuses a dataSha256 that is not the json rendering\'s hash', async () => {
    const stale = { ...renderInput(), dataSha256: 'f'.repeat(64) };
    await expect(renderAll(stale, path.join(dir, 'stale'), 'x')).rejects.toThrow(/dataSha256/);
  });
});

/** Splits csv records into blocks at the empty records between them. */
function blocks(records: (string | null)[][]): (string | null)[][][] {
  const result: (string | null)[][][] = [[]];
  for (const record of records) {
    if (record.length === 1 && record[0] === null) result.push([]);
    else result[result.length - 1]!.push(record);
  }
  return result;
}

describe('csv rendering read back', () => {
  it("gives the json's values: run, figures and every section row", async () => {
    const input = renderInput([detailSection(30, true)]);
    const json = JSON.parse(await renderJsonText(input, 'csv-source.json')) as JsonRendering;
    const file = path.join(dir, 'read-back.csv');
    await renderCsv(renderInput([detailSection(30, true)]), file);
    const text = await readFile(file, 'utf8');
    expect(text).not.toMatch(/[^\r]\n/);
    expect(text).toContain('"late, ""adjusted"" entry"');
    const [run, figureBlock, ...sectionBlocks] = blocks(parseCsv(text));

    expect(Object.fromEntries(run!.map(([name, value]) => [name, value]))).toEqual({
      report: json.report, run_id: json.run_id, template_version: json.template_version,
      generated_at: json.generated_at, 'params.period': json.params['period'],
      'watermark.marketplace.events/0': String(json.watermark['marketplace.events/0']),
      'watermark.marketplace.events/1': String(json.watermark['marketplace.events/1']),
    });

    const [figureHeader, ...figureRows] = figureBlock!;
    expect(figureHeader).toEqual(['figure_id', 'key', 'dims.currency', 'dims.market', 'value']);
    expect(figureRows).toEqual(json.figures.map((f) => [f.id, f.key, f.dims['currency'], f.dims['market'], f.value]));

    expect(sectionBlocks).toHaveLength(json.sections!.length);
    sectionBlocks.forEach((block, index) => {
      const section = json.sections![index]!;
      const [marker, columnKeys, ...rows] = block;
      expect(marker).toEqual(['section', section.name, section.title]);
      expect(columnKeys).toEqual(section.columns.map((c) => c.key));
      expect(rows).toEqual(section.rows);
    });
  });
});
