// The projector's hot path: the same decisions and the same bytes as the defining code
// (ledger/envelope.ts readEnvelope, ledger/events.ts validateData, ledger/entry.ts
// sealEntry, project-batch.ts applyOutcome and stageStates), built for the loop that runs
// once per event. Canonical JSON and the entry hash's input are written straight into a
// reused buffer and hashed from it; amounts are read as integers of minor units without
// regular expressions; rows go into the COPY buffers from the parsed values. Whatever is
// not the common case (a message that will be refused, an adjustment, an unusual field)
// takes the defining code, so each rejection keeps its exact reason and message.
// test/projector/hot-path.unit.spec.ts holds both paths byte for byte equal.
import { invariant } from '../errors.ts';
import type { ApprovalKeys } from '../ledger/approval.ts';
import { assertLinesValid, bookingFor, carriesExactly, entryHashVersion, topicIdPrefix } from '../ledger/entry.ts';
import { accountByCode } from '../ledger/chart.ts';
import {
  isEventType, normalizeTimestamp, readEnvelope, uuidPattern, type Envelope, type EventType,
} from '../ledger/envelope.ts';
import { checkArithmetic, fieldSpecs, validateData, type DataResult, type LedgerEvent } from '../ledger/events.ts';
import { currencies, fromMinor, type CurrencyCode } from '../ledger/money.ts';
import { decideMessage, refsOfPrepared, type MessageOutcome, type Prepared } from '../ledger/project.ts';
import type { Line } from '../ledger/rules.ts';
import { limits } from '../limits.ts';
import type { LogMessage } from '../log/types.ts';
import { postgresEpochMs, StagedCopy } from '../db/copy.ts';
import { JsonBytes, NotWritable } from './json-bytes.ts';
import {
  newBatchWrites, writeDuplicateRow, writeQuarantineRow, writeRawRow, type BatchWrites, type DecisionSources,
  type PartitionHead, type StateSlot,
} from './project-batch.ts';

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/**
 * Messages this thread handed to the defining code, by step: the equality test checks the
 * hot path really reads the common case itself (else equality would prove nothing).
 */
export const handedToDefiningCode = { envelopes: 0, data: 0 };

/** One scratch buffer per thread: a message is prepared, or an entry sealed, one at a time. */
const scratch = new JsonBytes();

/** As decideBatch (project-batch.ts), on the hot path. */
export async function decideBatchHot(
  sources: DecisionSources,
  messages: readonly LogMessage[],
  headBefore: PartitionHead,
  approvalKeys: ApprovalKeys,
): Promise<BatchWrites> {
  const closedPeriods = await sources.closedPeriods();
  const writes = newBatchWrites(headBefore);
  const { posted, states } = writes;
  const view = (key: string) => states.get(key)?.state;
  const postedEvent = (eventId: string) => posted.get(eventId);
  const chain: ChainHead = { seq: headBefore.chainSeq, digest: Buffer.from(headBefore.chainHead, 'hex').toString('latin1') };
  const prepared: Prepared[] = [];
  const eventIds = new Set<string>();
  const refs = new Set<string>();
  for (let start = 0; start < messages.length; start += decideChunkMessages) {
    const end = Math.min(start + decideChunkMessages, messages.length);
    prepared.length = 0;
    eventIds.clear();
    refs.clear();
    for (let index = start; index < end; index += 1) {
      const p = prepareMessageHot((messages[index] as LogMessage).value);
      prepared.push(p);
      if (p.kind === 'envelope' && !posted.has(p.envelope.eventId)) eventIds.add(p.envelope.eventId);
      const keys = refsOfPrepared(p);
      for (let k = 0; k < keys.length; k += 1) if (!states.has(keys[k] as string)) refs.add(keys[k] as string);
    }
    // What this batch posted or changed so far is already in the maps, and newer than the database.
    await sources.postedEvents([...eventIds], posted);
    await sources.states([...refs], states);
    for (let index = start; index < end; index += 1) {
      const message = messages[index] as LogMessage;
      invariant(message.offset === headBefore.nextOffset + index, 'a batch holds consecutive offsets');
      const outcome = decideMessage(prepared[index - start] as Prepared, postedEvent, view, approvalKeys);
      applyOutcomeHot(writes, message, outcome, chain, closedPeriods);
    }
  }
  prepared.length = 0;
  writes.head.nextOffset = headBefore.nextOffset + messages.length;
  writes.head.chainSeq = chain.seq;
  writes.head.chainHead = Buffer.from(chain.digest, 'latin1').toString('hex');
  return writes;
}

