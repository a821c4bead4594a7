// The arithmetic of one charge and its refunds, on Money only. A capture's components
// obey EVENTS.md by construction (total = R + P + S + T + D, C ≤ R, F ≤ total), and a
// refund is cut from what the payment still holds, so no refund can exceed it.
import { invariant } from '../errors.ts';
import {
  add,
  applyRate,
  compare,
  fromMinor,
  isZero,
  subtract,
  sum,
  zero,
  type CurrencyCode,
  type Money,
} from '../ledger/money.ts';
import { processorFees, roundings, type Market } from './catalog.ts';

export type CaptureParts = {
  readonly rental: Money;
  readonly commission: Money;
  readonly protection: Money;
  readonly service: Money;
  readonly tax: Money;
  readonly deposit: Money;
};

export type CaptureComponents = CaptureParts & {
  readonly processorFee: Money;
  readonly total: Money;
};

export type RefundComponents = {
  readonly rental: Money;
  readonly commission: Money;
  readonly protection: Money;
  readonly service: Money;
  readonly tax: Money;
  readonly total: Money;
};

/** What a charge for `rental` with the given protection and commission rates consists of. */
export function priceCharge(
  market: Market,
  rental: Money,
  rates: { commission: string | null; protection: string; service: boolean },
  deposit: Money,
): CaptureComponents {
  const currency = market.currency;
  const commission =
    rates.commission === null
      ? zero(currency)
      : applyRate(rental, rates.commission, roundings.commission);
  // A declined protection plan costs nothing; skipping the multiplication keeps the
  // many small reimbursement charges cheap to price.
  const protection =
    rates.protection === '0'
      ? zero(currency)
      : applyRate(rental, rates.protection, roundings.protection);
  const service = rates.service
    ? applyRate(rental, market.serviceFeeRate, roundings.service)
    : zero(currency);
  const taxBase = sum(currency, [rental, protection, service]);
  const tax = applyRate(taxBase, market.taxRate, roundings.tax);
  return withTotals(market, { rental, commission, protection, service, tax, deposit });
}

/** Adds the total and the processor's fee on it. */
export function withTotals(market: Market, parts: CaptureParts): CaptureComponents {
  const currency = market.currency;
  const total = sum(currency, [
    parts.rental,
    parts.protection,
    parts.service,
    parts.tax,
    parts.deposit,
  ]);
  const fee = processorFees[market.processor];
  const processorFee = add(
    applyRate(total, fee.rate, roundings.processorFee),
    fromMinor(currency, fee.fixedMinor),
  );
  invariant(compare(parts.commission, parts.rental) <= 0, 'commission ≤ rental_amount');
  invariant(compare(processorFee, total) <= 0, 'processor_fee ≤ total');
  return {
    rental: parts.rental,
    commission: parts.commission,
    protection: parts.protection,
    service: parts.service,
    tax: parts.tax,
    deposit: parts.deposit,
    processorFee,
    total,
  };
}

export function noRefund(currency: CurrencyCode): RefundComponents {
  const none = zero(currency);
  return {
    rental: none,
    commission: none,
    protection: none,
    service: none,
    tax: none,
    total: none,
  };
}

/** What is left to refund of each component: captured less refunded so far. */
export function refundable(
  captured: CaptureComponents,
  refunded: RefundComponents,
): RefundComponents {
  const rental = subtract(captured.rental, refunded.rental);
  const commission = subtract(captured.commission, refunded.commission);
  const protection = subtract(captured.protection, refunded.protection);
  const service = subtract(captured.service, refunded.service);
  const tax = subtract(captured.tax, refunded.tax);
  return refundOf(rental, commission, protection, service, tax);
}

/**
 * A refund of `share` (a decimal string such as "0.25", or "1" for all) of what remains.
 * The owner's part (R − C) and the commission are cut separately and R rebuilt from
 * them, so the refund never takes more from the owner's pending funds than remain.
 */
export function refundShare(remaining: RefundComponents, share: string): RefundComponents {
  if (share === '1') return remaining;
  const rounding = roundings.refundShare;
  const ownerPart = applyRate(subtract(remaining.rental, remaining.commission), share, rounding);
  const commission = applyRate(remaining.commission, share, rounding);
  const protection = applyRate(remaining.protection, share, rounding);
  const service = applyRate(remaining.service, share, rounding);
  const tax = applyRate(remaining.tax, share, rounding);
  return refundOf(add(ownerPart, commission), commission, protection, service, tax);
}

export function refundOf(
  rental: Money,
  commission: Money,
  protection: Money,
  service: Money,
  tax: Money,
): RefundComponents {
  const total = sum(rental.currency, [rental, protection, service, tax]);
  return { rental, commission, protection, service, tax, total };
}

export function addRefund(sofar: RefundComponents, refund: RefundComponents): RefundComponents {
  return refundOf(
    add(sofar.rental, refund.rental),
    add(sofar.commission, refund.commission),
    add(sofar.protection, refund.protection),
    add(sofar.service, refund.service),
    add(sofar.tax, refund.tax),
  );
}

export function isEmptyRefund(refund: RefundComponents): boolean {
  return isZero(refund.total);
}

/** R − C: what a refund takes from the owner (pending before close, payable after). */
export function ownerShare(components: { rental: Money; commission: Money }): Money {
  return subtract(components.rental, components.commission);
}
