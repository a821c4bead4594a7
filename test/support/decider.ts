// A given/when/then specification over the pure core (STYLE-EXAMPLES.md §2.4, after
// Emmett's DeciderSpecification). `given` messages are folded through prepareMessage and
// decideMessage exactly as the projector would: each posted decision's `posting.changes`
// is applied to an in-memory state Map and its event_id claimed in an in-memory map of
// posted events. `when` decides one more message; `thenPosts`, `thenRejects` and
// `thenDuplicate` assert what became of it. The state view handed to the core answers
// only the keys `refsOfPrepared` named, so a rule that reads a key the adapter would not
// have loaded fails here instead of in production; and it keeps each state as the JSON
// that encodeState writes to the database, so every rule runs on state as it is stored.
//
// Messages are written as plain envelope objects (serialised with JSON.stringify, so a
// field set to `undefined` is left out) or as raw bytes. The builders below default to the
// worked example of ACCOUNTING.md. The core trusts the tests' signing key (keys.ts), and
// `adjustment` signs what it builds with it, as the service approves an adjustment.
import { expect } from 'vitest';
import { approvalKeys, signAdjustmentApproval } from '../../src/ledger/approval.ts';
import type { Dimension, Side } from '../../src/ledger/chart.ts';
import { assertEntryValid, entryIdFor, type LogPosition } from '../../src/ledger/entry.ts';
import type { Dims } from '../../src/ledger/events.ts';
import type { CurrencyCode } from '../../src/ledger/money.ts';
import { toDecimalString } from '../../src/ledger/money.ts';
import {
  decideMessage, prepareMessage, refsOfPrepared, type MessageOutcome, type PostedEvent,
} from '../../src/ledger/project.ts';
import type { RejectionReason } from '../../src/ledger/rejections.ts';
import type { Line } from '../../src/ledger/rules.ts';
import { decodeState, encodeState, type RefState } from '../../src/ledger/state.ts';
import { testSigningKey, testTrustedKeys } from './keys.ts';

export type RawEnvelope = Record<string, unknown>;
export type Message = RawEnvelope | Buffer | null;
/** A given message the spec expects to be quarantined (it must not post). */
export type Refused = { readonly refused: Message };

/** [account, side, amount as written in the contract, dims, currency (USD when left out)]. */
export type ExpectedLine = readonly [
  account: string, side: Side, amount: string, dims?: Dims, currency?: CurrencyCode,
];

export const topic = 'marketplace.events';

/** Every reason a `thenRejects` in this test file has asserted, so a file can check its coverage. */
export const reasonsAsserted = new Set<RejectionReason>();

export function refused(message: Message): Refused {
  return { refused: message };
}

function toBytes(message: Message): Buffer | null {
  if (message === null || Buffer.isBuffer(message)) return message;
  return Buffer.from(JSON.stringify(message), 'utf8');
}

function isRefused(item: Message | Refused): item is Refused {
  return item !== null && !Buffer.isBuffer(item) && 'refused' in item && Object.keys(item).length === 1;
}

/** The written form of a line, for comparing with the contract's tables. */
export function written(l: Line): ExpectedLine {
  return [l.account, l.side, toDecimalString(l.amount), l.dims, l.amount.currency];
}

/** The keys the core trusts here: the tests' own. */
const trusted = approvalKeys(testTrustedKeys);

class Ledger {
  /** State key → the JSON encodeState wrote for it, as ledger.projection_state keeps it. */
  readonly state = new Map<string, string>();
  readonly posted = new Map<string, PostedEvent>();
  /** Every line posted so far, given and when, in log order. */
  readonly journal: Line[] = [];
  private offset = 0;

  project(message: Message): { outcome: MessageOutcome; position: LogPosition } {
    const position: LogPosition = { topic, partition: 0, offset: this.offset };
    this.offset += 1;
    const prepared = prepareMessage(toBytes(message));
    const readable = new Set(refsOfPrepared(prepared));
    const view = (key: string): RefState | undefined => {
      if (!readable.has(key)) throw new Error(`the rule read ${key}, which refsOf did not name`);
      const stored = this.state.get(key);
      return stored === undefined ? undefined : decodeState(stored);
    };
    const outcome = decideMessage(prepared, (id) => this.posted.get(id), view, trusted);
    if (outcome.kind === 'posted') {
      for (const [key, next] of outcome.posting.changes) this.state.set(key, encodeState(next));
      this.posted.set(outcome.envelope.eventId, {
        payloadSha256: outcome.envelope.payloadSha256, entryId: entryIdFor(position), position,
      });
      this.journal.push(...outcome.posting.lines);
    }
    return { outcome, position };
  }

