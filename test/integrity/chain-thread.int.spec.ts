// The chain checks on their own thread (chain-thread.ts) are the same checks: on a journal
// with a changed line, the thread's verdicts equal those of the caller's thread word for
// word, it connects as the caller's pool does (the same role), and a failure on the
// thread reaches the caller as the error it is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/database.ts';
import { chainChecks } from '../../src/integrity/chain-checks.ts';
import { chainChecksInThread } from '../../src/integrity/chain-thread.ts';
import { urlWithDatabase } from '../support/database.ts';
import { captureLine, createTestLedger, type TestLedger } from '../support/ledger.ts';

describe('the chain checks on a thread of their own', () => {
  let ledger: TestLedger;
  beforeAll(async () => {
    ledger = await createTestLedger({ partitions: 2 });
    await ledger.publish(Array.from({ length: 30 }, (_, n) => captureLine(n)));
    await ledger.project();
  });
  afterAll(async () => ledger.close());

  it('give what the caller\'s thread gives, on a sound journal and on a changed one', async () => {
    const sound = await chainChecksInThread(ledger.db.pool, undefined);
    expect(sound).toEqual(await chainChecks(ledger.db.pool, undefined));
    expect(sound.chains).toMatchObject({
      ok: true, detail: '30 entries in 2 chains recomputed, each chain in full from genesis',
    });
    await shiftFirstEntry(ledger, 1);
    try {
      const changed = await chainChecksInThread(ledger.db.pool, undefined);
      expect(changed.chains.ok).toBe(false);
      expect(changed.chains.detail).toMatch(/content does not match its hash/);
      expect(changed).toEqual(await chainChecks(ledger.db.pool, undefined));
    } finally {
      await shiftFirstEntry(ledger, -1);
    }
    expect((await chainChecksInThread(ledger.db.pool, undefined)).chains.ok).toBe(true);
  });

  it('works as the role the caller\'s pool works as', async () => {
    const probe = await ledger.db.pool.query<{ role: string }>('SELECT current_user AS role');
    expect(probe.rows[0]?.role).toBe(ledger.db.serviceRole);
    // The service login may not see what only the owner can: a table its group holds no grant on.
    await ledger.db.adminPool.query('REVOKE SELECT ON ledger.journal_lines FROM ledger_writer');
    try {
      await expect(chainChecksInThread(ledger.db.pool, undefined)).rejects.toThrow(/permission denied/);
      expect((await chainChecksInThread(ledger.db.adminPool, undefined)).chains.ok).toBe(true);
    } finally {
      await ledger.db.adminPool.query('GRANT SELECT ON ledger.journal_lines TO ledger_writer');
    }
  });

  it('hands a failure on the thread to the caller, with its code', async () => {
    const url = urlWithDatabase(new URL(ledger.db.url).toString(), 'no_such_database');
    const pool = createPool(url, null, 1);
    try {
      await expect(chainChecksInThread(pool, undefined)).rejects.toMatchObject({ code: '3D000' });
    } finally {
      await pool.end();
    }
  });
});

/** A superuser's edit, triggers off and on again (ALWAYS): two lines of the first entry, kept balanced. */
async function shiftFirstEntry(ledger: TestLedger, deltaMinor: number): Promise<void> {
  const client = await ledger.db.adminPool.connect();
  try {
    await client.query('BEGIN');
    await client.query('ALTER TABLE ledger.journal_lines DISABLE TRIGGER ALL');
    await client.query(`UPDATE ledger.journal_lines SET amount_minor = amount_minor + ${deltaMinor}
      WHERE entry_id = (SELECT min(entry_id::text)::uuid FROM ledger.journal_lines) AND line_no IN (1, 3)`);
    await client.query(`ALTER TABLE ledger.journal_lines ENABLE TRIGGER ALL;
      ALTER TABLE ledger.journal_lines ENABLE ALWAYS TRIGGER append_only_rows;
      ALTER TABLE ledger.journal_lines ENABLE ALWAYS TRIGGER append_only_truncate;
      ALTER TABLE ledger.journal_lines ENABLE ALWAYS TRIGGER journal_lines_checked`);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}
