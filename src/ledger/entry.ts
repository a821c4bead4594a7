// A journal entry as it is written and hashed. Everything in it is decided by the log
// alone (and the periods closed when it was posted), so that a replay of the same log
// gives the same entries, hash for hash. The time it was recorded is kept beside the
// entry but outside the hash: it is an observation, not a decision.
import { invariant, invariantFailed } from '../errors.ts';
import { limits } from '../limits.ts';
import { canonicalJson, jsonString, sha256, sha256Hex } from './canonical.ts';
import { accountByCode, dimensionNames, type Dimension } from './chart.ts';
import type { Line, Subject } from './rules.ts';
import { toDecimalString, type CurrencyCode } from './money.ts';

export type LogPosition = { readonly topic: string; readonly partition: number; readonly offset: number };

export type JournalEntry = {
  readonly entryId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly position: LogPosition;
  /** 1 for the first entry of the partition's chain. */
  readonly chainSeq: number;
  /** occurred_at, normalized (envelope.ts). */
  readonly effectiveAt: string;
  /** `YYYY-MM`: the effective month, or the first open one when that was closed (late). */
  readonly bookedPeriod: string;
  readonly late: boolean;
  readonly rule: string;
  readonly ruleVersion: number;
  readonly payloadSha256: string;
  /** What the entry is about (rules.ts Subject): reports group by it. */
  readonly subject: Subject;
  readonly lines: readonly Line[];
  readonly prevHash: string;
  readonly hash: string;
};

export const genesisHash = '0'.repeat(64);
export const entryHashVersion = 1;

/**
 * A stable id from the log position: the same message always becomes the same entry id,
 * in any replay. Shaped as an RFC 9562 version-8 (custom) UUID whose bytes sort by
 * (topic, partition, offset): 4 bytes of the topic's SHA-256, the partition (16 bits), the
 * offset (48 bits, around the version and variant bits), 3 bytes of the position's hash.
 * Ordered ids keep the journal's primary-key indexes appending at one place per
 * partition instead of touching random pages.
 */
