// Proves what readEnvelope makes of a readable message, beyond the rejection codes (which
// rejections.unit.spec.ts walks in the contract's order): occurred_at normalised to UTC
// with microseconds (so an offset that crosses midnight lands in the right day and
// period), event_id lower-cased, the "same event" fingerprint built from type and data
// only with key order ignored and strings compared exactly, unknown data fields kept, the
// event_id and type carried on a rejection where they could be read, and the raw-token
// scanner that tells `1.0` from `1`. Method: call the pure functions on hand-made bytes.
import { describe, expect, it } from 'vitest';
import {
  normalizeTimestamp, readEnvelope, topLevelValueToken, type Envelope,
} from '../../src/ledger/envelope.ts';
import { captured } from '../support/decider.ts';

function read(message: Record<string, unknown> | string): Envelope {
  const text = typeof message === 'string' ? message : JSON.stringify(message);
  const result = readEnvelope(Buffer.from(text, 'utf8'));
  if (!result.ok) throw new Error(`not read: ${result.rejection.reason} ${result.rejection.message}`);
  return result.envelope;
}

describe('occurred_at', () => {
  it.each([
    ['2026-10-30T14:22:05.123Z', '2026-10-30T14:22:05.123000Z'],
    ['2026-10-30T14:22:05Z', '2026-10-30T14:22:05.000000Z'],
    ['2026-10-30T16:22:05.5+02:00', '2026-10-30T14:22:05.500000Z'],
    ['2026-11-01T01:00:00+02:00', '2026-10-31T23:00:00.000000Z'],
    ['2026-10-31T20:30:00-05:00', '2026-11-01T01:30:00.000000Z'],
    ['2026-10-30t14:22:05.123456789z', '2026-10-30T14:22:05.123456Z'],
    // Truncated, never rounded: rounding would move this event into November's period.
    ['2026-10-31T23:59:59.9999999Z', '2026-10-31T23:59:59.999999Z'],
    ['2028-02-29T00:00:00Z', '2028-02-29T00:00:00.000000Z'],
    // Already in normal form (the fast path): returned as it is.
    ['2026-10-30T14:22:05.123456Z', '2026-10-30T14:22:05.123456Z'],
    ['2000-02-29T23:59:59.000001Z', '2000-02-29T23:59:59.000001Z'],
    ['2026-12-31T00:00:00.000000Z', '2026-12-31T00:00:00.000000Z'],
    ['2026-12-31T23:59:59.9Z', '2026-12-31T23:59:59.900000Z'],
    ['2026-12-31T23:59:59.123456789Z', '2026-12-31T23:59:59.123456Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000000Z'],
  ])('normalises %s to %s (UTC, microseconds)', (given, expected) => {
    expect(normalizeTimestamp(given)).toBe(expected);
    expect(read(captured({}, { occurred_at: given })).occurredAt).toBe(expected);
  });

  it.each([
    ['2026-10-30T14:22:05'], ['2026-10-30'], ['2027-02-29T00:00:00Z'], ['2026-04-31T00:00:00Z'],
    ['2026-10-30T24:00:00Z'], ['2026-10-30T10:60:00Z'], ['2026-10-30 14:22:05Z'], [''],
    // The same in normal form, which the fast path must refuse as the full path does.
    ['2027-02-29T00:00:00.000000Z'], ['2100-02-29T00:00:00.000000Z'], ['2026-04-31T00:00:00.000000Z'],
    ['2026-13-01T00:00:00.000000Z'], ['2026-00-01T00:00:00.000000Z'], ['2026-01-00T00:00:00.000000Z'],
    ['2026-10-30T24:00:00.000000Z'], ['2026-10-30T10:60:00.000000Z'], ['2026-10-30T10:00:60.000000Z'],
    ['2027-02-29T00:00:00.5Z'], ['2026-10-30T10:00:00.Z'], ['2026-10-30T10:00:00.1234567890Z'],
  ])('returns null for %j', (given) => {
    expect(normalizeTimestamp(given)).toBeNull();
  });
});

describe('the envelope read', () => {
  it('lower-cases event_id, since ids compare case-insensitively', () => {
    expect(read(captured({}, { event_id: '3F1C2A9E-6A57-4C1E-9F0E-2D7B1E8A4C10' })).eventId)
      .toBe('3f1c2a9e-6a57-4c1e-9f0e-2d7b1e8a4c10');
  });

  it('keeps unknown extra data fields', () => {
    expect(read(captured({ channel: 'app' })).data.channel).toBe('app');
  });

  it('fingerprints type and data only, ignoring key order, occurred_at and producer', () => {
    const message = captured();
    const reordered = Object.fromEntries(Object.entries({
      ...message, data: Object.fromEntries(Object.entries(message.data as object).reverse()),
    }).reverse());
    const base = read(message).payloadSha256;
    expect(read(reordered).payloadSha256).toBe(base);
    expect(read({ ...message, occurred_at: '2027-01-01T00:00:00Z', producer: 'other' }).payloadSha256).toBe(base);
  });

  it('changes the fingerprint for another type or any change of a string', () => {
    const message = captured();
    const base = read(message).payloadSha256;
    expect(read({ ...message, type: 'payment.refunded' }).payloadSha256).not.toBe(base);
    expect(read(captured({ total: '592.0' }, { event_id: message.event_id })).payloadSha256).not.toBe(base);
    expect(read(captured({ market: 'us-ca' }, { event_id: message.event_id })).payloadSha256).not.toBe(base);
  });
});

describe('a rejected envelope', () => {
  it('carries the event_id and type it could read', () => {
    const message = { ...captured({}, { event_id: 'abc' }) };
    const result = readEnvelope(Buffer.from(JSON.stringify(message), 'utf8'));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect([result.rejection.reason, result.rejection.eventId, result.rejection.type])
      .toEqual(['invalid_envelope', 'abc', 'payment.captured']);
  });

  it('carries neither when the bytes are not JSON', () => {
    const result = readEnvelope(Buffer.from('{"event_id":', 'utf8'));
    expect(result.ok || [result.rejection.reason, result.rejection.eventId, result.rejection.type])
      .toEqual(['malformed_json', null, null]);
  });
});

describe('topLevelValueToken', () => {
  it('reads the raw token of a top-level member, not a nested one, the last when repeated', () => {
    const text = '{"data":{"schema_version":2},"schema_version" : 1.0 ,"x":"a\\":b"}';
    expect(topLevelValueToken(text, 'schema_version')).toBe('1.0');
    expect(topLevelValueToken('{"schema_version":2,"schema_version":1}', 'schema_version')).toBe('1');
    expect(topLevelValueToken('{"data":{"schema_version":1}}', 'schema_version')).toBeNull();
  });

  it('returns null for a string, object or array value', () => {
    expect(topLevelValueToken('{"schema_version":"1"}', 'schema_version')).toBeNull();
    expect(topLevelValueToken('{"schema_version":[1]}', 'schema_version')).toBeNull();
  });

  it('accepts schema_version 1 however it is spaced', () => {
    const message = captured();
    const text = JSON.stringify(message).replace('"schema_version":1', '"schema_version" :\n 1 ');
    expect(read(text).type).toBe('payment.captured');
  });
});
