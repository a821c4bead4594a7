// Reading a message on the projector's hot path: the envelope and data of the common case
// validated where they lie in the message's bytes, each byte looked at once, without
// decoding the text or building JSON.parse's tree. The common case is a flat data object
// holding exactly its type's fields, every string printable ASCII without escapes, the
// envelope's six members and nothing else, schema_version written `1`, a UTC timestamp,
// amounts as plain decimals. A string without escapes is its own canonical JSON, so the
// payload's canonical form is the data's members copied from the message in sorted order.
//
// Anything else returns null and the defining code (ledger/project.ts prepareMessage)
// reads the message: every rejection keeps its reason and message, and every unusual
// message its meaning. test/projector/hot-path.unit.spec.ts holds the two byte for byte
// equal, on clean streams, on every rejection and on messages only the defining code reads.
import { invariant } from '../errors.ts';
import { eventTypes, type Envelope, type EventType } from '../ledger/envelope.ts';
import { fieldSpecs, type FieldKind, type LedgerEvent } from '../ledger/events.ts';
import { currencies, fromMinor, zero, type CurrencyCode, type Money } from '../ledger/money.ts';
import type { Prepared } from '../ledger/project.ts';
import { limits } from '../limits.ts';
import type { JsonBytes } from './json-bytes.ts';

/** The envelope's members, in the order of `envelopeMembers`. */
const memberEventId = 0;
const memberType = 1;
const memberSchemaVersion = 2;
const memberOccurredAt = 3;
const memberProducer = 4;
const memberData = 5;
const envelopeMembers = ['event_id', 'type', 'schema_version', 'occurred_at', 'producer', 'data']
  .map((name) => Buffer.from(name, 'latin1'));

/** Data members read from one message, at most: more, and the defining code reads it. */
const dataMembersMax = 32;

type HotField = { name: Buffer; kind: FieldKind; memberPrefix: Buffer };

/** An event type the hot path reads itself: its data's fields are all ids, texts, a currency and amounts. */
type HotType = {
  type: EventType;
  name: Buffer;
  fields: HotField[];
  /** Field indexes in canonical (sorted) order of their names. */
  canonicalOrder: number[];
  /** The data object from its values in the spec's order (dataFactories). */
  make: DataFactory;
  /** The arithmetic validateData checks (events.ts checkArithmetic), on the amounts in minor units. */
  arithmeticHolds: (minor: Float64Array) => boolean;
  /** `},"type":"<type>"}`: the payload's canonical JSON after the data. */
  payloadTail: Buffer;
};

type DataFactory = (values: readonly unknown[]) => Record<string, unknown>;

/**
 * The data object of each type the hot path reads, as an object literal: one object with
 * its fields in place, the same shape for every message of the type (a generic copy of a
 * template, one site for all types, gave objects half as large again). Checked against
 * fieldSpecs when this module loads.
 */
const dataFactories: Partial<Record<EventType, DataFactory>> = {
  'payment.captured': (v) => ({
    payment_id: v[0], rental_id: v[1], driver_id: v[2], owner_id: v[3], market: v[4], processor: v[5], processor_ref: v[6], currency: v[7], rental_amount: v[8], commission: v[9], protection_fee: v[10], service_fee: v[11], tax: v[12], deposit: v[13], processor_fee: v[14], total: v[15],
  }),
  'rental.completed': (v) => ({
    rental_id: v[0], driver_id: v[1], owner_id: v[2], market: v[3],
  }),
  'rental.cancelled': (v) => ({
    rental_id: v[0], driver_id: v[1], owner_id: v[2], market: v[3],
  }),
  'payment.refunded': (v) => ({
    refund_id: v[0], payment_id: v[1], rental_id: v[2], processor_ref: v[3], currency: v[4], rental_amount: v[5], commission: v[6], protection_fee: v[7], service_fee: v[8], tax: v[9], total: v[10],
  }),
  'deposit.released': (v) => ({
    rental_id: v[0], driver_id: v[1], processor_ref: v[2], currency: v[3], amount: v[4],
  }),
  'deposit.applied': (v) => ({
    rental_id: v[0], driver_id: v[1], owner_id: v[2], claim_id: v[3], currency: v[4], amount: v[5],
  }),
  'dispute.opened': (v) => ({
    dispute_id: v[0], payment_id: v[1], rental_id: v[2], processor_ref: v[3], currency: v[4], amount: v[5], dispute_fee: v[6],
  }),
  'dispute.won': (v) => ({
    dispute_id: v[0], rental_id: v[1], processor_ref: v[2], currency: v[3], amount: v[4],
  }),
  'payout.paid': (v) => ({
    payout_id: v[0], owner_id: v[1], processor: v[2], processor_ref: v[3], currency: v[4], amount: v[5],
  }),
  'payout.failed': (v) => ({
    payout_id: v[0], owner_id: v[1], currency: v[2], amount: v[3], failure_code: v[4],
  }),
};

