// A ledger for an integration test: its own database, its own embedded log in a temp
// directory, and helpers to publish lines and project them exactly as `ledger project`
// does (same projector, same batch transaction), trusting the tests' signing key
// (keys.ts) for adjustment approvals.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openEmbeddedLog, type EmbeddedLog } from '../../src/log/embedded/index.ts';
import { publishLines } from '../../src/log/publish.ts';
import { runProjector, type ProjectorResult } from '../../src/projector/projector.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { testTrustedKeys } from './keys.ts';

export const topic = 'marketplace.events';

export type TestLedger = {
  readonly db: TestDatabase;
  readonly dataDir: string;
  readonly log: EmbeddedLog;
  publish(lines: readonly string[]): Promise<void>;
  /** threads: project on worker threads, as `ledger project` does (default: this thread). */
  project(options?: { batchMessagesMax?: number; threads?: number }): Promise<ProjectorResult>;
  close(): Promise<void>;
};

export async function createTestLedger(options: { partitions?: number } = {}): Promise<TestLedger> {
  const db = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ledger-test-'));
  const log = openEmbeddedLog(path.join(dataDir, 'log'));
  const partitions = options.partitions ?? 3;
  return {
    db,
    dataDir,
    log,
    async publish(lines) {
      await publishLines(log.producer, topic, partitions, lines);
    },
    async project(projectOptions = {}) {
      const consumer = log.consumer();
      try {
        return await runProjector({
          pool: db.pool, consumer, topics: [topic], follow: false, signal: new AbortController().signal,
          trustedKeys: testTrustedKeys,
          ...(projectOptions.batchMessagesMax === undefined ? {} : { batchMessagesMax: projectOptions.batchMessagesMax }),
          ...(projectOptions.threads === undefined ? {} : {
            threads: { count: projectOptions.threads, databaseUrl: db.serviceUrl, databaseRole: null },
          }),
        });
      } finally {
        await consumer.close();
      }
    },
    async close() {
      await log.producer.close();
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

let sequence = 0;

/** An envelope line for hand-written scenarios; event ids are unique per call. */
export function eventLine(type: string, occurredAt: string, data: Record<string, unknown>, eventId?: string): string {
  sequence += 1;
  const id = eventId ?? `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`;
  return JSON.stringify({ event_id: id, type, schema_version: 1, occurred_at: occurredAt, producer: 'test', data });
}

/** The n-th of a family of small, valid, distinct captures in October 2026 (USD, US-CA). */
export function captureLine(n: number): string {
  return eventLine('payment.captured', `2026-10-${String(1 + (n % 27)).padStart(2, '0')}T10:00:00Z`, {
    payment_id: `pay_${n}`, rental_id: `r_${n}`, driver_id: `d_${n}`, owner_id: `o_${n % 5}`, market: 'US-CA',
    processor: 'stripe', processor_ref: `ch_${n}`, currency: 'USD', rental_amount: '100.00', commission: '25.00',
    protection_fee: '10.00', service_fee: '5.00', tax: '9.00', deposit: '50.00', processor_fee: '5.00',
    total: '174.00',
  });
}
