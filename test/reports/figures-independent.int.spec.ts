// Proves issue 4's first acceptance criterion: every report's figures for a generated
// stream equal values computed independently from the events, to the cent, for two
// months, both currencies and every market; and the worked example of ACCOUNTING.md gives
// the figures it states.
//
// How: a deterministic stream (seed 3, October 2026 bookings with tails into November) is
// published to a fresh ledger and projected; then report runs are created through the
// engine (createRun, the path of `ledger report run`) for revenue, tax-liability and
// gl-detail for October and November, owner-balances and trial-balance as of 1 November
// and 1 December, and form-1099-k for 2026 with the default thresholds and with small
// ones. Each run's stored figures (key + dims → value) are compared, exactly and both
// ways (none missing, none extra), with test/support/independent-figures.ts, which
// replays the event lines by the contract's posting rules in bigint cents and never
// reads the journal or imports the ledger's rules or report code. The worked example runs
// on a ledger of its own with just its two events, its figures checked against the values
// ACCOUNTING.md states; a third ledger holds hand-written cases a generated stream leaves
// at zero (a negative payable, a closing entry with no lines, contra-revenue after
// completion, a negative processor payout), compared whole the same way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEventStream } from '../../src/generator/index.ts';
import { createRun, loadRun, type ReportContext } from '../../src/reports/runs.ts';
import { loadSigningKey } from '../../src/signing/keys.ts';
import {
  computeIndependentFigures, figureKey, type FigureMap, type IndependentFigures,
} from '../support/independent-figures.ts';
import { testApprover } from '../support/keys.ts';
import { createTestLedger, eventLine, type TestLedger } from '../support/ledger.ts';

const now = new Date('2027-01-02T03:04:05Z');
const months = ['2026-10', '2026-11'] as const;
const asOfs = ['2026-11-01', '2026-12-01'] as const;
const allMarkets = ['CAD CA-BC', 'CAD CA-ON', 'USD US-CA', 'USD US-NY', 'USD US-TX'];

type EngineFigure = { key: string; dims: Readonly<Record<string, string>>; value: string };

async function contextFor(ledger: TestLedger): Promise<ReportContext> {
  return {
    pool: ledger.db.pool,
    key: await loadSigningKey(ledger.dataDir, null),
    dataDir: ledger.dataDir,
    lineageBaseUrl: 'http://localhost:8080/api/figures',
  };
}

async function engineFigures(ctx: ReportContext, report: string, params: Record<string, string>) {
  const created = await createRun(ctx, { report, params, requestedBy: 'test', now });
  const stored = await loadRun(ctx.pool, created.run_id);
  return stored.figures as EngineFigure[];
}

/** The engine's figures as `key|dims` → value; a (key, dims) must not appear twice. */
function asMap(figures: readonly EngineFigure[]): FigureMap {
  const map: FigureMap = new Map();
  for (const f of figures) {
    const id = figureKey(f.key, f.dims);
    if (map.has(id)) throw new Error(`figure ${id} appears twice in one run`);
    map.set(id, f.value);
  }
  return map;
}

/** Differences both ways: every expected figure present with its value, nothing extra. */
function differences(label: string, got: FigureMap, expected: FigureMap): string[] {
  const found: string[] = [];
  for (const [id, value] of expected) {
    const actual = got.get(id);
    if (actual === undefined) found.push(`${label} ${id}: missing (expected ${value})`);
    else if (actual !== value) found.push(`${label} ${id}: expected ${value}, got ${actual}`);
  }
  for (const [id, value] of got) {
    if (!expected.has(id)) found.push(`${label} ${id}: extra figure ${value}`);
  }
  return found;
}

function expectSame(label: string, got: FigureMap, expected: FigureMap): void {
  expect(expected.size, `${label}: the independent calculation has figures`).toBeGreaterThan(0);
  const found = differences(label, got, expected);
  expect(found.slice(0, 40), `${found.length} differences`).toEqual([]);
}

function dimsSeen(figures: FigureMap, dim: string): Set<string> {
  const values = new Set<string>();
  for (const id of figures.keys()) {
    const dims = new Map(JSON.parse(id.slice(id.indexOf('|') + 1)) as [string, string][]);
    const value = dims.get(dim);
    if (value !== undefined) values.add(value);
  }
  return values;
}

