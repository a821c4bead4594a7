// Proves that the generated stream keeps the contract: read line by line, in log order,
// by a small checker written here from EVENTS.md alone (it imports nothing from the
// generator but its public functions, and nothing from the ledger), the clean stream has
// no rejection at all, only the redeliveries are duplicates, and the money adds up —
// totals, refunds per component, deposits, disputes, failed payouts, balanced
// adjustments signed by the approving key, owner payables never negative, every
// processor's clearing balance swept to zero, tax remitted equal to the month's net tax,
// occurred_at non-decreasing per key. With bad messages, the checker rejects exactly the
// expected lines, each with exactly the expected reason, and everything else is still
// accepted. The stream is approved with the tests' key (test/support/keys.ts); the
// checker verifies each approval itself, from EVENTS.md, with node:crypto.
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  generateEventStream,
  generateEventStreamWithExpectations,
  type ExpectedRejection,
} from '../../src/generator/index.ts';
import { testApprover, testSigningKey } from '../support/keys.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Data = { [key: string]: Json };
type Verdict =
  { kind: 'accepted' } | { kind: 'duplicate' } | { kind: 'rejected'; reason: string; why: string };

class Rejection extends Error {
  constructor(
    readonly reason: string,
    readonly why: string,
  ) {
    super(`${reason}: ${why}`);
  }
}

