// The pure decisions behind the Kafka consumer's positions (src/log/kafka/positions.ts):
// given a fetched batch's offsets and the offset PostgreSQL stores, project from the
// stored offset, seek to it, or refuse; given a batch still past the stored offset after
// re-reading it, seek once, or call it a gap. Each rule is shown allowing, refusing and
// staying quiet, with no broker: the integration tests show the same on a real one.
import { describe, expect, it } from 'vitest';
import { firstHole, planAhead, planBatch, takeChunk } from '../../src/log/kafka/positions.ts';

const range = (firstOffset: number, lastOffset: number, highWatermark = lastOffset + 1) =>
  ({ firstOffset, lastOffset, highWatermark });

describe('planBatch', () => {
  it('projects a batch that starts at the stored offset from there', () => {
    expect(planBatch(range(100, 199), 100)).toEqual({ kind: 'project', fromOffset: 100 });
  });

  it('projects only the unseen tail of a batch that straddles the stored offset', () => {
    expect(planBatch(range(100, 199), 150)).toEqual({ kind: 'project', fromOffset: 150 });
    expect(planBatch(range(100, 199), 199)).toEqual({ kind: 'project', fromOffset: 199 });
  });

  it('seeks when the whole batch is already projected (Kafka\'s mirror lagged the database)', () => {
    expect(planBatch(range(0, 99, 500), 300)).toEqual({ kind: 'seek', toOffset: 300 });
    expect(planBatch(range(0, 99, 500), 500)).toEqual({ kind: 'seek', toOffset: 500 });
  });

  it('refuses a stored offset past the partition\'s end', () => {
    expect(planBatch(range(0, 99, 100), 101)).toEqual({ kind: 'past_end' });
  });

  it('reports a batch past the stored offset as ahead, for a closer look', () => {
    expect(planBatch(range(101, 199), 100)).toEqual({ kind: 'ahead' });
    expect(planBatch(range(5, 5), 0)).toEqual({ kind: 'ahead' });
  });
});

describe('planAhead', () => {
  it('seeks to a stored offset the log still holds', () => {
    expect(planAhead(100, 0, undefined)).toEqual({ kind: 'seek', toOffset: 100 });
    expect(planAhead(100, 100, undefined)).toEqual({ kind: 'seek', toOffset: 100 });
    expect(planAhead(100, 0, 40)).toEqual({ kind: 'seek', toOffset: 100 });
  });

  it('calls it a gap when the stored offset is below the log start (retention, a reset)', () => {
    expect(planAhead(100, 101, undefined)).toEqual({ kind: 'gap' });
  });

  it('calls it a gap when a seek to the stored offset already came back past it', () => {
    expect(planAhead(100, 0, 100)).toEqual({ kind: 'gap' });
  });
});

describe('firstHole', () => {
  it('finds the first offset that does not follow its predecessor', () => {
    expect(firstHole([4, 5, 7, 8])).toBe(2);
  });

  it('stays quiet on dense offsets, one offset and none', () => {
    expect(firstHole([4, 5, 6])).toBe(-1);
    expect(firstHole([9])).toBe(-1);
    expect(firstHole([])).toBe(-1);
  });
});

describe('takeChunk', () => {
  const sized = (...sizes: number[]) => sizes.map((size) => ({ value: Buffer.alloc(size) }));

  it('takes at most messagesMax messages', () => {
    expect(takeChunk(sized(1, 1, 1, 1, 1), 2, 1_000)).toHaveLength(2);
  });

  it('stops before the message that would pass bytesMax', () => {
    expect(takeChunk(sized(40, 40, 40), 10, 100)).toHaveLength(2);
  });

  it('always takes one message, even one larger than bytesMax', () => {
    expect(takeChunk(sized(500, 1), 10, 100)).toHaveLength(1);
    expect(takeChunk([{ value: null }], 10, 100)).toHaveLength(1);
  });
});