export function entryIdFor(position: LogPosition): string {
  const { topic, partition, offset } = position;
  invariant(Number.isInteger(partition) && partition >= 0 && partition < 2 ** 16, 'partition fits 16 bits');
  invariant(Number.isSafeInteger(offset) && offset >= 0 && offset < 2 ** 48, 'offset fits 48 bits');
  const bytes = Buffer.alloc(16);
  topicIdPrefix(topic).copy(bytes, 0, 0, 4);
  bytes.writeUInt16BE(partition, 4);
  const high = Math.floor(offset / 2 ** 30); // offset bits 47..30 (18 bits)
  const low = offset % 2 ** 30; // offset bits 29..0
  bytes[6] = 0x80 | ((high >>> 14) & 0x0f); // version 8 | offset bits 47..44
  bytes[7] = (high >>> 6) & 0xff; // offset bits 43..36
  bytes[8] = 0x80 | (high & 0x3f); // variant 10 | offset bits 35..30
  bytes.writeUInt32BE((low * 4) >>> 0, 9); // offset bits 29..0, then two zero bits
  sha256(`entry:${topic}/${partition}/${offset}`).copy(bytes, 13, 0, 3);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const topicPrefixes = new Map<string, Buffer>();
const topicPrefixesMax = 1_000;

/** The first bytes of an entry id: the topic's hash, computed once per topic. */
export function topicIdPrefix(topic: string): Buffer {
  let prefix = topicPrefixes.get(topic);
  if (prefix === undefined) {
    prefix = sha256(`topic:${topic}`);
    if (topicPrefixes.size >= topicPrefixesMax) topicPrefixes.clear();
    topicPrefixes.set(topic, prefix);
  }
  return prefix;
}

/**
 * The bytes an entry's hash covers, format version 1: a canonical JSON array, fields in
 * this fixed order, amounts as decimal strings. The offline verifier rebuilds exactly
 * these bytes; a golden vector in test/ledger/entry.unit.spec.ts pins them.
 */
export function entryHashInput(entry: Omit<JournalEntry, 'hash'>): string {
  return canonicalJson(entryHashFields(entry));
}

function entryHashFields(entry: Omit<JournalEntry, 'hash'>): unknown[] {
  return [
    entryHashVersion, entry.prevHash, entry.chainSeq, entry.entryId, entry.eventId, entry.eventType,
    entry.position.topic, entry.position.partition, entry.position.offset, entry.effectiveAt,
    entry.bookedPeriod, entry.late, entry.rule, entry.ruleVersion, entry.payloadSha256, entry.subject,
    entry.lines.map((l) => [l.account, l.side, toDecimalString(l.amount), l.amount.currency, l.dims]),
  ];
}

/**
 * The same bytes as entryHashInput, written directly: the projector hashes every entry,
 * and the generic canonical writer costs a third of its time. A unit test holds the two
 * equal on generated entries; entryHashInput stays the definition.
 */
export function entryHashInputFast(entry: Omit<JournalEntry, 'hash'>): string {
  const q = jsonString;
  // Members in canonical (sorted) order; undefined members are left out, as canonicalJson does.
  const { currency, market, owner_id: ownerId, rental_id: rentalId } = entry.subject;
  let subject = '';
  if (currency !== undefined) subject += `,"currency":${q(currency)}`;
  if (market !== undefined) subject += `,"market":${q(market)}`;
  if (ownerId !== undefined) subject += `,"owner_id":${q(ownerId)}`;
  if (rentalId !== undefined) subject += `,"rental_id":${q(rentalId)}`;
  let lines = '';
  for (let index = 0; index < entry.lines.length; index += 1) {
    const l = entry.lines[index] as Line;
    const d = l.dims;
    let dims = '';
    if (d.driver_id !== undefined) dims += `,"driver_id":${q(d.driver_id)}`;
    if (d.market !== undefined) dims += `,"market":${q(d.market)}`;
    if (d.owner_id !== undefined) dims += `,"owner_id":${q(d.owner_id)}`;
    if (d.processor !== undefined) dims += `,"processor":${q(d.processor)}`;
    if (d.rental_id !== undefined) dims += `,"rental_id":${q(d.rental_id)}`;
    lines += `${index === 0 ? '' : ','}[${q(l.account)},"${l.side}","${toDecimalString(l.amount)}",` +
      `"${l.amount.currency}",{${dims.slice(1)}}]`;
  }
  return `[${entryHashVersion},"${entry.prevHash}",${entry.chainSeq},"${entry.entryId}",` +
    `"${entry.eventId}",${q(entry.eventType)},${q(entry.position.topic)},${entry.position.partition},` +
    `${entry.position.offset},"${entry.effectiveAt}","${entry.bookedPeriod}",${entry.late},` +
    `${q(entry.rule)},${entry.ruleVersion},"${entry.payloadSha256}",{${subject.slice(1)}},[${lines}]]`;
}

export function entryHash(entry: Omit<JournalEntry, 'hash'>): string {
  return sha256Hex(entryHashInputFast(entry));
}

export function sealEntry(entry: Omit<JournalEntry, 'hash'>): JournalEntry {
  assertEntryValid(entry);
  return { ...entry, hash: entryHash(entry) };
}

/**
 * Our rules must only ever build balanced, well-formed entries: a failure here is our bug.
 * Runs on every entry the projector posts, so it allocates nothing unless it fails (an
 * entry has one or two currencies: two running sums, not a map).
 */
export function assertEntryValid(entry: Omit<JournalEntry, 'hash'>): void {
  assertLinesValid(entry.entryId, entry.lines);
}

/** assertEntryValid for an entry not built as an object (the projector's hot path). */
export function assertLinesValid(entryId: string, lines: readonly Line[]): void {
  if (lines.length > limits.entryLinesMax) invariantFailed(`entry ${entryId} has too many lines`);
  let firstCurrency: CurrencyCode | null = null;
  let firstNet = 0n;
  let otherCurrency: CurrencyCode | null = null;
  let otherNet = 0n;
  for (const l of lines) {
    if (l.amount.minor <= 0n) invariantFailed(`entry ${entryId}: line amounts are positive`);
    const account = accountByCode(l.account);
    if (account === undefined) invariantFailed(`entry ${entryId}: account ${l.account} is in the chart`);
    if (!carriesExactly(l.dims, account.dimensions)) {
      invariantFailed(`entry ${entryId}: account ${l.account} carries exactly its dimensions`);
    }
    const signed = l.side === 'debit' ? l.amount.minor : -l.amount.minor;
    const currency = l.amount.currency;
    if (firstCurrency === null || firstCurrency === currency) {
      firstCurrency = currency;
      firstNet += signed;
    } else if (otherCurrency === null || otherCurrency === currency) {
      otherCurrency = currency;
      otherNet += signed;
    } else {
      invariantFailed(`entry ${entryId} has lines in more than two currencies`);
    }
  }
  if (firstNet !== 0n) invariantFailed(`entry ${entryId} balances in ${firstCurrency}`);
  if (otherNet !== 0n) invariantFailed(`entry ${entryId} balances in ${otherCurrency}`);
}

/** The line has a non-empty value for each of `dimensions` and for no other dimension. */
export function carriesExactly(dims: Line['dims'], dimensions: readonly Dimension[]): boolean {
  let present = 0;
  for (const name of dimensionNames) if (dims[name] !== undefined) present += 1;
  if (present !== dimensions.length) return false;
  for (const name of dimensions) {
    const value = dims[name];
    if (typeof value !== 'string' || value === '') return false;
  }
  return true;
}

/** `YYYY-MM` of a normalized timestamp. */
export function periodOf(effectiveAt: string): string {
  return effectiveAt.slice(0, 7);
}

export function nextPeriod(period: string): string {
  const year = Number(period.slice(0, 4));
  const month = Number(period.slice(5, 7));
  return month === 12 ? `${year + 1}-01` : `${year}-${String(month + 1).padStart(2, '0')}`;
}

/**
 * ACCOUNTING.md, Periods: an entry whose effective period is closed is booked into the
 * first open period after it, and marked late.
 */
export function bookingFor(effectiveAt: string, closedPeriods: ReadonlySet<string>) {
  let booked = periodOf(effectiveAt);
  let steps = 0;
  while (closedPeriods.has(booked)) {
    booked = nextPeriod(booked);
    steps += 1;
    invariant(steps <= closedPeriods.size, 'booking finds an open period');
  }
  return { bookedPeriod: booked, late: steps > 0 };
}
