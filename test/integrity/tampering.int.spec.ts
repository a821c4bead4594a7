// Tampering is refused where it can be and caught where it cannot. The service's role
// cannot UPDATE, DELETE or TRUNCATE the journal; nor can the owner while the triggers are
// on. A superuser who disables the triggers can change rows, and `ledger verify` then
// fails, naming the entry. A superuser who rewrites a whole chain consistently (hashes
// recomputed, database checkpoints re-signed) is caught by the exported checkpoint files
// an auditor holds. Lines a superuser adds without an entry, and entries left on a partition
// whose chain head was removed, are named too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpointFiles, writeCheckpoint } from '../../src/integrity/checkpoints.ts';
import { readChainPage, verifyLedger } from '../../src/integrity/verify.ts';
import { entryHash, genesisHash } from '../../src/ledger/entry.ts';
import { fromMinor } from '../../src/ledger/money.ts';
import { loadSigningKey } from '../../src/signing/keys.ts';
import { captureLine, createTestLedger, type TestLedger } from '../support/ledger.ts';
import path from 'node:path';

async function failedChecks(ledger: TestLedger, withFiles = false) {
  const files = withFiles
    ? (await readCheckpointFiles(path.join(ledger.dataDir, 'checkpoints'))).map((f) => f.file) : undefined;
  const report = await verifyLedger(ledger.db.pool, files === undefined ? {} : { exportedCheckpoints: files });
  return report.checks.filter((c) => !c.ok);
}

