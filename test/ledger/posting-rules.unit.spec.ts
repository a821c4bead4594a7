// Proves every posting rule of ACCOUNTING.md with exact amounts: each event type's lines
// (account, side, amount, dims, in the table's order), the values a rule takes from
// earlier events (a refund's owner and processor from its payment, a deposit release's
// processor from the rental's FIRST capture, a failed payout's processor from the paid
// payout), refunds meeting an open or a closed rental by log order, extensions summed on
// completion (per currency), zero-amount lines left out, the processing fee never
// given back, and an owner's pending share that refunds took below zero moved to payable
// the other way round. Method: given/when/then over the pure core (test/support/decider.ts); every
// expected figure is written out by hand from the contract's formulas.
import { describe, expect, it } from 'vitest';
import {
  adjustment, cancelled, captured, completed, depositApplied, depositReleased, disputeOpened,
  disputeWon, given, payoutFailed, payoutPaid, processorPayout, refunded, taxRemitted, when,
  type ExpectedLine,
} from '../support/decider.ts';

const deferred = { rental_id: 'r-1', market: 'US-CA' };
const market = { market: 'US-CA' };
const pending = { owner_id: 'o-1', rental_id: 'r-1' };
const owner = { owner_id: 'o-1' };
const held = { driver_id: 'd-1', rental_id: 'r-1' };
const stripe = { processor: 'stripe' };
const adyen = { processor: 'adyen' };

/** An extension of r-1 through another processor: R 100, C 25, P 15, S 10, T 9, D 50, F 5. */
const extension = captured({
  payment_id: 'p-2', processor: 'adyen', processor_ref: 'ch_2', rental_amount: '100.00',
  commission: '25.00', protection_fee: '15.00', service_fee: '10.00', tax: '9.00', deposit: '50.00',
  processor_fee: '5.00', total: '184.00',
});

/** Everything of p-1 but its deposit: R 300 (C 75), P 45, S 20, T 27 = 392.00. */
const fullRefund = refunded({
  rental_amount: '300.00', commission: '75.00', protection_fee: '45.00', service_fee: '20.00',
  tax: '27.00', total: '392.00',
});

/** The completion table of ACCOUNTING.md for given dc, ds, dp, op. */
function closingLines(dc: string, ds: string, dp: string, op: string): ExpectedLine[] {
  return [
    ['2300', 'debit', dc, deferred], ['4000', 'credit', dc, market],
    ['2310', 'debit', ds, deferred], ['4010', 'credit', ds, market],
    ['2320', 'debit', dp, deferred], ['4020', 'credit', dp, market],
    ['2000', 'debit', op, pending], ['2010', 'credit', op, owner],
  ];
}

describe('payment.captured', () => {
  it('posts an extension (second capture, new payment_id, open rental) with its own processor', () => {
    given([captured()]).when(extension).thenPosts([
      ['1100', 'debit', '179.00', adyen],
      ['5000', 'debit', '5.00', adyen],
      ['2300', 'credit', '25.00', deferred],
      ['2310', 'credit', '10.00', deferred],
      ['2320', 'credit', '15.00', deferred],
      ['2000', 'credit', '75.00', pending],
      ['2200', 'credit', '9.00', market],
      ['2100', 'credit', '50.00', held],
    ]);
  });

  it('leaves out the 2100 line of a capture with deposit 0', () => {
    when(captured({ deposit: '0', total: '392.00' })).thenPosts([
      ['1100', 'debit', '374.37', stripe],
      ['5000', 'debit', '17.63', stripe],
      ['2300', 'credit', '75.00', deferred],
      ['2310', 'credit', '20.00', deferred],
      ['2320', 'credit', '45.00', deferred],
      ['2000', 'credit', '225.00', pending],
      ['2200', 'credit', '27.00', market],
    ]);
  });

  it('leaves out the 5000 line of a capture with processor_fee 0 and 2300 with commission 0', () => {
    when(captured({ processor_fee: '0.00', commission: '0' })).thenPosts([
      ['1100', 'debit', '592.00', stripe],
      ['2310', 'credit', '20.00', deferred],
      ['2320', 'credit', '45.00', deferred],
      ['2000', 'credit', '300.00', pending],
      ['2200', 'credit', '27.00', market],
      ['2100', 'credit', '200.00', held],
    ]);
  });
});

