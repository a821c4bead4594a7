// Proves every rejection code of EVENTS.md, each with tests of its own, walked in the
// contract's order of checks (Precise rules): UTF-8 → JSON (malformed_json) → envelope
// (invalid_envelope) → schema_version (unsupported_version) → type (unknown_type) →
// redelivery (duplicate / conflicting_duplicate) → field presence and type
// (invalid_field) → amount syntax (invalid_amount) → arithmetic (unbalanced) → an
// adjustment's approval (unapproved_adjustment) → references and state
// (unknown_reference, duplicate_reference, rental_closed, exceeds_remaining).
// Where a message breaks two rules, a precedence test shows the earlier one wins. State
// checks follow the lead's reading in rules.ts: own id duplicated → unknown reference →
// decided twice → rental closed → disagreement (invalid_field) → exceeds remaining.
// Method: given/when/then over prepareMessage + decideMessage (test/support/decider.ts),
// with messages built from the worked example and broken one field at a time; the last
// test checks that this file asserted every code of the catalogue.
import { afterAll, describe, expect, it } from 'vitest';
import { limits } from '../../src/limits.ts';
import { signAdjustmentApproval } from '../../src/ledger/approval.ts';
import { rejectionReasons } from '../../src/ledger/rejections.ts';
import { testSigningKey, untrustedKey } from '../support/keys.ts';
import {
  adjustment, cancelled, captured, completed, depositApplied, depositReleased, disputeOpened,
  disputeWon, envelope, given, payoutFailed, payoutPaid, processorPayout, reasonsAsserted, refunded,
  refused, taxRemitted, when, without, type RawEnvelope,
} from '../support/decider.ts';

/** The message's JSON text with one piece of it replaced, as bytes. */
function edited(message: RawEnvelope, from: string, to: string): Buffer {
  const text = JSON.stringify(message);
  if (!text.includes(from)) throw new Error(`${from} is not in ${text}`);
  return Buffer.from(text.replace(from, to), 'utf8');
}

function reversedKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const entries = Object.entries(value as Record<string, unknown>).reverse();
  return Object.fromEntries(entries.map(([k, v]) => [k, reversedKeys(v)]));
}

describe('catalogue', () => {
  it('is the fixed list of EVENTS.md (plus conflicting_duplicate), nothing more', () => {
    expect([...rejectionReasons].sort()).toEqual([
      'conflicting_duplicate', 'duplicate_reference', 'exceeds_remaining', 'invalid_amount',
      'invalid_envelope', 'invalid_field', 'malformed_json', 'rental_closed', 'unapproved_adjustment',
      'unbalanced', 'unknown_reference', 'unknown_type', 'unsupported_version',
    ]);
  });

  it('lists unapproved_adjustment right after unbalanced, in the contract\'s order of checks', () => {
    expect(rejectionReasons.indexOf('unapproved_adjustment')).toBe(rejectionReasons.indexOf('unbalanced') + 1);
  });
});

describe('malformed_json', () => {
  it('refuses bytes that are not valid UTF-8 (strict), even inside a string', () => {
    when(Buffer.from([0x7b, 0xff, 0x7d])).thenRejects('malformed_json', 'UTF-8');
    const valid = Buffer.from(JSON.stringify(captured({ processor_ref: 'ch_AB' })), 'utf8');
    const at = valid.indexOf('ch_AB');
    valid[at + 3] = 0xc3; // 0xC3 0x42 is a lead byte without its continuation
    when(valid).thenRejects('malformed_json', 'UTF-8');
  });

  it('refuses an overlong encoding and an encoded surrogate', () => {
    when(Buffer.from([0x22, 0xc0, 0xaf, 0x22])).thenRejects('malformed_json');
    when(Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22])).thenRejects('malformed_json');
  });

  it('refuses truncated JSON', () => {
    const text = JSON.stringify(captured());
    when(Buffer.from(text.slice(0, text.length - 5), 'utf8')).thenRejects('malformed_json', 'not JSON');
  });

  it('refuses NaN and Infinity', () => {
    when(edited(captured(), '"total":"592.00"', '"total":NaN')).thenRejects('malformed_json');
    when(edited(captured(), '"schema_version":1', '"schema_version":Infinity')).thenRejects('malformed_json');
    when(edited(captured(), '"tax":"27.00"', '"tax":-Infinity')).thenRejects('malformed_json');
  });

  it('refuses a number that JSON.parse reads as Infinity (1e400), instead of throwing', () => {
    when(edited(captured(), '"total":"592.00"', '"total":1e400')).thenRejects('malformed_json', 'Infinity');
    when(edited(captured(), '"tax":"27.00"', '"tax":"27.00","extra":[-1e400]')).thenRejects('malformed_json');
  });

  it('refuses nesting too deep to hash, instead of exhausting the stack', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    when(edited(captured(), '"total":"592.00"', `"total":"592.00","extra":${deep}`))
      .thenRejects('malformed_json', 'nests deeper');
  });

  it('refuses a message with no value (a tombstone) and an empty value', () => {
    when(null).thenRejects('malformed_json', 'no value');
    when(Buffer.alloc(0)).thenRejects('malformed_json');
  });

  it('refuses, unread, a value above limits.messageBytesMax', () => {
    when(Buffer.alloc(limits.messageBytesMax + 1, 0x20)).thenRejects('malformed_json', 'bytes');
  });
});

