// The SQL a figure definition means: one filter per figure over journal lines (or
// entries, for counts), shared by the figure's computation and its lineage, so that the
// lines an auditor sees are exactly the lines the figure sums. Pure string building with
// positional parameters; nothing here touches the database.
import type { FigureDef, GroupDim, Window } from './template.ts';

export type RunParams = {
  /** First day of the period, `YYYY-MM-01`. */
  readonly periodStart?: string;
  /** An instant, RFC 3339 UTC. */
  readonly asOf?: string;
  readonly year?: number;
};

export class SqlParams {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** Dimension of a line, falling back to its entry's subject (a capture's owner line has no market). */
export const lineDimSql: Record<GroupDim, string> = {
  currency: 'l.currency',
  market: 'coalesce(l.market, e.subject_market)',
  owner_id: 'coalesce(l.owner_id, e.subject_owner_id)',
  account: 'l.account',
};

export const entryDimSql: Record<GroupDim, string> = {
  currency: 'e.subject_currency',
  market: 'e.subject_market',
  owner_id: 'e.subject_owner_id',
  account: 'NULL::text',
};

/** Lines count at their booked time: the effective time, or the start of the open period a late entry was booked into. */
const bookedAt = (alias: string) => `greatest(${alias}.effective_at, ${alias}.booked_period::timestamptz)`;

export function windowSql(window: Window, month: number | undefined, alias: string, run: RunParams, p: SqlParams) {
  switch (window) {
    case 'period': return `${alias}.booked_period = ${p.add(need(run.periodStart, 'period'))}::date`;
    case 'before_period': return `${alias}.booked_period < ${p.add(need(run.periodStart, 'period'))}::date`;
    case 'through_period': return `${alias}.booked_period <= ${p.add(need(run.periodStart, 'period'))}::date`;
    case 'as_of': {
      const asOf = p.add(need(run.asOf, 'as_of'));
      return `(${alias}.booked_period <= date_trunc('month', ${asOf}::timestamptz AT TIME ZONE 'UTC')::date ` +
        `AND ${bookedAt(alias)} < ${asOf}::timestamptz)`;
    }
    case 'year': {
      const year = need(run.year, 'year');
      return `(${alias}.effective_at >= ${p.add(`${year}-01-01T00:00:00Z`)}::timestamptz ` +
        `AND ${alias}.effective_at < ${p.add(`${year + 1}-01-01T00:00:00Z`)}::timestamptz)`;
    }
    case 'month': {
      const year = need(run.year, 'year');
      const m = need(month, 'month');
      const start = `${year}-${String(m).padStart(2, '0')}-01T00:00:00Z`;
      const end = m === 12 ? `${year + 1}-01-01T00:00:00Z` : `${year}-${String(m + 1).padStart(2, '0')}-01T00:00:00Z`;
      return `(${alias}.effective_at >= ${p.add(start)}::timestamptz AND ${alias}.effective_at < ${p.add(end)}::timestamptz)`;
    }
  }
}

function need<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`report parameter ${name} is required by this figure`);
  return value;
}

/** Entries at or below the run's watermark: the journal is append-only, so this is the run's journal. */
export function watermarkSql(p: SqlParams, watermark: Readonly<Record<string, number>>): string {
  return `e."offset" <= coalesce((${p.add(JSON.stringify(watermark))}::jsonb ->> (e.topic || '/' || e.partition))::bigint, -1)`;
}

/** The filter of one line figure: which lines it sums. */
export function lineFilterSql(def: FigureDef, run: RunParams, p: SqlParams): string {
  const parts: string[] = [];
  if (def.measure === 'debits') parts.push(`l.side = 'debit'`);
  if (def.measure === 'credits') parts.push(`l.side = 'credit'`);
  if (def.accounts !== undefined) parts.push(`l.account = ANY(${p.add(def.accounts)}::text[])`);
  if (def.eventTypes !== undefined) parts.push(`e.event_type = ANY(${p.add(def.eventTypes)}::text[])`);
  parts.push(windowSql(def.window as Window, def.month, 'l', run, p));
  return parts.join(' AND ');
}

/** The filter of one count figure: which entries it counts. */
export function entryFilterSql(def: FigureDef, run: RunParams, p: SqlParams): string {
  const parts: string[] = [];
  if (def.eventTypes !== undefined) parts.push(`e.event_type = ANY(${p.add(def.eventTypes)}::text[])`);
  parts.push(windowSql(def.window as Window, def.month, 'e', run, p));
  return parts.join(' AND ');
}

/** A line's contribution to a figure of this measure, in minor units, normal side positive. */
export function contributionSql(def: FigureDef): string {
  switch (def.measure) {
    case 'debits':
    case 'credits': return 'l.amount_minor';
    case 'debit_balance': return `CASE WHEN l.side = 'debit' THEN l.amount_minor ELSE -l.amount_minor END`;
    case 'credit_balance': return `CASE WHEN l.side = 'credit' THEN l.amount_minor ELSE -l.amount_minor END`;
    default: throw new Error(`measure ${def.measure} has no line contribution`);
  }
}

export const lineMeasures = new Set(['debits', 'credits', 'debit_balance', 'credit_balance']);