/** As in decideBatch: a parsed message lives only until its rows are encoded. */
const decideChunkMessages = 500;

/** The chain's head; its digest as a binary string, a byte per character (JsonBytes.sha256Binary). */
type ChainHead = { seq: number; digest: string };

// ---- reading a message -------------------------------------------------------------------

/** prepareMessage (ledger/project.ts), on the hot path. */
export function prepareMessageHot(value: Buffer | null): Prepared {
  const envelope = readEnvelopeHot(value);
  if (envelope === null) {
    handedToDefiningCode.envelopes += 1;
    const read = readEnvelope(value);
    if (!read.ok) return { kind: 'unreadable', rejection: read.rejection };
    return { kind: 'envelope', envelope: read.envelope, data: validateData(read.envelope) };
  }
  return { kind: 'envelope', envelope, data: validateDataHot(envelope) };
}

/**
 * readEnvelope for a message it would accept, or null: then the defining reader decides
 * (it refuses the message with its reason, or reads something unusual this one leaves to it).
 */
function readEnvelopeHot(value: Buffer | null): Envelope | null {
  if (value === null || value.length > limits.messageBytesMax) return null;
  let text: string;
  let record: Record<string, unknown>;
  try {
    text = utf8Decoder.decode(value);
    record = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return null;
  const { event_id: eventId, type, occurred_at: occurredAtGiven, producer, data, schema_version: version } = record;
  if (typeof eventId !== 'string' || !uuidPattern.test(eventId)) return null;
  if (typeof type !== 'string' || !isEventType(type)) return null;
  if (typeof producer !== 'string' || producer.length === 0) return null;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return null;
  if (version !== 1 || !schemaVersionIsOne(text)) return null;
  if (typeof occurredAtGiven !== 'string') return null;
  const occurredAt = normalizedUtc(occurredAtGiven) ?? normalizeTimestamp(occurredAtGiven);
  if (occurredAt === null) return null;
  // The defining reader refuses what it cannot hash anywhere in the message: the members
  // beside data are scalars here, or it decides.
  for (const key in record) {
    if (key === 'data') continue;
    const member = record[key];
    if (member !== null && typeof member === 'object') return null;
    if (typeof member === 'number' && !Number.isFinite(member)) return null;
  }
  let payloadSha256: string;
  try {
    scratch.reset();
    scratch.ascii('{"data":');
    scratch.canonical(data, 1);
    scratch.ascii(',"type":');
    scratch.string(type);
    scratch.byte(0x7d);
    payloadSha256 = scratch.sha256Hex();
  } catch (error) {
    if (error instanceof NotWritable) return null;
    throw error;
  }
  return {
    eventId: eventId.toLowerCase(),
    type,
    occurredAt,
    producer,
    data: data as Record<string, unknown>,
    payloadSha256,
  };
}

const schemaVersionKey = '"schema_version"';

/**
 * The top-level schema_version's token is `1` (envelope.ts checkSchemaVersion: JSON.parse
 * reads `1.0` as 1 too). Only when the key's text occurs once, as the defining reader's
 * own fast path; otherwise it decides.
 */
function schemaVersionIsOne(text: string): boolean {
  const first = text.indexOf(schemaVersionKey);
  if (first === -1 || first !== text.lastIndexOf(schemaVersionKey)) return false;
  let index = skipSpace(text, first + schemaVersionKey.length);
  if (text.charCodeAt(index) !== 0x3a) return false;
  index = skipSpace(text, index + 1);
  if (text.charCodeAt(index) !== 0x31) return false;
  const after = text.charCodeAt(index + 1);
  return after === 0x2c || after === 0x7d || after === 0x20 || after === 0x09 || after === 0x0a || after === 0x0d;
}

function skipSpace(text: string, start: number): number {
  let index = start;
  for (;;) {
    const code = text.charCodeAt(index);
    if (code !== 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) return index;
    index += 1;
  }
}

const monthDaysMax = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const zeros = ['', '0', '00', '000', '0000', '00000', '000000'];

/**
 * normalizeTimestamp (envelope.ts) of a UTC timestamp as producers write it,
 * `YYYY-MM-DDTHH:MM:SS[.f…]Z` with its fields in range, read without a regular
 * expression; null for anything else (normalizeTimestamp decides).
 */
function normalizedUtc(value: string): string | null {
  const length = value.length;
  if (length < 20 || value.charCodeAt(length - 1) !== 0x5a) return null;
  for (let index = 0; index < 19; index += 1) {
    const code = value.charCodeAt(index);
    const expected = utcShape.charCodeAt(index);
    if (expected === 0x39) {
      if (code < 0x30 || code > 0x39) return null;
    } else if (code !== expected) {
      return null;
    }
  }
  let fraction = 0;
  if (length > 20) {
    if (value.charCodeAt(19) !== 0x2e) return null;
    fraction = length - 21;
    if (fraction < 1 || fraction > 9) return null;
    for (let index = 20; index < length - 1; index += 1) {
      const code = value.charCodeAt(index);
      if (code < 0x30 || code > 0x39) return null;
    }
  }
  const year = digits(value, 0, 4);
  const month = digits(value, 5, 2);
  const day = digits(value, 8, 2);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > (monthDaysMax[month - 1] as number)) return null;
  if (month === 2 && day === 29 && !((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0)) return null;
  if (digits(value, 11, 2) > 23 || digits(value, 14, 2) > 59 || digits(value, 17, 2) > 59) return null;
  if (fraction === 6) return value;
  if (fraction > 6) return `${value.slice(0, 26)}Z`;
  if (fraction === 0) return `${value.slice(0, 19)}.000000Z`;
  return `${value.slice(0, 20 + fraction)}${zeros[6 - fraction] as string}Z`;
}

const utcShape = '9999-99-99T99:99:99';

function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let index = start; index < start + count; index += 1) value = value * 10 + text.charCodeAt(index) - 0x30;
  return value;
}

