// The data of each event type of EVENTS.md, validated in the contract's order: field
// presence and type (invalid_field) → amount syntax (invalid_amount) → arithmetic
// (unbalanced, then the comparisons EVENTS.md files under invalid_field). An adjustment's
// approval comes next (approval.ts, asked by project.ts); references and state after
// that, in rules.ts. Pure.
import { accountByCode, dimensionNames, type Dimension, type Side } from './chart.ts';
import type { Envelope, EventType } from './envelope.ts';
import {
  add, compare, isCurrencyCode, isZero, parseAmount, sum, toDecimalString, type CurrencyCode,
  type Money,
} from './money.ts';
import { reject, type Rejection } from './rejections.ts';

export type Dims = Partial<Record<Dimension, string>>;

export type CapturedData = {
  payment_id: string; rental_id: string; driver_id: string; owner_id: string; market: string;
  processor: string; processor_ref: string; currency: CurrencyCode;
  rental_amount: Money; commission: Money; protection_fee: Money; service_fee: Money;
  tax: Money; deposit: Money; processor_fee: Money; total: Money;
};
export type ClosedData = { rental_id: string; driver_id: string; owner_id: string; market: string };
export type RefundedData = {
  refund_id: string; payment_id: string; rental_id: string; processor_ref: string;
  currency: CurrencyCode; rental_amount: Money; commission: Money; protection_fee: Money;
  service_fee: Money; tax: Money; total: Money;
};
export type DepositReleasedData = {
  rental_id: string; driver_id: string; processor_ref: string; currency: CurrencyCode; amount: Money;
};
export type DepositAppliedData = {
  rental_id: string; driver_id: string; owner_id: string; claim_id: string;
  currency: CurrencyCode; amount: Money;
};
export type DisputeOpenedData = {
  dispute_id: string; payment_id: string; rental_id: string; processor_ref: string;
  currency: CurrencyCode; amount: Money; dispute_fee: Money;
};
export type DisputeWonData = {
  dispute_id: string; rental_id: string; processor_ref: string; currency: CurrencyCode; amount: Money;
};
export type PayoutPaidData = {
  payout_id: string; owner_id: string; processor: string; processor_ref: string;
  currency: CurrencyCode; amount: Money;
};
export type PayoutFailedData = {
  payout_id: string; owner_id: string; currency: CurrencyCode; amount: Money; failure_code: string;
};
export type ProcessorPayoutData = {
  processor_payout_id: string; processor: string; currency: CurrencyCode; amount: Money;
  arrival_date: string;
};
export type TaxRemittedData = {
  remittance_id: string; market: string; currency: CurrencyCode; amount: Money; period: string;
};
export type AdjustmentLine = { account: string; side: Side; amount: Money; dims: Dims };
export type AdjustmentData = {
  adjustment_id: string; reason: string; requested_by: string; approved_by: string;
  currency: CurrencyCode; lines: AdjustmentLine[];
};

export type LedgerEvent =
  | { type: 'payment.captured'; data: CapturedData }
  | { type: 'rental.completed'; data: ClosedData }
  | { type: 'rental.cancelled'; data: ClosedData }
  | { type: 'payment.refunded'; data: RefundedData }
  | { type: 'deposit.released'; data: DepositReleasedData }
  | { type: 'deposit.applied'; data: DepositAppliedData }
  | { type: 'dispute.opened'; data: DisputeOpenedData }
  | { type: 'dispute.won'; data: DisputeWonData }
  | { type: 'payout.paid'; data: PayoutPaidData }
  | { type: 'payout.failed'; data: PayoutFailedData }
  | { type: 'processor.payout'; data: ProcessorPayoutData }
  | { type: 'tax.remitted'; data: TaxRemittedData }
  | { type: 'adjustment.posted'; data: AdjustmentData };

/** id: non-empty string; text: any string; amount: plain decimal; signed: may carry a '-'. */
export type FieldKind = 'id' | 'text' | 'currency' | 'amount' | 'signed' | 'date' | 'period' | 'lines';

const ids = (...names: string[]): [string, FieldKind][] => names.map((n) => [n, 'id']);
const amounts = (...names: string[]): [string, FieldKind][] => names.map((n) => [n, 'amount']);

