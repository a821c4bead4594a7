// Proves the embedded log survives a writer killed mid-append and refuses to hide real
// damage. Method: publish through the log, then edit its segment files directly the way a
// crash or a bad disk would (garbage, half a record, a whole unacknowledged record, a
// flipped byte, lost bytes), and reopen. A torn tail is cut off and the next publish gets
// the right offset; damage to acknowledged records is a clear error for writers and
// readers alike. Also proves the writer lock: a second live writer is refused, a lock
// left by a dead process is taken over.
import { spawnSync } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEmbeddedLog, type EmbeddedLog } from '../../src/log/embedded/index.ts';
import { encodeRecord, encodedRecordBytes } from '../../src/log/embedded/format.ts';
import type { LogMessage } from '../../src/log/types.ts';

let rootDir = '';
let segmentPath = '';
const opened: EmbeddedLog[] = [];

beforeEach(async () => {
  rootDir = join(await mkdtemp(join(tmpdir(), 'ledger-log-')), 'log');
  segmentPath = join(rootDir, 'events', 'partition-0', '00000000000000000000.log');
});

afterEach(async () => {
  for (const log of opened.splice(0)) await log.producer.close();
  await rm(join(rootDir, '..'), { recursive: true, force: true });
});

function openLog(): EmbeddedLog {
  const log = openEmbeddedLog(rootDir);
  opened.push(log);
  return log;
}

async function closeAll(): Promise<void> {
  for (const log of opened.splice(0)) await log.producer.close();
}

function values(count: number, from = 0) {
  return Array.from({ length: count }, (_, index) => ({
    key: Buffer.from(`k${from + index}`),
    value: Buffer.from(`value ${from + index}`),
    partition: 0,
  }));
}

/** A log with five acknowledged records in partition 0, closed as a clean writer would. */
async function logWithFiveRecords(): Promise<number> {
  const log = openLog();
  await log.producer.ensureTopic('events', 1);
  await log.producer.publish('events', values(5));
  await closeAll();
  return (await stat(segmentPath)).size;
}

/** The frame a writer would have appended next, as if it was killed around it. */
function frameAt(offset: number): Buffer {
  const input = {
    key: Buffer.from('late'),
    value: Buffer.from('unacknowledged'),
    headers: [],
    timestampMs: 1,
  };
  const frame = Buffer.alloc(encodedRecordBytes(input));
  encodeRecord(frame, 0, input, offset);
  return frame;
}

async function readAll(log: EmbeddedLog): Promise<LogMessage[]> {
  const messages: LogMessage[] = [];
  const consumer = log.consumer();
  try {
    await consumer.consume({
      topics: ['events'],
      follow: false,
      signal: new AbortController().signal,
      batchMessagesMax: 100,
      batchBytesMax: 1024 * 1024,
      startOffset: async () => 0,
      eachBatch: async (batch) => {
        messages.push(...batch.messages);
        return { nextOffset: batch.messages[batch.messages.length - 1]!.offset + 1 };
      },
    });
  } finally {
    await consumer.close();
  }
  return messages;
}

