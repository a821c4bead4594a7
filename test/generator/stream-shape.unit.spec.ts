// Proves that a month of generated traffic looks like the marketplace: 12,000 rentals
// give at least 100,000 events, every event type of
// EVENTS.md appears, both currencies and every market, rentals that span the month end,
// refunds before and after completion, cancellations, failed payouts, negative processor
// payouts, legal-but-unusual amount forms, envelopes of the contract's shape, and every
// adjustment approved by the key it was generated with. It reads
// the lines as a consumer would (JSON.parse) and counts; the contract checker in
// contract-checker.unit.spec.ts is what proves the same lines are valid.
import { beforeAll, describe, expect, it } from 'vitest';
import { eventTypes, generateEventStream, markets } from '../../src/generator/index.ts';
import { testApprover, testSigningKey } from '../support/keys.ts';

type Envelope = {
  event_id: string;
  type: string;
  schema_version: number;
  occurred_at: string;
  producer: string;
  data: Record<string, unknown>;
};

const rentalCount = 12_000;
const month = '2026-10';
let lines: string[];
let events: Envelope[];

/** Each event once: retries of the same event_id are left out. */
function firstDeliveries(all: readonly string[]): Envelope[] {
  const seen = new Set<string>();
  const unique: Envelope[] = [];
  for (const line of all) {
    const event = JSON.parse(line) as Envelope;
    const id = event.event_id.toLowerCase();
    if (!seen.has(id)) unique.push(event);
    seen.add(id);
  }
  return unique;
}

function ofType(type: string): Envelope[] {
  return events.filter((event) => event.type === type);
}

beforeAll(() => {
  lines = generateEventStream({ seed: 1, rentals: rentalCount, month, approve: testApprover });
  events = firstDeliveries(lines);
});

describe('size and speed', () => {
  it('gives at least 100,000 events for 12,000 rentals, 8 to 10 per rental', () => {
    expect(lines.length).toBeGreaterThanOrEqual(100_000);
    expect(lines.length / rentalCount).toBeGreaterThanOrEqual(8);
    expect(lines.length / rentalCount).toBeLessThanOrEqual(10);
  });
});

describe('coverage: types, markets, dates', () => {
  it('has every event type of EVENTS.md', () => {
    const types = new Set(events.map((event) => event.type));
    expect([...types].sort()).toEqual([...eventTypes].sort());
  });

  it('has every market, each in its one currency, and both currencies', () => {
    const currencyByMarket = new Map<string, Set<unknown>>();
    for (const event of ofType('payment.captured')) {
      const currencies = currencyByMarket.get(String(event.data['market'])) ?? new Set();
      currencies.add(event.data['currency']);
      currencyByMarket.set(String(event.data['market']), currencies);
    }
    for (const market of markets)
      expect([...(currencyByMarket.get(market.code) ?? [])]).toEqual([market.currency]);
    expect(new Set(events.map((event) => event.data['currency']).filter(Boolean))).toEqual(
      new Set(['USD', 'CAD']),
    );
  });

  it('books every rental in the month, and a good share closes in the next', () => {
    const firstCapture = new Map<string, string>();
    for (const event of ofType('payment.captured')) {
      if (!firstCapture.has(String(event.data['rental_id']))) {
        firstCapture.set(String(event.data['rental_id']), event.occurred_at);
      }
    }
    expect(firstCapture.size).toBe(rentalCount);
    for (const occurredAt of firstCapture.values()) expect(occurredAt.slice(0, 7)).toBe(month);
    const closedNextMonth = ofType('rental.completed').filter((event) =>
      event.occurred_at.startsWith('2026-11'),
    );
    expect(closedNextMonth.length / rentalCount).toBeGreaterThan(0.05);
  });
});

