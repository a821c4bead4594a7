// Bad messages that are well-formed but clash with the state the good events built: an
// event_id reused for another event, a reference to nothing, an id used twice, more
// refunded or released than remains, a charge on a closed rental. Each is placed after
// the good event it clashes with, and sized against the *final* state of what it refers
// to (refunds and releases only grow), so it is rejected wherever it lands after that.
import { invariant } from '../errors.ts';
import { add, fromMinor, parseAmount, subtract, type Money } from '../ledger/money.ts';
import {
  centRefundData,
  copyOf,
  dataMessage,
  envelopeMessage,
  paymentsWithOwnerPartLeft,
  pickSome,
  text,
  type BadKit,
  type BadMessage,
} from './bad-kit.ts';
import type { EventDraft, EventType, JsonObject } from './drafts.ts';
import { priceCharge } from './payments.ts';
import type { PaymentRecord, RentalRecord } from './records.ts';
import { depositCaptured } from './rental-events.ts';

function draftsOf(kit: BadKit, type: EventType): EventDraft[] {
  return kit.world.drafts.filter((draft) => draft.type === type);
}

function amountOf(draft: EventDraft, field: string, currency: Money['currency']): Money {
  const parsed = parseAmount(draft.data[field], currency, { allowNegative: true });
  invariant(parsed.ok, `good event ${draft.eventId} has a valid ${field}`);
  return parsed.money;
}

/** The same amount in another legal form: "150.00" → "150.0", "7.5" → "07.5". */
function otherForm(amountText: string): string {
  return amountText.includes('.') && amountText.endsWith('0')
    ? amountText.slice(0, -1)
    : `0${amountText}`;
}

export function conflictingDuplicates(kit: BadKit): BadMessage[] {
  const messages: BadMessage[] = [];
  const release = pickSome(kit, draftsOf(kit, 'deposit.released'));
  if (release !== undefined) {
    const currency = release.data['currency'] === 'CAD' ? 'CAD' : 'USD';
    const amount = amountOf(release, 'amount', currency);
    const changed =
      amount.minor > 1n ? subtract(amount, fromMinor(currency, 1n)) : add(amount, amount);
    messages.push(
      envelopeMessage(
        kit,
        'conflicting_duplicate',
        'event_id reused with another amount',
        release,
        {
          type: release.type,
          producer: release.producer,
          eventId: release.eventId,
          data: { ...release.data, amount: text(changed) },
        },
      ),
    );
  }
  const completion = pickSome(kit, draftsOf(kit, 'rental.completed'));
  if (completion !== undefined) {
    messages.push(
      envelopeMessage(
        kit,
        'conflicting_duplicate',
        'event_id reused for another type',
        completion,
        {
          type: 'rental.cancelled',
          producer: completion.producer,
          eventId: completion.eventId,
          data: completion.data,
        },
      ),
    );
  }
  const paid = pickSome(kit, draftsOf(kit, 'payout.paid'));
  if (paid !== undefined) {
    const detail = 'event_id reused with the amount written another way (strings compare exactly)';
    messages.push(
      envelopeMessage(kit, 'conflicting_duplicate', detail, paid, {
        type: paid.type,
        producer: paid.producer,
        eventId: paid.eventId,
        data: { ...paid.data, amount: otherForm(String(paid.data['amount'])) },
      }),
    );
  }
  return messages;
}

function someRental(kit: BadKit): RentalRecord {
  return kit.rng.pick(kit.world.rentals);
}

function closeData(rentalId: string, model: RentalRecord): JsonObject {
  return {
    rental_id: rentalId,
    driver_id: model.driver.driverId,
    owner_id: model.owner.ownerId,
    market: model.market.code,
  };
}

