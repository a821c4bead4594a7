// Reading a message's bytes into an envelope, in the order EVENTS.md fixes: UTF-8, JSON,
// envelope, schema_version, type. Pure: bytes in, envelope or rejection out.
import { limits } from '../limits.ts';
import { canonicalJson, sha256Hex } from './canonical.ts';
import { reject, type Rejection } from './rejections.ts';

export const eventTypes = [
  'payment.captured',
  'rental.completed',
  'rental.cancelled',
  'payment.refunded',
  'deposit.released',
  'deposit.applied',
  'dispute.opened',
  'dispute.won',
  'payout.paid',
  'payout.failed',
  'processor.payout',
  'tax.remitted',
  'adjustment.posted',
] as const;
export type EventType = (typeof eventTypes)[number];

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (eventTypes as readonly string[]).includes(value);
}

export type Envelope = {
  /** Lower-cased: event ids compare case-insensitively. */
  readonly eventId: string;
  readonly type: EventType;
  /** occurred_at in UTC, microsecond precision: `YYYY-MM-DDTHH:MM:SS.ffffffZ`. */
  readonly occurredAt: string;
  readonly producer: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** SHA-256 of canonical {type, data}: "the same event" compares this. */
  readonly payloadSha256: string;
};

/** What could be read of a rejected message, for the quarantine record. */
export type EnvelopeRejection = Rejection & {
  readonly eventId: string | null;
  readonly type: string | null;
};

export type EnvelopeResult = { readonly ok: true; readonly envelope: Envelope } | {
  readonly ok: false;
  readonly rejection: EnvelopeRejection;
};

export const uuidPattern = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const rfc3339Pattern =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function readEnvelope(value: Buffer | null): EnvelopeResult {
  const text = decodeText(value);
  if (typeof text !== 'string') return failed(text, null, null);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return failed(reject('malformed_json', `not JSON: ${(error as Error).message}`), null, null);
  }
  const unhashable = unhashableJson(parsed);
  if (unhashable !== null) return failed(reject('malformed_json', unhashable), null, null);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return failed(reject('invalid_envelope', 'the message is not a JSON object'), null, null);
  }
  const record = parsed as Record<string, unknown>;
  const eventIdSeen = typeof record.event_id === 'string' ? record.event_id : null;
  const typeSeen = typeof record.type === 'string' ? record.type : null;
  const occurredAt = typeof record.occurred_at === 'string' ? normalizeTimestamp(record.occurred_at) : null;
  const envelopeProblem = checkEnvelopeFields(record, occurredAt);
  if (envelopeProblem !== null) return failed(envelopeProblem, eventIdSeen, typeSeen);
  const versionProblem = checkSchemaVersion(text, record.schema_version);
  if (versionProblem !== null) return failed(versionProblem, eventIdSeen, typeSeen);
  if (!isEventType(record.type)) {
    const problem = reject('unknown_type', `type ${JSON.stringify(record.type)} is not in EVENTS.md`);
    return failed(problem, eventIdSeen, typeSeen);
  }
  const data = record.data as Record<string, unknown>;
  return {
    ok: true,
    envelope: {
      eventId: (record.event_id as string).toLowerCase(),
      type: record.type,
      occurredAt: occurredAt as string,
      producer: record.producer as string,
      data,
      payloadSha256: sha256Hex(canonicalJson({ type: record.type, data })),
    },
  };
}

function failed(rejection: Rejection, eventId: string | null, type: string | null): EnvelopeResult {
  return { ok: false, rejection: { ...rejection, eventId, type } };
}

function decodeText(value: Buffer | null): string | Rejection {
  if (value === null) return reject('malformed_json', 'the message has no value (a tombstone)');
  if (value.length > limits.messageBytesMax) {
    return reject('malformed_json', `the message is ${value.length} bytes; at most ` +
      `${limits.messageBytesMax} are read`);
  }
  try {
    return utf8Decoder.decode(value);
  } catch {
    return reject('malformed_json', 'the message is not valid UTF-8');
  }
}

/** Nesting deeper than this is refused: canonical JSON (the payload hash) recurses once per level. */
const jsonDepthMax = 64;

/**
 * What JSON.parse accepts but the ledger cannot hash, so that it would throw later and
 * stop the projector: a number that overflowed to Infinity (`1e400`; EVENTS.md counts
 * Infinity as malformed_json) or nesting deeper than jsonDepthMax. The work is bounded by
 * the message size.
 */
function unhashableJson(value: unknown, depth = 0): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : 'a number is too large: it reads as Infinity';
  if (value === null || typeof value !== 'object') return null;
  // Recursion is safe: it stops at jsonDepthMax levels, far below the stack's limit.
  if (depth >= jsonDepthMax) return `the JSON nests deeper than ${jsonDepthMax} levels`;
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = unhashableJson(item, depth + 1);
      if (problem !== null) return problem;
    }
    return null;
  }
  for (const key in value) {
    const problem = unhashableJson((value as Record<string, unknown>)[key], depth + 1);
    if (problem !== null) return problem;
  }
  return null;
}

function checkEnvelopeFields(record: Record<string, unknown>, occurredAt: string | null): Rejection | null {
  for (const field of ['event_id', 'schema_version', 'type', 'occurred_at', 'producer', 'data']) {
    if (!(field in record)) return reject('invalid_envelope', `envelope field ${field} is missing`);
  }
  if (typeof record.event_id !== 'string' || !uuidPattern.test(record.event_id)) {
    return reject('invalid_envelope', `event_id ${JSON.stringify(record.event_id)} is not a UUID`);
  }
  if (typeof record.type !== 'string') {
    return reject('invalid_envelope', `type ${JSON.stringify(record.type)} is not a string`);
  }
  if (occurredAt === null) {
    return reject('invalid_envelope',
      `occurred_at ${JSON.stringify(record.occurred_at)} is not an RFC 3339 timestamp with a zone`);
  }
  if (typeof record.producer !== 'string' || record.producer.length === 0) {
    return reject('invalid_envelope', `producer ${JSON.stringify(record.producer)} is not a ` +
      'non-empty string');
  }
  const data = record.data;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return reject('invalid_envelope', 'data is not a JSON object');
  }
  return null;
}