/**
 * A normalized timestamp (`YYYY-MM-DDTHH:MM:SS.ffffffZ`) in microseconds since
 * PostgreSQL's epoch; NaN before the year 100, where Date.UTC reads years differently
 * (the COPY writer then parses the text itself).
 */
function postgresMicros(normalized: string): number {
  const year = digits(normalized, 0, 4);
  if (year < 100) return Number.NaN;
  const ms = Date.UTC(year, digits(normalized, 5, 2) - 1, digits(normalized, 8, 2), digits(normalized, 11, 2),
    digits(normalized, 14, 2), digits(normalized, 17, 2));
  return (ms - postgresEpochMs) * 1000 + digits(normalized, 20, 6);
}

/** A `YYYY-MM` period's first day in days since PostgreSQL's epoch. */
function postgresDaysOfPeriod(period: string): number {
  const year = digits(period, 0, 4);
  if (year < 100) return Number.NaN;
  return (Date.UTC(year, digits(period, 5, 2) - 1, 1) - postgresEpochMs) / 86_400_000;
}

// ---- validating the data -----------------------------------------------------------------

/** Parsed amounts of the message being validated, by the field's place in its spec. */
const parsedMinor = new Float64Array(32);

/**
 * validateData (ledger/events.ts) for data it would accept, reading amounts as integers of
 * minor units; anything else (a field it would refuse, an adjustment, a date or period
 * field) is left to it. The amounts replace their strings in the parsed data itself (it
 * is this message's own, and already hashed); the defining code makes a copy.
 */
