// REPORTS.md trial-balance: per account and currency, debits, credits and balance
// (debits − credits) of all lines with effective time before as_of (exclusive); per
// currency the totals, whose balance is always zero. The figures are computed from the
// sums alone (pure); the query that feeds it is in report-run.ts.
import { invariant } from '../errors.ts';
import { fromMinor, toDecimalString, type CurrencyCode } from '../ledger/money.ts';
import { figure, type Figure } from './figures.ts';

export type AccountSums = { account: string; currency: CurrencyCode; debitsMinor: bigint; creditsMinor: bigint };

export function trialBalanceFigures(runId: string, sums: readonly AccountSums[]): Figure[] {
  const sorted = [...sums].sort((a, b) =>
    a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : a.account < b.account ? -1 : 1);
  const figures: Figure[] = [];
  const totals = new Map<CurrencyCode, { debits: bigint; credits: bigint }>();
  const show = (currency: CurrencyCode, minor: bigint) => toDecimalString(fromMinor(currency, minor));
  for (const s of sorted) {
    const dims = { currency: s.currency, account: s.account };
    figures.push(figure(runId, 'debits', dims, show(s.currency, s.debitsMinor)));
    figures.push(figure(runId, 'credits', dims, show(s.currency, s.creditsMinor)));
    figures.push(figure(runId, 'balance', dims, show(s.currency, s.debitsMinor - s.creditsMinor)));
    const total = totals.get(s.currency) ?? { debits: 0n, credits: 0n };
    totals.set(s.currency, { debits: total.debits + s.debitsMinor, credits: total.credits + s.creditsMinor });
  }
  for (const [currency, total] of totals) {
    invariant(total.debits === total.credits, `the trial balance of ${currency} is zero`);
    const dims = { currency };
    figures.push(figure(runId, 'total_debits', dims, show(currency, total.debits)));
    figures.push(figure(runId, 'total_credits', dims, show(currency, total.credits)));
    figures.push(figure(runId, 'total_balance', dims, show(currency, total.debits - total.credits)));
  }
  return figures;
}

/** A date-only as_of means 00:00Z that day (REPORTS.md); otherwise an RFC 3339 time. */
export function parseAsOf(value: string): Date | null {
  const text = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return null;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}
