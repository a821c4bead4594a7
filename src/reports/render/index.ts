// The four renderings of a run. Each renderer is a pure function of its RenderInput that
// writes one file and returns that file's SHA-256, taken over the bytes as they were
// written; the same input gives the same bytes (REPORTS.md: a hash names a report).
import path from 'node:path';
import { invariant } from '../../errors.ts';
import { makePrivateDir } from '../../storage/files.ts';
import { renderCsv } from './csv.ts';
import { renderJson } from './json.ts';
import { sectionBatches } from './cells.ts';
import { pdfRowsLookedAt, renderPdf, type PdfOptions } from './pdf.ts';
import { renderTogether } from './shared-reads.ts';
import {
  reportFormats, type BatchedRows, type Cell, type RenderInput, type Renderer, type ReportFormat, type Section,
} from './types.ts';
import { renderXlsx, type XlsxOptions } from './xlsx.ts';

export { jsonSha256 } from './json.ts';
export { pdfRowsMaxDefault } from './pdf.ts';

export type RenderOptions = PdfOptions & XlsxOptions;

export function createRenderers(options: RenderOptions = {}): Record<ReportFormat, Renderer> {
  return {
    json: renderJson,
    csv: renderCsv,
    xlsx: (input, file) => renderXlsx(input, file, options),
    pdf: (input, file) => renderPdf(input, file, options),
  };
}

/** With the defaults: the pdf prints at most pdfRowsMaxDefault rows per section. */
export const renderers: Record<ReportFormat, Renderer> = createRenderers();

export type Rendered = Record<ReportFormat, { path: string; sha256: string }>;

/**
 * Renders every format to `outDir/baseName.FORMAT`. `input.dataSha256` may be empty (not
 * yet known: the json's hash is used) or must equal the json's hash, so that no file
 * prints a stale one.
 */
export async function renderAll(
  input: RenderInput, outDir: string, baseName: string, options: RenderOptions = {},
): Promise<Rendered> {
  return renderFormats(input, outDir, baseName, reportFormats, options) as Promise<Rendered>;
}

/**
 * Renders the json and the `formats` asked for, in two passes that each read a streamed
 * section (gl-detail's million lines) once, shared by the work of the pass
 * (shared-reads.ts): first json and csv; then xlsx, which prints the json's SHA-256 (the
 * data's hash) in its first bytes and so cannot start before it is known. The pdf prints
 * it too, but looks at only the first few thousand rows of a section and counts the
 * rest: the second pass keeps those rows and the count, and the pdf is drawn after the
 * xlsx from them. pdfkit holds every page until the end (about 200 MB for 5,000 rows),
 * and drawn beside the xlsx that heap made a 256 MiB process spend most of its time
 * collecting garbage.
 */
export type RenderObserver = {
  /** The input one format's rendering reads (its streamed sections counted as they are read). */
  wrap(input: RenderInput): RenderInput;
  /** A format is written. */
  finished(): void;
};

export async function renderFormats(
  input: RenderInput, outDir: string, baseName: string, formats: readonly ReportFormat[], options: RenderOptions = {},
  observer?: RenderObserver,
): Promise<Partial<Rendered> & Pick<Rendered, 'json'>> {
  invariant(baseName.length > 0 && !/[/\\]/.test(baseName), `base name ${JSON.stringify(baseName)} names a file`);
  await makePrivateDir(outDir);
  const selected = createRenderers(options);
  const fileOf = (format: ReportFormat) => path.join(outDir, `${baseName}.${format}`);
  const rendered: Partial<Rendered> & Pick<Rendered, 'json'> = { json: { path: fileOf('json'), sha256: '' } };
  const observed = (shared: RenderInput) => (observer === undefined ? shared : observer.wrap(shared));
  const renderTo = (format: ReportFormat, wrap = observed) => async (shared: RenderInput) => {
    rendered[format] = { path: fileOf(format), sha256: await selected[format](wrap(shared), fileOf(format)) };
    observer?.finished();
  };
  await renderTogether(input, [renderTo('json'), ...(formats.includes('csv') ? [renderTo('csv')] : [])]);
  const dataSha256 = rendered.json.sha256;
  invariant(input.dataSha256 === '' || input.dataSha256 === dataSha256,
    `dataSha256 ${input.dataSha256} is the json rendering's hash ${dataSha256}`);
  const withHash: RenderInput = { ...input, dataSha256 };
  let forPdf: RenderInput | null = null;
  await renderTogether(withHash, [
    ...(formats.includes('xlsx') ? [renderTo('xlsx')] : []),
    ...(formats.includes('pdf') ? [async (shared: RenderInput) => {
      forPdf = await firstRowsOf(observed(shared), pdfRowsLookedAt(options));
    }] : []),
  ]);
  // Its rows were counted as they were read for it, above.
  if (forPdf !== null) await renderTo('pdf', (kept) => kept)(forPdf);
  return rendered;
}

/**
 * The input with each streamed section read through once and replaced by its first
 * `kept` rows followed by stand-in rows (every cell empty) up to its length: what the
 * pdf needs of it (pdfRowsLookedAt), in bounded memory.
 */
async function firstRowsOf(input: RenderInput, kept: number): Promise<RenderInput> {
  const sections: Section[] = [];
  for (const section of input.sections) {
    if (typeof section.rows !== 'function') {
      sections.push(section);
      continue;
    }
    const head: (readonly Cell[])[] = [];
    let length = 0;
    for await (const batch of sectionBatches(section)) {
      for (const row of batch) if (head.length < kept) head.push(row);
      length += batch.length;
    }
    const standIn: readonly Cell[] = section.columns.map(() => null);
    sections.push({ ...section, rows: () => rowsThenStandIns(head, length, standIn) });
  }
  return { ...input, sections };
}

function rowsThenStandIns(head: readonly (readonly Cell[])[], length: number, standIn: readonly Cell[]): BatchedRows {
  const standInsPerBatch = 10_000;
  async function* batches(): AsyncGenerator<readonly (readonly Cell[])[]> {
    if (head.length > 0) yield head;
    const full: readonly (readonly Cell[])[] = Array.from({ length: standInsPerBatch }, () => standIn);
    for (let left = length - head.length; left > 0; left -= standInsPerBatch) {
      yield left >= standInsPerBatch ? full : full.slice(0, left);
    }
  }
  return {
    batches,
    async *[Symbol.asyncIterator]() {
      for await (const batch of batches()) yield* batch;
    },
  };
}
