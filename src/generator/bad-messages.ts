// Mixes bad messages into a good stream at deterministic places and says, for each,
// where it landed and which rejection reason EVENTS.md gives it. The good lines keep
// their relative order and bytes: removing the bad lines gives back the clean stream.
import { invariant } from '../errors.ts';
import { unapprovedAdjustments } from './bad-approvals.ts';
import {
  invalidEnvelopes,
  malformedJson,
  unknownTypes,
  unsupportedVersions,
} from './bad-envelopes.ts';
import { invalidAmounts, invalidFields, unbalancedTotals } from './bad-fields.ts';
import type { BadKit, BadMessage, RejectionReason } from './bad-kit.ts';
import {
  closedRentals,
  conflictingDuplicates,
  duplicateReferences,
  exceedsRemaining,
  unknownReferences,
} from './bad-references.ts';
import type { EventDraft } from './drafts.ts';
import type { DeliveredLines } from './stream.ts';

export type ExpectedRejection = {
  /** Index of the bad line in the returned lines. */
  readonly index: number;
  readonly reason: RejectionReason;
  /** What is wrong with it, for a person reading a failed assertion. */
  readonly detail: string;
};

export function buildBadMessages(kit: BadKit): BadMessage[] {
  const messages = [
    ...malformedJson(kit),
    ...invalidEnvelopes(kit),
    ...unsupportedVersions(kit),
    ...unknownTypes(kit),
    ...conflictingDuplicates(kit),
    ...invalidFields(kit),
    ...invalidAmounts(kit),
    ...unbalancedTotals(kit),
    ...unapprovedAdjustments(kit),
    ...unknownReferences(kit),
    ...duplicateReferences(kit),
    ...exceedsRemaining(kit),
    ...closedRentals(kit),
  ];
  // Shuffled (Fisher–Yates), so that the reasons are spread over the stream, not grouped.
  for (let index = messages.length - 1; index > 0; index -= 1) {
    const other = kit.rng.below(index + 1);
    [messages[index], messages[other]] = [
      messages[other] as BadMessage,
      messages[index] as BadMessage,
    ];
  }
  return messages;
}

type Placement = {
  readonly message: BadMessage;
  readonly beforeGoodIndex: number;
  readonly occurredAtMs: number;
};

/** Lines a bad message may trail the event it refers to by, at most. */
const trailLinesMax = 50;

export function mixIn(
  delivered: DeliveredLines,
  ordered: readonly EventDraft[],
  messages: readonly BadMessage[],
  kit: BadKit,
): { lines: string[]; expectedRejections: ExpectedRejection[] } {
  const goodCount = delivered.lines.length;
  const firstIndexOf = new Map<EventDraft, number>();
  ordered.forEach((draft, index) =>
    firstIndexOf.set(draft, delivered.firstIndexes[index] as number),
  );
  const placements: Placement[] = messages.map((message, index) => {
    const spread = Math.floor(((index + 1) * goodCount) / (messages.length + 1));
    const anchorIndex = message.after === undefined ? -1 : (firstIndexOf.get(message.after) ?? -2);
    invariant(anchorIndex !== -2, `${message.detail}: the event it follows is in the stream`);
    const earliest = anchorIndex + 1 + kit.rng.below(trailLinesMax);
    const beforeGoodIndex = Math.min(goodCount, Math.max(spread, earliest));
    return {
      message,
      beforeGoodIndex,
      occurredAtMs: timeBefore(beforeGoodIndex, ordered, delivered),
    };
  });
  placements.sort((left, right) => left.beforeGoodIndex - right.beforeGoodIndex);
  return merge(delivered.lines, placements);
}

/** The occurred_at of the last original event at or before good line `index − 1`. */
function timeBefore(
  index: number,
  ordered: readonly EventDraft[],
  delivered: DeliveredLines,
): number {
  let low = 0;
  let high = delivered.firstIndexes.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >>> 1;
    if ((delivered.firstIndexes[middle] as number) <= index - 1) low = middle;
    else high = middle - 1;
  }
  const draft = ordered[low];
  invariant(draft !== undefined, 'a stream has at least one event');
  return draft.occurredAtMs;
}

function merge(
  goodLines: readonly string[],
  placements: readonly Placement[],
): { lines: string[]; expectedRejections: ExpectedRejection[] } {
  const lines: string[] = [];
  const expectedRejections: ExpectedRejection[] = [];
  let next = 0;
  for (let goodIndex = 0; goodIndex <= goodLines.length; goodIndex += 1) {
    while (
      next < placements.length &&
      (placements[next] as Placement).beforeGoodIndex === goodIndex
    ) {
      const { message, occurredAtMs } = placements[next] as Placement;
      expectedRejections.push({
        index: lines.length,
        reason: message.reason,
        detail: message.detail,
      });
      lines.push(message.line(occurredAtMs));
      next += 1;
    }
    if (goodIndex < goodLines.length) lines.push(goodLines[goodIndex] as string);
  }
  invariant(next === placements.length, 'every bad message placed');
  return { lines, expectedRejections };
}
