// What to do with a batch Kafka handed us, given the offset PostgreSQL stores for its
// partition. Kafka decides where a group member starts (the offset committed to Kafka,
// or a reset), PostgreSQL decides where the journal stands; this is where the two are
// reconciled. Pure: no I/O, no clock, so every case is a unit test.

/** Offsets of a fetched batch, as numbers. `firstOffset` ≤ `lastOffset`. */
export type FetchedRange = {
  readonly firstOffset: number;
  readonly lastOffset: number;
  /** The partition's high watermark in the same fetch: the next offset to be written. */
  readonly highWatermark: number;
};

export type BatchPlan =
  /** Hand the messages from `fromOffset` on to the handler (older ones are already projected). */
  | { readonly kind: 'project'; readonly fromOffset: number }
  /** Kafka reads from the wrong place: move it to the stored offset and drop this batch. */
  | { readonly kind: 'seek'; readonly toOffset: number }
  /** The batch starts past the stored offset: a gap, unless the stored offset is stale. */
  | { readonly kind: 'ahead' }
  /** The stored offset lies past the end of the partition: not the log the journal came from. */
  | { readonly kind: 'past_end' };

/**
 * `storedOffset` is the next offset the journal expects on this partition. A batch that
 * contains it is projected from there; a batch wholly before it means Kafka started from
 * an older position (its committed offset lags the database after a crash between the
 * two commits), so we seek; a batch after it is reported as `ahead`, for the caller to
 * re-read the stored offset and the log start before calling it a gap.
 */
export function planBatch(range: FetchedRange, storedOffset: number): BatchPlan {
  if (range.firstOffset > storedOffset) return { kind: 'ahead' };
  if (range.lastOffset >= storedOffset) return { kind: 'project', fromOffset: storedOffset };
  if (storedOffset > range.highWatermark) return { kind: 'past_end' };
  return { kind: 'seek', toOffset: storedOffset };
}

/**
 * A batch that starts past the stored offset, once the stored offset has been read again
 * under the current assignment: a seek repairs it when the stored offset still exists in
 * the log and we have not already tried; otherwise messages are missing (retention,
 * compaction, or kafkajs's silent reset after an out-of-range fetch) and the projector
 * must stop rather than skip them.
 */
export function planAhead(
  storedOffset: number, logStartOffset: number, alreadySeekedTo: number | undefined,
): { readonly kind: 'seek'; readonly toOffset: number } | { readonly kind: 'gap' } {
  if (storedOffset < logStartOffset) return { kind: 'gap' };
  if (alreadySeekedTo === storedOffset) return { kind: 'gap' };
  return { kind: 'seek', toOffset: storedOffset };
}

/** The index of the first offset that does not follow its predecessor, or -1 when dense. */
export function firstHole(offsets: readonly number[]): number {
  for (let index = 1; index < offsets.length; index++) {
    if (offsets[index] !== (offsets[index - 1] as number) + 1) return index;
  }
  return -1;
}

/**
 * The first messages of `messages` that make one handler call: at most `messagesMax` of
 * them and `bytesMax` bytes of values, but always at least one (a message larger than the
 * byte bound is quarantined by the handler, not stuck here).
 */
export function takeChunk<T extends { readonly value: Buffer | null }>(
  messages: readonly T[], messagesMax: number, bytesMax: number,
): T[] {
  let bytes = 0;
  let count = 0;
  for (const message of messages) {
    bytes += message.value?.length ?? 0;
    if (count >= messagesMax || (count > 0 && bytes > bytesMax)) break;
    count += 1;
  }
  return messages.slice(0, count);
}
