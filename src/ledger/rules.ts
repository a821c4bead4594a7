// The posting rules of ACCOUNTING.md, one pure function per event type: (state, event) →
// a balanced set of lines plus the state changes, or a rejection. References and state
// are checked in one fixed order for every type (docs/contract-readings.md):
// duplicate of the event's own id → unknown reference → decided twice → rental closed →
// disagreement with what it refers to (invalid_field) → exceeds remaining.
import type { Dimension, Side } from './chart.ts';
import type {
  AdjustmentData, CapturedData, ClosedData, DepositAppliedData, DepositReleasedData,
  DisputeOpenedData, DisputeWonData, Dims, LedgerEvent, PayoutFailedData, PayoutPaidData,
  ProcessorPayoutData, RefundedData, TaxRemittedData,
} from './events.ts';
import {
  abs, add, compare, isNegative, isPositive, isZero, subtract, toDecimalString, zero,
  type CurrencyCode, type Money,
} from './money.ts';
import { reject, type Rejection } from './rejections.ts';
import {
  refKey, type DisputeState, type OpenAmounts, type PaymentState, type PayoutState,
  type RefState, type RefundableParts, type RentalState, type StateView,
} from './state.ts';

export type Line = { account: string; side: Side; amount: Money; dims: Dims };

/**
 * What an entry is about, for reports that group by it: the currency, market, owner and
 * rental of the event, completed from what it refers to (a refund's market is its
 * payment's). Absent where the event has none (a processor payout has no owner).
 */
export type Subject = {
  currency?: CurrencyCode; market?: string; owner_id?: string; rental_id?: string;
};

export type Posting = {
  kind: 'posted';
  /** The posting rule and its version, kept on the entry for lineage. */
  rule: string;
  ruleVersion: number;
  lines: Line[];
  subject: Subject;
  changes: Array<[key: string, state: RefState]>;
};

export type Decision = Posting | Rejection;

export const ruleVersion = 1;

export function decide(event: LedgerEvent, view: StateView): Decision {
  switch (event.type) {
    case 'payment.captured': return decideCaptured(event.data, view);
    case 'rental.completed':
    case 'rental.cancelled': return decideClosed(event.type, event.data, view);
    case 'payment.refunded': return decideRefunded(event.data, view);
    case 'deposit.released': return decideDepositReleased(event.data, view);
    case 'deposit.applied': return decideDepositApplied(event.data, view);
    case 'dispute.opened': return decideDisputeOpened(event.data, view);
    case 'dispute.won': return decideDisputeWon(event.data, view);
    case 'payout.paid': return decidePayoutPaid(event.data, view);
    case 'payout.failed': return decidePayoutFailed(event.data, view);
    case 'processor.payout': return decideProcessorPayout(event.data, view);
    case 'tax.remitted': return decideTaxRemitted(event.data, view);
    case 'adjustment.posted': return decideAdjustment(event.data, view);
    default: {
      const unhandled: never = event;
      throw new Error(`no posting rule for ${JSON.stringify(unhandled)}`);
    }
  }
}

function posted(
  rule: string, subject: Subject, lines: Line[], changes: Array<[string, RefState]>,
): Posting {
  // Each rule hands over arrays and objects of its own: zero lines are dropped in place,
  // and the subject is copied only when it has a member to leave out.
  let kept = 0;
  for (let index = 0; index < lines.length; index += 1) {
    const l = lines[index] as Line;
    if (!isZero(l.amount)) lines[kept++] = l;
  }
  lines.length = kept;
  return { kind: 'posted', rule, ruleVersion, lines, subject: definedMembers(subject), changes };
}

function definedMembers(subject: Subject): Subject {
  // for-in, not Object.entries: the projector posts an entry per event, and the pairs were garbage.
  for (const name in subject) {
    if ((subject as Record<string, string | undefined>)[name] !== undefined) continue;
    const defined: Subject = {};
    for (const member in subject) {
      const value = (subject as Record<string, string | undefined>)[member];
      if (value !== undefined) (defined as Record<string, string>)[member] = value;
    }
    return defined;
  }
  return subject;
}

