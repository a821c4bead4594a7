// Report parameters as a person types them (CLI flags, API bodies), checked against the
// template and normalized: an actionable error for each mistake. Pure.
import { UserError } from '../errors.ts';
import type { RunParams } from './query.ts';
import type { Template } from './template.ts';
import type { Thresholds } from './compute.ts';

export type RequestedParams = Readonly<Record<string, string | undefined>>;

export type ResolvedParams = {
  /** As stored with the run and shown in every rendering. */
  readonly params: Record<string, string>;
  readonly run: RunParams;
  readonly thresholds: Thresholds;
};

const periodPattern = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function resolveParams(template: Template, given: RequestedParams): ResolvedParams {
  const params: Record<string, string> = {};
  let run: RunParams = {};
  for (const name of Object.keys(given)) {
    if (given[name] !== undefined && !template.parameters.includes(name)) {
      throw new UserError('bad_param', `report ${template.report} takes ${template.parameters.join(', ')}; ` +
        `not ${name}`, name);
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
  return { params, run, thresholds };
}

function parseOne(name: string, value: string): RunParams {
  if (name === 'period') {
    if (!periodPattern.test(value)) throw new UserError('bad_param', `period ${JSON.stringify(value)} is not YYYY-MM`, name);
    return { periodStart: `${value}-01` };
  }
  if (name === 'as_of') return { asOf: parseAsOf(value) };
  if (name === 'year') {
    if (!/^\d{4}$/.test(value)) throw new UserError('bad_param', `year ${JSON.stringify(value)} is not YYYY`, name);
    return { year: Number(value) };
  }
  throw new Error(`template parameter ${name} is not known to the engine`);
}

/** A date-only as_of means 00:00Z that day (REPORTS.md); otherwise an RFC 3339 instant. */
export function parseAsOf(value: string): string {
  const text = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
  const valid = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/.test(text);
  const date = new Date(text);
  if (!valid || Number.isNaN(date.getTime())) {
    throw new UserError('bad_param', `as_of ${JSON.stringify(value)} is not a date (YYYY-MM-DD) or an RFC 3339 time`, 'as_of');
  }
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