describe('invalid_envelope', () => {
  it.each([['[]'], ['"a string"'], ['42'], ['null'], ['true']])('refuses %s: not an object', (text) => {
    when(Buffer.from(text, 'utf8')).thenRejects('invalid_envelope', 'not a JSON object');
  });

  it.each(['event_id', 'type', 'schema_version', 'occurred_at', 'producer', 'data'])(
    'refuses an envelope without %s', (field) => {
      when(without(captured(), field)).thenRejects('invalid_envelope', `${field} is missing`);
    });

  it.each([
    ['not-a-uuid'], ['3f1c2a9e6a574c1e9f0e2d7b1e8a4c10'], ['{3f1c2a9e-6a57-4c1e-9f0e-2d7b1e8a4c10}'],
    ['3f1c2a9e-6a57-4c1e-9f0e-2d7b1e8a4c1g'], [''], [42], [null],
  ])('refuses event_id %j: not a UUID', (eventId) => {
    when(captured({}, { event_id: eventId })).thenRejects('invalid_envelope', 'event_id');
  });

  it('accepts a UUID of any version, in upper case', () => {
    when(captured({}, { event_id: '3F1C2A9E-6A57-1C1E-9F0E-2D7B1E8A4C10' })).thenPosts([
      ['1100', 'debit', '574.37', { processor: 'stripe' }],
      ['5000', 'debit', '17.63', { processor: 'stripe' }],
      ['2300', 'credit', '75.00', { rental_id: 'r-1', market: 'US-CA' }],
      ['2310', 'credit', '20.00', { rental_id: 'r-1', market: 'US-CA' }],
      ['2320', 'credit', '45.00', { rental_id: 'r-1', market: 'US-CA' }],
      ['2000', 'credit', '225.00', { owner_id: 'o-1', rental_id: 'r-1' }],
      ['2200', 'credit', '27.00', { market: 'US-CA' }],
      ['2100', 'credit', '200.00', { driver_id: 'd-1', rental_id: 'r-1' }],
    ]);
  });

  it.each([
    ['2026-10-30T14:22:05.123', 'no zone'],
    ['2026-10-30T14:22:05', 'no zone, no fraction'],
    ['2026-10-30', 'a date only'],
    ['2026-02-30T10:00:00Z', 'an impossible date'],
    ['2026-13-01T10:00:00Z', 'an impossible month'],
    ['2026-10-30T24:00:00Z', 'hour 24'],
    ['2026-10-30T10:60:00Z', 'minute 60'],
    ['2026-10-30T10:00:00+25:00', 'an impossible offset'],
    ['30/10/2026 10:00', 'not RFC 3339'],
    [1793404800000, 'a number'],
  ])('refuses occurred_at %j (%s)', (occurredAt, _why) => {
    when(captured({}, { occurred_at: occurredAt })).thenRejects('invalid_envelope', 'occurred_at');
  });

  it('refuses an empty producer and a producer that is not a string', () => {
    when(captured({}, { producer: '' })).thenRejects('invalid_envelope', 'producer');
    when(captured({}, { producer: 7 })).thenRejects('invalid_envelope', 'producer');
  });

  it.each([[[]], [null], ['data'], [1]])('refuses data %j: not an object', (data) => {
    when({ ...captured(), data }).thenRejects('invalid_envelope', 'data is not a JSON object');
  });

  it('refuses a type that is not a string', () => {
    when(captured({}, { type: 5 })).thenRejects('invalid_envelope', 'type');
  });

  it('refuses schema_version "1" (a string) and 1.0 (not an integer token)', () => {
    when(captured({}, { schema_version: '1' })).thenRejects('invalid_envelope', 'schema_version');
    when(edited(captured(), '"schema_version":1', '"schema_version":1.0'))
      .thenRejects('invalid_envelope', 'schema_version 1.0');
    when(edited(captured(), '"schema_version":1', '"schema_version":1e0'))
      .thenRejects('invalid_envelope', 'schema_version');
    when(captured({}, { schema_version: null })).thenRejects('invalid_envelope', 'schema_version');
  });
});

describe('unsupported_version', () => {
  it.each([[2], [0], [-1]])('refuses schema_version %j: an integer other than 1', (version) => {
    when(captured({}, { schema_version: version })).thenRejects('unsupported_version', `schema_version ${version}`);
  });
});

describe('unknown_type', () => {
  it.each([['payment.settled'], ['Payment.Captured'], ['']])('refuses type %j', (type) => {
    when(captured({}, { type })).thenRejects('unknown_type');
  });

  it('carries the event_id and type it could read, for the quarantine record', () => {
    const message = captured({}, { type: 'payment.settled', event_id: '3F1C2A9E-6A57-4C1E-9F0E-2D7B1E8A4C10' });
    const { outcome } = when(message).thenRejects('unknown_type');
    expect(outcome.kind === 'quarantined' && [outcome.eventId?.toLowerCase(), outcome.type])
      .toEqual(['3f1c2a9e-6a57-4c1e-9f0e-2d7b1e8a4c10', 'payment.settled']);
  });
});

describe('precedence up to type', () => {
  it('schema_version "1" and an unknown type: invalid_envelope', () => {
    when(captured({}, { schema_version: '1', type: 'payment.settled' })).thenRejects('invalid_envelope');
  });

  it('schema_version 2 and an unknown type: unsupported_version', () => {
    when(captured({}, { schema_version: 2, type: 'payment.settled' })).thenRejects('unsupported_version');
  });

  it('a bad event_id and schema_version 2: invalid_envelope', () => {
    when(captured({}, { event_id: 'x', schema_version: 2 })).thenRejects('invalid_envelope');
  });

  it('an unknown type and data that would fail every check: unknown_type', () => {
    when(envelope('payment.settled', { total: 'NaN' })).thenRejects('unknown_type');
  });

  it('an unknown type reusing a posted event_id: unknown_type (type before redelivery)', () => {
    const first = captured();
    given([first]).when({ ...first, type: 'payment.settled' }).thenRejects('unknown_type');
  });
});

