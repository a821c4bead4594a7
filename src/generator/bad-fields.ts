// Bad messages whose envelope is fine but whose data is not: a field missing or wrong
// (invalid_field), an amount that is not a plain decimal string or is zero where zero is
// not allowed (invalid_amount), a total that is not the sum of its parts (unbalanced).
// Each changes one field of an otherwise valid event.
import { add, fromMinor, subtract, type Money } from '../ledger/money.ts';
import {
  centRefundData,
  envelopeMessage,
  freshCapture,
  paymentsWithOwnerPartLeft,
  pickSome,
  text,
  type BadKit,
  type BadMessage,
  type RejectionReason,
} from './bad-kit.ts';
import { approvalIdFor } from './adjustments.ts';
import type { JsonObject, JsonValue } from './drafts.ts';

/** A fresh capture with `changes` applied to its data (a value of undefined removes the field). */
function capture(
  kit: BadKit,
  reason: RejectionReason,
  detail: string,
  changes: (base: ReturnType<typeof freshCapture>) => { [field: string]: JsonValue | undefined },
): BadMessage {
  const base = freshCapture(kit);
  const data: JsonObject = { ...base.data };
  for (const [field, value] of Object.entries(changes(base))) {
    if (value === undefined) delete data[field];
    else data[field] = value;
  }
  return envelopeMessage(kit, reason, detail, undefined, {
    type: 'payment.captured',
    producer: 'payments',
    data,
  });
}

function someOwner(kit: BadKit): { ownerId: string; processor: string; currency: string } {
  const owner = kit.rng.pick(kit.world.rentals).owner;
  return {
    ownerId: owner.ownerId,
    processor: owner.market.processor,
    currency: owner.market.currency,
  };
}

function payoutPaid(
  kit: BadKit,
  reason: RejectionReason,
  detail: string,
  changes: JsonObject,
  drop?: string,
): BadMessage {
  const owner = someOwner(kit);
  const data: JsonObject = {
    payout_id: kit.ids.next('payout'),
    owner_id: owner.ownerId,
    processor: owner.processor,
    processor_ref: kit.ids.next('transferRef'),
    currency: owner.currency,
    amount: '25.00',
    ...changes,
  };
  if (drop !== undefined) delete data[drop];
  return envelopeMessage(kit, reason, detail, undefined, {
    type: 'payout.paid',
    producer: 'payouts',
    data,
  });
}

function processorPayout(
  kit: BadKit,
  reason: RejectionReason,
  detail: string,
  changes: JsonObject,
): BadMessage {
  const data: JsonObject = {
    processor_payout_id: kit.ids.next('processorPayout'),
    processor: 'stripe',
    currency: 'USD',
    amount: '1250.00',
    arrival_date: '2026-11-05',
    ...changes,
  };
  return envelopeMessage(kit, reason, detail, undefined, {
    type: 'processor.payout',
    producer: 'treasury',
    data,
  });
}

function taxRemitted(
  kit: BadKit,
  reason: RejectionReason,
  detail: string,
  changes: JsonObject,
): BadMessage {
  const market = kit.rng.pick(kit.world.rentals).market;
  const data: JsonObject = {
    remittance_id: kit.ids.next('remittance'),
    market: market.code,
    currency: market.currency,
    amount: '310.45',
    period: kit.world.month.label,
    ...changes,
  };
  return envelopeMessage(kit, reason, detail, undefined, {
    type: 'tax.remitted',
    producer: 'tax',
    data,
  });
}

type LineSpec = readonly [
  account: string,
  side: 'debit' | 'credit',
  amount: string,
  dims?: JsonObject,
];

function adjustment(
  kit: BadKit,
  reason: RejectionReason,
  detail: string,
  lines: readonly LineSpec[],
  changes: JsonObject = {},
): BadMessage {
  const adjustmentId = kit.ids.next('adjustment');
  // Signed like a good one, so that what it breaks is its own rule and not its approval.
  const data: JsonObject = kit.approve({
    adjustment_id: adjustmentId,
    reason: 'Correction requested by finance',
    requested_by: 'ops.maria.lopez',
    approved_by: 'fin.controller.dana',
    currency: 'USD',
    lines: lines.map(([account, side, amount, dims]): JsonObject =>
      dims === undefined ? { account, side, amount } : { account, side, amount, dims },
    ),
    ...changes,
  }, approvalIdFor(adjustmentId));
  return envelopeMessage(kit, reason, detail, undefined, {
    type: 'adjustment.posted',
    producer: 'backoffice',
    data,
  });
}