function factoryFor(type: EventType, names: string[]): DataFactory {
  const make = dataFactories[type];
  invariant(make !== undefined, `a data factory for ${type}`);
  const made = Object.keys(make(names));
  invariant(made.join() === names.join(), `the data factory of ${type} has fieldSpecs' fields in order`);
  return make;
}

const hotKinds: ReadonlySet<FieldKind> = new Set(['id', 'text', 'currency', 'amount', 'signed']);

const hotTypes: HotType[] = eventTypes
  .filter((type) => fieldSpecs[type].every(([, kind]) => hotKinds.has(kind)))
  .map((type) => {
    const spec = fieldSpecs[type];
    const fields = spec.map(([name, kind]) => ({
      name: Buffer.from(name, 'latin1'), kind, memberPrefix: Buffer.from(`"${name}":`, 'latin1'),
    }));
    const names = spec.map(([name]) => name);
    const canonicalOrder = [...names].sort().map((name) => names.indexOf(name));
    return {
      type,
      name: Buffer.from(type, 'latin1'),
      fields,
      canonicalOrder,
      make: factoryFor(type, names),
      arithmeticHolds: arithmeticFor(type, names),
      payloadTail: Buffer.from(`},"type":"${type}"}`, 'latin1'),
    };
  });

/**
 * events.ts checkArithmetic, on exact integers of minor units (each under 10^15, their sums
 * under 2^53): true when it would find nothing. When it would, the defining code reads the
 * message and words the rejection.
 */
function arithmeticFor(type: EventType, names: string[]): (minor: Float64Array) => boolean {
  const at = (name: string): number => {
    const index = names.indexOf(name);
    invariant(index !== -1, `${type} has a field ${name}`);
    return index;
  };
  switch (type) {
    case 'payment.captured': {
      const [rental, commission, protection, service, tax, deposit, fee, total] = [
        'rental_amount', 'commission', 'protection_fee', 'service_fee', 'tax', 'deposit', 'processor_fee', 'total',
      ].map(at) as [number, number, number, number, number, number, number, number];
      return (m) => (m[rental] as number) + (m[protection] as number) + (m[service] as number) + (m[tax] as number) +
        (m[deposit] as number) === m[total] && (m[commission] as number) <= (m[rental] as number) &&
        (m[fee] as number) <= (m[total] as number);
    }
    case 'payment.refunded': {
      const [rental, commission, protection, service, tax, total] = [
        'rental_amount', 'commission', 'protection_fee', 'service_fee', 'tax', 'total',
      ].map(at) as [number, number, number, number, number, number];
      return (m) => (m[rental] as number) + (m[protection] as number) + (m[service] as number) + (m[tax] as number) ===
        m[total] && (m[commission] as number) <= (m[rental] as number);
    }
    case 'payout.paid': {
      const amount = at('amount');
      return (m) => m[amount] !== 0;
    }
    case 'processor.payout':
    case 'adjustment.posted':
      throw new Error(`${type} has checks the hot path leaves to the defining code`);
    default:
      return () => true;
  }
}

const currencyNames = (Object.keys(currencies) as CurrencyCode[]).map((code) => ({ code, name: Buffer.from(code, 'latin1') }));

// Where the message's parts lie, for the message being read (one at a time per thread).
const envelopeSpans = new Int32Array(envelopeMembers.length * 2);
/** Per data member: key start, key end, value start, value end (the string's content). */
const dataSpans = new Int32Array(dataMembersMax * 4);
let dataMembers = 0;
/** Per field of the type: which data member holds it. */
const memberOfField = new Int32Array(dataMembersMax);
const minorOfField = new Float64Array(dataMembersMax);
/** The fields' values for the data factory (strings and Money of the message being read). */
const fieldValues: unknown[] = new Array<unknown>(dataMembersMax).fill(undefined);
/** Data members that are none of the type's fields, in the message's order. */
const extraMember = new Int32Array(dataMembersMax);
let extraMembers = 0;
const membersSorted = new Int32Array(dataMembersMax);
const textScratch = Buffer.alloc(64);