/**
 * schema_version must be a JSON integer token: JSON.parse cannot tell `1.0` from `1`, so
 * the token is read from the text itself.
 */
function checkSchemaVersion(text: string, parsed: unknown): Rejection | null {
  const token = schemaVersionToken(text);
  if (typeof parsed !== 'number' || token === null || !/^-?(0|[1-9][0-9]*)$/.test(token)) {
    return reject('invalid_envelope',
      `schema_version ${token ?? JSON.stringify(parsed)} is not a JSON integer`);
  }
  if (parsed !== 1) {
    return reject('unsupported_version', `schema_version ${token} is not supported (only 1)`);
  }
  return null;
}

const schemaVersionKey = '"schema_version"';
const schemaVersionValue = /"schema_version"\s*:\s*([^,}\s]+)/;

/**
 * Fast path: when the key's text occurs once, that occurrence is the top-level member
 * (it must exist: the envelope check found it), so a regular expression reads its token.
 * Otherwise (the name also occurs in data) the scanner below decides.
 */
function schemaVersionToken(text: string): string | null {
  const first = text.indexOf(schemaVersionKey);
  if (first !== -1 && first === text.lastIndexOf(schemaVersionKey)) {
    const token = schemaVersionValue.exec(text)?.[1];
    if (token !== undefined && !token.startsWith('"') && !token.startsWith('{') && !token.startsWith('[')) {
      return token;
    }
  }
  return topLevelValueToken(text, 'schema_version');
}

/**
 * The raw text of a top-level member's value, for a scalar value; null when absent or
 * not scalar. The text is known to be valid JSON, so a small scanner suffices. Because
 * JSON.parse keeps the last of repeated keys, so does this.
 */
export function topLevelValueToken(text: string, key: string): string | null {
  let depth = 0;
  let found: string | null = null;
  let index = 0;
  while (index < text.length) {
    const char = text[index];
    if (char === '"') {
      const end = stringEnd(text, index);
      const after = skipWhitespace(text, end);
      // At depth 1 a string followed by a colon is a member name; values never are.
      if (depth === 1 && text[after] === ':') {
        const name = JSON.parse(text.slice(index, end)) as string;
        const valueStart = skipWhitespace(text, after + 1);
        if (name === key) found = scalarToken(text, valueStart);
        index = valueStart;
      } else {
        index = end;
      }
      continue;
    }
    if (char === '{' || char === '[') depth += 1;
    else if (char === '}' || char === ']') depth -= 1;
    index += 1;
  }
  return found;
}

function stringEnd(text: string, start: number): number {
  let index = start + 1;
  while (index < text.length && text[index] !== '"') index += text[index] === '\\' ? 2 : 1;
  return index + 1;
}

function skipWhitespace(text: string, start: number): number {
  let index = start;
  while (index < text.length && ' \t\r\n'.includes(text[index] as string)) index += 1;
  return index;
}

function scalarToken(text: string, start: number): string | null {
  const first = text[start];
  if (first === '{' || first === '[' || first === '"') return null;
  let end = start;
  while (end < text.length && !',}] \t\r\n'.includes(text[end] as string)) end += 1;
  return text.slice(start, end);
}

/** In UTC with upper-case T and Z: normalizing only pads or truncates the fraction. */
const utcPattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;
const monthDaysMax = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** RFC 3339 with a zone → `YYYY-MM-DDTHH:MM:SS.ffffffZ` in UTC (truncated to µs); else null. */
export function normalizeTimestamp(value: string): string | null {
  // Fast path: producers write UTC, and then only the fraction changes when the fields are
  // in range. Anything else (another zone, lower case, a leap second) takes the full path.
  const utc = utcPattern.exec(value);
  if (utc !== null) {
    const [, year, month, day, hour, minute, second] = utc.map(Number) as number[];
    const inRange = (month as number) >= 1 && (month as number) <= 12 && (day as number) >= 1 &&
      (day as number) <= (monthDaysMax[(month as number) - 1] as number) &&
      ((month as number) !== 2 || (day as number) <= 28 || isLeapYear(year as number)) &&
      (hour as number) <= 23 && (minute as number) <= 59 && (second as number) <= 59 && (year as number) >= 1;
    if (inRange) return `${value.slice(0, 19)}.${((utc[7] ?? '') + '000000').slice(0, 6)}Z`;
  }
  return normalizeTimestampFull(value);
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function normalizeTimestampFull(value: string): string | null {
  const match = rfc3339Pattern.exec(value);
  if (match === null) return null;
  const [, year, month, day, hour, minute, second, fraction = '', zone = 'Z'] = match;
  const zoneText = zone.toUpperCase() === 'Z' ? 'Z' : zone;
  const baseMs = Date.parse(`${year}-${month}-${day}T${hour}:${minute}:${second}${zoneText}`);
  if (Number.isNaN(baseMs)) return null;
  const check = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  if (check.getUTCDate() !== Number(day) || Number(hour) > 23 || Number(second) > 59) return null;
  const micros = (fraction.slice(1) + '000000').slice(0, 6);
  return `${new Date(baseMs).toISOString().slice(0, 19)}.${micros}Z`;
}
