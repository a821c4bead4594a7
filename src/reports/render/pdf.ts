// The pdf rendering, for a person to read: the run's header on the first page (title,
// report, run id, generated_at, requester, parameters, watermark, supersedes, checkpoint
// and the data's SHA-256), a short header and "Page n of N" on every page, the charts as
// horizontal bars drawn with vector primitives, every section as a table, and a figure
// index. Tables repeat their column header on every page and never split a row; a table
// too wide for a landscape page is cut into bands of columns that repeat the leading
// text columns. Every figure shows its id in small grey text under its value. A section
// longer than pdfRowsMax rows prints that many and a note that the json, csv and xlsx
// renderings hold the rest (a month of gl-detail would be ~20,000 pages).
//
// Byte-identical re-renders. pdfkit stamps info.CreationDate with `new Date()` and
// derives the trailer's /ID from an MD5 of the info dictionary (CreationDate included),
// so both change with the clock by default. Here CreationDate and ModDate are the run's
// generated_at, and the info dictionary holds the run id and the data's SHA-256, so the
// /ID is a function of the run's data alone. Only the standard Helvetica fonts are used
// (no font files, no subset tags). Streams are deflated by Node's zlib, so the bytes
// depend on the input and on the zlib that Node ships.
import PDFDocument from 'pdfkit';
import { invariant } from '../../errors.ts';
import type { Figure } from '../figures.ts';
import {
  assertRenderInput, cellParts, currencyAffix, figurePageUrl, groupedDecimal, isMoneyDecimal, sectionRows, sortedEntries,
} from './cells.ts';
import { HashedFile } from './sink.ts';
import type { Cell, Chart, Column, RenderInput, Section } from './types.ts';

export type PdfOptions = {
  /** Detail rows printed per section (and figures in the index); the rest are counted. */
  readonly pdfRowsMax?: number;
  /** Deflate page content (default true); false keeps text greppable for tests. */
  readonly compress?: boolean;
};

export const pdfRowsMaxDefault = 5_000;
/** pdfkit buffers every page until the end (for "Page n of N"): this bounds that buffer. */
const pdfRowsMaxLimit = 50_000;
/** A cell's text is cut here, so that one row always fits on one page. */
const cellCharsMax = 240;

type Layout = 'portrait' | 'landscape';
const pageMargins = { top: 50, bottom: 50, left: 40, right: 40 };
const font = { regular: 'Helvetica', bold: 'Helvetica-Bold' } as const;
const size = { title: 16, meta: 8.5, heading: 11, table: 7, figureId: 5, running: 7 } as const;
const color = { text: '#000000', grey: '#6b6b6b', rule: '#9a9a9a', band: '#e9e9e9', zebra: '#f6f6f6' } as const;
const cellPadding = 2.5;

/** Tracks the write position; pdfkit's own cursor is not used, so layout stays explicit. */
class Pages {
  y: number = pageMargins.top;
  layout: Layout = 'portrait';

  /** figureUrl: the page where a figure's lineage is read; its grey id under a value links there. */
  constructor(readonly doc: PDFKit.PDFDocument, readonly figureUrl: (figureId: string) => string) {}

  get left(): number { return pageMargins.left; }
  get width(): number { return this.doc.page.width - pageMargins.left - pageMargins.right; }
  get bottom(): number { return this.doc.page.height - pageMargins.bottom; }
  get usableHeight(): number { return this.doc.page.height - pageMargins.top - pageMargins.bottom; }

  addPage(layout: Layout): void {
    this.doc.addPage({ size: 'LETTER', layout, margins: pageMargins });
    this.layout = layout;
    this.y = pageMargins.top;
  }

  /** Starts a new page unless `height` more points fit on this one in this layout. */
  ensure(height: number, layout: Layout = this.layout): boolean {
    if (layout === this.layout && this.y + height <= this.bottom) return false;
    this.addPage(layout);
    return true;
  }
}

type TextStyle = { font: string; size: number; color: string; align?: 'left' | 'right' | 'center'; link?: string };

function textHeight(doc: PDFKit.PDFDocument, text: string, style: TextStyle, width: number): number {
  doc.font(style.font).fontSize(style.size);
  return doc.heightOfString(text === '' ? ' ' : text, { width, lineGap: 0 });
}