describe('redelivery: duplicate and conflicting_duplicate', () => {
  it('records the same event again as a duplicate that posts nothing and changes no state', () => {
    const first = captured();
    const spec = given([first]);
    const journalBefore = spec.ledger.journal.length;
    const stateBefore = new Map(spec.ledger.state);
    const { outcome } = spec.when(first).thenDuplicate();
    expect(spec.ledger.journal.length).toBe(journalBefore);
    expect(spec.ledger.state).toEqual(stateBefore);
    expect(outcome.kind === 'duplicate' && outcome.original.position.offset).toBe(0);
  });

  it('ignores key order (envelope and data) when comparing', () => {
    const first = captured();
    given([first]).when(Buffer.from(JSON.stringify(reversedKeys(first)), 'utf8')).thenDuplicate();
  });

  it('compares event_id case-insensitively', () => {
    const first = captured();
    given([first]).when({ ...first, event_id: (first.event_id as string).toUpperCase() }).thenDuplicate();
  });

  it('compares only type and data: another occurred_at or producer is still the same event', () => {
    const first = captured();
    given([first]).when({ ...first, occurred_at: '2026-10-31T00:00:00Z', producer: 'retry' }).thenDuplicate();
  });

  it('is a duplicate even when the state has moved on (redelivery before references and state)', () => {
    const first = captured();
    given([first, completed()]).when(first).thenDuplicate();
  });

  it('quarantines the same event_id with different data as conflicting_duplicate, naming the original', () => {
    const first = captured();
    given([first]).when({ ...first, data: { ...(first.data as RawEnvelope), tax: '27.01' } })
      .thenRejects('conflicting_duplicate', 'marketplace.events/0@0');
  });

  it('quarantines the same event_id for another type as conflicting_duplicate', () => {
    const first = captured();
    given([first]).when(completed({}, { event_id: first.event_id })).thenRejects('conflicting_duplicate');
  });

  it('compares event_id case-insensitively for conflicts too', () => {
    const first = captured();
    const upper = (first.event_id as string).toUpperCase();
    given([first]).when(captured({ processor_ref: 'ch_9' }, { event_id: upper })).thenRejects('conflicting_duplicate');
  });

  it('compares strings exactly: "ch_1" is not "CH_1", "592.00" is not "592.0"', () => {
    const first = captured();
    given([first]).when(captured({ processor_ref: 'CH_1' }, { event_id: first.event_id }))
      .thenRejects('conflicting_duplicate');
    given([first]).when(captured({ total: '592.0' }, { event_id: first.event_id }))
      .thenRejects('conflicting_duplicate');
  });

  it('treats an extra data field as different data', () => {
    const first = captured();
    given([first]).when(captured({ note: 'retry' }, { event_id: first.event_id })).thenRejects('conflicting_duplicate');
  });

  it('checks redelivery before field presence: a reused id with broken data is conflicting_duplicate', () => {
    const first = captured();
    given([first]).when(captured({ market: undefined }, { event_id: first.event_id }))
      .thenRejects('conflicting_duplicate');
  });

  it('lets a message reuse the id of a QUARANTINED message: it is validated afresh and posts', () => {
    const bad = captured({ tax: '27.001' });
    given([refused(bad)]).when(captured({}, { event_id: bad.event_id })).thenPosts([
      ['1100', 'debit', '574.37', { processor: 'stripe' }],
      ['5000', 'debit', '17.63', { processor: 'stripe' }],
      ['2300', 'credit', '75.00', { rental_id: 'r-1', market: 'US-CA' }],
      ['2310', 'credit', '20.00', { rental_id: 'r-1', market: 'US-CA' }],
      ['2320', 'credit', '45.00', { rental_id: 'r-1', market: 'US-CA' }],
      ['2000', 'credit', '225.00', { owner_id: 'o-1', rental_id: 'r-1' }],
      ['2200', 'credit', '27.00', { market: 'US-CA' }],
      ['2100', 'credit', '200.00', { driver_id: 'd-1', rental_id: 'r-1' }],
    ]);
  });

  it('validates a redelivered quarantined message afresh: same reason, not a duplicate', () => {
    const bad = captured({ tax: '27.001' });
    given([refused(bad)]).when(bad).thenRejects('invalid_amount');
  });
});

describe('invalid_field: presence and type', () => {
  const capturedFields = [
    'payment_id', 'rental_id', 'driver_id', 'owner_id', 'market', 'processor', 'processor_ref',
    'currency', 'rental_amount', 'commission', 'protection_fee', 'service_fee', 'tax', 'deposit',
    'processor_fee', 'total',
  ];
  it.each(capturedFields)('refuses a capture without %s', (field) => {
    when(captured({ [field]: undefined })).thenRejects('invalid_field', `data.${field} is missing`);
  });

  it.each([
    ['rental.completed', completed, 'owner_id'],
    ['payment.refunded', refunded, 'refund_id'],
    ['deposit.released', depositReleased, 'amount'],
    ['deposit.applied', depositApplied, 'claim_id'],
    ['dispute.opened', disputeOpened, 'dispute_fee'],
    ['dispute.won', disputeWon, 'processor_ref'],
    ['payout.paid', payoutPaid, 'processor'],
    ['payout.failed', payoutFailed, 'failure_code'],
    ['processor.payout', processorPayout, 'arrival_date'],
    ['tax.remitted', taxRemitted, 'period'],
    ['adjustment.posted', adjustment, 'approved_by'],
  ] as const)('refuses a %s without %s', (_type, build, field) => {
    when(build({ [field]: undefined })).thenRejects('invalid_field', `data.${field} is missing`);
  });

  it.each([
    ['payment_id', 42], ['rental_id', null], ['market', true], ['owner_id', ['o-1']],
    ['processor', { name: 'stripe' }],
  ])('refuses a wrongly typed %s (%j)', (field, value) => {
    when(captured({ [field]: value })).thenRejects('invalid_field', `data.${field}`);
  });

  it.each(['payment_id', 'rental_id', 'driver_id', 'owner_id', 'market', 'processor', 'processor_ref'])(
    'refuses an empty %s', (field) => {
      when(captured({ [field]: '' })).thenRejects('invalid_field', `data.${field} "" is not a non-empty string`);
    });

  it('stays quiet about unknown extra data fields (allowed and kept)', () => {
    const { outcome } = when(captured({ channel: 'app', promo: { code: 'X' } }));
    expect(outcome.kind === 'posted' && outcome.envelope.data.promo).toEqual({ code: 'X' });
  });

  it.each([['usd'], ['EUR'], [' USD'], ['USD '], ['']])('refuses currency %j: not exactly USD or CAD', (currency) => {
    when(captured({ currency })).thenRejects('invalid_field', 'data.currency');
  });

  it.each([['2026-11-3'], ['2026-02-30'], ['2026/11/03'], ['2026-11-03T00:00:00Z'], [20261103]])(
    'refuses arrival_date %j: not YYYY-MM-DD', (arrivalDate) => {
      when(processorPayout({ arrival_date: arrivalDate })).thenRejects('invalid_field', 'data.arrival_date');
    });

  it.each([['2026-13'], ['2026-1'], ['2026-10-01'], ['202610'], ['2026-00']])(
    'refuses period %j: not YYYY-MM', (period) => {
      when(taxRemitted({ period })).thenRejects('invalid_field', 'data.period');
    });
});

describe('invalid_field: arithmetic comparisons', () => {
  it('refuses a capture whose commission exceeds its rental_amount', () => {
    when(captured({ commission: '300.01' }))
      .thenRejects('invalid_field', 'commission 300.01 exceeds rental_amount 300.00');
  });

  it('refuses a refund whose commission exceeds its rental_amount', () => {
    given([captured()]).when(refunded({ commission: '100.01' })).thenRejects('invalid_field', 'commission');
  });

  it('refuses a capture whose processor_fee exceeds its total', () => {
    when(captured({ processor_fee: '592.01' })).thenRejects('invalid_field', 'processor_fee 592.01 exceeds total');
  });

  it('accepts commission = rental_amount and processor_fee = total (the bounds are inclusive)', () => {
    const { outcome } = when(captured({ commission: '300.00', processor_fee: '592.00' }));
    expect(outcome.kind).toBe('posted');
  });
});

