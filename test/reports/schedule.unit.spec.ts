// The report schedule as pure functions of the clock, in UTC: when a schedule was last
// due, which occurrences a downtime missed (oldest first, bounded), the cron expression
// node-cron gets, and each occurrence's parameters (previous month across a year end).
import { describe, expect, it } from 'vitest';
import {
  cronExpression, lastDue, missedOccurrences, occurrenceParams, parseScheduleFile, type Schedule,
} from '../../src/reports/schedule.ts';

const daily: Schedule = { name: 'd', report: 'trial-balance', cadence: 'daily', at: '02:00', params: { as_of: '{run_date}' } };
const monthly: Schedule = { name: 'm', report: 'revenue', cadence: 'monthly', day: 1, at: '03:00',
  params: { period: '{previous_month}' } };
const yearly: Schedule = { name: 'y', report: 'form-1099-k', cadence: 'yearly', month: 1, day: 15, at: '04:00',
  params: { year: '{previous_year}' } };

describe('report schedule', () => {
  it('writes UTC cron expressions', () => {
    expect(cronExpression(daily)).toBe('0 2 * * *');
    expect(cronExpression(monthly)).toBe('0 3 1 * *');
    expect(cronExpression(yearly)).toBe('0 4 15 1 *');
  });

  it('knows when each was last due', () => {
    expect(lastDue(daily, new Date('2026-11-30T01:59:00Z')).toISOString()).toBe('2026-11-29T02:00:00.000Z');
    expect(lastDue(daily, new Date('2026-11-30T02:00:00Z')).toISOString()).toBe('2026-11-30T02:00:00.000Z');
    expect(lastDue(monthly, new Date('2026-01-01T02:00:00Z')).toISOString()).toBe('2025-12-01T03:00:00.000Z');
    expect(lastDue(yearly, new Date('2026-01-14T00:00:00Z')).toISOString()).toBe('2025-01-15T04:00:00.000Z');
  });

  it('lists the occurrences a downtime missed, oldest first, and only the latest on a first start', () => {
    const missed = missedOccurrences(monthly, new Date('2026-08-01T03:00:00Z'), new Date('2026-11-02T00:00:00Z'), 40);
    expect(missed.map((d) => d.toISOString())).toEqual(
      ['2026-09-01T03:00:00.000Z', '2026-10-01T03:00:00.000Z', '2026-11-01T03:00:00.000Z']);
    expect(missedOccurrences(daily, null, new Date('2026-11-30T12:00:00Z'), 40).map((d) => d.toISOString()))
      .toEqual(['2026-11-30T02:00:00.000Z']);
    expect(missedOccurrences(daily, new Date('2026-01-01T00:00:00Z'), new Date('2026-11-30T12:00:00Z'), 5))
      .toHaveLength(5);
    expect(missedOccurrences(daily, new Date('2026-11-30T02:00:00Z'), new Date('2026-11-30T12:00:00Z'), 40)).toEqual([]);
  });

  it('fills each occurrence\'s parameters, across a year end', () => {
    expect(occurrenceParams(monthly, new Date('2027-01-01T03:00:00Z'))).toEqual({ period: '2026-12' });
    expect(occurrenceParams(daily, new Date('2026-11-30T02:00:00Z'))).toEqual({ as_of: '2026-11-30' });
    expect(occurrenceParams(yearly, new Date('2027-01-15T04:00:00Z'))).toEqual({ year: '2026' });
  });

  it('refuses a schedule that cannot run every month', () => {
    expect(() => parseScheduleFile({ schedules: [{ ...monthly, day: 31 }] })).toThrow(/day must be 1–28/);
    expect(() => parseScheduleFile({ schedules: [daily, daily] })).toThrow(/repeat/);
  });
});
