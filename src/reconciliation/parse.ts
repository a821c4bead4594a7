// From the fields of one row to a typed row, or to the reason it is bad (RECONCILIATION.md,
// Inputs). Pure. External files carry signed decimals (a refund is negative); they are
// read exactly, through the ledger's one money parser, never as JS numbers.
import { isCurrencyCode, parseAmount, type CurrencyCode } from '../ledger/money.ts';
import {
  dayMs, processorCategories, type BadRow, type BankLine, type FilePosition, type ProcessorCategory,
  type ProcessorRow,
} from './types.ts';

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const refuse = (reason: string): Parsed<never> => ({ ok: false, reason });

/**
 * A bad row at `at`. A module function, not a closure made per row: the TypeScript loader
 * (tsx, keepNames) wraps every named closure in a call that sets its name, which costs
 * about a third of a microsecond each time the closure is made, a million times a file.
 * For the same reason rows below are written field by field: in Node 20 an object spread
 * followed by more properties (`{ ...at, x }`) takes a slow path of over a microsecond.
 */
export function badRow(at: FilePosition, reason: string): BadRow {
  return { ...at, reason };
}

/**
 * A signed decimal in minor units: `-?digits(.digits)?`, at most the currency's fractional
 * digits. `+5`, `1e3`, `1,250.00`, ` 5`, `.5` are refused.
 */
export function parseSignedMinor(text: string, currency: CurrencyCode, column: string): Parsed<bigint> {
  const parsed = parseAmount(text, currency, { allowNegative: true });
  return parsed.ok ? ok(parsed.money.minor) : refuse(`${column}: ${parsed.reason}`);
}

export function parseUnsignedMinor(text: string, currency: CurrencyCode, column: string): Parsed<bigint> {
  const parsed = parseAmount(text, currency, { allowNegative: false });
  return parsed.ok ? ok(parsed.money.minor) : refuse(`${column}: ${parsed.reason} (a decimal ≥ 0)`);
}

const dateText = /^(\d{4})-(\d{2})-(\d{2})$/;
const timeText = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/** `YYYY-MM-DD` as a day number (days since 1970-01-01), or null when not a real date. */
export function parseDay(text: string): number | null {
  const m = dateText.exec(text);
  if (m === null) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(ms).toISOString().slice(0, 10) === text ? ms / dayMs : null;
}

/** Days of the dates seen lately (a file's rows share a few hundred dates); bounded. */
const daysSeen = new Map<string, number | null>();
const daysSeenMax = 10_000;

/**
 * `YYYY-MM-DD HH:MM:SS` (UTC) as epoch milliseconds, or null: the date must be a real one
 * (parseDay), the time 00:00:00 to 23:59:59. A processor file has two per row, so the
 * date's check is remembered per date and the time is read digit by digit.
 */
export function parseUtcTime(text: string): number | null {
  if (!timeText.test(text)) return null;
  const date = text.slice(0, 10);
  let day = daysSeen.get(date);
  if (day === undefined) {
    day = parseDay(date);
    if (daysSeen.size >= daysSeenMax) daysSeen.clear();
    daysSeen.set(date, day);
  }
  if (day === null) return null;
  const hours = twoDigits(text, 11);
  const minutes = twoDigits(text, 14);
  const seconds = twoDigits(text, 17);
  if (hours > 23 || minutes > 59 || seconds > 59) return null;
  return day * dayMs + ((hours * 60 + minutes) * 60 + seconds) * 1000;
}

/** The number of the two ASCII digits at `at` (the pattern matched them). */
function twoDigits(text: string, at: number): number {
  return (text.charCodeAt(at) - 48) * 10 + (text.charCodeAt(at + 1) - 48);
}

