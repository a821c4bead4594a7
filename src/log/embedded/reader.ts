// Reads one partition for a consumer, possibly while another process appends to it. It
// never reads at or past a committed end offset it was given, so it only ever sees whole,
// fsync'd records, and it checks each record's CRC and offset before handing it out.
import { join } from 'node:path';
import { invariant } from '../../errors.ts';
import type { LogMessage } from '../types.ts';
import { FileWindow, readChunkBytesDefault } from './file-window.ts';
import {
  decodeFrameHeader,
  decodeRecord,
  frameBytesOf,
  frameCrcMatches,
  frameHeaderBytes,
  segmentFileName,
} from './format.ts';
import { SegmentIndex, indexIntervalBytesDefault } from './segment.ts';
import {
  listSegmentBases,
  logCorrupt,
  partitionDirectory,
  readCommitted,
  segmentBaseFor,
} from './store.ts';

type Cursor = { baseOffset: number; window: FileWindow; position: number; nextOffset: number };

export type ReaderOptions = {
  readonly indexIntervalBytes?: number;
  readonly readChunkBytes?: number;
};

export class PartitionReader {
  private readonly directory: string;
  private readonly indexes = new Map<number, SegmentIndex>();
  private cursor: Cursor | null = null;

  constructor(
    rootDir: string,
    readonly topic: string,
    readonly partition: number,
    private readonly options: ReaderOptions = {},
  ) {
    this.directory = partitionDirectory(rootDir, topic, partition);
  }

  /** The offset the next appended record will get, as the writer last published it. */
  committedEndOffset(): Promise<number> {
    return readCommitted(this.directory);
  }

  /**
   * Consecutive messages from `fromOffset`, all below `endOffset` (a committed end offset
   * read earlier): at most `messagesMax`, and at most `bytesMax` record bytes unless the
   * first record alone is larger, in which case it comes alone.
   */
  async read(
    fromOffset: number,
    endOffset: number,
    messagesMax: number,
    bytesMax: number,
  ): Promise<LogMessage[]> {
    invariant(Number.isSafeInteger(fromOffset) && fromOffset >= 0, 'read offset is valid');
    invariant(fromOffset < endOffset, 'a read starts below the end offset');
    invariant(messagesMax >= 1 && bytesMax >= 1, 'a batch may hold at least one message');
    const cursor =
      this.cursor?.nextOffset === fromOffset ? this.cursor : await this.seek(fromOffset, endOffset);
    const messages: LogMessage[] = [];
    let batchBytes = 0;
    // Bounded by messagesMax.
    while (messages.length < messagesMax && cursor.nextOffset < endOffset) {
      const frame = await this.frameAtCursor();
      if (messages.length > 0 && batchBytes + frame.length > bytesMax) break;
      messages.push(this.decode(frame, cursor));
      batchBytes += frame.length;
      cursor.position += frame.length;
      cursor.nextOffset += 1;
    }
    invariant(messages.length >= 1, 'a read below the end offset returns a message');
    invariant(messages[0]!.offset === fromOffset, 'a read starts where it was asked to');
    return messages;
  }

  /** Closes the open segment file; the indexes stay and the reader can be used again. */
  async close(): Promise<void> {
    const cursor = this.cursor;
    this.cursor = null;
    if (cursor !== null) await cursor.window.close();
  }

  /** Places the cursor on `offset` through the segment's sparse index. */
  private async seek(offset: number, endOffset: number): Promise<Cursor> {
    const bases = await listSegmentBases(this.directory);
    const baseOffset = segmentBaseFor(bases, offset);
    if (baseOffset === null) throw logCorrupt(this.directory, `no segment holds offset ${offset}`);
    const cursor = await this.cursorAtSegment(baseOffset);
    let index = this.indexes.get(baseOffset);
    if (index === undefined) {
      const intervalBytes = this.options.indexIntervalBytes ?? indexIntervalBytesDefault;
      index = new SegmentIndex(baseOffset, intervalBytes);
      this.indexes.set(baseOffset, index);
    }
    await index.extend(cursor.window, offset, endOffset);
    if (!index.covers(offset)) {
      throw logCorrupt(cursor.window.path, `offset ${offset} is committed but not in its segment`);
    }
    const start = index.floor(offset);
    cursor.position = start.position;
    cursor.nextOffset = start.offset;
    // The index entry is at most one interval of bytes before the offset.
    while (cursor.nextOffset < offset) {
      const frame = await this.frameAtCursor();
      cursor.position += frame.length;
      cursor.nextOffset += 1;
    }
    return cursor;
  }

