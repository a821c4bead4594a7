// The nightly job's catch-up dates and the application layer's one backoff policy, as
// pure functions of the clock: the dates owed after the last night run, oldest first and
// bounded; with none run yet, only the latest; a night whose run time has not come is
// not owed. The backoff doubles from its start up to its cap.
import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../../src/app/retry.ts';
import { nightlyDatesDue } from '../../src/reconciliation/nightly.ts';

describe('the nightly catch-up dates', () => {
  it('owes every night after the last one run whose run time has come, oldest first', () => {
    expect(nightlyDatesDue('02:00', '2026-10-05', new Date('2026-10-09T03:00:00Z'), 40))
      .toEqual(['2026-10-06', '2026-10-07', '2026-10-08']);
    expect(nightlyDatesDue('02:00', '2026-10-05', new Date('2026-10-09T01:59:00Z'), 40))
      .toEqual(['2026-10-06', '2026-10-07']);
    expect(nightlyDatesDue('02:00', '2026-10-08', new Date('2026-10-09T03:00:00Z'), 40)).toEqual([]);
  });

  it('keeps the newest nights when more were missed than the bound, and only the latest at first', () => {
    expect(nightlyDatesDue('02:00', '2026-09-01', new Date('2026-10-09T03:00:00Z'), 2))
      .toEqual(['2026-10-07', '2026-10-08']);
    expect(nightlyDatesDue('23:30', null, new Date('2026-10-09T03:00:00Z'), 40)).toEqual(['2026-10-07']);
  });

  it('owes no night twice when the run time moved later after the last run', () => {
    expect(nightlyDatesDue('05:00', '2026-10-08', new Date('2026-10-09T06:00:00Z'), 40)).toEqual([]);
    expect(nightlyDatesDue('01:00', '2026-10-07', new Date('2026-10-09T00:30:00Z'), 40)).toEqual([]);
  });
});

describe('the backoff', () => {
  it('doubles from its start up to its cap', () => {
    const policy = { initialMs: 500, maxMs: 3_000 };
    expect([1, 2, 3, 4, 5, 60].map((n) => backoffDelayMs(policy, n))).toEqual([500, 1_000, 2_000, 3_000, 3_000, 3_000]);
  });
});