function marketsSeen(figures: FigureMap): string[] {
  const pairs = new Set<string>();
  for (const id of figures.keys()) {
    const dims = new Map(JSON.parse(id.slice(id.indexOf('|') + 1)) as [string, string][]);
    pairs.add(`${dims.get('currency')} ${dims.get('market')}`);
  }
  return [...pairs].sort();
}

function valueOf(figures: FigureMap, key: string, dims: Record<string, string>): string | undefined {
  return figures.get(figureKey(key, dims));
}

describe('report figures for a generated stream equal an independent calculation from the events', () => {
  let ledger: TestLedger;
  let ctx: ReportContext;
  let independent: IndependentFigures;

  beforeAll(async () => {
    const lines = generateEventStream({ seed: 3, rentals: 1_500, month: '2026-10', approve: testApprover });
    independent = computeIndependentFigures(lines);
    ledger = await createTestLedger();
    await ledger.publish(lines);
    const projected = await ledger.project();
    // A clean stream: every distinct event posted once, every redelivery a duplicate.
    expect(projected).toMatchObject({
      posted: independent.events, duplicates: lines.length - independent.events, quarantined: 0,
    });
    ctx = await contextFor(ledger);
  });
  afterAll(async () => ledger?.close());

  it('the stream covers both currencies and every market', () => {
    expect([...independent.currencies].sort()).toEqual(['CAD', 'USD']);
    expect([...independent.markets].sort()).toEqual(allMarkets);
  });

  it.each(months)('revenue %s', async (period) => {
    const expected = independent.revenue(period);
    expectSame(`revenue ${period}`, asMap(await engineFigures(ctx, 'revenue', { period })), expected);
    expect(marketsSeen(expected)).toEqual(allMarkets);
    for (const market of allMarkets) {
      const [currency = '', code = ''] = market.split(' ');
      // Not a comparison of zeros: every market books, recognises, closes rentals and
      // carries deferred revenue across the month end.
      const carried = period === months[0] ? 'deferred_closing' : 'deferred_opening';
      for (const key of ['gross_booking_value', 'recognized_commission', 'rentals_closed', carried]) {
        expect(valueOf(expected, key, { currency, market: code }), `${key} ${market}`).toMatch(/^[1-9]/);
      }
    }
  });

  it.each(months)('tax-liability %s', async (period) => {
    const expected = independent.taxLiability(period);
    expectSame(`tax-liability ${period}`, asMap(await engineFigures(ctx, 'tax-liability', { period })), expected);
    expect(marketsSeen(expected)).toEqual(allMarkets);
  });

  it.each(asOfs)('owner-balances as of %s', async (asOf) => {
    const expected = independent.ownerBalances(asOf);
    expectSame(`owner-balances ${asOf}`, asMap(await engineFigures(ctx, 'owner-balances', { as_of: asOf })), expected);
    expect([...dimsSeen(expected, 'currency')].sort()).toEqual(['CAD', 'USD']);
    expect(dimsSeen(expected, 'owner_id').size).toBeGreaterThan(50);
  });

  it.each(asOfs)('trial-balance as of %s', async (asOf) => {
    const expected = independent.trialBalance(asOf);
    expectSame(`trial-balance ${asOf}`, asMap(await engineFigures(ctx, 'trial-balance', { as_of: asOf })), expected);
    expect([...dimsSeen(expected, 'currency')].sort()).toEqual(['CAD', 'USD']);
    for (const currency of ['CAD', 'USD']) {
      expect(valueOf(expected, 'total_balance', { currency })).toBe('0.00');
    }
  });

  it.each(months)('gl-detail %s (per-account totals)', async (period) => {
    const expected = independent.glDetail(period);
    expectSame(`gl-detail ${period}`, asMap(await engineFigures(ctx, 'gl-detail', { period })), expected);
    expect([...dimsSeen(expected, 'currency')].sort()).toEqual(['CAD', 'USD']);
  });

  it('form-1099-k 2026 with the default thresholds', async () => {
    const expected = independent.form1099k(2026);
    expectSame('form-1099-k 2026', asMap(await engineFigures(ctx, 'form-1099-k', { year: '2026' })), expected);
    // Both months hold captures; USD owners only.
    const octoberOrNovember = [...expected].filter(([id, v]) => /^month_1[01]\|/.test(id) && v !== '0.00');
    expect(octoberOrNovember.length).toBeGreaterThan(0);
  });

  it('form-1099-k 2026 with small thresholds: some owners reportable, some not, both strict', async () => {
    // Thresholds taken from an owner in the middle of the field, so that the comparison
    // is strict exactly at that owner: equal to both, it is not reportable.
    const owners = [...independent.form1099k(2026)]
      .filter(([id]) => id.startsWith('gross_amount|'))
      .map(([id, gross]) => ({ dims: Object.fromEntries(JSON.parse(id.slice(id.indexOf('|') + 1)) as [string, string][]),
        gross }))
      .sort((a, b) => Number(a.gross) - Number(b.gross));
    const middle = owners[Math.floor(owners.length / 2)]!;
    const all = independent.form1099k(2026);
    const transactions = valueOf(all, 'transactions', middle.dims)!;
    const thresholds = { minAmount: middle.gross, minTransactions: Number(transactions) };
    const expected = independent.form1099k(2026, thresholds);
    const got = asMap(await engineFigures(ctx, 'form-1099-k', {
      year: '2026', min_amount: middle.gross, min_transactions: transactions,
    }));
    expectSame(`form-1099-k 2026 >${middle.gross}/>${transactions}`, got, expected);
    expect(valueOf(expected, 'reportable', middle.dims)).toBe('false');
    const flags = [...expected].filter(([id]) => id.startsWith('reportable|')).map(([, v]) => v);
    expect(flags).toContain('true');
    expect(flags).toContain('false');
  });
});

