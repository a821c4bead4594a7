// The matching rules of RECONCILIATION.md as a pure core: no I/O, no clock. The journal's
// items are indexed first (Maps keyed by what a row must agree on); then each external
// row, in file order, is judged at once against the index, so that a file of any length
// streams through in one pass and a million rows a side costs a million lookups, never a
// nested loop. Whatever the journal expected and no row claimed is judged at the end:
// pending inside the grace window, missing_externally after it.
import { invariant } from '../errors.ts';
import { LedgerItemStore } from './item-store.ts';
import { reconLimits as limits } from './limits.ts';
import type { CurrencyCode } from '../ledger/money.ts';
import {
  dayMs, positionText, type BankLine, type Category, type LedgerItem, type MatchSettings, type Outcome,
  type ProcessorRow, type Source,
} from './types.ts';

/** The external side of a reported item: where the row is and what it said. */
export type ExternalRef = {
  readonly file: string;
  readonly line: number;
  /** The processor's balance_transaction_id, or the bank line's reference. */
  readonly id: string;
  /** created_utc (processor) or booking_date (bank), as an ISO date or time. */
  readonly date: string;
  readonly amountMinor: bigint;
  readonly feeMinor: bigint | null;
};

/** An item that did not match: a break, or pending. */
export type ReportedItem = {
  readonly outcome: Exclude<Outcome, 'matched'>;
  readonly source: Source;
  readonly category: Category;
  readonly currency: CurrencyCode;
  readonly reference: string;
  /** Stable across runs for the same break (breaks.ts carries ids by it). */
  readonly breakKey: string;
  readonly ledger: LedgerItem | null;
  readonly external: ExternalRef | null;
};

/** Count and signed amount of one (outcome, source, category, currency). */
export type Tally = {
  readonly outcome: Outcome;
  readonly source: Source;
  readonly category: Category;
  readonly currency: CurrencyCode;
  count: number;
  amountMinor: bigint;
};

export type MatchResult = { readonly tallies: Tally[]; readonly items: ReportedItem[] };

// ---------------------------------------------------------------------------------------
// Pure leaves: each rule of the contract on its own.

export function processorKey(category: Category, reference: string, currency: CurrencyCode): string {
  return `${category}\u0000${reference}\u0000${currency}`;
}

export function bankKey(reference: string, currency: CurrencyCode): string {
  return `bank\u0000${reference}\u0000${currency}`;
}

/** "A run for date D sees … processor rows created before [D+1 00:00Z]." */
export function processorRowInWindow(row: ProcessorRow, settings: MatchSettings): boolean {
  return row.createdAtMs < (settings.runDay + 1) * dayMs;
}

/** "… and bank lines booked on or before D." */
export function bankLineInWindow(line: BankLine, settings: MatchSettings): boolean {
  return line.bookingDay <= settings.runDay;
}

/** "A run for date D sees journal entries with effective time before D+1 00:00Z." */
export function ledgerItemInWindow(item: LedgerItem, settings: MatchSettings): boolean {
  return item.effectiveAtUs < (settings.runDay + 1) * dayMs * 1000;
}

/** Only the columns the matching table names are compared: gross always, the fee where named. */
export function processorAmountsAgree(item: LedgerItem, row: ProcessorRow): boolean {
  if (item.amountMinor !== row.grossMinor) return false;
  return item.feeMinor === null || item.feeMinor === row.feeMinor;
}

/** A bank payout's booking date must be within ±tolerance days of its arrival date. */
export function bankDateWithinTolerance(item: LedgerItem, line: BankLine, settings: MatchSettings): boolean {
  if (item.arrivalDay === null) return true; // tax remittances: no date window
  return Math.abs(line.bookingDay - item.arrivalDay) <= settings.toleranceDays;
}

/**
 * An entry nobody claimed: pending while its effective time + grace is after D+1 00:00Z
 * (settlement takes time), missing_externally after that.
 */
export function unclaimedOutcome(item: LedgerItem, settings: MatchSettings): 'pending' | 'missing_externally' {
  const graceEndsUs = item.effectiveAtUs + settings.graceDays * dayMs * 1000;
  return graceEndsUs > (settings.runDay + 1) * dayMs * 1000 ? 'pending' : 'missing_externally';
}

export function dayText(day: number): string {
  return new Date(day * dayMs).toISOString().slice(0, 10);
}

function processorExternal(row: ProcessorRow): ExternalRef {
  return {
    file: row.file, line: row.line, id: row.balanceTransactionId,
    date: new Date(row.createdAtMs).toISOString(), amountMinor: row.grossMinor, feeMinor: row.feeMinor,
  };
}