export function unknownReferences(kit: BadKit): BadMessage[] {
  const model = someRental(kit);
  const booking = model.payments[0];
  invariant(booking !== undefined, 'every rental has its booking capture');
  const currency = model.market.currency;
  const reason = 'unknown_reference';
  return [
    dataMessage(kit, reason, 'refund of a payment never captured', undefined, 'payment.refunded', {
      ...centRefundData(kit, model, booking),
      payment_id: kit.ids.next('payment'),
      rental_id: kit.ids.next('rental'),
    }),
    dataMessage(
      kit,
      reason,
      'completion of a rental never captured',
      undefined,
      'rental.completed',
      closeData(kit.ids.next('rental'), model),
    ),
    dataMessage(
      kit,
      reason,
      'cancellation of a rental never captured',
      undefined,
      'rental.cancelled',
      closeData(kit.ids.next('rental'), model),
    ),
    dataMessage(
      kit,
      reason,
      'deposit release for a rental never captured',
      undefined,
      'deposit.released',
      {
        rental_id: kit.ids.next('rental'),
        driver_id: model.driver.driverId,
        processor_ref: kit.ids.next('refundRef'),
        currency,
        amount: '150.00',
      },
    ),
    dataMessage(kit, reason, 'payout.failed of a payout never paid', undefined, 'payout.failed', {
      payout_id: kit.ids.next('payout'),
      owner_id: model.owner.ownerId,
      currency,
      amount: '42.00',
      failure_code: 'account_closed',
    }),
    ...unknownDisputeReferences(kit, model, booking),
  ];
}

/** On a real rental, after its capture: only the dispute or payment named is unknown. */
function unknownDisputeReferences(
  kit: BadKit,
  model: RentalRecord,
  booking: PaymentRecord,
): BadMessage[] {
  const currency = model.market.currency;
  const after = booking.captureDraft;
  return [
    dataMessage(
      kit,
      'unknown_reference',
      'dispute.won of a dispute never opened',
      after,
      'dispute.won',
      {
        dispute_id: kit.ids.next('dispute'),
        rental_id: model.rentalId,
        processor_ref: kit.ids.next('disputeRef'),
        currency,
        amount: '20.00',
      },
    ),
    dataMessage(
      kit,
      'unknown_reference',
      'dispute.opened of a payment never captured',
      after,
      'dispute.opened',
      {
        dispute_id: kit.ids.next('dispute'),
        payment_id: kit.ids.next('payment'),
        rental_id: model.rentalId,
        processor_ref: kit.ids.next('disputeRef'),
        currency,
        amount: '20.00',
        dispute_fee: '15.00',
      },
    ),
  ];
}

/** Every good event of these types, re-sent under a new event_id: its id is already taken. */
const repeatableTypes: ReadonlyArray<readonly [EventType, string]> = [
  ['payment.captured', 'payment_id repeated'],
  ['dispute.opened', 'dispute_id repeated'],
  ['payout.paid', 'payout_id repeated'],
  ['processor.payout', 'processor_payout_id repeated'],
  ['tax.remitted', 'remittance_id repeated'],
  ['adjustment.posted', 'adjustment_id repeated'],
  ['payout.failed', 'payout failed twice'],
  ['dispute.won', 'dispute decided twice'],
];

export function duplicateReferences(kit: BadKit): BadMessage[] {
  const messages: BadMessage[] = [];
  for (const [type, detail] of repeatableTypes) {
    const original = pickSome(kit, draftsOf(kit, type));
    if (original !== undefined) messages.push(copyOf(kit, 'duplicate_reference', detail, original));
  }
  const refunded = pickSome(
    kit,
    paymentsWithOwnerPartLeft(kit).filter(({ payment }) => payment.refundDrafts.length > 0),
  );
  const firstRefund = refunded?.payment.refundDrafts[0];
  if (refunded !== undefined && firstRefund !== undefined) {
    // One cent, well within what is left, so that only the repeated refund_id is wrong.
    const data = {
      ...centRefundData(kit, refunded.rental, refunded.payment),
      refund_id: firstRefund.data['refund_id'] ?? null,
    };
    messages.push(
      envelopeMessage(kit, 'duplicate_reference', 'refund_id repeated', firstRefund, {
        type: 'payment.refunded',
        producer: 'payments',
        data,
      }),
    );
  }
  return messages;
}