  /**
   * The cursor, at the start of the segment based at `baseOffset`. The same object is
   * kept across segments, so a caller holding it follows a move to the next segment.
   */
  private async cursorAtSegment(baseOffset: number): Promise<Cursor> {
    const current = this.cursor;
    if (current !== null && current.baseOffset === baseOffset) {
      current.position = 0;
      current.nextOffset = baseOffset;
      return current;
    }
    const path = join(this.directory, segmentFileName(baseOffset));
    const readChunkBytes = this.options.readChunkBytes ?? readChunkBytesDefault;
    const window = await FileWindow.open(path, readChunkBytes);
    if (current === null) {
      this.cursor = { baseOffset, window, position: 0, nextOffset: baseOffset };
      return this.cursor;
    }
    const previous = current.window;
    current.baseOffset = baseOffset;
    current.window = window;
    current.position = 0;
    current.nextOffset = baseOffset;
    await previous.close();
    return current;
  }

  /** The whole, CRC-checked frame at the cursor, moving to the next segment at a file's end. */
  private async frameAtCursor(): Promise<Buffer> {
    const cursor = this.cursor;
    invariant(cursor !== null, 'a cursor is placed before reading');
    const frame = await this.frameOrProblem(cursor);
    if (typeof frame !== 'string') return frame;
    // The cached chunk may predate a writer's recovery (see FileWindow.forgetChunk).
    cursor.window.forgetChunk();
    const fresh = await this.frameOrProblem(cursor);
    if (typeof fresh === 'string') throw corruptAt(cursor, fresh);
    return fresh;
  }

  private async frameOrProblem(cursor: Cursor): Promise<Buffer | string> {
    // The common case reads the length straight from the cached chunk, allocating nothing.
    const bodyBytes =
      cursor.window.cachedUint32(cursor.position) ?? (await this.bodyBytesAt(cursor));
    const frameBytes = frameBytesOf(bodyBytes);
    if (frameBytes === null) return 'has a bad length';
    const frame =
      cursor.window.cached(cursor.position, frameBytes) ??
      (await cursor.window.load(cursor.position, frameBytes));
    if (frame === null) return 'is cut short';
    const header = decodeFrameHeader(frame);
    invariant(header !== null, 'a frame with a valid length has a header');
    invariant(header.frameBytes === frameBytes, 'the frame length reads the same twice');
    return frameCrcMatches(frame, header) ? frame : 'has a CRC mismatch';
  }

  /** The length field at the cursor, from the file; at a segment's end, from the next one. */
  private async bodyBytesAt(cursor: Cursor): Promise<number> {
    let headerBytes = await cursor.window.load(cursor.position, frameHeaderBytes);
    if (headerBytes === null) {
      await this.enterNextSegment(cursor);
      headerBytes = await cursor.window.load(cursor.position, frameHeaderBytes);
    }
    if (headerBytes === null) throw corruptAt(cursor, 'is missing');
    return headerBytes.readUInt32BE(0);
  }

  /**
   * A segment's file ended below the committed end, so the writer rolled: the next
   * segment must start exactly at the cursor's offset, or offsets would not be dense.
   */
  private async enterNextSegment(cursor: Cursor): Promise<void> {
    const bases = await listSegmentBases(this.directory);
    if (!bases.includes(cursor.nextOffset)) {
      const problem = `it ends at offset ${cursor.nextOffset}, but no segment starts there`;
      throw logCorrupt(cursor.window.path, problem);
    }
    const moved = await this.cursorAtSegment(cursor.nextOffset);
    invariant(moved === cursor, 'the cursor object is kept across segments');
  }

  private decode(frame: Buffer, cursor: Cursor): LogMessage {
    const message = decodeRecord(frame, this.topic, this.partition);
    if (typeof message === 'string') throw corruptAt(cursor, `is malformed: ${message}`);
    if (message.offset !== cursor.nextOffset) {
      throw corruptAt(cursor, `holds offset ${message.offset}`);
    }
    return message;
  }
}

function corruptAt(cursor: Cursor, problem: string) {
  const where = `the record at byte ${cursor.position} (offset ${cursor.nextOffset})`;
  return logCorrupt(cursor.window.path, `${where} ${problem}`);
}
