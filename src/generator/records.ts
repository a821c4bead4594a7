// What the generator remembers about the things it made: rentals with their payments,
// disputes, payouts. Later stages read these (owner payouts, bad messages that must refer
// to a real payment, or exceed what it holds) instead of parsing the JSON back.
import type { Money } from '../ledger/money.ts';
import type { Driver, Market, Owner } from './catalog.ts';
import type { AmountWriter, DraftLog, EventDraft } from './drafts.ts';
import type { IdFactory } from './ids.ts';
import type { CaptureComponents, RefundComponents } from './payments.ts';
import type { Rng } from './prng.ts';
import type { MonthWindow } from './time.ts';

export type PaymentRecord = {
  readonly paymentId: string;
  readonly captured: CaptureComponents;
  /** Refunds so far, summed per component; after generation, all of them. */
  refunded: RefundComponents;
  readonly captureDraft: EventDraft;
  readonly refundDrafts: EventDraft[];
};

export type RentalRecord = {
  readonly rentalId: string;
  readonly owner: Owner;
  readonly driver: Driver;
  readonly market: Market;
  readonly payments: PaymentRecord[];
  /** The rental.completed or rental.cancelled event. */
  closeDraft: EventDraft | undefined;
  /** Deposit released plus applied so far. */
  depositSettled: Money;
  readonly depositDrafts: EventDraft[];
};

export type DisputeRecord = {
  readonly disputeId: string;
  readonly rental: RentalRecord;
  readonly payment: PaymentRecord;
  readonly openedDraft: EventDraft;
  wonDraft: EventDraft | undefined;
};

export type PayoutRecord = {
  readonly payoutId: string;
  readonly owner: Owner;
  readonly amount: Money;
  readonly paidDraft: EventDraft;
  failedDraft: EventDraft | undefined;
};

/** The tools every stage draws with; each stage gets its own PRNG stream. */
export type StageContext = {
  readonly rng: Rng;
  readonly ids: IdFactory;
  readonly log: DraftLog;
  readonly amounts: AmountWriter;
  readonly month: MonthWindow;
};

export type GeneratedWorld = {
  readonly month: MonthWindow;
  readonly owners: readonly Owner[];
  readonly drivers: readonly Driver[];
  readonly rentals: readonly RentalRecord[];
  readonly disputes: readonly DisputeRecord[];
  readonly payouts: readonly PayoutRecord[];
  /** Every good event, in creation order (not yet in log order). */
  readonly drafts: readonly EventDraft[];
  /** Every id handed out, so that bad messages can make ones that are surely fresh. */
  readonly ids: IdFactory;
};