function drawText(doc: PDFKit.PDFDocument, text: string, x: number, y: number, width: number, style: TextStyle): void {
  if (text === '') return;
  doc.font(style.font).fontSize(style.size).fillColor(style.color)
    .text(text, x, y, { width, align: style.align ?? 'left', lineGap: 0,
      ...(style.link === undefined ? {} : { link: style.link }) });
}

// ---- cells as a person reads them ----

type PdfCell = { readonly text: string; readonly figureId: string | null };
type PdfColumn = {
  readonly title: string;
  readonly align: 'left' | 'right';
  /** Text columns give up width first when a table is squeezed; numbers and times keep theirs. */
  readonly flexible: boolean;
  readonly naturalWidth: number;
};

function moneyDisplay(value: string, currency: string | null): string {
  invariant(isMoneyDecimal(value), `money ${JSON.stringify(value)} is a decimal with ≤ 2 places`);
  const { prefix, suffix } = currencyAffix(currency);
  const grouped = groupedDecimal(value, 2);
  const sign = grouped.startsWith('-') ? '-' : '';
  return `${sign}${prefix}${grouped.replace(/^-/, '')}${suffix}`;
}

/** Line ends as the pdf draws them (a CR would print as a glyph), cut at cellCharsMax. */
function clip(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n');
  return lines.length <= cellCharsMax ? lines : `${lines.slice(0, cellCharsMax - 1)}…`;
}

function displayCell(column: Column, cell: Cell): PdfCell {
  const { value, figureId, currency } = cellParts(cell);
  if (value === null) return { text: '', figureId };
  if (column.kind === 'money') return { text: moneyDisplay(value, currency), figureId };
  if (column.kind === 'count' && /^-?[0-9]+$/.test(value)) return { text: groupedDecimal(value, 0), figureId };
  return { text: clip(value), figureId };
}

const columnWidthMin = 24;
const columnWidthMax = 200;
/** Rows looked at to size the columns; a streamed section's are read ahead and then drawn. */
const sampleRowsMax = 200;
/** The narrowest a wide text column is capped to before every column shrinks instead. */
const textColumnCapMin = 48;

function widestLine(doc: PDFKit.PDFDocument, text: string): number {
  return Math.max(0, ...text.split('\n').map((line) => doc.widthOfString(line)));
}

/** Column widths from what the sample rows hold (one line each), the title's longest word and any figure id. */
function measuredColumns(doc: PDFKit.PDFDocument, columns: readonly Column[], sample: readonly (readonly PdfCell[])[]): PdfColumn[] {
  return columns.map((column, index) => {
    doc.font(font.bold).fontSize(size.table);
    let widest = Math.max(0, ...column.title.split(/\s+/).map((word) => doc.widthOfString(word)));
    // Rows past the sample may hold larger numbers: leave room for them, so that none wraps.
    doc.font(font.regular).fontSize(size.table);
    if (column.kind === 'money') widest = Math.max(widest, doc.widthOfString('-CA$999,999,999.99'));
    if (column.kind === 'count') widest = Math.max(widest, doc.widthOfString('9,999,999,999'));
    for (const cells of sample) {
      const cell = cells[index];
      if (cell === undefined) continue;
      doc.font(font.regular).fontSize(size.table);
      widest = Math.max(widest, widestLine(doc, cell.text));
      if (cell.figureId !== null) widest = Math.max(widest, doc.fontSize(size.figureId).widthOfString(cell.figureId));
    }
    return {
      title: column.title,
      align: column.kind === 'money' || column.kind === 'count' ? 'right' : 'left',
      flexible: column.kind === 'text',
      naturalWidth: Math.min(columnWidthMax, Math.max(columnWidthMin, widest + 2 * cellPadding + 1)),
    };
  });
}

// ---- tables ----

const letterPoints = { short: 612, long: 792 } as const;
const contentWidthByLayout: Record<Layout, number> = {
  portrait: letterPoints.short - pageMargins.left - pageMargins.right,
  landscape: letterPoints.long - pageMargins.left - pageMargins.right,
};

/** Natural width / page width up to which a table is squeezed rather than cut into bands. */
const squeezeAcceptedRatio = 1.25;

type Band = { readonly indexes: readonly number[]; readonly widths: readonly number[] };

