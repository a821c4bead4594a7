// Exactly once through crashes: a generated stream of over 100,000 messages (bad ones
// mixed in) is projected twice. Once uninterrupted, in this process. Once by the real
// `ledger project` command in child processes, each SIGKILLed at a random moment after it
// has committed something (at least 20 kills), then run to the end. The two journals must
// be identical, entry for entry and hash for hash, and pass `ledger verify`; and every bad
// message must have been quarantined with exactly the reason the generator intended.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/integrity/verify.ts';
import { generateEventStreamWithExpectations } from '../../src/generator/index.ts';
import { orderingKey } from '../../src/log/keys.ts';
import { partitionForKey } from '../../src/log/partitioner.ts';
import { journalDigest } from '../support/journal-digest.ts';
import { testApprover, testSigningKeyPem } from '../support/keys.ts';
import { mulberry32 } from '../support/prng.ts';
import { createTestLedger, type TestLedger } from '../support/ledger.ts';

const partitions = 3;
const killsWanted = 20;
const stream = generateEventStreamWithExpectations({
  seed: 20261130, rentals: 12_000, month: '2026-10', badMessages: true, approve: testApprover,
});

describe('the projector killed with SIGKILL', () => {
  let uninterrupted: TestLedger;
  let killed: TestLedger;
  beforeAll(async () => {
    expect(stream.lines.length).toBeGreaterThanOrEqual(100_000);
    [uninterrupted, killed] = await Promise.all([createTestLedger({ partitions }), createTestLedger({ partitions })]);
    await uninterrupted.publish(stream.lines);
    await killed.publish(stream.lines);
  });
  afterAll(async () => {
    await uninterrupted?.close();
    await killed?.close();
  });

  it('projects uninterrupted, quarantining every bad message with its intended reason', async () => {
    const result = await uninterrupted.project();
    expect(result.posted + result.duplicates + result.quarantined).toBe(stream.lines.length);
    const quarantine = await uninterrupted.db.pool.query<{ partition: number; offset: string; reason: string }>(
      'SELECT partition, "offset", reason FROM ledger.quarantine');
    const reasonAt = new Map(quarantine.rows.map((r) => [`${r.partition}/${r.offset}`, r.reason]));
    const positions = positionsOf(stream.lines);
    const expected = stream.expectedRejections.map((e) => `${positions[e.index]} ${e.reason}`);
    const actual = stream.expectedRejections.map((e) => `${positions[e.index]} ${reasonAt.get(positions[e.index]!)}`);
    expect(actual).toEqual(expected);
    expect(quarantine.rows).toHaveLength(stream.expectedRejections.length);
  });

  it(`ends identical to the uninterrupted run after ${killsWanted} kills`, async () => {
    const kills = await projectWithKills(killed, killsWanted);
    expect(kills).toBeGreaterThanOrEqual(killsWanted);
    const final = await runProjectCommand(killed, null);
    expect(final.code).toBe(0);
    expect(await journalDigest(killed.db.pool)).toEqual(await journalDigest(uninterrupted.db.pool));
    const report = await verifyLedger(killed.db.pool);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  }, 300_000); // 21 process starts: about 100 s alone on a slow 2-core machine, more beside other files
});

/** `partition/offset` of each line, as publishLines placed it. */
function positionsOf(lines: readonly string[]): string[] {
  const next = new Array<number>(partitions).fill(0);
  return lines.map((line) => {
    const key = orderingKey(Buffer.from(line, 'utf8'));
    const partition = key === null ? 0 : partitionForKey(key, partitions);
    const offset = next[partition]!;
    next[partition] = offset + 1;
    return `${partition}/${offset}`;
  });
}

async function progress(ledger: TestLedger): Promise<number> {
  const result = await ledger.db.pool.query<{ n: string }>(
    'SELECT coalesce(sum(next_offset), 0) AS n FROM ledger.log_partitions');
  return Number(result.rows[0]!.n);
}

async function projectWithKills(ledger: TestLedger, killsMax: number): Promise<number> {
  const random = mulberry32(7);
  let kills = 0;
  for (let attempt = 0; attempt < killsMax * 3 && kills < killsMax; attempt += 1) {
    const before = await progress(ledger);
    if (before >= stream.lines.length) break;
    const killAfterMs = Math.floor(random() * 250);
    const run = await runProjectCommand(ledger, { before, killAfterMs });
    if (run.signal === 'SIGKILL') kills += 1;
  }
  return kills;
}

type Run = { code: number | null; signal: NodeJS.Signals | null; stderr: string };

/**
 * Runs `ledger project`; with `kill`, waits until the child has committed something
 * (the stored offsets moved), then waits killAfterMs more and sends SIGKILL.
 */
function runProjectCommand(ledger: TestLedger, kill: { before: number; killAfterMs: number } | null): Promise<Run> {
  const child = spawn(process.execPath, ['bin/ledger.mjs', 'project', '--json'], {
    // Small batches: many commits in a 100,000-message run, so 20 kills each land mid-run.
    // The tests' key is the child's own, so it trusts the stream's adjustments as the
    // uninterrupted run does.
    env: { ...process.env, DATABASE_URL: ledger.db.url, LEDGER_DATA_DIR: ledger.dataDir, KAFKA_BROKERS: '',
      LEDGER_BATCH_MESSAGES: '1000', LEDGER_SIGNING_KEY: testSigningKeyPem },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<Run>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
  if (kill !== null) {
    void (async () => {
      const deadline = Date.now() + 60_000;
      while (child.exitCode === null && Date.now() < deadline && (await progress(ledger)) <= kill.before) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise((resolve) => setTimeout(resolve, kill.killAfterMs));
      if (child.exitCode === null) child.kill('SIGKILL');
    })();
  }
  return exited;
}