describe('torn tail', () => {
  it('cuts off garbage after the last record, and the next publish gets offset 5', async () => {
    const cleanBytes = await logWithFiveRecords();
    await appendFile(segmentPath, Buffer.from('\xff\x13garbage from a dying writer', 'latin1'));
    const log = openLog();
    await log.producer.publish('events', values(1, 5));
    const messages = await readAll(log);
    expect(messages.map((message) => message.offset)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(messages[5]!.value).toEqual(Buffer.from('value 5'));
    expect((await stat(segmentPath)).size).toBeGreaterThan(cleanBytes);
  });

  it('cuts off half a record', async () => {
    const cleanBytes = await logWithFiveRecords();
    const frame = frameAt(5);
    await appendFile(segmentPath, frame.subarray(0, frame.length - 3));
    const log = openLog();
    expect(await log.producer.endOffsets('events')).toEqual(new Map([[0, 5]]));
    await log.producer.publish('events', values(1, 5));
    const messages = await readAll(log);
    const expected = [0, 1, 2, 3, 4, 5].map((index) => `value ${index}`);
    expect(messages.map((message) => message.value?.toString())).toEqual(expected);
    const nextFrameBytes = encodedRecordBytes({ ...values(1, 5)[0]!, headers: [], timestampMs: 0 });
    expect((await stat(segmentPath)).size).toBe(cleanBytes + nextFrameBytes);
  });

  it('cuts off a last record whose CRC does not match', async () => {
    await logWithFiveRecords();
    const frame = frameAt(5);
    frame[frame.length - 1]! ^= 0x01;
    await appendFile(segmentPath, frame);
    const log = openLog();
    await log.producer.publish('events', values(1, 5));
    const texts = (await readAll(log)).map((message) => message.value?.toString());
    expect(texts).toEqual([0, 1, 2, 3, 4, 5].map((index) => `value ${index}`));
  });

  it('keeps a whole record a killed writer never acknowledged, hidden until recovery', async () => {
    await logWithFiveRecords();
    await appendFile(segmentPath, frameAt(5));
    const reader = openEmbeddedLog(rootDir);
    // Readers stop at the committed end, so the unacknowledged record is not visible yet.
    expect((await readAll(reader)).map((message) => message.offset)).toEqual([0, 1, 2, 3, 4]);
    const log = openLog();
    await log.producer.publish('events', values(1, 6));
    const messages = await readAll(log);
    expect(messages.map((message) => message.offset)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(messages[5]!.value).toEqual(Buffer.from('unacknowledged'));
  });
});

describe('a reader across a writer\'s recovery', () => {
  it('reads the records that replace a torn tail it had already read into memory', async () => {
    await logWithFiveRecords();
    await appendFile(segmentPath, Buffer.alloc(200, 0xab));
    const reader = openEmbeddedLog(rootDir, { pollIntervalMs: 10 });
    const controller = new AbortController();
    const seen: string[] = [];
    await reader.consumer().consume({
      topics: ['events'],
      follow: true,
      signal: controller.signal,
      batchMessagesMax: 100,
      batchBytesMax: 1024 * 1024,
      startOffset: async () => 0,
      eachBatch: async (batch) => {
        seen.push(...batch.messages.map((message) => message.value!.toString()));
        // The reader's cached chunk now holds the garbage; a new writer cuts it off and
        // appends where it was.
        if (seen.length === 5) await openLog().producer.publish('events', values(2, 5));
        if (seen.length === 7) controller.abort();
        return { nextOffset: batch.messages[batch.messages.length - 1]!.offset + 1 };
      },
    });
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6].map((index) => `value ${index}`));
  });
});

describe('damage', () => {
  it('refuses a flipped byte in the middle of a segment, to writer and readers', async () => {
    await logWithFiveRecords();
    const bytes = await readFile(segmentPath);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x20;
    await writeFile(segmentPath, bytes);
    const log = openLog();
    await expect(readAll(log)).rejects.toThrow(
      /0{20}\.log is damaged: the record at byte \d+ \(offset 2\) has a CRC mismatch/,
    );
    await expect(log.producer.publish('events', values(1, 5))).rejects.toThrow(
      /is damaged: CRC mismatch in the record at byte \d+ \(offset 2\), which is not the last/,
    );
  });

  it('refuses to drop acknowledged records that went missing from the end', async () => {
    const cleanBytes = await logWithFiveRecords();
    await truncate(segmentPath, cleanBytes - 5);
    const log = openLog();
    await expect(log.producer.publish('events', values(1, 5))).rejects.toThrow(
      /acknowledged records from offset 4 to 4 are damaged or missing/,
    );
    await expect(readAll(log)).rejects.toThrow(/offset 4.*cut short/);
  });
});

describe('writer lock', () => {
  it('refuses a second live writer and names its pid; the lock is free after close', async () => {
    const first = openLog();
    await first.producer.ensureTopic('events', 1);
    const second = openLog();
    await expect(second.producer.publish('events', values(1))).rejects.toThrow(
      new RegExp(`being written by pid ${process.pid}`),
    );
    await expect(second.producer.ensureTopic('other', 1)).rejects.toThrow(/being written by pid/);
    // Reading needs no lock.
    expect(await second.producer.endOffsets('events')).toEqual(new Map([[0, 0]]));
    expect(await second.producer.ensureTopic('events', 3)).toBe(1);
    await first.producer.close();
    await second.producer.publish('events', values(1));
    expect(await second.producer.endOffsets('events')).toEqual(new Map([[0, 1]]));
  });

  it('takes over a lock left by a process that has died', async () => {
    await logWithFiveRecords();
    const child = spawnSync(process.execPath, ['-e', '']);
    expect(child.status).toBe(0);
    const stale = { pid: child.pid, hostname: hostname(), acquiredAt: '2026-01-01T00:00:00.000Z' };
    await writeFile(join(rootDir, 'writer.lock'), JSON.stringify(stale));
    const log = openLog();
    await log.producer.publish('events', values(1, 5));
    expect(JSON.parse(await readFile(join(rootDir, 'writer.lock'), 'utf8')).pid).toBe(process.pid);
    await closeAll();
    await expect(stat(join(rootDir, 'writer.lock'))).rejects.toThrow(/ENOENT/);
  });
});
