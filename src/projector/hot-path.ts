// The projector's hot path: the same decisions and the same bytes as the defining code
// (ledger/envelope.ts readEnvelope, ledger/events.ts validateData, ledger/entry.ts
// sealEntry, project-batch.ts applyOutcome and stageStates), built for the loop that runs
// once per event. Messages are read from their bytes (message-bytes.ts); canonical JSON
// and the entry hash's input are written straight into a reused buffer and hashed from
// it; rows go into the COPY buffers from the parsed values. Whatever is
// not the common case (a message that will be refused, an adjustment, an unusual field)
// takes the defining code, so each rejection keeps its exact reason and message.
// test/projector/hot-path.unit.spec.ts holds both paths byte for byte equal.
import { invariant } from '../errors.ts';
import type { ApprovalKeys } from '../ledger/approval.ts';
import {
  assertLinesValid, bookingFor, carriesExactly, entryHashVersion, entryIdFor, topicIdPrefix, type LogPosition,
} from '../ledger/entry.ts';
import { accountByCode } from '../ledger/chart.ts';
import { currencies, type CurrencyCode } from '../ledger/money.ts';
import {
  decideMessage, prepareMessage, refsOfPrepared, type MessageOutcome, type PostedEvent, type Prepared,
} from '../ledger/project.ts';
import type { Line } from '../ledger/rules.ts';
import { limits } from '../limits.ts';
import type { LogMessage } from '../log/types.ts';
import { microsHalves, postgresEpochMs, StagedCopy } from '../db/copy.ts';
import { JsonBytes } from './json-bytes.ts';
import { readMessageBytes } from './message-bytes.ts';
import {
  newBatchWrites, writeDuplicateRow, writeQuarantineRow, writeRawRow, type BatchWrites, type DecisionSources,
  type PartitionHead, type StateSlot,
} from './project-batch.ts';

/**
 * Messages this thread handed to the defining code to read: the equality test checks the
 * hot path really reads the common case itself (else equality would prove nothing).
 */
export const handedToDefiningCode = { messages: 0 };

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
  for (let start = 0; start < messages.length; start += decideChunkMessages) {
    const end = Math.min(start + decideChunkMessages, messages.length);
    prepared.length = 0;
    // What to look up, in arrays rather than sets: a set's table grew again every chunk.
    // A name asked twice is harmless (the lookups are `= ANY(…)`).
    let eventIdCount = 0;
    let refCount = 0;
    for (let index = start; index < end; index += 1) {
      const p = prepareMessageHot((messages[index] as LogMessage).value);
      prepared.push(p);
      if (p.kind === 'envelope' && !posted.has(p.envelope.eventId)) lookupEventIds[eventIdCount++] = p.envelope.eventId;
      const keys = refsOfPrepared(p);
      for (let k = 0; k < keys.length; k += 1) if (!states.has(keys[k] as string)) lookupRefs[refCount++] = keys[k] as string;
    }
    // Copied before the first await: another batch on this thread may fill the arrays meanwhile.
    const eventIds = lookupEventIds.slice(0, eventIdCount);
    const refs = lookupRefs.slice(0, refCount);
    // What this batch posted or changed so far is already in the maps, and newer than the database.
    await sources.postedEvents(eventIds, posted);
    await sources.states(refs, states);
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
/** Lookups being gathered, reused from chunk to chunk (bounded by a chunk's messages and their refs). */
const lookupEventIds: string[] = [];
const lookupRefs: string[] = [];

/** The chain's head; its digest as a binary string, a byte per character (JsonBytes.sha256Binary). */
type ChainHead = { seq: number; digest: string };

// ---- reading a message -------------------------------------------------------------------

/** prepareMessage (ledger/project.ts), on the hot path (message-bytes.ts). */
export function prepareMessageHot(value: Buffer | null): Prepared {
  const read = value === null ? null : readMessageBytes(value, scratch);
  if (read !== null) return read;
  handedToDefiningCode.messages += 1;
  return prepareMessage(value);
}

function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let index = start; index < start + count; index += 1) value = value * 10 + text.charCodeAt(index) - 0x30;
  return value;
}

