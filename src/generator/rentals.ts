// The life of one rental, from booking to the last refund or dispute. Times are chosen so
// that every causal successor is strictly later than what it depends on (a refund after
// its capture, the completion after every charge, a post-close refund after the
// completion), which lets the stream be sorted by occurred_at without breaking any chain.
import { applyRate, fromMinor, isZero, subtract, zero, type Money } from '../ledger/money.ts';
import { roundings, type Driver, type Owner } from './catalog.ts';
import { priceCharge, refundable, refundShare } from './payments.ts';
import type { DisputeRecord, PaymentRecord, RentalRecord, StageContext } from './records.ts';
import {
  appendCapture,
  appendClose,
  appendDepositApplied,
  appendDepositReleased,
  appendDisputeOpened,
  appendDisputeWon,
  appendRefund,
  depositCaptured,
} from './rental-events.ts';
import { dayMs, hourMs, minuteMs, secondMs } from './time.ts';

type RentalPlan = {
  readonly bookedAtMs: number;
  readonly startAtMs: number;
  readonly days: number;
  readonly cancelled: boolean;
  readonly dailyPriceMinor: bigint;
  readonly protectionRate: string;
  readonly depositMinor: bigint;
};

const durationDays: ReadonlyArray<readonly [number, number]> = [
  [1, 10],
  [2, 18],
  [3, 20],
  [4, 17],
  [5, 12],
  [6, 10],
  [7, 13],
];
const protectionRates: ReadonlyArray<readonly [string, number]> = [
  ['0', 15],
  ['0.15', 40],
  ['0.25', 30],
  ['0.40', 15],
];
const depositsMinor: ReadonlyArray<readonly [bigint, number]> = [
  [0n, 20],
  [15_000n, 30],
  [25_000n, 35],
  [50_000n, 15],
];

/** Per mille of rentals (or payments) that take each path. */
const odds = {
  cancelled: 70,
  extended: 120,
  tripShortened: 80,
  incidentalRefundedOpen: 90,
  bookingRefundedClosed: 60,
  incidentalRefundedClosed: 40,
  disputed: 12,
  disputeWon: 450,
} as const;

function planRental(context: StageContext): RentalPlan {
  const { rng, month } = context;
  const bookedAtMs = month.startMs + rng.below(month.endMs - month.startMs);
  // Most trips start within a day or two of booking; cancellations happen before the start.
  const startAtMs = bookedAtMs + rng.between(30 * minuteMs, 72 * hourMs);
  const wholeDollars = BigInt(rng.between(35, 220)) * 100n;
  return {
    bookedAtMs,
    startAtMs,
    days: rng.weighted(durationDays),
    cancelled: rng.chancePermille(odds.cancelled),
    dailyPriceMinor: rng.chancePermille(400) ? wholeDollars - 1n : wholeDollars,
    protectionRate: rng.weighted(protectionRates),
    depositMinor: rng.weighted(depositsMinor),
  };
}

export function simulateRental(
  context: StageContext,
  owner: Owner,
  driver: Driver,
): { rental: RentalRecord; disputes: DisputeRecord[] } {
  const plan = planRental(context);
  const market = owner.market;
  const rental: RentalRecord = {
    rentalId: context.ids.next('rental'),
    owner,
    driver,
    market,
    payments: [],
    closeDraft: undefined,
    depositSettled: zero(market.currency),
    depositDrafts: [],
  };
  const bookingCharge = priceCharge(
    market,
    fromMinor(market.currency, plan.dailyPriceMinor * BigInt(plan.days)),
    { commission: owner.commissionRate, protection: plan.protectionRate, service: true },
    fromMinor(market.currency, plan.depositMinor),
  );
  const booking = appendCapture(context, rental, bookingCharge, plan.bookedAtMs);
  const closeAtMs = plan.cancelled
    ? runCancellation(context, rental, booking, plan)
    : runTrip(context, rental, booking, plan);
  runDeposit(context, rental, closeAtMs, plan.cancelled);
  runRefundsAfterClose(context, rental, closeAtMs);
  return { rental, disputes: runDispute(context, rental, booking) };
}

