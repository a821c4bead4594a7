// A generated stream of over 100,000 events projects to a journal whose trial balance is
// zero per currency; publishing the same stream again posts nothing and counts every
// message of the second publication as a duplicate delivery of what was posted before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEventStream } from '../../src/generator/index.ts';
import { verifyLedger } from '../../src/integrity/verify.ts';
import { testApprover } from '../support/keys.ts';
import { runReport } from '../support/reports.ts';
import { createTestLedger, type TestLedger } from '../support/ledger.ts';

const lines = generateEventStream({ seed: 5, rentals: 12_000, month: '2026-10', approve: testApprover });

describe('a 100,000-event stream, then the same stream again', () => {
  let ledger: TestLedger;
  beforeAll(async () => {
    ledger = await createTestLedger({ partitions: 6 });
  });
  afterAll(async () => ledger.close());

  it('posts every event once and balances to zero per currency', async () => {
    expect(lines.length).toBeGreaterThanOrEqual(100_000);
    await ledger.publish(lines);
    const first = await ledger.project();
    expect(first.quarantined).toBe(0);
    expect(first.posted + first.duplicates).toBe(lines.length);
    const distinctIds = new Set(lines.map((l) => (JSON.parse(l) as { event_id: string }).event_id.toLowerCase()));
    expect(first.posted).toBe(distinctIds.size);
    const run = await runReport(ledger, 'trial-balance', { as_of: '2027-01-01' });
    const totals = run.figures.filter((f) => f.key === 'total_balance');
    expect(totals.map((f) => `${f.dims.currency} ${f.value}`).sort()).toEqual(['CAD 0.00', 'USD 0.00']);
    const debits = run.figures.filter((f) => f.key === 'total_debits');
    expect(debits.every((f) => f.value !== '0.00')).toBe(true);
  });

  it('counts every message of the second publication as a duplicate and posts nothing', async () => {
    const before = await ledger.db.pool.query('SELECT count(*)::int AS n FROM ledger.journal_lines');
    await ledger.publish(lines);
    const second = await ledger.project();
    expect(second).toMatchObject({ posted: 0, duplicates: lines.length, quarantined: 0 });
    const after = await ledger.db.pool.query('SELECT count(*)::int AS n FROM ledger.journal_lines');
    expect(after.rows[0].n).toBe(before.rows[0].n);
    const report = await verifyLedger(ledger.db.pool);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  });
});
