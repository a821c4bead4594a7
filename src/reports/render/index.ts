// The four renderings of a run. Each renderer is a pure function of its RenderInput that
// writes one file and returns that file's SHA-256, taken over the bytes as they were
// written; the same input gives the same bytes (REPORTS.md: a hash names a report).
import path from 'node:path';
import { invariant } from '../../errors.ts';
import { makePrivateDir } from '../../storage/files.ts';
import { renderCsv } from './csv.ts';
import { renderJson } from './json.ts';
import { renderPdf, type PdfOptions } from './pdf.ts';
import { renderTogether } from './shared-reads.ts';
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
 * section (gl-detail's million lines) once, shared by the renderings of the pass
 * (shared-reads.ts): first json and csv, then xlsx and pdf, which print the json's
 * SHA-256 (the data's hash) in their first bytes and so cannot start before it is known.
 */
export async function renderFormats(
  input: RenderInput, outDir: string, baseName: string, formats: readonly ReportFormat[], options: RenderOptions = {},
): Promise<Partial<Rendered> & Pick<Rendered, 'json'>> {
  invariant(baseName.length > 0 && !/[/\\]/.test(baseName), `base name ${JSON.stringify(baseName)} names a file`);
  await makePrivateDir(outDir);
  const selected = createRenderers(options);
  const fileOf = (format: ReportFormat) => path.join(outDir, `${baseName}.${format}`);
  const first = (['json', 'csv'] as const).filter((format) => format === 'json' || formats.includes(format));
  const firstHashes = await renderTogether(input, first.map((format) =>
    (shared: RenderInput) => selected[format](shared, fileOf(format))));
  const dataSha256 = firstHashes[0] as string;
  invariant(input.dataSha256 === '' || input.dataSha256 === dataSha256,
    `dataSha256 ${input.dataSha256} is the json rendering's hash ${dataSha256}`);
  const second = (['xlsx', 'pdf'] as const).filter((format) => formats.includes(format));
  const secondHashes = await renderTogether({ ...input, dataSha256 }, second.map((format) =>
    (shared: RenderInput) => selected[format](shared, fileOf(format))));
  const rendered: Partial<Rendered> & Pick<Rendered, 'json'> = { json: { path: fileOf('json'), sha256: dataSha256 } };
  first.forEach((format, index) => { rendered[format] = { path: fileOf(format), sha256: firstHashes[index] as string }; });
  second.forEach((format, index) => { rendered[format] = { path: fileOf(format), sha256: secondHashes[index] as string }; });
  return rendered;
}
