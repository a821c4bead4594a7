// `ledger events publish FILE`: each line of the file becomes one message, keyed per
// EVENTS.md and placed on the partition Kafka's default partitioner would choose.
// Malformed lines are published as they are: the projector must cope. The file is read
// as bytes and streamed, so invalid UTF-8 reaches the log intact and size is no issue.
// A publish that stops part-way (a line too long to read, a log that refuses a message,
// a broker gone) says how many lines are in the log and at which line it stopped, so
// that the operator can resume there; every line before that one is published first.
import { open, type FileHandle } from 'node:fs/promises';
import { UserError } from '../errors.ts';
import { countFileLines } from '../storage/files.ts';
import { limits } from '../limits.ts';
import { orderingKey } from './keys.ts';
import { partitionForKey } from './partitioner.ts';
import type { LogProducer, PublishRecord } from './types.ts';

const publishChunkRecords = 5_000;
/** The longest line read: longer ones stop the publish (the projector reads at most limits.messageBytesMax). */
export const publishLineBytesMax = limits.messageBytesMax * 4;
/**
 * A line at least this long is published in a request of its own, so that a log refusing
 * it (Kafka's message.max.bytes is 1 MiB by default) stops exactly there, with no line in doubt.
 */
const soloLineBytes = 512 * 1024;

export type PublishResult = { published: number };

/** Lines whose records were handed to the log in one call: all, some or none may be in it. */
type Chunk = { records: PublishRecord[]; firstLine: number; lastLine: number };

/**
 * A publish stopped part-way. `published` lines (every non-blank line before `line`, or
 * before the chunk in doubt) are in the log; `line` and the lines after it are to be
 * published again. Re-publishing a line that did reach the log only adds a duplicate,
 * which the projector recognises by its event_id.
 */
export class PublishStopped extends UserError {
  readonly result: {
    published: number;
    error: { code: string; message: string; file: string; line: number; reason: string;
      in_doubt: { from_line: number; to_line: number } | null };
  };

  constructor(file: string, published: number, line: number, reason: string, inDoubtToLine: number | null) {
    const doubt = inDoubtToLine === null ? `line ${line} and those after it are not in the log`
      : inDoubtToLine === line ? `line ${line} may be in the log, those after it are not`
        : `some of lines ${line} to ${inDoubtToLine} may be in the log, those after them are not`;
    super('publish_stopped', `published ${published} lines of ${file}; stopped at line ${line}: ${reason}; ` +
      `${doubt} (publishing a line twice is safe: the projector skips the duplicate)`);
    this.result = {
      published,
      error: { code: this.code, message: this.message, file, line, reason,
        in_doubt: inDoubtToLine === null ? null : { from_line: line, to_line: inDoubtToLine } },
    };
  }
}

/** `onProgress(linesRead, linesInFile)`: after each chunk handed to the log (the lines are counted first). */
export type PublishProgress = (linesRead: number, linesTotal: number) => void;

export async function publishFile(
  producer: LogProducer, topic: string, partitions: number, file: string, onProgress?: PublishProgress,
): Promise<PublishResult> {
  const handle = await openEventFile(file);
  try {
    const partitionCount = await producer.ensureTopic(topic, partitions);
    const total = onProgress === undefined ? 0 : await countFileLines(file);
    return await publishFrom(handle, file, producer, topic, partitionCount,
      onProgress === undefined ? undefined : (read) => onProgress(read, total));
  } finally {
    await handle.close();
  }
}

/** Opens FILE for reading, or says in one line why it cannot be: missing, unreadable, a directory. */
async function openEventFile(file: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw new UserError('bad_file', `cannot read ${file}: ${fileErrorReason(error, false)}`);
  }
  const stats = await handle.stat();
  if (stats.isDirectory()) {
    await handle.close();
    throw new UserError('bad_file', `${file} is a directory; give a file of events, one JSON object per line`);
  }
  return handle;
}

