// The xlsx rendering, written entirely with exceljs's streaming writer so that a
// gl-detail of a million lines passes through in bounded memory: a `Report` sheet (title,
// run, parameters, watermark, checkpoint), one sheet per section (a section longer than
// a sheet continues on `NAME (2)`, …), and a `Lineage` sheet listing every figure with
// its link. Header rows are frozen; money cells are numbers with their currency's format
// ("$"#,##0.00, "CA$"#,##0.00); counts are integers; a value a spreadsheet number cannot
// hold exactly (|amount| ≥ 10^13, 16 or more significant digits) is the same decimal as
// right-aligned text with a cell note saying why, never a rounded number (see
// moneyFitsSpreadsheet); every figure cell links to
// its page, `${lineageBaseUrl}/${figureId}` (the service's /figures/:id). Dates and times stay ISO 8601 text, exact to
// the microsecond and free of Excel's time-zone-less serial dates.
//
// Byte-identical re-renders. exceljs stamps the workbook's created/modified with
// `new Date()` unless given, and archiver stamps every zip entry with the time it was
// added (verified: two renders 2.5 s apart differed in the entries' DOS times). Both are
// pinned to the run's generated_at here: the workbook's dates through exceljs's options,
// the entries' dates by giving archiver's zip module a `date` on every entry (see
// pinZipEntryDates). lastPrinted is left unset, so the file claims no printing. Strings
// are written inline (no shared-strings table, which would grow with every distinct
// string). The bytes then depend only on the input and on the zlib that Node ships.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import ExcelJS from 'exceljs';
import { invariant } from '../../errors.ts';
import {
  assertRenderInput, cellParts, countFitsSpreadsheet, countToSpreadsheetNumber, currencyAffix, dimensionKeys,
  figureValueKind, isMoneyDecimal, figurePageUrl, moneyFitsSpreadsheet, moneyToSpreadsheetNumber, sectionRows, sortedEntries,
} from './cells.ts';
import { HashedFile } from './sink.ts';
import type { Cell, Column, ColumnKind, RenderInput, Section } from './types.ts';

type Worksheet = ExcelJS.Worksheet;
type WorkbookWriter = ExcelJS.stream.xlsx.WorkbookWriter;

export type XlsxOptions = {
  /** Data rows per sheet before a section continues on the next sheet (Excel's limit by default). */
  readonly sheetRowsMax?: number;
};

/** Excel's 1,048,576 rows less the header row. */
const excelDataRowsMax = 1_048_575;
/** Rows committed between two looks at the zip's back-pressure. */
const drainCheckRows = 500;
/** Bytes a sheet may hold in exceljs's buffer while the zip is busy with an earlier entry. */
const sheetBufferBytesMax = 8 * 1024 * 1024;
const sheetBufferWaitMs = 5;
/** 60 s of waiting for the zip to take a sheet: longer means it is stuck, not slow. */
const sheetBufferWaitsMax = 12_000;

