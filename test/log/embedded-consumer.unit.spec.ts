// Proves the embedded consumer behaves like the Kafka group member the projector expects:
// it asks where each partition starts, never moves past the offset the handler returns
// (an earlier one means those messages come again), rejects with the handler's error,
// refuses a start past the end, honours both batch limits, serves partitions round-robin,
// stops at the end offsets seen at its start when not following, and, when following,
// receives records that another process appends. Method: real files in a temporary
// directory; the other process is `node --import tsx` running a small script written
// into that directory.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEmbeddedLog, type EmbeddedLog } from '../../src/log/embedded/index.ts';
import type { ConsumeOptions, PartitionBatch, PublishRecord } from '../../src/log/types.ts';

let temporaryDir = '';
let rootDir = '';
const opened: EmbeddedLog[] = [];

beforeEach(async () => {
  temporaryDir = await mkdtemp(join(tmpdir(), 'ledger-log-'));
  rootDir = join(temporaryDir, 'log');
});

afterEach(async () => {
  for (const log of opened.splice(0)) await log.producer.close();
  await rm(temporaryDir, { recursive: true, force: true });
});

async function logWith(partitions: number, countPerPartition: number): Promise<EmbeddedLog> {
  const log = openEmbeddedLog(rootDir, { pollIntervalMs: 20 });
  opened.push(log);
  await log.producer.ensureTopic('events', partitions);
  const records: PublishRecord[] = [];
  for (let index = 0; index < countPerPartition; index++) {
    for (let partition = 0; partition < partitions; partition++) {
      records.push({ key: null, value: Buffer.from(`p${partition}-${index}`), partition });
    }
  }
  await log.producer.publish('events', records);
  return log;
}

type Overrides = Partial<ConsumeOptions> & Pick<ConsumeOptions, 'eachBatch'>;

function options(overrides: Overrides): ConsumeOptions {
  return {
    topics: ['events'],
    follow: false,
    signal: new AbortController().signal,
    batchMessagesMax: 4,
    batchBytesMax: 1024 * 1024,
    startOffset: async () => 0,
    ...overrides,
  };
}

const offsetsOf = (batch: PartitionBatch) => batch.messages.map((message) => message.offset);
/** What a handler that stored the whole batch returns. */
const nextAfter = (batch: PartitionBatch) => ({
  nextOffset: batch.messages[batch.messages.length - 1]!.offset + 1,
});

/** A handler that records what `pick` takes from each batch and stores the whole batch. */
function recording<T>(into: T[], pick: (batch: PartitionBatch) => T) {
  return async (batch: PartitionBatch) => {
    into.push(pick(batch));
    return nextAfter(batch);
  };
}

describe('progress belongs to the handler', () => {
  it('reads again from an earlier nextOffset the handler returns', async () => {
    const log = await logWith(1, 10);
    const seen: number[][] = [];
    await log.consumer().consume(
      options({
        eachBatch: async (batch) => {
          seen.push(offsetsOf(batch));
          // The first batch is only half stored; the second asks to start over from 0.
          if (seen.length === 1) return { nextOffset: 2 };
          if (seen.length === 2) return { nextOffset: 0 };
          return nextAfter(batch);
        },
      }),
    );
    expect(seen).toEqual([[0, 1, 2, 3], [2, 3, 4, 5], [0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  });

  it('rejects with the handler\'s own error; a new consume starts where told', async () => {
    const log = await logWith(1, 10);
    const failure = new Error('serialization failure');
    let calls = 0;
    const consumer = log.consumer();
    await expect(
      consumer.consume(
        options({
          eachBatch: async (batch) => {
            calls += 1;
            if (calls === 2) throw failure;
            return nextAfter(batch);
          },
        }),
      ),
    ).rejects.toBe(failure);
    const seen: number[][] = [];
    await consumer.consume(
      options({ startOffset: async () => 4, eachBatch: recording(seen, offsetsOf) }),
    );
    expect(seen).toEqual([[4, 5, 6, 7], [8, 9]]);
    await consumer.close();
  });

  it('reports a handler that never moves forward as a runaway, not as a hang', async () => {
    const log = await logWith(1, 3);
    const consuming = log.consumer().consume(
      options({ eachBatch: async (batch) => ({ nextOffset: batch.messages[0]!.offset }) }),
    );
    await expect(consuming).rejects.toThrow(/no progress on events\/0 at offset 0 1000 times/);
  });

  it('refuses a handler that answers with an offset past the batch it was given', async () => {
    const log = await logWith(1, 10);
    await expect(
      log.consumer().consume(options({ eachBatch: async () => ({ nextOffset: 9 }) })),
    ).rejects.toThrow(/nextOffset 9 for events\/0 is not past the batch/);
  });

  it('asks startOffset per partition before any batch; refuses a start past the end', async () => {
    const log = await logWith(2, 3);
    const events: string[] = [];
    await log.consumer().consume(
      options({
        startOffset: async ({ partition }) => (events.push(`start ${partition}`), 1),
        eachBatch: recording(events, (batch) => `batch ${batch.partition} ${offsetsOf(batch)}`),
      }),
    );
    expect(events).toEqual(['start 0', 'start 1', 'batch 0 1,2', 'batch 1 1,2']);
    const pastTheEnd = log.consumer().consume(
      options({ startOffset: async () => 4, eachBatch: async (batch) => nextAfter(batch) }),
    );
    await expect(pastTheEnd).rejects.toThrow(
      /events\/0: the stored position is offset 4, but the embedded log ends at offset 3/,
    );
  });
});

describe('batches', () => {
  it('holds at most batchMessagesMax messages and reports the high watermark', async () => {
    const log = await logWith(1, 10);
    const batches: PartitionBatch[] = [];
    await log.consumer().consume(
      options({ batchMessagesMax: 3, eachBatch: recording(batches, (batch) => batch) }),
    );
    expect(batches.map(offsetsOf)).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]);
    expect(batches.every((batch) => batch.highWatermark === 10)).toBe(true);
  });

  it('holds about batchBytesMax bytes, and a message larger than that comes alone', async () => {
    const log = openEmbeddedLog(rootDir);
    opened.push(log);
    await log.producer.ensureTopic('events', 1);
    const sizes = [100, 100, 100, 5_000, 100, 100];
    const records = sizes.map((size) => ({ key: null, value: Buffer.alloc(size), partition: 0 }));
    await log.producer.publish('events', records);
    const batches: number[][] = [];
    await log.consumer().consume(
      options({
        batchMessagesMax: 100,
        batchBytesMax: 300,
        eachBatch: recording(batches, offsetsOf),
      }),
    );
    // Each record is its value plus 36 bytes of framing, so two fit in 300 bytes.
    expect(batches).toEqual([[0, 1], [2], [3], [4, 5]]);
  });

  it('serves partitions round-robin, so none waits for another to be drained', async () => {
    const log = await logWith(3, 12);
    const order: number[] = [];
    await log.consumer().consume(
      options({ eachBatch: recording(order, (batch) => batch.partition) }),
    );
    expect(order).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2]);
  });
});