  /** Debit-positive balance in minor units of one account, over lines whose dims include `dims`. */
  balanceMinor(account: string, dims: Dims = {}, currency: CurrencyCode = 'USD'): bigint {
    let balance = 0n;
    for (const l of this.journal) {
      if (l.account !== account || l.amount.currency !== currency) continue;
      const matches = (Object.keys(dims) as Dimension[]).every((d) => l.dims[d] === dims[d]);
      if (matches) balance += l.side === 'debit' ? l.amount.minor : -l.amount.minor;
    }
    return balance;
  }
}

export type Then = {
  readonly outcome: MessageOutcome;
  readonly ledger: Ledger;
  thenPosts(lines: readonly ExpectedLine[]): Then;
  thenRejects(reason: RejectionReason, messageFragment?: string | RegExp): Then;
  thenDuplicate(): Then;
};

export function given(messages: ReadonlyArray<Message | Refused>) {
  const ledger = new Ledger();
  for (const [index, item] of messages.entries()) {
    const expectRefused = isRefused(item);
    const { outcome } = ledger.project(expectRefused ? item.refused : item);
    const quarantined = outcome.kind === 'quarantined';
    if (quarantined !== expectRefused) {
      const shown = quarantined ? `${outcome.reason}: ${outcome.message}` : outcome.kind;
      throw new Error(`given[${index}] was expected to ${expectRefused ? 'be quarantined' : 'post'}, ` +
        `but was ${shown}`);
    }
  }
  return {
    ledger,
    when: (message: Message): Then => then(ledger, ledger.project(message).outcome),
  };
}

export function when(message: Message): Then {
  return given([]).when(message);
}

function then(ledger: Ledger, outcome: MessageOutcome): Then {
  const self: Then = {
    outcome,
    ledger,
    thenPosts(lines) {
      expect(describeOutcome(outcome), detail(outcome)).toBe('posted');
      if (outcome.kind !== 'posted') return self;
      const expected = lines.map(([account, side, amount, dims = {}, currency = 'USD']) =>
        [account, side, amount, dims, currency]);
      expect(outcome.posting.lines.map(written)).toEqual(expected);
      // The same invariant the writer asserts before INSERT: balanced, positive, exact dims.
      assertEntryValid({ ...entryFields, entryId: 'spec', subject: outcome.posting.subject, lines: outcome.posting.lines });
      return self;
    },
    thenRejects(reason, messageFragment) {
      expect(describeOutcome(outcome), detail(outcome)).toBe(`quarantined: ${reason}`);
      reasonsAsserted.add(reason);
      if (outcome.kind === 'quarantined' && messageFragment !== undefined) {
        if (typeof messageFragment === 'string') expect(outcome.message).toContain(messageFragment);
        else expect(outcome.message).toMatch(messageFragment);
      }
      return self;
    },
    thenDuplicate() {
      expect(describeOutcome(outcome), detail(outcome)).toBe('duplicate');
      return self;
    },
  };
  return self;
}

/** Shown when an expectation fails: the rejection's own message says what was at fault. */
function detail(outcome: MessageOutcome): string {
  return outcome.kind === 'quarantined' ? `${outcome.reason}: ${outcome.message}` : outcome.kind;
}

function describeOutcome(outcome: MessageOutcome): string {
  if (outcome.kind === 'quarantined') return `quarantined: ${outcome.reason}`;
  return outcome.kind;
}

const entryFields = {
  eventId: 'spec', eventType: 'spec', position: { topic, partition: 0, offset: 0 }, chainSeq: 1,
  effectiveAt: '2026-10-30T00:00:00.000000Z', bookedPeriod: '2026-10', late: false, rule: 'spec',
  ruleVersion: 1, payloadSha256: '0'.repeat(64), prevHash: '0'.repeat(64),
};

// ---- message builders ----------------------------------------------------------------

let eventCounter = 0;

/** A fresh, well-formed event_id for every message built. */
export function nextEventId(): string {
  eventCounter += 1;
  return `00000000-0000-4000-8000-${eventCounter.toString(16).padStart(12, '0')}`;
}

