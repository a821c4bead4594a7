// Proves the money type: amounts parse exactly as EVENTS.md's "Amounts" rule allows and
// format back to the same value (round trips, leading zeros and short fractions
// normalised), negatives format with the sign in front ("-0.05"), every rounding of
// applyRate is the one named (halfEven, halfUp, down, including ties and negatives), and
// mixing currencies throws, because amounts in different currencies are never added.
// Method: table-driven checks on the pure functions, expected values written by hand.
import { describe, expect, it } from 'vitest';
import {
  abs, add, amountMinorMax, applyRate, compare, equals, fromMinor, minorToDecimalString, negate,
  parseAmount, subtract, sum, toDecimalString, zero, type CurrencyCode, type Money,
} from '../../src/ledger/money.ts';

function parsed(value: unknown, currency: CurrencyCode = 'USD', allowNegative = false): Money {
  const result = parseAmount(value, currency, { allowNegative });
  if (!result.ok) throw new Error(`refused ${JSON.stringify(value)}: ${result.reason}`);
  return result.money;
}

const usd = (minor: bigint) => fromMinor('USD', minor);
const cad = (minor: bigint) => fromMinor('CAD', minor);

describe('parseAmount and toDecimalString', () => {
  it.each([
    ['592.00', 59_200n, '592.00'], ['0', 0n, '0.00'], ['7.5', 750n, '7.50'], ['007.50', 750n, '7.50'],
    ['0.01', 1n, '0.01'], ['120', 12_000n, '120.00'], ['10000000000000.00', amountMinorMax, '10000000000000.00'],
  ])('reads %s as %s minor units and writes it back as %s', (text, minor, written) => {
    const money = parsed(text);
    expect(money.minor).toBe(minor);
    expect(toDecimalString(money)).toBe(written);
    expect(parsed(toDecimalString(money)).minor).toBe(minor); // the written form reads back the same
  });

  it('round trips every minor amount written by toDecimalString, signed ones through allowNegative', () => {
    for (const minor of [0n, 1n, 9n, 10n, 99n, 100n, 101n, 123_456_789n, -1n, -5n, -100n, -123_456n]) {
      expect(parsed(toDecimalString(usd(minor)), 'USD', true).minor).toBe(minor);
    }
  });

  it('writes -5n USD as "-0.05" and other negatives with the sign first', () => {
    expect(toDecimalString(usd(-5n))).toBe('-0.05');
    expect(toDecimalString(usd(-100n))).toBe('-1.00');
    expect(toDecimalString(cad(-123_456n))).toBe('-1234.56');
    expect(minorToDecimalString(-5n, 0)).toBe('-5');
    expect(minorToDecimalString(5n, 3)).toBe('0.005');
  });

  it.each([
    [592], [''], ['1e3'], ['-5.00'], ['+5'], ['1,250.00'], [' 5'], ['5.'], ['.5'], ['12.345'], [null],
    [undefined], [['1']], ['١٢'],
  ])('refuses %j', (value) => {
    expect(parseAmount(value, 'USD', { allowNegative: false }).ok).toBe(false);
  });

  it('names the value and the rule in its reason', () => {
    const result = parseAmount('12.345', 'CAD', { allowNegative: false });
    expect(!result.ok && result.reason).toBe('"12.345" has 3 fractional digits; CAD allows at most 2');
    const number = parseAmount(5, 'USD', { allowNegative: false });
    expect(!number.ok && number.reason).toBe('must be a decimal string, got the JSON number 5');
  });

  it('accepts a leading "-" only when allowed, and never "+"', () => {
    expect(parsed('-5.00', 'USD', true).minor).toBe(-500n);
    expect(parseAmount('-5.00', 'USD', { allowNegative: false }).ok).toBe(false);
    expect(parseAmount('+5.00', 'USD', { allowNegative: true }).ok).toBe(false);
  });

  it('refuses an amount above amountMinorMax', () => {
    expect(parseAmount('10000000000000.01', 'USD', { allowNegative: false }).ok).toBe(false);
  });
});

describe('arithmetic', () => {
  it('adds, subtracts, negates, compares and sums exactly', () => {
    expect(add(usd(10n), usd(20n)).minor).toBe(30n); // 0.10 + 0.20 = 0.30 exactly
    expect(subtract(usd(59_200n), usd(1_763n)).minor).toBe(57_437n);
    expect(negate(usd(5n)).minor).toBe(-5n);
    expect(abs(usd(-5n)).minor).toBe(5n);
    expect(compare(usd(1n), usd(2n))).toBe(-1);
    expect(compare(usd(2n), usd(2n))).toBe(0);
    expect(sum('USD', [usd(30_000n), usd(4_500n), usd(2_000n), usd(2_700n), usd(20_000n)]).minor).toBe(59_200n);
    expect(sum('CAD', []).minor).toBe(0n);
    expect(equals(zero('USD'), zero('CAD'))).toBe(false);
  });

  it('throws on a currency mismatch', () => {
    expect(() => add(usd(1n), cad(1n))).toThrow(/currency mismatch/);
    expect(() => subtract(usd(1n), cad(1n))).toThrow(/currency mismatch/);
    expect(() => compare(usd(1n), cad(1n))).toThrow(/currency mismatch/);
    expect(() => sum('USD', [usd(1n), cad(1n)])).toThrow(/currency mismatch/);
  });
});

describe('applyRate: the rounding is always named', () => {
  it.each([
    // base minor, rate, halfEven, halfUp, down
    [1_000n, '0.0825', 82n, 83n, 82n], // 82.5: a tie
    [1_000n, '0.0835', 84n, 84n, 83n], // 83.5: a tie to even 84
    [30_000n, '0.25', 7_500n, 7_500n, 7_500n], // exact
    [12_345n, '0.0775', 957n, 957n, 956n], // 956.7375: no tie
    [-1_000n, '0.0825', -82n, -83n, -82n], // ties away from zero for halfUp, towards zero for down
    [1n, '0.5', 0n, 1n, 0n],
    [3n, '0.5', 2n, 2n, 1n],
  ])('%s × %s → halfEven %s, halfUp %s, down %s', (minor, rate, halfEven, halfUp, down) => {
    expect(applyRate(usd(minor), rate, 'halfEven').minor).toBe(halfEven);
    expect(applyRate(usd(minor), rate, 'halfUp').minor).toBe(halfUp);
    expect(applyRate(usd(minor), rate, 'down').minor).toBe(down);
  });

  it('keeps the currency of its base', () => {
    expect(applyRate(cad(1_000n), '0.13', 'halfEven').currency).toBe('CAD');
  });
});