const headerStyle: Partial<ExcelJS.Style> = Object.freeze<Partial<ExcelJS.Style>>({
  font: { bold: true },
  fill: { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFEDEDED' } },
  border: { bottom: { style: 'thin' } },
});
const countStyle: Partial<ExcelJS.Style> = Object.freeze({ numFmt: '#,##0' });
const moneyStyles = new Map<string, Partial<ExcelJS.Style>>();

/** `"$"#,##0.00` for USD, `"CA$"#,##0.00` for CAD, `#,##0.00 "EUR"` for any other code. */
export function moneyNumberFormat(currency: string | null): string {
  const { prefix, suffix } = currencyAffix(currency);
  return `${prefix === '' ? '' : `"${prefix}"`}#,##0.00${suffix === '' ? '' : ` "${suffix.trim()}"`}`;
}

function moneyStyle(currency: string | null): Partial<ExcelJS.Style> {
  const key = currency ?? '';
  let style = moneyStyles.get(key);
  if (style === undefined) {
    style = Object.freeze({ numFmt: moneyNumberFormat(currency) });
    moneyStyles.set(key, style);
  }
  return style;
}

// ---- exceljs and archiver internals (exceljs pinned at 4.4.0, archiver 5) ----

type ZipModule = { append: (source: unknown, data: Record<string, unknown>, callback: unknown) => unknown };
type PipeTarget = NodeJS.EventEmitter & { _writableState?: { needDrain?: boolean } };
type SheetInternals = {
  stream?: { pipes?: PipeTarget[]; buffers?: { length: number }[] };
  _sheetRelsWriter?: { hyperlinksProxy?: { push: (link: { address: string; target: string }) => void } };
};

/**
 * Archiver gives each zip entry the time it is appended, and exceljs offers no option for
 * it. Entries pass through the zip module's append with their data; giving that data a
 * `date` pins the entry's DOS time (archiver writes it in UTC: forceLocalTime is false).
 * The two entries exceljs appends in its constructor are only queued there, and are
 * stamped when the queue reaches them, after this has run.
 */
function pinZipEntryDates(workbook: WorkbookWriter, date: Date): void {
  const zip = (workbook as unknown as { zip?: { _module?: ZipModule } }).zip;
  const module = zip?._module;
  invariant(module !== undefined && typeof module.append === 'function',
    'exceljs streams its zip through archiver (workbook.zip._module.append)');
  const append = module.append.bind(module);
  module.append = (source, data, callback) => append(source, { ...data, date }, callback);
}

/**
 * exceljs writes a committed row into the sheet's buffer and on into the zip without
 * looking at back-pressure, so a fast source would pile the whole sheet up in memory
 * ahead of deflate. This waits until the first stream after that buffer has drained.
 */
async function sheetDrained(worksheet: Worksheet, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  const buffer = (worksheet as unknown as SheetInternals).stream;
  invariant(buffer?.pipes !== undefined && buffer.buffers !== undefined, 'exceljs sheet stream has pipes and buffers');
  for (let waits = 0; waits < sheetBufferWaitsMax; waits += 1) {
    const pipe = buffer.pipes[0];
    if (pipe !== undefined) {
      invariant(pipe._writableState !== undefined, 'the zip reads the sheet through a Writable');
      if (pipe._writableState.needDrain === true) await once(pipe, 'drain', { signal });
      return;
    }
    const bufferedBytes = buffer.buffers.reduce((total, chunk) => total + chunk.length, 0);
    if (bufferedBytes < sheetBufferBytesMax) return;
    await delay(sheetBufferWaitMs, undefined, { signal });
  }
  invariant(false, 'the zip took up the sheet within 60 s');
}

/** A hyperlink on any cell, numbers included (exceljs's own hyperlink values are text). */
function addHyperlink(worksheet: Worksheet, address: string, target: string): void {
  const links = (worksheet as unknown as SheetInternals)._sheetRelsWriter?.hyperlinksProxy;
  invariant(links !== undefined && typeof links.push === 'function', 'exceljs sheet has a hyperlinks writer');
  links.push({ address, target });
}

// ---- sheets ----

const notCarriedByXml = /[\x00-\x08\x0B-\x1F\x7F]|_x[0-9A-Fa-f]{4}_/;
const notCarriedByXmlAll = /[\x00-\x08\x0B-\x1F\x7F]|_x[0-9A-Fa-f]{4}_/g;

/**
 * Text as OOXML carries it losslessly: XML turns a CR into LF on reading, and exceljs
 * drops other control characters, so those are written as Excel's own `_xHHHH_` escape
 * (which Excel and other readers decode), and a literal `_xHHHH_` gets its underscore
 * escaped as `_x005F_`. Nearly every string passes the first test unchanged.
 */
export function spreadsheetText(text: string): string {
  if (!notCarriedByXml.test(text)) return text;
  return text.replace(notCarriedByXmlAll, (match) => (match.length === 1
    ? `_x${match.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}_`
    : `_x005F${match}`));
}

type Value = string | number | null;

/** Every row goes through here, so that every string is escaped the same way. */
function addRow(worksheet: Worksheet, values: readonly Value[]): ExcelJS.Row {
  return worksheet.addRow(values.map((value) => (typeof value === 'string' ? spreadsheetText(value) : value)));
}

const defaultWidthByKind: Record<ColumnKind, number> = { text: 18, money: 16, count: 10, date: 12, datetime: 28 };

function columnWidth(column: Column): number {
  const width = column.width ?? defaultWidthByKind[column.kind];
  // At least 10: exceljs leaves a column of width 9 (its default) out of <cols> entirely.
  return Math.min(60, Math.max(10, width, column.title.length + 2));
}

function addSheet(workbook: WorkbookWriter, name: string, frozenRows: number): Worksheet {
  const views: Partial<ExcelJS.WorksheetView>[] = frozenRows === 0 ? [] :
    [{ state: 'frozen', xSplit: 0, ySplit: frozenRows, topLeftCell: `A${frozenRows + 1}` }];
  return workbook.addWorksheet(name, { views });
}

function commitHeaderRow(worksheet: Worksheet, titles: readonly string[], rightAligned: readonly boolean[]): void {
  const row = addRow(worksheet, titles);
  titles.forEach((_title, index) => {
    const style = rightAligned[index] === true ? { ...headerStyle, alignment: { horizontal: 'right' as const } } : headerStyle;
    row.getCell(index + 1).style = style;
  });
  row.commit();
}

type Placed = { value: Value; style: Partial<ExcelJS.Style> | null; link: string | null; note?: string };

/** A right-aligned text cell, so that an amount too large for a number still reads as one. */
const exactTextStyle: Partial<ExcelJS.Style> = Object.freeze({ alignment: { horizontal: 'right' as const } });

/**
 * The note on an amount or count kept as text. A spreadsheet number keeps 15 significant
 * digits, so 18,000,000,000,000.01 would become …000.00 (or worse): the exact decimal is
 * worth more than a cell that sums.
 */
export const exactTextNote = 'Exact value kept as text: a spreadsheet number keeps only 15 significant digits, ' +
  'so as a number this would lose its last digits. It does not sum as a number; the json and csv hold it exactly.';

/**
 * A money or count value as the spreadsheet can hold it: a number with its format when
 * the number is the value exactly, else the same decimal string as text with a note.
 */
function placeValue(value: string, kind: 'money' | 'count', currency: string | null, link: string | null, where: string): Placed {
  // Only a well-formed value too long for a number becomes text; anything else is our bug.
  if (kind === 'money') {
    if (moneyFitsSpreadsheet(value)) return { value: moneyToSpreadsheetNumber(value, where), style: moneyStyle(currency), link };
    invariant(isMoneyDecimal(value), `${where}: money ${JSON.stringify(value)} is a decimal with ≤ 2 places`);
    return { value, style: exactTextStyle, link, note: exactTextNote };
  }
  if (countFitsSpreadsheet(value)) return { value: countToSpreadsheetNumber(value, where), style: countStyle, link };
  invariant(/^-?[0-9]+$/.test(value), `${where}: count ${JSON.stringify(value)} is an integer`);
  return { value, style: exactTextStyle, link, note: exactTextNote };
}

function placeCell(input: RenderInput, column: Column, cell: Cell, where: string): Placed {
  const { value, figureId, currency } = cellParts(cell);
  const link = figureId === null ? null : figurePageUrl(input.lineageBaseUrl, figureId);
  if (value === null) return { value: null, style: null, link };
  if (column.kind === 'money' || column.kind === 'count') return placeValue(value, column.kind, currency, link, where);
  return { value, style: null, link };
}

function commitPlacedRow(worksheet: Worksheet, placed: readonly Placed[]): void {
  const row = addRow(worksheet, placed.map((cell) => cell.value));
  placed.forEach((cell, index) => {
    if (cell.style === null && cell.link === null && cell.note === undefined) return;
    const target = row.getCell(index + 1);
    if (cell.style !== null) target.style = cell.style;
    if (cell.note !== undefined) target.note = cell.note;
    if (cell.link !== null) addHyperlink(worksheet, target.address, cell.link);
  });
  row.commit();
}

function continuationSheetName(name: string, part: number, usedNames: Set<string>): string {
  if (part === 1) return name;
  const suffix = ` (${part})`;
  const continued = `${name.slice(0, 31 - suffix.length)}${suffix}`;
  invariant(!usedNames.has(continued.toLowerCase()), `continuation sheet ${continued} does not clash with a section`);
  usedNames.add(continued.toLowerCase());
  return continued;
}

function openSectionSheet(workbook: WorkbookWriter, section: Section, name: string): Worksheet {
  const worksheet = addSheet(workbook, name, 1);
  worksheet.columns = section.columns.map((column) => ({ width: columnWidth(column) }));
  commitHeaderRow(worksheet, section.columns.map((column) => column.title),
    section.columns.map((column) => column.kind === 'money' || column.kind === 'count'));
  return worksheet;
}

async function writeSectionSheets(
  workbook: WorkbookWriter, input: RenderInput, section: Section, usedNames: Set<string>, sheetRowsMax: number,
  signal: AbortSignal,
): Promise<void> {
  let part = 1;
  let worksheet = openSectionSheet(workbook, section, section.name);
  let sheetRows = 0;
  let rowIndex = 0;
  for await (const row of sectionRows(section)) {
    if (sheetRows === sheetRowsMax) {
      worksheet.commit();
      part += 1;
      worksheet = openSectionSheet(workbook, section, continuationSheetName(section.name, part, usedNames));
      sheetRows = 0;
    }
    const where = `section ${section.name} row ${rowIndex}`;
    commitPlacedRow(worksheet, row.map((cell, index) => placeCell(input, section.columns[index] as Column, cell, where)));
    sheetRows += 1;
    rowIndex += 1;
    if (rowIndex % drainCheckRows === 0) await sheetDrained(worksheet, signal);
  }
  worksheet.commit();
}

const labelStyle: Partial<ExcelJS.Style> = Object.freeze({ font: { bold: true } });

function commitPair(worksheet: Worksheet, label: string, value: string | number, style: Partial<ExcelJS.Style> | null): void {
  const row = addRow(worksheet, [label, value]);
  row.getCell(1).style = labelStyle;
  if (style !== null) row.getCell(2).style = style;
  row.commit();
}

function commitHeading(worksheet: Worksheet, text: string): void {
  worksheet.addRow([]).commit();
  const row = addRow(worksheet, [text]);
  row.getCell(1).style = { font: { bold: true, size: 12 } };
  row.commit();
}

function figureFitsSpreadsheet(figure: RenderInput['figures'][number]): boolean {
  const kind = figureValueKind(figure);
  if (kind === 'money') return moneyFitsSpreadsheet(figure.value);
  return kind === 'count' ? countFitsSpreadsheet(figure.value) : true;
}

function writeReportSheet(workbook: WorkbookWriter, input: RenderInput): void {
  const { header } = input;
  const worksheet = addSheet(workbook, 'Report', 0);
  worksheet.columns = [{ width: 26 }, { width: 72 }];
  const title = addRow(worksheet, [header.title]);
  title.getCell(1).style = { font: { bold: true, size: 14 } };
  title.commit();
  worksheet.addRow([]).commit();
  commitPair(worksheet, 'Report', header.report, null);
  commitPair(worksheet, 'Run id', header.run_id, null);
  commitPair(worksheet, 'Template version', header.template_version, null);
  commitPair(worksheet, 'Generated at (UTC)', header.generated_at, null);
  commitPair(worksheet, 'Requested by', header.requested_by, null);
  commitPair(worksheet, 'Supersedes', header.supersedes ?? '(none)', null);
  commitPair(worksheet, 'Journal checkpoint', header.checkpoint === null ? '(none)' :
    `#${header.checkpoint.checkpoint_id}, Merkle root ${header.checkpoint.merkle_root}`, null);
  commitPair(worksheet, 'Data SHA-256 (json)', input.dataSha256, null);
  commitHeading(worksheet, 'Parameters');
  for (const [name, value] of sortedEntries(header.params)) commitPair(worksheet, name, value, null);
  commitHeading(worksheet, 'Watermark (last offset read, per log partition)');
  for (const [partition, offset] of sortedEntries(header.watermark)) {
    commitPair(worksheet, partition, countToSpreadsheetNumber(String(offset), `watermark ${partition}`), countStyle);
  }
  worksheet.addRow([]).commit();
  addRow(worksheet, ['Every figure cell links to its lineage; the Lineage sheet lists every figure id.']).commit();
  // Only when it applies, so that the workbook of every other run keeps its bytes.
  if (input.figures.some((figure) => !figureFitsSpreadsheet(figure))) {
    addRow(worksheet, ['Some amounts are text cells, right-aligned, each with a note: a spreadsheet number keeps ' +
      'only 15 significant digits, and these are exact.']).commit();
  }
  worksheet.commit();
}

function figureValuePlaced(value: string, kind: 'money' | 'count' | 'text', currency: string | null, where: string): Placed {
  if (kind === 'text') return { value, style: null, link: null };
  return placeValue(value, kind, currency, null, where);
}

async function writeLineageSheet(workbook: WorkbookWriter, input: RenderInput, signal: AbortSignal): Promise<void> {
  const dims = dimensionKeys(input.figures);
  const worksheet = addSheet(workbook, 'Lineage', 1);
  worksheet.columns = [{ width: 30 }, { width: 28 }, ...dims.map(() => ({ width: 16 })), { width: 18 }, { width: 72 }];
  commitHeaderRow(worksheet, ['Figure id', 'Key', ...dims, 'Value', 'Lineage'],
    [false, false, ...dims.map(() => false), true, false]);
  for (const [index, figure] of input.figures.entries()) {
    const link = figurePageUrl(input.lineageBaseUrl, figure.id);
    commitPlacedRow(worksheet, [
      { value: figure.id, style: null, link },
      { value: figure.key, style: null, link: null },
      ...dims.map((key): Placed => ({ value: figure.dims[key] ?? null, style: null, link: null })),
      figureValuePlaced(figure.value, figureValueKind(figure), figure.dims['currency'] ?? null, `figure ${figure.id}`),
      { value: link, style: null, link: null },
    ]);
    if ((index + 1) % drainCheckRows === 0) await sheetDrained(worksheet, signal);
  }
  worksheet.commit();
}

async function writeXlsx(input: RenderInput, output: Writable, sheetRowsMax: number): Promise<void> {
  const generatedAt = new Date(input.header.generated_at);
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: output,
    useStyles: true,
    useSharedStrings: false,
    // Level 6 is zlib's default, named so that a change of default cannot change the bytes.
    zip: { forceLocalTime: false, zlib: { level: 6 } },
  });
  pinZipEntryDates(workbook, generatedAt);
  workbook.created = generatedAt;
  workbook.modified = generatedAt;
  workbook.creator = 'marketplace-ledger';
  workbook.lastModifiedBy = 'marketplace-ledger';
  workbook.title = input.header.title;
  workbook.subject = `${input.header.report} run ${input.header.run_id}`;
  workbook.keywords = `data-sha256:${input.dataSha256}`;
  // If the file fails, the zip stops reading: stop waiting for it to drain, and stop
  // reading rows (a streamed section closes its source).
  const outputClosed = new AbortController();
  output.once('close', () => outputClosed.abort(new Error('the xlsx output closed before the workbook was complete')));
  writeReportSheet(workbook, input);
  const usedNames = new Set(['report', 'lineage', ...input.sections.map((section) => section.name.toLowerCase())]);
  for (const section of input.sections) {
    await writeSectionSheets(workbook, input, section, usedNames, sheetRowsMax, outputClosed.signal);
  }
  await writeLineageSheet(workbook, input, outputClosed.signal);
  await workbook.commit();
}

export async function renderXlsx(input: RenderInput, path: string, options: XlsxOptions = {}): Promise<string> {
  assertRenderInput(input);
  const sheetRowsMax = options.sheetRowsMax ?? excelDataRowsMax;
  invariant(Number.isSafeInteger(sheetRowsMax) && sheetRowsMax >= 1 && sheetRowsMax <= excelDataRowsMax,
    `sheetRowsMax ${sheetRowsMax} is 1–${excelDataRowsMax}`);
  return HashedFile.write(path, (output) => writeXlsx(input, output, sheetRowsMax));
}