/**
 * Widths for text columns when the band is too wide: the widest are capped at one common
 * width (they wrap) while short ones (account, side, currency) keep theirs; numbers and
 * times are never narrowed here. Null when even that would leave text columns too thin.
 */
function cappedTextWidths(picked: readonly PdfColumn[], width: number): number[] | null {
  const fixedWidth = picked.reduce((total, column) => total + (column.flexible ? 0 : column.naturalWidth), 0);
  const flexible = picked.filter((column) => column.flexible).map((column) => column.naturalWidth).sort((a, b) => a - b);
  let budget = width - fixedWidth;
  let cap = Number.POSITIVE_INFINITY;
  for (const [position, natural] of flexible.entries()) {
    const remaining = flexible.length - position;
    if (natural * remaining > budget) {
      cap = budget / remaining;
      break;
    }
    budget -= natural;
  }
  if (flexible.length === 0 || cap < textColumnCapMin) return null;
  return picked.map((column) => (column.flexible ? Math.min(column.naturalWidth, cap) : column.naturalWidth));
}

/** Fits the band's columns to `width`: spread when there is room, else narrow the widest text. */
function scaledBand(columns: readonly PdfColumn[], indexes: readonly number[], width: number): Band {
  const picked = indexes.map((index) => columns[index] as PdfColumn);
  const natural = picked.reduce((total, column) => total + column.naturalWidth, 0);
  const capped = natural > width ? cappedTextWidths(picked, width) : null;
  return { indexes, widths: capped ?? picked.map((column) => column.naturalWidth * (width / natural)) };
}

/**
 * Cuts a table too wide for `width` into bands of columns, each repeating the leading
 * text columns (the row's labels: currency, market…), so that no column is squeezed
 * below its natural width. Streamed rows are read once, so they get one band.
 */
function columnBands(columns: readonly PdfColumn[], width: number, allowBands: boolean): Band[] {
  const all = columns.map((_column, index) => index);
  const natural = columns.reduce((total, column) => total + column.naturalWidth, 0);
  // Squeezing by up to a fifth reads better than bands, and keeps an array section and the
  // same rows streamed (which cannot be banded) on the same layout.
  if (natural <= width * squeezeAcceptedRatio || !allowBands) return [scaledBand(columns, all, width)];
  const leading: number[] = [];
  let leadingWidth = 0;
  for (const [index, column] of columns.entries()) {
    if (column.align !== 'left' || leading.length === 3 || leadingWidth + column.naturalWidth > width / 2) break;
    leading.push(index);
    leadingWidth += column.naturalWidth;
  }
  const bands: number[][] = [];
  let current = [...leading];
  let used = leadingWidth;
  for (const index of all.slice(leading.length)) {
    const columnWidth = (columns[index] as PdfColumn).naturalWidth;
    if (used + columnWidth > width && current.length > leading.length) {
      bands.push(current);
      current = [...leading];
      used = leadingWidth;
    }
    current.push(index);
    used += columnWidth;
  }
  bands.push(current);
  return bands.map((indexes) => scaledBand(columns, indexes, width));
}

const tableStyle: TextStyle = { font: font.regular, size: size.table, color: color.text };
const tableHeaderStyle: TextStyle = { font: font.bold, size: size.table, color: color.text };
const figureIdStyle: TextStyle = { font: font.regular, size: size.figureId, color: color.grey };
const headingStyle: TextStyle = { font: font.bold, size: size.heading, color: color.text };
const noteStyle: TextStyle = { font: font.regular, size: size.meta, color: color.grey };

type Table = { readonly title: string; readonly columns: readonly PdfColumn[]; readonly band: Band; readonly layout: Layout };

function headerRowHeight(doc: PDFKit.PDFDocument, table: Table): number {
  const heights = table.band.indexes.map((index, position) =>
    textHeight(doc, (table.columns[index] as PdfColumn).title, tableHeaderStyle, (table.band.widths[position] ?? 0) - 2 * cellPadding));
  return Math.max(...heights) + 2 * cellPadding;
}

function drawHeading(pages: Pages, text: string): void {
  const height = textHeight(pages.doc, text, headingStyle, pages.width);
  drawText(pages.doc, text, pages.left, pages.y, pages.width, headingStyle);
  pages.y += height + 4;
}

