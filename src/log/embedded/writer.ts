// Appends to one partition. Opening recovers the last segment (a writer killed mid-append
// leaves a torn record there); each append writes its records in large chunks, fsyncs
// once, and only then publishes the new committed end offset that readers stop at.
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { invariant, isUserError } from '../../errors.ts';
import { encodeRecord, encodedRecordBytes, segmentFileName, type RecordInput } from './format.ts';
import { recoverSegment } from './segment.ts';
import {
  fsyncDirectory,
  listSegmentBases,
  logCorrupt,
  readCommitted,
  writeCommitted,
} from './store.ts';

/** Encoded bytes held in memory before they are written: bounds an append's memory. */
export const writeChunkBytesMax = 4 * 1024 * 1024;

export type RecoveryReport = { readonly truncatedBytes: number; readonly segmentPath: string };

export class PartitionWriter {
  /** Set when an append failed half-way: the file and our counters may disagree. */
  private failed = false;
  private directoryDirty = false;

  private constructor(
    private readonly directory: string,
    private readonly segmentBytesMax: number,
    private handle: FileHandle,
    private segmentPath: string,
    /** Bytes in the current segment file, all of them whole records. */
    private segmentBytes: number,
    /** The offset the next record gets; equal to the committed end between appends. */
    private nextOffsetValue: number,
    readonly recovery: RecoveryReport,
  ) {}

  static async open(directory: string, segmentBytesMax: number): Promise<PartitionWriter> {
    invariant(Number.isSafeInteger(segmentBytesMax), 'segment size is an integer');
    invariant(segmentBytesMax > 0, 'segment size is positive');
    const bases = await listSegmentBases(directory);
    const baseOffset = bases[bases.length - 1];
    if (baseOffset === undefined) throw logCorrupt(directory, 'the partition has no segment');
    const segmentPath = join(directory, segmentFileName(baseOffset));
    const committedEndOffset = await committedOrNull(directory);
    const recovered = await recoverSegment(segmentPath, baseOffset, committedEndOffset);
    const handle = await open(segmentPath, 'r+');
    const truncatedBytes = recovered.fileBytes - recovered.validBytes;
    try {
      if (truncatedBytes > 0) {
        await handle.truncate(recovered.validBytes);
        await handle.datasync();
      }
      // Records a killed writer wrote whole but never acknowledged are kept: they are now
      // durable, and a producer retrying its publish is deduplicated by event_id.
      await writeCommitted(directory, recovered.nextOffset);
    } catch (error) {
      await handle.close();
      throw error;
    }
    const recovery = { truncatedBytes, segmentPath };
    return new PartitionWriter(
      directory,
      segmentBytesMax,
      handle,
      segmentPath,
      recovered.validBytes,
      recovered.nextOffset,
      recovery,
    );
  }

  get nextOffset(): number {
    return this.nextOffsetValue;
  }

  /** Appends in order; on return the records are fsync'd and visible to readers. */
  async append(records: readonly RecordInput[]): Promise<void> {
    invariant(!this.failed, 'a partition writer whose append failed is not used again');
    if (records.length === 0) return;
    this.failed = true;
    const chunk = Buffer.allocUnsafe(writeChunkBytesMax);
    let chunkBytes = 0;
    for (const record of records) {
      const frameBytes = encodedRecordBytes(record);
      // A record larger than a whole segment still gets one, alone.
      const segmentBytesPlanned = this.segmentBytes + chunkBytes;
      if (segmentBytesPlanned > 0 && segmentBytesPlanned + frameBytes > this.segmentBytesMax) {
        await this.write(chunk.subarray(0, chunkBytes));
        chunkBytes = 0;
        await this.roll();
      }
      if (frameBytes > chunk.length) {
        await this.write(chunk.subarray(0, chunkBytes));
        chunkBytes = 0;
        const frame = Buffer.allocUnsafe(frameBytes);
        encodeRecord(frame, 0, record, this.nextOffsetValue);
        await this.write(frame);
      } else {
        if (chunkBytes + frameBytes > chunk.length) {
          await this.write(chunk.subarray(0, chunkBytes));
          chunkBytes = 0;
        }
        chunkBytes = encodeRecord(chunk, chunkBytes, record, this.nextOffsetValue);
      }
      this.nextOffsetValue += 1;
      invariant(Number.isSafeInteger(this.nextOffsetValue), 'offsets stay safe integers');
    }
    await this.write(chunk.subarray(0, chunkBytes));
    await this.handle.datasync();
    if (this.directoryDirty) await fsyncDirectory(this.directory);
    this.directoryDirty = false;
    await writeCommitted(this.directory, this.nextOffsetValue);
    this.failed = false;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  private async write(bytes: Buffer): Promise<void> {
    let writtenBytes = 0;
    // Each write moves at least one byte forward, or throws.
    while (writtenBytes < bytes.length) {
      const { bytesWritten } = await this.handle.write(
        bytes,
        writtenBytes,
        bytes.length - writtenBytes,
        this.segmentBytes,
      );
      invariant(bytesWritten > 0, `a write to ${this.segmentPath} makes progress`);
      writtenBytes += bytesWritten;
      this.segmentBytes += bytesWritten;
    }
  }

  /**
   * Starts a new segment named by the next offset. The full one is fsync'd first, so a
   * crash can only ever leave a torn record in the last segment, where recovery looks.
   */
  private async roll(): Promise<void> {
    await this.handle.datasync();
    await this.handle.close();
    this.segmentPath = join(this.directory, segmentFileName(this.nextOffsetValue));
    this.handle = await open(this.segmentPath, 'wx');
    this.segmentBytes = 0;
    this.directoryDirty = true;
  }
}

/** The committed end, if a readable one exists; recovery then refuses to lose records below it. */
async function committedOrNull(directory: string): Promise<number | null> {
  try {
    return await readCommitted(directory);
  } catch (error) {
    if (isUserError(error)) return null;
    throw error;
  }
}