describe('rental.completed and rental.cancelled', () => {
  it('sums dc, ds, dp and op over both payments of an extended rental', () => {
    given([captured(), extension]).when(completed())
      .thenPosts(closingLines('100.00', '30.00', '60.00', '300.00'));
  });

  it('recognises only what is left after a refund while open', () => {
    given([captured(), refunded()]).when(completed())
      .thenPosts(closingLines('50.00', '15.00', '30.00', '150.00'));
  });

  it('sums per currency: an extension in CAD closes in CAD lines, apart from the USD ones', () => {
    const inCad = captured({
      payment_id: 'p-2', currency: 'CAD', rental_amount: '100.00', commission: '20.00',
      protection_fee: '0', service_fee: '10.00', tax: '13.00', deposit: '0', processor_fee: '3.00',
      total: '123.00',
    });
    given([captured(), inCad]).when(completed()).thenPosts([
      ['2300', 'debit', '20.00', deferred, 'CAD'], ['4000', 'credit', '20.00', market, 'CAD'],
      ['2310', 'debit', '10.00', deferred, 'CAD'], ['4010', 'credit', '10.00', market, 'CAD'],
      ['2000', 'debit', '80.00', pending, 'CAD'], ['2010', 'credit', '80.00', owner, 'CAD'],
      ...closingLines('75.00', '20.00', '45.00', '225.00'),
    ]);
  });

  it('posts a cancellation like a completion: what is retained becomes revenue', () => {
    given([captured()]).when(cancelled())
      .thenPosts(closingLines('75.00', '20.00', '45.00', '225.00'));
  });

  it('recognises a cancellation fee (the service fee kept) after everything else was refunded', () => {
    const allButServiceFee = refunded({
      rental_amount: '300.00', commission: '75.00', protection_fee: '45.00', service_fee: '0',
      tax: '27.00', total: '372.00',
    });
    given([captured(), allButServiceFee]).when(cancelled()).thenPosts([
      ['2310', 'debit', '20.00', deferred],
      ['4010', 'credit', '20.00', market],
    ]);
  });

  it('moves a pending share that rounded refunds took below zero the other way: 2000 credit, 2010 debit', () => {
    // R 57.00, C 14.25 (owner 42.75); two half refunds R 28.50, C 7.12 (owner 21.38 each): op = −0.01.
    const capture = captured({
      rental_amount: '57.00', commission: '14.25', protection_fee: '0', service_fee: '0', tax: '0', deposit: '0',
      processor_fee: '1.95', total: '57.00',
    });
    const half = (refundId: string) => refunded({
      refund_id: refundId, rental_amount: '28.50', commission: '7.12', protection_fee: '0', service_fee: '0',
      tax: '0', total: '28.50',
    });
    const { ledger } = given([capture, half('rf-1'), half('rf-2')]).when(completed()).thenPosts([
      ['2300', 'debit', '0.01', deferred], ['4000', 'credit', '0.01', market],
      ['2000', 'credit', '0.01', pending], ['2010', 'debit', '0.01', owner],
    ]);
    expect(ledger.balanceMinor('2000', pending)).toBe(0n);
    expect(ledger.balanceMinor('2010', owner)).toBe(1n); // the owner owes the cent: payable −0.01
  });

  it('posts an entry with zero lines when nothing is left deferred or pending', () => {
    given([captured(), fullRefund]).when(completed()).thenPosts([]);
  });
});