/**
 * prepareMessage (ledger/project.ts) of a message the hot path reads itself, or null: then
 * the defining code reads it. `scratch` receives the payload's canonical JSON.
 */
export function readMessageBytes(value: Buffer, scratch: JsonBytes): Prepared | null {
  const length = value.length;
  if (length > limits.messageBytesMax) return null;
  envelopeSpans.fill(-1);
  dataMembers = 0;
  let at = skipSpace(value, 0, length);
  if (value[at] !== 0x7b) return null;
  at = skipSpace(value, at + 1, length);
  for (;;) {
    if (value[at] !== 0x22) return null;
    const keyEnd = stringEnd(value, at + 1, length);
    if (keyEnd === -1) return null;
    const member = envelopeMember(value, at + 1, keyEnd);
    if (member === -1 || envelopeSpans[member * 2] !== -1) return null;
    at = skipSpace(value, keyEnd + 1, length);
    if (value[at] !== 0x3a) return null;
    at = skipSpace(value, at + 1, length);
    if (member === memberSchemaVersion) {
      // The token `1` exactly: `1.0`, `10`, `1e0` or a string are the defining code's to judge.
      if (value[at] !== 0x31) return null;
      envelopeSpans[member * 2] = at;
      at += 1;
    } else if (member === memberData) {
      envelopeSpans[member * 2] = at;
      at = readData(value, at, length);
      if (at === -1) return null;
    } else {
      if (value[at] !== 0x22) return null;
      const end = stringEnd(value, at + 1, length);
      if (end === -1) return null;
      envelopeSpans[member * 2] = at + 1;
      envelopeSpans[member * 2 + 1] = end;
      at = end + 1;
    }
    at = skipSpace(value, at, length);
    if (value[at] === 0x2c) {
      at = skipSpace(value, at + 1, length);
      continue;
    }
    if (value[at] !== 0x7d) return null;
    break;
  }
  if (skipSpace(value, at + 1, length) !== length) return null;
  for (let member = 0; member < envelopeMembers.length; member += 1) if (envelopeSpans[member * 2] === -1) return null;

  const hot = hotTypeOf(value, envelopeSpans[memberType * 2] as number, envelopeSpans[memberType * 2 + 1] as number);
  if (hot === undefined) return null;
  const eventId = eventIdText(value, envelopeSpans[memberEventId * 2] as number, envelopeSpans[memberEventId * 2 + 1] as number);
  if (eventId === null) return null;
  const producerStart = envelopeSpans[memberProducer * 2] as number;
  const producerEnd = envelopeSpans[memberProducer * 2 + 1] as number;
  if (producerEnd === producerStart) return null;
  const occurredAt = normalizedUtc(value, envelopeSpans[memberOccurredAt * 2] as number, envelopeSpans[memberOccurredAt * 2 + 1] as number);
  if (occurredAt === null) return null;
  const data = dataOf(hot, value);
  if (data === null) return null;

  writePayload(hot, value, scratch);
  const envelope: Envelope = {
    eventId,
    type: hot.type,
    occurredAt,
    producer: text(value, producerStart, producerEnd),
    data,
    payloadSha256: scratch.sha256Hex(),
  };
  return { kind: 'envelope', envelope, data: { ok: true, event: { type: hot.type, data } as unknown as LedgerEvent } };
}

function skipSpace(value: Buffer, start: number, length: number): number {
  let at = start;
  while (at < length) {
    const code = value[at] as number;
    if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) break;
    at += 1;
  }
  return at;
}

/** The closing quote of a string whose content starts at `start`; -1 unless it is printable ASCII without escapes. */
function stringEnd(value: Buffer, start: number, length: number): number {
  for (let at = start; at < length; at += 1) {
    const code = value[at] as number;
    if (code === 0x22) return at;
    if (code < 0x20 || code > 0x7e || code === 0x5c) return -1;
  }
  return -1;
}