function validateDataHot(envelope: Envelope): DataResult {
  const type: EventType = envelope.type;
  const spec = fieldSpecs[type];
  const data = envelope.data as Record<string, unknown>;
  if (type === 'adjustment.posted' || spec.length > parsedMinor.length) return validateDataDefining(envelope);
  // Types without a currency (a rental's completion or cancellation) have no amounts either.
  const currency = data.currency;
  const hasCurrency = currency === 'USD' || currency === 'CAD';
  if (!hasCurrency && currencyTypes.has(type)) return validateDataDefining(envelope);
  const exponent = hasCurrency ? currencies[currency].exponent : 0;
  for (let index = 0; index < spec.length; index += 1) {
    const field = spec[index] as [string, string];
    const name = field[0];
    const kind = field[1];
    const value = data[name];
    switch (kind) {
      case 'id':
        if (typeof value !== 'string' || value.length === 0) return validateDataDefining(envelope);
        break;
      case 'text':
        if (typeof value !== 'string') return validateDataDefining(envelope);
        break;
      case 'currency':
        break; // read above
      case 'amount':
      case 'signed': {
        const minor = typeof value === 'string' ? minorUnits(value, exponent, kind === 'signed') : Number.NaN;
        if (Number.isNaN(minor)) return validateDataDefining(envelope);
        parsedMinor[index] = minor;
        break;
      }
      default:
        return validateDataDefining(envelope);
    }
  }
  for (let index = 0; index < spec.length; index += 1) {
    const field = spec[index] as [string, string];
    const kind = field[1];
    if (kind === 'amount' || kind === 'signed') {
      data[field[0]] = fromMinor(currency as CurrencyCode, BigInt(parsedMinor[index] as number));
    }
  }
  const event = { type, data } as unknown as LedgerEvent;
  const arithmetic = checkArithmetic(event);
  if (arithmetic !== null) return { ok: false, rejection: arithmetic };
  return { ok: true, event };
}

function validateDataDefining(envelope: Envelope): DataResult {
  handedToDefiningCode.data += 1;
  return validateData(envelope);
}

/** Event types whose data has a currency field. */
const currencyTypes: ReadonlySet<EventType> = new Set((Object.keys(fieldSpecs) as EventType[])
  .filter((type) => fieldSpecs[type].some(([, kind]) => kind === 'currency')));

/** Digits of an amount read exactly as a double: fewer than 10^15, the ledger's largest amount. */
const amountDigitsMax = 15;

/**
 * money.ts parseAmount for an amount it accepts, as minor units; NaN for anything else
 * (it then gives the reason).
 */
function minorUnits(value: string, exponent: number, allowNegative: boolean): number {
  const length = value.length;
  let index = 0;
  const negative = allowNegative && value.charCodeAt(0) === 0x2d;
  if (negative) index = 1;
  let minor = 0;
  let digitsSeen = 0;
  let wholeDigits = 0;
  for (; index < length; index += 1) {
    const code = value.charCodeAt(index);
    if (code === 0x2e) break;
    if (code < 0x30 || code > 0x39) return Number.NaN;
    minor = minor * 10 + (code - 0x30);
    wholeDigits += 1;
  }
  if (wholeDigits === 0) return Number.NaN;
  digitsSeen = wholeDigits;
  let fractionDigits = 0;
  if (index < length) {
    for (index += 1; index < length; index += 1) {
      const code = value.charCodeAt(index);
      if (code < 0x30 || code > 0x39) return Number.NaN;
      minor = minor * 10 + (code - 0x30);
      fractionDigits += 1;
    }
    if (fractionDigits === 0 || fractionDigits > exponent) return Number.NaN;
  }
  for (let pad = fractionDigits; pad < exponent; pad += 1) minor *= 10;
  if (digitsSeen + exponent > amountDigitsMax) return Number.NaN;
  return negative ? -minor : minor;
}

// ---- writing the outcome -----------------------------------------------------------------