describe('the journal against tampering', () => {
  let ledger: TestLedger;
  beforeAll(async () => {
    ledger = await createTestLedger({ partitions: 2 });
    await ledger.publish(Array.from({ length: 40 }, (_, n) => captureLine(n)));
    await ledger.project();
    const key = await loadSigningKey(ledger.dataDir, null);
    await writeCheckpoint(ledger.db.pool, key, ledger.dataDir, new Date('2026-11-30T00:00:00Z'));
  });
  afterAll(async () => ledger.close());

  it('refuses UPDATE, DELETE and TRUNCATE by the service role', async () => {
    const { pool } = ledger.db;
    await expect(pool.query('UPDATE ledger.journal_lines SET amount_minor = 1')).rejects.toThrow(/permission denied/);
    await expect(pool.query('DELETE FROM ledger.journal_entries')).rejects.toThrow(/permission denied/);
    await expect(pool.query('TRUNCATE ledger.raw_messages')).rejects.toThrow(/permission denied/);
    await expect(pool.query('DELETE FROM ledger.quarantine')).rejects.toThrow(/permission denied/);
  });

  it('refuses them for the owner too while the triggers are on', async () => {
    const { adminPool } = ledger.db;
    await expect(adminPool.query('UPDATE ledger.journal_lines SET amount_minor = 1'))
      .rejects.toThrow(/append-only/);
    await expect(adminPool.query('DELETE FROM ledger.journal_entries')).rejects.toThrow(/append-only/);
    await expect(adminPool.query('TRUNCATE ledger.journal_lines')).rejects.toThrow(/append-only/);
    await expect(adminPool.query('TRUNCATE ledger.journal_lines_2026_10')).rejects.toThrow(/append-only/);
    await expect(adminPool.query(`SET session_replication_role = replica;
      UPDATE ledger.journal_lines SET amount_minor = 1`)).rejects.toThrow(/append-only/);
    await adminPool.query('SET session_replication_role = origin');
    expect(await failedChecks(ledger)).toEqual([]);
  });

  it('names the entry whose line a superuser changed with triggers disabled', async () => {
    const target = await ledger.db.adminPool.query<{ entry_id: string; event_id: string }>(
      `SELECT entry_id, event_id FROM ledger.journal_entries ORDER BY topic, partition, chain_seq OFFSET 3 LIMIT 1`);
    const { entry_id: entryId } = target.rows[0]!;
    await superuser(ledger, `UPDATE ledger.journal_lines SET amount_minor = amount_minor + 100
       WHERE entry_id = '${entryId}' AND line_no IN (1, 3)`);
    const failed = await failedChecks(ledger);
    expect(failed.map((c) => c.name)).toContain('hash_chains');
    expect(failed.find((c) => c.name === 'hash_chains')?.detail).toContain(entryId);
    await superuser(ledger, `UPDATE ledger.journal_lines SET amount_minor = amount_minor - 100
       WHERE entry_id = '${entryId}' AND line_no IN (1, 3)`);
    expect(await failedChecks(ledger)).toEqual([]);
  });

  it('names a deleted entry, and the hole it leaves in the log', async () => {
    const target = await ledger.db.adminPool.query<{ entry_id: string; topic: string; partition: number; offset: string }>(
      `SELECT entry_id, topic, partition, "offset" FROM ledger.journal_entries
        ORDER BY topic, partition, chain_seq OFFSET 5 LIMIT 1`);
    const row = target.rows[0]!;
    const saved = await ledger.db.adminPool.query(`SELECT * FROM ledger.journal_lines WHERE entry_id = $1`, [row.entry_id]);
    const savedEntry = await ledger.db.adminPool.query(`SELECT * FROM ledger.journal_entries WHERE entry_id = $1`, [row.entry_id]);
    await superuser(ledger, `DELETE FROM ledger.journal_lines WHERE entry_id = '${row.entry_id}';
      DELETE FROM ledger.journal_entries WHERE entry_id = '${row.entry_id}'`);
    const failed = await failedChecks(ledger);
    const names = failed.map((c) => c.name);
    expect(names).toEqual(['hash_chains', 'log_completeness']);
    expect(failed.find((c) => c.name === 'hash_chains')?.detail).toMatch(/missing/);
    expect(failed.find((c) => c.name === 'log_completeness')?.detail)
      .toContain(`${row.topic}/${row.partition}`);
    await restoreRows(ledger, 'journal_entries', savedEntry.rows);
    await restoreRows(ledger, 'journal_lines', saved.rows);
    expect(await failedChecks(ledger)).toEqual([]);
  });

  it('names lines a superuser added that belong to no entry', async () => {
    const orphan = '00000000-0000-8000-8000-000000000001';
    await superuser(ledger, `INSERT INTO ledger.journal_lines (entry_id, line_no, booked_period, effective_at,
        account, side, amount_minor, currency) VALUES
      ('${orphan}', 1, '2026-10-01', '2026-10-05T10:00:00Z', '5900', 'debit', 700, 'USD'),
      ('${orphan}', 2, '2026-10-01', '2026-10-05T10:00:00Z', '5900', 'credit', 700, 'USD')`);
    const failed = await failedChecks(ledger);
    expect(failed.map((c) => c.name)).toEqual(['hash_chains']);
    expect(failed[0]?.detail).toBe(`lines of entry ${orphan} (line 1 first) belong to no journal entry`);
    await superuser(ledger, `DELETE FROM ledger.journal_lines WHERE entry_id = '${orphan}'`);
    expect(await failedChecks(ledger)).toEqual([]);
  });

  it('names entries on a partition whose chain head is gone', async () => {
    const { adminPool } = ledger.db;
    const head = await adminPool.query<{ topic: string; partition: number }>(
      'SELECT topic, partition FROM ledger.log_partitions ORDER BY topic, partition DESC LIMIT 1');
    const { topic, partition } = head.rows[0]!;
    // log_partitions is the projector's position, not an append-only table: the owner may do this.
    const saved = await adminPool.query('SELECT * FROM ledger.log_partitions WHERE topic = $1 AND partition = $2',
      [topic, partition]);
    await adminPool.query('DELETE FROM ledger.log_partitions WHERE topic = $1 AND partition = $2', [topic, partition]);
    const failed = await failedChecks(ledger);
    expect(failed.map((c) => c.name)).toContain('hash_chains');
    expect(failed.find((c) => c.name === 'hash_chains')?.detail)
      .toMatch(new RegExp(`^${topic.replace('.', '\\.')}/${partition}: entries \\(the first [0-9a-f-]+\\) on a ` +
        'partition without a chain head in log_partitions$'));
    const row = saved.rows[0] as { next_offset: string; chain_seq: string; chain_head: Buffer };
    await adminPool.query(`INSERT INTO ledger.log_partitions (topic, partition, next_offset, chain_seq, chain_head)
      VALUES ($1, $2, $3, $4, $5)`, [topic, partition, row.next_offset, row.chain_seq, row.chain_head]);
    expect(await failedChecks(ledger)).toEqual([]);
  });

  it('catches a whole chain rewritten and re-signed, with the exported checkpoint files', async () => {
    await rewriteFirstChain(ledger);
    // The database alone is now consistent: chains recomputed, checkpoints re-signed.
    expect(await failedChecks(ledger)).toEqual([]);
    // The auditor's exported files are not.
    const failed = await failedChecks(ledger, true);
    expect(failed.map((c) => c.name)).toEqual(['exported_checkpoints']);
    expect(failed[0]?.detail).toMatch(/hashes to/);
  });
});

