// The four renderings of a run. Each renderer is a pure function of its RenderInput that
// writes one file and returns that file's SHA-256, taken over the bytes as they were
// written; the same input gives the same bytes (REPORTS.md: a hash names a report).
import path from 'node:path';
import { invariant } from '../../errors.ts';
import { makePrivateDir } from '../../storage/files.ts';
import { renderCsv } from './csv.ts';
import { renderJson } from './json.ts';
import { renderPdf, type PdfOptions } from './pdf.ts';
import { reportFormats, type RenderInput, type Renderer, type ReportFormat } from './types.ts';
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
 * Renders every format to `outDir/baseName.FORMAT`, json first: its SHA-256 is the data's
 * hash that the other formats print. `input.dataSha256` may be empty (not yet known: the
 * json's hash is used) or must equal the json's hash, so that no file prints a stale one.
 */
export async function renderAll(
  input: RenderInput, outDir: string, baseName: string, options: RenderOptions = {},
): Promise<Rendered> {
  invariant(baseName.length > 0 && !/[/\\]/.test(baseName), `base name ${JSON.stringify(baseName)} names a file`);
  await makePrivateDir(outDir);
  const selected = createRenderers(options);
  const jsonPath = path.join(outDir, `${baseName}.json`);
  const dataSha256 = await selected.json(input, jsonPath);
  invariant(input.dataSha256 === '' || input.dataSha256 === dataSha256,
    `dataSha256 ${input.dataSha256} is the json rendering's hash ${dataSha256}`);
  const withHash: RenderInput = { ...input, dataSha256 };
  const rendered: Partial<Rendered> = { json: { path: jsonPath, sha256: dataSha256 } };
  for (const format of reportFormats.filter((candidate) => candidate !== 'json')) {
    const file = path.join(outDir, `${baseName}.${format}`);
    rendered[format] = { path: file, sha256: await selected[format](withHash, file) };
  }
  return rendered as Rendered;
}