function applyOutcomeHot(
  writes: BatchWrites,
  message: LogMessage,
  outcome: MessageOutcome,
  chain: ChainHead,
  closedPeriods: ReadonlySet<string>,
): void {
  writeRawRow(writes.raw, message, outcome.kind);
  if (outcome.kind === 'quarantined') {
    writes.counts.quarantined += 1;
    writeQuarantineRow(writes.quarantine, message, outcome);
    return;
  }
  if (outcome.kind === 'duplicate') {
    writes.counts.duplicates += 1;
    writeDuplicateRow(writes.duplicates, message, outcome);
    return;
  }
  const { envelope, posting } = outcome;
  const { topic, partition, offset } = message;
  const effectiveAt = envelope.occurredAt;
  let bookedPeriod: string;
  let late = false;
  if (closedPeriods.size === 0) {
    bookedPeriod = periodOf(effectiveAt);
  } else {
    const booking = bookingFor(effectiveAt, closedPeriods);
    bookedPeriod = booking.bookedPeriod;
    late = booking.late;
  }
  const idBytes = entryIdBytes(topic, partition, offset);
  const entryId = uuidText(idBytes);
  const lines = posting.lines;
  if (!linesValid(lines)) assertLinesValid(entryId, lines); // it throws, naming what is wrong
  const chainSeq = chain.seq + 1;

  // entry.ts entryHashInput, format version 1, written directly.
  const s = scratch;
  s.reset();
  s.byte(0x5b);
  s.unsigned(entryHashVersion);
  s.ascii(',"');
  s.hexOfBinary(chain.digest);
  s.ascii('",');
  s.unsigned(chainSeq);
  s.byte(0x2c); s.string(entryId);
  s.byte(0x2c); s.string(envelope.eventId);
  s.byte(0x2c); s.string(envelope.type);
  s.byte(0x2c); s.string(topic);
  s.byte(0x2c); s.unsigned(partition);
  s.byte(0x2c); s.unsigned(offset);
  s.byte(0x2c); s.string(effectiveAt);
  s.byte(0x2c); s.string(bookedPeriod);
  s.ascii(late ? ',true,' : ',false,');
  s.string(posting.rule);
  s.byte(0x2c); s.unsigned(posting.ruleVersion);
  s.byte(0x2c); s.string(envelope.payloadSha256);
  s.ascii(',{');
  const subject = posting.subject;
  let first = true;
  if (subject.currency !== undefined) first = member(s, first, '"currency":', subject.currency);
  if (subject.market !== undefined) first = member(s, first, '"market":', subject.market);
  if (subject.owner_id !== undefined) first = member(s, first, '"owner_id":', subject.owner_id);
  if (subject.rental_id !== undefined) member(s, first, '"rental_id":', subject.rental_id);
  s.ascii('},[');
  for (let index = 0; index < lines.length; index += 1) {
    const l = lines[index] as Line;
    s.ascii(index === 0 ? '[' : ',[');
    s.string(l.account);
    s.byte(0x2c); s.string(l.side);
    s.ascii(',"');
    amountText(s, l.amount.minor, l.amount.currency);
    s.ascii('",');
    s.string(l.amount.currency);
    s.ascii(',{');
    const d = l.dims;
    let firstDim = true;
    if (d.driver_id !== undefined) firstDim = member(s, firstDim, '"driver_id":', d.driver_id);
    if (d.market !== undefined) firstDim = member(s, firstDim, '"market":', d.market);
    if (d.owner_id !== undefined) firstDim = member(s, firstDim, '"owner_id":', d.owner_id);
    if (d.processor !== undefined) firstDim = member(s, firstDim, '"processor":', d.processor);
    if (d.rental_id !== undefined) member(s, firstDim, '"rental_id":', d.rental_id);
    s.ascii('}]');
  }
  s.ascii(']]');
  const hash = s.sha256Binary();

  const micros = postgresMicros(effectiveAt);
  const days = bookedDays(bookedPeriod);
  const r = writes.entries;
  r.row();
  r.uuidBytes(idBytes); r.value(envelope.eventId); r.value(envelope.type); r.value(topic);
  r.value(partition); r.value(offset); r.value(chainSeq);
  if (Number.isNaN(micros)) r.value(effectiveAt); else r.postgresMicros(micros);
  if (Number.isNaN(days)) r.value(`${bookedPeriod}-01`); else r.postgresDays(days);
  r.value(late); r.value(posting.rule); r.value(posting.ruleVersion); r.value(envelope.payloadSha256);
  r.value(subject.currency ?? null); r.value(subject.market ?? null);
  r.value(subject.owner_id ?? null); r.value(subject.rental_id ?? null);
  r.binaryString(chain.digest); r.binaryString(hash); r.value(lines.length);
  const out = writes.lines;
  for (let index = 0; index < lines.length; index += 1) {
    const l = lines[index] as Line;
    const d = l.dims;
    out.row();
    out.uuidBytes(idBytes); out.value(index + 1);
    if (Number.isNaN(days)) out.value(`${bookedPeriod}-01`); else out.postgresDays(days);
    if (Number.isNaN(micros)) out.value(effectiveAt); else out.postgresMicros(micros);
    out.value(l.account); out.value(l.side); out.value(l.amount.minor); out.value(l.amount.currency);
    out.value(d.owner_id ?? null); out.value(d.rental_id ?? null);
    out.value(d.driver_id ?? null); out.value(d.market ?? null);
    out.value(d.processor ?? null);
  }
  writes.bookedPeriods.add(bookedPeriod);
  chain.seq = chainSeq;
  chain.digest = hash;
  writes.counts.posted += 1;
  const position = { topic, partition, offset };
  writes.posted.set(envelope.eventId, { payloadSha256: envelope.payloadSha256, entryId, position });
  const changes = posting.changes;
  for (let index = 0; index < changes.length; index += 1) {
    const change = changes[index] as [string, StateSlot['state']];
    const key = change[0];
    const state = change[1];
    writes.states.set(key, { state, version: writes.states.get(key)?.version ?? 0, dirty: true });
  }
}

