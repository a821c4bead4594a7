// Proves that the projection state survives the trip through the database's JSON
// (encodeState → decodeState) unchanged, Money included, for every kind of state the
// rules write, even with amounts beyond 2^53 minor units. (Every other rule test also runs
// on stored state: test/support/decider.ts keeps the encoded JSON.) Method: build the
// states by posting real events through the core, round-trip each one, and compare.
import { describe, expect, it } from 'vitest';
import { fromMinor } from '../../src/ledger/money.ts';
import { decodeState, encodeState, refKey, type RefState } from '../../src/ledger/state.ts';
import {
  adjustment, captured, completed, depositApplied, disputeOpened, given, payoutFailed, payoutPaid,
  processorPayout, refunded, taxRemitted,
} from '../support/decider.ts';

describe('encodeState / decodeState', () => {
  it('round-trips every kind of state the rules write', () => {
    const { ledger } = given([
      captured(), captured({ payment_id: 'p-2', currency: 'CAD' }), refunded(), depositApplied(),
      disputeOpened(), completed(), payoutPaid(), payoutFailed(), processorPayout(), taxRemitted(),
      adjustment(),
    ]);
    const kinds = new Set<string>();
    for (const stored of ledger.state.values()) {
      const state = decodeState(stored);
      kinds.add(state.kind);
      expect(encodeState(decodeState(encodeState(state)))).toBe(stored);
    }
    expect([...kinds].sort()).toEqual([
      'adjustment', 'dispute', 'payment', 'payout', 'processor_payout', 'refund', 'remittance', 'rental',
    ]);
    const rental = decodeState(ledger.state.get(refKey('rental', 'r-1')) as string);
    expect(rental.kind === 'rental' && [rental.status, rental.processor, rental.deposits.USD])
      .toEqual(['closed', 'stripe', { captured: fromMinor('USD', 20_000n), used: fromMinor('USD', 5_000n) }]);
  });

  it('writes the stored format of the first release, so states already stored still decode', () => {
    // The format is JSON.stringify's with bigint as a decimal string; the encoder is
    // hand-written for speed and must not drift from it.
    const firstRelease = (state: RefState) => JSON.stringify(state, (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value);
    const { ledger } = given([captured(), refunded(), depositApplied(), disputeOpened(), completed(), payoutPaid()]);
    for (const stored of ledger.state.values()) {
      const state = decodeState(stored);
      expect(encodeState(state)).toBe(firstRelease(state));
      expect(decodeState(firstRelease(state))).toEqual(state);
    }
    const awkward: RefState = {
      kind: 'payout', owner_id: 'o"\\\n😀', currency: 'CAD', amount: fromMinor('CAD', -5n),
      processor: 'p', failed: true,
    };
    expect(encodeState(awkward)).toBe(firstRelease(awkward));
  });

  it('keeps Money exact beyond 2^53 minor units', () => {
    const big = fromMinor('USD', 10n ** 15n + 1n);
    const payout: RefState = {
      kind: 'payout', owner_id: 'o-1', currency: 'USD', amount: big, processor: 'stripe', failed: false,
    };
    const decoded = decodeState(encodeState(payout));
    expect(decoded).toEqual(payout);
    expect(decoded.kind === 'payout' && decoded.amount.minor).toBe(1_000_000_000_000_001n);
  });
});