describe('partitions in flight at once', () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('keeps up to partitionsConcurrently batches in the handler, never two of one partition', async () => {
    const log = await logWith(5, 20);
    const active = new Set<number>();
    let mostActive = 0;
    const seen = new Map<number, number[]>();
    await log.consumer().consume(options({
      partitionsConcurrently: 3,
      eachBatch: async (batch) => {
        expect(active.has(batch.partition)).toBe(false);
        active.add(batch.partition);
        mostActive = Math.max(mostActive, active.size);
        await sleep(1 + ((batch.partition * 7 + batch.messages[0]!.offset) % 5));
        seen.set(batch.partition, [...(seen.get(batch.partition) ?? []), ...offsetsOf(batch)]);
        active.delete(batch.partition);
        return nextAfter(batch);
      },
    }));
    expect(mostActive).toBe(3);
    const everyOffset = Array.from({ length: 20 }, (_, offset) => offset);
    expect([...seen.keys()].sort()).toEqual([0, 1, 2, 3, 4]);
    for (const offsets of seen.values()) expect(offsets).toEqual(everyOffset);
  });

  it('refills a slot as soon as its batch is done: a slow batch holds back only its own partition', async () => {
    const log = await logWith(3, 40);
    const batchesOf = [0, 0, 0];
    let othersWhileSlow = -1;
    await log.consumer().consume(options({
      partitionsConcurrently: 2,
      eachBatch: async (batch) => {
        if (batch.partition === 0 && batch.messages[0]!.offset === 0) {
          // Slow until the other partitions have had six batches (or 2 s, for a consumer that waits for it).
          for (let waited = 0; waited < 2_000 && batchesOf[1]! + batchesOf[2]! < 6; waited += 5) await sleep(5);
          othersWhileSlow = batchesOf[1]! + batchesOf[2]!;
        }
        batchesOf[batch.partition]! += 1;
        return nextAfter(batch);
      },
    }));
    expect(othersWhileSlow).toBeGreaterThanOrEqual(6);
    expect(batchesOf).toEqual([10, 10, 10]);
  });

  it('a failed batch ends the run with its error, once the batches beside it are done', async () => {
    const log = await logWith(3, 40);
    const failure = new Error('check_violation');
    const finished: number[] = [];
    let startedAfterFailure = 0;
    let failedYet = false;
    const consuming = log.consumer().consume(options({
      follow: true,
      partitionsConcurrently: 2,
      eachBatch: async (batch) => {
        if (failedYet) startedAfterFailure += 1;
        if (batch.partition === 0) {
          await sleep(10); // partition 1's batch is in the handler by now
          failedYet = true;
          throw failure;
        }
        await sleep(30);
        finished.push(batch.partition);
        return nextAfter(batch);
      },
    }));
    await expect(consuming).rejects.toBe(failure);
    expect(finished).toEqual([1]); // the batch beside it finished before consume returned
    expect(startedAfterFailure).toBe(0);
  });

  it('on abort starts no new batch and returns once the batches in flight are done', async () => {
    const log = await logWith(4, 40);
    const controller = new AbortController();
    let started = 0;
    let finished = 0;
    const consuming = log.consumer().consume(options({
      follow: true,
      signal: controller.signal,
      partitionsConcurrently: 3,
      eachBatch: async (batch) => {
        started += 1;
        if (started === 5) controller.abort();
        await sleep(20);
        finished += 1;
        return nextAfter(batch);
      },
    }));
    await consuming;
    expect(controller.signal.aborted).toBe(true);
    expect(finished).toBe(started);
    expect(started).toBeLessThanOrEqual(7); // the fifth, and at most the two beside it
  });
});