function reject(reason: string, why: string): never {
  throw new Rejection(reason, why);
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const timestampPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const amountPattern = /^[0-9]+(\.[0-9]+)?$/;
const signedAmountPattern = /^-?[0-9]+(\.[0-9]+)?$/;

const isObject = (value: unknown): value is Data =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Amount text to cents, exactly (2 minor digits for both currencies). */
function cents(text: string): bigint {
  const negative = text.startsWith('-');
  const [whole = '', fraction = ''] = (negative ? text.slice(1) : text).split('.');
  const value = BigInt(whole + fraction.padEnd(2, '0'));
  return negative ? -value : value;
}

/** Fields per type: ids (non-empty strings), other strings, amounts. */
const fieldSpecs: Record<string, { ids: string[]; strings: string[]; amounts: string[] }> = {
  'payment.captured': {
    ids: ['payment_id', 'rental_id', 'driver_id', 'owner_id', 'processor_ref'],
    strings: ['market', 'processor', 'currency'],
    amounts: [
      'rental_amount',
      'commission',
      'protection_fee',
      'service_fee',
      'tax',
      'deposit',
      'processor_fee',
      'total',
    ],
  },
  'rental.completed': {
    ids: ['rental_id', 'driver_id', 'owner_id'],
    strings: ['market'],
    amounts: [],
  },
  'rental.cancelled': {
    ids: ['rental_id', 'driver_id', 'owner_id'],
    strings: ['market'],
    amounts: [],
  },
  'payment.refunded': {
    ids: ['refund_id', 'payment_id', 'rental_id', 'processor_ref'],
    strings: ['currency'],
    amounts: ['rental_amount', 'commission', 'protection_fee', 'service_fee', 'tax', 'total'],
  },
  'deposit.released': {
    ids: ['rental_id', 'driver_id', 'processor_ref'],
    strings: ['currency'],
    amounts: ['amount'],
  },
  'deposit.applied': {
    ids: ['rental_id', 'driver_id', 'owner_id', 'claim_id'],
    strings: ['currency'],
    amounts: ['amount'],
  },
  'dispute.opened': {
    ids: ['dispute_id', 'payment_id', 'rental_id', 'processor_ref'],
    strings: ['currency'],
    amounts: ['amount', 'dispute_fee'],
  },
  'dispute.won': {
    ids: ['dispute_id', 'rental_id', 'processor_ref'],
    strings: ['currency'],
    amounts: ['amount'],
  },
  'payout.paid': {
    ids: ['payout_id', 'owner_id', 'processor_ref'],
    strings: ['processor', 'currency'],
    amounts: ['amount'],
  },
  'payout.failed': {
    ids: ['payout_id', 'owner_id'],
    strings: ['currency', 'failure_code'],
    amounts: ['amount'],
  },
  'processor.payout': {
    ids: ['processor_payout_id'],
    strings: ['processor', 'currency', 'arrival_date'],
    amounts: ['amount'],
  },
  'tax.remitted': {
    ids: ['remittance_id'],
    strings: ['market', 'currency', 'period'],
    amounts: ['amount'],
  },
  'adjustment.posted': {
    ids: ['adjustment_id'],
    strings: ['reason', 'requested_by', 'approved_by', 'currency'],
    amounts: [],
  },
};

/** ACCOUNTING.md's accounts open to manual entries, with their dimensions. */
const manualAccounts: Record<string, string[]> = {
  '1000': [],
  '1100': ['processor'],
  '2010': ['owner_id'],
  '2200': ['market'],
  '5000': ['processor'],
  '5900': [],
};
const chartAccounts = new Set([
  '1000',
  '1100',
  '2000',
  '2010',
  '2100',
  '2200',
  '2300',
  '2310',
  '2320',
  '4000',
  '4010',
  '4020',
  '4100',
  '4110',
  '4120',
  '5000',
  '5100',
  '5110',
  '5900',
]);
const orderingKeyField: Record<string, string> = {
  'payout.paid': 'owner_id',
  'payout.failed': 'owner_id',
  'processor.payout': 'processor_payout_id',
  'tax.remitted': 'market',
  'adjustment.posted': 'adjustment_id',
};
const components = ['rental_amount', 'commission', 'protection_fee', 'service_fee', 'tax'] as const;

type Payment = {
  rentalId: string;
  currency: string;
  ownerId: string;
  total: bigint;
  captured: Record<string, bigint>;
  refunded: Record<string, bigint>;
};
type Rental = {
  closed: boolean;
  currency: string;
  ownerId: string;
  processor: string;
  market: string;
  depositCaptured: bigint;
  depositSettled: bigint;
  pending: bigint;
};

/** The contract's rules, applied in EVENTS.md's order of checks, plus a few balances. */
class ContractChecker {
  readonly posted = new Map<string, { type: string; data: string }>();
  readonly payments = new Map<string, Payment>();
  readonly rentals = new Map<string, Rental>();
  readonly refundIds = new Set<string>();
  readonly disputes = new Map<
    string,
    { amount: bigint; currency: string; rentalId: string; decided: boolean }
  >();
  readonly payouts = new Map<
    string,
    { ownerId: string; currency: string; amount: bigint; processor: string; failed: boolean }
  >();
  readonly otherIds = new Set<string>();
  readonly ownerPayable = new Map<string, bigint>();
  readonly clearing = new Map<string, bigint>();
  /** Net tax per market and month (YYYY-MM), and what was remitted for it. */
  readonly taxNet = new Map<string, bigint>();
  readonly taxRemitted = new Map<string, bigint>();
  readonly lastTimeByKey = new Map<string, string>();
  readonly problems: string[] = [];

  check(line: string): Verdict {
    try {
      const envelope = this.envelope(line);
      const id = String(envelope['event_id']).toLowerCase();
      const type = String(envelope['type']);
      const data = envelope['data'] as Data;
      const seen = this.posted.get(id);
      if (seen !== undefined) {
        if (seen.type === type && seen.data === canonical(data)) return { kind: 'duplicate' };
        reject('conflicting_duplicate', `event_id ${id} reused`);
      }
      this.validate(type, data);
      this.apply(type, data, String(envelope['occurred_at']));
      this.posted.set(id, { type, data: canonical(data) });
      return { kind: 'accepted' };
    } catch (error) {
      if (error instanceof Rejection)
        return { kind: 'rejected', reason: error.reason, why: error.why };
      throw error;
    }
  }

  private envelope(line: string): Data {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      reject('malformed_json', 'not JSON');
    }
    if (!isObject(parsed)) reject('invalid_envelope', 'not an object');
    const { event_id: eventId, type, occurred_at: occurredAt, producer, data } = parsed;
    if (typeof eventId !== 'string' || !uuidPattern.test(eventId))
      reject('invalid_envelope', 'event_id');
    if (typeof type !== 'string') reject('invalid_envelope', 'type');
    if (typeof occurredAt !== 'string' || !timestampPattern.test(occurredAt))
      reject('invalid_envelope', 'occurred_at');
    if (typeof producer !== 'string' || producer === '') reject('invalid_envelope', 'producer');
    if (!isObject(data)) reject('invalid_envelope', 'data');
    const version = parsed['schema_version'];
    const versionText = /"schema_version"\s*:\s*([^,}\s]+)/.exec(line)?.[1] ?? '';
    if (typeof version !== 'number' || !/^-?[0-9]+$/.test(versionText))
      reject('invalid_envelope', 'schema_version');
    if (version !== 1) reject('unsupported_version', String(version));
    if (fieldSpecs[type] === undefined) reject('unknown_type', type);
    return parsed;
  }

  private validate(type: string, data: Data): void {
    const spec = fieldSpecs[type] as { ids: string[]; strings: string[]; amounts: string[] };
    for (const field of [...spec.ids, ...spec.strings]) {
      if (typeof data[field] !== 'string') reject('invalid_field', `${field} missing`);
      if (spec.ids.includes(field) && data[field] === '') reject('invalid_field', `${field} empty`);
    }
    for (const field of spec.amounts)
      if (!(field in data)) reject('invalid_field', `${field} missing`);
    if ('currency' in data && data['currency'] !== 'USD' && data['currency'] !== 'CAD') {
      reject('invalid_field', `currency ${String(data['currency'])}`);
    }
    if (type === 'processor.payout' && !isDate(String(data['arrival_date'])))
      reject('invalid_field', 'arrival_date');
    if (type === 'tax.remitted' && !/^\d{4}-(0[1-9]|1[0-2])$/.test(String(data['period'])))
      reject('invalid_field', 'period');
    if (type === 'adjustment.posted') validateAdjustmentFields(data);
    for (const field of spec.amounts) checkAmount(data[field], type === 'processor.payout');
    if (type === 'adjustment.posted')
      for (const entry of data['lines'] as Data[]) checkAmount(entry['amount'], false);
    if (
      (type === 'payout.paid' || type === 'processor.payout') &&
      cents(String(data['amount'])) === 0n
    ) {
      reject('invalid_amount', 'zero');
    }
    if (type === 'payment.captured' || type === 'payment.refunded') validateCharge(type, data);
    if (type === 'adjustment.posted') validateAdjustmentBalance(data);
    if (type === 'adjustment.posted') validateApproval(data);
  }

  private apply(type: string, data: Data, occurredAt: string): void {
    const handlers: Record<string, (data: Data) => void> = {
      'payment.captured': (d) => this.captured(d),
      'rental.completed': (d) => this.closed(d),
      'rental.cancelled': (d) => this.closed(d),
      'payment.refunded': (d) => this.refunded(d),
      'deposit.released': (d) => this.deposit(d, false),
      'deposit.applied': (d) => this.deposit(d, true),
      'dispute.opened': (d) => this.disputeOpened(d),
      'dispute.won': (d) => this.disputeWon(d),
      'payout.paid': (d) => this.payoutPaid(d),
      'payout.failed': (d) => this.payoutFailed(d),
      'processor.payout': (d) => this.processorPayout(d),
      'tax.remitted': (d) => this.taxRemittedEvent(d),
      'adjustment.posted': (d) => this.adjustment(d, occurredAt),
    };
    (handlers[type] as (data: Data) => void)(data);
    this.noteTax(type, data, occurredAt);
    const keyField = orderingKeyField[type] ?? 'rental_id';
    const key = `${keyField}:${String(data[keyField])}`;
    const last = this.lastTimeByKey.get(key);
    if (last !== undefined && Date.parse(last) > Date.parse(occurredAt))
      this.problems.push(`${key} goes back in time`);
    this.lastTimeByKey.set(key, occurredAt);
  }

  private captured(data: Data): void {
    const paymentId = String(data['payment_id']);
    const rentalId = String(data['rental_id']);
    if (this.payments.has(paymentId)) reject('duplicate_reference', `payment_id ${paymentId}`);
    const rental = this.rentals.get(rentalId);
    if (rental?.closed === true) reject('rental_closed', rentalId);
    const amount = (field: string): bigint => cents(String(data[field]));
    const captured = Object.fromEntries(components.map((field) => [field, amount(field)]));
    const refunded = Object.fromEntries(components.map((field) => [field, 0n]));
    const currency = String(data['currency']);
    this.payments.set(paymentId, {
      rentalId,
      currency,
      ownerId: String(data['owner_id']),
      total: amount('total'),
      captured,
      refunded,
    });
    const record = rental ?? {
      closed: false,
      currency,
      ownerId: String(data['owner_id']),
      processor: String(data['processor']),
      market: String(data['market']),
      depositCaptured: 0n,
      depositSettled: 0n,
      pending: 0n,
    };
    record.depositCaptured += amount('deposit');
    record.pending += amount('rental_amount') - amount('commission');
    this.rentals.set(rentalId, record);
    this.move(
      this.clearing,
      `${record.processor} ${currency}`,
      amount('total') - amount('processor_fee'),
    );
  }

  private closed(data: Data): void {
    const rental = this.rentals.get(String(data['rental_id']));
    if (rental === undefined) return reject('unknown_reference', 'rental never captured');
    if (rental.closed) reject('rental_closed', String(data['rental_id']));
    rental.closed = true;
    this.movePayable(`${rental.ownerId} ${rental.currency}`, rental.pending);
    rental.pending = 0n;
  }

  private refunded(data: Data): void {
    const refundId = String(data['refund_id']);
    if (this.refundIds.has(refundId)) reject('duplicate_reference', `refund_id ${refundId}`);
    const payment = this.payments.get(String(data['payment_id']));
    if (payment === undefined) return reject('unknown_reference', 'payment never captured');
    if (payment.rentalId !== data['rental_id'] || payment.currency !== data['currency']) {
      reject('invalid_field', 'rental or currency disagrees with the payment');
    }
    for (const field of components) {
      if (payment.refunded[field]! + cents(String(data[field])) > payment.captured[field]!) {
        reject('exceeds_remaining', field);
      }
    }
    for (const field of components) payment.refunded[field]! += cents(String(data[field]));
    this.refundIds.add(refundId);
    const rental = this.rentals.get(payment.rentalId)!;
    const ownerPart = cents(String(data['rental_amount'])) - cents(String(data['commission']));
    if (rental.closed) this.movePayable(`${rental.ownerId} ${rental.currency}`, -ownerPart);
    else rental.pending -= ownerPart;
    if (rental.pending < 0n) this.problems.push(`pending of ${payment.rentalId} negative`);
    this.move(
      this.clearing,
      `${rental.processor} ${rental.currency}`,
      -cents(String(data['total'])),
    );
  }

  private deposit(data: Data, applied: boolean): void {
    const rental = this.rentals.get(String(data['rental_id']));
    if (rental === undefined)
      return reject('unknown_reference', 'deposit of a rental never captured');
    if (rental.currency !== data['currency']) reject('invalid_field', 'currency disagrees');
    const amount = cents(String(data['amount']));
    if (rental.depositSettled + amount > rental.depositCaptured)
      reject('exceeds_remaining', 'deposit');
    rental.depositSettled += amount;
    if (applied) this.movePayable(`${rental.ownerId} ${rental.currency}`, amount);
    else this.move(this.clearing, `${rental.processor} ${rental.currency}`, -amount);
  }

  private disputeOpened(data: Data): void {
    const disputeId = String(data['dispute_id']);
    if (this.disputes.has(disputeId)) reject('duplicate_reference', `dispute_id ${disputeId}`);
    const payment = this.payments.get(String(data['payment_id']));
    if (payment === undefined)
      return reject('unknown_reference', 'dispute of a payment never captured');
    if (payment.rentalId !== data['rental_id'] || payment.currency !== data['currency']) {
      reject('invalid_field', 'rental or currency disagrees with the payment');
    }
    const amount = cents(String(data['amount']));
    if (amount > payment.total) reject('exceeds_remaining', 'dispute above total');
    this.disputes.set(disputeId, {
      amount,
      currency: payment.currency,
      rentalId: payment.rentalId,
      decided: false,
    });
    const rental = this.rentals.get(payment.rentalId)!;
    this.move(
      this.clearing,
      `${rental.processor} ${rental.currency}`,
      -(amount + cents(String(data['dispute_fee']))),
    );
  }

  private disputeWon(data: Data): void {
    const dispute = this.disputes.get(String(data['dispute_id']));
    if (dispute === undefined) return reject('unknown_reference', 'dispute never opened');
    if (dispute.decided) reject('duplicate_reference', 'dispute decided twice');
    if (dispute.rentalId !== data['rental_id'] || dispute.currency !== data['currency']) {
      reject('invalid_field', 'rental or currency disagrees with the dispute');
    }
    if (dispute.amount !== cents(String(data['amount'])))
      reject('invalid_field', 'amount differs from the dispute');
    dispute.decided = true;
    const rental = this.rentals.get(dispute.rentalId)!;
    this.move(this.clearing, `${rental.processor} ${rental.currency}`, dispute.amount);
  }

  private payoutPaid(data: Data): void {
    const payoutId = String(data['payout_id']);
    if (this.payouts.has(payoutId)) reject('duplicate_reference', `payout_id ${payoutId}`);
    const payout = {
      ownerId: String(data['owner_id']),
      currency: String(data['currency']),
      amount: cents(String(data['amount'])),
      processor: String(data['processor']),
      failed: false,
    };
    this.payouts.set(payoutId, payout);
    this.movePayable(`${payout.ownerId} ${payout.currency}`, -payout.amount);
    this.move(this.clearing, `${payout.processor} ${payout.currency}`, -payout.amount);
  }

  private payoutFailed(data: Data): void {
    const payout = this.payouts.get(String(data['payout_id']));
    if (payout === undefined) return reject('unknown_reference', 'payout never paid');
    if (payout.failed) reject('duplicate_reference', 'payout failed twice');
    if (payout.ownerId !== data['owner_id'] || payout.currency !== data['currency']) {
      reject('invalid_field', 'owner or currency disagrees with the payout');
    }
    if (payout.amount !== cents(String(data['amount'])))
      reject('invalid_field', 'amount differs from the payout');
    payout.failed = true;
    this.movePayable(`${payout.ownerId} ${payout.currency}`, payout.amount);
    this.move(this.clearing, `${payout.processor} ${payout.currency}`, payout.amount);
  }

  private processorPayout(data: Data): void {
    this.claimId(`processor_payout_id ${String(data['processor_payout_id'])}`);
    this.move(
      this.clearing,
      `${String(data['processor'])} ${String(data['currency'])}`,
      -cents(String(data['amount'])),
    );
  }

  private taxRemittedEvent(data: Data): void {
    this.claimId(`remittance_id ${String(data['remittance_id'])}`);
    this.move(
      this.taxRemitted,
      `${String(data['market'])} ${String(data['period'])}`,
      cents(String(data['amount'])),
    );
  }

  private adjustment(data: Data, occurredAt: string): void {
    this.claimId(`adjustment_id ${String(data['adjustment_id'])}`);
    for (const entry of data['lines'] as Data[]) {
      const signed =
        entry['side'] === 'debit'
          ? cents(String(entry['amount']))
          : -cents(String(entry['amount']));
      const dims = (entry['dims'] ?? {}) as Data;
      const currency = String(data['currency']);
      if (entry['account'] === '1100')
        this.move(this.clearing, `${String(dims['processor'])} ${currency}`, signed);
      if (entry['account'] === '2010')
        this.movePayable(`${String(dims['owner_id'])} ${currency}`, -signed);
      if (entry['account'] === '2200')
        this.move(this.taxNet, `${String(dims['market'])} ${occurredAt.slice(0, 7)}`, -signed);
    }
  }

  /** Tax collected (captures) less tax refunded, per market and month of occurred_at. */
  private noteTax(type: string, data: Data, occurredAt: string): void {
    if (type !== 'payment.captured' && type !== 'payment.refunded') return;
    const market =
      type === 'payment.captured'
        ? String(data['market'])
        : this.rentals.get(String(data['rental_id']))!.market;
    const sign = type === 'payment.captured' ? 1n : -1n;
    this.move(
      this.taxNet,
      `${market} ${occurredAt.slice(0, 7)}`,
      sign * cents(String(data['tax'])),
    );
  }

  private claimId(id: string): void {
    if (this.otherIds.has(id)) reject('duplicate_reference', id);
    this.otherIds.add(id);
  }

  private move(balances: Map<string, bigint>, key: string, delta: bigint): void {
    balances.set(key, (balances.get(key) ?? 0n) + delta);
  }

  private movePayable(key: string, delta: bigint): void {
    this.move(this.ownerPayable, key, delta);
    if ((this.ownerPayable.get(key) ?? 0n) < 0n) this.problems.push(`payable of ${key} negative`);
  }
}