describe('the worked example of ACCOUNTING.md', () => {
  const usCa = { currency: 'USD', market: 'US-CA' };
  const lines = [
    eventLine('payment.captured', '2026-10-30T10:00:00Z', {
      payment_id: 'pay_we', rental_id: 'rnt_we', driver_id: 'drv_we', owner_id: 'own_we', market: 'US-CA',
      processor: 'stripe', processor_ref: 'ch_we', currency: 'USD', rental_amount: '300.00', commission: '75.00',
      protection_fee: '45.00', service_fee: '20.00', tax: '27.00', deposit: '200.00', processor_fee: '17.63',
      total: '592.00',
    }),
    eventLine('rental.completed', '2026-11-02T09:00:00Z', {
      rental_id: 'rnt_we', driver_id: 'drv_we', owner_id: 'own_we', market: 'US-CA',
    }),
  ];
  let ledger: TestLedger;
  let ctx: ReportContext;
  const independent = computeIndependentFigures(lines);

  beforeAll(async () => {
    ledger = await createTestLedger();
    await ledger.publish(lines);
    expect(await ledger.project()).toMatchObject({ posted: 2, duplicates: 0, quarantined: 0 });
    ctx = await contextFor(ledger);
  });
  afterAll(async () => ledger?.close());

  it('October: 140.00 deferred at month end, no revenue, gross booking value 365.00', async () => {
    const got = asMap(await engineFigures(ctx, 'revenue', { period: '2026-10' }));
    expect(valueOf(got, 'deferred_closing', usCa)).toBe('140.00');
    expect(valueOf(got, 'deferred_added', usCa)).toBe('140.00');
    expect(valueOf(got, 'deferred_opening', usCa)).toBe('0.00');
    expect(valueOf(got, 'gross_booking_value', usCa)).toBe('365.00');
    expect(valueOf(got, 'captured_total', usCa)).toBe('592.00');
    for (const key of ['recognized_commission', 'recognized_service_fees', 'recognized_protection_fees',
      'net_revenue']) {
      expect(valueOf(got, key, usCa), key).toBe('0.00');
    }
    expect(valueOf(got, 'rentals_closed', usCa)).toBe('0');
    expectSame('revenue 2026-10', got, independent.revenue('2026-10'));
  });

  it('November: 140.00 recognised (75.00 / 20.00 / 45.00) from 140.00 deferred at the start', async () => {
    const got = asMap(await engineFigures(ctx, 'revenue', { period: '2026-11' }));
    expect(valueOf(got, 'recognized_commission', usCa)).toBe('75.00');
    expect(valueOf(got, 'recognized_service_fees', usCa)).toBe('20.00');
    expect(valueOf(got, 'recognized_protection_fees', usCa)).toBe('45.00');
    expect(valueOf(got, 'net_revenue', usCa)).toBe('140.00');
    expect(valueOf(got, 'deferred_opening', usCa)).toBe('140.00');
    expect(valueOf(got, 'deferred_recognized', usCa)).toBe('140.00');
    expect(valueOf(got, 'deferred_closing', usCa)).toBe('0.00');
    expect(valueOf(got, 'gross_booking_value', usCa)).toBe('0.00');
    expect(valueOf(got, 'rentals_closed', usCa)).toBe('1');
    expectSame('revenue 2026-11', got, independent.revenue('2026-11'));
  });

  it('the trial balance at the end of each month and the owner moving from pending to payable', async () => {
    for (const asOf of ['2026-11-01', '2026-12-01']) {
      expectSame(`trial-balance ${asOf}`, asMap(await engineFigures(ctx, 'trial-balance', { as_of: asOf })),
        independent.trialBalance(asOf));
    }
    const october = asMap(await engineFigures(ctx, 'owner-balances', { as_of: '2026-11-01' }));
    const november = asMap(await engineFigures(ctx, 'owner-balances', { as_of: '2026-12-01' }));
    const owner = { currency: 'USD', owner_id: 'own_we' };
    expect([valueOf(october, 'pending', owner), valueOf(october, 'payable', owner)]).toEqual(['225.00', '0.00']);
    expect([valueOf(november, 'pending', owner), valueOf(november, 'payable', owner)]).toEqual(['0.00', '225.00']);
    expectSame('owner-balances 2026-11-01', october, independent.ownerBalances('2026-11-01'));
    expectSame('owner-balances 2026-12-01', november, independent.ownerBalances('2026-12-01'));
  });
});