function same(value: Buffer, start: number, end: number, name: Buffer): boolean {
  if (end - start !== name.length) return false;
  for (let index = 0; index < name.length; index += 1) if (value[start + index] !== name[index]) return false;
  return true;
}

function envelopeMember(value: Buffer, start: number, end: number): number {
  for (let member = 0; member < envelopeMembers.length; member += 1) {
    if (same(value, start, end, envelopeMembers[member] as Buffer)) return member;
  }
  return -1;
}

/** The data object's members, each a string, into dataSpans; the index after its `}`, or -1. */
function readData(value: Buffer, start: number, length: number): number {
  if (value[start] !== 0x7b) return -1;
  let at = skipSpace(value, start + 1, length);
  if (value[at] === 0x7d) return at + 1;
  for (;;) {
    if (value[at] !== 0x22 || dataMembers === dataMembersMax) return -1;
    const keyEnd = stringEnd(value, at + 1, length);
    if (keyEnd === -1) return -1;
    const slot = dataMembers * 4;
    dataSpans[slot] = at + 1;
    dataSpans[slot + 1] = keyEnd;
    at = skipSpace(value, keyEnd + 1, length);
    if (value[at] !== 0x3a) return -1;
    at = skipSpace(value, at + 1, length);
    if (value[at] !== 0x22) return -1;
    const valueEnd = stringEnd(value, at + 1, length);
    if (valueEnd === -1) return -1;
    dataSpans[slot + 2] = at + 1;
    dataSpans[slot + 3] = valueEnd;
    dataMembers += 1;
    at = skipSpace(value, valueEnd + 1, length);
    if (value[at] === 0x2c) {
      at = skipSpace(value, at + 1, length);
      continue;
    }
    return value[at] === 0x7d ? at + 1 : -1;
  }
}

function hotTypeOf(value: Buffer, start: number, end: number): HotType | undefined {
  for (let index = 0; index < hotTypes.length; index += 1) {
    const hot = hotTypes[index] as HotType;
    if (same(value, start, end, hot.name)) return hot;
  }
  return undefined;
}

/**
 * The data of `hot` as validateData gives it: ids and texts as strings, the currency as
 * its code, amounts as Money, extra members (EVENTS.md keeps them) as their strings; null
 * when a field is missing, repeated or not what its kind requires, or the arithmetic fails.
 */
function dataOf(hot: HotType, value: Buffer): Record<string, unknown> | null {
  const fields = hot.fields;
  if (dataMembers < fields.length) return null;
  memberOfField.fill(-1, 0, fields.length);
  extraMembers = 0;
  for (let member = 0; member < dataMembers; member += 1) {
    const keyStart = dataSpans[member * 4] as number;
    const keyEnd = dataSpans[member * 4 + 1] as number;
    // Producers write the fields in the spec's order: try that field first.
    let field = member < fields.length && same(value, keyStart, keyEnd, (fields[member] as HotField).name) ? member : -1;
    for (let index = 0; field === -1 && index < fields.length; index += 1) {
      if (same(value, keyStart, keyEnd, (fields[index] as HotField).name)) field = index;
    }
    if (field === -1) {
      // An extra member: JSON.parse keeps the last of repeated names and gives `__proto__`
      // a meaning of its own; the defining code reads those.
      if (same(value, keyStart, keyEnd, protoName)) return null;
      for (let extra = 0; extra < extraMembers; extra += 1) {
        const other = extraMember[extra] as number;
        if (same(value, keyStart, keyEnd, value.subarray(dataSpans[other * 4] as number, dataSpans[other * 4 + 1] as number))) {
          return null;
        }
      }
      extraMember[extraMembers++] = member;
      continue;
    }
    if (memberOfField[field] !== -1) return null;
    memberOfField[field] = member;
  }
  if (dataMembers - extraMembers !== fields.length) return null;
  let currency: CurrencyCode | undefined;
  for (let field = 0; field < fields.length; field += 1) {
    if ((fields[field] as HotField).kind !== 'currency') continue;
    const member = memberOfField[field] as number;
    currency = currencyOf(value, dataSpans[member * 4 + 2] as number, dataSpans[member * 4 + 3] as number);
    if (currency === undefined) return null;
  }
  const exponent = currency === undefined ? 0 : currencies[currency].exponent;
  for (let field = 0; field < fields.length; field += 1) {
    const { kind } = fields[field] as HotField;
    const member = memberOfField[field] as number;
    const start = dataSpans[member * 4 + 2] as number;
    const end = dataSpans[member * 4 + 3] as number;
    if (kind === 'id') {
      if (end === start) return null;
    } else if (kind === 'amount' || kind === 'signed') {
      if (currency === undefined) return null;
      const minor = minorUnits(value, start, end, exponent, kind === 'signed');
      if (Number.isNaN(minor)) return null;
      minorOfField[field] = minor;
    }
  }
  if (!hot.arithmeticHolds(minorOfField)) return null;
  for (let field = 0; field < fields.length; field += 1) {
    const { kind } = fields[field] as HotField;
    const member = memberOfField[field] as number;
    if (kind === 'currency') {
      fieldValues[field] = currency;
    } else if (kind === 'amount' || kind === 'signed') {
      fieldValues[field] = moneyOf(currency as CurrencyCode, minorOfField[field] as number);
    } else {
      fieldValues[field] = text(value, dataSpans[member * 4 + 2] as number, dataSpans[member * 4 + 3] as number);
    }
  }
  const data = hot.make(fieldValues);
  for (let extra = 0; extra < extraMembers; extra += 1) {
    const member = extraMember[extra] as number;
    const name = value.toString('latin1', dataSpans[member * 4] as number, dataSpans[member * 4 + 1] as number);
    data[name] = value.toString('latin1', dataSpans[member * 4 + 2] as number, dataSpans[member * 4 + 3] as number);
  }
  return data;
}

