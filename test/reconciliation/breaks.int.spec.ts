// Breaks carried from run to run: a charge the processor file lacks is a break opened on
// day 1 that shows age 2 on day 3 under the same id; resolving it records who, when and why,
// once and for good (a second resolution and any edit are refused), and it stays resolved
// on re-runs and later days; when the row turns up it matches, and if it goes missing again
// that is a new, open break. Real PostgreSQL, a hand-written journal, small files.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveBreak } from '../../src/reconciliation/store.ts';
import { runReconciliation } from '../../src/reconciliation/run.ts';
import { createTestLedger, type TestLedger } from '../support/ledger.ts';
import { bankHeader, capture, chargeRow, processorHeader } from './support.ts';

describe('breaks across runs', () => {
  let ledger: TestLedger;
  let dir: string;
  let files = 0;

  beforeAll(async () => {
    ledger = await createTestLedger({ partitions: 2 });
    await ledger.publish([capture(1, '2026-10-01T10:00:00Z'), capture(2, '2026-10-01T11:00:00Z')]);
    await ledger.project();
    dir = await mkdtemp(path.join(os.tmpdir(), 'recon-breaks-'));
  });
  afterAll(async () => {
    await ledger.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function run(date: string, rows: string[]) {
    files += 1;
    const processor = path.join(dir, `processor-${files}.csv`);
    const bank = path.join(dir, `bank-${files}.csv`);
    await writeFile(processor, [processorHeader, ...rows, ''].join('\n'));
    await writeFile(bank, `${bankHeader}\n`);
    return runReconciliation(ledger.db.pool, {
      date, processor: { path: processor, format: 'csv' }, bank: { path: bank, format: 'csv' }, requestedBy: 'test',
      graceDays: 2, toleranceDays: 3, now: () => new Date(`${date}T23:30:00Z`),
    });
  }

  it('keeps a break open on day 1 under the same id, aged 2 on day 3', async () => {
    const day1 = await run('2026-10-10', [chargeRow(1)]);
    expect(day1.breaks).toHaveLength(1);
    const opened = day1.breaks[0]!;
    expect(opened).toMatchObject({ outcome: 'missing_externally', reference: 'ch_2', age_days: 0,
      opened_on: '2026-10-10', status: 'open' });
    expect(opened.ledger).toMatchObject({ event_type: 'payment.captured', topic: 'marketplace.events' });
    const day2 = await run('2026-10-11', [chargeRow(1)]);
    expect(day2.breaks.map((b) => [b.break_id, b.age_days])).toEqual([[opened.break_id, 1]]);
    const day3 = await run('2026-10-12', [chargeRow(1)]);
    expect(day3.breaks.map((b) => [b.break_id, b.age_days, b.opened_on])).toEqual([[opened.break_id, 2, '2026-10-10']]);
    expect(day3.ok).toBe(false);
  });

  it('records a resolution (who, when, why) once, never edited, and it holds on re-runs and later days', async () => {
    const day3 = await run('2026-10-12', [chargeRow(1)]);
    const breakId = day3.breaks[0]!.break_id;
    const resolution = await resolveBreak(ledger.db.pool, { breakId, resolvedBy: 'fin.controller.dana',
      reason: 'Refunded outside the processor; confirmed with support', now: new Date('2026-10-13T09:00:00Z') });
    expect(resolution).toEqual({ resolved_by: 'fin.controller.dana', resolved_at: '2026-10-13T09:00:00Z',
      reason: 'Refunded outside the processor; confirmed with support' });
    await expect(resolveBreak(ledger.db.pool, { breakId, resolvedBy: 'someone.else', reason: 'again',
      now: new Date() })).rejects.toThrow(/already resolved/);
    await expect(resolveBreak(ledger.db.pool, { breakId, resolvedBy: 'x', reason: '  ', now: new Date() }))
      .rejects.toThrow(/needs a reason/);
    await expect(ledger.db.pool.query(`UPDATE ledger.reconciliation_resolutions SET reason = 'edited'`))
      .rejects.toThrow(/permission denied/);
    await expect(ledger.db.adminPool.query(`DELETE FROM ledger.reconciliation_resolutions`))
      .rejects.toThrow(/append-only/);

    const rerun = await run('2026-10-12', [chargeRow(1)]);
    expect(rerun.breaks).toMatchObject([{ break_id: breakId, status: 'resolved', resolution, age_days: 2 }]);
    expect(rerun.breaks_open).toBe(0);
    expect(rerun.ok).toBe(true);
    const day4 = await run('2026-10-13', [chargeRow(1)]);
    expect(day4.breaks).toMatchObject([{ break_id: breakId, status: 'resolved', age_days: 3 }]);
  });

  it('closes the break when the row turns up; a later absence is a new, open break', async () => {
    const matched = await run('2026-10-14', [chargeRow(1), chargeRow(2)]);
    expect(matched.breaks).toEqual([]);
    const again = await run('2026-10-15', [chargeRow(1)]);
    expect(again.breaks).toMatchObject([{ reference: 'ch_2', status: 'open', age_days: 0, opened_on: '2026-10-15' }]);
    const earlier = await ledger.db.pool.query<{ ids: string }>(
      `SELECT count(DISTINCT break_id) AS ids FROM ledger.reconciliation_items WHERE reference = 'ch_2'`);
    expect(earlier.rows[0]?.ids).toBe('2');
  });

  it('refuses to resolve a break that does not exist', async () => {
    await expect(resolveBreak(ledger.db.pool, { breakId: 'brk_000000000000000000000000', resolvedBy: 'x',
      reason: 'y', now: new Date() })).rejects.toThrow(/no reconciliation break/);
  });
});
