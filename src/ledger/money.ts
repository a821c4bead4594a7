// The one money type. An amount is an integer count of the currency's minor units
// (cents) carried as a bigint, so that binary floating point never touches money.
// Strings in (parseAmount), strings out (toDecimalString); nothing else reads `minor`
// to do arithmetic. Rates go through decimal.js with a rounding mode the caller names.
import { Decimal } from 'decimal.js';

export const currencies = {
  USD: { exponent: 2 },
  CAD: { exponent: 2 },
} as const;
export type CurrencyCode = keyof typeof currencies;

declare const moneyBrand: unique symbol;
export type Money = {
  readonly currency: CurrencyCode;
  readonly minor: bigint;
  readonly [moneyBrand]: true;
};

/** The largest amount the ledger accepts, in minor units: fits PostgreSQL bigint with room to sum. */
export const amountMinorMax = 10n ** 15n; // 10 trillion in a 2-exponent currency

export function isCurrencyCode(value: unknown): value is CurrencyCode {
  return value === 'USD' || value === 'CAD';
}

export function fromMinor(currency: CurrencyCode, minor: bigint): Money {
  return { currency, minor } as Money;
}

/**
 * One zero per currency, shared: amounts are never changed in place (Money is readonly),
 * and the projector met a fresh zero several times an event.
 */
const zeros: Record<CurrencyCode, Money> = { USD: fromMinor('USD', 0n), CAD: fromMinor('CAD', 0n) };

export function zero(currency: CurrencyCode): Money {
  return zeros[currency] ?? fromMinor(currency, 0n);
}

export type AmountParse =
  | { ok: true; money: Money }
  | { ok: false; reason: string };

const plainDecimal = /^[0-9]+(\.[0-9]+)?$/;
const signedDecimal = /^-?[0-9]+(\.[0-9]+)?$/;

/**
 * Parses an amount exactly as EVENTS.md allows: a JSON string holding a plain decimal,
 * no sign (unless `allowNegative`), no exponent, no separators, at most the currency's
 * minor digits. Returns a reason a person can act on when it refuses.
 */
export function parseAmount(
  value: unknown,
  currency: CurrencyCode,
  options: { allowNegative: boolean },
): AmountParse {
  if (typeof value !== 'string') {
    return { ok: false, reason: `must be a decimal string, got ${describeJson(value)}` };
  }
  const pattern = options.allowNegative ? signedDecimal : plainDecimal;
  if (!pattern.test(value)) {
    return { ok: false, reason: `${JSON.stringify(value)} is not a plain decimal` };
  }
  const negative = value.startsWith('-');
  const unsigned = negative ? value.slice(1) : value;
  const [whole = '', fraction = ''] = unsigned.split('.');
  const { exponent } = currencies[currency];
  if (fraction.length > exponent) {
    return {
      ok: false,
      reason: `${JSON.stringify(value)} has ${fraction.length} fractional digits; ` +
        `${currency} allows at most ${exponent}`,
    };
  }
  const minorAbs = BigInt(whole + fraction.padEnd(exponent, '0'));
  if (minorAbs > amountMinorMax) {
    return { ok: false, reason: `${JSON.stringify(value)} exceeds the largest supported amount` };
  }
  return { ok: true, money: fromMinor(currency, negative ? -minorAbs : minorAbs) };
}

function describeJson(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'number') return `the JSON number ${String(value)}`;
  return `a JSON ${Array.isArray(value) ? 'array' : typeof value}`;
}

function assertSameCurrency(a: Money, b: Money): void {
  if (a.currency !== b.currency) {
    throw new Error(`currency mismatch: ${a.currency} and ${b.currency} are never added together`);
  }
}

// Adding or taking away zero gives back the amount itself (it is immutable): no new value.
export function add(a: Money, b: Money): Money {
  assertSameCurrency(a, b);
  if (b.minor === 0n) return a;
  if (a.minor === 0n) return b;
  return fromMinor(a.currency, a.minor + b.minor);
}

export function subtract(a: Money, b: Money): Money {
  assertSameCurrency(a, b);
  if (b.minor === 0n) return a;
  return fromMinor(a.currency, a.minor - b.minor);
}

export function negate(a: Money): Money {
  return fromMinor(a.currency, -a.minor);
}

export function abs(a: Money): Money {
  return a.minor < 0n ? negate(a) : a;
}

export function sum(currency: CurrencyCode, amounts: readonly Money[]): Money {
  let total = 0n;
  for (const amount of amounts) {
    if (amount.currency !== currency) throw new Error(`currency mismatch in sum: ${amount.currency}`);
    total += amount.minor;
  }
  return fromMinor(currency, total);
}

/** -1, 0 or 1. */
export function compare(a: Money, b: Money): number {
  assertSameCurrency(a, b);
  return a.minor < b.minor ? -1 : a.minor > b.minor ? 1 : 0;
}

export function isZero(a: Money): boolean {
  return a.minor === 0n;
}

export function isPositive(a: Money): boolean {
  return a.minor > 0n;
}

export function isNegative(a: Money): boolean {
  return a.minor < 0n;
}

export function equals(a: Money, b: Money): boolean {
  return a.currency === b.currency && a.minor === b.minor;
}

export type Rounding = 'halfEven' | 'halfUp' | 'down';
const decimalRounding: Record<Rounding, Decimal.Rounding> = {
  halfEven: Decimal.ROUND_HALF_EVEN,
  halfUp: Decimal.ROUND_HALF_UP,
  down: Decimal.ROUND_DOWN,
};

/**
 * base × rate, rounded to minor units with the rounding the caller names (no default,
 * so that every rounding shows up in review). `rate` is a decimal string such as "0.0825".
 */
export function applyRate(base: Money, rate: string, rounding: Rounding): Money {
  const product = new Decimal(base.minor.toString()).times(new Decimal(rate));
  const minor = product.toDecimalPlaces(0, decimalRounding[rounding]);
  // Decimal#toFixed (not Number's): exact, and never in exponent notation, as BigInt needs.
  return fromMinor(base.currency, BigInt(minor.toFixed(0)));
}

/** Minor units as a decimal string with the currency's exponent: -5n USD → "-0.05". */
export function toDecimalString(m: Money): string {
  return minorToDecimalString(m.minor, currencies[m.currency].exponent);
}

export function minorToDecimalString(minor: bigint, exponent: number): string {
  const sign = minor < 0n ? '-' : '';
  const digits = (minor < 0n ? -minor : minor).toString().padStart(exponent + 1, '0');
  if (exponent === 0) return sign + digits;
  return `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}
