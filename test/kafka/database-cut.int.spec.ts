// The database connection cut mid-transaction under the Kafka projector. While `ledger
// project` works through a published stream, the test repeatedly terminates its
// PostgreSQL backends that have a transaction open (pg_terminate_backend from an admin
// connection named differently, so the test's own connections survive). A cut batch
// rolls back; the consumer retries it on a fresh connection, from the offset PostgreSQL
// stores. A cut that lands outside a batch (the start-up checks, the final checkpoint)
// may end the process with a non-zero status instead; then `ledger project` is run again.
// Either way the journal must equal the uninterrupted embedded-log run, and verify pass.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEventStream } from '../../src/generator/index.ts';
import { verifyLedger } from '../../src/integrity/verify.ts';
import { journalDigest } from '../support/journal-digest.ts';
import { testApprover } from '../support/keys.ts';
import {
  createKafkaLedger, embeddedDigest, startLedger, waitUntil, type ChildRun, type Digest, type KafkaLedger,
} from '../support/kafka.ts';

const partitions = 6;
const cutsWanted = 5;
const lines = generateEventStream({
  seed: 31337, rentals: 3_500, month: '2026-10', badMessages: true, approve: testApprover,
});

describe('the database connection cut mid-transaction', () => {
  let ledger: KafkaLedger;
  let reference: Promise<Digest>;
  beforeAll(async () => {
    ledger = await createKafkaLedger({ partitions, name: 'dbcut' });
    reference = embeddedDigest(ledger.topic, partitions, { lines });
    reference.catch(() => undefined);
    await ledger.publish(lines);
  });
  afterAll(async () => {
    await reference?.catch(() => undefined);
    await ledger?.close();
  });

  it(`recovers from ${cutsWanted} cuts and ends identical`, async () => {
    const runs: ChildRun[] = [];
    let cuts = 0;
    // Bounded: each pass is one `ledger project`; a pass ends when it exits.
    for (let pass = 0; pass < cutsWanted + 3; pass++) {
      const before = await ledger.progress();
      if (before >= lines.length) break;
      const child = startLedger(ledger, ['project', '--json']);
      try {
        const exited = child.exited.then(() => true);
        const committed = waitUntil('a commit', async () => (await ledger.progress()) > before, 60_000, 5);
        committed.catch(() => undefined); // the child may exit first
        await Promise.race([committed, exited]);
        while (cuts < cutsWanted && !(await Promise.race([exited, sleep(100).then(() => false)]))) {
          cuts += await cutOpenTransactions(ledger.observer);
        }
        runs.push(await child.exited);
      } finally {
        child.kill('SIGKILL');
      }
    }
    expect(cuts).toBeGreaterThanOrEqual(cutsWanted);
    for (const run of runs) expect(run.stderr).not.toMatch(/internal error|Unhandled 'error' event/);
    // A cut batch is retried on a new connection, and says so.
    expect(runs.map((r) => r.stderr).join('')).toMatch(/database: connection lost while projecting .*; retrying/);
    expect(runs[runs.length - 1]?.code).toBe(0);
    expect(await ledger.progress()).toBe(lines.length);
    expect(await journalDigest(ledger.db.pool)).toEqual(await reference);
    const report = await verifyLedger(ledger.db.pool);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  });
});

/** Terminates the service's backends that are inside a transaction; returns how many. */
async function cutOpenTransactions(observer: pg.Pool): Promise<number> {
  const result = await observer.query<{ terminated: boolean }>(
    `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
      WHERE application_name = 'ledger' AND datname = current_database() AND xact_start IS NOT NULL
        AND pid <> pg_backend_pid()`);
  return result.rows.filter((r) => r.terminated).length;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
