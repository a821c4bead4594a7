// Proves the pdf rendering is a readable document: it is a PDF (header and trailer), the
// text drawn on its pages (read from uncompressed content streams by render-readers.ts,
// no pdf library) holds the title, run id, parameters, watermark, data hash, every
// figure's id and the chart; a long section spans several pages, each stamped
// "Page n of N" and each repeating the table's column header, with no row split across
// two pages (every page holds as many amount cells as type cells); and a section capped
// at pdfRowsMax says how many rows it left to the xlsx and csv. The default (compressed)
// rendering is checked to be a PDF with the same page count. Each figure id under a value
// links to the figure's page (a URI annotation).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPdf } from '../../src/reports/render/pdf.ts';
import { detailSection, figures, header, renderInput } from './render-fixture.ts';
import { pdfPageCount, pdfTexts } from './render-readers.ts';

const dataSha256 = '9'.repeat(64);
let dir = '';
beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'render-pdf-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

async function render(name: string, rows: number, options: { compress: boolean; pdfRowsMax?: number }) {
  const file = path.join(dir, name);
  await renderPdf({ ...renderInput([detailSection(rows, true)]), dataSha256 }, file, options);
  return readFile(file);
}

/** Each page's content stream, in page order, as the texts drawn on it. */
function pageTexts(pdf: Buffer): string[][] {
  const source = pdf.toString('latin1');
  return [...source.matchAll(/stream\n([\s\S]*?)\nendstream/g)]
    .map((match) => pdfTexts(Buffer.from(match[1]!, 'latin1')))
    .filter((texts) => texts.length > 0);
}

describe('pdf rendering', () => {
  it('is a PDF whose first page carries the run', async () => {
    const pdf = await render('small.pdf', 5, { compress: false });
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.subarray(-6).toString('latin1')).toContain('%%EOF');
    const text = pdfTexts(pdf).join('\n');
    for (const expected of [header.title, header.run_id, header.generated_at, 'period = 2026-10',
      'marketplace.events/0 = 1234; marketplace.events/1 = 987', dataSha256]) {
      expect(text).toContain(expected);
    }
    expect(text).toMatch(/Page 1 of [0-9]+/);
  });

  it("shows every figure's id, and the chart's bars", async () => {
    const texts = pdfTexts(await render('figures.pdf', 5, { compress: false }));
    for (const figure of figures) expect(texts.filter((t) => t === figure.id).length).toBeGreaterThanOrEqual(2);
    expect(texts).toContain('Net revenue by market (USD)');
    expect(texts).toContain('$1,000,000.00');
    expect(texts).toContain('-CA$20.05');
    expect(texts).toContain('late, "adjusted" entry');
  });

  it("links each figure's id under its value to the figure's page", async () => {
    const pdf = (await render('links.pdf', 5, { compress: false })).toString('latin1');
    const targets = [...pdf.matchAll(/\/URI \(([^)]*)\)/g)].map((match) => match[1]);
    const sectionFigures = figures.filter((figure) => targets.includes(`https://ledger.example.test/reports/figures/${figure.id}`));
    expect(sectionFigures.length).toBeGreaterThan(0);
    expect(targets.every((target) => /^https:\/\/ledger\.example\.test\/reports\/figures\/fig_[0-9a-f]{24}$/.test(target ?? '')))
      .toBe(true);
  });

  it('breaks a long table across pages with its header on each and no row split', async () => {
    const pdf = await render('long.pdf', 400, { compress: false });
    const pages = pageTexts(pdf);
    expect(pages.length).toBe(pdfPageCount(pdf));
    expect(pages.length).toBeGreaterThan(5);
    pages.forEach((texts, index) => expect(texts).toContain(`Page ${index + 1} of ${pages.length}`));
    const detailPages = pages.filter((texts) => texts.some((t) => t.startsWith('General ledger detail')));
    expect(detailPages.length).toBeGreaterThan(5);
    let rows = 0;
    for (const texts of detailPages) {
      expect(texts).toContain('Effective time');
      const amounts = texts.filter((t) => /^-?(CA)?\$[0-9,]+\.[0-9]{2}$/.test(t)).length;
      const types = texts.filter((t) => t === 'rental.completed').length;
      expect(amounts).toBe(types);
      rows += types;
    }
    expect(rows).toBe(400);
  });

  it('prints at most pdfRowsMax rows and says where the rest are', async () => {
    const texts = pdfTexts(await render('capped.pdf', 1_000, { compress: false, pdfRowsMax: 100 }));
    expect(texts.filter((t) => t === 'rental.completed')).toHaveLength(100);
    expect(texts.join('\n')).toContain('… 900 more rows: see the xlsx/csv rendering (this pdf shows the first 100).');
  });

  it('compresses by default, with the same pages', async () => {
    const compressed = await render('compressed.pdf', 400, { compress: true });
    const plain = await render('plain.pdf', 400, { compress: false });
    expect(compressed.subarray(0, 8).toString('latin1')).toBe('%PDF-1.3');
    expect(compressed.length).toBeLessThan(plain.length / 2);
    expect(pdfPageCount(compressed)).toBe(pdfPageCount(plain));
  });
});

describe('pdf rendering of awkward rows', () => {
  it('shortens a row too tall for a page instead of failing or splitting it', async () => {
    const columns = Array.from({ length: 40 }, (_unused, index) => ({ key: `c${index}`, title: `C${index}`, kind: 'text' as const, width: 4 }));
    // Streamed, so not cut into bands: forty columns share one landscape width, 3 characters a line.
    const tall = { name: 'Tall', title: 'Tall rows', columns,
      rows: async function* rows() { yield columns.map(() => 'x '.repeat(120).trim()); } };
    const file = path.join(dir, 'tall.pdf');
    await renderPdf({ ...renderInput(), sections: [tall], dataSha256 }, file, { compress: false });
    const texts = pdfTexts(await readFile(file));
    expect(texts.some((text) => text.endsWith('…'))).toBe(true);
  });
});
