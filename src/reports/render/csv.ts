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
// Every value is the json rendering's string: money stays a decimal string ("1234.50"),
// an empty cell (null) is an empty field and an empty string is `""`. Rows stream to the
// file as they are read.
//
// Formula injection (OWASP, "CSV Injection"). Ids, references and file names come from
// the log and from bank files, and a spreadsheet opening this file runs a cell that
// starts with `=`, `+`, `-`, `@`, TAB or CR as a formula. So a text field that starts
// with one of those, or with `'`, gets one `'` in front and is quoted: `=HYPERLINK(…)`
// is written `"'=HYPERLINK(…)"`. The original is recovered by dropping the first
// character of any text field that starts with `'`. Numeric fields (money and count
// columns, figure values, watermark offsets) are left as they are when they are plain
// decimals: `-5.00` is a number, not a formula, and stays one. A value in a numeric field
// that is not a plain decimal is treated as text.
import type { Writable } from 'node:stream';
import { assertRenderInput, cellValue, dimensionKeys, sectionBatches, sortedEntries } from './cells.ts';
import { HashedFile, TextWriter } from './sink.ts';
import type { Column, RenderInput, Renderer, Section } from './types.ts';

const recordEnd = '\r\n';
const needsQuotes = /[",\r\n]/;
/** What a spreadsheet reads as the start of a formula, and the prefix itself (so that it stays recoverable). */
const formulaStart = /^[=+\-@\t\r']/;
const plainDecimal = /^-?[0-9]+(\.[0-9]+)?$/;

/** How a field is written: `text` is guarded against formula injection, `number` is left as a number. */
export type CsvFieldKind = 'text' | 'number';

export function csvField(value: string | null, kind: CsvFieldKind = 'text'): string {
  if (value === null) return '';
  // An empty string is quoted so that it reads back as "" and an empty field as null.
  if (value === '') return '""';
  if (formulaStart.test(value) && !(kind === 'number' && plainDecimal.test(value))) {
    return `"'${value.replaceAll('"', '""')}"`;
  }
  return needsQuotes.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The original value of a text field as read back: the one `'` csvField put in front, dropped. */
export function csvTextValue(field: string): string {
  return field.startsWith("'") ? field.slice(1) : field;
}

export function csvRecord(fields: readonly (string | null)[], kinds: readonly CsvFieldKind[] = []): string {
  return fields.map((field, index) => csvField(field, kinds[index] ?? 'text')).join(',') + recordEnd;
}

function columnKinds(columns: readonly Column[]): CsvFieldKind[] {
  return columns.map((column) => (column.kind === 'money' || column.kind === 'count' ? 'number' : 'text'));
}

const runRecordKinds: readonly CsvFieldKind[] = ['text', 'text'];
const watermarkRecordKinds: readonly CsvFieldKind[] = ['text', 'number'];

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
  const kinds = columnKinds(section.columns);
  for await (const batch of sectionBatches(section)) {
    for (const row of batch) out.push(csvRecord(row.map(cellValue), kinds));
    await out.flushIfFull();
  }
}

async function writeCsv(input: RenderInput, output: Writable): Promise<void> {
  const out = new TextWriter(output);
  for (const record of runRecords(input)) {
    await out.write(csvRecord(record, record[0]?.startsWith('watermark.') === true ? watermarkRecordKinds : runRecordKinds));
  }
  await out.write(recordEnd);
  const [figureHead = [], ...figureRows] = figureRecords(input);
  await out.write(csvRecord(figureHead));
  // The last field of a figure record is its value: an amount, a count or "true"/"false".
  const figureKinds: CsvFieldKind[] = [...figureHead.slice(0, -1).map((): CsvFieldKind => 'text'), 'number'];
  for (const record of figureRows) await out.write(csvRecord(record, figureKinds));
  for (const section of input.sections) await writeSection(out, section);
  await out.end();
}

export const renderCsv: Renderer = async (input, path) => {
  assertRenderInput(input);
  return HashedFile.write(path, (output) => writeCsv(input, output));
};
