// What every renderer reads the same way: a cell's parts, a section's rows (checked for
// width as they stream by), the checks a RenderInput must pass before any byte is
// written, the lineage link of a figure, and the one place where a money string becomes a
// JS number (for an xlsx numeric cell, and nowhere else). Pure, except for reading rows.
import { invariant } from '../../errors.ts';
import type { Figure } from '../figures.ts';
import type { Cell, Column, RenderInput, Section } from './types.ts';

export type CellParts = {
  readonly value: string | null;
  readonly figureId: string | null;
  readonly currency: string | null;
};

export function cellParts(cell: Cell): CellParts {
  if (cell === null) return { value: null, figureId: null, currency: null };
  if (typeof cell === 'string') return { value: cell, figureId: null, currency: null };
  return { value: cell.value, figureId: cell.figureId ?? null, currency: cell.currency ?? null };
}

/** The cell as the json and csv renderings show it: its value string, or null. */
export function cellValue(cell: Cell): string | null {
  return cellParts(cell).value;
}

/**
 * A section's rows in order, whether an array or an async iterable (read once), each
 * checked to have one cell per column: a short row is the template's bug, and a silent
 * shift of columns in a financial report is worse than no report.
 */
export async function* sectionRows(section: Section): AsyncGenerator<readonly Cell[]> {
  const source = typeof section.rows === 'function' ? section.rows() : section.rows;
  let rowIndex = 0;
  for await (const row of source) {
    invariant(row.length === section.columns.length,
      `section ${section.name} row ${rowIndex} has ${row.length} cells for ${section.columns.length} columns`);
    rowIndex += 1;
    yield row;
  }
}

const moneyDecimal = /^-?[0-9]+(\.[0-9]{1,2})?$/;
const countInteger = /^-?[0-9]+$/;
const currencyCode = /^[A-Z]{3}$/;

/**
 * Below 10^13 a decimal with at most 2 fractional digits has at most 15 significant
 * digits, and every decimal of at most 15 significant digits survives the trip to an
 * IEEE double and back unchanged (DBL_DIG = 15). The brief's 2^53/100 ≈ 9.007e13 is not
 * enough: between 2^46 and 2^53/100 doubles are 1/64 apart, so a cent can be lost.
 * 10^13 minor-unit-dollars is also the ledger's largest line amount (amountMinorMax).
 */
const moneyAbsoluteLimitDigits = 13;

export function isMoneyDecimal(value: string): boolean {
  return moneyDecimal.test(value);
}

/** Significant digits a spreadsheet number keeps: Excel stores and shows 15 (and DBL_DIG is 15). */
const spreadsheetDigitsMax = 15;

/** The digits of a decimal's integer in minor units, leading zeros dropped: "-0012.5" → 3 ("1250"). */
function minorDigitCount(value: string): number {
  const [whole = '0', fraction = ''] = value.replace(/^-/, '').split('.');
  return `${whole}${fraction.padEnd(2, '0')}`.replace(/^0+/, '').length;
}

/**
 * Whether a money string becomes a spreadsheet number that is the amount to the cent:
 * |amount| < 10^13, that is at most 15 significant digits in minor units. Beyond it the
 * xlsx holds the amount as text (with a note saying why), never a rounded number. The
 * journal can hold more (a line up to 10^13, sums of any number of lines), so this is a
 * case to render, not an invariant.
 */
export function moneyFitsSpreadsheet(value: string): boolean {
  return moneyDecimal.test(value) && minorDigitCount(value) <= spreadsheetDigitsMax;
}

/** Whether a count becomes a spreadsheet number exactly: an integer of at most 15 digits. */
export function countFitsSpreadsheet(value: string): boolean {
  return countInteger.test(value) && value.replace(/^-/, '').replace(/^0+/, '').length <= spreadsheetDigitsMax;
}

/**
 * The only money → JS number conversion in the program, for an xlsx numeric cell: exceljs
 * takes a number, and the file holds its shortest decimal form. No arithmetic follows.
 * Asserts the string is a plain decimal of ≤ 2 fractional digits below 10^13, so that
 * the number is the decimal to the cent; then checks the round trip on a second path.
 */
export function moneyToSpreadsheetNumber(value: string, where: string): number {
  invariant(moneyDecimal.test(value), `${where}: money ${JSON.stringify(value)} is not a decimal with ≤ 2 places`);
  const whole = value.replace(/^-/, '').split('.')[0] ?? '';
  const wholeDigits = whole.replace(/^0+(?=[0-9])/, '');
  invariant(wholeDigits.length <= moneyAbsoluteLimitDigits,
    `${where}: money ${value} is beyond 10^13, where a spreadsheet number would lose cents`);
  const number = Number(value);
  invariant(canonicalMoney(number.toFixed(2)) === canonicalMoney(value),
    `${where}: money ${value} did not survive conversion to a number`);
  return number;
}

