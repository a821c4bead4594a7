// An independent calculator of every report's figures, written from the contract alone
// (EVENTS.md, ACCOUNTING.md, REPORTS.md) and never from the ledger's code: it imports
// nothing from src/, reads no journal, and does its arithmetic in bigint minor units.
//
// It takes the lines of a clean generated stream (no bad messages), drops redeliveries
// (event_id compared case-insensitively, the first delivery kept), and replays the events
// in file order. All events of one rental share a key, hence a partition, and appear in
// the file in their order, so file order gives each rental the order the projector sees:
// what decides whether a refund meets an open or a closed rental. From the replay it keeps
// (a) the facts a report counts straight from events (captures, closings) and (b) its own
// postings, made by ACCOUNTING.md's posting rules, with the dimensions the reports group
// by (currency, market, owner). Every figure is then a filter and a sum over those.
//
// Periods are ACCOUNTING.md's UTC calendar months. No period is closed in these streams,
// so an entry's booked period is its effective period.

type Side = 'debit' | 'credit';

/** One posting of ACCOUNTING.md, reduced to what the reports group and filter by. */
type Posting = {
  readonly account: string;
  readonly side: Side;
  readonly minor: bigint;
  readonly currency: string;
  readonly market: string | null;
  readonly owner: string | null;
  readonly eventType: string;
  readonly atMs: number;
  readonly period: string;
};

type Capture = {
  readonly currency: string;
  readonly market: string;
  readonly owner: string;
  readonly rental: bigint;
  readonly protection: bigint;
  readonly service: bigint;
  readonly total: bigint;
  readonly atMs: number;
  readonly period: string;
};

type Closing = { readonly currency: string; readonly market: string; readonly period: string };

type Payment = {
  readonly rentalId: string;
  readonly currency: string;
  readonly market: string;
  readonly owner: string;
};

type RentalState = {
  readonly currency: string;
  closed: boolean;
  /** What remains deferred or pending, per currency, summed over the rental's payments. */
  readonly remaining: Map<string, { c: bigint; s: bigint; p: bigint; op: bigint }>;
};

/** Figures as `key|dims-json` → value string: the form a report's figures are compared in. */
export type FigureMap = Map<string, string>;

export function figureKey(key: string, dims: Readonly<Record<string, string>>): string {
  const sorted = Object.keys(dims).sort().map((name) => [name, dims[name]]);
  return `${key}|${JSON.stringify(sorted)}`;
}

export type IndependentFigures = {
  revenue(period: string): FigureMap;
  taxLiability(period: string): FigureMap;
  ownerBalances(asOf: string): FigureMap;
  trialBalance(asOf: string): FigureMap;
  form1099k(year: number, thresholds?: { minAmount?: string; minTransactions?: number }): FigureMap;
  glDetail(period: string): FigureMap;
  /** Every (currency, market) and currency the events touched, to check coverage. */
  readonly markets: ReadonlySet<string>;
  readonly currencies: ReadonlySet<string>;
  /** Distinct events replayed (after dropping redeliveries). */
  readonly events: number;
};

// ---------------------------------------------------------------- money and time

/** A contract amount (`"120.00"`, `"7.5"`, `"0"`, and for processor.payout `"-5.00"`) in cents. */
export function toMinor(text: unknown): bigint {
  if (typeof text !== 'string' || !/^-?[0-9]+(\.[0-9]{1,2})?$/.test(text)) {
    throw new Error(`not a two-decimal amount: ${JSON.stringify(text)}`);
  }
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? text.slice(1) : text).split('.');
  const minor = BigInt(whole) * 100n + BigInt(fraction.padEnd(2, '0'));
  return negative ? -minor : minor;
}

