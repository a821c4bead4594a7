// One function per rental-keyed event type: each writes the event's data with every field
// EVENTS.md lists, records its effects, and updates the rental's record. They decide
// nothing (amounts and times come from the caller), so that the lifecycle in rentals.ts
// holds all the branching.
import { invariant } from '../errors.ts';
import { add, compare, isZero, negate, subtract, sum, type Money } from '../ledger/money.ts';
import { clearing, payable, taxEffect, type EventDraft, type JsonObject } from './drafts.ts';
import {
  addRefund,
  noRefund,
  ownerShare,
  refundable,
  type CaptureComponents,
  type RefundComponents,
} from './payments.ts';
import type { DisputeRecord, PaymentRecord, RentalRecord, StageContext } from './records.ts';

export function appendCapture(
  context: StageContext,
  rental: RentalRecord,
  captured: CaptureComponents,
  atMs: number,
  chargeKind?: string,
): PaymentRecord {
  invariant(rental.closeDraft === undefined, 'a capture meets an open rental');
  const write = (amount: Money): string => context.amounts.write(amount);
  const paymentId = context.ids.next('payment');
  const data: JsonObject = {
    payment_id: paymentId,
    rental_id: rental.rentalId,
    driver_id: rental.driver.driverId,
    owner_id: rental.owner.ownerId,
    market: rental.market.code,
    processor: rental.market.processor,
    processor_ref: context.ids.next('chargeRef'),
    currency: rental.market.currency,
    rental_amount: write(captured.rental),
    commission: write(captured.commission),
    protection_fee: write(captured.protection),
    service_fee: write(captured.service),
    tax: write(captured.tax),
    deposit: write(captured.deposit),
    processor_fee: write(captured.processorFee),
    total: write(captured.total),
  };
  // An extra field EVENTS.md allows ("unknown extra fields are allowed and kept").
  if (chargeKind !== undefined) data['charge_kind'] = chargeKind;
  const captureDraft = context.log.append({
    type: 'payment.captured',
    producer: 'payments',
    occurredAtMs: atMs,
    key: rental.rentalId,
    data,
    effects: [
      clearing(rental.market.processor, subtract(captured.total, captured.processorFee)),
      taxEffect(rental.market.code, captured.tax),
    ],
  });
  const payment: PaymentRecord = {
    paymentId,
    captured,
    refunded: noRefund(rental.market.currency),
    captureDraft,
    refundDrafts: [],
  };
  rental.payments.push(payment);
  return payment;
}

/**
 * A refund of part of a payment. One that meets a closed rental (in log order, which the
 * lifecycle keeps equal to creation order) comes out of the owner's payable.
 */
export function appendRefund(
  context: StageContext,
  rental: RentalRecord,
  payment: PaymentRecord,
  refund: RefundComponents,
  atMs: number,
): void {
  const remaining = refundable(payment.captured, payment.refunded);
  invariant(compare(refund.rental, remaining.rental) <= 0, 'refund rental ≤ remaining');
  invariant(compare(refund.commission, remaining.commission) <= 0, 'refund commission ≤ remaining');
  invariant(compare(refund.protection, remaining.protection) <= 0, 'refund protection ≤ remaining');
  invariant(compare(refund.service, remaining.service) <= 0, 'refund service ≤ remaining');
  invariant(compare(refund.tax, remaining.tax) <= 0, 'refund tax ≤ remaining');
  // The owner's part too, so that a refund never drives pending funds negative.
  invariant(compare(ownerShare(refund), ownerShare(remaining)) <= 0, 'refund R − C ≤ remaining');
  invariant(!isZero(refund.total), 'a refund moves money');
  const write = (amount: Money): string => context.amounts.write(amount);
  const closed = rental.closeDraft !== undefined;
  const effects = [
    clearing(rental.market.processor, negate(refund.total)),
    taxEffect(rental.market.code, negate(refund.tax)),
  ];
  if (closed) effects.push(payable(rental.owner.ownerId, negate(ownerShare(refund))));
  const draft = context.log.append({
    type: 'payment.refunded',
    producer: 'payments',
    occurredAtMs: atMs,
    key: rental.rentalId,
    data: {
      refund_id: context.ids.next('refund'),
      payment_id: payment.paymentId,
      rental_id: rental.rentalId,
      processor_ref: context.ids.next('refundRef'),
      currency: rental.market.currency,
      rental_amount: write(refund.rental),
      commission: write(refund.commission),
      protection_fee: write(refund.protection),
      service_fee: write(refund.service),
      tax: write(refund.tax),
      total: write(refund.total),
    },
    effects,
  });
  payment.refunded = addRefund(payment.refunded, refund);
  payment.refundDrafts.push(draft);
}