const protoName = Buffer.from('__proto__', 'latin1');

/**
 * The payload's canonical JSON, {"data":{members sorted by name},"type":"…"}, into
 * `scratch`: each member's bytes as the message has them (a string without escapes is
 * its own canonical form), in the type's precomputed order, or sorted here when the
 * message has extra members.
 */
function writePayload(hot: HotType, value: Buffer, s: JsonBytes): void {
  s.reset();
  s.ascii('{"data":{');
  if (extraMembers === 0) {
    for (let index = 0; index < hot.canonicalOrder.length; index += 1) {
      writeMember(value, memberOfField[hot.canonicalOrder[index] as number] as number, index === 0, s);
    }
  } else {
    // The extras sorted among themselves (rarely more than one), then merged with the
    // type's fields in their precomputed order.
    for (let extra = 0; extra < extraMembers; extra += 1) {
      const member = extraMember[extra] as number;
      let at = extra;
      while (at > 0 && nameBefore(value, member, membersSorted[at - 1] as number)) {
        membersSorted[at] = membersSorted[at - 1] as number;
        at -= 1;
      }
      membersSorted[at] = member;
    }
    const order = hot.canonicalOrder;
    let field = 0;
    let extra = 0;
    for (let index = 0; index < dataMembers; index += 1) {
      const fieldMember = field < order.length ? memberOfField[order[field] as number] as number : -1;
      const extraMember = extra < extraMembers ? membersSorted[extra] as number : -1;
      const takeExtra = fieldMember === -1 || (extraMember !== -1 && nameBefore(value, extraMember, fieldMember));
      writeMember(value, takeExtra ? extraMember : fieldMember, index === 0, s);
      if (takeExtra) extra += 1;
      else field += 1;
    }
  }
  s.reserve(hot.payloadTail.length);
  s.at = copyBytes(hot.payloadTail, 0, hot.payloadTail.length, s.buffer, s.at);
}

/** `"name":"value"` of a data member, copied from the message. */
function writeMember(value: Buffer, member: number, first: boolean, s: JsonBytes): void {
  const keyStart = (dataSpans[member * 4] as number) - 1;
  const keyEnd = (dataSpans[member * 4 + 1] as number) + 1;
  const valueStart = (dataSpans[member * 4 + 2] as number) - 1;
  const valueEnd = (dataSpans[member * 4 + 3] as number) + 1;
  s.reserve(keyEnd - keyStart + valueEnd - valueStart + 2);
  if (!first) s.buffer[s.at++] = 0x2c;
  s.at = copyBytes(value, keyStart, keyEnd, s.buffer, s.at);
  s.buffer[s.at++] = 0x3a;
  s.at = copyBytes(value, valueStart, valueEnd, s.buffer, s.at);
}

