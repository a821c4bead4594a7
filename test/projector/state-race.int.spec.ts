// Two partitions' transactions that touch one projection-state key at once: a producer
// that put events of one payment under two ordering keys. Each batch is projected by the
// projector's own function, the first held open while the second runs, so the second
// must find the key changed under it when the first commits, and be retried on the new
// state. A new key (created twice) and a known key (updated twice) take different paths
// in the batch's write (project-batch.ts writeStates); each has its test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../src/db/database.ts';
import type { LogMessage, PartitionBatch } from '../../src/log/types.ts';
import { approvalKeys } from '../../src/ledger/approval.ts';
import { projectBatch, projectBatchWithRetries, type BatchResult } from '../../src/projector/project-batch.ts';
import { testTrustedKeys } from '../support/keys.ts';
import { captureLine, createTestLedger, eventLine, topic, type TestLedger } from '../support/ledger.ts';

describe('two transactions changing one state key', () => {
  let ledger: TestLedger;
  const ensured = new Set<string>();
  const keys = approvalKeys(testTrustedKeys);
  beforeAll(async () => {
    ledger = await createTestLedger({ partitions: 2 });
    await ledger.db.pool.query(`SELECT ledger.ensure_line_partition('2026-10-01')`);
    ensured.add('2026-10');
  });
  afterAll(async () => {
    await ledger?.close();
  });

  it('a key created by both: the second is retried and rejects its event as a duplicate reference', async () => {
    const first = batchOf(0, 0, [captureLine(1)]);
    const second = batchOf(1, 0, [captureLine(1).replace('"r_1"', '"r_other"')]);
    const [held, retried] = await whileHeldOpen(first,
      () => projectBatchWithRetries(ledger.db.pool, second, ensured, keys));
    expect(held).toMatchObject({ posted: 1, quarantined: 0 });
    expect(retried).toMatchObject({ posted: 0, quarantined: 1, nextOffset: 1 });
    const quarantine = await ledger.db.pool.query(
      `SELECT reason FROM ledger.quarantine WHERE partition = 1 AND "offset" = 0`);
    expect(quarantine.rows).toEqual([{ reason: 'duplicate_reference' }]);
  });

  it('a key updated by both: the second is retried and decided on the state the first left', async () => {
    await projectBatchWithRetries(ledger.db.pool, batchOf(0, 1, [captureLine(2)]), ensured, keys);
    const refund = (refundId: string) => eventLine('payment.refunded', '2026-10-05T12:00:00Z', {
      refund_id: refundId, payment_id: 'pay_2', rental_id: 'r_2', processor_ref: `re_${refundId}`, currency: 'USD',
      rental_amount: '60.00', commission: '15.00', protection_fee: '0.00', service_fee: '0.00', tax: '0.00',
      total: '60.00',
    });
    const [held, retried] = await whileHeldOpen(batchOf(0, 2, [refund('ref_a')]),
      () => projectBatchWithRetries(ledger.db.pool, batchOf(1, 1, [refund('ref_b')]), ensured, keys));
    expect(held).toMatchObject({ posted: 1 });
    // Decided on the state after the first refund: 60 + 60 of the 100.00 rental amount
    // captured is too much, which the stale state (nothing refunded) would have allowed.
    expect(retried).toMatchObject({ posted: 0, quarantined: 1 });
    const quarantine = await ledger.db.pool.query(
      `SELECT reason FROM ledger.quarantine WHERE partition = 1 AND "offset" = 1`);
    expect(quarantine.rows).toEqual([{ reason: 'exceeds_remaining' }]);
    const state = await ledger.db.pool.query(
      `SELECT version FROM ledger.projection_state WHERE ref_key = 'payment:pay_2'`);
    expect(state.rows).toEqual([{ version: '2' }]);
  });

  /**
   * Projects `held` in a transaction left open until `other` is waiting on one of its
   * row locks, then commits it; returns both results.
   */
  async function whileHeldOpen(held: PartitionBatch, other: () => Promise<BatchResult>): Promise<[BatchResult, BatchResult]> {
    const client: Client = await ledger.db.pool.connect();
    try {
      await client.query('BEGIN');
      const heldResult = await projectBatch(client, held, ensured, keys);
      const holder = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const otherResult = other();
      await waitUntilBlockedBy(holder);
      await client.query('COMMIT');
      return [heldResult, await otherResult];
    } finally {
      client.release();
    }
  }

  async function waitUntilBlockedBy(pid: number): Promise<void> {
    for (let attempt = 0; attempt < 500; attempt += 1) {
      const blocked = await ledger.db.pool.query(
        `SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, [pid]);
      if (blocked.rowCount !== 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('the second transaction never waited for the first');
  }
});

function batchOf(partition: number, offset: number, lines: readonly string[]): PartitionBatch {
  const messages: LogMessage[] = lines.map((line, index) => ({
    topic, partition, offset: offset + index, key: null, value: Buffer.from(line, 'utf8'), headers: [],
    timestampMs: Date.UTC(2026, 9, 5),
  }));
  return { topic, partition, messages, highWatermark: offset + lines.length };
}