function drawHeaderRow(pages: Pages, table: Table): void {
  const height = headerRowHeight(pages.doc, table);
  const { doc } = pages;
  doc.rect(pages.left, pages.y, pages.width, height).fill(color.band);
  let x = pages.left;
  table.band.indexes.forEach((index, position) => {
    const column = table.columns[index] as PdfColumn;
    const width = table.band.widths[position] ?? 0;
    drawText(doc, column.title, x + cellPadding, pages.y + cellPadding, width - 2 * cellPadding,
      { ...tableHeaderStyle, align: column.align });
    x += width;
  });
  pages.y += height;
  doc.moveTo(pages.left, pages.y).lineTo(pages.left + pages.width, pages.y).lineWidth(0.5).stroke(color.rule);
}

function rowHeight(doc: PDFKit.PDFDocument, table: Table, cells: readonly PdfCell[]): number {
  let height = 0;
  cells.forEach((cell, position) => {
    const width = (table.band.widths[position] ?? 0) - 2 * cellPadding;
    const idHeight = cell.figureId === null ? 0 : textHeight(doc, cell.figureId, figureIdStyle, width) + 0.5;
    height = Math.max(height, textHeight(doc, cell.text, tableStyle, width) + idHeight);
  });
  return height + 2 * cellPadding;
}

function drawRow(pages: Pages, table: Table, cells: readonly PdfCell[], height: number, shaded: boolean): void {
  const { doc } = pages;
  if (shaded) doc.rect(pages.left, pages.y, pages.width, height).fill(color.zebra);
  let x = pages.left;
  cells.forEach((cell, position) => {
    const column = table.columns[table.band.indexes[position] as number] as PdfColumn;
    const width = (table.band.widths[position] ?? 0) - 2 * cellPadding;
    const top = pages.y + cellPadding;
    drawText(doc, cell.text, x + cellPadding, top, width, { ...tableStyle, align: column.align });
    if (cell.figureId !== null) {
      const below = top + textHeight(doc, cell.text, tableStyle, width) + 0.5;
      drawText(doc, cell.figureId, x + cellPadding, below, width,
        { ...figureIdStyle, align: column.align, link: pages.figureUrl(cell.figureId) });
    }
    x += width + 2 * cellPadding;
  });
  pages.y += height;
}

/** Texts cut shorter still when a row of long texts in narrow columns would not fit on a page. */
const tallCellCharsMax = 60;

function rowFittingPage(
  doc: PDFKit.PDFDocument, table: Table, cells: readonly PdfCell[], heightMax: number,
): { cells: readonly PdfCell[]; height: number } {
  const height = rowHeight(doc, table, cells);
  if (height <= heightMax) return { cells, height };
  const shortened = cells.map((cell) => (cell.text.length <= tallCellCharsMax ? cell
    : { ...cell, text: `${cell.text.slice(0, tallCellCharsMax - 1)}…` }));
  const shortenedHeight = rowHeight(doc, table, shortened);
  invariant(shortenedHeight <= heightMax, `a row of ${table.title} fits on one page`);
  return { cells: shortened, height: shortenedHeight };
}

function startTablePage(pages: Pages, table: Table, continued: boolean): void {
  drawHeading(pages, continued ? `${table.title} (continued)` : table.title);
  drawHeaderRow(pages, table);
}

function drawNote(pages: Pages, text: string): void {
  const height = textHeight(pages.doc, text, noteStyle, pages.width);
  pages.ensure(height + 4);
  drawText(pages.doc, text, pages.left, pages.y + 3, pages.width, noteStyle);
  pages.y += height + 6;
}

/** Draws up to rowsMax rows (a new page repeats the heading and header), then counts the rest. */
async function drawTable(pages: Pages, table: Table, rows: AsyncIterable<readonly PdfCell[]>, rowsMax: number): Promise<void> {
  const { doc } = pages;
  const startHeight = textHeight(doc, table.title, headingStyle, contentWidthByLayout[table.layout]) + 4 +
    headerRowHeight(doc, table);
  pages.ensure(startHeight + 3 * (size.table + 2 * cellPadding), table.layout);
  startTablePage(pages, table, false);
  let drawn = 0;
  let notDrawn = 0;
  for await (const cells of rows) {
    if (drawn === rowsMax) {
      notDrawn += 1;
      continue;
    }
    const fitted = rowFittingPage(doc, table, cells, pages.usableHeight - startHeight);
    if (pages.ensure(fitted.height)) startTablePage(pages, table, true);
    drawRow(pages, table, fitted.cells, fitted.height, drawn % 2 === 1);
    drawn += 1;
  }
  if (drawn === 0) drawNote(pages, 'No rows.');
  if (notDrawn > 0) {
    drawNote(pages, `… ${groupedDecimal(String(notDrawn), 0)} more rows: see the xlsx/csv rendering ` +
      `(this pdf shows the first ${groupedDecimal(String(drawn), 0)}).`);
  }
  pages.y += 10;
}

