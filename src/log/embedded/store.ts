// Files and directories of the embedded log (the layout is described in format.ts):
// topic metadata, committed end offsets, segment listings, and the fsyncs that make a
// new file's name as durable as its contents.
import { mkdir, open, readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError, invariant } from '../../errors.ts';
import {
  decodeCommitted,
  encodeCommitted,
  logFormatVersion,
  parseSegmentFileName,
} from './format.ts';

/** Kafka's own rule for topic names, which also keeps them safe as directory names. */
const topicNamePattern = /^[a-zA-Z0-9._-]{1,249}$/;
export const partitionCountMax = 1024;
/** Segments in one partition; at 64 MiB each this is 64 TiB, far past any real use. */
export const segmentCountMax = 1_000_000;

export function topicDirectory(rootDir: string, topic: string): string {
  const valid = topicNamePattern.test(topic) && topic !== '.' && topic !== '..';
  if (!valid) {
    throw new UserError(
      'log_topic_invalid',
      `topic name "${topic}" is not valid: use 1 to 249 of a-z A-Z 0-9 . _ -`,
    );
  }
  return join(rootDir, topic);
}

export function partitionDirectory(rootDir: string, topic: string, partition: number): string {
  invariant(Number.isSafeInteger(partition) && partition >= 0, 'partition is an index');
  return join(topicDirectory(rootDir, topic), `partition-${partition}`);
}

export function logCorrupt(path: string, detail: string): UserError {
  return new UserError('log_corrupt', `embedded log file ${path} is damaged: ${detail}`);
}

export function topicMissing(rootDir: string, topic: string): UserError {
  return new UserError('log_topic_missing', `topic "${topic}" does not exist in ${rootDir}`);
}

/** The topic's partition count, or null when the topic does not exist (yet). */
export async function readTopicPartitions(rootDir: string, topic: string): Promise<number | null> {
  const path = join(topicDirectory(rootDir, topic), 'topic.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
  let metadata: unknown;
  try {
    metadata = JSON.parse(text);
  } catch {
    throw logCorrupt(path, 'not JSON');
  }
  const { formatVersion, partitions } = (metadata ?? {}) as Record<string, unknown>;
  if (formatVersion !== logFormatVersion) {
    throw logCorrupt(path, `format version ${String(formatVersion)}, expected ${logFormatVersion}`);
  }
  const valid = typeof partitions === 'number' && Number.isSafeInteger(partitions);
  if (!valid || partitions < 1 || partitions > partitionCountMax) {
    throw logCorrupt(path, `partition count ${String(partitions)} is not 1..${partitionCountMax}`);
  }
  return partitions;
}

/** Written last when a topic is created, so a topic.json implies its partitions exist. */
export async function writeTopicMetadata(rootDir: string, topic: string, partitions: number) {
  const text = `${JSON.stringify({ formatVersion: logFormatVersion, partitions })}\n`;
  await writeFileAtomic(topicDirectory(rootDir, topic), 'topic.json', Buffer.from(text), true);
}

/**
 * Replaces the committed end offset. It is not fsync'd: it only ever lags the fsync'd
 * data, and a writer recomputes it from the segments when it opens the log.
 */
export async function writeCommitted(directory: string, endOffset: number): Promise<void> {
  await writeFileAtomic(directory, 'committed.bin', encodeCommitted(endOffset), false);
}

export async function readCommitted(directory: string): Promise<number> {
  const path = join(directory, 'committed.bin');
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if (isNotFound(error)) throw logCorrupt(path, 'missing');
    throw error;
  }
  const endOffset = decodeCommitted(bytes);
  if (endOffset === null) {
    throw logCorrupt(path, 'unreadable; opening the log for writing rebuilds it');
  }
  return endOffset;
}

/** The partition's segment base offsets, ascending. */
export async function listSegmentBases(directory: string): Promise<number[]> {
  const names = await readdir(directory);
  const bases: number[] = [];
  for (const name of names) {
    const baseOffset = parseSegmentFileName(name);
    if (baseOffset !== null) bases.push(baseOffset);
  }
  if (bases.length > segmentCountMax) {
    throw logCorrupt(directory, `more than ${segmentCountMax} segments`);
  }
  return bases.sort((left, right) => left - right);
}

/** The largest base offset at or below `offset`: the segment that would hold it. */
export function segmentBaseFor(bases: readonly number[], offset: number): number | null {
  let low = 0;
  let high = bases.length - 1;
  let found: number | null = null;
  // Binary search: at most log2(segmentCountMax) rounds.
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const base = bases[middle]!;
    if (base <= offset) {
      found = base;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

export async function ensureDirectory(path: string): Promise<void> {
  await mkdir(path, { recursive: true });
}

/** Makes a directory's entries (new files, renames) durable, not only the files' bytes. */
export async function fsyncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeFileAtomic(directory: string, name: string, bytes: Buffer, durable: boolean) {
  const temporaryPath = join(directory, `${name}.tmp`);
  const handle = await open(temporaryPath, 'w');
  try {
    await handle.writeFile(bytes);
    if (durable) await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporaryPath, join(directory, name));
  if (durable) await fsyncDirectory(directory);
}

export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
