// Independent readers for the renderer tests: none of them uses exceljs or pdfkit, so a
// bug in how the renderers drive those libraries cannot hide behind the same library
// reading its own output. xlsx: fflate unzips, regular expressions read the sheet XML,
// styles, relationships and the zip's own directory (for the entries' timestamps). csv:
// a small RFC 4180 parser. pdf: the text operators of uncompressed content streams.
import { unzipSync } from 'fflate';

// ---- zip ----

export type ZipEntryTimes = { name: string; centralTime: number; centralDate: number; localTime: number; localDate: number };

/** Every entry's DOS time and date, from the central directory and from its local header. */
export function zipEntryTimes(zip: Buffer): ZipEntryTimes[] {
  const endOffset = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (endOffset < 0) throw new Error('no end of central directory');
  const entryCount = zip.readUInt16LE(endOffset + 10);
  let offset = zip.readUInt32LE(endOffset + 16);
  const entries: ZipEntryTimes[] = [];
  for (let index = 0; index < entryCount; index += 1) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw new Error(`central directory entry ${index} is malformed`);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const localOffset = zip.readUInt32LE(offset + 42);
    if (zip.readUInt32LE(localOffset) !== 0x04034b50) throw new Error(`local header ${index} is malformed`);
    entries.push({
      name: zip.toString('utf8', offset + 46, offset + 46 + nameLength),
      centralTime: zip.readUInt16LE(offset + 12), centralDate: zip.readUInt16LE(offset + 14),
      localTime: zip.readUInt16LE(localOffset + 10), localDate: zip.readUInt16LE(localOffset + 12),
    });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The DOS (time, date) pair of a UTC instant, as a zip writer in UTC stores it. */
export function dosTimeDate(at: Date): { time: number; date: number } {
  return {
    time: (at.getUTCHours() << 11) | (at.getUTCMinutes() << 5) | Math.floor(at.getUTCSeconds() / 2),
    date: ((at.getUTCFullYear() - 1980) << 9) | ((at.getUTCMonth() + 1) << 5) | at.getUTCDate(),
  };
}

// ---- xlsx ----

export type XlsxCell = { value: string; type: 'number' | 'string'; styleIndex: number };
export type XlsxSheet = {
  name: string;
  cells: Map<string, XlsxCell>;
  /** Cell address → hyperlink target. */
  links: Map<string, string>;
  frozenRows: number;
  columnWidths: number[];
};
export type Xlsx = { sheets: XlsxSheet[]; numberFormatOfStyle: (styleIndex: number) => string; core: string };

const builtInNumberFormats: Record<number, string> = { 0: 'General', 1: '0', 2: '0.00', 3: '#,##0', 4: '#,##0.00' };

function xmlText(text: string): string {
  const entities = text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_match, name: string) => {
    if (name.startsWith('#x')) return String.fromCodePoint(parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(parseInt(name.slice(1), 10));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[name] ?? '';
  });
  // OOXML's own escape for characters XML cannot carry (ECMA-376 ST_Xstring).
  return entities.replace(/_x([0-9A-Fa-f]{4})_/g, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function attributes(tag: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const match of tag.matchAll(/([\w:]+)="([^"]*)"/g)) result[match[1]!] = xmlText(match[2]!);
  return result;
}

function relationships(xml: string | undefined): Map<string, string> {
  const result = new Map<string, string>();
  for (const match of (xml ?? '').matchAll(/<Relationship\b[^>]*>/g)) {
    const attrs = attributes(match[0]);
    result.set(attrs['Id']!, attrs['Target']!);
  }
  return result;
}

function readCells(xml: string): Map<string, XlsxCell> {
  const cells = new Map<string, XlsxCell>();
  for (const match of xml.matchAll(/<c\b([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)/g)) {
    const attrs = attributes(match[1]!);
    const body = match[2] ?? '';
    const inline = /<is>[\s\S]*?<t[^>]*>([\s\S]*?)<\/t>/.exec(body);
    const plain = /<v>([\s\S]*?)<\/v>/.exec(body);
    const raw = inline?.[1] ?? plain?.[1];
    if (raw === undefined) continue;
    const type = attrs['t'] === undefined || attrs['t'] === 'n' ? 'number' : 'string';
    cells.set(attrs['r']!, { value: xmlText(raw), type, styleIndex: Number(attrs['s'] ?? '0') });
  }
  return cells;
}

function readSheet(files: Record<string, string>, name: string, path: string): XlsxSheet {
  const xml = files[path];
  if (xml === undefined) throw new Error(`sheet ${name}: no ${path} in the zip`);
  const relsPath = path.replace(/worksheets\/(sheet\d+\.xml)$/, 'worksheets/_rels/$1.rels');
  const rels = relationships(files[relsPath]);
  const links = new Map<string, string>();
  for (const match of xml.matchAll(/<hyperlink\b[^>]*>/g)) {
    const attrs = attributes(match[0]);
    links.set(attrs['ref']!, rels.get(attrs['r:id']!) ?? '');
  }
  const pane = /<pane\b[^>]*>/.exec(xml);
  const paneAttrs = pane === null ? {} : attributes(pane[0]);
  const frozenRows = paneAttrs['state'] === 'frozen' ? Number(paneAttrs['ySplit'] ?? '0') : 0;
  const columnWidths: number[] = [];
  for (const match of xml.matchAll(/<col\b[^>]*>/g)) {
    const attrs = attributes(match[0]);
    for (let column = Number(attrs['min']); column <= Number(attrs['max']); column += 1) {
      columnWidths[column - 1] = Number(attrs['width']);
    }
  }
  return { name, cells: readCells(xml), links, frozenRows, columnWidths };
}

function numberFormats(stylesXml: string): (styleIndex: number) => string {
  const custom = new Map<number, string>();
  for (const match of stylesXml.matchAll(/<numFmt\b[^>]*>/g)) {
    const attrs = attributes(match[0]);
    custom.set(Number(attrs['numFmtId']), attrs['formatCode']!);
  }
  const cellXfs = /<cellXfs\b[^>]*>([\s\S]*?)<\/cellXfs>/.exec(stylesXml)?.[1] ?? '';
  const formatIds = [...cellXfs.matchAll(/<xf\b[^>]*>/g)].map((match) => Number(attributes(match[0])['numFmtId'] ?? '0'));
  return (styleIndex) => {
    const id = formatIds[styleIndex] ?? 0;
    return custom.get(id) ?? builtInNumberFormats[id] ?? `builtin ${id}`;
  };
}

export function readXlsx(zip: Buffer): Xlsx {
  const files: Record<string, string> = {};
  for (const [name, bytes] of Object.entries(unzipSync(new Uint8Array(zip)))) {
    files[name.replace(/^\//, '')] = Buffer.from(bytes).toString('utf8');
  }
  const workbookRels = relationships(files['xl/_rels/workbook.xml.rels']);
  const sheets = [...(files['xl/workbook.xml'] ?? '').matchAll(/<sheet\b[^>]*>/g)].map((match) => {
    const attrs = attributes(match[0]);
    const target = workbookRels.get(attrs['r:id']!)!;
    return readSheet(files, attrs['name']!, `xl/${target.replace(/^\/?xl\//, '')}`);
  });
  return { sheets, numberFormatOfStyle: numberFormats(files['xl/styles.xml'] ?? ''), core: files['docProps/core.xml'] ?? '' };
}

export function columnLetter(index: number): string {
  let letters = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) letters = String.fromCharCode(65 + ((n - 1) % 26)) + letters;
  return letters;
}

/** A sheet's rows as arrays of cells (null where a cell is absent), `columns` wide. */
export function sheetRows(sheet: XlsxSheet, columns: number): (XlsxCell | null)[][] {
  const rowNumbers = [...sheet.cells.keys()].map((address) => Number(/[0-9]+$/.exec(address)![0]));
  const last = Math.max(0, ...rowNumbers);
  const rows: (XlsxCell | null)[][] = [];
  for (let row = 1; row <= last; row += 1) {
    rows.push(Array.from({ length: columns }, (_unused, column) => sheet.cells.get(`${columnLetter(column)}${row}`) ?? null));
  }
  return rows;
}

/** A decimal string in minor units (cents), by string: "1000000" and "1000000.00" agree. */
export function decimalToMinor(value: string): bigint {
  const match = /^(-?)([0-9]+)(?:\.([0-9]{1,2}))?$/.exec(value);
  if (match === null) throw new Error(`${JSON.stringify(value)} is not a decimal with ≤ 2 places`);
  const minor = BigInt(match[2]! + (match[3] ?? '').padEnd(2, '0'));
  return match[1] === '-' ? -minor : minor;
}

// ---- csv ----

/** RFC 4180: records end in CRLF; quoted fields may hold commas, quotes ("") and line ends. */
export function parseCsv(text: string): (string | null)[][] {
  const records: (string | null)[][] = [];
  let record: (string | null)[] = [];
  let position = 0;
  while (position < text.length) {
    let field: string | null;
    if (text[position] === '"') {
      let value = '';
      position += 1;
      for (;;) {
        const quote = text.indexOf('"', position);
        if (quote < 0) throw new Error('unterminated quoted field');
        value += text.slice(position, quote);
        if (text[quote + 1] === '"') { value += '"'; position = quote + 2; continue; }
        position = quote + 1;
        break;
      }
      field = value;
    } else {
      const end = text.slice(position).search(/,|\r\n/);
      const stop = end < 0 ? text.length : position + end;
      const raw = text.slice(position, stop);
      if (/["\r\n]/.test(raw)) throw new Error(`unquoted field ${JSON.stringify(raw)} holds a quote or line end`);
      field = raw === '' ? null : raw;
      position = stop;
    }
    record.push(field);
    if (text.startsWith(',', position)) { position += 1; continue; }
    if (!text.startsWith('\r\n', position)) throw new Error(`expected CRLF at ${position}`);
    position += 2;
    records.push(record);
    record = [];
  }
  return records;
}

// ---- pdf ----

// The standard fonts' WinAnsiEncoding is Latin-1 but for 0x80–0x9F (Windows-1252).
const windows1252High = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';

function winAnsi(bytes: Buffer): string {
  return [...bytes].map((byte) =>
    (byte >= 0x80 && byte <= 0x9f ? windows1252High[byte - 0x80]! : String.fromCharCode(byte))).join('');
}

/** The text drawn by an uncompressed pdf's content streams: one string per TJ/Tj operator. */
export function pdfTexts(pdf: Buffer): string[] {
  const source = pdf.toString('latin1');
  const texts: string[] = [];
  for (const match of source.matchAll(/\[((?:<[0-9a-fA-F]*>|[-0-9.\s])*)\]\s*TJ|<([0-9a-fA-F]*)>\s*Tj/g)) {
    const pieces = match[1] === undefined ? [match[2]!] : [...match[1].matchAll(/<([0-9a-fA-F]*)>/g)].map((piece) => piece[1]!);
    texts.push(pieces.map((hex) => winAnsi(Buffer.from(hex, 'hex'))).join(''));
  }
  return texts;
}

export function pdfPageCount(pdf: Buffer): number {
  return [...pdf.toString('latin1').matchAll(/\/Type \/Page\b(?!s)/g)].length;
}