async function* displayRows(section: Section): AsyncGenerator<readonly PdfCell[]> {
  for await (const row of sectionRows(section)) {
    yield row.map((cell, index) => displayCell(section.columns[index] as Column, cell));
  }
}

async function* bandCells(rows: AsyncIterable<readonly PdfCell[]>, band: Band): AsyncGenerator<readonly PdfCell[]> {
  for await (const cells of rows) yield band.indexes.map((index) => cells[index] ?? { text: '', figureId: null });
}

/** The first `count` items, and an iterable of all of them (those, then the rest, read once). */
async function readAhead<T>(source: AsyncIterable<T>, count: number): Promise<{ head: T[]; all: AsyncIterable<T> }> {
  const iterator = source[Symbol.asyncIterator]();
  const head: T[] = [];
  let exhausted = false;
  while (head.length < count && !exhausted) {
    const next = await iterator.next();
    if (next.done === true) exhausted = true;
    else head.push(next.value);
  }
  async function* all(): AsyncGenerator<T> {
    yield* head;
    while (!exhausted) {
      const next = await iterator.next();
      if (next.done === true) return;
      yield next.value;
    }
  }
  return { head, all: all() };
}

type CellTable = {
  readonly title: string;
  readonly columns: readonly Column[];
  /** A fresh pass over the rows; called again per band only when `rereadable`. */
  readonly rows: () => AsyncIterable<readonly PdfCell[]>;
  readonly rereadable: boolean;
  readonly rightAligned?: readonly number[];
};

async function drawCellTable(pages: Pages, table: CellTable, rowsMax: number): Promise<void> {
  const { head, all } = await readAhead(table.rows(), sampleRowsMax);
  const columns = measuredColumns(pages.doc, table.columns, head).map((column, index) =>
    (table.rightAligned?.includes(index) === true ? { ...column, align: 'right' as const } : column));
  const natural = columns.reduce((total, column) => total + column.naturalWidth, 0);
  const layout: Layout = natural <= contentWidthByLayout.portrait ? 'portrait' : 'landscape';
  const bands = columnBands(columns, contentWidthByLayout[layout], table.rereadable);
  for (const [position, band] of bands.entries()) {
    const title = bands.length === 1 ? table.title : `${table.title} (part ${position + 1} of ${bands.length})`;
    const rows = position === 0 ? all : table.rows();
    await drawTable(pages, { title, columns, band, layout }, bandCells(rows, band), rowsMax);
  }
}

async function drawSection(pages: Pages, section: Section, rowsMax: number): Promise<void> {
  await drawCellTable(pages, {
    title: section.title, columns: section.columns, rows: () => displayRows(section),
    // An array can be read once per band; a streamed section is read once, so it gets one band.
    rereadable: typeof section.rows !== 'function',
  }, rowsMax);
}

const figureIndexColumns: readonly Column[] = [
  { key: 'id', title: 'Figure id', kind: 'text' },
  { key: 'key', title: 'Key', kind: 'text' },
  { key: 'dims', title: 'Dimensions', kind: 'text' },
  { key: 'value', title: 'Value (as in the json)', kind: 'text' },
];

async function* figureIndexCells(figures: readonly Figure[]): AsyncGenerator<readonly PdfCell[]> {
  for (const figure of figures) {
    const dims = sortedEntries(figure.dims).map(([key, value]) => `${key}=${value}`).join(', ');
    yield [figure.id, figure.key, dims, figure.value].map((text) => ({ text: clip(text), figureId: null }));
  }
}