/** Closing makes what is still pending for the owner payable (ACCOUNTING.md). */
export function appendClose(
  context: StageContext,
  rental: RentalRecord,
  type: 'rental.completed' | 'rental.cancelled',
  atMs: number,
): void {
  invariant(rental.closeDraft === undefined, 'a rental closes once');
  invariant(rental.payments.length > 0, 'a rental closes after its capture');
  const currency = rental.market.currency;
  const pendingParts = rental.payments.map((payment) =>
    subtract(ownerShare(payment.captured), ownerShare(payment.refunded)),
  );
  const pending = sum(currency, pendingParts);
  rental.closeDraft = context.log.append({
    type,
    producer: 'rentals',
    occurredAtMs: atMs,
    key: rental.rentalId,
    data: {
      rental_id: rental.rentalId,
      driver_id: rental.driver.driverId,
      owner_id: rental.owner.ownerId,
      market: rental.market.code,
    },
    effects: isZero(pending) ? [] : [payable(rental.owner.ownerId, pending)],
  });
}

export function depositCaptured(rental: RentalRecord): Money {
  return sum(
    rental.market.currency,
    rental.payments.map((payment) => payment.captured.deposit),
  );
}

export function appendDepositReleased(
  context: StageContext,
  rental: RentalRecord,
  amount: Money,
  atMs: number,
): void {
  settleDeposit(rental, amount);
  const draft = context.log.append({
    type: 'deposit.released',
    producer: 'payments',
    occurredAtMs: atMs,
    key: rental.rentalId,
    data: {
      rental_id: rental.rentalId,
      driver_id: rental.driver.driverId,
      processor_ref: context.ids.next('refundRef'),
      currency: rental.market.currency,
      amount: context.amounts.write(amount),
    },
    effects: [clearing(rental.market.processor, negate(amount))],
  });
  rental.depositDrafts.push(draft);
}

export function appendDepositApplied(
  context: StageContext,
  rental: RentalRecord,
  amount: Money,
  atMs: number,
): void {
  settleDeposit(rental, amount);
  const draft = context.log.append({
    type: 'deposit.applied',
    producer: 'payments',
    occurredAtMs: atMs,
    key: rental.rentalId,
    data: {
      rental_id: rental.rentalId,
      driver_id: rental.driver.driverId,
      owner_id: rental.owner.ownerId,
      claim_id: context.ids.next('claim'),
      currency: rental.market.currency,
      amount: context.amounts.write(amount),
    },
    effects: [payable(rental.owner.ownerId, amount)],
  });
  rental.depositDrafts.push(draft);
}

function settleDeposit(rental: RentalRecord, amount: Money): void {
  invariant(amount.minor > 0n, 'a deposit movement moves money');
  rental.depositSettled = add(rental.depositSettled, amount);
  invariant(
    compare(rental.depositSettled, depositCaptured(rental)) <= 0,
    'released + applied ≤ captured',
  );
}

export function appendDisputeOpened(
  context: StageContext,
  rental: RentalRecord,
  payment: PaymentRecord,
  amounts: { amount: Money; fee: Money },
  atMs: number,
): DisputeRecord {
  invariant(compare(amounts.amount, payment.captured.total) <= 0, 'dispute amount ≤ payment total');
  const disputeId = context.ids.next('dispute');
  const openedDraft = context.log.append({
    type: 'dispute.opened',
    producer: 'payments',
    occurredAtMs: atMs,
    key: rental.rentalId,
    data: {
      dispute_id: disputeId,
      payment_id: payment.paymentId,
      rental_id: rental.rentalId,
      processor_ref: context.ids.next('disputeRef'),
      currency: rental.market.currency,
      amount: context.amounts.write(amounts.amount),
      dispute_fee: context.amounts.write(amounts.fee),
    },
    effects: [clearing(rental.market.processor, negate(add(amounts.amount, amounts.fee)))],
  });
  return { disputeId, rental, payment, openedDraft, wonDraft: undefined };
}

/** The reversal repeats the opened dispute's processor_ref and amount string exactly. */
export function appendDisputeWon(
  context: StageContext,
  dispute: DisputeRecord,
  amount: Money,
  atMs: number,
): EventDraft {
  const opened = dispute.openedDraft.data;
  const rental = dispute.rental;
  dispute.wonDraft = context.log.append({
    type: 'dispute.won',
    producer: 'payments',
    occurredAtMs: atMs,
    key: rental.rentalId,
    data: {
      dispute_id: dispute.disputeId,
      rental_id: rental.rentalId,
      processor_ref: opened['processor_ref'] ?? null,
      currency: rental.market.currency,
      amount: opened['amount'] ?? null,
    },
    effects: [clearing(rental.market.processor, amount)],
  });
  return dispute.wonDraft;
}
