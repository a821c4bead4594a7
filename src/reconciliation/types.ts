// The nouns of reconciliation (RECONCILIATION.md): the rows the outside world sends, the
// items the journal expects it to send, and the state each item ends a run in. Amounts
// are bigint minor units of the row's currency, as everywhere in the ledger.
import type { CurrencyCode } from '../ledger/money.ts';

export const processorCategories = [
  'charge', 'refund', 'dispute', 'dispute_reversal', 'transfer', 'transfer_reversal', 'payout',
] as const;
export type ProcessorCategory = (typeof processorCategories)[number];

/**
 * What a bank line settles: a processor payout or a tax remittance; `unidentified` for a
 * line whose reference names nothing the journal knows.
 */
export const bankCategories = ['payout', 'tax_remittance', 'unidentified'] as const;
export type BankCategory = (typeof bankCategories)[number];

export type Source = 'processor' | 'bank';
export type Category = ProcessorCategory | BankCategory;

/** The five outcomes of the contract, and `pending`, reported beside them. */
export const outcomes = [
  'matched', 'amount_mismatch', 'missing_in_ledger', 'missing_externally', 'duplicate_external', 'pending',
] as const;
export type Outcome = (typeof outcomes)[number];
export type BreakOutcome = Exclude<Outcome, 'matched' | 'pending'>;

export function isBreakOutcome(outcome: Outcome): outcome is BreakOutcome {
  return outcome !== 'matched' && outcome !== 'pending';
}

/** Where an external row came from: the file's name as given and its 1-based line. */
export type FilePosition = { readonly file: string; readonly line: number };

/** A row of the processor balance file, parsed. */
export type ProcessorRow = FilePosition & {
  readonly balanceTransactionId: string;
  readonly createdAtMs: number;
  readonly currency: CurrencyCode;
  /** Signed: money into the platform's processor balance is positive. */
  readonly grossMinor: bigint;
  readonly feeMinor: bigint;
  readonly category: ProcessorCategory;
  readonly sourceId: string;
};

/** A bank statement line, parsed (from CSV or camt.053). */
export type BankLine = FilePosition & {
  /** Days since 1970-01-01 (UTC calendar days). */
  readonly bookingDay: number;
  /** Signed: a credit to the account is positive. */
  readonly amountMinor: bigint;
  readonly currency: CurrencyCode;
  /** The processor's payout id or the tax remittance id; may be empty. */
  readonly reference: string;
  readonly description: string;
};

/**
 * A row that could not be read: reported with its place (and the column of the fault,
 * where the reader knows it) and a reason, then skipped.
 */
export type BadRow = FilePosition & { readonly reason: string; readonly column?: number };

/** The journal entry behind an item, and the log position it was projected from. */
export type EntryLineage = {
  readonly entryId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly effectiveAt: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
};

/**
 * What the journal expects the outside world to show for one entry: a processor row or a
 * bank line. Amounts are signed as the external file signs them (processor: into the
 * platform's balance; bank: credit to the account). Kept small, since a run holds one per
 * entry: the entry is named by its log position, and its full lineage (entry id, event
 * id, type) is read only for the items a run reports.
 */
export type LedgerItem = {
  readonly source: Source;
  readonly category: Category;
  readonly reference: string;
  readonly currency: CurrencyCode;
  readonly amountMinor: bigint;
  /** Compared only where the matching table names a fee (charge, dispute); else null. */
  readonly feeMinor: bigint | null;
  /** Effective time in microseconds since the epoch, as the journal keeps it. */
  readonly effectiveAtUs: number;
  /** Bank payouts: the arrival date as a day number; the booking date must be near it. */
  readonly arrivalDay: number | null;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
};

/** A position as text, `topic/partition@offset`: how a run names an entry in its keys. */
export function positionText(item: Pick<LedgerItem, 'topic' | 'partition' | 'offset'>): string {
  return `${item.topic}/${item.partition}@${item.offset}`;
}

/** The rules' settings: the contract's defaults are 2 days of grace and ±3 days of tolerance. */
export type MatchSettings = {
  /** The run's date D as a day number: it sees what happened before D+1 00:00Z. */
  readonly runDay: number;
  readonly graceDays: number;
  readonly toleranceDays: number;
};

export const dayMs = 86_400_000;