/** What every report of a processor row says of it, whatever its outcome. */
function processorReported(row: ProcessorRow) {
  return { source: 'processor' as const, category: row.category, currency: row.currency,
    reference: row.sourceId, external: processorExternal(row) };
}

function bankExternal(line: BankLine): ExternalRef {
  return {
    file: line.file, line: line.line, id: line.reference, date: dayText(line.bookingDay),
    amountMinor: line.amountMinor, feeMinor: null,
  };
}

// ---------------------------------------------------------------------------------------
// The matcher: indexes, and the one-pass judgement of each row.

/** What became of one external row; `outside_window` rows are not the run's business. */
export type RowVerdict = Outcome | 'outside_window';

export class Matcher {
  readonly #settings: MatchSettings;
  readonly #items = new LedgerItemStore();
  /**
   * Item positions by (source, category, currency), then by reference: the inner keys are
   * the items' own reference strings, so a million items cost no extra key strings. One
   * item per key is the rule, a list the exception.
   */
  readonly #index = new Map<string, Map<string, number | number[]>>();
  /** Category of the bank items by reference, to name an unmatched line's category. */
  readonly #bankCategories = new Map<string, Category>();
  #claimed = new Uint8Array(1024);
  /** Processor row ids seen so far (copied, so that no id pins its file chunk), and repeats. */
  readonly #processorIdsSeen = new Set<string>();
  readonly #processorIdRepeats = new Map<string, number>();
  readonly #bankReferencesSeen = new Map<string, number>();
  /** Lines without a reference, by what they say: identical ones still get keys of their own. */
  readonly #unreferencedSeen = new Map<string, number>();
  readonly #tallies = new Map<string, Tally>();
  readonly #reported: ReportedItem[] = [];
  #finished = false;

  constructor(settings: MatchSettings) {
    invariant(settings.graceDays >= 0 && settings.toleranceDays >= 0, 'grace and tolerance are not negative');
    this.#settings = settings;
  }

