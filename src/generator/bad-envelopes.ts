// Bad messages that fail before their data is read: not JSON, not a valid envelope, a
// schema version this contract does not know, or a type it does not list. Each wraps the
// data of an otherwise valid capture for a brand-new rental, so that only the one fault
// stands between it and the journal.
import { freshCapture, type BadKit, type BadMessage, type RejectionReason } from './bad-kit.ts';
import type { JsonObject, JsonValue } from './drafts.ts';
import { timestampText } from './time.ts';

function raw(
  reason: RejectionReason,
  detail: string,
  line: (occurredAtMs: number) => string,
): BadMessage {
  return { reason, detail, after: undefined, line };
}

/** A capture envelope for a fresh rental, as an object the caller may bend. */
function captureEnvelope(occurredAtMs: number, data: JsonObject, eventId: string): JsonObject {
  return {
    event_id: eventId,
    type: 'payment.captured',
    schema_version: 1,
    occurred_at: timestampText(occurredAtMs),
    producer: 'payments',
    data,
  };
}

/** A fresh capture with one envelope field replaced (or removed, for `undefined`). */
function bentEnvelope(
  kit: BadKit,
  reason: RejectionReason,
  detail: string,
  field: string,
  value: JsonValue | undefined,
): BadMessage {
  const { data } = freshCapture(kit);
  const eventId = kit.rng.uuid();
  return raw(reason, detail, (occurredAtMs) => {
    const envelope = captureEnvelope(occurredAtMs, data, eventId);
    if (value === undefined) delete envelope[field];
    else envelope[field] = value;
    return JSON.stringify(envelope);
  });
}

/** A fresh capture whose JSON text is edited after writing (for what JSON.stringify cannot say). */
function editedText(
  kit: BadKit,
  reason: RejectionReason,
  detail: string,
  edit: (text: string) => string,
): BadMessage {
  const { data } = freshCapture(kit);
  const eventId = kit.rng.uuid();
  return raw(reason, detail, (occurredAtMs) => {
    const text = JSON.stringify(captureEnvelope(occurredAtMs, data, eventId));
    const edited = edit(text);
    if (edited === text) throw new Error(`invariant violated: edit did nothing for ${detail}`);
    return edited;
  });
}

export function malformedJson(kit: BadKit): BadMessage[] {
  return [
    raw('malformed_json', 'truncated JSON: {"event_id": ', () => '{"event_id": '),
    editedText(kit, 'malformed_json', 'NaN as the deposit value', (text) =>
      text.replace(/"deposit":"[^"]*"/, '"deposit":NaN'),
    ),
    editedText(kit, 'malformed_json', 'Infinity as the tax value', (text) =>
      text.replace(/"tax":"[^"]*"/, '"tax":Infinity'),
    ),
    editedText(
      kit,
      'malformed_json',
      'trailing comma before the closing brace',
      (text) => `${text.slice(0, -1)},}`,
    ),
    raw(
      'malformed_json',
      'an HTML error page instead of JSON',
      () => '<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>',
    ),
  ];
}

export function invalidEnvelopes(kit: BadKit): BadMessage[] {
  return [
    raw('invalid_envelope', 'a JSON array, not an object', () => '[]'),
    raw('invalid_envelope', 'JSON null, not an object', () => 'null'),
    bentEnvelope(kit, 'invalid_envelope', 'producer missing', 'producer', undefined),
    bentEnvelope(kit, 'invalid_envelope', 'producer empty', 'producer', ''),
    bentEnvelope(kit, 'invalid_envelope', 'schema_version "1" (a string)', 'schema_version', '1'),
    editedText(kit, 'invalid_envelope', 'schema_version 1.0 (not an integer literal)', (text) =>
      text.replace('"schema_version":1,', '"schema_version":1.0,'),
    ),
    bentEnvelope(kit, 'invalid_envelope', 'event_id not a UUID', 'event_id', 'evt_20261003_000123'),
    bentEnvelope(kit, 'invalid_envelope', 'event_id missing', 'event_id', undefined),
    bentEnvelope(
      kit,
      'invalid_envelope',
      'occurred_at without a zone',
      'occurred_at',
      '2026-10-03T14:22:05.123',
    ),
    bentEnvelope(
      kit,
      'invalid_envelope',
      'data a string, not an object',
      'data',
      'payment_id=pay_1&total=12.00',
    ),
  ];
}

export function unsupportedVersions(kit: BadKit): BadMessage[] {
  return [
    bentEnvelope(kit, 'unsupported_version', 'schema_version 2', 'schema_version', 2),
    bentEnvelope(kit, 'unsupported_version', 'schema_version 0', 'schema_version', 0),
  ];
}

export function unknownTypes(kit: BadKit): BadMessage[] {
  return [
    bentEnvelope(kit, 'unknown_type', 'type payment.authorized', 'type', 'payment.authorized'),
    bentEnvelope(kit, 'unknown_type', 'type rental.started', 'type', 'rental.started'),
  ];
}