/**
 * Bytes copied one by one, returning where the copy ends: Buffer.copy with offsets makes
 * a view per call, more than the few bytes of a member cost to copy.
 */
function copyBytes(source: Buffer, start: number, end: number, target: Buffer, at: number): number {
  let to = at;
  for (let from = start; from < end; from += 1) target[to++] = source[from] as number;
  return to;
}

/**
 * Whether member `a`'s name sorts before member `b`'s, by bytes (UTF-16 code units, as
 * canonicalJson sorts, for ASCII); compared here, a call into C++ per pair cost more.
 */
function nameBefore(value: Buffer, a: number, b: number): boolean {
  let left = dataSpans[a * 4] as number;
  const leftEnd = dataSpans[a * 4 + 1] as number;
  let right = dataSpans[b * 4] as number;
  const rightEnd = dataSpans[b * 4 + 1] as number;
  for (; left < leftEnd && right < rightEnd; left += 1, right += 1) {
    const x = value[left] as number;
    const y = value[right] as number;
    if (x !== y) return x < y;
  }
  return leftEnd - left < rightEnd - right;
}

/** Texts this short are mostly a vocabulary (markets, processors, producers): each is made once. */
const internedBytesMax = 12;
const internSlots = 256;
const internedBytes = Buffer.alloc(internSlots * internedBytesMax);
const internedLength = new Uint8Array(internSlots);
const internedText: string[] = new Array<string>(internSlots).fill('');

/**
 * The printable ASCII between start and end as a string; a short one from a small table
 * of the last texts seen by hash (bounded: a slot is overwritten by the next text hashed
 * to it), so that `US-CA` or `stripe` is not a new string in every message.
 */
function text(value: Buffer, start: number, end: number): string {
  const length = end - start;
  if (length > internedBytesMax || length === 0) return value.toString('latin1', start, end);
  let hash = 0x811c9dc5;
  for (let at = start; at < end; at += 1) hash = Math.imul(hash ^ (value[at] as number), 0x01000193);
  const slot = (hash >>> 0) % internSlots;
  const base = slot * internedBytesMax;
  if (internedLength[slot] === length) {
    let equal = true;
    for (let index = 0; index < length; index += 1) {
      if (internedBytes[base + index] !== value[start + index]) {
        equal = false;
        break;
      }
    }
    if (equal) return internedText[slot] as string;
  }
  const made = value.toString('latin1', start, end);
  copyBytes(value, start, end, internedBytes, base);
  internedLength[slot] = length;
  internedText[slot] = made;
  return made;
}

function currencyOf(value: Buffer, start: number, end: number): CurrencyCode | undefined {
  for (let index = 0; index < currencyNames.length; index += 1) {
    const currency = currencyNames[index] as { code: CurrencyCode; name: Buffer };
    if (same(value, start, end, currency.name)) return currency.code;
  }
  return undefined;
}

/**
 * Amounts recur (a day's rate, a deposit, a fee on the same price): the last Money made for
 * an amount is given again, by a table indexed by the amount (bounded, a slot overwritten
 * by the next amount indexed to it). Money is never changed in place, so sharing one is
 * the same as making another.
 */
const moneySlots = 16_384;
const internedMinor = new Float64Array(moneySlots).fill(-1);
const internedMoney: Money[] = new Array<Money>(moneySlots);

function moneyOf(currency: CurrencyCode, minor: number): Money {
  if (minor === 0) return zero(currency);
  if (minor < 0) return fromMinor(currency, BigInt(minor));
  const slot = minor % moneySlots;
  if (internedMinor[slot] === minor) {
    const money = internedMoney[slot] as Money;
    if (money.currency === currency) return money;
  }
  const money = fromMinor(currency, BigInt(minor));
  internedMinor[slot] = minor;
  internedMoney[slot] = money;
  return money;
}

/** Digits of an amount read exactly as a double: fewer than 10^15, the ledger's largest amount. */
const amountDigitsMax = 15;

/**
 * money.ts parseAmount of an amount it accepts, as minor units; NaN for anything else
 * (the defining code gives the reason): digits, optionally a point and at most the
 * currency's minor digits, a '-' first where the field is signed.
 */