/** Sized against what was captured, so they exceed whatever was refunded or released. */
export function exceedsRemaining(kit: BadKit): BadMessage[] {
  const rental = someRental(kit);
  const payment = rental.payments[0];
  invariant(payment !== undefined, 'every rental has its booking capture');
  const currency = rental.market.currency;
  const none = fromMinor(currency, 0n);
  const cent = fromMinor(currency, 1n);
  const refund = (rentalAmount: Money, tax: Money): JsonObject => ({
    ...centRefundData(kit, rental, payment),
    rental_amount: text(rentalAmount),
    commission: '0.00',
    tax: text(tax),
    total: text(add(rentalAmount, tax)),
  });
  const after = payment.captureDraft;
  const reason = 'exceeds_remaining';
  return [
    dataMessage(
      kit,
      reason,
      'refund of more rental than was captured',
      after,
      'payment.refunded',
      refund(add(payment.captured.rental, cent), none),
    ),
    dataMessage(
      kit,
      reason,
      'refund of more tax than was captured',
      after,
      'payment.refunded',
      refund(none, add(payment.captured.tax, cent)),
    ),
    dataMessage(kit, reason, 'dispute above the payment total', after, 'dispute.opened', {
      dispute_id: kit.ids.next('dispute'),
      payment_id: payment.paymentId,
      rental_id: rental.rentalId,
      processor_ref: kit.ids.next('disputeRef'),
      currency,
      amount: text(add(payment.captured.total, cent)),
      dispute_fee: '15.00',
    }),
    ...depositsBeyondCaptured(kit, rental, after),
  ];
}

function depositsBeyondCaptured(
  kit: BadKit,
  rental: RentalRecord,
  after: EventDraft,
): BadMessage[] {
  const amount = text(add(depositCaptured(rental), fromMinor(rental.market.currency, 100n)));
  const reason = 'exceeds_remaining';
  return [
    dataMessage(
      kit,
      reason,
      'deposit release beyond the deposit captured',
      after,
      'deposit.released',
      {
        rental_id: rental.rentalId,
        driver_id: rental.driver.driverId,
        processor_ref: kit.ids.next('refundRef'),
        currency: rental.market.currency,
        amount,
      },
    ),
    dataMessage(
      kit,
      reason,
      'deposit applied beyond the deposit captured',
      after,
      'deposit.applied',
      {
        rental_id: rental.rentalId,
        driver_id: rental.driver.driverId,
        owner_id: rental.owner.ownerId,
        claim_id: kit.ids.next('claim'),
        currency: rental.market.currency,
        amount,
      },
    ),
  ];
}

/** A toll charged after the rental closed: well-formed, but a closed rental takes no charge. */
function lateCapture(
  kit: BadKit,
  rental: RentalRecord,
  closeDraft: EventDraft,
  detail: string,
): BadMessage {
  const market = rental.market;
  const charge = priceCharge(
    market,
    fromMinor(market.currency, 650n),
    { commission: null, protection: '0', service: false },
    fromMinor(market.currency, 0n),
  );
  const data: JsonObject = {
    payment_id: kit.ids.next('payment'),
    rental_id: rental.rentalId,
    driver_id: rental.driver.driverId,
    owner_id: rental.owner.ownerId,
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
  return envelopeMessage(kit, 'rental_closed', detail, closeDraft, {
    type: 'payment.captured',
    producer: 'payments',
    data,
  });
}

export function closedRentals(kit: BadKit): BadMessage[] {
  const messages: BadMessage[] = [];
  for (const type of ['rental.completed', 'rental.cancelled'] as const) {
    const rental = pickSome(
      kit,
      kit.world.rentals.filter((candidate) => candidate.closeDraft?.type === type),
    );
    const closeDraft = rental?.closeDraft;
    if (rental === undefined || closeDraft === undefined) continue;
    messages.push(
      lateCapture(
        kit,
        rental,
        closeDraft,
        `capture on a ${type === 'rental.completed' ? 'completed' : 'cancelled'} rental`,
      ),
    );
    messages.push(copyOf(kit, 'rental_closed', `second ${type} of the rental`, closeDraft));
    const otherType = type === 'rental.completed' ? 'rental.cancelled' : 'rental.completed';
    messages.push(
      copyOf(kit, 'rental_closed', `${otherType} after ${type}`, closeDraft, {}, otherType),
    );
  }
  return messages;
}
