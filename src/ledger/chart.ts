// The chart of accounts of ACCOUNTING.md, version 1, as data. The database carries the
// same codes and dimension rules as CHECK constraints (migration 0001); a unit test
// holds the two in step.

export type Dimension = 'processor' | 'owner_id' | 'rental_id' | 'driver_id' | 'market';
export const dimensionNames: readonly Dimension[] = [
  'owner_id', 'rental_id', 'driver_id', 'market', 'processor',
];

export type AccountKind = 'asset' | 'liability' | 'revenue' | 'contra-revenue' | 'expense';
export type Side = 'debit' | 'credit';

export type Account = {
  readonly code: string;
  readonly name: string;
  readonly kind: AccountKind;
  readonly normal: Side;
  readonly dimensions: readonly Dimension[];
  readonly manual: boolean;
};

function account(
  code: string, name: string, kind: AccountKind, normal: Side,
  dimensions: readonly Dimension[], manual: boolean,
): Account {
  return { code, name, kind, normal, dimensions, manual };
}

export const chart: readonly Account[] = [
  account('1000', 'Bank — operating', 'asset', 'debit', [], true),
  account('1100', 'Processor clearing', 'asset', 'debit', ['processor'], true),
  account('2000', 'Owner funds pending', 'liability', 'credit', ['owner_id', 'rental_id'], false),
  account('2010', 'Owner funds payable', 'liability', 'credit', ['owner_id'], true),
  account('2100', 'Driver deposits held', 'liability', 'credit', ['driver_id', 'rental_id'], false),
  account('2200', 'Rental tax payable', 'liability', 'credit', ['market'], true),
  account('2300', 'Deferred revenue — commission', 'liability', 'credit', ['rental_id', 'market'], false),
  account('2310', 'Deferred revenue — service fees', 'liability', 'credit', ['rental_id', 'market'], false),
  account('2320', 'Deferred revenue — protection fees', 'liability', 'credit', ['rental_id', 'market'], false),
  account('4000', 'Commission revenue', 'revenue', 'credit', ['market'], false),
  account('4010', 'Service fee revenue', 'revenue', 'credit', ['market'], false),
  account('4020', 'Protection fee revenue', 'revenue', 'credit', ['market'], false),
  account('4100', 'Refunds — commission', 'contra-revenue', 'debit', ['market'], false),
  account('4110', 'Refunds — service fees', 'contra-revenue', 'debit', ['market'], false),
  account('4120', 'Refunds — protection fees', 'contra-revenue', 'debit', ['market'], false),
  account('5000', 'Payment processing fees', 'expense', 'debit', ['processor'], true),
  account('5100', 'Chargeback losses', 'expense', 'debit', ['market'], false),
  account('5110', 'Dispute fees', 'expense', 'debit', ['processor'], false),
  account('5900', 'Other adjustments', 'expense', 'debit', [], true),
];

const byCode = new Map(chart.map((a) => [a.code, a]));

export function accountByCode(code: string): Account | undefined {
  return byCode.get(code);
}

export type AccountCode = string;
