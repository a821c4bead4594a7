// The integrity checks of every run: an open quarantined record and an owner with a
// negative payable are failed checks naming them; a journal entry deleted by a superuser
// with the triggers disabled, and a hole in a partition's offsets, are reported by the
// hash-chain and log-completeness checks; a line whose dimensions no longer fit its
// account (a superuser dropped the CHECK) is reported too. Each failure fails the run. A line
// changed before the last signed checkpoint is found too: no run trusts what an earlier one saw.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCheckpoint } from '../../src/integrity/checkpoints.ts';
import type { RunRecord } from '../../src/reconciliation/record.ts';
import { runReconciliation } from '../../src/reconciliation/run.ts';
import { loadSigningKey } from '../../src/signing/keys.ts';
import { createTestLedger, eventLine, type TestLedger } from '../support/ledger.ts';
import { bankHeader, capture, processorHeader } from './support.ts';

const failed = (run: RunRecord) => Object.fromEntries(run.checks.filter((c) => !c.ok).map((c) => [c.name, c.detail]));

describe('integrity checks in a run', () => {
  let ledger: TestLedger;
  let dir: string;

  beforeAll(async () => {
    ledger = await createTestLedger({ partitions: 1 });
    const captures = Array.from({ length: 6 }, (_, n) => capture(n + 1, `2026-10-0${n + 1}T10:00:00Z`));
    const payout = eventLine('payout.paid', '2026-10-08T10:00:00Z', { payout_id: 'pyt_1', owner_id: 'o_owes',
      processor: 'stripe', processor_ref: 'tr_1', currency: 'USD', amount: '40.00' });
    await ledger.publish([...captures, payout, '{"not": "an event"']);
    await ledger.project();
    dir = await mkdtemp(path.join(os.tmpdir(), 'recon-integrity-'));
    await writeFile(path.join(dir, 'processor.csv'), `${processorHeader}\n`);
    await writeFile(path.join(dir, 'bank.csv'), `${bankHeader}\n`);
  });
  afterAll(async () => {
    await ledger.close();
    await rm(dir, { recursive: true, force: true });
  });

  const run = () => runReconciliation(ledger.db.pool, {
    date: '2026-10-31', processor: { path: path.join(dir, 'processor.csv'), format: 'csv' },
    bank: { path: path.join(dir, 'bank.csv'), format: 'csv' }, requestedBy: 'test', graceDays: 2, toleranceDays: 3,
    now: () => new Date('2026-11-01T02:00:00Z'),
  });

  it('fails the run for an open quarantined record and a negative owner payable, naming them', async () => {
    const result = await run();
    expect(Object.keys(failed(result)).sort()).toEqual(['open_quarantine', 'owners_negative_payable']);
    expect(failed(result).open_quarantine).toMatch(/marketplace\.events\/0@7 quarantined \(malformed_json\)/);
    expect(failed(result).owners_negative_payable).toBe('owner o_owes payable -4000 minor units of USD');
    expect(result.ok).toBe(false);
  });

  it('finds a line changed before the last checkpoint: every run walks every chain from its start', async () => {
    const key = await loadSigningKey(ledger.dataDir, null);
    await writeCheckpoint(ledger.db.pool, key, ledger.dataDir, new Date('2026-10-31T00:00:00Z'));
    const first = await ledger.db.adminPool.query<{ entry_id: string }>(
      'SELECT entry_id FROM ledger.journal_entries ORDER BY chain_seq LIMIT 1');
    const entryId = first.rows[0]!.entry_id;
    const shift = (delta: number) => superuser(ledger, `UPDATE ledger.journal_lines
      SET amount_minor = amount_minor + ${delta} WHERE entry_id = '${entryId}' AND line_no IN (1, 3)`);
    await shift(100);
    const changed = await run();
    expect(failed(changed).hash_chains).toMatch(new RegExp(`entry ${entryId} .*: content does not match its hash`));
    expect(changed.checks.find((c) => c.name === 'checkpoints')?.ok).toBe(true); // the stored hashes still agree
    await shift(-100);
    const restored = await run();
    expect(failed(restored).hash_chains).toBeUndefined();
    expect(restored.checks.find((c) => c.name === 'hash_chains')?.detail)
      .toBe('7 entries in 1 chains recomputed, each chain in full from genesis');
  });

  it('reports a journal entry deleted by a superuser with the triggers disabled', async () => {
    const target = await ledger.db.adminPool.query<{ entry_id: string }>(
      `SELECT entry_id FROM ledger.journal_entries ORDER BY chain_seq OFFSET 2 LIMIT 1`);
    const entryId = target.rows[0]!.entry_id;
    await superuser(ledger, `DELETE FROM ledger.journal_lines WHERE entry_id = '${entryId}';
      DELETE FROM ledger.journal_entries WHERE entry_id = '${entryId}'`);
    const result = await run();
    expect(failed(result).hash_chains).toMatch(/chain entries 3\.\.3 are missing/);
    expect(failed(result).log_completeness).toMatch(/7 messages posted but 6 entries/);
  });

  it('reports a hole in the offsets: a message gone from the archive', async () => {
    await superuser(ledger, `DELETE FROM ledger.quarantine WHERE "offset" = 7;
      DELETE FROM ledger.raw_messages WHERE "offset" = 7`);
    const result = await run();
    expect(failed(result).log_completeness).toMatch(/offsets not accounted for: 7/);
    expect(failed(result).open_quarantine).toBeUndefined();
  });

  it('reports a line whose dimensions do not fit its account once the CHECK is gone', async () => {
    await superuser(ledger, `ALTER TABLE ledger.journal_lines DROP CONSTRAINT line_account_dimensions;
      UPDATE ledger.journal_lines SET market = 'US-CA' WHERE account = '1100'
        AND entry_id = (SELECT min(entry_id::text)::uuid FROM ledger.journal_lines WHERE account = '1100')`);
    const result = await run();
    expect(failed(result).accounts_and_dimensions).toMatch(/line \d+: account 1100 without exactly its dimensions/);
  });
});

async function superuser(ledger: TestLedger, sql: string): Promise<void> {
  const tables = ['journal_lines', 'journal_entries', 'raw_messages', 'quarantine'];
  const client = await ledger.db.adminPool.connect();
  try {
    await client.query('BEGIN');
    for (const t of tables) await client.query(`ALTER TABLE ledger.${t} DISABLE TRIGGER ALL`);
    await client.query(sql);
    for (const t of tables) {
      await client.query(`ALTER TABLE ledger.${t} ENABLE TRIGGER ALL;
        ALTER TABLE ledger.${t} ENABLE ALWAYS TRIGGER append_only_rows;
        ALTER TABLE ledger.${t} ENABLE ALWAYS TRIGGER append_only_truncate`);
    }
    await client.query('ALTER TABLE ledger.journal_lines ENABLE ALWAYS TRIGGER journal_lines_checked');
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}