describe('coverage: lifecycles', () => {
  it('has refunds before and after completion, and cancellations', () => {
    const closedRentals = new Set<string>();
    let refundsOpen = 0;
    let refundsClosed = 0;
    for (const event of events) {
      const rentalId = String(event.data['rental_id']);
      if (event.type === 'rental.completed' || event.type === 'rental.cancelled')
        closedRentals.add(rentalId);
      if (event.type === 'payment.refunded') {
        if (closedRentals.has(rentalId)) refundsClosed += 1;
        else refundsOpen += 1;
      }
    }
    expect(refundsOpen).toBeGreaterThan(100);
    expect(refundsClosed).toBeGreaterThan(100);
    expect(ofType('rental.cancelled').length / rentalCount).toBeGreaterThan(0.03);
  });

  it('has extensions: a second capture with a new payment_id while the rental is open', () => {
    const extensions = ofType('payment.captured').filter(
      (event) => event.data['charge_kind'] === 'extension',
    );
    expect(extensions.length).toBeGreaterThan(100);
  });

  it('has failed payouts, damage claims, won disputes and negative processor payouts', () => {
    expect(ofType('payout.failed').length).toBeGreaterThan(10);
    expect(ofType('deposit.applied').length).toBeGreaterThan(10);
    expect(ofType('dispute.won').length).toBeGreaterThan(10);
    const payoutAmounts = ofType('processor.payout').map((event) => String(event.data['amount']));
    const negative = payoutAmounts.filter((amount) => amount.startsWith('-')).length;
    expect(negative).toBeGreaterThan(0);
    expect(negative).toBeLessThan(payoutAmounts.length / 2);
    expect(payoutAmounts.filter((amount) => /^-?0*(\.0*)?$/.test(amount))).toEqual([]);
  });

  it('gives owners several rentals each', () => {
    const owners = new Set(ofType('payment.captured').map((event) => event.data['owner_id']));
    expect(owners.size).toBeLessThan(rentalCount / 2);
    expect(ofType('payout.paid').length).toBeGreaterThan(owners.size);
  });
});

describe('envelope and field shapes', () => {
  const producerByType: Record<string, string> = {
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

  it('writes v4-shaped event_ids, schema_version 1, occurred_at with milliseconds and Z', () => {
    const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
    const timestamp = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
    const misshapen = events.filter(
      (event) =>
        !uuidV4.test(event.event_id) ||
        event.schema_version !== 1 ||
        !timestamp.test(event.occurred_at) ||
        event.producer !== producerByType[event.type],
    );
    expect(misshapen.slice(0, 3)).toEqual([]);
    expect(events.some((event) => event.event_id !== event.event_id.toLowerCase())).toBe(true);
  });

  it('keeps the log sorted by occurred_at (retries aside)', () => {
    const backwards = events.filter(
      (event, index) => index > 0 && events[index - 1]!.occurred_at > event.occurred_at,
    );
    expect(backwards.slice(0, 3)).toEqual([]);
  });

  it('writes processor refs the way the processor does', () => {
    const refPrefix: Record<string, string> = {
      'payment.captured': 'ch_',
      'payment.refunded': 're_',
      'deposit.released': 're_',
      'dispute.opened': 'dp_',
      'dispute.won': 'dp_',
      'payout.paid': 'tr_',
    };
    const wrong = events.filter((event) => {
      const prefix = refPrefix[event.type];
      if (prefix !== undefined) return !String(event.data['processor_ref']).startsWith(prefix);
      return (
        event.type === 'processor.payout' &&
        !String(event.data['processor_payout_id']).startsWith('po_')
      );
    });
    expect(wrong.slice(0, 3)).toEqual([]);
  });

  it('gives every adjustment an approval by the approver\'s key, with an id of its own', () => {
    const adjustments = ofType('adjustment.posted');
    expect(adjustments.length).toBeGreaterThanOrEqual(8);
    const approvals = adjustments.map((event) => event.data['approval'] as Record<string, string>);
    for (const approval of approvals) {
      expect(approval).toEqual({
        approval_id: expect.stringMatching(/^apv_/), key_id: testSigningKey.keyId,
        signature: expect.stringMatching(/^[A-Za-z0-9+/]{86}==$/),
      });
    }
    expect(new Set(approvals.map((approval) => approval.approval_id)).size).toBe(approvals.length);
  });
});

describe('amounts', () => {
  it('writes amounts mostly with two decimals, sometimes in other legal forms', () => {
    const amounts = events.flatMap((event) =>
      ['rental_amount', 'tax', 'deposit', 'total', 'amount']
        .map((field) => event.data[field])
        .filter((value): value is string => typeof value === 'string'),
    );
    const unusual = amounts.filter((amount) => !/^-?(0|[1-9][0-9]*)\.[0-9]{2}$/.test(amount));
    expect(amounts.filter((amount) => !/^-?[0-9]+(\.[0-9]{1,2})?$/.test(amount))).toEqual([]);
    expect(unusual.length).toBeGreaterThan(100);
    expect(unusual.length / amounts.length).toBeLessThan(0.05);
    expect(unusual).toContain('0');
    expect(unusual.some((amount) => /^0[0-9]/.test(amount))).toBe(true);
    expect(unusual.some((amount) => /\.[0-9]$/.test(amount))).toBe(true);
  });
});
