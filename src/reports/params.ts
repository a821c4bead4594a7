// Report parameters as a person types them (CLI flags, API bodies), checked against the
// template and normalized: an actionable error for each mistake. Pure.
import { UserError } from '../errors.ts';
import type { RunParams } from './query.ts';
import type { Template } from './template.ts';
import type { Thresholds } from './compute.ts';
import type { Scope } from '../access-control/scope.ts';

export type RequestedParams = Readonly<Record<string, string | undefined>>;

export type ResolvedParams = {
  /** As stored with the run and shown in every rendering. */
  readonly params: Record<string, string>;
  readonly run: RunParams;
  readonly thresholds: Thresholds;
  /** REPORTS.md: every report takes optional `currency` and `market`, restricting it to that scope. */
  readonly scope: Scope;
};

/** Parameters every report takes besides its template's own. */
export const scopeParameters = ['currency', 'market'] as const;
const marketPattern = /^[A-Z]{2}(-[A-Z0-9]{1,3})?$/;


export function resolveParams(template: Template, given: RequestedParams): ResolvedParams {
  const params: Record<string, string> = {};
  let run: RunParams = {};
  for (const name of Object.keys(given)) {
    if (given[name] !== undefined && !template.parameters.includes(name)
      && !(scopeParameters as readonly string[]).includes(name)) {
      throw new UserError('bad_param', `report ${template.report} takes ${[...template.parameters, ...scopeParameters]
        .join(', ')}; not ${name}`, name);
    }
  }
  for (const name of template.parameters) {
    const value = given[name];
    if (name === 'min_amount' || name === 'min_transactions') continue;
    if (value === undefined || value === '') {
      throw new UserError('bad_param', `report ${template.report} needs ${name}`, name);
    }
    params[name] = value;
    run = { ...run, ...parseOne(name, value) };
  }
  const thresholds = resolveThresholds(template, given, params);
  return { params, run, thresholds, scope: resolveScope(given, params) };
}

/** `currency` (USD or CAD) and `market` (e.g. US-CA), each optional; recorded with the run's parameters. */
function resolveScope(given: RequestedParams, params: Record<string, string>): Scope {
  const currency = given.currency === '' ? undefined : given.currency;
  const market = given.market === '' ? undefined : given.market;
  if (currency !== undefined && currency !== 'USD' && currency !== 'CAD') {
    throw new UserError('bad_param', `currency ${JSON.stringify(currency)} is not USD or CAD`, 'currency');
  }
  if (market !== undefined && !marketPattern.test(market)) {
    throw new UserError('bad_param', `market ${JSON.stringify(market)} is not a market code such as US-CA`, 'market');
  }
  if (currency !== undefined) params.currency = currency;
  if (market !== undefined) params.market = market;
  return { currencies: currency === undefined ? null : [currency], markets: market === undefined ? null : [market] };
}

function parseOne(name: string, value: string): RunParams {
  if (name === 'period') {
    checkedPeriod(value, name);
    return { periodStart: `${value}-01` };
  }
  if (name === 'as_of') return { asOf: parseAsOf(value) };
  if (name === 'year') {
    if (!/^\d{4}$/.test(value)) throw new UserError('bad_param', `year ${JSON.stringify(value)} is not YYYY`, name);
    if (Number(value) < yearMin) throw new UserError('bad_param', `year ${JSON.stringify(value)}: ${noYearZero}`, name);
    return { year: Number(value) };
  }
  throw new Error(`template parameter ${name} is not known to the engine`);
}

// Dates as a person types them must exist: JavaScript's Date turns 2026-02-30 into March 2
// and 24:00 into the next day, which would run a report for a day other than the one its
// label names. PostgreSQL has no year 0.
const yearMin = 1;
const noYearZero = 'there is no year 0000';
const monthDays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : monthDays[month - 1] as number;
}

/**
 * `YYYY-MM` as a month: null when it is not of that form, a reason when it is but no such
 * month exists (2026-13, 0000-01).
 */
