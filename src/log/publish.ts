// `ledger events publish FILE`: each line of the file becomes one message, keyed per
// EVENTS.md and placed on the partition Kafka's default partitioner would choose.
// Malformed lines are published as they are: the projector must cope. The file is read
// as bytes and streamed, so invalid UTF-8 reaches the log intact and size is no issue.
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { UserError } from '../errors.ts';
import { limits } from '../limits.ts';
import { orderingKey } from './keys.ts';
import { partitionForKey } from './partitioner.ts';
import type { LogProducer, PublishRecord } from './types.ts';

const publishChunkRecords = 5_000;

export async function publishFile(
  producer: LogProducer, topic: string, partitions: number, file: string,
): Promise<{ published: number }> {
  await access(file).catch(() => {
    throw new UserError('bad_file', `cannot read ${file}: no such file or no permission`);
  });
  const partitionCount = await producer.ensureTopic(topic, partitions);
  let published = 0;
  let pending: PublishRecord[] = [];
  for await (const line of readLines(file)) {
    if (line.length === 0) continue; // a blank line is no message
    if (published + pending.length >= limits.publishLinesMax) {
      throw new UserError('bad_file', `${file} has more than ${limits.publishLinesMax} lines`);
    }
    const key = orderingKey(line);
    pending.push({ key, value: line, partition: key === null ? 0 : partitionForKey(key, partitionCount) });
    if (pending.length >= publishChunkRecords) {
      await producer.publish(topic, pending);
      published += pending.length;
      pending = [];
    }
  }
  await producer.publish(topic, pending);
  return { published: published + pending.length };
}

export async function publishLines(
  producer: LogProducer, topic: string, partitions: number, lines: readonly string[],
): Promise<{ published: number }> {
  const partitionCount = await producer.ensureTopic(topic, partitions);
  for (let start = 0; start < lines.length; start += publishChunkRecords) {
    const records = lines.slice(start, start + publishChunkRecords).map((text) => {
      const value = Buffer.from(text, 'utf8');
      const key = orderingKey(value);
      return { key, value, partition: key === null ? 0 : partitionForKey(key, partitionCount) };
    });
    await producer.publish(topic, records);
  }
  return { published: lines.length };
}

/** Lines as raw bytes, without the trailing newline (and a CR before it). */
async function* readLines(file: string): AsyncGenerator<Buffer> {
  let rest = Buffer.alloc(0);
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
    let data = rest.length === 0 ? (chunk as Buffer) : Buffer.concat([rest, chunk as Buffer]);
    let newline = data.indexOf(0x0a);
    while (newline !== -1) {
      yield trimCr(data.subarray(0, newline));
      data = data.subarray(newline + 1);
      newline = data.indexOf(0x0a);
    }
    if (data.length > limits.messageBytesMax * 4) {
      throw new UserError('bad_file', `${file} has a line longer than ${limits.messageBytesMax * 4} bytes`);
    }
    rest = Buffer.from(data);
  }
  if (rest.length > 0) yield trimCr(rest);
}

function trimCr(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, line.length - 1) : line;
}