/** Cancelled before the trip started; the driver mostly gets money back, less a fee. */
function runCancellation(
  context: StageContext,
  rental: RentalRecord,
  booking: PaymentRecord,
  plan: RentalPlan,
): number {
  const { rng } = context;
  const cancelAtMs =
    plan.bookedAtMs + rng.between(5 * minuteMs, plan.startAtMs - plan.bookedAtMs - minuteMs);
  const share = rng.weighted<string | null>([
    ['1', 50],
    ['0.75', 25],
    ['0.50', 15],
    [null, 10],
  ]);
  const refund =
    share === null ? null : refundShare(refundable(booking.captured, booking.refunded), share);
  const refundBeforeClose = rng.chancePermille(700);
  if (refund !== null && refundBeforeClose && !isZero(refund.total)) {
    appendRefund(context, rental, booking, refund, cancelAtMs);
    const closeAtMs = cancelAtMs + rng.between(secondMs, 30 * secondMs);
    appendClose(context, rental, 'rental.cancelled', closeAtMs);
    return closeAtMs;
  }
  appendClose(context, rental, 'rental.cancelled', cancelAtMs);
  if (refund !== null && !isZero(refund.total)) {
    appendRefund(context, rental, booking, refund, cancelAtMs + rng.between(minuteMs, 2 * hourMs));
  }
  return cancelAtMs;
}

/** The trip happens: an extension, incidental charges, maybe refunds, then completion. */
function runTrip(
  context: StageContext,
  rental: RentalRecord,
  booking: PaymentRecord,
  plan: RentalPlan,
): number {
  const { rng } = context;
  let endAtMs = plan.startAtMs + plan.days * dayMs;
  if (rng.chancePermille(odds.extended)) {
    const extraDays = rng.between(1, 3);
    const atMs = rng.between(plan.startAtMs + hourMs, endAtMs - 2 * hourMs);
    const charge = priceCharge(
      rental.market,
      fromMinor(rental.market.currency, plan.dailyPriceMinor * BigInt(extraDays)),
      { commission: rental.owner.commissionRate, protection: plan.protectionRate, service: true },
      zero(rental.market.currency),
    );
    appendCapture(context, rental, charge, atMs, 'extension');
    endAtMs += extraDays * dayMs;
  }
  const incidentals = captureIncidentals(context, rental, plan.startAtMs, endAtMs);
  const lastChargeAtMs = Math.max(
    endAtMs,
    ...incidentals.map((payment) => payment.captureDraft.occurredAtMs),
  );
  const closeAtMs = lastChargeAtMs + rng.between(10 * minuteMs, 4 * hourMs);
  if (rng.chancePermille(odds.tripShortened)) {
    const refund = refundShare(
      refundable(booking.captured, booking.refunded),
      rng.pick(['0.25', '0.50']),
    );
    const atMs = rng.between(plan.startAtMs, closeAtMs - minuteMs);
    if (!isZero(refund.total)) appendRefund(context, rental, booking, refund, atMs);
  }
  for (const payment of incidentals) {
    const capturedAtMs = payment.captureDraft.occurredAtMs;
    const refunded = rng.chancePermille(odds.incidentalRefundedOpen);
    if (!refunded || closeAtMs - capturedAtMs < 3 * minuteMs) continue;
    const atMs = rng.between(capturedAtMs + minuteMs, closeAtMs - minuteMs);
    appendRefund(context, rental, payment, refundable(payment.captured, payment.refunded), atMs);
  }
  appendClose(context, rental, 'rental.completed', closeAtMs);
  return closeAtMs;
}

type IncidentalKind = {
  readonly kind: string;
  readonly minMinor: bigint;
  readonly maxMinor: bigint;
  /** Reimbursements pass through to the owner untouched: no commission. */
  readonly commissioned: boolean;
};

const incidentalKinds: ReadonlyArray<readonly [IncidentalKind, number]> = [
  [{ kind: 'toll', minMinor: 250n, maxMinor: 1_800n, commissioned: false }, 55],
  [{ kind: 'fuel', minMinor: 1_500n, maxMinor: 7_500n, commissioned: false }, 15],
  [{ kind: 'ev_charging', minMinor: 600n, maxMinor: 4_000n, commissioned: false }, 15],
  [{ kind: 'cleaning', minMinor: 2_500n, maxMinor: 15_000n, commissioned: true }, 8],
  [{ kind: 'late_return', minMinor: 1_500n, maxMinor: 9_000n, commissioned: true }, 7],
];
/** Incidental charges per rental day: tolls and charging are billed as they happen. */
const incidentalsPerDay: ReadonlyArray<readonly [number, number]> = [
  [0, 30],
  [1, 40],
  [2, 30],
];