/** Fields per type, in the order they are checked. */
export const fieldSpecs: Record<EventType, [string, FieldKind][]> = {
  'payment.captured': [
    ...ids('payment_id', 'rental_id', 'driver_id', 'owner_id', 'market', 'processor',
      'processor_ref'), ['currency', 'currency'],
    ...amounts('rental_amount', 'commission', 'protection_fee', 'service_fee', 'tax', 'deposit',
      'processor_fee', 'total'),
  ],
  'rental.completed': ids('rental_id', 'driver_id', 'owner_id', 'market'),
  'rental.cancelled': ids('rental_id', 'driver_id', 'owner_id', 'market'),
  'payment.refunded': [
    ...ids('refund_id', 'payment_id', 'rental_id', 'processor_ref'), ['currency', 'currency'],
    ...amounts('rental_amount', 'commission', 'protection_fee', 'service_fee', 'tax', 'total'),
  ],
  'deposit.released': [
    ...ids('rental_id', 'driver_id', 'processor_ref'), ['currency', 'currency'], ['amount', 'amount'],
  ],
  'deposit.applied': [
    ...ids('rental_id', 'driver_id', 'owner_id', 'claim_id'), ['currency', 'currency'],
    ['amount', 'amount'],
  ],
  'dispute.opened': [
    ...ids('dispute_id', 'payment_id', 'rental_id', 'processor_ref'), ['currency', 'currency'],
    ...amounts('amount', 'dispute_fee'),
  ],
  'dispute.won': [
    ...ids('dispute_id', 'rental_id', 'processor_ref'), ['currency', 'currency'], ['amount', 'amount'],
  ],
  'payout.paid': [
    ...ids('payout_id', 'owner_id', 'processor', 'processor_ref'), ['currency', 'currency'],
    ['amount', 'amount'],
  ],
  'payout.failed': [
    ...ids('payout_id', 'owner_id'), ['currency', 'currency'], ['amount', 'amount'],
    ['failure_code', 'id'],
  ],
  'processor.payout': [
    ...ids('processor_payout_id', 'processor'), ['currency', 'currency'], ['amount', 'signed'],
    ['arrival_date', 'date'],
  ],
  'tax.remitted': [
    ...ids('remittance_id', 'market'), ['currency', 'currency'], ['amount', 'amount'],
    ['period', 'period'],
  ],
  'adjustment.posted': [
    ...ids('adjustment_id'), ['reason', 'text'], ...ids('requested_by', 'approved_by'),
    ['currency', 'currency'], ['lines', 'lines'],
  ],
};

export type DataResult = { ok: true; event: LedgerEvent } | { ok: false; rejection: Rejection };

export function validateData(envelope: Envelope): DataResult {
  const data = envelope.data;
  const spec = fieldSpecs[envelope.type];
  const presence = checkPresence(data, spec);
  if (presence !== null) return { ok: false, rejection: presence };
  if (envelope.type === 'adjustment.posted' && data.requested_by === data.approved_by) {
    return fail('invalid_field', `data.approved_by ${JSON.stringify(data.approved_by)} is the ` +
      'requester; a second person must approve');
  }
  const currency = data.currency as CurrencyCode;
  const parsed: Record<string, unknown> = { ...data };
  for (const [name, kind] of spec) {
    if (kind !== 'amount' && kind !== 'signed') continue;
    const result = parseAmount(data[name], currency, { allowNegative: kind === 'signed' });
    if (!result.ok) return fail('invalid_amount', `${name}: ${result.reason}`);
    parsed[name] = result.money;
  }
  if (envelope.type === 'adjustment.posted') {
    const lines = parseAdjustmentLines(data.lines as Record<string, unknown>[], currency);
    if (!Array.isArray(lines)) return { ok: false, rejection: lines };
    parsed.lines = lines;
  }
  const event = { type: envelope.type, data: parsed } as LedgerEvent;
  const arithmetic = checkArithmetic(event);
  if (arithmetic !== null) return { ok: false, rejection: arithmetic };
  return { ok: true, event };
}

function fail(reason: Rejection['reason'], message: string): DataResult {
  return { ok: false, rejection: reject(reason, message) };
}

function checkPresence(data: Readonly<Record<string, unknown>>, spec: [string, FieldKind][]) {
  for (const [name, kind] of spec) {
    const value = data[name];
    if (value === undefined) return reject('invalid_field', `data.${name} is missing`);
    const problem = fieldProblem(value, kind);
    if (problem !== null) return reject('invalid_field', `data.${name} ${problem}`);
  }
  return null;
}

function fieldProblem(value: unknown, kind: FieldKind): string | null {
  const shown = JSON.stringify(value);
  switch (kind) {
    case 'id':
      return typeof value === 'string' && value.length > 0 ? null : `${shown} is not a non-empty string`;
    case 'text':
      return typeof value === 'string' ? null : `${shown} is not a string`;
    case 'currency':
      return isCurrencyCode(value) ? null : `${shown} is not a configured currency (USD or CAD)`;
    case 'amount':
    case 'signed':
      return null; // Present is enough here; its syntax is the next stage (invalid_amount).
    case 'date':
      return typeof value === 'string' && isCalendarDate(value) ? null : `${shown} is not a YYYY-MM-DD date`;
    case 'period':
      return typeof value === 'string' && /^\d{4}-(0[1-9]|1[0-2])$/.test(value)
        ? null : `${shown} is not a YYYY-MM period`;
    case 'lines':
      return linesProblem(value);
  }
}

function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

function linesProblem(value: unknown): string | null {
  if (!Array.isArray(value)) return 'is not an array of lines';
  if (value.length < 2) return `has ${value.length} line(s); an adjustment needs at least two`;
  if (value.length > 200) return `has ${value.length} lines; at most 200 are accepted`;
  for (const [index, line] of value.entries()) {
    const problem = adjustmentLineProblem(line);
    if (problem !== null) return `[${index}] ${problem}`;
  }
  return null;
}