/** Cents as REPORTS.md's decimal string: `-12.34`, `0.00`. */
export function fromMinor(minor: bigint): string {
  const sign = minor < 0n ? '-' : '';
  const digits = (minor < 0n ? -minor : minor).toString().padStart(3, '0');
  return `${sign}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

function instantMs(text: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new Error(`not a timestamp: ${text}`);
  return ms;
}

/** The UTC calendar month of an instant, `YYYY-MM`. */
function periodOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

/** A date-only as_of is 00:00Z that day (REPORTS.md). */
function asOfMs(asOf: string): number {
  return instantMs(/^\d{4}-\d{2}-\d{2}$/.test(asOf) ? `${asOf}T00:00:00Z` : asOf);
}

// ---------------------------------------------------------------- replay

type Data = Record<string, unknown>;

function text(data: Data, field: string): string {
  const value = data[field];
  if (typeof value !== 'string' || value === '') throw new Error(`field ${field} missing in ${JSON.stringify(data)}`);
  return value;
}

export function computeIndependentFigures(lines: readonly string[]): IndependentFigures {
  const postings: Posting[] = [];
  const captures: Capture[] = [];
  const closings: Closing[] = [];
  const payments = new Map<string, Payment>();
  const rentals = new Map<string, RentalState>();
  const disputes = new Map<string, Payment>();
  const seen = new Set<string>();
  const markets = new Set<string>();
  const currencies = new Set<string>();

  for (const line of lines) {
    const event = JSON.parse(line) as { event_id: string; type: string; occurred_at: string; data: Data };
    const id = event.event_id.toLowerCase();
    if (seen.has(id)) continue; // a redelivery posts nothing
    seen.add(id);
    const atMs = instantMs(event.occurred_at);
    const period = periodOf(atMs);
    const data = event.data;
    const type = event.type;
    const post = (
      account: string, side: Side, minor: bigint, currency: string,
      dims: { market?: string; owner?: string } = {},
    ) => {
      if (minor < 0n) throw new Error(`negative posting ${account} ${minor} in ${type}`);
      if (minor === 0n) return; // lines of amount zero are left out
      postings.push({
        account, side, minor, currency, market: dims.market ?? null, owner: dims.owner ?? null,
        eventType: type, atMs, period,
      });
    };

    switch (type) {
      case 'payment.captured': {
        const currency = text(data, 'currency');
        const market = text(data, 'market');
        const owner = text(data, 'owner_id');
        const rentalId = text(data, 'rental_id');
        const [R, C, P, S, T, D, F, total] = ['rental_amount', 'commission', 'protection_fee', 'service_fee',
          'tax', 'deposit', 'processor_fee', 'total'].map((f) => toMinor(data[f])) as [
          bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint];
        if (R + P + S + T + D !== total) throw new Error(`capture total does not add up: ${line}`);
        markets.add(`${currency} ${market}`);
        currencies.add(currency);
        payments.set(text(data, 'payment_id'), { rentalId, currency, market, owner });
        const rental = rentals.get(rentalId) ?? { currency, closed: false, remaining: new Map() };
        if (rental.closed) throw new Error(`capture of a closed rental in a clean stream: ${line}`);
        rentals.set(rentalId, rental);
        const left = rental.remaining.get(currency) ?? { c: 0n, s: 0n, p: 0n, op: 0n };
        left.c += C;
        left.s += S;
        left.p += P;
        left.op += R - C;
        rental.remaining.set(currency, left);
        captures.push({ currency, market, owner, rental: R, protection: P, service: S, total, atMs, period });
        post('1100', 'debit', total - F, currency);
        post('5000', 'debit', F, currency);
        post('2300', 'credit', C, currency, { market });
        post('2310', 'credit', S, currency, { market });
        post('2320', 'credit', P, currency, { market });
        post('2000', 'credit', R - C, currency, { owner });
        post('2200', 'credit', T, currency, { market });
        post('2100', 'credit', D, currency);
        break;
      }
      case 'rental.completed':
      case 'rental.cancelled': {
        const rental = rentals.get(text(data, 'rental_id'));
        if (rental === undefined || rental.closed) throw new Error(`closing without an open rental: ${line}`);
        rental.closed = true;
        // The event carries the owner and market of its lines.
        const market = text(data, 'market');
        const owner = text(data, 'owner_id');
        closings.push({ currency: rental.currency, market, period });
        for (const [currency, left] of rental.remaining) {
          post('2300', 'debit', left.c, currency, { market });
          post('4000', 'credit', left.c, currency, { market });
          post('2310', 'debit', left.s, currency, { market });
          post('4010', 'credit', left.s, currency, { market });
          post('2320', 'debit', left.p, currency, { market });
          post('4020', 'credit', left.p, currency, { market });
          // op may be below zero when rounded partial refunds took more of the owner's
          // share than was captured (EVENTS.md: the limit is per component only); a line's
          // amount is positive, so the movement is then written the other way round.
          const opSide: Side = left.op < 0n ? 'credit' : 'debit';
          const opAbs = left.op < 0n ? -left.op : left.op;
          post('2000', opSide, opAbs, currency, { owner });
          post('2010', opSide === 'debit' ? 'credit' : 'debit', opAbs, currency, { owner });
          left.c = 0n;
          left.s = 0n;
          left.p = 0n;
          left.op = 0n;
        }
        break;
      }
      case 'payment.refunded': {
        const payment = payments.get(text(data, 'payment_id'));
        if (payment === undefined) throw new Error(`refund of an unknown payment: ${line}`);
        const rental = rentals.get(payment.rentalId);
        if (rental === undefined) throw new Error(`refund without a rental: ${line}`);
        const currency = text(data, 'currency');
        const [R, C, P, S, T, total] = ['rental_amount', 'commission', 'protection_fee', 'service_fee', 'tax',
          'total'].map((f) => toMinor(data[f])) as [bigint, bigint, bigint, bigint, bigint, bigint];
        if (R + P + S + T !== total) throw new Error(`refund total does not add up: ${line}`);
        // Dimensions from the payment's capture.
        const { market, owner } = payment;
        if (!rental.closed) {
          const left = rental.remaining.get(currency);
          if (left === undefined) throw new Error(`refund in a currency never captured: ${line}`);
          left.c -= C;
          left.s -= S;
          left.p -= P;
          left.op -= R - C;
          post('2300', 'debit', C, currency, { market });
          post('2310', 'debit', S, currency, { market });
          post('2320', 'debit', P, currency, { market });
          post('2000', 'debit', R - C, currency, { owner });
        } else {
          post('4100', 'debit', C, currency, { market });
          post('4110', 'debit', S, currency, { market });
          post('4120', 'debit', P, currency, { market });
          post('2010', 'debit', R - C, currency, { owner });
        }
        post('2200', 'debit', T, currency, { market });
        post('1100', 'credit', total, currency);
        break;
      }
      case 'deposit.released': {
        const amount = toMinor(data.amount);
        post('2100', 'debit', amount, text(data, 'currency'));
        post('1100', 'credit', amount, text(data, 'currency'));
        break;
      }
      case 'deposit.applied': {
        const amount = toMinor(data.amount);
        post('2100', 'debit', amount, text(data, 'currency'));
        post('2010', 'credit', amount, text(data, 'currency'), { owner: text(data, 'owner_id') });
        break;
      }
      case 'dispute.opened': {
        const payment = payments.get(text(data, 'payment_id'));
        if (payment === undefined) throw new Error(`dispute of an unknown payment: ${line}`);
        disputes.set(text(data, 'dispute_id'), payment);
        const amount = toMinor(data.amount);
        const fee = toMinor(data.dispute_fee);
        const currency = text(data, 'currency');
        post('5100', 'debit', amount, currency, { market: payment.market });
        post('5110', 'debit', fee, currency);
        post('1100', 'credit', amount + fee, currency);
        break;
      }
      case 'dispute.won': {
        const payment = disputes.get(text(data, 'dispute_id'));
        if (payment === undefined) throw new Error(`unknown dispute won: ${line}`);
        const amount = toMinor(data.amount);
        post('1100', 'debit', amount, text(data, 'currency'));
        post('5100', 'credit', amount, text(data, 'currency'), { market: payment.market });
        break;
      }
      case 'payout.paid': {
        const amount = toMinor(data.amount);
        post('2010', 'debit', amount, text(data, 'currency'), { owner: text(data, 'owner_id') });
        post('1100', 'credit', amount, text(data, 'currency'));
        break;
      }
      case 'payout.failed': {
        const amount = toMinor(data.amount);
        post('1100', 'debit', amount, text(data, 'currency'));
        post('2010', 'credit', amount, text(data, 'currency'), { owner: text(data, 'owner_id') });
        break;
      }
      case 'processor.payout': {
        const amount = toMinor(data.amount);
        const currency = text(data, 'currency');
        if (amount > 0n) {
          post('1000', 'debit', amount, currency);
          post('1100', 'credit', amount, currency);
        } else {
          post('1100', 'debit', -amount, currency);
          post('1000', 'credit', -amount, currency);
        }
        break;
      }
      case 'tax.remitted': {
        const amount = toMinor(data.amount);
        post('2200', 'debit', amount, text(data, 'currency'), { market: text(data, 'market') });
        post('1000', 'credit', amount, text(data, 'currency'));
        break;
      }
      case 'adjustment.posted': {
        const currency = text(data, 'currency');
        const adjustmentLines = data.lines as Array<{ account: string; side: Side; amount: string; dims?: Data }>;
        let net = 0n;
        for (const entry of adjustmentLines) {
          const amount = toMinor(entry.amount);
          net += entry.side === 'debit' ? amount : -amount;
          const dims = entry.dims ?? {};
          post(entry.account, entry.side, amount, currency, {
            ...(typeof dims.market === 'string' ? { market: dims.market } : {}),
            ...(typeof dims.owner_id === 'string' ? { owner: dims.owner_id } : {}),
          });
        }
        if (net !== 0n) throw new Error(`unbalanced adjustment in a clean stream: ${line}`);
        break;
      }
      default:
        throw new Error(`event type ${type} is not in EVENTS.md`);
    }
  }

  return {
    markets, currencies, events: seen.size,
    revenue: (period) => revenue(postings, captures, closings, period),
    taxLiability: (period) => taxLiability(postings, period),
    ownerBalances: (asOf) => ownerBalances(postings, asOfMs(asOf)),
    trialBalance: (asOf) => trialBalance(postings, asOfMs(asOf)),
    form1099k: (year, thresholds = {}) => form1099k(captures, year, thresholds),
    glDetail: (period) => glDetail(postings, period),
  };
}

// ---------------------------------------------------------------- figures

/** Sums keyed by a group, each group a record of named bigint figures. */
class Groups {
  readonly rows = new Map<string, { dims: Record<string, string>; values: Map<string, bigint> }>();
  add(dims: Record<string, string>, key: string, amount: bigint): void {
    const id = JSON.stringify(Object.keys(dims).sort().map((name) => [name, dims[name]]));
    const row = this.rows.get(id) ?? { dims, values: new Map<string, bigint>() };
    row.values.set(key, (row.values.get(key) ?? 0n) + amount);
    this.rows.set(id, row);
  }
  get(dims: Record<string, string>) {
    return this.rows.get(JSON.stringify(Object.keys(dims).sort().map((name) => [name, dims[name]])));
  }
}

const signed = (p: Posting, normal: Side) => (p.side === normal ? p.minor : -p.minor);
const deferredAccounts = new Set(['2300', '2310', '2320']);
const closingTypes = new Set(['rental.completed', 'rental.cancelled']);

const revenueKeys = [
  'gross_booking_value', 'captured_total', 'recognized_commission', 'recognized_service_fees',
  'recognized_protection_fees', 'refunds_commission', 'refunds_service_fees', 'refunds_protection_fees',
  'net_revenue', 'deferred_opening', 'deferred_added', 'deferred_recognized', 'deferred_refunded',
  'deferred_closing', 'rentals_closed',
] as const;
const countKeys = new Set(['rentals_closed', 'transactions']);

function revenue(postings: readonly Posting[], captures: readonly Capture[], closings: readonly Closing[], period: string) {
  const groups = new Groups();
  const dimsOf = (currency: string, market: string | null) => {
    if (market === null) throw new Error('a revenue line without a market');
    return { currency, market };
  };
  for (const c of captures) {
    if (c.period !== period) continue;
    groups.add(dimsOf(c.currency, c.market), 'gross_booking_value', c.rental + c.protection + c.service);
    groups.add(dimsOf(c.currency, c.market), 'captured_total', c.total);
  }
  for (const c of closings) {
    if (c.period === period) groups.add(dimsOf(c.currency, c.market), 'rentals_closed', 1n);
  }
  const recognized: Record<string, string> = {
    '4000': 'recognized_commission', '4010': 'recognized_service_fees', '4020': 'recognized_protection_fees',
  };
  const refunds: Record<string, string> = {
    '4100': 'refunds_commission', '4110': 'refunds_service_fees', '4120': 'refunds_protection_fees',
  };
  for (const p of postings) {
    const inPeriod = p.period === period;
    if (recognized[p.account] !== undefined && inPeriod && p.side === 'credit') {
      groups.add(dimsOf(p.currency, p.market), recognized[p.account]!, p.minor);
    }
    if (refunds[p.account] !== undefined && inPeriod && p.side === 'debit') {
      groups.add(dimsOf(p.currency, p.market), refunds[p.account]!, p.minor);
    }
    if (!deferredAccounts.has(p.account)) continue;
    const dims = dimsOf(p.currency, p.market);
    if (p.period < period) groups.add(dims, 'deferred_opening', signed(p, 'credit'));
    if (p.period <= period) groups.add(dims, 'deferred_closing', signed(p, 'credit'));
    if (!inPeriod) continue;
    if (p.side === 'credit') groups.add(dims, 'deferred_added', p.minor);
    if (p.side === 'debit' && closingTypes.has(p.eventType)) groups.add(dims, 'deferred_recognized', p.minor);
    if (p.side === 'debit' && p.eventType === 'payment.refunded') groups.add(dims, 'deferred_refunded', p.minor);
  }
  const figures: FigureMap = new Map();
  for (const row of groups.rows.values()) {
    const v = (key: string) => row.values.get(key) ?? 0n;
    row.values.set('net_revenue', v('recognized_commission') + v('recognized_service_fees')
      + v('recognized_protection_fees') - v('refunds_commission') - v('refunds_service_fees')
      - v('refunds_protection_fees'));
    if (v('deferred_closing') !== v('deferred_opening') + v('deferred_added') - v('deferred_recognized')
      - v('deferred_refunded')) {
      throw new Error(`deferred roll-forward does not hold for ${JSON.stringify(row.dims)}`);
    }
    // A row appears, with all its figures, when any of them is non-zero.
    if (revenueKeys.every((key) => v(key) === 0n)) continue;
    for (const key of revenueKeys) {
      figures.set(figureKey(key, row.dims), countKeys.has(key) ? v(key).toString() : fromMinor(v(key)));
    }
  }
  return figures;
}

const taxKeys = ['opening', 'collected', 'refunded', 'remitted', 'adjusted', 'closing'] as const;

function taxLiability(postings: readonly Posting[], period: string) {
  const groups = new Groups();
  for (const p of postings) {
    if (p.account !== '2200' || p.period > period) continue;
    if (p.market === null) throw new Error('a 2200 line without a market');
    const dims = { currency: p.currency, market: p.market };
    groups.add(dims, 'closing', signed(p, 'credit'));
    if (p.period < period) {
      groups.add(dims, 'opening', signed(p, 'credit'));
      continue;
    }
    if (p.eventType === 'payment.captured' && p.side === 'credit') groups.add(dims, 'collected', p.minor);
    if (p.eventType === 'payment.refunded' && p.side === 'debit') groups.add(dims, 'refunded', p.minor);
    if (p.eventType === 'tax.remitted' && p.side === 'debit') groups.add(dims, 'remitted', p.minor);
    if (p.eventType === 'adjustment.posted') groups.add(dims, 'adjusted', signed(p, 'credit'));
  }
  const figures: FigureMap = new Map();
  for (const row of groups.rows.values()) {
    const v = (key: string) => row.values.get(key) ?? 0n;
    if (v('closing') !== v('opening') + v('collected') - v('refunded') - v('remitted') + v('adjusted')) {
      throw new Error(`tax roll-forward does not hold for ${JSON.stringify(row.dims)}`);
    }
    // Read like revenue: a (currency, market) row appears when any of its figures is non-zero.
    if (taxKeys.every((key) => v(key) === 0n)) continue;
    for (const key of taxKeys) figures.set(figureKey(key, row.dims), fromMinor(v(key)));
  }
  return figures;
}

function ownerBalances(postings: readonly Posting[], asOf: number) {
  const owners = new Groups();
  const totals = new Groups();
  for (const p of postings) {
    if ((p.account !== '2000' && p.account !== '2010') || p.atMs >= asOf) continue;
    if (p.owner === null) throw new Error(`a ${p.account} line without an owner`);
    const key = p.account === '2000' ? 'pending' : 'payable';
    owners.add({ currency: p.currency, owner_id: p.owner }, key, signed(p, 'credit'));
    totals.add({ currency: p.currency }, `total_${key}`, signed(p, 'credit'));
  }
  const figures: FigureMap = new Map();
  const negative = new Map<string, bigint>();
  for (const row of owners.rows.values()) {
    const pending = row.values.get('pending') ?? 0n;
    const payable = row.values.get('payable') ?? 0n;
    figures.set(figureKey('pending', row.dims), fromMinor(pending));
    figures.set(figureKey('payable', row.dims), fromMinor(payable));
    figures.set(figureKey('held', row.dims), fromMinor(pending + payable));
    const currency = row.dims.currency!;
    negative.set(currency, (negative.get(currency) ?? 0n) + (payable < 0n ? 1n : 0n));
  }
  for (const row of totals.rows.values()) {
    const pending = row.values.get('total_pending') ?? 0n;
    const payable = row.values.get('total_payable') ?? 0n;
    figures.set(figureKey('total_pending', row.dims), fromMinor(pending));
    figures.set(figureKey('total_payable', row.dims), fromMinor(payable));
    figures.set(figureKey('total_held', row.dims), fromMinor(pending + payable));
    figures.set(figureKey('owners_negative_payable', row.dims), (negative.get(row.dims.currency!) ?? 0n).toString());
  }
  return figures;
}

function debitsAndCredits(postings: Iterable<Posting>) {
  const accounts = new Groups();
  for (const p of postings) accounts.add({ currency: p.currency, account: p.account }, `${p.side}s`, p.minor);
  return accounts;
}

function trialBalance(postings: readonly Posting[], asOf: number) {
  const accounts = debitsAndCredits(postings.filter((p) => p.atMs < asOf));
  const figures: FigureMap = new Map();
  const totals = new Groups();
  for (const row of accounts.rows.values()) {
    const debits = row.values.get('debits') ?? 0n;
    const credits = row.values.get('credits') ?? 0n;
    figures.set(figureKey('debits', row.dims), fromMinor(debits));
    figures.set(figureKey('credits', row.dims), fromMinor(credits));
    figures.set(figureKey('balance', row.dims), fromMinor(debits - credits));
    totals.add({ currency: row.dims.currency! }, 'debits', debits);
    totals.add({ currency: row.dims.currency! }, 'credits', credits);
  }
  for (const row of totals.rows.values()) {
    const debits = row.values.get('debits') ?? 0n;
    const credits = row.values.get('credits') ?? 0n;
    if (debits !== credits) throw new Error(`the independent journal does not balance in ${row.dims.currency}`);
    figures.set(figureKey('total_debits', row.dims), fromMinor(debits));
    figures.set(figureKey('total_credits', row.dims), fromMinor(credits));
    figures.set(figureKey('total_balance', row.dims), fromMinor(debits - credits));
  }
  return figures;
}

function glDetail(postings: readonly Posting[], period: string) {
  const accounts = debitsAndCredits(postings.filter((p) => p.period === period));
  const figures: FigureMap = new Map();
  for (const row of accounts.rows.values()) {
    figures.set(figureKey('debits', row.dims), fromMinor(row.values.get('debits') ?? 0n));
    figures.set(figureKey('credits', row.dims), fromMinor(row.values.get('credits') ?? 0n));
  }
  return figures;
}

function form1099k(
  captures: readonly Capture[], year: number, thresholds: { minAmount?: string; minTransactions?: number },
) {
  const minAmount = toMinor(thresholds.minAmount ?? '20000');
  const minTransactions = BigInt(thresholds.minTransactions ?? 200);
  const owners = new Groups();
  for (const c of captures) {
    if (c.currency !== 'USD' || c.period.slice(0, 4) !== String(year)) continue;
    const dims = { owner_id: c.owner };
    owners.add(dims, 'gross_amount', c.rental);
    owners.add(dims, `month_${c.period.slice(5, 7)}`, c.rental);
    owners.add(dims, 'transactions', 1n);
  }
  const figures: FigureMap = new Map();
  for (const row of owners.rows.values()) {
    const gross = row.values.get('gross_amount') ?? 0n;
    const transactions = row.values.get('transactions') ?? 0n;
    figures.set(figureKey('gross_amount', row.dims), fromMinor(gross));
    for (let month = 1; month <= 12; month += 1) {
      const key = `month_${String(month).padStart(2, '0')}`;
      figures.set(figureKey(key, row.dims), fromMinor(row.values.get(key) ?? 0n));
    }
    figures.set(figureKey('transactions', row.dims), transactions.toString());
    // Both thresholds strict.
    figures.set(figureKey('reportable', row.dims),
      gross > minAmount && transactions > minTransactions ? 'true' : 'false');
  }
  return figures;
}