async function drawFigureIndex(pages: Pages, figures: readonly Figure[], rowsMax: number): Promise<void> {
  await drawCellTable(pages, {
    title: 'Figure index: every figure, its id and its exact value', columns: figureIndexColumns,
    rows: () => figureIndexCells(figures), rereadable: true, rightAligned: [3],
  }, rowsMax);
}

// ---- charts: horizontal bars, label left, value right, a zero axis between ----

const chartLabelWidth = 120;
const chartValueWidth = 96;
const chartBarHeight = 10;
const chartBarPitch = 15;
const chartLabelStyle: TextStyle = { font: font.regular, size: 7.5, color: color.text, align: 'right' };
const chartValueStyle: TextStyle = { font: font.regular, size: 7.5, color: color.text, align: 'left' };

function decimalMinor(value: string): bigint {
  invariant(isMoneyDecimal(value), `chart value ${JSON.stringify(value)} is a decimal with ≤ 2 places`);
  const negative = value.startsWith('-');
  const [whole = '0', fraction = ''] = value.replace(/^-/, '').split('.');
  const minor = BigInt(whole + fraction.padEnd(2, '0'));
  return negative ? -minor : minor;
}

/** a / b as a fraction for drawing (a length on the page), from exact minor units. */
function drawingRatio(part: bigint, whole: bigint): number {
  return whole === 0n ? 0 : Number((part * 1_000_000n) / whole) / 1_000_000;
}

function drawChart(pages: Pages, chart: Chart): void {
  const minors = chart.bars.map((bar) => decimalMinor(bar.value));
  const positiveMax = minors.reduce((max, minor) => (minor > max ? minor : max), 0n);
  const negativeMax = minors.reduce((max, minor) => (-minor > max ? -minor : max), 0n);
  const span = positiveMax + negativeMax;
  pages.ensure(textHeight(pages.doc, chart.title, headingStyle, pages.width) + 4 + 2 * chartBarPitch, 'portrait');
  drawHeading(pages, chart.title);
  const barArea = pages.width - chartLabelWidth - chartValueWidth - 12;
  const zeroX = pages.left + chartLabelWidth + 6 + barArea * drawingRatio(negativeMax, span);
  let axisTop = pages.y;
  chart.bars.forEach((bar, index) => {
    if (pages.ensure(chartBarPitch)) {
      drawHeading(pages, `${chart.title} (continued)`);
      axisTop = pages.y;
    }
    const minor = minors[index] as bigint;
    const length = barArea * drawingRatio(minor < 0n ? -minor : minor, span);
    const barTop = pages.y + (chartBarPitch - chartBarHeight) / 2;
    drawText(pages.doc, clip(bar.label), pages.left, barTop + 1.5, chartLabelWidth, chartLabelStyle);
    pages.doc.rect(minor < 0n ? zeroX - length : zeroX, barTop, length, chartBarHeight)
      .fill(minor < 0n ? '#b5524a' : '#4a78b5');
    drawText(pages.doc, moneyDisplay(bar.value, chart.currency), pages.left + pages.width - chartValueWidth,
      barTop + 1.5, chartValueWidth, chartValueStyle);
    pages.y += chartBarPitch;
  });
  pages.doc.moveTo(zeroX, axisTop).lineTo(zeroX, pages.y).lineWidth(0.5).stroke(color.rule);
  if (chart.bars.length === 0) drawNote(pages, 'No bars.');
  pages.y += 12;
}

// ---- the run's header, and the header and page number on every page ----

const labelStyle: TextStyle = { font: font.bold, size: size.meta, color: color.text };
const valueStyle: TextStyle = { font: font.regular, size: size.meta, color: color.text };
const headerLabelWidth = 118;

function runHeaderPairs(input: RenderInput): [string, string][] {
  const { header } = input;
  const joined = (entries: [string, string | number][]): string =>
    entries.length === 0 ? '(none)' : entries.map(([key, value]) => `${key} = ${value}`).join('; ');
  return [
    ['Report', `${header.report} (template version ${header.template_version})`],
    ['Run id', header.run_id],
    ['Generated at (UTC)', header.generated_at],
    ['Requested by', header.requested_by],
    ['Parameters', joined(sortedEntries(header.params))],
    ['Watermark', joined(sortedEntries(header.watermark))],
    ['Supersedes', header.supersedes ?? '(none)'],
    ['Journal checkpoint', header.checkpoint === null ? '(none)'
      : `#${header.checkpoint.checkpoint_id}, Merkle root ${header.checkpoint.merkle_root}`],
    ['Data SHA-256 (json)', input.dataSha256],
  ];
}