let lastBookedPeriod = '';
let lastBookedDays = 0;

function bookedDays(period: string): number {
  if (period !== lastBookedPeriod) {
    lastBookedDays = postgresDaysOfPeriod(period);
    lastBookedPeriod = period;
  }
  return lastBookedDays;
}

/** Amounts below this sum exactly as doubles over an entry's most lines. */
const exactMinorMax = 10n ** 13n;

/**
 * entry.ts assertLinesValid's checks, true when they pass, summing in doubles where that is
 * exact (BigInt sums allocate); false for anything else, and the defining check decides.
 */
function linesValid(lines: readonly Line[]): boolean {
  if (lines.length > limits.entryLinesMax) return false;
  let firstCurrency = '';
  let firstNet = 0;
  let otherCurrency = '';
  let otherNet = 0;
  for (let index = 0; index < lines.length; index += 1) {
    const l = lines[index] as Line;
    const minor = l.amount.minor;
    if (minor <= 0n || minor >= exactMinorMax) return false;
    const account = accountByCode(l.account);
    if (account === undefined || !carriesExactly(l.dims, account.dimensions)) return false;
    const signed = l.side === 'debit' ? Number(minor) : -Number(minor);
    const currency = l.amount.currency;
    if (firstCurrency === '' || firstCurrency === currency) {
      firstCurrency = currency;
      firstNet += signed;
    } else if (otherCurrency === '' || otherCurrency === currency) {
      otherCurrency = currency;
      otherNet += signed;
    } else {
      return false;
    }
  }
  return firstNet === 0 && otherNet === 0;
}

function member(s: JsonBytes, first: boolean, name: string, value: string): boolean {
  if (!first) s.byte(0x2c);
  s.ascii(name);
  s.string(value);
  return false;
}

/** money.ts toDecimalString. */
function amountText(s: JsonBytes, minor: bigint, currency: CurrencyCode): void {
  const exponent = currencies[currency].exponent;
  invariant(exponent === 2, 'the configured currencies have two minor digits');
  s.amount2(minor);
}