describe('invalid_field: disagreement with what the event refers to', () => {
  it('refuses a refund whose rental_id or currency disagrees with its payment', () => {
    given([captured()]).when(refunded({ rental_id: 'r-2' })).thenRejects('invalid_field', 'data.rental_id "r-2"');
    given([captured()]).when(refunded({ currency: 'CAD' })).thenRejects('invalid_field', 'data.currency "CAD"');
  });

  it('refuses a dispute.opened whose rental_id or currency disagrees with its payment', () => {
    given([captured()]).when(disputeOpened({ rental_id: 'r-2' })).thenRejects('invalid_field', 'data.rental_id');
    given([captured()]).when(disputeOpened({ currency: 'CAD' })).thenRejects('invalid_field', 'data.currency');
  });

  it('refuses a dispute.won whose rental_id, currency or amount disagrees with the dispute', () => {
    const opened = [captured(), disputeOpened()];
    given(opened).when(disputeWon({ rental_id: 'r-2' })).thenRejects('invalid_field', 'data.rental_id');
    given(opened).when(disputeWon({ currency: 'CAD' })).thenRejects('invalid_field', 'data.currency');
    given(opened).when(disputeWon({ amount: '591.99' })).thenRejects('invalid_field', 'data.amount');
  });

  it('refuses a payout.failed whose owner, currency or amount disagrees with the payout', () => {
    given([payoutPaid()]).when(payoutFailed({ owner_id: 'o-2' })).thenRejects('invalid_field', 'data.owner_id');
    given([payoutPaid()]).when(payoutFailed({ currency: 'CAD' })).thenRejects('invalid_field', 'data.currency');
    given([payoutPaid()]).when(payoutFailed({ amount: '225.01' })).thenRejects('invalid_field', 'data.amount');
  });

  it('refuses a deposit whose driver, owner or currency disagrees with the rental', () => {
    given([captured()]).when(depositReleased({ driver_id: 'd-2' })).thenRejects('invalid_field', 'data.driver_id');
    given([captured()]).when(depositApplied({ driver_id: 'd-2' })).thenRejects('invalid_field', 'data.driver_id');
    given([captured()]).when(depositApplied({ owner_id: 'o-2' })).thenRejects('invalid_field', 'data.owner_id');
    given([captured()]).when(depositReleased({ currency: 'CAD' })).thenRejects('invalid_field', 'CAD');
  });

  it.each([['owner_id', 'o-2'], ['driver_id', 'd-2'], ['market', 'US-TX']])(
    'refuses a completion whose %s disagrees with the rental\'s capture (lead\'s reading)', (field, value) => {
      given([captured()]).when(completed({ [field]: value })).thenRejects('invalid_field', `data.${field}`);
      given([captured()]).when(cancelled({ [field]: value })).thenRejects('invalid_field', `data.${field}`);
    });

  it.each([['owner_id', 'o-2'], ['driver_id', 'd-2'], ['market', 'US-TX']])(
    'refuses an extension capture whose %s disagrees with the rental\'s first capture (lead\'s reading)',
    (field, value) => {
      given([captured()]).when(captured({ payment_id: 'p-2', [field]: value }))
        .thenRejects('invalid_field', `data.${field}`);
    });
});

describe('invalid_field: adjustments', () => {
  const debit = { account: '5900', side: 'debit', amount: '10.00' };
  const credit = { account: '1000', side: 'credit', amount: '10.00' };

  it('refuses fewer than two lines, and lines that are not an array', () => {
    when(adjustment({ lines: [debit] })).thenRejects('invalid_field', 'at least two');
    when(adjustment({ lines: [] })).thenRejects('invalid_field', 'at least two');
    when(adjustment({ lines: { 0: debit, 1: credit } })).thenRejects('invalid_field', 'data.lines');
  });

  it('refuses an account not in the chart, and one not open to manual entries', () => {
    when(adjustment({ lines: [debit, { ...credit, account: '9999' }] }))
      .thenRejects('invalid_field', '"9999" is not in the chart');
    const pendingLine = { ...credit, account: '2000', dims: { owner_id: 'o-1', rental_id: 'r-1' } };
    when(adjustment({ lines: [debit, pendingLine] }))
      .thenRejects('invalid_field', '2000 is not open to manual entries');
  });

  it('refuses dimensions other than exactly the account\'s', () => {
    const missing = { account: '2010', side: 'credit', amount: '10.00' };
    const other = { ...missing, dims: { processor: 'stripe' } };
    const extra = { ...missing, dims: { owner_id: 'o-1', market: 'US-CA' } };
    const onNone = { ...credit, dims: { market: 'US-CA' } };
    const empty = { ...missing, dims: { owner_id: '' } };
    for (const bad of [missing, other, extra, onNone, empty]) {
      when(adjustment({ lines: [debit, bad] })).thenRejects('invalid_field', 'dims');
    }
  });

  it('refuses a side other than "debit" or "credit" and a line without an amount', () => {
    when(adjustment({ lines: [debit, { ...credit, side: 'CREDIT' }] })).thenRejects('invalid_field', 'side');
    when(adjustment({ lines: [debit, { account: '1000', side: 'credit' }] }))
      .thenRejects('invalid_field', 'amount is missing');
  });

  it('refuses requested_by equal to approved_by', () => {
    when(adjustment({ approved_by: 'alice' })).thenRejects('invalid_field', 'data.approved_by "alice"');
  });
});

