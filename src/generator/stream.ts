// From events to the lines of the log: sorted by occurred_at (creation order breaking
// ties, which keeps every causal chain in order because a successor is always created
// with a later time), written as envelopes, and with about 1% of them delivered a second
// time further down, as a producer's retry would.
import { invariant } from '../errors.ts';
import type { EventDraft, JsonObject, JsonValue } from './drafts.ts';
import type { Rng } from './prng.ts';
import { timestampText } from './time.ts';

export function logOrder(drafts: readonly EventDraft[]): EventDraft[] {
  // Sorting indexes against a typed array of times is several times faster than
  // comparing the draft objects themselves; the index is the creation order (seq).
  const timesMs = new Float64Array(drafts.length);
  drafts.forEach((draft, index) => {
    invariant(draft.seq === index, 'drafts are in creation order');
    timesMs[index] = draft.occurredAtMs;
  });
  const indexes = Array.from(drafts.keys());
  indexes.sort(
    (left, right) => (timesMs[left] as number) - (timesMs[right] as number) || left - right,
  );
  return indexes.map((index) => drafts[index] as EventDraft);
}

export function envelopeObject(draft: EventDraft): JsonObject {
  return {
    event_id: draft.eventId,
    type: draft.type,
    schema_version: 1,
    occurred_at: timestampText(draft.occurredAtMs),
    producer: draft.producer,
    data: draft.data,
  };
}

export function envelopeLine(draft: EventDraft): string {
  return JSON.stringify(envelopeObject(draft));
}

/** Share of events delivered twice, and how far behind the retry lands, in lines. */
const redeliveredPermille = 10;
const redeliveryDelayLinesMax = 5_000;
/** Share of retries written with their keys in another order: the same event all the same. */
const reorderedRetryPermille = 150;

export type DeliveredLines = {
  readonly lines: string[];
  /** For each input line, where its first delivery landed. */
  readonly firstIndexes: number[];
};

export function withRedeliveries(originals: readonly string[], rng: Rng): DeliveredLines {
  const retriesAt: string[][] = originals.map(() => []);
  const trailing: string[] = [];
  originals.forEach((line, index) => {
    if (!rng.chancePermille(redeliveredPermille)) return;
    const retry = rng.chancePermille(reorderedRetryPermille) ? reorderedLine(line) : line;
    const target = index + rng.between(1, redeliveryDelayLinesMax);
    (target < originals.length ? retriesAt[target] : trailing)?.push(retry);
  });
  const lines: string[] = [];
  const firstIndexes: number[] = [];
  originals.forEach((line, index) => {
    firstIndexes.push(lines.length);
    lines.push(line);
    lines.push(...(retriesAt[index] ?? []));
  });
  lines.push(...trailing);
  invariant(firstIndexes.length === originals.length, 'every line delivered');
  return { lines, firstIndexes };
}

/** The same JSON with every object's keys in reverse order ("key order ignored"). */
function reorderedLine(line: string): string {
  return JSON.stringify(reverseKeys(JSON.parse(line) as JsonValue));
}

function reverseKeys(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value === null || typeof value !== 'object') return value;
  const reversed: JsonObject = {};
  for (const key of Object.keys(value).reverse())
    reversed[key] = reverseKeys(value[key] as JsonValue);
  return reversed;
}