/** A one-cent refund of a real payment with `changes`, placed after the payment's capture. */
function centRefund(
  kit: BadKit,
  reason: RejectionReason,
  detail: string,
  changes: JsonObject,
): BadMessage[] {
  const found = pickSome(kit, paymentsWithOwnerPartLeft(kit));
  if (found === undefined) return [];
  const data = { ...centRefundData(kit, found.rental, found.payment), ...changes };
  return [
    envelopeMessage(kit, reason, detail, found.payment.captureDraft, {
      type: 'payment.refunded',
      producer: 'payments',
      data,
    }),
  ];
}

/** A deposit event on a real rental with the given amount, placed after its first capture. */
function deposit(
  kit: BadKit,
  type: 'deposit.released' | 'deposit.applied',
  amount: string,
  detail: string,
): BadMessage {
  const rental = kit.rng.pick(kit.world.rentals);
  const data: JsonObject =
    type === 'deposit.released'
      ? {
          rental_id: rental.rentalId,
          driver_id: rental.driver.driverId,
          processor_ref: kit.ids.next('refundRef'),
          currency: rental.market.currency,
          amount,
        }
      : {
          rental_id: rental.rentalId,
          driver_id: rental.driver.driverId,
          owner_id: rental.owner.ownerId,
          claim_id: kit.ids.next('claim'),
          currency: rental.market.currency,
          amount,
        };
  const after = rental.payments[0]?.captureDraft;
  return envelopeMessage(kit, 'invalid_amount', detail, after, {
    type,
    producer: 'payments',
    data,
  });
}

export function invalidFields(kit: BadKit): BadMessage[] {
  return [
    capture(kit, 'invalid_field', 'capture without driver_id', () => ({ driver_id: undefined })),
    capture(kit, 'invalid_field', 'capture with an empty payment_id', () => ({ payment_id: '' })),
    capture(kit, 'invalid_field', 'currency "usd" (lower case)', (base) => ({
      currency: String(base.data['currency']).toLowerCase(),
    })),
    capture(kit, 'invalid_field', 'commission above rental_amount', (base) => ({
      commission: text(add(base.charge.rental, fromMinor(base.charge.rental.currency, 1n))),
    })),
    capture(kit, 'invalid_field', 'processor_fee above total', (base) => ({
      processor_fee: text(add(base.charge.total, fromMinor(base.charge.total.currency, 1n))),
    })),
    processorPayout(kit, 'invalid_field', 'arrival_date 05/11/2026 (not YYYY-MM-DD)', {
      arrival_date: '05/11/2026',
    }),
    taxRemitted(kit, 'invalid_field', 'period "Oct 2026" (not YYYY-MM)', { period: 'Oct 2026' }),
    payoutPaid(kit, 'invalid_field', 'payout.paid without currency', {}, 'currency'),
    payoutPaid(kit, 'invalid_field', 'payout.paid without amount (a missing amount)', {}, 'amount'),
    ...refundInOtherCurrency(kit),
    ...invalidAdjustments(kit),
  ];
}

/** Adjustments that break one of EVENTS.md's rules on lines, accounts, dims or approval. */
function invalidAdjustments(kit: BadKit): BadMessage[] {
  return [
    adjustment(kit, 'invalid_field', 'adjustment with a single line', [['5900', 'debit', '10.00']]),
    adjustment(kit, 'invalid_field', 'account 2000 is not open to manual entries', [
      [
        '2000',
        'debit',
        '10.00',
        { owner_id: someOwner(kit).ownerId, rental_id: kit.ids.next('rental') },
      ],
      ['5900', 'credit', '10.00'],
    ]),
    adjustment(kit, 'invalid_field', 'account 9999 is not in the chart', [
      ['9999', 'debit', '10.00'],
      ['1000', 'credit', '10.00'],
    ]),
    adjustment(
      kit,
      'invalid_field',
      'requested_by equals approved_by',
      [
        ['5900', 'debit', '10.00'],
        ['1000', 'credit', '10.00'],
      ],
      { approved_by: 'ops.maria.lopez' },
    ),
    adjustment(kit, 'invalid_field', 'account 2010 with dims {market} instead of {owner_id}', [
      ['5900', 'debit', '10.00'],
      ['2010', 'credit', '10.00', { market: 'US-CA' }],
    ]),
    adjustment(kit, 'invalid_field', 'account 1100 without its processor dimension', [
      ['1100', 'debit', '10.00'],
      ['5900', 'credit', '10.00'],
    ]),
    adjustment(kit, 'invalid_field', 'account 1000 with a processor dimension it does not have', [
      ['5900', 'debit', '10.00'],
      ['1000', 'credit', '10.00', { processor: 'stripe' }],
    ]),
  ];
}