describe('invalid_amount', () => {
  it.each([
    ['the JSON number 300', 300], ['the JSON number 300.5', 300.5], ['""', ''], ['"1e3"', '1e3'],
    ['"-5.00"', '-5.00'], ['"+5"', '+5'], ['"1,250.00"', '1,250.00'], ['" 5"', ' 5'], ['"5 "', '5 '],
    ['"5."', '5.'], ['".5"', '.5'], ['"12.345"', '12.345'], ['"0x10"', '0x10'], ['"Infinity"', 'Infinity'],
  ])('refuses a capture rental_amount of %s', (_shown, value) => {
    when(captured({ rental_amount: value })).thenRejects('invalid_amount', 'rental_amount');
  });

  it('refuses more fractional digits than CAD allows', () => {
    when(taxRemitted({ currency: 'CAD', amount: '12.345' })).thenRejects('invalid_amount', 'CAD allows at most 2');
  });

  it.each([
    ['payment.refunded', () => refunded({ tax: '1e3' }), 'tax'],
    ['deposit.released', () => depositReleased({ amount: '1e3' }), 'amount'],
    ['deposit.applied', () => depositApplied({ amount: '-1' }), 'amount'],
    ['dispute.opened', () => disputeOpened({ dispute_fee: '15' + '.000' }), 'dispute_fee'],
    ['dispute.won', () => disputeWon({ amount: 592 }), 'amount'],
    ['payout.paid', () => payoutPaid({ amount: '1,000' }), 'amount'],
    ['payout.failed', () => payoutFailed({ amount: '+225.00' }), 'amount'],
    ['processor.payout', () => processorPayout({ amount: '+1000.00' }), 'amount'],
    ['tax.remitted', () => taxRemitted({ amount: '.5' }), 'amount'],
    ['adjustment.posted', () => adjustment({
      lines: [{ account: '5900', side: 'debit', amount: '5.' }, { account: '1000', side: 'credit', amount: '5.' }],
    }), 'lines[0].amount'],
  ] as const)('refuses a bad amount in %s', (_type, build, field) => {
    when(build()).thenRejects('invalid_amount', field);
  });

  it('refuses a zero payout.paid', () => {
    when(payoutPaid({ amount: '0.00' })).thenRejects('invalid_amount', 'above zero');
    when(payoutPaid({ amount: '0' })).thenRejects('invalid_amount');
  });

  it('refuses a zero processor.payout, signed or not', () => {
    when(processorPayout({ amount: '0' })).thenRejects('invalid_amount', 'zero');
    when(processorPayout({ amount: '-0.00' })).thenRejects('invalid_amount', 'zero');
  });

  it('refuses a zero adjustment line', () => {
    const lines = [
      { account: '5900', side: 'debit', amount: '10.00' },
      { account: '1000', side: 'credit', amount: '10.00' },
      { account: '5000', side: 'debit', amount: '0.00', dims: { processor: 'stripe' } },
    ];
    when(adjustment({ lines })).thenRejects('invalid_amount', 'lines[2].amount is zero');
  });

  it('allows a leading "-" only on processor.payout', () => {
    expect(when(processorPayout({ amount: '-5.00' })).outcome.kind).toBe('posted');
    when(payoutPaid({ amount: '-5.00' })).thenRejects('invalid_amount');
    when(taxRemitted({ amount: '-5.00' })).thenRejects('invalid_amount');
    when(processorPayout({ amount: '--5.00' })).thenRejects('invalid_amount');
    when(processorPayout({ amount: '- 5.00' })).thenRejects('invalid_amount');
  });

  it('allows leading zeros and fewer fractional digits than the currency has', () => {
    when(taxRemitted({ amount: '0027.5' })).thenPosts([
      ['2200', 'debit', '27.50', { market: 'US-CA' }],
      ['1000', 'credit', '27.50', {}],
    ]);
    when(processorPayout({ amount: '-007' })).thenPosts([
      ['1100', 'debit', '7.00', { processor: 'stripe' }],
      ['1000', 'credit', '7.00', {}],
    ]);
  });

  it('allows a zero amount where the contract does not forbid it (a deposit release of 0 posts no lines)', () => {
    given([captured()]).when(depositReleased({ amount: '0' })).thenPosts([]);
  });
});

describe('unbalanced', () => {
  it('refuses a capture total that is not R + P + S + T + D', () => {
    when(captured({ total: '591.99' })).thenRejects('unbalanced', 'total 591.99');
    when(captured({ total: '592.01' })).thenRejects('unbalanced');
    when(captured({ total: '392.00' })).thenRejects('unbalanced', '592.00'); // the deposit left out
  });

  it('refuses a refund total that is not R + P + S + T', () => {
    given([captured()]).when(refunded({ total: '129.01' })).thenRejects('unbalanced', 'total 129.01');
    given([captured()]).when(refunded({ total: '154.00' })).thenRejects('unbalanced'); // commission added in
  });

  it('refuses an adjustment whose debits differ from its credits', () => {
    const lines = [
      { account: '5900', side: 'debit', amount: '10.00' },
      { account: '1000', side: 'credit', amount: '9.99' },
    ];
    when(adjustment({ lines })).thenRejects('unbalanced', 'debits 10.00 differ from credits 9.99');
  });
});

describe('precedence from redelivery to arithmetic', () => {
  it('a missing field and a bad amount: invalid_field', () => {
    when(captured({ market: undefined, rental_amount: '1e3' })).thenRejects('invalid_field', 'data.market is missing');
  });

  it('a bad amount before the missing field in field order: still invalid_field', () => {
    when(captured({ rental_amount: '1e3', total: undefined })).thenRejects('invalid_field', 'data.total is missing');
  });

  it('a bad currency and a bad amount: invalid_field', () => {
    when(captured({ currency: 'EUR', tax: '27.001' })).thenRejects('invalid_field', 'data.currency');
  });

  it('an adjustment approved by its requester with a bad line amount: invalid_field', () => {
    const lines = [{ account: '5900', side: 'debit', amount: '1e3' }, { account: '1000', side: 'credit', amount: '1' }];
    when(adjustment({ approved_by: 'alice', lines })).thenRejects('invalid_field');
  });

  it('a bad amount and an unbalanced total: invalid_amount', () => {
    when(captured({ tax: '27.001', total: '1.00' })).thenRejects('invalid_amount', 'tax');
  });

  it('a zero adjustment line and unbalanced lines: invalid_amount', () => {
    const lines = [
      { account: '5900', side: 'debit', amount: '0' }, { account: '1000', side: 'credit', amount: '1.00' },
    ];
    when(adjustment({ lines })).thenRejects('invalid_amount');
  });

  it('unbalanced and commission > rental_amount: unbalanced (lead\'s reading)', () => {
    when(captured({ commission: '400.00', total: '1.00' })).thenRejects('unbalanced');
  });

  it('unbalanced and processor_fee > total: unbalanced (lead\'s reading)', () => {
    when(captured({ processor_fee: '600.00', total: '591.00' })).thenRejects('unbalanced');
  });

  it('unbalanced and a capture on a closed rental: unbalanced (arithmetic before state)', () => {
    given([captured(), completed()]).when(captured({ payment_id: 'p-2', total: '1.00' })).thenRejects('unbalanced');
  });

  it('commission > rental_amount on a closed rental or a repeated payment_id: invalid_field (before state)', () => {
    given([captured(), completed()]).when(captured({ payment_id: 'p-2', commission: '300.01' }))
      .thenRejects('invalid_field', 'commission');
    given([captured()]).when(captured({ commission: '300.01' })).thenRejects('invalid_field', 'commission');
  });
});

