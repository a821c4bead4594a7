// Walking a segment's frames: the writer's recovery of a torn tail, and the readers'
// sparse index (offset → file position) that lets a seek skip most of a large segment.
import { invariant } from '../../errors.ts';
import { FileWindow } from './file-window.ts';
import {
  decodeFrameHeader,
  frameCrcMatches,
  frameHeaderBytes,
  frameOffset,
  frameScanBytes,
} from './format.ts';
import { logCorrupt } from './store.ts';

/** One index entry per this many bytes of records: a seek then reads at most about this much. */
export const indexIntervalBytesDefault = 4096;

export type RecoveredSegment = {
  /** Bytes of whole, CRC-correct records from the start of the file. */
  readonly validBytes: number;
  readonly nextOffset: number;
  readonly fileBytes: number;
};

/**
 * Finds where the last segment's good records end. A record cut short, a length that no
 * record can have, or a CRC mismatch in the file's very last record is a write that a
 * crash interrupted: the caller truncates it. A CRC mismatch followed by more records,
 * or any damage below the committed end offset (records a publish acknowledged), is
 * corruption and throws: silently dropping acknowledged records would rewrite history.
 */
export async function recoverSegment(
  path: string,
  baseOffset: number,
  committedEndOffset: number | null,
): Promise<RecoveredSegment> {
  const window = await FileWindow.open(path);
  try {
    const fileBytes = await window.currentSizeBytes();
    let position = 0;
    let nextOffset = baseOffset;
    // Each round consumes at least one whole frame, so the file size bounds the rounds.
    while (position < fileBytes) {
      const frame = await wholeFrameAt(window, position, fileBytes);
      if (frame === 'torn') break;
      if (frame === 'crc_mismatch') {
        const where = `the record at byte ${position} (offset ${nextOffset})`;
        throw logCorrupt(path, `CRC mismatch in ${where}, which is not the last`);
      }
      const offset = frameOffset(frame);
      if (offset !== nextOffset) {
        const problem = `record at byte ${position} has offset ${offset}, expected ${nextOffset}`;
        throw logCorrupt(path, problem);
      }
      position += frame.length;
      nextOffset += 1;
    }
    if (committedEndOffset !== null && nextOffset < committedEndOffset) {
      const range = `from offset ${nextOffset} to ${committedEndOffset - 1}`;
      throw logCorrupt(path, `acknowledged records ${range} are damaged or missing`);
    }
    invariant(position <= fileBytes, 'recovery stays inside the file');
    return { validBytes: position, nextOffset, fileBytes };
  } finally {
    await window.close();
  }
}

/** A whole frame whose CRC matches, or why there is none at `position`. */
async function wholeFrameAt(
  window: FileWindow,
  position: number,
  fileBytes: number,
): Promise<Buffer | 'torn' | 'crc_mismatch'> {
  const headerBytes = await window.load(position, frameHeaderBytes);
  if (headerBytes === null) return 'torn';
  const header = decodeFrameHeader(headerBytes);
  if (header === null) return 'torn';
  if (position + header.frameBytes > fileBytes) return 'torn';
  const frame = await window.load(position, header.frameBytes);
  if (frame === null) return 'torn';
  if (frameCrcMatches(frame, header)) return frame;
  return position + header.frameBytes === fileBytes ? 'torn' : 'crc_mismatch';
}

/**
 * Offset → position for one segment, one entry per `intervalBytes` of records, built by
 * scanning frame headers (not bodies) on first use and extended as the segment grows.
 * It only ever covers records below a committed end offset, so never a torn tail.
 */
export class SegmentIndex {
  private readonly offsets: number[] = [];
  private readonly positions: number[] = [];
  private scannedPosition = 0;
  private scannedNextOffset: number;

  constructor(
    readonly baseOffset: number,
    private readonly intervalBytes: number,
  ) {
    invariant(intervalBytes > 0, 'index interval is positive');
    this.scannedNextOffset = baseOffset;
  }

  /** True when the scanned part of the segment holds `offset`. */
  covers(offset: number): boolean {
    return offset >= this.baseOffset && offset < this.scannedNextOffset;
  }

  /** Scans on from where the last scan stopped until `targetOffset` is covered. */
  async extend(window: FileWindow, targetOffset: number, endOffset: number): Promise<void> {
    invariant(targetOffset < endOffset, 'only committed offsets are looked up');
    // Each round indexes one record below endOffset, so endOffset bounds the rounds.
    while (this.scannedNextOffset <= targetOffset) {
      const position = this.scannedPosition;
      let frame = await this.frameAt(window, position);
      if (typeof frame === 'string') {
        // The cached chunk may predate a writer's recovery (see FileWindow.forgetChunk).
        window.forgetChunk();
        frame = await this.frameAt(window, position);
      }
      if (typeof frame === 'string') throw logCorrupt(window.path, frame);
      if (frame === null) return;
      const last = this.positions[this.positions.length - 1];
      if (last === undefined || position - last >= this.intervalBytes) {
        this.offsets.push(this.scannedNextOffset);
        this.positions.push(position);
      }
      this.scannedPosition = position + frame.frameBytes;
      this.scannedNextOffset += 1;
    }
  }

  /** The frame's size if it is the next record; null at the file's end; else the problem. */
  private async frameAt(
    window: FileWindow,
    position: number,
  ): Promise<{ frameBytes: number } | null | string> {
    const start =
      window.cached(position, frameScanBytes) ?? (await window.load(position, frameScanBytes));
    if (start === null) return null;
    const header = decodeFrameHeader(start);
    if (header === null) return `bad record length at byte ${position}`;
    const offset = frameOffset(start);
    const expected = this.scannedNextOffset;
    if (offset !== expected) {
      return `record at byte ${position} has offset ${offset}, expected ${expected}`;
    }
    return header;
  }

  /** The indexed record at or before `offset`: where a seek starts reading. */
  floor(offset: number): { offset: number; position: number } {
    invariant(this.covers(offset), 'the index covers the offset');
    let low = 0;
    let high = this.offsets.length - 1;
    // Binary search over the entries; the first entry is the segment's first record.
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (this.offsets[middle]! <= offset) low = middle;
      else high = middle - 1;
    }
    return { offset: this.offsets[low]!, position: this.positions[low]! };
  }
}