function adjustmentLineProblem(line: unknown): string | null {
  if (line === null || typeof line !== 'object' || Array.isArray(line)) return 'is not an object';
  const record = line as Record<string, unknown>;
  const account = typeof record.account === 'string' ? accountByCode(record.account) : undefined;
  if (account === undefined) return `account ${JSON.stringify(record.account)} is not in the chart`;
  if (!account.manual) return `account ${account.code} is not open to manual entries`;
  if (record.side !== 'debit' && record.side !== 'credit') {
    return `side ${JSON.stringify(record.side)} is not "debit" or "credit"`;
  }
  if (record.amount === undefined) return 'amount is missing';
  return dimsProblem(account.code, account.dimensions, record.dims);
}

function dimsProblem(code: string, expected: readonly Dimension[], dims: unknown): string | null {
  if (dims === undefined && expected.length === 0) return null;
  if (dims === null || typeof dims !== 'object' || Array.isArray(dims)) {
    return `dims must be an object with exactly ${expected.join(', ') || 'no keys'} for account ${code}`;
  }
  const record = dims as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  if (keys.join(',') !== [...expected].sort().join(',')) {
    return `dims {${keys.join(', ')}} are not exactly {${expected.join(', ')}} for account ${code}`;
  }
  for (const key of keys) {
    if (typeof record[key] !== 'string' || record[key] === '') return `dims.${key} is not a non-empty string`;
  }
  return null;
}

function parseAdjustmentLines(
  lines: Record<string, unknown>[], currency: CurrencyCode,
): AdjustmentLine[] | Rejection {
  const parsed: AdjustmentLine[] = [];
  for (const [index, line] of lines.entries()) {
    const amount = parseAmount(line.amount, currency, { allowNegative: false });
    if (!amount.ok) return reject('invalid_amount', `lines[${index}].amount: ${amount.reason}`);
    if (isZero(amount.money)) return reject('invalid_amount', `lines[${index}].amount is zero`);
    const dims = (line.dims ?? {}) as Record<string, string>;
    const picked: Dims = {};
    for (const name of dimensionNames) if (dims[name] !== undefined) picked[name] = dims[name];
    parsed.push({ account: line.account as string, side: line.side as Side, amount: amount.money, dims: picked });
  }
  return parsed;
}

export function checkArithmetic(event: LedgerEvent): Rejection | null {
  switch (event.type) {
    case 'payment.captured': return capturedArithmetic(event.data);
    case 'payment.refunded': return refundedArithmetic(event.data);
    case 'payout.paid':
      return isZero(event.data.amount) ? reject('invalid_amount', 'amount of a payout must be above zero') : null;
    case 'processor.payout':
      return isZero(event.data.amount) ? reject('invalid_amount', 'amount of a processor payout is zero') : null;
    case 'adjustment.posted': return adjustmentArithmetic(event.data);
    default: return null;
  }
}

function capturedArithmetic(d: CapturedData): Rejection | null {
  const parts = sum(d.currency, [d.rental_amount, d.protection_fee, d.service_fee, d.tax, d.deposit]);
  if (compare(parts, d.total) !== 0) {
    return reject('unbalanced', `total ${toDecimalString(d.total)} is not rental_amount + protection_fee ` +
      `+ service_fee + tax + deposit = ${toDecimalString(parts)}`);
  }
  if (compare(d.commission, d.rental_amount) > 0) {
    return reject('invalid_field', `commission ${toDecimalString(d.commission)} exceeds rental_amount ` +
      toDecimalString(d.rental_amount));
  }
  if (compare(d.processor_fee, d.total) > 0) {
    return reject('invalid_field', `processor_fee ${toDecimalString(d.processor_fee)} exceeds total ` +
      toDecimalString(d.total));
  }
  return null;
}

function refundedArithmetic(d: RefundedData): Rejection | null {
  const parts = sum(d.currency, [d.rental_amount, d.protection_fee, d.service_fee, d.tax]);
  if (compare(parts, d.total) !== 0) {
    return reject('unbalanced', `total ${toDecimalString(d.total)} is not rental_amount + protection_fee ` +
      `+ service_fee + tax = ${toDecimalString(parts)}`);
  }
  if (compare(d.commission, d.rental_amount) > 0) {
    return reject('invalid_field', `commission ${toDecimalString(d.commission)} exceeds rental_amount ` +
      toDecimalString(d.rental_amount));
  }
  return null;
}

function adjustmentArithmetic(d: AdjustmentData): Rejection | null {
  let debits = sum(d.currency, []);
  let credits = sum(d.currency, []);
  for (const line of d.lines) {
    if (line.side === 'debit') debits = add(debits, line.amount);
    else credits = add(credits, line.amount);
  }
  if (compare(debits, credits) !== 0) {
    return reject('unbalanced', `debits ${toDecimalString(debits)} differ from credits ` +
      toDecimalString(credits));
  }
  return null;
}