describe('payment.refunded', () => {
  it('reverses deferred revenue and owner funds pending while the rental is open', () => {
    given([captured()]).when(refunded()).thenPosts([
      ['2300', 'debit', '25.00', deferred],
      ['2310', 'debit', '5.00', deferred],
      ['2320', 'debit', '15.00', deferred],
      ['2000', 'debit', '75.00', pending],
      ['2200', 'debit', '9.00', market],
      ['1100', 'credit', '129.00', stripe],
    ]);
  });

  it('hits contra-revenue and owner funds payable after the rental closed', () => {
    given([captured(), completed()]).when(refunded()).thenPosts([
      ['4100', 'debit', '25.00', market],
      ['4110', 'debit', '5.00', market],
      ['4120', 'debit', '15.00', market],
      ['2010', 'debit', '75.00', owner],
      ['2200', 'debit', '9.00', market],
      ['1100', 'credit', '129.00', stripe],
    ]);
  });

  it('treats a cancelled rental as closed too', () => {
    given([captured(), cancelled()]).when(refunded()).thenPosts([
      ['4100', 'debit', '25.00', market], ['4110', 'debit', '5.00', market],
      ['4120', 'debit', '15.00', market], ['2010', 'debit', '75.00', owner],
      ['2200', 'debit', '9.00', market], ['1100', 'credit', '129.00', stripe],
    ]);
  });

  it('goes by log order: dated before the completion but logged after, it meets a closed rental', () => {
    const completion = completed({}, { occurred_at: '2026-11-02T10:00:00Z' });
    const earlierDated = refunded({}, { occurred_at: '2026-10-31T09:00:00Z' });
    given([captured(), completion]).when(earlierDated).thenPosts([
      ['4100', 'debit', '25.00', market], ['4110', 'debit', '5.00', market],
      ['4120', 'debit', '15.00', market], ['2010', 'debit', '75.00', owner],
      ['2200', 'debit', '9.00', market], ['1100', 'credit', '129.00', stripe],
    ]);
  });

  it('goes by log order: dated after the completion but logged before, it meets an open rental', () => {
    const laterDated = refunded({}, { occurred_at: '2026-11-05T09:00:00Z' });
    const completion = completed({}, { occurred_at: '2026-11-02T10:00:00Z' });
    given([captured()]).when(laterDated).thenPosts([
      ['2300', 'debit', '25.00', deferred], ['2310', 'debit', '5.00', deferred],
      ['2320', 'debit', '15.00', deferred], ['2000', 'debit', '75.00', pending],
      ['2200', 'debit', '9.00', market], ['1100', 'credit', '129.00', stripe],
    ]);
    given([captured(), laterDated]).when(completion)
      .thenPosts(closingLines('50.00', '15.00', '30.00', '150.00'));
  });

  it('credits the processor of the refunded payment, not of the rental\'s first capture', () => {
    const refundOfExtension = refunded({
      payment_id: 'p-2', rental_amount: '40.00', commission: '10.00', protection_fee: '0',
      service_fee: '0', tax: '3.60', total: '43.60',
    });
    given([captured(), extension]).when(refundOfExtension).thenPosts([
      ['2300', 'debit', '10.00', deferred],
      ['2000', 'debit', '30.00', pending],
      ['2200', 'debit', '3.60', market],
      ['1100', 'credit', '43.60', adyen],
    ]);
  });

  it('never gives the processing fee back: no 5000 line, and 1100 keeps deposit − fee', () => {
    const { ledger } = given([captured()]).when(fullRefund).thenPosts([
      ['2300', 'debit', '75.00', deferred],
      ['2310', 'debit', '20.00', deferred],
      ['2320', 'debit', '45.00', deferred],
      ['2000', 'debit', '225.00', pending],
      ['2200', 'debit', '27.00', market],
      ['1100', 'credit', '392.00', stripe],
    ]);
    expect(ledger.balanceMinor('5000', stripe)).toBe(1_763n);
    expect(ledger.balanceMinor('1100', stripe)).toBe(18_237n); // 200.00 − 17.63
  });
});

describe('deposits', () => {
  it('releases through the processor of the rental\'s first capture', () => {
    given([captured()]).when(depositReleased()).thenPosts([
      ['2100', 'debit', '150.00', held],
      ['1100', 'credit', '150.00', stripe],
    ]);
  });

  it('releases through the FIRST capture\'s processor even after an extension through another', () => {
    given([captured(), extension]).when(depositReleased({ amount: '250.00' })).thenPosts([
      ['2100', 'debit', '250.00', held],
      ['1100', 'credit', '250.00', stripe],
    ]);
  });

  it('applies part of the deposit to the owner\'s payable', () => {
    given([captured()]).when(depositApplied()).thenPosts([
      ['2100', 'debit', '50.00', held],
      ['2010', 'credit', '50.00', owner],
    ]);
  });

  it('still releases after the rental closed', () => {
    given([captured(), completed(), depositApplied()]).when(depositReleased()).thenPosts([
      ['2100', 'debit', '150.00', held],
      ['1100', 'credit', '150.00', stripe],
    ]);
  });
});