function line(account: string, side: Side, amount: Money, dims: Dims = {}): Line {
  return { account, side, amount, dims };
}

/** The event's own values of one or two dimensions (fixed arity: a rest array per call was garbage). */
function pick(source: Partial<Record<Dimension, unknown>>, first: Dimension, second?: Dimension): Dims {
  const dims: Dims = {};
  dims[first] = source[first] as string;
  if (second !== undefined) dims[second] = source[second] as string;
  return dims;
}

const show = toDecimalString;

function disagreement(field: string, given: string, expected: string, what: string): Rejection {
  return reject('invalid_field',
    `data.${field} ${JSON.stringify(given)} disagrees with ${what} (${JSON.stringify(expected)})`);
}

function getRental(view: StateView, rentalId: string): RentalState | undefined {
  return view(refKey('rental', rentalId)) as RentalState | undefined;
}

function getPayment(view: StateView, paymentId: string): PaymentState | undefined {
  return view(refKey('payment', paymentId)) as PaymentState | undefined;
}

/**
 * Nothing refunded, nothing open: one frozen value per currency, shared by every state that
 * starts from it (states are never changed in place; the rules copy what they change).
 */
const zeroPartsByCurrency = new Map<CurrencyCode, RefundableParts>();
const zeroOpenByCurrency = new Map<CurrencyCode, OpenAmounts>();

function zeroParts(currency: CurrencyCode): RefundableParts {
  let parts = zeroPartsByCurrency.get(currency);
  if (parts === undefined) {
    const z = zero(currency);
    parts = Object.freeze({ rental_amount: z, commission: z, protection_fee: z, service_fee: z, tax: z });
    zeroPartsByCurrency.set(currency, parts);
  }
  return parts;
}

function zeroOpen(currency: CurrencyCode): OpenAmounts {
  let open = zeroOpenByCurrency.get(currency);
  if (open === undefined) {
    const z = zero(currency);
    open = Object.freeze({ commission: z, service_fee: z, protection_fee: z, owner_pending: z });
    zeroOpenByCurrency.set(currency, open);
  }
  return open;
}

// ---- payment.captured ------------------------------------------------------------------

function decideCaptured(d: CapturedData, view: StateView): Decision {
  if (getPayment(view, d.payment_id) !== undefined) {
    return reject('duplicate_reference', `payment_id ${JSON.stringify(d.payment_id)} was already captured`);
  }
  const rental = getRental(view, d.rental_id);
  if (rental?.status === 'closed') {
    return reject('rental_closed', `rental ${JSON.stringify(d.rental_id)} is closed; no new capture`);
  }
  if (rental !== undefined) {
    for (const field of ['owner_id', 'driver_id', 'market'] as const) {
      if (d[field] !== rental[field]) {
        return disagreement(field, d[field], rental[field], `the rental's first capture`);
      }
    }
  }
  const ownerShare = subtract(d.rental_amount, d.commission);
  // Lines share equal dims (read only once built): an object fewer per line.
  const processor = pick(d, 'processor');
  const deferred = pick(d, 'rental_id', 'market');
  const lines = [
    line('1100', 'debit', subtract(d.total, d.processor_fee), processor),
    line('5000', 'debit', d.processor_fee, processor),
    line('2300', 'credit', d.commission, deferred),
    line('2310', 'credit', d.service_fee, deferred),
    line('2320', 'credit', d.protection_fee, deferred),
    line('2000', 'credit', ownerShare, pick(d, 'owner_id', 'rental_id')),
    line('2200', 'credit', d.tax, pick(d, 'market')),
    line('2100', 'credit', d.deposit, pick(d, 'driver_id', 'rental_id')),
  ];
  const subject = { currency: d.currency, market: d.market, owner_id: d.owner_id, rental_id: d.rental_id };
  return posted('payment.captured', subject, lines, [
    [refKey('payment', d.payment_id), paymentAfterCapture(d)],
    [refKey('rental', d.rental_id), rentalAfterCapture(rental, d, ownerShare)],
  ]);
}