async function superuser(ledger: TestLedger, sql: string): Promise<void> {
  const client = await ledger.db.adminPool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`ALTER TABLE ledger.journal_lines DISABLE TRIGGER ALL;
      ALTER TABLE ledger.journal_entries DISABLE TRIGGER ALL`);
    await client.query(sql);
    await client.query(`ALTER TABLE ledger.journal_lines ENABLE TRIGGER ALL;
      ALTER TABLE ledger.journal_entries ENABLE TRIGGER ALL`);
    await client.query(reenableAlways('journal_lines', 'journal_lines_checked'));
    await client.query(reenableAlways('journal_entries'));
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

function reenableAlways(table: string, ...extra: string[]): string {
  return ['append_only_rows', 'append_only_truncate', ...extra]
    .map((trigger) => `ALTER TABLE ledger.${table} ENABLE ALWAYS TRIGGER ${trigger};`).join('\n');
}

async function restoreRows(ledger: TestLedger, table: string, rows: Record<string, unknown>[]) {
  for (const row of rows) {
    const columns = Object.keys(row);
    const values = columns.map((_, i) => `$${i + 1}`).join(', ');
    // Restored one row at a time: the statement-level line check would see half an entry.
    await ledger.db.adminPool.query(`ALTER TABLE ledger.${table} DISABLE TRIGGER USER`);
    await ledger.db.adminPool.query(`INSERT INTO ledger.${table} (${columns.map((c) => `"${c}"`).join(', ')})
      VALUES (${values})`, columns.map((c) => row[c]));
    await ledger.db.adminPool.query(`ALTER TABLE ledger.${table} ENABLE TRIGGER USER;
      ${reenableAlways(table, ...(table === 'journal_lines' ? ['journal_lines_checked'] : []))}`);
  }
}

/** What a superuser holding the database and the signing key could do. */
async function rewriteFirstChain(ledger: TestLedger): Promise<void> {
  const { adminPool } = ledger.db;
  const head = await adminPool.query<{ topic: string; partition: number }>(
    'SELECT topic, partition FROM ledger.log_partitions ORDER BY topic, partition LIMIT 1');
  const { topic, partition } = head.rows[0]!;
  const entries = await readChainPage(adminPool, topic, partition, 0);
  const first = entries[0]!;
  await superuser(ledger, `UPDATE ledger.journal_lines SET amount_minor = amount_minor + 1
    WHERE entry_id = '${first.entryId}' AND line_no IN (1, 3)`);
  let previous = genesisHash;
  for (const [index, entry] of entries.entries()) {
    const lines = index === 0
      ? entry.lines.map((l, n) => (n === 0 || n === 2 ? { ...l, amount: fromMinor(l.amount.currency, l.amount.minor + 1n) } : l))
      : entry.lines;
    const rewritten = { ...entry, lines, prevHash: previous };
    const hash = entryHash(rewritten);
    await superuser(ledger, `UPDATE ledger.journal_entries SET prev_hash = '\\x${previous}', entry_hash = '\\x${hash}'
      WHERE entry_id = '${entry.entryId}'`);
    previous = hash;
  }
  await adminPool.query(`UPDATE ledger.log_partitions SET chain_head = '\\x${previous}'
    WHERE topic = $1 AND partition = $2`, [topic, partition]);
  await adminPool.query(`ALTER TABLE ledger.checkpoints DISABLE TRIGGER USER;
    DELETE FROM ledger.checkpoints; ALTER TABLE ledger.checkpoints ENABLE TRIGGER USER;
    ${reenableAlways('checkpoints')}`);
  const key = await loadSigningKey(ledger.dataDir, null);
  await writeCheckpoint(ledger.db.pool, key, path.join(ledger.dataDir, 'rewritten'), new Date());
}