let lastPeriodOf = '';
/** entry.ts periodOf: consecutive events mostly share their month, so its string is kept. */
function periodOf(effectiveAt: string): string {
  if (lastPeriodOf === '' || !effectiveAt.startsWith(lastPeriodOf)) lastPeriodOf = effectiveAt.slice(0, 7);
  return lastPeriodOf;
}

/** entry.ts entryIdFor, as its 16 bytes, in a buffer reused for the next entry. */
function entryIdBytes(topic: string, partition: number, offset: number): Buffer {
  invariant(Number.isInteger(partition) && partition >= 0 && partition < 2 ** 16, 'partition fits 16 bits');
  invariant(Number.isSafeInteger(offset) && offset >= 0 && offset < 2 ** 48, 'offset fits 48 bits');
  const bytes = entryIdScratch;
  const prefix = topicIdPrefix(topic);
  bytes[0] = prefix[0] as number; bytes[1] = prefix[1] as number; bytes[2] = prefix[2] as number; bytes[3] = prefix[3] as number;
  bytes.writeUInt16BE(partition, 4);
  const high = Math.floor(offset / 2 ** 30);
  const low = offset % 2 ** 30;
  bytes[6] = 0x80 | ((high >>> 14) & 0x0f);
  bytes[7] = (high >>> 6) & 0xff;
  bytes[8] = 0x80 | (high & 0x3f);
  bytes.writeUInt32BE((low * 4) >>> 0, 9);
  // sha256(`entry:${topic}/${partition}/${offset}`), the text written as UTF-8 bytes.
  const s = scratch;
  s.reset();
  s.ascii('entry:');
  s.utf8(topic);
  s.byte(0x2f);
  s.unsigned(partition);
  s.byte(0x2f);
  s.unsigned(offset);
  const digest = s.sha256Binary();
  bytes[13] = digest.charCodeAt(0); bytes[14] = digest.charCodeAt(1); bytes[15] = digest.charCodeAt(2);
  return bytes;
}

/** The entry being written's id: its rows copy the bytes before the next entry's are made. */
const entryIdScratch = Buffer.alloc(16);

const hexDigits = '0123456789abcdef';
const uuidScratch = Buffer.alloc(36);

/** 16 bytes as a lower-case UUID text. */
function uuidText(bytes: Buffer): string {
  let at = 0;
  for (let index = 0; index < 16; index += 1) {
    if (index === 4 || index === 6 || index === 8 || index === 10) uuidScratch[at++] = 0x2d;
    const byte = bytes[index] as number;
    uuidScratch[at++] = hexDigits.charCodeAt(byte >> 4);
    uuidScratch[at++] = hexDigits.charCodeAt(byte & 15);
  }
  return uuidScratch.toString('latin1', 0, 36);
}

// ---- states ------------------------------------------------------------------------------

const stateColumns = [['ref_key', 'text'], ['state', 'text'], ['version_read', 'int8']] as const;
const newStateColumns = [['ref_key', 'text'], ['state', 'text'], ['version', 'int8']] as const;

/**
 * stageStates (project-batch.ts) on the hot path: each state's JSON written into the
 * scratch buffer and copied into its COPY row; the known keys into a COPY of their own
 * (for the batch's temporary table) instead of arrays of values.
 */
export function stageStatesHot(states: Map<string, StateSlot>): { created: StagedCopy; changed: StagedCopy; changedCount: number } {
  const created = new StagedCopy('ledger.projection_state', newStateColumns);
  const changed = new StagedCopy('state_batch', stateColumns);
  let changedCount = 0;
  states.forEach(({ state, version, dirty }, key) => {
    if (!dirty) return;
    scratch.reset();
    scratch.plain(state);
    const target = version === 0 ? created : changed;
    target.row();
    target.value(key);
    target.bytes(scratch.view());
    target.value(version === 0 ? 1 : version);
    if (version !== 0) changedCount += 1;
  });
  return { created, changed, changedCount };
}