function paymentAfterCapture(d: CapturedData): PaymentState {
  return {
    kind: 'payment', rental_id: d.rental_id, currency: d.currency, owner_id: d.owner_id,
    driver_id: d.driver_id, market: d.market, processor: d.processor, total: d.total,
    captured: {
      rental_amount: d.rental_amount, commission: d.commission, protection_fee: d.protection_fee,
      service_fee: d.service_fee, tax: d.tax,
    },
    refunded: zeroParts(d.currency),
  };
}

function rentalAfterCapture(rental: RentalState | undefined, d: CapturedData, ownerShare: Money): RentalState {
  const open = rental?.open[d.currency] ?? zeroOpen(d.currency);
  const nextOpen: OpenAmounts = {
    commission: add(open.commission, d.commission),
    service_fee: add(open.service_fee, d.service_fee),
    protection_fee: add(open.protection_fee, d.protection_fee),
    owner_pending: add(open.owner_pending, ownerShare),
  };
  if (rental === undefined) {
    // A rental's first capture: its state made once, not made and then copied.
    return {
      kind: 'rental', status: 'open', owner_id: d.owner_id, driver_id: d.driver_id,
      market: d.market, processor: d.processor, currency: d.currency,
      open: { [d.currency]: nextOpen },
      deposits: { [d.currency]: { captured: d.deposit, used: zero(d.currency) } },
    };
  }
  const deposits = rental.deposits[d.currency] ?? { captured: zero(d.currency), used: zero(d.currency) };
  return {
    ...rental,
    open: { ...rental.open, [d.currency]: nextOpen },
    deposits: { ...rental.deposits, [d.currency]: { ...deposits, captured: add(deposits.captured, d.deposit) } },
  };
}

// ---- rental.completed, rental.cancelled ------------------------------------------------

function decideClosed(type: string, d: ClosedData, view: StateView): Decision {
  const rental = getRental(view, d.rental_id);
  if (rental === undefined) {
    return reject('unknown_reference', `rental ${JSON.stringify(d.rental_id)} has no captured payment`);
  }
  if (rental.status === 'closed') {
    return reject('rental_closed', `rental ${JSON.stringify(d.rental_id)} is already closed`);
  }
  for (const field of ['owner_id', 'driver_id', 'market'] as const) {
    if (d[field] !== rental[field]) return disagreement(field, d[field], rental[field], `the rental's capture`);
  }
  const lines: Line[] = [];
  const currenciesInOrder = (Object.keys(rental.open) as CurrencyCode[]).sort();
  for (const currency of currenciesInOrder) {
    const open = rental.open[currency] as OpenAmounts;
    const deferred = pick(d, 'rental_id', 'market');
    const market = pick(d, 'market');
    lines.push(
      line('2300', 'debit', open.commission, deferred),
      line('4000', 'credit', open.commission, market),
      line('2310', 'debit', open.service_fee, deferred),
      line('4010', 'credit', open.service_fee, market),
      line('2320', 'debit', open.protection_fee, deferred),
      line('4020', 'credit', open.protection_fee, market),
    );
    ownerPendingToPayable(lines, open.owner_pending, d);
  }
  const open: RentalState['open'] = {};
  for (const currency of currenciesInOrder) open[currency] = zeroOpen(currency);
  const subject = { currency: rental.currency, market: d.market, owner_id: d.owner_id, rental_id: d.rental_id };
  return posted(type, subject, lines, [[refKey('rental', d.rental_id), { ...rental, status: 'closed', open }]]);
}

/**
 * 2000 debit op / 2010 credit op (ACCOUNTING.md). op is below zero when refunds took more
 * of the owner's share than was captured (rounding of partial refunds): a line's amount is
 * positive, so the same movement is then 2000 credit |op| / 2010 debit |op|.
 */