function refundInOtherCurrency(kit: BadKit): BadMessage[] {
  const found = pickSome(kit, paymentsWithOwnerPartLeft(kit));
  if (found === undefined) return [];
  const currency = found.rental.market.currency === 'USD' ? 'CAD' : 'USD';
  const detail = "refund in a currency other than its payment's";
  return [
    envelopeMessage(kit, 'invalid_field', detail, found.payment.captureDraft, {
      type: 'payment.refunded',
      producer: 'payments',
      data: { ...centRefundData(kit, found.rental, found.payment), currency },
    }),
  ];
}

export function invalidAmounts(kit: BadKit): BadMessage[] {
  return [
    numberAmount(kit),
    capture(kit, 'invalid_amount', 'deposit "1e3"', () => ({ deposit: '1e3' })),
    capture(kit, 'invalid_amount', 'service_fee ".5"', (base) => ({
      service_fee: '.5',
      total: text(
        add(
          subtract(base.charge.total, base.charge.service),
          fromMinor(base.charge.total.currency, 50n),
        ),
      ),
    })),
    capture(kit, 'invalid_amount', 'tax "" (empty string)', () => ({ tax: '' })),
    deposit(kit, 'deposit.released', '-5.00', 'deposit release amount "-5.00"'),
    deposit(kit, 'deposit.released', ' 5', 'deposit release amount " 5"'),
    deposit(kit, 'deposit.applied', '12.345', 'deposit applied amount "12.345" (three decimals)'),
    payoutPaid(kit, 'invalid_amount', 'payout amount "+5"', { amount: '+5' }),
    payoutPaid(kit, 'invalid_amount', 'zero payout "0.00"', { amount: '0.00' }),
    taxRemitted(kit, 'invalid_amount', 'remitted amount "1,250.00"', { amount: '1,250.00' }),
    processorPayout(kit, 'invalid_amount', 'zero processor payout "0"', { amount: '0' }),
    processorPayout(kit, 'invalid_amount', 'processor payout "+1250.00" (only "-" may lead)', {
      amount: '+1250.00',
    }),
    adjustment(kit, 'invalid_amount', 'adjustment with a zero line', [
      ['5900', 'debit', '10.00'],
      ['5900', 'debit', '0.00'],
      ['1000', 'credit', '10.00'],
    ]),
    ...disputeAmount(kit, '5.', 'dispute amount "5."'),
  ];
}

/** The JSON number is written from the decimal text, so no float is ever computed here. */
function numberAmount(kit: BadKit): BadMessage {
  const base = freshCapture(kit);
  const amountText = text(base.charge.rental);
  const message = envelopeMessage(
    kit,
    'invalid_amount',
    'rental_amount as a JSON number',
    undefined,
    {
      type: 'payment.captured',
      producer: 'payments',
      data: base.data,
    },
  );
  const quoted = `"rental_amount":"${amountText}"`;
  return {
    ...message,
    line: (occurredAtMs) => {
      const line = message.line(occurredAtMs);
      if (!line.includes(quoted))
        throw new Error('invariant violated: rental_amount is in the line');
      return line.replace(quoted, `"rental_amount":${amountText}`);
    },
  };
}

function disputeAmount(kit: BadKit, amount: string, detail: string): BadMessage[] {
  const rental = kit.rng.pick(kit.world.rentals);
  const payment = rental.payments[0];
  if (payment === undefined) return [];
  return [
    envelopeMessage(kit, 'invalid_amount', detail, payment.captureDraft, {
      type: 'dispute.opened',
      producer: 'payments',
      data: {
        dispute_id: kit.ids.next('dispute'),
        payment_id: payment.paymentId,
        rental_id: rental.rentalId,
        processor_ref: kit.ids.next('disputeRef'),
        currency: rental.market.currency,
        amount,
        dispute_fee: '15.00',
      },
    }),
  ];
}

export function unbalancedTotals(kit: BadKit): BadMessage[] {
  const cent = (base: ReturnType<typeof freshCapture>): Money =>
    fromMinor(base.charge.total.currency, 1n);
  return [
    capture(kit, 'unbalanced', 'capture total one cent above the sum of its parts', (base) => ({
      total: text(add(base.charge.total, cent(base))),
    })),
    capture(kit, 'unbalanced', 'capture total one cent below the sum of its parts', (base) => ({
      total: text(subtract(base.charge.total, cent(base))),
    })),
    ...centRefund(kit, 'unbalanced', 'refund total 0.02 for parts summing to 0.01', {
      total: '0.02',
    }),
    adjustment(kit, 'unbalanced', 'adjustment debits 10.00, credits 9.99', [
      ['5900', 'debit', '10.00'],
      ['1000', 'credit', '9.99'],
    ]),
  ];
}