function captureIncidentals(
  context: StageContext,
  rental: RentalRecord,
  startAtMs: number,
  endAtMs: number,
): PaymentRecord[] {
  const { rng } = context;
  const currency = rental.market.currency;
  const payments: PaymentRecord[] = [];
  const dayCount = Math.ceil((endAtMs - startAtMs) / dayMs);
  for (let day = 0; day < dayCount; day += 1) {
    const count = rng.weighted(incidentalsPerDay);
    for (let charge = 0; charge < count; charge += 1) {
      const kind = rng.weighted(incidentalKinds);
      const amount = fromMinor(currency, rng.minorBetween(kind.minMinor, kind.maxMinor));
      const components = priceCharge(
        rental.market,
        amount,
        {
          commission: kind.commissioned ? rental.owner.commissionRate : null,
          protection: '0',
          service: false,
        },
        zero(currency),
      );
      const atMs = Math.min(startAtMs + day * dayMs + rng.below(dayMs), endAtMs - minuteMs);
      payments.push(appendCapture(context, rental, components, atMs, kind.kind));
    }
  }
  return payments;
}

/** The deposit hold goes back, in one or two parts, or partly pays for damage. */
function runDeposit(
  context: StageContext,
  rental: RentalRecord,
  closeAtMs: number,
  cancelled: boolean,
): void {
  const { rng } = context;
  const deposit = depositCaptured(rental);
  if (isZero(deposit)) return;
  if (cancelled) {
    appendDepositReleased(context, rental, deposit, closeAtMs + rng.between(10 * minuteMs, dayMs));
    return;
  }
  const path = rng.weighted([
    ['whole', 62],
    ['split', 30],
    ['damage', 8],
  ] as const);
  if (path === 'whole') {
    appendDepositReleased(context, rental, deposit, closeAtMs + rng.between(dayMs, 3 * dayMs));
  } else if (path === 'split') {
    const first = applyRate(deposit, '0.5', roundings.depositShare);
    appendDepositReleased(context, rental, first, closeAtMs + rng.between(hourMs, 12 * hourMs));
    appendDepositReleased(
      context,
      rental,
      subtract(deposit, first),
      closeAtMs + rng.between(3 * dayMs, 6 * dayMs),
    );
  } else {
    const kept = fromMinor(deposit.currency, rng.minorBetween(2_500n, deposit.minor));
    const appliedAtMs = closeAtMs + rng.between(2 * dayMs, 5 * dayMs);
    appendDepositApplied(context, rental, kept, appliedAtMs);
    const rest = subtract(deposit, kept);
    if (!isZero(rest))
      appendDepositReleased(context, rental, rest, appliedAtMs + rng.between(hourMs, 2 * dayMs));
  }
}

/** Goodwill refunds and disputed tolls, days after the rental closed. */
function runRefundsAfterClose(
  context: StageContext,
  rental: RentalRecord,
  closeAtMs: number,
): void {
  const { rng } = context;
  rental.payments.forEach((payment, index) => {
    const booking = index === 0;
    if (!rng.chancePermille(booking ? odds.bookingRefundedClosed : odds.incidentalRefundedClosed))
      return;
    const share = booking ? rng.pick(['0.10', '0.15', '0.20']) : '1';
    const refund = refundShare(refundable(payment.captured, payment.refunded), share);
    if (isZero(refund.total)) return;
    appendRefund(context, rental, payment, refund, closeAtMs + rng.between(dayMs, 10 * dayMs));
  });
}

const disputeFeeMinor = 1_500n;
/** Below this, a chargeback is not worth the driver's bank's trouble. */
const disputeAmountMinMinor = 1_000n;

function runDispute(
  context: StageContext,
  rental: RentalRecord,
  booking: PaymentRecord,
): DisputeRecord[] {
  const { rng } = context;
  if (!rng.chancePermille(odds.disputed)) return [];
  const undisputed: Money = subtract(booking.captured.total, booking.refunded.total);
  if (undisputed.minor < disputeAmountMinMinor) return [];
  const whole = rng.chancePermille(750);
  const amount = whole ? undisputed : applyRate(undisputed, '0.5', roundings.disputeShare);
  const fee = fromMinor(amount.currency, disputeFeeMinor);
  const openedAtMs = booking.captureDraft.occurredAtMs + rng.between(12 * dayMs, 30 * dayMs);
  const dispute = appendDisputeOpened(context, rental, booking, { amount, fee }, openedAtMs);
  if (rng.chancePermille(odds.disputeWon)) {
    appendDisputeWon(context, dispute, amount, openedAtMs + rng.between(10 * dayMs, 25 * dayMs));
  }
  return [dispute];
}