/** The data of an adjustment as adjustment() builds and signs it. */
function signedData(data: RawEnvelope = {}): RawEnvelope {
  return adjustment(data).data as RawEnvelope;
}

/** An adjustment whose data was changed after it was signed. */
function tampered(change: (data: RawEnvelope) => RawEnvelope): RawEnvelope {
  return adjustment({ approval: undefined }, { data: change(signedData()) });
}

function approvalOf(data: RawEnvelope): Record<string, string> {
  return data.approval as Record<string, string>;
}

describe('unapproved_adjustment', () => {
  const withApproval = (approval: unknown) => adjustment({ approval });

  it('allows an adjustment approved with a trusted key over its data', () => {
    expect(when(adjustment()).outcome.kind).toBe('posted');
    expect(approvalOf(signedData())).toEqual({
      approval_id: 'apv-adj-1', key_id: testSigningKey.keyId, signature: expect.stringMatching(/^[A-Za-z0-9+/]{86}==$/),
    });
  });

  it('allows it whatever the order of the keys in the message (RFC 8785 sorts them)', () => {
    const message = adjustment();
    when(Buffer.from(JSON.stringify(reversedKeys(message)), 'utf8')).thenPosts([
      ['5900', 'debit', '12.50', {}], ['2010', 'credit', '12.50', { owner_id: 'o-1' }],
    ]);
  });

  it('refuses an adjustment without an approval', () => {
    when(adjustment({ approval: undefined })).thenRejects('unapproved_adjustment', 'data.approval is missing');
  });

  it('refuses an approval by a key the ledger does not trust', () => {
    const data = signAdjustmentApproval(signedData({ approval: undefined }), untrustedKey, 'apv-1');
    when(adjustment({ approval: undefined }, { data }))
      .thenRejects('unapproved_adjustment', `"${untrustedKey.keyId}" is not a key this ledger trusts`);
  });

  it('refuses a signature that does not verify', () => {
    const data = signedData();
    const bytes = Buffer.from(approvalOf(data).signature!, 'base64');
    bytes[10] = bytes[10]! ^ 0x01;
    const broken = { ...data, approval: { ...approvalOf(data), signature: bytes.toString('base64') } };
    when(adjustment({ approval: undefined }, { data: broken }))
      .thenRejects('unapproved_adjustment', 'does not verify with key');
  });

  it('refuses data changed after approval: an amount, the reason, a line added, the approval id', () => {
    const lines = [
      { account: '5900', side: 'debit', amount: '1250000.00' },
      { account: '2010', side: 'credit', amount: '1250000.00', dims: { owner_id: 'o-1' } },
    ];
    when(tampered((d) => ({ ...d, lines }))).thenRejects('unapproved_adjustment', 'not the one that was approved');
    when(tampered((d) => ({ ...d, reason: 'something else' }))).thenRejects('unapproved_adjustment');
    when(tampered((d) => ({ ...d, extra: 'a field the approver never saw' }))).thenRejects('unapproved_adjustment');
    when(tampered((d) => ({ ...d, approval: { ...approvalOf(d), approval_id: 'apv-2' } })))
      .thenRejects('unapproved_adjustment');
    when(tampered((d) => ({ ...d, approved_by: 'mallory' }))).thenRejects('unapproved_adjustment');
  });

  it('refuses an approval that is not an object', () => {
    when(withApproval(null)).thenRejects('unapproved_adjustment', 'data.approval null is not an object');
    when(withApproval('signed')).thenRejects('unapproved_adjustment', 'is not an object');
    when(withApproval([approvalOf(signedData())])).thenRejects('unapproved_adjustment', 'is not an object');
  });

  it.each([
    ['approval_id missing', { approval_id: undefined }, 'approval_id'],
    ['approval_id empty', { approval_id: '' }, 'approval_id'],
    ['approval_id a number', { approval_id: 7 }, 'approval_id'],
    ['key_id missing', { key_id: undefined }, 'key_id'],
    ['key_id empty', { key_id: '' }, 'key_id'],
    ['signature missing', { signature: undefined }, 'signature'],
    ['signature not base64', { signature: '!'.repeat(88) }, 'signature'],
    ['signature of 63 bytes', { signature: Buffer.alloc(63, 1).toString('base64') }, 'signature'],
    ['signature in base64url', { signature: `${'_'.repeat(86)}==` }, 'signature'],
    ['signature unpadded', { signature: Buffer.alloc(64, 1).toString('base64').replace(/=+$/, '') }, 'signature'],
    ['signature with non-zero pad bits', { signature: `${'A'.repeat(85)}B==` }, 'signature'],
  ])('refuses a malformed approval: %s', (_name, change, field) => {
    const data = signedData();
    const approval = { ...approvalOf(data), ...change };
    when(adjustment({ approval: undefined }, { data: { ...data, approval } }))
      .thenRejects('unapproved_adjustment', `data.approval.${field}`);
  });

  it('refuses data holding a lone surrogate, which RFC 8785 cannot encode', () => {
    const data = { ...signedData(), reason: 'half an emoji \ud83d' };
    when(adjustment({ approval: undefined }, { data })).thenRejects('unapproved_adjustment', 'lone UTF-16 surrogate');
  });

  it('stays quiet for other event types: an approval field elsewhere is an extra field', () => {
    expect(when(captured({ approval: 'not checked' })).outcome.kind).toBe('posted');
  });
});