function ownerPendingToPayable(lines: Line[], op: Money, d: ClosedData): void {
  const pending = pick(d, 'owner_id', 'rental_id');
  const payable = pick(d, 'owner_id');
  if (!isNegative(op)) lines.push(line('2000', 'debit', op, pending), line('2010', 'credit', op, payable));
  else lines.push(line('2000', 'credit', abs(op), pending), line('2010', 'debit', abs(op), payable));
}

// ---- payment.refunded ------------------------------------------------------------------

const refundParts = ['rental_amount', 'commission', 'protection_fee', 'service_fee', 'tax'] as const;

function decideRefunded(d: RefundedData, view: StateView): Decision {
  if (view(refKey('refund', d.refund_id)) !== undefined) {
    return reject('duplicate_reference', `refund_id ${JSON.stringify(d.refund_id)} was already refunded`);
  }
  const payment = getPayment(view, d.payment_id);
  if (payment === undefined) {
    return reject('unknown_reference', `payment ${JSON.stringify(d.payment_id)} was never captured`);
  }
  if (d.rental_id !== payment.rental_id) {
    return disagreement('rental_id', d.rental_id, payment.rental_id, `payment ${d.payment_id}`);
  }
  if (d.currency !== payment.currency) {
    return disagreement('currency', d.currency, payment.currency, `payment ${d.payment_id}`);
  }
  const excess = refundExcess(d, payment);
  if (excess !== null) return excess;
  const rental = getRental(view, d.rental_id) as RentalState;
  const ownerShare = subtract(d.rental_amount, d.commission);
  const market = { market: payment.market };
  const deferredDims = { rental_id: d.rental_id, market: payment.market };
  const head = rental.status === 'open'
    ? [
      line('2300', 'debit', d.commission, deferredDims),
      line('2310', 'debit', d.service_fee, deferredDims),
      line('2320', 'debit', d.protection_fee, deferredDims),
      line('2000', 'debit', ownerShare, { owner_id: payment.owner_id, rental_id: d.rental_id }),
    ]
    : [
      line('4100', 'debit', d.commission, market),
      line('4110', 'debit', d.service_fee, market),
      line('4120', 'debit', d.protection_fee, market),
      line('2010', 'debit', ownerShare, { owner_id: payment.owner_id }),
    ];
  const lines = [
    ...head,
    line('2200', 'debit', d.tax, market),
    line('1100', 'credit', d.total, { processor: payment.processor }),
  ];
  const subject = {
    currency: d.currency, market: payment.market, owner_id: payment.owner_id, rental_id: d.rental_id,
  };
  return posted('payment.refunded', subject, lines, [
    [refKey('refund', d.refund_id), { kind: 'refund' }],
    [refKey('payment', d.payment_id), paymentAfterRefund(payment, d)],
    [refKey('rental', d.rental_id), rentalAfterRefund(rental, d)],
  ]);
}

/**
 * Each component within what the payment captured less earlier refunds, and nothing else
 * (EVENTS.md, exceeds_remaining): a refund has already moved money at the processor, so
 * an owner's share (rental_amount − commission) beyond what is left of it, by rounding of
 * partial refunds, posts, and the owner's balance shows it.
 */
function refundExcess(d: RefundedData, payment: PaymentState): Rejection | null {
  for (const part of refundParts) {
    const remaining = subtract(payment.captured[part], payment.refunded[part]);
    if (compare(d[part], remaining) > 0) {
      return reject('exceeds_remaining', `${part} ${show(d[part])} exceeds what payment ` +
        `${d.payment_id} has left to refund (${show(remaining)})`);
    }
  }
  return null;
}

function paymentAfterRefund(payment: PaymentState, d: RefundedData): PaymentState {
  const refunded = { ...payment.refunded };
  for (const part of refundParts) refunded[part] = add(refunded[part], d[part]);
  return { ...payment, refunded };
}

