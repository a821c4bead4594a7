// Proves that the generator is a pure function of its options: the same options give
// byte-identical lines, another seed or month gives another stream, and mixing in bad
// messages leaves the good lines untouched (dropping the expected rejections gives back
// the clean stream exactly). It also proves the bad-message catalogue covers every
// rejection reason of EVENTS.md, and that bad options are refused with a UserError.
import { describe, expect, it } from 'vitest';
import { isUserError } from '../../src/errors.ts';
import {
  generateEventStream,
  generateEventStreamWithExpectations,
  rejectionReasons,
} from '../../src/generator/index.ts';
import { testApprover } from '../support/keys.ts';

const options = { seed: 42, rentals: 1_500, month: '2026-10', approve: testApprover } as const;

describe('determinism', () => {
  it('gives identical lines for identical options', () => {
    expect(generateEventStream(options)).toEqual(generateEventStream(options));
  });

  it('gives another stream for another seed', () => {
    const first = generateEventStream(options);
    const second = generateEventStream({ ...options, seed: 43 });
    expect(second).not.toEqual(first);
    expect(second.filter((line) => first.includes(line))).toEqual([]);
  });

  it('places the stream in the requested month', () => {
    const lines = generateEventStream({ ...options, rentals: 50, month: '2027-02' });
    const first = JSON.parse(lines[0]!) as { occurred_at: string };
    expect(first.occurred_at.startsWith('2027-02')).toBe(true);
  });

  it('is identical with and without bad messages once the bad lines are taken out', () => {
    const clean = generateEventStream(options);
    const mixed = generateEventStreamWithExpectations({ ...options, badMessages: true });
    const bad = new Set(mixed.expectedRejections.map(({ index }) => index));
    expect(mixed.lines.filter((_, index) => !bad.has(index))).toEqual(clean);
    expect(generateEventStreamWithExpectations({ ...options, badMessages: true })).toEqual(mixed);
  });
});

describe('bad messages', () => {
  it('cover every rejection reason, each at least once', () => {
    const { expectedRejections } = generateEventStreamWithExpectations({
      ...options,
      badMessages: true,
    });
    const reasons = new Set(expectedRejections.map(({ reason }) => reason));
    expect([...reasons].sort()).toEqual([...rejectionReasons].sort());
    const required = [
      'malformed_json',
      'invalid_envelope',
      'unsupported_version',
      'unknown_type',
      'conflicting_duplicate',
      'invalid_field',
      'invalid_amount',
      'unbalanced',
      'unapproved_adjustment',
      'unknown_reference',
      'duplicate_reference',
      'exceeds_remaining',
      'rental_closed',
    ];
    for (const reason of required) expect(reasons).toContain(reason);
  });

  it('point at distinct lines, in order, within the stream', () => {
    const { lines, expectedRejections } = generateEventStreamWithExpectations({
      ...options,
      badMessages: true,
    });
    const indexes = expectedRejections.map(({ index }) => index);
    expect(indexes).toEqual([...indexes].sort((left, right) => left - right));
    expect(new Set(indexes).size).toBe(indexes.length);
    for (const index of indexes) expect(index).toBeLessThan(lines.length);
  });

  it('are absent unless asked for', () => {
    expect(generateEventStreamWithExpectations(options).expectedRejections).toEqual([]);
  });
});

describe('options', () => {
  const refused = (call: () => unknown): boolean => {
    try {
      call();
      return false;
    } catch (error) {
      return isUserError(error);
    }
  };

  it('refuses a malformed month, a non-integer seed and a rental count out of range', () => {
    expect(refused(() => generateEventStream({ ...options, month: '2026-13' }))).toBe(true);
    expect(refused(() => generateEventStream({ ...options, month: '2026-1' }))).toBe(true);
    expect(refused(() => generateEventStream({ ...options, seed: 1.5 }))).toBe(true);
    expect(refused(() => generateEventStream({ ...options, rentals: 0 }))).toBe(true);
    expect(refused(() => generateEventStream({ ...options, rentals: 2.5 }))).toBe(true);
  });

  it('works for the smallest stream, one rental', () => {
    const lines = generateEventStream({ ...options, rentals: 1 });
    expect(lines.length).toBeGreaterThan(1);
  });
});
