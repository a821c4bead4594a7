// Proves that the chart of accounts in src/ledger/chart.ts is the table of ACCOUNTING.md:
// the same codes, kinds, normal sides, dimensions and manual-entry flags, nothing more.
// Adjustments (which accounts are open to manual entries) and the exact-dimensions check
// of every line depend on it. Method: the contract's table typed in by hand and compared.
import { describe, expect, it } from 'vitest';
import { accountByCode, chart } from '../../src/ledger/chart.ts';

// code, kind, normal, dimensions, manual — as ACCOUNTING.md's "Chart of accounts" writes them.
const contractTable: ReadonlyArray<readonly [string, string, string, string[], boolean]> = [
  ['1000', 'asset', 'debit', [], true],
  ['1100', 'asset', 'debit', ['processor'], true],
  ['2000', 'liability', 'credit', ['owner_id', 'rental_id'], false],
  ['2010', 'liability', 'credit', ['owner_id'], true],
  ['2100', 'liability', 'credit', ['driver_id', 'rental_id'], false],
  ['2200', 'liability', 'credit', ['market'], true],
  ['2300', 'liability', 'credit', ['rental_id', 'market'], false],
  ['2310', 'liability', 'credit', ['rental_id', 'market'], false],
  ['2320', 'liability', 'credit', ['rental_id', 'market'], false],
  ['4000', 'revenue', 'credit', ['market'], false],
  ['4010', 'revenue', 'credit', ['market'], false],
  ['4020', 'revenue', 'credit', ['market'], false],
  ['4100', 'contra-revenue', 'debit', ['market'], false],
  ['4110', 'contra-revenue', 'debit', ['market'], false],
  ['4120', 'contra-revenue', 'debit', ['market'], false],
  ['5000', 'expense', 'debit', ['processor'], true],
  ['5100', 'expense', 'debit', ['market'], false],
  ['5110', 'expense', 'debit', ['processor'], false],
  ['5900', 'expense', 'debit', [], true],
];

describe('chart of accounts', () => {
  it('is exactly the table of ACCOUNTING.md', () => {
    const actual = chart.map((a) => [a.code, a.kind, a.normal, [...a.dimensions].sort(), a.manual]);
    expect(actual).toEqual(contractTable.map(([code, kind, normal, dims, manual]) =>
      [code, kind, normal, [...dims].sort(), manual]));
  });

  it('finds accounts by code and nothing else', () => {
    expect(accountByCode('2010')?.name).toBe('Owner funds payable');
    expect(accountByCode('9999')).toBeUndefined();
    expect(accountByCode('')).toBeUndefined();
  });
});