describe('follow', () => {
  it('without follow, stops at the end offsets seen at its start as records arrive', async () => {
    const log = await logWith(1, 6);
    const seen: number[] = [];
    await log.consumer().consume(
      options({
        eachBatch: async (batch) => {
          const late = { key: null, value: Buffer.from('late'), partition: 0 };
          await log.producer.publish('events', [late]);
          seen.push(...offsetsOf(batch));
          return nextAfter(batch);
        },
      }),
    );
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
    expect(await log.producer.endOffsets('events')).toEqual(new Map([[0, 8]]));
  });

  it('with follow, waits for new records and resolves when the signal aborts', async () => {
    const log = await logWith(2, 0);
    const controller = new AbortController();
    const seen: string[] = [];
    const consuming = log.consumer().consume(
      options({
        follow: true,
        signal: controller.signal,
        eachBatch: async (batch) => {
          seen.push(...batch.messages.map((message) => message.value!.toString()));
          if (seen.length === 2) controller.abort();
          return nextAfter(batch);
        },
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(seen).toEqual([]);
    await log.producer.publish('events', [
      { key: null, value: Buffer.from('a'), partition: 1 },
      { key: null, value: Buffer.from('b'), partition: 0 },
    ]);
    await consuming;
    expect(seen.sort()).toEqual(['a', 'b']);
  });

  it('with follow, receives what another process appends, across segments', async () => {
    const setup = openEmbeddedLog(rootDir);
    await setup.producer.ensureTopic('events', 2);
    await setup.producer.close();
    const batchCount = 5;
    const recordsPerBatch = 40;
    const child = startAppender(await writeAppenderScript(), batchCount, recordsPerBatch);

    const log = openEmbeddedLog(rootDir, { pollIntervalMs: 20 });
    opened.push(log);
    const controller = new AbortController();
    const received: string[] = [];
    const timeout = setTimeout(() => controller.abort(), 20_000);
    let refusal: string | null = null;
    await log.consumer().consume(
      options({
        follow: true,
        signal: controller.signal,
        batchMessagesMax: 7,
        eachBatch: async (batch) => {
          for (const message of batch.messages) {
            received.push(`${batch.partition}:${message.offset}:${message.value}`);
          }
          // While the other process writes, this one may not.
          if (refusal === null) {
            const extra = [{ key: null, value: Buffer.from('from the test'), partition: 0 }];
            refusal = await log.producer.publish('events', extra).then(
              () => 'accepted',
              (error: Error) => error.message,
            );
          }
          if (received.length === batchCount * recordsPerBatch) controller.abort();
          return nextAfter(batch);
        },
      }),
    );
    clearTimeout(timeout);
    expect(refusal).toMatch(new RegExp(`being written by pid ${child.pid}`));
    expect(await child.exited).toEqual({ code: 0, output: expect.stringContaining('done') });
    expect(received).toHaveLength(batchCount * recordsPerBatch);
    for (const partition of [0, 1]) {
      const mine = received.filter((entry) => entry.startsWith(`${partition}:`));
      const offsets = mine.map((entry) => Number(entry.split(':')[1]));
      expect(offsets).toEqual(mine.map((_, index) => index));
    }
    expect(received).toContain('1:99:b4-r39');
  }, 30_000);
});

/** The other process: takes the writer lock and publishes in batches, pausing in between. */
async function writeAppenderScript(): Promise<string> {
  const moduleUrl = new URL('../../src/log/embedded/index.ts', import.meta.url).href;
  const script = `
import { openEmbeddedLog } from ${JSON.stringify(moduleUrl)};
const [rootDir, batchCount, recordsPerBatch] = process.argv.slice(2);
const log = openEmbeddedLog(rootDir, { segmentBytesMax: 600 });
for (let batch = 0; batch < Number(batchCount); batch++) {
  const records = [];
  for (let index = 0; index < Number(recordsPerBatch); index++) {
    const value = Buffer.from('b' + batch + '-r' + index);
    records.push({ key: null, value, partition: index % 2 });
  }
  await log.producer.publish('events', records);
  await new Promise((resolve) => setTimeout(resolve, 50));
}
await log.producer.close();
console.log('done');
`;
  const path = join(temporaryDir, 'appender.mts');
  await writeFile(path, script);
  return path;
}

function startAppender(scriptPath: string, batchCount: number, recordsPerBatch: number) {
  const projectDir = fileURLToPath(new URL('../..', import.meta.url));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', scriptPath, rootDir, String(batchCount), String(recordsPerBatch)],
    { cwd: projectDir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; output: string }>((resolve) => {
    child.on('close', (code) => resolve({ code, output }));
  });
  return { pid: child.pid, exited };
}
