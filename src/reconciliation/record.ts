// The run record (RECONCILIATION.md, Output): date, inputs with their SHA-256, counts and
// amounts per outcome and category, every break with its lineage, the checks. This is what
// `ledger reconcile --json` prints, what the run's json file holds, and what the
// reconciliation report renders. Building it is pure; amounts leave as decimal strings.
import { currencies, minorToDecimalString, type CurrencyCode } from '../ledger/money.ts';
import type { AssignedItem } from './breaks.ts';
import type { Check } from './checks.ts';
import { dayText, type Tally } from './match.ts';
import { outcomes, positionText, type Category, type EntryLineage, type Outcome, type Source } from './types.ts';

/** A bad row: its file, line, the column of the fault where the reader knows it, and why. */
export type BadRowRecord = {
  readonly file: string; readonly line: number; readonly column: number | null; readonly reason: string;
};

export type InputRecord = {
  readonly role: Source;
  /** The file's name as given (its base name), and the path it was read from. */
  readonly file: string;
  readonly path: string;
  readonly format: 'csv' | 'camt053';
  /** null when the file was missing or could not be read; `problem` says why. */
  readonly sha256: string | null;
  readonly bytes: number | null;
  readonly problem: string | null;
  /** Where in the file reading stopped, when the problem has a place (not well-formed, not UTF-8). */
  readonly problem_at: { readonly line: number; readonly column: number } | null;
  readonly rows: number;
  readonly rows_outside_window: number;
  readonly rows_not_booked: number;
  readonly bad_rows_count: number;
  readonly bad_rows: readonly BadRowRecord[];
};

export type Resolution = { readonly resolved_by: string; readonly resolved_at: string; readonly reason: string };

export type BreakRecord = {
  readonly break_id: string;
  readonly outcome: Exclude<Outcome, 'matched'>;
  readonly source: Source;
  readonly category: Category;
  readonly currency: CurrencyCode;
  readonly reference: string;
  readonly opened_on: string;
  readonly age_days: number;
  readonly status: 'open' | 'resolved' | 'pending';
  readonly resolution: Resolution | null;
  readonly ledger_amount: string | null;
  readonly external_amount: string | null;
  /** external − ledger, where both sides are known. */
  readonly difference: string | null;
  readonly ledger_fee: string | null;
  readonly external_fee: string | null;
  readonly ledger: {
    readonly entry_id: string; readonly event_id: string; readonly event_type: string;
    readonly effective_at: string; readonly topic: string; readonly partition: number; readonly offset: number;
  } | null;
  readonly external: { readonly file: string; readonly line: number; readonly id: string; readonly date: string } | null;
};

export type OutcomeTotals = { readonly count: number; readonly amounts: Readonly<Record<string, string>> };
export type CategoryTotals = {
  readonly outcome: Outcome; readonly source: Source; readonly category: Category; readonly currency: CurrencyCode;
  readonly count: number; readonly amount: string;
};

export type RunRecord = {
  readonly run_id: string;
  readonly date: string;
  readonly requested_by: string;
  readonly started_at: string;
  readonly finished_at: string;
  readonly supersedes: string | null;
  readonly params: { readonly grace_days: number; readonly tolerance_days: number };
  readonly inputs: readonly InputRecord[];
  readonly watermark: Readonly<Record<string, number>>;
  /** Every outcome, even at zero: count, and signed amounts per currency. */
  readonly outcomes: Readonly<Record<Outcome, OutcomeTotals>>;
  readonly categories: readonly CategoryTotals[];
  /** Breaks (open and resolved), in the order the run found them; pending items are counted, not listed. */
  readonly breaks: readonly BreakRecord[];
  readonly breaks_open: number;
  readonly checks: readonly Check[];
  readonly ok: boolean;
};

export function money(minor: bigint | null, currency: CurrencyCode): string | null {
  return minor === null ? null : minorToDecimalString(minor, currencies[currency].exponent);
}

export function outcomeTotals(tallies: readonly Tally[]): {
  outcomes: Record<Outcome, OutcomeTotals>; categories: CategoryTotals[];
} {
  const sorted = [...tallies].sort((a, b) => compareText(
    `${outcomes.indexOf(a.outcome)}|${a.source}|${a.category}|${a.currency}`,
    `${outcomes.indexOf(b.outcome)}|${b.source}|${b.category}|${b.currency}`));
  const totals = {} as Record<Outcome, OutcomeTotals>;
  for (const outcome of outcomes) {
    const own = sorted.filter((t) => t.outcome === outcome);
    const amounts: Record<string, string> = {};
    for (const currency of Object.keys(currencies) as CurrencyCode[]) {
      const ofCurrency = own.filter((t) => t.currency === currency);
      if (ofCurrency.length === 0) continue;
      amounts[currency] = money(ofCurrency.reduce((sum, t) => sum + t.amountMinor, 0n), currency) as string;
    }
    totals[outcome] = { count: own.reduce((sum, t) => sum + t.count, 0), amounts };
  }
  const categories = sorted.map((t) => ({ outcome: t.outcome, source: t.source, category: t.category,
    currency: t.currency, count: t.count, amount: money(t.amountMinor, t.currency) as string }));
  return { outcomes: totals, categories };
}

export function breakRecord(
  item: AssignedItem, resolution: Resolution | null, lineages: ReadonlyMap<string, EntryLineage>,
): BreakRecord {
  const { ledger, external, currency } = item;
  const lineage = ledger === null ? undefined : lineages.get(positionText(ledger));
  const difference = ledger !== null && external !== null ? external.amountMinor - ledger.amountMinor : null;
  return {
    break_id: item.breakId, outcome: item.outcome, source: item.source, category: item.category, currency,
    reference: item.reference, opened_on: dayText(item.openedOnDay), age_days: item.ageDays,
    status: item.outcome === 'pending' ? 'pending' : resolution === null ? 'open' : 'resolved', resolution,
    ledger_amount: money(ledger?.amountMinor ?? null, currency),
    external_amount: money(external?.amountMinor ?? null, currency),
    difference: money(difference, currency),
    ledger_fee: money(ledger?.feeMinor ?? null, currency),
    external_fee: money(external === null || ledger?.feeMinor === null ? null : external.feeMinor, currency),
    ledger: ledger === null ? null : {
      entry_id: lineage?.entryId ?? '', event_id: lineage?.eventId ?? '', event_type: lineage?.eventType ?? '',
      effective_at: lineage?.effectiveAt ?? '', topic: ledger.topic, partition: ledger.partition, offset: ledger.offset,
    },
    external: external === null ? null : { file: external.file, line: external.line, id: external.id, date: external.date },
  };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