describe('precedence around unapproved_adjustment', () => {
  it('unbalanced and unsigned: unbalanced', () => {
    const lines = [{ account: '5900', side: 'debit', amount: '10.00' }, { account: '1000', side: 'credit', amount: '9.99' }];
    when(adjustment({ lines, approval: undefined })).thenRejects('unbalanced');
  });

  it('approved by its requester and unsigned: invalid_field', () => {
    when(adjustment({ approved_by: 'alice', approval: undefined })).thenRejects('invalid_field', 'data.approved_by');
  });

  it('a zero line and unsigned: invalid_amount', () => {
    const lines = [{ account: '5900', side: 'debit', amount: '0' }, { account: '1000', side: 'credit', amount: '0' }];
    when(adjustment({ lines, approval: undefined })).thenRejects('invalid_amount');
  });

  it('a repeated adjustment_id that is also unsigned: unapproved_adjustment (before references)', () => {
    given([adjustment()]).when(adjustment({ reason: 'again', approval: undefined }))
      .thenRejects('unapproved_adjustment');
    given([adjustment()]).when(tampered((d) => ({ ...d, reason: 'again' }))).thenRejects('unapproved_adjustment');
  });

  it('a repeated adjustment_id, signed: duplicate_reference', () => {
    given([adjustment()]).when(adjustment({ reason: 'again' })).thenRejects('duplicate_reference', '"adj-1"');
  });

  it('a redelivery of a posted adjustment is a duplicate; the same event_id without its approval conflicts', () => {
    const original = adjustment();
    given([original]).when({ ...original }).thenDuplicate();
    given([original]).when({ ...original, data: { ...(original.data as RawEnvelope), approval: undefined } })
      .thenRejects('conflicting_duplicate');
  });
});

describe('unknown_reference', () => {
  it('refuses a completion or a cancellation of a rental with no capture', () => {
    when(completed()).thenRejects('unknown_reference', '"r-1"');
    when(cancelled()).thenRejects('unknown_reference', '"r-1"');
  });

  it('refuses a completion whose only capture was quarantined', () => {
    given([refused(captured({ total: '1.00' }))]).when(completed()).thenRejects('unknown_reference');
  });

  it('refuses a refund of a payment never captured', () => {
    when(refunded()).thenRejects('unknown_reference', '"p-1"');
    given([captured()]).when(refunded({ payment_id: 'p-9' })).thenRejects('unknown_reference', '"p-9"');
  });

  it('refuses a deposit release or application with no capture', () => {
    when(depositReleased()).thenRejects('unknown_reference');
    when(depositApplied()).thenRejects('unknown_reference');
    given([captured()]).when(depositReleased({ rental_id: 'r-9' })).thenRejects('unknown_reference', '"r-9"');
  });

  it('refuses a dispute of a payment never captured', () => {
    when(disputeOpened()).thenRejects('unknown_reference', '"p-1"');
  });

  it('refuses a payout.failed of an unknown payout and a dispute.won of an unknown dispute', () => {
    given([payoutPaid()]).when(payoutFailed({ payout_id: 'po-9' })).thenRejects('unknown_reference', '"po-9"');
    given([captured(), disputeOpened()]).when(disputeWon({ dispute_id: 'dp-9' }))
      .thenRejects('unknown_reference', '"dp-9"');
  });
});

describe('duplicate_reference', () => {
  it('refuses a repeated payment_id (a different event: new event_id)', () => {
    given([captured()]).when(captured({ processor_ref: 'ch_2' })).thenRejects('duplicate_reference', '"p-1"');
    given([captured()]).when(captured({ rental_id: 'r-2' })).thenRejects('duplicate_reference', '"p-1"');
  });

  it('refuses a repeated refund_id', () => {
    given([captured(), refunded()]).when(refunded({ tax: '0', total: '120.00' }))
      .thenRejects('duplicate_reference', '"rf-1"');
  });

  it('refuses a repeated dispute_id', () => {
    given([captured(), disputeOpened({ amount: '10.00' })]).when(disputeOpened({ amount: '20.00' }))
      .thenRejects('duplicate_reference', '"dp-1"');
  });

  it('refuses a repeated payout_id', () => {
    given([payoutPaid()]).when(payoutPaid({ processor_ref: 'tr_2' })).thenRejects('duplicate_reference', '"po-1"');
  });

  it('refuses a repeated processor_payout_id', () => {
    given([processorPayout()]).when(processorPayout({ amount: '5.00' })).thenRejects('duplicate_reference', '"pp-1"');
  });

  it('refuses a repeated remittance_id', () => {
    given([taxRemitted()]).when(taxRemitted({ period: '2026-11' })).thenRejects('duplicate_reference', '"tr-1"');
  });

  it('refuses a repeated adjustment_id', () => {
    given([adjustment()]).when(adjustment({ reason: 'again' })).thenRejects('duplicate_reference', '"adj-1"');
  });

  it('refuses a payout failed twice', () => {
    given([payoutPaid(), payoutFailed()]).when(payoutFailed()).thenRejects('duplicate_reference', 'already failed');
  });

  it('refuses a dispute decided twice', () => {
    given([captured(), disputeOpened(), disputeWon()]).when(disputeWon())
      .thenRejects('duplicate_reference', 'already decided');
  });

  it('is checked before rental_closed: a repeated payment_id on a closed rental', () => {
    given([captured(), completed()]).when(captured({ processor_ref: 'ch_2' })).thenRejects('duplicate_reference');
  });

  it('checks the event\'s own id before the reference (lead\'s reading)', () => {
    given([captured(), refunded()]).when(refunded({ payment_id: 'p-9' })).thenRejects('duplicate_reference');
    given([captured(), disputeOpened()]).when(disputeOpened({ payment_id: 'p-9' })).thenRejects('duplicate_reference');
  });

  it('checks decided twice before disagreement (lead\'s reading)', () => {
    given([payoutPaid(), payoutFailed()]).when(payoutFailed({ owner_id: 'o-2' })).thenRejects('duplicate_reference');
    given([captured(), disputeOpened(), disputeWon()]).when(disputeWon({ amount: '1.00' }))
      .thenRejects('duplicate_reference');
  });
});

describe('rental_closed', () => {
  it('refuses a capture (new payment_id) on a completed or cancelled rental', () => {
    given([captured(), completed()]).when(captured({ payment_id: 'p-2' })).thenRejects('rental_closed', '"r-1"');
    given([captured(), cancelled()]).when(captured({ payment_id: 'p-2' })).thenRejects('rental_closed');
  });

  it('refuses a second completion or cancellation', () => {
    given([captured(), completed()]).when(completed()).thenRejects('rental_closed', 'already closed');
    given([captured(), completed()]).when(cancelled()).thenRejects('rental_closed');
    given([captured(), cancelled()]).when(completed()).thenRejects('rental_closed');
    given([captured(), cancelled()]).when(cancelled()).thenRejects('rental_closed');
  });

  it('is checked before disagreement (lead\'s reading)', () => {
    given([captured(), completed()]).when(completed({ owner_id: 'o-2' })).thenRejects('rental_closed');
    given([captured(), completed()]).when(captured({ payment_id: 'p-2', market: 'US-TX' }))
      .thenRejects('rental_closed');
  });
});