function minorUnits(value: Buffer, start: number, end: number, exponent: number, allowNegative: boolean): number {
  let at = start;
  const negative = allowNegative && value[at] === 0x2d;
  if (negative) at += 1;
  let minor = 0;
  let wholeDigits = 0;
  for (; at < end; at += 1) {
    const code = value[at] as number;
    if (code === 0x2e) break;
    if (code < 0x30 || code > 0x39) return Number.NaN;
    minor = minor * 10 + (code - 0x30);
    wholeDigits += 1;
  }
  if (wholeDigits === 0) return Number.NaN;
  let fractionDigits = 0;
  if (at < end) {
    for (at += 1; at < end; at += 1) {
      const code = value[at] as number;
      if (code < 0x30 || code > 0x39) return Number.NaN;
      minor = minor * 10 + (code - 0x30);
      fractionDigits += 1;
    }
    if (fractionDigits === 0 || fractionDigits > exponent) return Number.NaN;
  }
  for (let pad = fractionDigits; pad < exponent; pad += 1) minor *= 10;
  if (wholeDigits + exponent > amountDigitsMax) return Number.NaN;
  return negative ? -minor : minor;
}

const uuidLength = 36;

/** envelope.ts: a UUID, lower-cased; null for anything else. */
function eventIdText(value: Buffer, start: number, end: number): string | null {
  if (end - start !== uuidLength) return null;
  let upper = false;
  for (let index = 0; index < uuidLength; index += 1) {
    const code = value[start + index] as number;
    if (index === 8 || index === 13 || index === 18 || index === 23) {
      if (code !== 0x2d) return null;
    } else if (code >= 0x41 && code <= 0x46) {
      upper = true;
    } else if (!((code >= 0x30 && code <= 0x39) || (code >= 0x61 && code <= 0x66))) {
      return null;
    }
  }
  if (!upper) return value.toString('latin1', start, end);
  for (let index = 0; index < uuidLength; index += 1) {
    const code = value[start + index] as number;
    textScratch[index] = code >= 0x41 && code <= 0x46 ? code + 0x20 : code;
  }
  return textScratch.toString('latin1', 0, uuidLength);
}

const monthDaysMax = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const utcShape = Buffer.from('9999-99-99T99:99:99', 'latin1');
const normalizedLength = 27;

/**
 * envelope.ts normalizeTimestamp of a UTC timestamp as producers write it,
 * `YYYY-MM-DDTHH:MM:SS[.f…]Z` with its fields in range: `YYYY-MM-DDTHH:MM:SS.ffffffZ`, the
 * fraction padded or cut to six digits; null for anything else (the defining code decides).
 */
function normalizedUtc(value: Buffer, start: number, end: number): string | null {
  const length = end - start;
  if (length < 20 || value[end - 1] !== 0x5a) return null;
  for (let index = 0; index < 19; index += 1) {
    const code = value[start + index] as number;
    const expected = utcShape[index] as number;
    if (expected === 0x39) {
      if (code < 0x30 || code > 0x39) return null;
    } else if (code !== expected) {
      return null;
    }
  }
  let fraction = 0;
  if (length > 20) {
    if (value[start + 19] !== 0x2e) return null;
    fraction = length - 21;
    if (fraction < 1 || fraction > 9) return null;
    for (let index = start + 20; index < end - 1; index += 1) {
      const code = value[index] as number;
      if (code < 0x30 || code > 0x39) return null;
    }
  }
  const year = digits(value, start, 4);
  const month = digits(value, start + 5, 2);
  const day = digits(value, start + 8, 2);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > (monthDaysMax[month - 1] as number)) return null;
  if (month === 2 && day === 29 && !((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0)) return null;
  if (digits(value, start + 11, 2) > 23 || digits(value, start + 14, 2) > 59 || digits(value, start + 17, 2) > 59) return null;
  if (fraction === 6) return value.toString('latin1', start, end);
  copyBytes(value, start, start + 19, textScratch, 0);
  textScratch[19] = 0x2e;
  for (let index = 0; index < 6; index += 1) {
    textScratch[20 + index] = index < fraction ? (value[start + 20 + index] as number) : 0x30;
  }
  textScratch[26] = 0x5a;
  return textScratch.toString('latin1', 0, normalizedLength);
}

function digits(value: Buffer, start: number, count: number): number {
  let result = 0;
  for (let index = start; index < start + count; index += 1) result = result * 10 + (value[index] as number) - 0x30;
  return result;
}