// What a generated stream leaves at zero or never takes: an owner paid out before any
// rental closed (payable below zero), a rental refunded in full and then cancelled (an
// entry with no lines that still counts as closed), an extension summed at completion, a
// refund after completion (contra-revenue), an open refund at November's first instant of an October capture, a dispute,
// deposits, a tax remittance and adjustments on 2200 and 2010. Every report, compared
// whole with the independent calculation.
describe('hand-written edge cases, compared whole', () => {
  const capture = (at: string, id: string, rental: string, owner: string, market: string, currency: string,
    amounts: [string, string, string, string, string, string, string, string]) =>
    eventLine('payment.captured', at, {
      payment_id: id, rental_id: rental, driver_id: `drv_${rental}`, owner_id: owner, market,
      processor: 'stripe', processor_ref: `ch_${id}`, currency, rental_amount: amounts[0], commission: amounts[1],
      protection_fee: amounts[2], service_fee: amounts[3], tax: amounts[4], deposit: amounts[5],
      processor_fee: amounts[6], total: amounts[7],
    });
  const refund = (at: string, id: string, payment: string, rental: string, currency: string,
    amounts: [string, string, string, string, string, string]) =>
    eventLine('payment.refunded', at, {
      refund_id: id, payment_id: payment, rental_id: rental, processor_ref: `re_${id}`, currency,
      rental_amount: amounts[0], commission: amounts[1], protection_fee: amounts[2], service_fee: amounts[3],
      tax: amounts[4], total: amounts[5],
    });
  const close = (type: string, at: string, rental: string, owner: string, market: string) =>
    eventLine(type, at, { rental_id: rental, driver_id: `drv_${rental}`, owner_id: owner, market });
  const lines = [
    // An owner paid before anything is payable: negative payable at both month ends.
    eventLine('payout.paid', '2026-10-02T08:00:00Z', {
      payout_id: 'pyt_early', owner_id: 'own_neg', processor: 'stripe', processor_ref: 'tr_early', currency: 'CAD',
      amount: '50.00' }),
    // Refunded in full while open, then cancelled: nothing left to recognise.
    capture('2026-10-03T10:00:00Z', 'pay_full', 'rnt_full', 'own_a', 'CA-ON', 'CAD',
      ['100.00', '20.00', '10.00', '10.00', '15.60', '0.00', '3.85', '135.60']),
    refund('2026-10-04T10:00:00Z', 'rfd_full', 'pay_full', 'rnt_full', 'CAD',
      ['100.00', '20.00', '10.00', '10.00', '15.60', '135.60']),
    close('rental.cancelled', '2026-10-04T11:00:00Z', 'rnt_full', 'own_a', 'CA-ON'),
    // An extension: two captures, completed in November, then a refund after completion.
    capture('2026-10-28T10:00:00Z', 'pay_ext1', 'rnt_ext', 'own_b', 'US-TX', 'USD',
      ['200.00', '50.00', '30.00', '20.00', '15.63', '100.00', '11.00', '365.63']),
    capture('2026-10-31T23:59:59.999Z', 'pay_ext2', 'rnt_ext', 'own_b', 'US-TX', 'USD',
      ['100.00', '25.00', '15.00', '10.00', '7.81', '0.00', '4.00', '132.81']),
    refund('2026-11-01T00:00:00Z', 'rfd_ext1', 'pay_ext2', 'rnt_ext', 'USD',
      ['40.00', '10.00', '5.00', '4.00', '3.05', '52.05']),
    close('rental.completed', '2026-11-03T09:00:00Z', 'rnt_ext', 'own_b', 'US-TX'),
    refund('2026-11-05T09:00:00Z', 'rfd_ext2', 'pay_ext1', 'rnt_ext', 'USD',
      ['20.00', '5.00', '3.00', '2.00', '1.56', '26.56']),
    eventLine('deposit.applied', '2026-11-04T09:00:00Z', {
      rental_id: 'rnt_ext', driver_id: 'drv_rnt_ext', owner_id: 'own_b', claim_id: 'clm_1', currency: 'USD',
      amount: '60.00' }),
    eventLine('deposit.released', '2026-11-04T10:00:00Z', {
      rental_id: 'rnt_ext', driver_id: 'drv_rnt_ext', processor_ref: 're_dep', currency: 'USD', amount: '40.00' }),
    eventLine('dispute.opened', '2026-11-06T09:00:00Z', {
      dispute_id: 'dsp_1', payment_id: 'pay_ext1', rental_id: 'rnt_ext', processor_ref: 'dp_1', currency: 'USD',
      amount: '100.00', dispute_fee: '15.00' }),
    eventLine('dispute.won', '2026-11-20T09:00:00Z', {
      dispute_id: 'dsp_1', rental_id: 'rnt_ext', processor_ref: 'dp_1', currency: 'USD', amount: '100.00' }),
    eventLine('payout.paid', '2026-11-10T08:00:00Z', {
      payout_id: 'pyt_b', owner_id: 'own_b', processor: 'stripe', processor_ref: 'tr_b', currency: 'USD',
      amount: '300.00' }),
    eventLine('payout.failed', '2026-11-11T08:00:00Z', {
      payout_id: 'pyt_b', owner_id: 'own_b', currency: 'USD', amount: '300.00', failure_code: 'account_closed' }),
    eventLine('tax.remitted', '2026-11-15T12:00:00Z', {
      remittance_id: 'rmt_1', market: 'US-TX', currency: 'USD', amount: '15.00', period: '2026-10' }),
    eventLine('processor.payout', '2026-11-16T12:00:00Z', {
      processor_payout_id: 'po_neg', processor: 'stripe', currency: 'USD', amount: '-12.34',
      arrival_date: '2026-11-17' }),
    eventLine('adjustment.posted', '2026-11-17T12:00:00Z', testApprover({
      adjustment_id: 'adj_tax', reason: 'under-collected tax', requested_by: 'ops.a', approved_by: 'fin.b',
      currency: 'USD', lines: [
        { account: '5900', side: 'debit', amount: '1.23' },
        { account: '2200', side: 'credit', amount: '1.23', dims: { market: 'US-TX' } },
      ] }, 'apv_tax')),
    eventLine('adjustment.posted', '2026-11-18T12:00:00Z', testApprover({
      adjustment_id: 'adj_neg', reason: 'reverse a goodwill credit', requested_by: 'ops.a', approved_by: 'fin.b',
      currency: 'CAD', lines: [
        { account: '2010', side: 'debit', amount: '5.00', dims: { owner_id: 'own_neg' } },
        { account: '5900', side: 'credit', amount: '5.00', dims: {} },
      ] }, 'apv_neg')),
  ];
  let ledger: TestLedger;
  let ctx: ReportContext;
  const independent = computeIndependentFigures(lines);

  beforeAll(async () => {
    ledger = await createTestLedger();
    await ledger.publish(lines);
    expect(await ledger.project()).toMatchObject({ posted: lines.length, duplicates: 0, quarantined: 0 });
    ctx = await contextFor(ledger);
  });
  afterAll(async () => ledger?.close());

  it('every report equals the independent calculation', async () => {
    for (const period of months) {
      expectSame(`revenue ${period}`, asMap(await engineFigures(ctx, 'revenue', { period })),
        independent.revenue(period));
      expectSame(`tax-liability ${period}`, asMap(await engineFigures(ctx, 'tax-liability', { period })),
        independent.taxLiability(period));
      expectSame(`gl-detail ${period}`, asMap(await engineFigures(ctx, 'gl-detail', { period })),
        independent.glDetail(period));
    }
    for (const asOf of asOfs) {
      expectSame(`owner-balances ${asOf}`, asMap(await engineFigures(ctx, 'owner-balances', { as_of: asOf })),
        independent.ownerBalances(asOf));
      expectSame(`trial-balance ${asOf}`, asMap(await engineFigures(ctx, 'trial-balance', { as_of: asOf })),
        independent.trialBalance(asOf));
    }
    expectSame('form-1099-k 2026', asMap(await engineFigures(ctx, 'form-1099-k', {
      year: '2026', min_amount: '299.99', min_transactions: '1' })), independent.form1099k(2026,
      { minAmount: '299.99', minTransactions: 1 }));
  });

  it('the calculation itself gives what the contract states for these cases', () => {
    const cad = { currency: 'CAD', market: 'CA-ON' };
    const october = independent.revenue('2026-10');
    expect(valueOf(october, 'rentals_closed', cad)).toBe('1');
    expect(valueOf(october, 'net_revenue', cad)).toBe('0.00');
    expect(valueOf(october, 'deferred_refunded', cad)).toBe('40.00');
    const tx = { currency: 'USD', market: 'US-TX' };
    // The second capture, one millisecond before midnight, is October's.
    expect(valueOf(october, 'gross_booking_value', tx)).toBe('375.00');
    const november = independent.revenue('2026-11');
    // 100.00 + 50.00 deferred by the two captures, less the open refund's 19.00, is
    // recognised at completion; the refund after completion is contra-revenue (10.00).
    expect(valueOf(november, 'deferred_refunded', tx)).toBe('19.00');
    expect(valueOf(november, 'deferred_recognized', tx)).toBe('131.00');
    expect(valueOf(november, 'refunds_commission', tx)).toBe('5.00');
    expect(valueOf(november, 'net_revenue', tx)).toBe('121.00');
    for (const asOf of asOfs) {
      expect(valueOf(independent.ownerBalances(asOf), 'owners_negative_payable', { currency: 'CAD' })).toBe('1');
    }
    expect(valueOf(independent.ownerBalances('2026-12-01'), 'payable', { currency: 'CAD', owner_id: 'own_neg' }))
      .toBe('-55.00');
    const form = independent.form1099k(2026, { minAmount: '299.99', minTransactions: 1 });
    expect(valueOf(form, 'gross_amount', { owner_id: 'own_b' })).toBe('300.00');
    expect(valueOf(form, 'reportable', { owner_id: 'own_b' })).toBe('true');
    expect(valueOf(form, 'gross_amount', { owner_id: 'own_a' })).toBeUndefined();
  });
});
