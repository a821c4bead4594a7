// The projection state the posting rules read: what each rental, payment, dispute and
// payout has done so far. It lives in PostgreSQL (ledger.projection_state) and changes in
// the same transaction as the entry; here it is plain data, keyed `kind:id`.
import { fromMinor, isCurrencyCode, type CurrencyCode, type Money } from './money.ts';

/** The parts of a payment that refunds give back, component by component. */
export type RefundableParts = {
  rental_amount: Money; commission: Money; protection_fee: Money; service_fee: Money; tax: Money;
};

/** What is still deferred or pending for a rental, in one currency (ACCOUNTING.md dc, ds, dp, op). */
export type OpenAmounts = {
  commission: Money; service_fee: Money; protection_fee: Money; owner_pending: Money;
};

export type DepositAmounts = { captured: Money; used: Money };

export type RentalState = {
  kind: 'rental';
  status: 'open' | 'closed';
  owner_id: string;
  driver_id: string;
  market: string;
  /** The processor of the rental's first capture: a deposit release goes back through it. */
  processor: string;
  /** The currency of the rental's first capture: its closing is counted under it. */
  currency: CurrencyCode;
  open: Partial<Record<CurrencyCode, OpenAmounts>>;
  deposits: Partial<Record<CurrencyCode, DepositAmounts>>;
};

export type PaymentState = {
  kind: 'payment';
  rental_id: string;
  currency: CurrencyCode;
  owner_id: string;
  driver_id: string;
  market: string;
  processor: string;
  total: Money;
  captured: RefundableParts;
  refunded: RefundableParts;
};

export type DisputeState = {
  kind: 'dispute';
  payment_id: string;
  rental_id: string;
  currency: CurrencyCode;
  amount: Money;
  market: string;
  processor: string;
  decided: boolean;
};

export type PayoutState = {
  kind: 'payout';
  owner_id: string;
  currency: CurrencyCode;
  amount: Money;
  processor: string;
  failed: boolean;
};

/** An id that has been used; the rules only need to know it exists. */
export type UsedIdState = {
  kind: 'refund' | 'processor_payout' | 'remittance' | 'adjustment';
};

export type RefState = RentalState | PaymentState | DisputeState | PayoutState | UsedIdState;
export type RefKind = RefState['kind'];

export function refKey(kind: RefKind, id: string): string {
  // A decision asks for the same two or three keys several times (the lookups, the rules,
  // the changes): the last few made are given again, the same string, not a new one each time.
  for (let index = 0; index < recentKeysMax; index += 1) {
    if (recentIds[index] === id && recentKinds[index] === kind) return recentKeys[index] as string;
  }
  const key = `${kind}:${id}`;
  recentKinds[recentNext] = kind;
  recentIds[recentNext] = id;
  recentKeys[recentNext] = key;
  recentNext = (recentNext + 1) % recentKeysMax;
  return key;
}

const recentKeysMax = 8;
const recentKinds: string[] = new Array<string>(recentKeysMax).fill('');
const recentIds: string[] = new Array<string>(recentKeysMax).fill('');
const recentKeys: string[] = new Array<string>(recentKeysMax).fill('');
let recentNext = 0;

/** Read access to the state as of just before the event being decided. */
export type StateView = (key: string) => RefState | undefined;

/**
 * JSON for the database. Money becomes {currency, minor} with minor as a decimal string,
 * since JSON has no integers beyond 2^53 and JSON.stringify refuses bigint. The projector
 * encodes a state for nearly every event: a copy with the bigints already strings, given
 * to JSON.stringify, is cheaper than a replacer (a call per member) and than building the
 * text by concatenation (which allocated several times the text's size in intermediates).
 */
export function encodeState(state: RefState): string {
  return JSON.stringify(jsonReady(state));
}

/** The value with every bigint as its decimal string, for JSON.stringify (which refuses bigint). */
function jsonReady(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(jsonReady);
  const copy: Record<string, unknown> = {};
  for (const key in value) copy[key] = jsonReady((value as Record<string, unknown>)[key]);
  return copy;
}

export function decodeState(json: string): RefState {
  return reviveMoney(JSON.parse(json)) as RefState;
}

/** Turns every {currency, minor: "<digits>"} back into Money, in place. */
function reviveMoney(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index += 1) value[index] = reviveMoney(value[index]);
    return value;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 2 && isCurrencyCode(record.currency) && typeof record.minor === 'string') {
    return fromMinor(record.currency, BigInt(record.minor));
  }
  for (const key of keys) record[key] = reviveMoney(record[key]);
  return record;
}