function drawRunHeader(pages: Pages, input: RenderInput): void {
  const { doc } = pages;
  const titleStyle: TextStyle = { font: font.bold, size: size.title, color: color.text };
  const titleHeight = textHeight(doc, input.header.title, titleStyle, pages.width);
  drawText(doc, input.header.title, pages.left, pages.y, pages.width, titleStyle);
  pages.y += titleHeight + 8;
  for (const [label, value] of runHeaderPairs(input)) {
    const valueWidth = pages.width - headerLabelWidth;
    const height = Math.max(textHeight(doc, value, valueStyle, valueWidth), textHeight(doc, label, labelStyle, headerLabelWidth));
    pages.ensure(height + 2);
    drawText(doc, label, pages.left, pages.y, headerLabelWidth, labelStyle);
    drawText(doc, value, pages.left + headerLabelWidth, pages.y, valueWidth, valueStyle);
    pages.y += height + 2;
  }
  drawText(doc, 'Grey ids under values are figure ids: each names the journal lines the figure sums (its lineage).',
    pages.left, pages.y + 4, pages.width, noteStyle);
  pages.y += 24;
}

function stampPages(doc: PDFKit.PDFDocument, input: RenderInput): void {
  const { header } = input;
  const range = doc.bufferedPageRange();
  const runningStyle: TextStyle = { font: font.regular, size: size.running, color: color.grey };
  for (let index = 0; index < range.count; index += 1) {
    doc.switchToPage(range.start + index);
    const width = doc.page.width - pageMargins.left - pageMargins.right;
    // Writing inside the margins must not make pdfkit start a page of its own.
    const bottomMargin = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    drawText(doc, `${clip(header.title).slice(0, 80)} · ${header.report} run ${header.run_id}`,
      pageMargins.left, 26, width - 150, runningStyle);
    drawText(doc, `generated ${header.generated_at}`, pageMargins.left + width - 150, 26, 150,
      { ...runningStyle, align: 'right' });
    doc.moveTo(pageMargins.left, 38).lineTo(pageMargins.left + width, 38).lineWidth(0.5).stroke(color.rule);
    drawText(doc, `Page ${index + 1} of ${range.count}`, pageMargins.left, doc.page.height - 34, width,
      { ...runningStyle, align: 'center' });
    doc.page.margins.bottom = bottomMargin;
  }
}

async function writePdf(input: RenderInput, output: NodeJS.WritableStream, rowsMax: number, compress: boolean): Promise<void> {
  const { header } = input;
  const generatedAt = new Date(header.generated_at);
  const doc = new PDFDocument({
    size: 'LETTER', layout: 'portrait', margins: pageMargins, bufferPages: true, autoFirstPage: true,
    pdfVersion: '1.3', compress, font: font.regular,
    info: {
      Producer: 'PDFKit', Creator: 'marketplace-ledger', Author: 'marketplace-ledger',
      Title: header.title, Subject: `${header.report} run ${header.run_id}`,
      Keywords: `run:${header.run_id} data-sha256:${input.dataSha256}`,
      CreationDate: generatedAt, ModDate: generatedAt,
    },
  });
  doc.pipe(output);
  const pages = new Pages(doc, (figureId) => figurePageUrl(input.lineageBaseUrl, figureId));
  drawRunHeader(pages, input);
  for (const chart of input.charts) drawChart(pages, chart);
  for (const section of input.sections) await drawSection(pages, section, rowsMax);
  await drawFigureIndex(pages, input.figures, rowsMax);
  stampPages(doc, input);
  doc.end();
}

export async function renderPdf(input: RenderInput, path: string, options: PdfOptions = {}): Promise<string> {
  assertRenderInput(input);
  const rowsMax = options.pdfRowsMax ?? pdfRowsMaxDefault;
  invariant(Number.isSafeInteger(rowsMax) && rowsMax >= 0 && rowsMax <= pdfRowsMaxLimit,
    `pdfRowsMax ${rowsMax} is 0–${pdfRowsMaxLimit}`);
  return HashedFile.write(path, (output) => writePdf(input, output, rowsMax, options.compress ?? true));
}