function rentalAfterRefund(rental: RentalState, d: RefundedData): RentalState {
  if (rental.status === 'closed') return rental;
  const open = rental.open[d.currency] as OpenAmounts;
  const next: OpenAmounts = {
    commission: subtract(open.commission, d.commission),
    service_fee: subtract(open.service_fee, d.service_fee),
    protection_fee: subtract(open.protection_fee, d.protection_fee),
    owner_pending: subtract(open.owner_pending, subtract(d.rental_amount, d.commission)),
  };
  // Per-component limits keep what is deferred at or above zero; the owner's pending share
  // may go below it (refundExcess), and the closing entry then moves it the other way.
  for (const amount of [next.commission, next.service_fee, next.protection_fee]) {
    if (isNegative(amount)) throw new Error(`invariant violated: rental ${d.rental_id} deferred amount < 0`);
  }
  return { ...rental, open: { ...rental.open, [d.currency]: next } };
}

// ---- deposits --------------------------------------------------------------------------

function depositCheck(
  d: { rental_id: string; driver_id: string; currency: CurrencyCode; amount: Money },
  rental: RentalState | undefined,
): Rejection | null {
  if (rental === undefined) {
    return reject('unknown_reference', `rental ${JSON.stringify(d.rental_id)} has no captured payment`);
  }
  if (d.driver_id !== rental.driver_id) {
    return disagreement('driver_id', d.driver_id, rental.driver_id, `rental ${d.rental_id}`);
  }
  const deposits = rental.deposits[d.currency];
  if (deposits === undefined) {
    return reject('invalid_field', `data.currency ${d.currency} disagrees with rental ${d.rental_id}, ` +
      `which captured no deposit in ${d.currency}`);
  }
  const remaining = subtract(deposits.captured, deposits.used);
  if (compare(d.amount, remaining) > 0) {
    return reject('exceeds_remaining', `amount ${show(d.amount)} exceeds the deposit left for rental ` +
      `${d.rental_id} (${show(remaining)})`);
  }
  return null;
}

function rentalAfterDeposit(rental: RentalState, currency: CurrencyCode, amount: Money): RentalState {
  const deposits = rental.deposits[currency] as { captured: Money; used: Money };
  return {
    ...rental,
    deposits: { ...rental.deposits, [currency]: { ...deposits, used: add(deposits.used, amount) } },
  };
}

function decideDepositReleased(d: DepositReleasedData, view: StateView): Decision {
  const rental = getRental(view, d.rental_id);
  const problem = depositCheck(d, rental);
  if (problem !== null) return problem;
  const known = rental as RentalState;
  const subject = { currency: d.currency, market: known.market, owner_id: known.owner_id, rental_id: d.rental_id };
  return posted('deposit.released', subject, [
    line('2100', 'debit', d.amount, pick(d, 'driver_id', 'rental_id')),
    line('1100', 'credit', d.amount, { processor: known.processor }),
  ], [[refKey('rental', d.rental_id), rentalAfterDeposit(known, d.currency, d.amount)]]);
}

function decideDepositApplied(d: DepositAppliedData, view: StateView): Decision {
  const rental = getRental(view, d.rental_id);
  if (rental !== undefined && d.owner_id !== rental.owner_id) {
    return disagreement('owner_id', d.owner_id, rental.owner_id, `rental ${d.rental_id}`);
  }
  const problem = depositCheck(d, rental);
  if (problem !== null) return problem;
  const known = rental as RentalState;
  const subject = { currency: d.currency, market: known.market, owner_id: d.owner_id, rental_id: d.rental_id };
  return posted('deposit.applied', subject, [
    line('2100', 'debit', d.amount, pick(d, 'driver_id', 'rental_id')),
    line('2010', 'credit', d.amount, pick(d, 'owner_id')),
  ], [[refKey('rental', d.rental_id), rentalAfterDeposit(known, d.currency, d.amount)]]);
}

// ---- disputes --------------------------------------------------------------------------

