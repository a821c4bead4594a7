// REPORTS.md, Catalogue: every report takes optional `currency` and `market` parameters;
// a restricted run records them and has exactly the figures of the unrestricted run that
// fall in that scope (a figure without a market is outside a market-restricted run). A
// bad value is refused naming the parameter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEventStream } from '../../src/generator/index.ts';
import { testApprover } from '../support/keys.ts';
import { createTestLedger, type TestLedger } from '../support/ledger.ts';
import { runReport } from '../support/reports.ts';

const valuesOf = (figures: ReadonlyArray<{ key: string; dims: Record<string, string>; value: string }>) =>
  figures.map((f) => `${f.key} ${JSON.stringify(f.dims)} ${f.value}`).sort();

describe('report runs restricted to a currency or a market', () => {
  let ledger: TestLedger;
  beforeAll(async () => {
    ledger = await createTestLedger();
    await ledger.publish(generateEventStream({ seed: 5, rentals: 200, month: '2026-10', approve: testApprover }));
    await ledger.project();
  });
  afterAll(async () => ledger.close());

  it('has exactly the unrestricted run\'s figures in that currency, and records the parameter', async () => {
    const all = await runReport(ledger, 'revenue', { period: '2026-10' });
    const cad = await runReport(ledger, 'revenue', { period: '2026-10', currency: 'CAD' });
    const currencies = new Set(all.figures.map((f) => f.dims.currency));
    expect(currencies).toEqual(new Set(['USD', 'CAD']));
    expect(cad.header.params).toEqual({ period: '2026-10', currency: 'CAD' });
    expect(cad.figures.length).toBeGreaterThan(0);
    expect(valuesOf(cad.figures)).toEqual(valuesOf(all.figures.filter((f) => f.dims.currency === 'CAD')));
  });

  it('keeps only figures of that market, and none without a market', async () => {
    const all = await runReport(ledger, 'revenue', { period: '2026-10' });
    const market = all.figures.find((f) => f.dims.market !== undefined)?.dims.market as string;
    const one = await runReport(ledger, 'revenue', { period: '2026-10', market });
    expect(valuesOf(one.figures)).toEqual(valuesOf(all.figures.filter((f) => f.dims.market === market)));
    const balances = await runReport(ledger, 'trial-balance', { as_of: '2026-11-01', market });
    expect(balances.figures).toEqual([]);
    const usdOnly = await runReport(ledger, 'form-1099-k', { year: '2026', currency: 'CAD' });
    expect(usdOnly.figures).toEqual([]);
  });

  it('refuses a currency or market that is not one, naming it', async () => {
    await expect(runReport(ledger, 'revenue', { period: '2026-10', currency: 'EUR' }))
      .rejects.toMatchObject({ code: 'bad_param', field: 'currency' });
    await expect(runReport(ledger, 'revenue', { period: '2026-10', market: 'california' }))
      .rejects.toMatchObject({ code: 'bad_param', field: 'market' });
  });
});