async function publishFrom(
  handle: FileHandle, file: string, producer: LogProducer, topic: string, partitionCount: number,
  onProgress?: (linesRead: number) => void,
): Promise<PublishResult> {
  let published = 0;
  let lineNumber = 0;
  let chunk: Chunk = { records: [], firstLine: 0, lastLine: 0 };
  let logFailed = false;
  /** Hands the chunk to the log; a failure stops the publish at its first line. */
  const flush = async () => {
    if (chunk.records.length > 0) {
      try {
        await producer.publish(topic, chunk.records);
      } catch (error) {
        logFailed = true;
        // A refused or timed-out request may still have reached some partitions.
        throw stopped(error, file, published, chunk.firstLine, chunk.lastLine);
      }
      published += chunk.records.length;
      onProgress?.(chunk.lastLine);
    }
    chunk = { records: [], firstLine: 0, lastLine: 0 };
  };
  try {
    for await (const line of readLines(handle)) {
      lineNumber += 1;
      if (line.length === 0) continue; // a blank line is no message
      if (published + chunk.records.length >= limits.publishLinesMax) {
        await flush();
        throw new PublishStopped(file, published, lineNumber,
          `the file has more than ${limits.publishLinesMax} lines; split it`, null);
      }
      if (line.length >= soloLineBytes) await flush();
      const key = orderingKey(line);
      if (chunk.records.length === 0) chunk.firstLine = lineNumber;
      chunk.records.push({ key, value: line, partition: key === null ? 0 : partitionForKey(key, partitionCount) });
      chunk.lastLine = lineNumber;
      if (chunk.records.length >= publishChunkRecords || line.length >= soloLineBytes) await flush();
    }
  } catch (error) {
    if (error instanceof PublishStopped || logFailed) throw error;
    // Reading stopped at the next line: what came before it is published first.
    await flush();
    throw stopped(error, file, published, lineNumber + 1, null);
  }
  await flush();
  onProgress?.(lineNumber);
  return { published };
}


/** A stop as the operator sees it; a bug keeps its stack, with the count in its message. */
function stopped(error: unknown, file: string, published: number, line: number, inDoubt: number | null): Error {
  if (error instanceof UserError) return new PublishStopped(file, published, line, error.message, inDoubt);
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    return new PublishStopped(file, published, line, fileErrorReason(error), inDoubt);
  }
  const cause = error instanceof Error ? error.stack ?? error.message : String(error);
  return new Error(`published ${published} lines of ${file}; stopped at line ${line}: ${cause}`, { cause: error });
}

function fileErrorReason(error: unknown, withPath = true): string {
  const { code, path } = (error ?? {}) as NodeJS.ErrnoException;
  const where = path === undefined || !withPath ? '' : ` (${path})`;
  if (code === 'ENOENT') return `no such file${where}`;
  if (code === 'EACCES' || code === 'EPERM') return `permission denied${where}`;
  if (code === 'ENOSPC' || code === 'EDQUOT') return `no space left on the device${where}`;
  if (code === 'EROFS') return `read-only file system${where}`;
  return `${code ?? 'error'}: ${(error as Error).message}`;
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
async function* readLines(handle: FileHandle): AsyncGenerator<Buffer> {
  let rest = Buffer.alloc(0);
  for await (const chunk of handle.createReadStream({ highWaterMark: 1024 * 1024, autoClose: false })) {
    let data = rest.length === 0 ? (chunk as Buffer) : Buffer.concat([rest, chunk as Buffer]);
    let newline = data.indexOf(0x0a);
    while (newline !== -1) {
      yield checkedLine(trimCr(data.subarray(0, newline)));
      data = data.subarray(newline + 1);
      newline = data.indexOf(0x0a);
    }
    rest = Buffer.from(checkedLine(data)); // a line without its end yet is bounded too
  }
  if (rest.length > 0) yield checkedLine(trimCr(rest));
}

function checkedLine(line: Buffer): Buffer {
  if (line.length > publishLineBytesMax) {
    throw new UserError('bad_file', `the line is longer than ${publishLineBytesMax} bytes ` +
      `(the projector reads at most ${limits.messageBytesMax})`);
  }
  return line;
}

function trimCr(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, line.length - 1) : line;
}