function decideDisputeOpened(d: DisputeOpenedData, view: StateView): Decision {
  if (view(refKey('dispute', d.dispute_id)) !== undefined) {
    return reject('duplicate_reference', `dispute_id ${JSON.stringify(d.dispute_id)} was already opened`);
  }
  const payment = getPayment(view, d.payment_id);
  if (payment === undefined) {
    return reject('unknown_reference', `payment ${JSON.stringify(d.payment_id)} was never captured`);
  }
  if (d.rental_id !== payment.rental_id) {
    return disagreement('rental_id', d.rental_id, payment.rental_id, `payment ${d.payment_id}`);
  }
  if (d.currency !== payment.currency) {
    return disagreement('currency', d.currency, payment.currency, `payment ${d.payment_id}`);
  }
  if (compare(d.amount, payment.total) > 0) {
    return reject('exceeds_remaining', `amount ${show(d.amount)} exceeds payment ${d.payment_id}'s ` +
      `total ${show(payment.total)}`);
  }
  const dispute: DisputeState = {
    kind: 'dispute', payment_id: d.payment_id, rental_id: d.rental_id, currency: d.currency,
    amount: d.amount, market: payment.market, processor: payment.processor, decided: false,
  };
  const subject = {
    currency: d.currency, market: payment.market, owner_id: payment.owner_id, rental_id: d.rental_id,
  };
  return posted('dispute.opened', subject, [
    line('5100', 'debit', d.amount, { market: payment.market }),
    line('5110', 'debit', d.dispute_fee, { processor: payment.processor }),
    line('1100', 'credit', add(d.amount, d.dispute_fee), { processor: payment.processor }),
  ], [[refKey('dispute', d.dispute_id), dispute]]);
}

function decideDisputeWon(d: DisputeWonData, view: StateView): Decision {
  const dispute = view(refKey('dispute', d.dispute_id)) as DisputeState | undefined;
  if (dispute === undefined) {
    return reject('unknown_reference', `dispute ${JSON.stringify(d.dispute_id)} was never opened`);
  }
  if (dispute.decided) {
    return reject('duplicate_reference', `dispute ${JSON.stringify(d.dispute_id)} was already decided`);
  }
  if (d.rental_id !== dispute.rental_id) {
    return disagreement('rental_id', d.rental_id, dispute.rental_id, `dispute ${d.dispute_id}`);
  }
  if (d.currency !== dispute.currency) {
    return disagreement('currency', d.currency, dispute.currency, `dispute ${d.dispute_id}`);
  }
  if (compare(d.amount, dispute.amount) !== 0) {
    return disagreement('amount', show(d.amount), show(dispute.amount), `dispute ${d.dispute_id}`);
  }
  const subject = { currency: d.currency, market: dispute.market, rental_id: d.rental_id };
  return posted('dispute.won', subject, [
    line('1100', 'debit', d.amount, { processor: dispute.processor }),
    line('5100', 'credit', d.amount, { market: dispute.market }),
  ], [[refKey('dispute', d.dispute_id), { ...dispute, decided: true }]]);
}

// ---- payouts ---------------------------------------------------------------------------

function decidePayoutPaid(d: PayoutPaidData, view: StateView): Decision {
  if (view(refKey('payout', d.payout_id)) !== undefined) {
    return reject('duplicate_reference', `payout_id ${JSON.stringify(d.payout_id)} was already paid`);
  }
  const payout: PayoutState = {
    kind: 'payout', owner_id: d.owner_id, currency: d.currency, amount: d.amount,
    processor: d.processor, failed: false,
  };
  return posted('payout.paid', { currency: d.currency, owner_id: d.owner_id }, [
    line('2010', 'debit', d.amount, pick(d, 'owner_id')),
    line('1100', 'credit', d.amount, pick(d, 'processor')),
  ], [[refKey('payout', d.payout_id), payout]]);
}