describe('disputes', () => {
  it('opens: 5100 (payment\'s market) A, 5110 (payment\'s processor) fee, 1100 credit A + fee', () => {
    given([captured()]).when(disputeOpened()).thenPosts([
      ['5100', 'debit', '592.00', market],
      ['5110', 'debit', '15.00', stripe],
      ['1100', 'credit', '607.00', stripe],
    ]);
  });

  it('takes market and processor from the disputed payment (an extension through adyen)', () => {
    given([captured(), extension])
      .when(disputeOpened({ payment_id: 'p-2', amount: '184.00', dispute_fee: '20.00' }))
      .thenPosts([
        ['5100', 'debit', '184.00', market],
        ['5110', 'debit', '20.00', adyen],
        ['1100', 'credit', '204.00', adyen],
      ]);
  });

  it('leaves out 5110 for a dispute with no fee', () => {
    given([captured()]).when(disputeOpened({ amount: '100.00', dispute_fee: '0' })).thenPosts([
      ['5100', 'debit', '100.00', market],
      ['1100', 'credit', '100.00', stripe],
    ]);
  });

  it('wins back the amount, not the fee', () => {
    const { ledger } = given([captured(), disputeOpened()]).when(disputeWon()).thenPosts([
      ['1100', 'debit', '592.00', stripe],
      ['5100', 'credit', '592.00', market],
    ]);
    expect(ledger.balanceMinor('5100', market)).toBe(0n);
    expect(ledger.balanceMinor('5110', stripe)).toBe(1_500n);
  });
});

describe('payouts', () => {
  it('pays an owner: 2010 debit, 1100 (payout\'s processor) credit', () => {
    given([captured(), completed()]).when(payoutPaid()).thenPosts([
      ['2010', 'debit', '225.00', owner],
      ['1100', 'credit', '225.00', stripe],
    ]);
  });

  it('lets an owner\'s payable go negative (the rentals may travel on other partitions)', () => {
    const { ledger } = when(payoutPaid()).thenPosts([
      ['2010', 'debit', '225.00', owner],
      ['1100', 'credit', '225.00', stripe],
    ]);
    expect(ledger.balanceMinor('2010', owner)).toBe(22_500n);
  });

  it('fails back through the paid payout\'s processor', () => {
    given([payoutPaid({ processor: 'adyen' })]).when(payoutFailed()).thenPosts([
      ['1100', 'debit', '225.00', adyen],
      ['2010', 'credit', '225.00', owner],
    ]);
  });

  it('moves a positive processor payout from clearing to the bank', () => {
    when(processorPayout()).thenPosts([
      ['1000', 'debit', '1000.00', {}],
      ['1100', 'credit', '1000.00', stripe],
    ]);
  });

  it('moves a negative processor payout from the bank to clearing, by its absolute value', () => {
    when(processorPayout({ amount: '-250.00' })).thenPosts([
      ['1100', 'debit', '250.00', stripe],
      ['1000', 'credit', '250.00', {}],
    ]);
  });
});

describe('tax.remitted', () => {
  it('pays the market\'s tax from the bank', () => {
    when(taxRemitted()).thenPosts([
      ['2200', 'debit', '27.00', market],
      ['1000', 'credit', '27.00', {}],
    ]);
  });
});

describe('adjustment.posted', () => {
  it('posts the lines as given', () => {
    when(adjustment()).thenPosts([
      ['5900', 'debit', '12.50', {}],
      ['2010', 'credit', '12.50', owner],
    ]);
  });

  it('posts several lines in the given order, with the dims given and none for 1000', () => {
    const lines = [
      { account: '1100', side: 'debit', amount: '40.00', dims: { processor: 'adyen' } },
      { account: '2200', side: 'credit', amount: '30.00', dims: { market: 'CA-ON' } },
      { account: '1000', side: 'credit', amount: '10.00', dims: {} },
      { account: '5000', side: 'debit', amount: '1.25', dims: { processor: 'stripe' } },
      { account: '5900', side: 'credit', amount: '1.25' },
    ];
    when(adjustment({ currency: 'CAD', lines })).thenPosts([
      ['1100', 'debit', '40.00', adyen, 'CAD'],
      ['2200', 'credit', '30.00', { market: 'CA-ON' }, 'CAD'],
      ['1000', 'credit', '10.00', {}, 'CAD'],
      ['5000', 'debit', '1.25', stripe, 'CAD'],
      ['5900', 'credit', '1.25', {}, 'CAD'],
    ]);
  });
});

describe('the decision records the rule', () => {
  it('names the posting rule and its version on every posted decision', () => {
    const { outcome } = when(captured());
    expect(outcome.kind === 'posted' && [outcome.posting.rule, outcome.posting.ruleVersion])
      .toEqual(['payment.captured', 1]);
    const closing = given([captured()]).when(cancelled()).outcome;
    expect(closing.kind === 'posted' && closing.posting.rule).toBe('rental.cancelled');
  });
});
