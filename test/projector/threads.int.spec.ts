// Projecting on worker threads (`ledger project`'s default) decides exactly what projecting
// on the main thread decides: the same entries, hashes, lines, chain heads, quarantine,
// duplicates and state, and a raw archive holding every message's exact bytes, key and
// headers, though each batch crosses a thread boundary packed into one transferred buffer.
// A failure inside a thread reaches the caller with its message and code. Method: one
// stream (generated, bad messages mixed in, plus keys, headers, tombstones and non-UTF-8
// bytes written by hand) published to two ledgers, projected one way each in small batches
// so that many batches cross; then the two databases are compared row for row.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEventStream } from '../../src/generator/index.ts';
import { BatchWorkers } from '../../src/projector/batch-workers.ts';
import { journalDigest } from '../support/journal-digest.ts';
import { testApprover, testTrustedKeys } from '../support/keys.ts';
import { createTestLedger, topic, type TestLedger } from '../support/ledger.ts';

const lines = generateEventStream({
  seed: 77, rentals: 400, month: '2026-10', badMessages: true, approve: testApprover,
});
const partitions = 3;

/** Messages no line can express: a tombstone, bytes that are not UTF-8, headers with a null value. */
const oddRecords = [
  { key: Buffer.from('k-1'), value: Buffer.alloc(0), partition: 0 },
  { key: null, value: Buffer.from([0xff, 0xfe, 0x00, 0x7b]), partition: 1,
    headers: [{ key: 'trace', value: Buffer.from([0, 1, 2, 255]) }, { key: 'empty', value: Buffer.alloc(0) }] },
  { key: Buffer.from([0xc3, 0x28]), value: Buffer.from('{"not":"an envelope"}'), partition: 2 },
];

async function publishAll(ledger: TestLedger): Promise<void> {
  await ledger.publish(lines.slice(0, 1000));
  await ledger.log.producer.publish(topic, oddRecords);
  await ledger.publish(lines.slice(1000));
}

const rawArchive = `SELECT topic, partition, "offset", encode(key, 'hex') AS key, encode(value, 'hex') AS value,
    headers, encode(value_sha256, 'hex') AS sha, outcome
  FROM ledger.raw_messages ORDER BY topic, partition, "offset"`;

describe('projection on worker threads', () => {
  let mainThread: TestLedger;
  let threaded: TestLedger;
  beforeAll(async () => {
    [mainThread, threaded] = await Promise.all([
      createTestLedger({ partitions }), createTestLedger({ partitions }),
    ]);
    await publishAll(mainThread);
    await publishAll(threaded);
  });
  afterAll(async () => {
    await mainThread?.close();
    await threaded?.close();
  });

  it('gives the journal the main thread gives, row for row, bytes included', async () => {
    const inProcess = await mainThread.project({ batchMessagesMax: 97 });
    const onThreads = await threaded.project({ batchMessagesMax: 97, threads: 2 });
    expect(onThreads).toEqual(inProcess);
    expect(inProcess.posted).toBeGreaterThan(2_000);
    expect(inProcess.quarantined).toBeGreaterThan(oddRecords.length);
    expect(await journalDigest(threaded.db.pool)).toEqual(await journalDigest(mainThread.db.pool));
    const archived = await threaded.db.pool.query(rawArchive);
    expect(archived.rows).toEqual((await mainThread.db.pool.query(rawArchive)).rows);
    expect(archived.rows).toHaveLength(lines.length + oddRecords.length);
    // The hand-written records, byte for byte, with their headers (base64, null kept).
    const odd = archived.rows.filter((r) => r.key === '6b2d31' || r.key === 'c328' || r.value === 'fffe007b');
    expect(odd.map((r) => [r.key, r.value, r.headers])).toEqual(expect.arrayContaining([
      ['6b2d31', '', []],
      [null, 'fffe007b', [{ key: 'trace', value: 'AAEC/w==' }, { key: 'empty', value: '' }]],
      ['c328', Buffer.from('{"not":"an envelope"}').toString('hex'), []],
    ]));
    expect(odd).toHaveLength(3);
  });

  it('hands a failure inside a thread to the caller with its message and code', async () => {
    const workers = new BatchWorkers(
      { count: 1, databaseUrl: threaded.db.url, databaseRole: 'no_such_role' }, testTrustedKeys);
    try {
      const batch = { topic, partition: 0, highWatermark: 1, messages: [{
        topic, partition: 0, offset: 0, key: null, value: Buffer.from('{}'), headers: [], timestampMs: 0,
      }] };
      await expect(workers.project(batch)).rejects.toMatchObject({
        message: expect.stringMatching(/no_such_role/), code: '22023',
      });
    } finally {
      await workers.close();
    }
  });
});