/** Lower-case ISO 4217 in the processor file, upper case in the bank's. */
export function parseCurrency(text: string, letterCase: 'lower' | 'upper'): Parsed<CurrencyCode> {
  const wanted = letterCase === 'lower' ? text.toLowerCase() : text.toUpperCase();
  const code = text.toUpperCase();
  if (text !== wanted || !/^[A-Za-z]{3}$/.test(text)) {
    return refuse(`currency ${JSON.stringify(text)} is not ${letterCase === 'upper' ? 'an upper' : 'a lower'}-case ISO 4217 code`);
  }
  if (!isCurrencyCode(code)) return refuse(`currency ${JSON.stringify(text)} is not configured in the ledger`);
  return ok(code);
}

export const processorColumns = [
  'balance_transaction_id', 'created_utc', 'available_on_utc', 'currency', 'gross', 'fee', 'net',
  'reporting_category', 'source_id',
] as const;
export const bankColumns = ['booking_date', 'value_date', 'amount', 'currency', 'reference', 'description'] as const;

/** The value of each named column in one record (columns in any order, extra ones ignored). */
export type RowValues<C extends string> = Readonly<Record<C, string>>;

export function parseProcessorRow(values: RowValues<(typeof processorColumns)[number]>, at: FilePosition):
  ProcessorRow | BadRow {
  if (values.balance_transaction_id === '') return badRow(at, 'balance_transaction_id is empty');
  if (values.source_id === '') return badRow(at, 'source_id is empty');
  const category = values.reporting_category;
  if (!(processorCategories as readonly string[]).includes(category)) {
    return badRow(at, `reporting_category ${JSON.stringify(category)} is not one of ${processorCategories.join(', ')}`);
  }
  const createdAtMs = parseUtcTime(values.created_utc);
  if (createdAtMs === null) {
    return badRow(at, `created_utc ${JSON.stringify(values.created_utc)} is not YYYY-MM-DD HH:MM:SS`);
  }
  if (parseUtcTime(values.available_on_utc) === null) {
    return badRow(at, `available_on_utc ${JSON.stringify(values.available_on_utc)} is not YYYY-MM-DD HH:MM:SS`);
  }
  const currency = parseCurrency(values.currency, 'lower');
  if (!currency.ok) return badRow(at, currency.reason);
  const gross = parseSignedMinor(values.gross, currency.value, 'gross');
  if (!gross.ok) return badRow(at, gross.reason);
  const fee = parseUnsignedMinor(values.fee, currency.value, 'fee');
  if (!fee.ok) return badRow(at, fee.reason);
  const net = parseSignedMinor(values.net, currency.value, 'net');
  if (!net.ok) return badRow(at, net.reason);
  if (net.value !== gross.value - fee.value) {
    return badRow(at, `net ${values.net} is not gross ${values.gross} − fee ${values.fee}`);
  }
  return {
    file: at.file, line: at.line, balanceTransactionId: values.balance_transaction_id, createdAtMs,
    currency: currency.value,
    grossMinor: gross.value, feeMinor: fee.value, category: category as ProcessorCategory, sourceId: values.source_id,
  };
}

export function parseBankRow(values: RowValues<(typeof bankColumns)[number]>, at: FilePosition): BankLine | BadRow {
  const bookingDay = parseDay(values.booking_date);
  if (bookingDay === null) return badRow(at, `booking_date ${JSON.stringify(values.booking_date)} is not YYYY-MM-DD`);
  if (values.value_date !== '' && parseDay(values.value_date) === null) {
    return badRow(at, `value_date ${JSON.stringify(values.value_date)} is not YYYY-MM-DD`);
  }
  const currency = parseCurrency(values.currency, 'upper');
  if (!currency.ok) return badRow(at, currency.reason);
  const amount = parseSignedMinor(values.amount, currency.value, 'amount');
  if (!amount.ok) return badRow(at, amount.reason);
  return {
    file: at.file, line: at.line, bookingDay, amountMinor: amount.value, currency: currency.value,
    reference: values.reference.trim(), description: values.description,
  };
}

export function isBadRow(row: object): row is BadRow {
  return 'reason' in row;
}