export function calendarMonth(value: string): { year: number; month: number } | string | null {
  const match = /^(\d{4})-(\d{2})$/.exec(value);
  if (match === null) return null;
  const year = Number(match[1]);
  const month = Number(match[2]);
  if (month < 1 || month > 12) return `there is no month ${match[2]}`;
  return year < yearMin ? noYearZero : { year, month };
}

/** A period parameter (`YYYY-MM`) that exists, or a UserError saying why not. */
export function checkedPeriod(value: string, field?: string): { year: number; month: number } {
  const month = calendarMonth(value);
  if (month !== null && typeof month !== 'string') return month;
  const why = month === null ? '' : `: ${month}`;
  throw new UserError('bad_param', `period ${JSON.stringify(value)} is not YYYY-MM${why}`, field);
}

/** Why `YYYY-MM-DD` is no day of the calendar, or null when it is one (or not of that form). */
export function impossibleDate(value: string): string | null {
  const match = /^(\d{4}-\d{2})-(\d{2})$/.exec(value);
  if (match === null) return null;
  const month = calendarMonth(match[1] as string);
  if (month === null || typeof month === 'string') return month;
  const days = daysInMonth(month.year, month.month);
  const day = Number(match[2]);
  return day >= 1 && day <= days ? null : `${match[1]} has ${days} days`;
}

const asOfPattern = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?(Z|[+-](\d{2}):(\d{2})))?$/;

/** Why the time of an as_of that matched asOfPattern is no time of day, or null. */
function impossibleTime(match: RegExpExecArray): string | null {
  const [, , hour, minute, second, zone, zoneHour, zoneMinute] = match;
  if (hour === undefined) return null;
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second ?? 0) > 59) {
    return `there is no time ${hour}:${minute}${second === undefined ? '' : `:${second}`}`;
  }
  if (zone !== 'Z' && (Number(zoneHour) > 23 || Number(zoneMinute) > 59)) return `there is no UTC offset ${zone}`;
  return null;
}

/** A date-only as_of means 00:00Z that day (REPORTS.md); otherwise an RFC 3339 instant. */
export function parseAsOf(value: string): string {
  const notATime = () => new UserError('bad_param',
    `as_of ${JSON.stringify(value)} is not a date (YYYY-MM-DD) or an RFC 3339 time`, 'as_of');
  const match = asOfPattern.exec(value);
  if (match === null) throw notATime();
  const date = new Date(match[2] === undefined ? `${value}T00:00:00Z` : value);
  const impossible = impossibleDate(match[1] as string) ?? impossibleTime(match) ??
    (date.getUTCFullYear() < yearMin ? noYearZero : null);
  if (impossible !== null) throw new UserError('bad_param', `as_of ${JSON.stringify(value)}: ${impossible}`, 'as_of');
  if (Number.isNaN(date.getTime())) throw notATime();
  return date.toISOString();
}

function resolveThresholds(template: Template, given: RequestedParams, params: Record<string, string>): Thresholds {
  const thresholds: Thresholds = { minAmountMinor: 2_000_000n, minTransactions: 200n };
  if (!template.parameters.includes('min_amount')) return thresholds;
  const amount = given.min_amount ?? '20000';
  const count = given.min_transactions ?? '200';
  if (!/^\d{1,12}(\.\d{1,2})?$/.test(amount)) {
    throw new UserError('bad_param', `min_amount ${JSON.stringify(amount)} is not an amount`, 'min_amount');
  }
  if (!/^\d{1,9}$/.test(count)) {
    throw new UserError('bad_param', `min_transactions ${JSON.stringify(count)} is not a whole number`, 'min_transactions');
  }
  params.min_amount = amount;
  params.min_transactions = count;
  const [whole = '0', fraction = ''] = amount.split('.');
  return { minAmountMinor: BigInt(whole + fraction.padEnd(2, '0')), minTransactions: BigInt(count) };
}