export function envelope(type: string, data: RawEnvelope, over: RawEnvelope = {}): RawEnvelope {
  return {
    event_id: nextEventId(), type, schema_version: 1, occurred_at: '2026-10-30T14:22:05.123Z',
    producer: 'spec', data, ...over,
  };
}

const builder = (type: string, defaults: RawEnvelope) =>
  (data: RawEnvelope = {}, over: RawEnvelope = {}): RawEnvelope =>
    envelope(type, { ...defaults, ...data }, over);

const rental = { rental_id: 'r-1', driver_id: 'd-1', owner_id: 'o-1', market: 'US-CA' };

/** The worked example's capture: R 300.00, C 75.00, P 45.00, S 20.00, T 27.00, D 200.00, F 17.63. */
export const captured = builder('payment.captured', {
  payment_id: 'p-1', ...rental, processor: 'stripe', processor_ref: 'ch_1', currency: 'USD',
  rental_amount: '300.00', commission: '75.00', protection_fee: '45.00', service_fee: '20.00',
  tax: '27.00', deposit: '200.00', processor_fee: '17.63', total: '592.00',
});
export const completed = builder('rental.completed', rental);
export const cancelled = builder('rental.cancelled', rental);
/** A partial refund of p-1: R 100.00 (C 25.00), P 15.00, S 5.00, T 9.00, total 129.00. */
export const refunded = builder('payment.refunded', {
  refund_id: 'rf-1', payment_id: 'p-1', rental_id: 'r-1', processor_ref: 're_1', currency: 'USD',
  rental_amount: '100.00', commission: '25.00', protection_fee: '15.00', service_fee: '5.00',
  tax: '9.00', total: '129.00',
});
export const depositReleased = builder('deposit.released', {
  rental_id: 'r-1', driver_id: 'd-1', processor_ref: 're_d1', currency: 'USD', amount: '150.00',
});
export const depositApplied = builder('deposit.applied', {
  rental_id: 'r-1', driver_id: 'd-1', owner_id: 'o-1', claim_id: 'cl-1', currency: 'USD',
  amount: '50.00',
});
export const disputeOpened = builder('dispute.opened', {
  dispute_id: 'dp-1', payment_id: 'p-1', rental_id: 'r-1', processor_ref: 'dp_1', currency: 'USD',
  amount: '592.00', dispute_fee: '15.00',
});
export const disputeWon = builder('dispute.won', {
  dispute_id: 'dp-1', rental_id: 'r-1', processor_ref: 'dp_1', currency: 'USD', amount: '592.00',
});
export const payoutPaid = builder('payout.paid', {
  payout_id: 'po-1', owner_id: 'o-1', processor: 'stripe', processor_ref: 'tr_1', currency: 'USD',
  amount: '225.00',
});
export const payoutFailed = builder('payout.failed', {
  payout_id: 'po-1', owner_id: 'o-1', currency: 'USD', amount: '225.00', failure_code: 'account_closed',
});
export const processorPayout = builder('processor.payout', {
  processor_payout_id: 'pp-1', processor: 'stripe', currency: 'USD', amount: '1000.00',
  arrival_date: '2026-11-03',
});
export const taxRemitted = builder('tax.remitted', {
  remittance_id: 'tr-1', market: 'US-CA', currency: 'USD', amount: '27.00', period: '2026-10',
});
const adjustmentDefaults: RawEnvelope = {
  adjustment_id: 'adj-1', reason: 'write off a small difference', requested_by: 'alice',
  approved_by: 'bob', currency: 'USD',
  lines: [
    { account: '5900', side: 'debit', amount: '12.50' },
    { account: '2010', side: 'credit', amount: '12.50', dims: { owner_id: 'o-1' } },
  ],
};

/**
 * An adjustment approved with the tests' key over its data as built. An `approval` named
 * in `data` (even as undefined, to leave it out) is taken as given, unsigned.
 */
export function adjustment(data: RawEnvelope = {}, over: RawEnvelope = {}): RawEnvelope {
  const built = { ...adjustmentDefaults, ...data };
  if ('approval' in data) return envelope('adjustment.posted', built, over);
  const approved = signAdjustmentApproval(built, testSigningKey, `apv-${String(built.adjustment_id)}`);
  return envelope('adjustment.posted', approved, over);
}

/** The message with one envelope field removed. */
export function without(message: RawEnvelope, field: string): RawEnvelope {
  const copy = { ...message };
  delete copy[field];
  return copy;
}
