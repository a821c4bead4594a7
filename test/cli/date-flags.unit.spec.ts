// The date and period flags (--as-of, --period, --year, --month, `period close`) accept
// only days, months and times that exist: JavaScript's Date would turn 2026-02-30 into
// March 2 and 24:00 into the next day, and run a report for a day other than the one its
// label names. PostgreSQL has no year 0. Pure functions of src/reports/params.ts; the
// command-line errors they make are in cli-errors.int.spec.ts.
import { describe, expect, it } from 'vitest';
import { calendarMonth, impossibleDate, parseAsOf } from '../../src/reports/params.ts';

describe('as_of', () => {
  it.each([
    ['2026-02-30', /2026-02 has 28 days/],
    ['2025-02-29', /2025-02 has 28 days/],
    ['2100-02-29', /2100-02 has 28 days/],
    ['2026-04-31', /2026-04 has 30 days/],
    ['2026-04-00', /2026-04 has 30 days/],
    ['2026-13-01', /there is no month 13/],
    ['2026-00-10', /there is no month 00/],
    ['0000-06-01', /there is no year 0000/],
    ['2026-04-31T10:00:00Z', /2026-04 has 30 days/],
    ['2026-03-01T24:00:00Z', /there is no time 24:00:00/],
    ['2026-03-01T12:60Z', /there is no time 12:60/],
    ['2026-03-01T12:00:60Z', /there is no time 12:00:60/],
    ['2026-03-01T12:00:00+24:00', /there is no UTC offset \+24:00/],
    ['2026-03-01T12:00:00-05:60', /there is no UTC offset -05:60/],
    ['0001-01-01T00:30:00+01:00', /there is no year 0000/],
    ['yesterday', /is not a date \(YYYY-MM-DD\) or an RFC 3339 time/],
    ['2026-03-01T12:00:00', /is not a date \(YYYY-MM-DD\) or an RFC 3339 time/],
  ])('refuses %s, saying why', (value, reason) => {
    expect(() => parseAsOf(value)).toThrow(new RegExp(`^as_of "${value.replace(/[+]/g, '\\+')}"`));
    expect(() => parseAsOf(value)).toThrow(reason);
  });

  it.each([
    ['2026-02-28', '2026-02-28T00:00:00.000Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
    ['2000-02-29', '2000-02-29T00:00:00.000Z'],
    ['2026-12-31T23:59:59.999999Z', '2026-12-31T23:59:59.999Z'],
    ['2026-03-01T00:00:00+05:30', '2026-02-28T18:30:00.000Z'],
    ['0001-01-01', '0001-01-01T00:00:00.000Z'],
  ])('takes %s as %s', (value, instant) => {
    expect(parseAsOf(value)).toBe(instant);
  });
});

describe('months and days', () => {
  it('knows which months exist', () => {
    expect(calendarMonth('2026-02')).toEqual({ year: 2026, month: 2 });
    expect(calendarMonth('2026-13')).toBe('there is no month 13');
    expect(calendarMonth('0000-01')).toBe('there is no year 0000');
    expect(calendarMonth('2026-2')).toBeNull();
  });

  it('knows which days exist, leap years included', () => {
    expect(impossibleDate('2024-02-29')).toBeNull();
    expect(impossibleDate('2023-02-29')).toBe('2023-02 has 28 days');
    expect(impossibleDate('1900-02-29')).toBe('1900-02 has 28 days');
    expect(impossibleDate('2026-06-31')).toBe('2026-06 has 30 days');
    expect(impossibleDate('2026-07-31')).toBeNull();
  });
});