describe('exceeds_remaining', () => {
  const nothing = { rental_amount: '0', commission: '0', protection_fee: '0', service_fee: '0', tax: '0' };
  it.each([
    ['rental_amount', { rental_amount: '300.01', total: '300.01' }],
    ['commission', { rental_amount: '75.01', commission: '75.01', total: '75.01' }],
    ['protection_fee', { protection_fee: '45.01', total: '45.01' }],
    ['service_fee', { service_fee: '20.01', total: '20.01' }],
    ['tax', { tax: '27.01', total: '27.01' }],
  ])('refuses a refund whose %s exceeds what the payment captured', (part, amounts) => {
    given([captured()]).when(refunded({ ...nothing, ...amounts })).thenRejects('exceeds_remaining', part);
  });

  it('counts earlier refunds of the same payment', () => {
    const second = { refund_id: 'rf-2', rental_amount: '200.01', commission: '50.00', protection_fee: '0',
      service_fee: '0', tax: '0', total: '200.01' };
    given([captured(), refunded()]).when(refunded(second)).thenRejects('exceeds_remaining', 'rental_amount 200.01');
    const exactly = { ...second, rental_amount: '200.00', total: '200.00' };
    expect(given([captured(), refunded()]).when(refunded(exactly)).outcome.kind).toBe('posted');
  });

  it('refuses any refund after a full one', () => {
    given([captured(), refunded({ rental_amount: '300.00', commission: '75.00', protection_fee: '45.00',
      service_fee: '20.00', tax: '27.00', total: '392.00' })])
      .when(refunded({ ...nothing, refund_id: 'rf-2', tax: '0.01', total: '0.01' }))
      .thenRejects('exceeds_remaining', 'tax');
  });

  it('limits each component and nothing else: a refund of R without C posts (reading 3 withdrawn)', () => {
    given([captured()]).when(refunded({ ...nothing, rental_amount: '300.00', total: '300.00' })).thenPosts([
      ['2000', 'debit', '300.00', { owner_id: 'o-1', rental_id: 'r-1' }],
      ['1100', 'credit', '300.00', { processor: 'stripe' }],
    ]);
  });

  describe('two half refunds of a commission of 14.25, each rounded down to 7.12 (issue 12, item 16)', () => {
    const capture = captured({
      rental_amount: '57.00', commission: '14.25', protection_fee: '0.00', service_fee: '0.00', tax: '0.00',
      deposit: '0.00', processor_fee: '1.95', total: '57.00',
    });
    const half = (refundId: string) => refunded({
      ...nothing, refund_id: refundId, rental_amount: '28.50', commission: '7.12', total: '28.50',
    });

    it('posts the second, whose owner share 21.38 exceeds the 21.37 left of it', () => {
      given([capture, half('rf-1')]).when(half('rf-2')).thenPosts([
        ['2300', 'debit', '7.12', { rental_id: 'r-1', market: 'US-CA' }],
        ['2000', 'debit', '21.38', { owner_id: 'o-1', rental_id: 'r-1' }],
        ['1100', 'credit', '28.50', { processor: 'stripe' }],
      ]);
    });

    it('posts it after the rental closed too, leaving the owner\'s payable one cent below zero', () => {
      const { ledger } = given([capture, completed(), half('rf-1')]).when(half('rf-2')).thenPosts([
        ['4100', 'debit', '7.12', { market: 'US-CA' }],
        ['2010', 'debit', '21.38', { owner_id: 'o-1' }],
        ['1100', 'credit', '28.50', { processor: 'stripe' }],
      ]);
      expect(ledger.balanceMinor('2010', { owner_id: 'o-1' })).toBe(1n); // debit-positive: payable −0.01
    });

    it('still refuses a component beyond what is left of it', () => {
      given([capture, half('rf-1')])
        .when(refunded({ ...nothing, refund_id: 'rf-2', rental_amount: '28.50', commission: '7.14', total: '28.50' }))
        .thenRejects('exceeds_remaining', 'commission 7.14 exceeds what payment p-1 has left to refund (7.13)');
      given([capture, half('rf-1'), half('rf-2')])
        .when(refunded({ ...nothing, refund_id: 'rf-3', rental_amount: '0.01', total: '0.01' }))
        .thenRejects('exceeds_remaining', 'rental_amount 0.01');
    });
  });

  it('refuses deposits released or applied beyond the captured deposit', () => {
    given([captured()]).when(depositReleased({ amount: '200.01' })).thenRejects('exceeds_remaining', '200.01');
    given([captured(), depositApplied({ amount: '150.00' })]).when(depositReleased({ amount: '50.01' }))
      .thenRejects('exceeds_remaining', '50.00');
    given([captured(), depositReleased({ amount: '150.00' })]).when(depositApplied({ amount: '50.01' }))
      .thenRejects('exceeds_remaining');
  });

  it('sums the captured deposits over the rental\'s payments', () => {
    const extension = captured({ payment_id: 'p-2', deposit: '50.00', total: '442.00' });
    expect(given([captured(), extension]).when(depositReleased({ amount: '210.00' })).outcome.kind).toBe('posted');
    given([captured(), extension]).when(depositReleased({ amount: '250.01' })).thenRejects('exceeds_remaining');
  });

  it('refuses a dispute above its payment\'s total', () => {
    given([captured()]).when(disputeOpened({ amount: '592.01' })).thenRejects('exceeds_remaining', 'total 592.00');
  });

  it('is checked after disagreement (lead\'s reading)', () => {
    given([captured()]).when(disputeOpened({ rental_id: 'r-2', amount: '1000.00' })).thenRejects('invalid_field');
    given([captured()]).when(depositApplied({ owner_id: 'o-2', amount: '1000.00' })).thenRejects('invalid_field');
  });
});

afterAll(() => {
  // Every code of the catalogue has been asserted somewhere above.
  expect([...reasonsAsserted].sort()).toEqual([...rejectionReasons].sort());
});
