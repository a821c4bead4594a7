// Shared tools for making bad messages. A bad message breaks exactly one rule, so that
// its reason does not depend on how an implementation orders checks that EVENTS.md
// leaves unordered; where it refers to good events (a payment, a payout) it names one
// that is posted and is placed after it, in the same partition (same ordering key).
import type { AdjustmentApprover } from '../ledger/approval.ts';
import { fromMinor, toDecimalString, type Money } from '../ledger/money.ts';
import type { EventDraft, EventType, JsonObject, JsonValue, Producer } from './drafts.ts';
import type { IdFactory } from './ids.ts';
import { priceCharge, refundable, type CaptureComponents } from './payments.ts';
import type { Rng } from './prng.ts';
import type { GeneratedWorld, PaymentRecord, RentalRecord } from './records.ts';
import { timestampText } from './time.ts';

// The contract's reasons, from the one list the ledger and the generator share.
export { rejectionReasons, type RejectionReason } from '../ledger/rejections.ts';
import type { RejectionReason } from '../ledger/rejections.ts';

export type BadMessage = {
  readonly reason: RejectionReason;
  /** What is wrong, for a person reading a failed test. */
  readonly detail: string;
  /** The good event it refers to; the bad line goes after that event's first delivery. */
  readonly after: EventDraft | undefined;
  /** The raw line, given the occurred_at its place in the stream suggests. */
  readonly line: (occurredAtMs: number) => string;
};

export type BadKit = {
  readonly world: GeneratedWorld;
  readonly rng: Rng;
  readonly ids: IdFactory;
  /** Signs an adjustment as the good stream's are, so that a bad one breaks only its own rule. */
  readonly approve: AdjustmentApprover;
};

export type EnvelopeParts = {
  readonly type: string;
  readonly producer: Producer;
  readonly data: JsonValue;
  /** Defaults to a fresh event_id; a conflicting duplicate passes the original's. */
  readonly eventId?: string;
};

/** A message whose line is a well-formed envelope around `parts`. */
export function envelopeMessage(
  kit: BadKit,
  reason: RejectionReason,
  detail: string,
  after: EventDraft | undefined,
  parts: EnvelopeParts,
): BadMessage {
  // Drawn now, not when the line is written, so the draw order does not depend on placement.
  const eventId = parts.eventId ?? kit.rng.uuid();
  return {
    reason,
    detail,
    after,
    line: (occurredAtMs) =>
      JSON.stringify({
        event_id: eventId,
        type: parts.type,
        schema_version: 1,
        occurred_at: timestampText(occurredAtMs),
        producer: parts.producer,
        data: parts.data,
      }),
  };
}

const producers: Record<EventType, Producer> = {
  'payment.captured': 'payments',
  'payment.refunded': 'payments',
  'deposit.released': 'payments',
  'deposit.applied': 'payments',
  'dispute.opened': 'payments',
  'dispute.won': 'payments',
  'rental.completed': 'rentals',
  'rental.cancelled': 'rentals',
  'payout.paid': 'payouts',
  'payout.failed': 'payouts',
  'processor.payout': 'treasury',
  'tax.remitted': 'tax',
  'adjustment.posted': 'backoffice',
};

/** A well-formed envelope of a known type, from the producer that sends that type. */
export function dataMessage(
  kit: BadKit,
  reason: RejectionReason,
  detail: string,
  after: EventDraft | undefined,
  type: EventType,
  data: JsonObject,
): BadMessage {
  return envelopeMessage(kit, reason, detail, after, { type, producer: producers[type], data });
}

/** A good event's data again under a fresh event_id (and its own type unless told). */
export function copyOf(
  kit: BadKit,
  reason: RejectionReason,
  detail: string,
  original: EventDraft,
  changes: JsonObject = {},
  type: EventType = original.type,
): BadMessage {
  return envelopeMessage(kit, reason, detail, original, {
    type,
    producer: original.producer,
    data: { ...original.data, ...changes },
  });
}

/** One of `items`, or undefined when a small stream has none (the case is then left out). */
export function pickSome<T>(kit: BadKit, items: readonly T[]): T | undefined {
  return items.length === 0 ? undefined : kit.rng.pick(items);
}

export function text(amount: Money): string {
  return toDecimalString(amount);
}

/** A valid capture for a brand-new rental of a real owner and driver, canonical amounts. */
export function freshCapture(kit: BadKit): { data: JsonObject; charge: CaptureComponents } {
  const model = kit.rng.pick(kit.world.rentals);
  const market = model.market;
  const rental = fromMinor(market.currency, kit.rng.minorBetween(5_000n, 40_000n));
  const charge = priceCharge(
    market,
    rental,
    { commission: model.owner.commissionRate, protection: '0.15', service: true },
    fromMinor(market.currency, 25_000n),
  );
  const data: JsonObject = {
    payment_id: kit.ids.next('payment'),
    rental_id: kit.ids.next('rental'),
    driver_id: model.driver.driverId,
    owner_id: model.owner.ownerId,
    market: market.code,
    processor: market.processor,
    processor_ref: kit.ids.next('chargeRef'),
    currency: market.currency,
    rental_amount: text(charge.rental),
    commission: text(charge.commission),
    protection_fee: text(charge.protection),
    service_fee: text(charge.service),
    tax: text(charge.tax),
    deposit: text(charge.deposit),
    processor_fee: text(charge.processorFee),
    total: text(charge.total),
  };
  return { data, charge };
}

/** Payments whose owner's part (R − C) keeps at least a cent after all their refunds. */
export function paymentsWithOwnerPartLeft(
  kit: BadKit,
): Array<{ rental: RentalRecord; payment: PaymentRecord }> {
  const found: Array<{ rental: RentalRecord; payment: PaymentRecord }> = [];
  for (const rental of kit.world.rentals) {
    for (const payment of rental.payments) {
      const remaining = refundable(payment.captured, payment.refunded);
      if (remaining.rental.minor - remaining.commission.minor >= 1n)
        found.push({ rental, payment });
    }
  }
  return found;
}

/**
 * A one-cent refund of the owner's part: within what is left at any point of the stream,
 * since refunds only grow. Bad messages change one field of it.
 */
export function centRefundData(
  kit: BadKit,
  rental: RentalRecord,
  payment: PaymentRecord,
): JsonObject {
  return {
    refund_id: kit.ids.next('refund'),
    payment_id: payment.paymentId,
    rental_id: rental.rentalId,
    processor_ref: kit.ids.next('refundRef'),
    currency: rental.market.currency,
    rental_amount: '0.01',
    commission: '0.00',
    protection_fee: '0.00',
    service_fee: '0.00',
    tax: '0.00',
    total: '0.01',
  };
}