/** "-007.5" → "-7.50", "-0" → "0.00": one spelling per amount, to compare two spellings. */
function canonicalMoney(value: string): string {
  const negative = value.startsWith('-');
  const [whole = '0', fraction = ''] = value.replace(/^-/, '').split('.');
  const spelled = `${whole.replace(/^0+(?=[0-9])/, '')}.${fraction.padEnd(2, '0')}`;
  return negative && /[1-9]/.test(spelled) ? `-${spelled}` : spelled;
}

/** A count as a spreadsheet integer: asserted integer and exactly representable. */
export function countToSpreadsheetNumber(value: string, where: string): number {
  invariant(countInteger.test(value), `${where}: count ${JSON.stringify(value)} is not an integer`);
  const number = Number(value);
  invariant(Number.isSafeInteger(number), `${where}: count ${value} is beyond 2^53`);
  return number;
}

/** `1234567.5` → `1,234,567.50`, by string (no number ever holds the amount). */
export function groupedDecimal(value: string, fractionDigits: number): string {
  const negative = value.startsWith('-');
  const [whole = '0', fraction = ''] = value.replace(/^-/, '').split('.');
  const grouped = whole.replace(/\B(?=([0-9]{3})+(?![0-9]))/g, ',');
  const tail = fractionDigits === 0 ? '' : `.${fraction.padEnd(fractionDigits, '0')}`;
  return `${negative ? '-' : ''}${grouped}${tail}`;
}

/** The symbol a money amount shows in xlsx and pdf: `$`, `CA$`, or a code after the amount. */
export function currencyAffix(currency: string | null): { prefix: string; suffix: string } {
  if (currency === 'USD') return { prefix: '$', suffix: '' };
  if (currency === 'CAD') return { prefix: 'CA$', suffix: '' };
  if (currency === null) return { prefix: '', suffix: '' };
  invariant(currencyCode.test(currency), `currency ${JSON.stringify(currency)} is not an ISO 4217 code`);
  return { prefix: '', suffix: ` ${currency}` };
}

/** A figure's page, where a person reads its definition and lineage (`/figures/:id` of the service). */
export function figurePageUrl(lineageBaseUrl: string, figureId: string): string {
  return `${lineageBaseUrl.replace(/\/+$/, '')}/${encodeURIComponent(figureId)}`;
}

/** A record's entries sorted by key (UTF-16 code units, as canonical JSON sorts). */
export function sortedEntries<T>(record: Readonly<Record<string, T>>): [string, T][] {
  return Object.keys(record).sort().map((key) => [key, record[key] as T]);
}

/** Every dims key of the figures, in the order first met: one column each in csv and xlsx. */
export function dimensionKeys(figures: readonly Figure[]): string[] {
  const keys = new Set<string>();
  for (const figure of figures) for (const key of Object.keys(figure.dims)) keys.add(key);
  return [...keys];
}

/** How a figure's value reads on its own (no column to say): money, count or text. */
export function figureValueKind(figure: Figure): 'money' | 'count' | 'text' {
  // Money strings always carry their currency's two places (toDecimalString), so "12" is a
  // count and "12.00" an amount; "true"/"false" (1099-K's reportable) stay text.
  if (/^-?[0-9]+\.[0-9]{2}$/.test(figure.value)) return 'money';
  if (countInteger.test(figure.value)) return 'count';
  return 'text';
}

const sheetNameForbidden = /[[\]:*?/\\]/;
export const reservedSheetNames: readonly string[] = ['Report', 'Lineage'];

/** Checks what no renderer can repair, before any file is opened. Throws on a template bug. */
export function assertRenderInput(input: RenderInput): void {
  invariant(/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$/.test(input.header.generated_at),
    `generated_at ${JSON.stringify(input.header.generated_at)} is RFC 3339 UTC`);
  invariant(!Number.isNaN(Date.parse(input.header.generated_at)), 'generated_at is a real time');
  const figureIds = new Set<string>();
  for (const figure of input.figures) {
    invariant(!figureIds.has(figure.id), `figure id ${figure.id} appears once`);
    figureIds.add(figure.id);
  }
  const sheetNames = new Set(reservedSheetNames.map((name) => name.toLowerCase()));
  for (const section of input.sections) {
    invariant(section.name.length > 0 && section.name.length <= 31, `section name ${section.name} has 1–31 characters`);
    invariant(!sheetNameForbidden.test(section.name), `section name ${section.name} has no []:*?/\\`);
    invariant(!sheetNames.has(section.name.toLowerCase()), `section name ${section.name} is unique and not reserved`);
    sheetNames.add(section.name.toLowerCase());
    invariant(section.columns.length > 0, `section ${section.name} has columns`);
    assertColumns(section.name, section.columns);
  }
}

function assertColumns(sectionName: string, columns: readonly Column[]): void {
  const keys = new Set<string>();
  for (const column of columns) {
    invariant(!keys.has(column.key), `section ${sectionName} column key ${column.key} appears once`);
    keys.add(column.key);
    invariant(column.width === undefined || (column.width > 0 && column.width <= 200),
      `section ${sectionName} column ${column.key} width is 1–200`);
  }
}
