// Proves that the worked example of ACCOUNTING.md posts exactly as the contract writes
// it: every line of the capture and of the completion (account, side, amount, dims, in
// the table's order), debits = credits = 592.00 for the capture, and that once both are
// posted the rental's deferred revenue (2300, 2310, 2320) and owner funds pending (2000)
// net to zero. Method: given/when/then over the pure core (test/support/decider.ts), the
// numbers typed in from the contract rather than computed.
import { describe, expect, it } from 'vitest';
import { captured, completed, given, when } from '../support/decider.ts';

const deferred = { rental_id: 'r-1', market: 'US-CA' };
const market = { market: 'US-CA' };

describe('ACCOUNTING.md worked example: R 300.00, C 75.00, P 45.00, S 20.00, T 27.00, D 200.00, F 17.63', () => {
  const capture = captured({}, { occurred_at: '2026-10-30T14:22:05.123Z' });
  const completion = completed({}, { occurred_at: '2026-11-02T10:00:00Z' });

  it('posts the capture (October) line for line', () => {
    when(capture).thenPosts([
      ['1100', 'debit', '574.37', { processor: 'stripe' }],
      ['5000', 'debit', '17.63', { processor: 'stripe' }],
      ['2300', 'credit', '75.00', deferred],
      ['2310', 'credit', '20.00', deferred],
      ['2320', 'credit', '45.00', deferred],
      ['2000', 'credit', '225.00', { owner_id: 'o-1', rental_id: 'r-1' }],
      ['2200', 'credit', '27.00', market],
      ['2100', 'credit', '200.00', { driver_id: 'd-1', rental_id: 'r-1' }],
    ]);
  });

  it('has capture debits 592.00 = credits 592.00', () => {
    const { outcome } = when(capture);
    if (outcome.kind !== 'posted') throw new Error(`capture did not post: ${JSON.stringify(outcome)}`);
    const sideMinor = (side: string) => outcome.posting.lines
      .filter((l) => l.side === side).reduce((total, l) => total + l.amount.minor, 0n);
    expect(sideMinor('debit')).toBe(59_200n);
    expect(sideMinor('credit')).toBe(59_200n);
  });

  it('posts the completion (November) line for line', () => {
    given([capture]).when(completion).thenPosts([
      ['2300', 'debit', '75.00', deferred],
      ['4000', 'credit', '75.00', market],
      ['2310', 'debit', '20.00', deferred],
      ['4010', 'credit', '20.00', market],
      ['2320', 'debit', '45.00', deferred],
      ['4020', 'credit', '45.00', market],
      ['2000', 'debit', '225.00', { owner_id: 'o-1', rental_id: 'r-1' }],
      ['2010', 'credit', '225.00', { owner_id: 'o-1' }],
    ]);
  });

  it('leaves 2300, 2310, 2320 and 2000 at zero for the rental once both are posted', () => {
    const { ledger } = given([capture]).when(completion).thenPosts([
      ['2300', 'debit', '75.00', deferred], ['4000', 'credit', '75.00', market],
      ['2310', 'debit', '20.00', deferred], ['4010', 'credit', '20.00', market],
      ['2320', 'debit', '45.00', deferred], ['4020', 'credit', '45.00', market],
      ['2000', 'debit', '225.00', { owner_id: 'o-1', rental_id: 'r-1' }],
      ['2010', 'credit', '225.00', { owner_id: 'o-1' }],
    ]);
    for (const account of ['2300', '2310', '2320', '2000']) {
      expect(ledger.balanceMinor(account, { rental_id: 'r-1' }), account).toBe(0n);
    }
    // What stays: revenue recognised 140.00, owner payable 225.00, tax 27.00, deposit 200.00.
    expect(ledger.balanceMinor('4000') + ledger.balanceMinor('4010') + ledger.balanceMinor('4020'))
      .toBe(-14_000n);
    expect(ledger.balanceMinor('2010', { owner_id: 'o-1' })).toBe(-22_500n);
    expect(ledger.balanceMinor('2200', market)).toBe(-2_700n);
    expect(ledger.balanceMinor('2100', { rental_id: 'r-1' })).toBe(-20_000n);
  });

  it('holds 140.00 deferred after the capture alone (October month end), none recognised', () => {
    const { ledger } = given([capture]);
    const deferredMinor = ['2300', '2310', '2320']
      .reduce((total, account) => total + ledger.balanceMinor(account, { rental_id: 'r-1' }), 0n);
    expect(deferredMinor).toBe(-14_000n);
    expect(ledger.balanceMinor('4000') + ledger.balanceMinor('4010') + ledger.balanceMinor('4020')).toBe(0n);
  });
});