function decidePayoutFailed(d: PayoutFailedData, view: StateView): Decision {
  const payout = view(refKey('payout', d.payout_id)) as PayoutState | undefined;
  if (payout === undefined) {
    return reject('unknown_reference', `payout ${JSON.stringify(d.payout_id)} was never paid`);
  }
  if (payout.failed) {
    return reject('duplicate_reference', `payout ${JSON.stringify(d.payout_id)} has already failed`);
  }
  if (d.owner_id !== payout.owner_id) {
    return disagreement('owner_id', d.owner_id, payout.owner_id, `payout ${d.payout_id}`);
  }
  if (d.currency !== payout.currency) {
    return disagreement('currency', d.currency, payout.currency, `payout ${d.payout_id}`);
  }
  if (compare(d.amount, payout.amount) !== 0) {
    return disagreement('amount', show(d.amount), show(payout.amount), `payout ${d.payout_id}`);
  }
  return posted('payout.failed', { currency: d.currency, owner_id: d.owner_id }, [
    line('1100', 'debit', d.amount, { processor: payout.processor }),
    line('2010', 'credit', d.amount, pick(d, 'owner_id')),
  ], [[refKey('payout', d.payout_id), { ...payout, failed: true }]]);
}

function decideProcessorPayout(d: ProcessorPayoutData, view: StateView): Decision {
  const key = refKey('processor_payout', d.processor_payout_id);
  if (view(key) !== undefined) {
    return reject('duplicate_reference',
      `processor_payout_id ${JSON.stringify(d.processor_payout_id)} was already recorded`);
  }
  const amount = abs(d.amount);
  const lines = isPositive(d.amount)
    ? [line('1000', 'debit', amount), line('1100', 'credit', amount, pick(d, 'processor'))]
    : [line('1100', 'debit', amount, pick(d, 'processor')), line('1000', 'credit', amount)];
  return posted('processor.payout', { currency: d.currency }, lines, [[key, { kind: 'processor_payout' }]]);
}

function decideTaxRemitted(d: TaxRemittedData, view: StateView): Decision {
  const key = refKey('remittance', d.remittance_id);
  if (view(key) !== undefined) {
    return reject('duplicate_reference', `remittance_id ${JSON.stringify(d.remittance_id)} was already recorded`);
  }
  return posted('tax.remitted', { currency: d.currency, market: d.market }, [
    line('2200', 'debit', d.amount, pick(d, 'market')),
    line('1000', 'credit', d.amount),
  ], [[key, { kind: 'remittance' }]]);
}

function decideAdjustment(d: AdjustmentData, view: StateView): Decision {
  const key = refKey('adjustment', d.adjustment_id);
  if (view(key) !== undefined) {
    return reject('duplicate_reference', `adjustment_id ${JSON.stringify(d.adjustment_id)} was already posted`);
  }
  const lines = d.lines.map((l) => line(l.account, l.side, l.amount, l.dims));
  return posted('adjustment.posted', { currency: d.currency }, lines, [[key, { kind: 'adjustment' }]]);
}

/** The keys a decision about this event may read, so an adapter can load them in bulk. */
export function refsOf(event: LedgerEvent): string[] {
  const d = event.data as unknown as Record<string, string>;
  switch (event.type) {
    case 'payment.captured': return [refKey('payment', d.payment_id!), refKey('rental', d.rental_id!)];
    case 'rental.completed':
    case 'rental.cancelled':
    case 'deposit.released':
    case 'deposit.applied': return [refKey('rental', d.rental_id!)];
    case 'payment.refunded':
      return [refKey('refund', d.refund_id!), refKey('payment', d.payment_id!), refKey('rental', d.rental_id!)];
    case 'dispute.opened': return [refKey('dispute', d.dispute_id!), refKey('payment', d.payment_id!)];
    case 'dispute.won': return [refKey('dispute', d.dispute_id!)];
    case 'payout.paid':
    case 'payout.failed': return [refKey('payout', d.payout_id!)];
    case 'processor.payout': return [refKey('processor_payout', d.processor_payout_id!)];
    case 'tax.remitted': return [refKey('remittance', d.remittance_id!)];
    case 'adjustment.posted': return [refKey('adjustment', d.adjustment_id!)];
  }
}