  /** Adds what the journal expects; items outside the run's window are left out. */
  addLedgerItem(item: LedgerItem): void {
    invariant(!this.#finished, 'items are added before the run finishes');
    if (!ledgerItemInWindow(item, this.#settings)) return;
    const position = this.#items.add(item);
    if (position >= this.#claimed.length) {
      const grown = new Uint8Array(this.#claimed.length * 2);
      grown.set(this.#claimed);
      this.#claimed = grown;
    }
    const group = this.#group(item.source === 'bank' ? 'bank' : item.category, item.currency, true) as
      Map<string, number | number[]>;
    const existing = group.get(item.reference);
    if (existing === undefined) group.set(item.reference, position);
    else if (typeof existing === 'number') group.set(item.reference, [existing, position]);
    else existing.push(position);
    if (item.source === 'bank') this.#bankCategories.set(item.reference, item.category);
  }

  offerProcessorRow(row: ProcessorRow): RowVerdict {
    invariant(!this.#finished, 'rows are offered before the run finishes');
    if (!processorRowInWindow(row, this.#settings)) return 'outside_window';
    const occurrence = this.#processorOccurrence(row.balanceTransactionId);
    if (occurrence > 1) {
      return this.#report({ ...processorReported(row), outcome: 'duplicate_external', ledger: null,
        breakKey: `duplicate_external|processor|${row.balanceTransactionId}#${occurrence}` });
    }
    const candidates = this.#candidates(row.category, row.currency, row.sourceId);
    const position = candidates.find((p) => this.#claimed[p] === 0);
    if (position === undefined) {
      const outcome = candidates.length === 0 ? 'missing_in_ledger' : 'duplicate_external';
      return this.#report({ ...processorReported(row), outcome, ledger: null,
        breakKey: `${outcome}|processor|${row.balanceTransactionId}` });
    }
    this.#claimed[position] = 1;
    const item = this.#items.get(position);
    if (processorAmountsAgree(item, row)) return this.#tally('matched', item, row.grossMinor);
    return this.#report({ ...processorReported(row), outcome: 'amount_mismatch', ledger: item,
      breakKey: `amount_mismatch|processor|${positionText(item)}` });
  }

  offerBankLine(line: BankLine): RowVerdict {
    invariant(!this.#finished, 'lines are offered before the run finishes');
    if (!bankLineInWindow(line, this.#settings)) return 'outside_window';
    const external = bankExternal(line);
    const category = this.#bankCategories.get(line.reference) ?? 'unidentified';
    const base = { source: 'bank' as const, category, currency: line.currency, reference: line.reference, external };
    let lineKey = `${line.reference}|${line.currency}|${line.amountMinor}|${external.date}`;
    if (line.reference === '') {
      const occurrence = (this.#unreferencedSeen.get(lineKey) ?? 0) + 1;
      this.#unreferencedSeen.set(lineKey, occurrence);
      lineKey = `${lineKey}#${occurrence}`;
    } else {
      const occurrence = (this.#bankReferencesSeen.get(line.reference) ?? 0) + 1;
      this.#bankReferencesSeen.set(line.reference, occurrence);
      if (occurrence > 1) {
        return this.#report({ ...base, outcome: 'duplicate_external', ledger: null,
          breakKey: `duplicate_external|bank|${line.reference}#${occurrence}` });
      }
    }
    const candidates = line.reference === '' ? [] : this.#candidates('bank', line.currency, line.reference);
    const open = candidates.filter((p) => this.#claimed[p] === 0);
    if (candidates.length > 0 && open.length === 0) {
      return this.#report({ ...base, outcome: 'duplicate_external', ledger: null,
        breakKey: `duplicate_external|bank|${lineKey}` });
    }
    const position = open.find((p) => bankDateWithinTolerance(this.#items.get(p), line, this.#settings));
    if (position === undefined) {
      return this.#report({ ...base, outcome: 'missing_in_ledger', ledger: null,
        breakKey: `missing_in_ledger|bank|${lineKey}` });
    }
    this.#claimed[position] = 1;
    const item = this.#items.get(position);
    if (item.amountMinor === line.amountMinor) return this.#tally('matched', item, line.amountMinor);
    return this.#report({ ...base, category: item.category, outcome: 'amount_mismatch', ledger: item,
      breakKey: `amount_mismatch|bank|${positionText(item)}` });
  }

  /**
   * Judges what nobody claimed, and hands over the tallies and the reported items. Items
   * of a source whose file could not be read are not judged: nothing was there to claim them.
   */
  finish(unreadSources: ReadonlySet<Source> = new Set()): MatchResult {
    invariant(!this.#finished, 'a run finishes once');
    this.#finished = true;
    for (let position = 0; position < this.#items.count; position += 1) {
      if (this.#claimed[position] === 1) continue;
      const item = this.#items.get(position);
      if (unreadSources.has(item.source)) continue;
      const outcome = unclaimedOutcome(item, this.#settings);
      this.#report({ outcome, source: item.source, category: item.category, currency: item.currency,
        reference: item.reference, ledger: item, external: null,
        breakKey: `missing_externally|${item.source}|${positionText(item)}` });
    }
    const tallies = [...this.#tallies.values()];
    return { tallies, items: this.#reported };
  }

  #group(kind: string, currency: CurrencyCode, create: boolean): Map<string, number | number[]> | undefined {
    const key = `${kind}|${currency}`;
    let group = this.#index.get(key);
    if (group === undefined && create) {
      group = new Map();
      this.#index.set(key, group);
    }
    return group;
  }

  #candidates(kind: string, currency: CurrencyCode, reference: string): readonly number[] {
    const found = this.#group(kind, currency, false)?.get(reference);
    if (found === undefined) return [];
    return typeof found === 'number' ? [found] : found;
  }

  /** 1 for the first row with this id, 2 for its first repeat, … */
  #processorOccurrence(id: string): number {
    if (!this.#processorIdsSeen.has(id)) {
      // A copy: the id is a slice of the file's text, and would keep its whole chunk alive.
      this.#processorIdsSeen.add(Buffer.from(id, 'utf8').toString('utf8'));
      return 1;
    }
    const occurrence = (this.#processorIdRepeats.get(id) ?? 1) + 1;
    this.#processorIdRepeats.set(id, occurrence);
    return occurrence;
  }

  #tally(outcome: Outcome, at: { source: Source; category: Category; currency: CurrencyCode },
    amountMinor: bigint): Outcome {
    const key = `${outcome}|${at.source}|${at.category}|${at.currency}`;
    const tally = this.#tallies.get(key)
      ?? { outcome, source: at.source, category: at.category, currency: at.currency, count: 0, amountMinor: 0n };
    tally.count += 1;
    tally.amountMinor += amountMinor;
    this.#tallies.set(key, tally);
    return outcome;
  }

  #report(item: ReportedItem): Outcome {
    invariant(this.#reported.length < limits.reconItemsMax, 'reported items within the bound');
    this.#reported.push(item);
    return this.#tally(item.outcome, item, item.external?.amountMinor ?? item.ledger?.amountMinor ?? 0n);
  }
}
