// The json rendering, exactly REPORTS.md's shape: report, run_id, template_version,
// params, watermark, generated_at, figures [{id, key, dims, value}], then — only when the
// layout has sections — sections [{name, title, columns [{key, title, kind}], rows}],
// each row an array of the cells' strings (null for an empty cell).
//
// Layout, fixed so that the same run gives the same bytes: the top-level keys in that
// order, two-space indentation, each figure, column and row compact on its own line
// (a million rows stay greppable and diffable), map keys (params, watermark, dims)
// sorted by UTF-16 code units as canonical JSON sorts them, LF line ends, a final LF.
// Rows are written as they are read, never gathered into one string.
import type { Writable } from 'node:stream';
import type { Figure } from '../figures.ts';
import { assertRenderInput, cellValue, sectionBatches, sortedEntries } from './cells.ts';
import { HashedFile, hashOnlyWritable, TextWriter } from './sink.ts';
import type { RenderInput, Renderer, Section } from './types.ts';

function sortedObject<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(sortedEntries(record));
}

function figureLine(figure: Figure): string {
  return JSON.stringify({ id: figure.id, key: figure.key, dims: sortedObject(figure.dims), value: figure.value });
}

async function writeList(out: TextWriter, indent: string, items: AsyncIterable<string> | Iterable<string>): Promise<void> {
  let first = true;
  for await (const item of items) {
    await out.write(`${first ? '[\n' : ',\n'}${indent}  ${item}`);
    first = false;
  }
  await out.write(first ? '[]' : `\n${indent}]`);
}

/** writeList's layout for the rows, a batch at a time (the same bytes, far fewer awaits). */
async function writeRows(out: TextWriter, indent: string, section: Section): Promise<void> {
  let separator = '[\n';
  for await (const batch of sectionBatches(section)) {
    for (const row of batch) {
      out.push(`${separator}${indent}  ${JSON.stringify(row.map(cellValue))}`);
      separator = ',\n';
    }
    await out.flushIfFull();
  }
  await out.write(separator === '[\n' ? '[]' : `\n${indent}]`);
}

async function writeSection(out: TextWriter, section: Section): Promise<void> {
  const indent = '    ';
  await out.write(`${indent}{\n`);
  await out.write(`${indent}  "name": ${JSON.stringify(section.name)},\n`);
  await out.write(`${indent}  "title": ${JSON.stringify(section.title)},\n`);
  await out.write(`${indent}  "columns": `);
  await writeList(out, `${indent}  `, section.columns.map((column) =>
    JSON.stringify({ key: column.key, title: column.title, kind: column.kind })));
  await out.write(`,\n${indent}  "rows": `);
  await writeRows(out, `${indent}  `, section);
  await out.write(`\n${indent}}`);
}

async function writeJson(input: RenderInput, output: Writable): Promise<void> {
  const out = new TextWriter(output);
  const { header } = input;
  await out.write('{\n');
  await out.write(`  "report": ${JSON.stringify(header.report)},\n`);
  await out.write(`  "run_id": ${JSON.stringify(header.run_id)},\n`);
  await out.write(`  "template_version": ${JSON.stringify(header.template_version)},\n`);
  await out.write(`  "params": ${JSON.stringify(sortedObject(header.params))},\n`);
  await out.write(`  "watermark": ${JSON.stringify(sortedObject(header.watermark))},\n`);
  await out.write(`  "generated_at": ${JSON.stringify(header.generated_at)},\n`);
  await out.write('  "figures": ');
  await writeList(out, '  ', input.figures.map(figureLine));
  if (input.sections.length > 0) {
    await out.write(',\n  "sections": [\n');
    for (const [index, section] of input.sections.entries()) {
      if (index > 0) await out.write(',\n');
      await writeSection(out, section);
    }
    await out.write('\n  ]');
  }
  await out.write('\n}\n');
  await out.end();
}

export const renderJson: Renderer = async (input, path) => {
  assertRenderInput(input);
  return HashedFile.write(path, (output) => writeJson(input, output));
};

/**
 * The SHA-256 of the json rendering without writing it: the engine's `dataSha256`, which
 * the pdf prints and renderAll checks. Reads the sections' rows once.
 */
export async function jsonSha256(input: RenderInput): Promise<string> {
  assertRenderInput(input);
  const sink = hashOnlyWritable();
  await writeJson(input, sink.input);
  return sink.digest();
}