function canonical(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(value[key] as Json)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function isDate(text: string): boolean {
  return (
    /^\d{4}-\d{2}-\d{2}$/.test(text) && new Date(`${text}T00:00:00Z`).toISOString().startsWith(text)
  );
}

function checkAmount(value: Json | undefined, signed: boolean): void {
  if (typeof value !== 'string') reject('invalid_amount', `not a string: ${JSON.stringify(value)}`);
  if (!(signed ? signedAmountPattern : amountPattern).test(value))
    reject('invalid_amount', JSON.stringify(value));
  if ((value.split('.')[1] ?? '').length > 2)
    reject('invalid_amount', `${value} has too many decimals`);
}

function validateAdjustmentFields(data: Data): void {
  const lines = data['lines'];
  if (!Array.isArray(lines) || lines.length < 2) reject('invalid_field', 'fewer than two lines');
  for (const entry of lines) {
    if (!isObject(entry)) reject('invalid_field', 'line not an object');
    const account = String(entry['account']);
    if (!chartAccounts.has(account)) reject('invalid_field', `account ${account} not in the chart`);
    const dimensions = manualAccounts[account];
    if (dimensions === undefined) reject('invalid_field', `account ${account} not manual`);
    if (entry['side'] !== 'debit' && entry['side'] !== 'credit') reject('invalid_field', 'side');
    if (!('amount' in entry)) reject('invalid_field', 'line amount missing');
    const dims = entry['dims'] ?? {};
    if (!isObject(dims)) reject('invalid_field', 'dims');
    const names = Object.keys(dims).sort();
    if (names.join() !== [...dimensions].sort().join())
      reject('invalid_field', `dims of ${account}: ${names.join()}`);
    if (names.some((name) => typeof dims[name] !== 'string' || dims[name] === ''))
      reject('invalid_field', 'dim value');
  }
  if (data['requested_by'] === data['approved_by'])
    reject('invalid_field', 'requested_by = approved_by');
}

function validateCharge(type: string, data: Data): void {
  const amount = (field: string): bigint => cents(String(data[field]));
  if (amount('commission') > amount('rental_amount'))
    reject('invalid_field', 'commission > rental_amount');
  const parts = [
    'rental_amount',
    'protection_fee',
    'service_fee',
    'tax',
    ...(type === 'payment.captured' ? ['deposit'] : []),
  ];
  const total = amount('total');
  if (type === 'payment.captured' && amount('processor_fee') > total)
    reject('invalid_field', 'processor_fee > total');
  if (parts.reduce((sum, field) => sum + amount(field), 0n) !== total)
    reject('unbalanced', 'total');
}

function validateAdjustmentBalance(data: Data): void {
  let balance = 0n;
  for (const entry of data['lines'] as Data[]) {
    if (cents(String(entry['amount'])) === 0n) reject('invalid_amount', 'zero line');
    balance +=
      entry['side'] === 'debit' ? cents(String(entry['amount'])) : -cents(String(entry['amount']));
  }
  if (balance !== 0n) reject('unbalanced', 'debits differ from credits');
}

/** The keys the checker trusts, by key_id: the first 16 hex of the SHA-256 of the DER SPKI. */
const trustedKeys = new Map<string, KeyObject>([testSigningKey.publicKeyPem].map((pem) => {
  const key = createPublicKey(pem);
  const der = key.export({ type: 'spki', format: 'der' });
  return [createHash('sha256').update(der).digest('hex').slice(0, 16), key];
}));

/** An Ed25519 signature by a trusted key over the JCS of data without approval.signature. */
function validateApproval(data: Data): void {
  const approval = data['approval'];
  if (!isObject(approval)) reject('unapproved_adjustment', 'approval missing');
  const { signature, ...unsigned } = approval;
  if (typeof unsigned['approval_id'] !== 'string' || unsigned['approval_id'] === '')
    reject('unapproved_adjustment', 'approval_id');
  const key = trustedKeys.get(String(unsigned['key_id']));
  if (key === undefined) reject('unapproved_adjustment', `key ${String(unsigned['key_id'])} not trusted`);
  if (typeof signature !== 'string') reject('unapproved_adjustment', 'signature');
  const signed = Buffer.from(canonical({ ...data, approval: unsigned }), 'utf8');
  if (!verify(null, signed, key, Buffer.from(signature, 'base64')))
    reject('unapproved_adjustment', 'signature does not verify');
}

type Outcome = { checker: ContractChecker; verdicts: Verdict[] };

function runChecker(lines: readonly string[]): Outcome {
  const checker = new ContractChecker();
  return { checker, verdicts: lines.map((line) => checker.check(line)) };
}

describe('a clean stream keeps the contract', () => {
  let lines: string[];
  let outcome: Outcome;
  beforeAll(() => {
    lines = generateEventStream({ seed: 7, rentals: 4_000, month: '2026-10', approve: testApprover });
    outcome = runChecker(lines);
  });

  it('rejects nothing', () => {
    const rejected = outcome.verdicts.flatMap((verdict, index) =>
      verdict.kind === 'rejected'
        ? [`${index}: ${verdict.reason} (${verdict.why}) ${lines[index]}`]
        : [],
    );
    expect(rejected.slice(0, 5)).toEqual([]);
  });

  it('finds duplicates only where an event_id comes again (about 1% of lines)', () => {
    const seen = new Set<string>();
    let repeats = 0;
    lines.forEach((line, index) => {
      const id = (JSON.parse(line) as { event_id: string }).event_id.toLowerCase();
      const repeated = seen.has(id);
      if (repeated) repeats += 1;
      expect(outcome.verdicts[index]?.kind).toBe(repeated ? 'duplicate' : 'accepted');
      seen.add(id);
    });
    expect(repeats / lines.length).toBeGreaterThan(0.005);
    expect(repeats / lines.length).toBeLessThan(0.015);
  });

  it('keeps pending funds and owner payables non-negative, and each key in time order', () => {
    expect(outcome.checker.problems.slice(0, 5)).toEqual([]);
  });

  it('sweeps every processor clearing balance to zero with processor payouts', () => {
    expect(outcome.checker.clearing.size).toBeGreaterThanOrEqual(4);
    for (const [key, balance] of outcome.checker.clearing)
      expect({ key, balance }).toEqual({ key, balance: 0n });
  });

  it('remits, per market, exactly the net tax of the month', () => {
    expect(outcome.checker.taxRemitted.size).toBe(5);
    for (const [key, remitted] of outcome.checker.taxRemitted) {
      expect({ key, remitted }).toEqual({ key, remitted: outcome.checker.taxNet.get(key) });
    }
  });
});

describe('bad messages are rejected exactly as expected', () => {
  let stream: { lines: string[]; expectedRejections: ExpectedRejection[] };
  let outcome: Outcome;
  beforeAll(() => {
    stream = generateEventStreamWithExpectations({
      seed: 11,
      rentals: 3_000,
      month: '2026-10',
      badMessages: true,
      approve: testApprover,
    });
    outcome = runChecker(stream.lines);
  });

  it('gives each expected line its expected reason', () => {
    const found = stream.expectedRejections.map(({ index, detail }) => {
      const verdict = outcome.verdicts[index];
      const got = verdict?.kind === 'rejected' ? verdict.reason : verdict?.kind;
      return { index, detail, reason: got };
    });
    expect(found).toEqual(
      stream.expectedRejections.map(({ index, reason, detail }) => ({ index, detail, reason })),
    );
  });

  it('accepts every other line (or sees it as a redelivery)', () => {
    const expected = new Set(stream.expectedRejections.map(({ index }) => index));
    const unexpected = outcome.verdicts.flatMap((verdict, index) =>
      verdict.kind === 'rejected' && !expected.has(index)
        ? [`${index}: ${verdict.reason} ${verdict.why}`]
        : [],
    );
    expect(unexpected).toEqual([]);
    expect(outcome.checker.problems.slice(0, 5)).toEqual([]);
  });
});

describe('small streams stay valid too', () => {
  it.each([1, 2, 5, 40])('%i rentals: bad lines get their reasons, good lines pass', (rentals) => {
    const stream = generateEventStreamWithExpectations({
      seed: rentals,
      rentals,
      month: '2026-12',
      badMessages: true,
      approve: testApprover,
    });
    const outcome = runChecker(stream.lines);
    const rejected = outcome.verdicts.flatMap((verdict, index) =>
      verdict.kind === 'rejected' ? [{ index, reason: verdict.reason }] : [],
    );
    expect(rejected).toEqual(
      stream.expectedRejections.map(({ index, reason }) => ({ index, reason })),
    );
    expect(outcome.checker.problems).toEqual([]);
  });
});

describe('the checker itself', () => {
  it('is not blind: it rejects a tampered total and a repeated payout', () => {
    const lines = generateEventStream({ seed: 3, rentals: 30, month: '2026-10', approve: testApprover });
    const captureIndex = lines.findIndex((line) => line.includes('"payment.captured"'));
    const capture = JSON.parse(lines[captureIndex]!) as { data: Data };
    capture.data['tax'] = capture.data['tax'] === '0.00' ? '0.01' : '0.00';
    const payout = JSON.parse(lines.find((line) => line.includes('"payout.paid"'))!) as {
      event_id: string;
    };
    payout.event_id = '00000000-0000-4000-8000-000000000000';
    const outcome = runChecker([JSON.stringify(capture), ...lines, JSON.stringify(payout)]);
    expect(outcome.verdicts[0]).toMatchObject({ kind: 'rejected', reason: 'unbalanced' });
    expect(outcome.verdicts.at(-1)).toMatchObject({
      kind: 'rejected',
      reason: 'duplicate_reference',
    });
  });
});