/**
 * A normalized timestamp (`YYYY-MM-DDTHH:MM:SS.ffffffZ`) in microseconds since
 * PostgreSQL's epoch; NaN before the year 100, where Date.UTC reads years differently,
 * and where the count is beyond a double's exact integers (before about 1715, after
 * 2285): the COPY writer then reads the text itself, exactly.
 */
function postgresMicros(normalized: string): number {
  const year = digits(normalized, 0, 4);
  if (year < 100) return Number.NaN;
  const ms = Date.UTC(year, digits(normalized, 5, 2) - 1, digits(normalized, 8, 2), digits(normalized, 11, 2),
    digits(normalized, 14, 2), digits(normalized, 17, 2));
  const micros = (ms - postgresEpochMs) * 1000 + digits(normalized, 20, 6);
  return Number.isSafeInteger(micros) ? micros : Number.NaN;
}

/** A `YYYY-MM` period's first day in days since PostgreSQL's epoch. */
function postgresDaysOfPeriod(period: string): number {
  const year = digits(period, 0, 4);
  if (year < 100) return Number.NaN;
  return (Date.UTC(year, digits(period, 5, 2) - 1, 1) - postgresEpochMs) / 86_400_000;
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
  const lines = posting.lines;
  if (!linesValid(lines)) assertLinesValid(uuidText(idBytes), lines); // it throws, naming what is wrong
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
  s.byte(0x2c); uuidString(s, idBytes);
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
  const exactMicros = !Number.isNaN(micros);
  if (exactMicros) microsHalves(micros, microsScratch);
  const microsHigh = microsScratch[0] as number;
  const microsLow = microsScratch[1] as number;
  if (exactMicros) r.postgresMicros(microsHigh, microsLow); else r.value(effectiveAt);
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
    if (exactMicros) out.postgresMicros(microsHigh, microsLow); else out.value(effectiveAt);
    out.value(l.account); out.value(l.side); out.value(l.amount.minor); out.value(l.amount.currency);
    out.value(d.owner_id ?? null); out.value(d.rental_id ?? null);
    out.value(d.driver_id ?? null); out.value(d.market ?? null);
    out.value(d.processor ?? null);
  }
  writes.bookedPeriods.add(bookedPeriod);
  chain.seq = chainSeq;
  chain.digest = hash;
  writes.counts.posted += 1;
  writes.posted.set(envelope.eventId, new PostedHere(envelope.payloadSha256, message));
  const changes = posting.changes;
  for (let index = 0; index < changes.length; index += 1) {
    const change = changes[index] as [string, StateSlot['state']];
    const key = change[0];
    const state = change[1];
    // The slot this batch read or made is its own (the sources make a new one per key): changed in place.
    const slot = writes.states.get(key);
    if (slot === undefined) {
      writes.states.set(key, { state, version: 0, dirty: true });
    } else {
      slot.state = state;
      slot.dirty = true;
    }
  }
}

/**
 * An event this batch posted: its position is the message itself, and its entry id (the
 * text of entryIdFor) is made only when a redelivery asks for it, which is rare; the
 * posted map holds one object per event instead of three.
 */
class PostedHere implements PostedEvent {
  constructor(readonly payloadSha256: string, readonly position: LogPosition) {}

  get entryId(): string {
    return entryIdFor(this.position);
  }
}

/** The entry's timestamp as two 32-bit halves, for each of its rows. */
const microsScratch = new Int32Array(2);

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

/** 16 bytes as a lower-case UUID's JSON string, into `s` (JsonBytes.string of uuidText, without the text). */
function uuidString(s: JsonBytes, bytes: Buffer): void {
  s.reserve(38);
  const buffer = s.buffer;
  let at = s.at;
  buffer[at++] = 0x22;
  for (let index = 0; index < 16; index += 1) {
    if (index === 4 || index === 6 || index === 8 || index === 10) buffer[at++] = 0x2d;
    const byte = bytes[index] as number;
    buffer[at++] = hexDigits.charCodeAt(byte >> 4);
    buffer[at++] = hexDigits.charCodeAt(byte & 15);
  }
  buffer[at++] = 0x22;
  s.at = at;
}

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

