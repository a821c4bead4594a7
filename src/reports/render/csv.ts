// The csv rendering: RFC 4180 records (CRLF line ends, as the RFC writes them; a field is
// quoted when it holds a comma, a double quote, CR or LF, and a quote inside is doubled;
// UTF-8 without a byte-order mark), in blocks separated by one empty line:
//
//   1. the run: two-field records `name,value` — report, run_id, template_version,
//      generated_at, then `params.NAME` and `watermark.TOPIC/PARTITION`, sorted;
//   2. the figures: a header record `figure_id,key,dims.A,dims.B,…,value` with one column
//      per dims key met in the figures (in the order first met; empty where a figure has
//      no such dim), then one record per figure;
//   3. per section: a record `section,NAME,TITLE`, a header record of the column keys,
//      then the rows.
//
// Every value is the json rendering's string, unchanged: money stays a decimal string
// ("1234.50"), an empty cell (null) is an empty field and an empty string is `""`. Rows stream to the file as they are read.
// Fields are not prefixed against spreadsheet formula injection: that would change the
// values this file must share with the json (the xlsx is the rendering meant for Excel).
import type { Writable } from 'node:stream';
import { assertRenderInput, cellValue, dimensionKeys, sectionRows, sortedEntries } from './cells.ts';
import { HashedFile, TextWriter } from './sink.ts';
import type { RenderInput, Renderer, Section } from './types.ts';

const recordEnd = '\r\n';
const needsQuotes = /[",\r\n]/;

export function csvField(value: string | null): string {
  if (value === null) return '';
  // An empty string is quoted so that it reads back as "" and an empty field as null.
  if (value === '') return '""';
  return needsQuotes.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function csvRecord(fields: readonly (string | null)[]): string {
  return fields.map(csvField).join(',') + recordEnd;
}

function runRecords(input: RenderInput): string[][] {
  const { header } = input;
  return [
    ['report', header.report],
    ['run_id', header.run_id],
    ['template_version', header.template_version],
    ['generated_at', header.generated_at],
    ...sortedEntries(header.params).map(([name, value]) => [`params.${name}`, value]),
    ...sortedEntries(header.watermark).map(([partition, offset]) => [`watermark.${partition}`, String(offset)]),
  ];
}

function figureRecords(input: RenderInput): (string | null)[][] {
  const dims = dimensionKeys(input.figures);
  const head = ['figure_id', 'key', ...dims.map((key) => `dims.${key}`), 'value'];
  return [head, ...input.figures.map((figure) =>
    [figure.id, figure.key, ...dims.map((key) => figure.dims[key] ?? null), figure.value])];
}

async function writeSection(out: TextWriter, section: Section): Promise<void> {
  await out.write(recordEnd);
  await out.write(csvRecord(['section', section.name, section.title]));
  await out.write(csvRecord(section.columns.map((column) => column.key)));
  for await (const row of sectionRows(section)) await out.write(csvRecord(row.map(cellValue)));
}

async function writeCsv(input: RenderInput, output: Writable): Promise<void> {
  const out = new TextWriter(output);
  for (const record of runRecords(input)) await out.write(csvRecord(record));
  await out.write(recordEnd);
  for (const record of figureRecords(input)) await out.write(csvRecord(record));
  for (const section of input.sections) await writeSection(out, section);
  await out.end();
}

export const renderCsv: Renderer = async (input, path) => {
  assertRenderInput(input);
  return HashedFile.write(path, (output) => writeCsv(input, output));
};
