// The nightly reconciliation runs each night once, in the database's own terms: a missed
// stretch is caught up oldest first from the last night run; two catch-ups at once (two
// services, or a leader that lost its lock finishing while the next one starts) run each
// date once between them; and a second run of a date by the job is refused by the database
// (ledger.nightly_runs, claimed in the run's own transaction), whoever asks.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catchUpNightly, jobIdentity, runNightlyReconciliation } from '../../src/reconciliation/nightly.ts';
import { createTestLedger, type TestLedger } from '../support/ledger.ts';

describe('the nightly reconciliation, once per night', () => {
  let ledger: TestLedger;
  let dataDir: string;
  let config: { dataDir: string; reconInboxDir: string; reconTimeUtc: string; reconGraceDays: number;
    reconToleranceDays: number; signingKeyPem: null; trustedKeyFiles: string[] };
  const said: string[] = [];
  const say = (line: string) => said.push(line);
  const runsPerDate = async () => (await ledger.db.pool.query<{ run_date: string; runs: number }>(
    `SELECT run_date::text, count(*)::int AS runs FROM ledger.reconciliation_runs WHERE requested_by = $1
      GROUP BY run_date ORDER BY run_date`, [jobIdentity])).rows.map((r) => [r.run_date, r.runs]);

  beforeAll(async () => {
    ledger = await createTestLedger({ partitions: 1 });
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'nightly-once-'));
    config = { dataDir, reconInboxDir: path.join(dataDir, 'inbox'), reconTimeUtc: '02:00', reconGraceDays: 2,
      reconToleranceDays: 3, signingKeyPem: null, trustedKeyFiles: [] };
    await mkdir(config.reconInboxDir, { recursive: true });
  });
  afterAll(async () => {
    await ledger.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('catches up the nights missed since the last one run, oldest first', async () => {
    await runNightlyReconciliation(ledger.db.pool, config, new Date('2026-10-06T02:00:00Z'));
    const made = await catchUpNightly(ledger.db.pool, config, new Date('2026-10-09T03:00:00Z'), say);
    expect(made.map((run) => run.date)).toEqual(['2026-10-06', '2026-10-07', '2026-10-08']);
    expect(await runsPerDate()).toEqual([['2026-10-05', 1], ['2026-10-06', 1], ['2026-10-07', 1], ['2026-10-08', 1]]);
    expect(await catchUpNightly(ledger.db.pool, config, new Date('2026-10-09T03:00:00Z'), say)).toEqual([]);
  });

  it('runs each night once between two catch-ups at once', async () => {
    const now = new Date('2026-10-12T02:30:00Z');
    const [first, second] = await Promise.all([catchUpNightly(ledger.db.pool, config, now, say),
      catchUpNightly(ledger.db.pool, config, now, say)]);
    expect([...first, ...second].map((run) => run.date).sort()).toEqual(['2026-10-09', '2026-10-10', '2026-10-11']);
    expect((await runsPerDate()).slice(-3)).toEqual([['2026-10-09', 1], ['2026-10-10', 1], ['2026-10-11', 1]]);
  });

  it('refuses a second run of a night by the job in the database itself', async () => {
    await expect(runNightlyReconciliation(ledger.db.pool, config, new Date('2026-10-11T02:00:00Z')))
      .rejects.toMatchObject({ code: '23505' });
    expect((await runsPerDate()).filter(([date]) => date === '2026-10-10')).toEqual([['2026-10-10', 1]]);
  });
});
