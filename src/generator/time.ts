// Calendar helpers on UTC milliseconds. Date.UTC and toISOString are pure functions of
// their arguments, so the generator never reads the clock: every time is derived from
// the requested month.
import { UserError } from '../errors.ts';

export const secondMs = 1_000;
export const minuteMs = 60 * secondMs;
export const hourMs = 60 * minuteMs;
export const dayMs = 24 * hourMs;

export type MonthWindow = {
  /** The month as given, `YYYY-MM`. */
  readonly label: string;
  readonly startMs: number;
  /** First instant of the next month; the window is [startMs, endMs). */
  readonly endMs: number;
  /** The next month, `YYYY-MM`. */
  readonly nextLabel: string;
};

const monthPattern = /^([0-9]{4})-(0[1-9]|1[0-2])$/;

export function parseMonth(label: string): MonthWindow {
  const match = monthPattern.exec(label);
  if (match === null) {
    throw new UserError(
      'invalid_month',
      `month must be YYYY-MM, got ${JSON.stringify(label)}`,
      'month',
    );
  }
  const year = Number(match[1]);
  const monthIndex = Number(match[2]) - 1;
  const startMs = Date.UTC(year, monthIndex, 1);
  const endMs = Date.UTC(year, monthIndex + 1, 1);
  return { label, startMs, endMs, nextLabel: monthLabel(endMs) };
}

export function monthLabel(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

/** RFC 3339 with milliseconds and `Z`, as the envelope's occurred_at. */
export function timestampText(ms: number): string {
  return new Date(ms).toISOString();
}

/** `YYYY-MM-DD`, as processor.payout's arrival_date. */
export function dateText(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Whole days since the epoch (UTC), used to bucket activity per calendar day. */
export function dayNumber(ms: number): number {
  return Math.floor(ms / dayMs);
}

export function dayStartMs(dayNumberUtc: number): number {
  return dayNumberUtc * dayMs;
}
