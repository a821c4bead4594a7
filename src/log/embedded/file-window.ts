// A read-only view of a segment file that reads it in large chunks. Records are small
// (hundreds of bytes) and read in order, so one 1 MiB read serves thousands of them; the
// chunk is kept so that the next record usually needs no system call at all.
import { open, type FileHandle } from 'node:fs/promises';
import { invariant } from '../../errors.ts';

export const readChunkBytesDefault = 1024 * 1024;

export class FileWindow {
  /** Each chunk is a fresh buffer, never reused: messages may keep slices of it. */
  private chunk: Buffer = Buffer.alloc(0);
  private chunkPosition = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly readChunkBytes: number,
  ) {}

  static async open(path: string, readChunkBytes = readChunkBytesDefault): Promise<FileWindow> {
    invariant(readChunkBytes >= 64, 'a read chunk holds at least a frame header');
    const handle = await open(path, 'r');
    return new FileWindow(path, handle, readChunkBytes);
  }

  /** The bytes at [position, position + lengthBytes) if the current chunk holds them. */
  cached(position: number, lengthBytes: number): Buffer | undefined {
    const start = position - this.chunkPosition;
    if (start < 0 || start + lengthBytes > this.chunk.length) return undefined;
    return this.chunk.subarray(start, start + lengthBytes);
  }

  /** The u32 at `position` if the current chunk holds it: a frame's length, without a copy. */
  cachedUint32(position: number): number | undefined {
    const start = position - this.chunkPosition;
    if (start < 0 || start + 4 > this.chunk.length) return undefined;
    return this.chunk.readUInt32BE(start);
  }

  /**
   * Exactly `lengthBytes` bytes at `position`, or null when the file ends before them. The
   * file may have grown (another process appends) or, past a committed end, shrunk (a
   * writer's recovery), so its size is read again for every chunk.
   */
  async load(position: number, lengthBytes: number): Promise<Buffer | null> {
    invariant(Number.isSafeInteger(position), 'position is an integer');
    invariant(position >= 0, 'position is not negative');
    invariant(lengthBytes > 0, 'a read asks for at least one byte');
    const cachedBytes = this.cached(position, lengthBytes);
    if (cachedBytes !== undefined) return cachedBytes;
    const sizeBytes = await this.currentSizeBytes();
    if (position + lengthBytes > sizeBytes) return null;
    const wantedBytes = Math.max(lengthBytes, this.readChunkBytes);
    const buffer = Buffer.allocUnsafe(Math.min(wantedBytes, sizeBytes - position));
    const filledBytes = await this.readUntilEnd(buffer, position);
    this.chunk = buffer.subarray(0, filledBytes);
    this.chunkPosition = position;
    if (filledBytes < lengthBytes) return null;
    return this.chunk.subarray(0, lengthBytes);
  }

  /**
   * Drops the cached chunk. Bytes past a committed end can change: a writer's recovery
   * cuts a torn tail and appends new records in its place. A reader that finds a bad
   * record in its cache reads the file again before calling it damage.
   */
  forgetChunk(): void {
    this.chunk = Buffer.alloc(0);
    this.chunkPosition = 0;
  }

  /** The file's size now, read from the file system rather than remembered. */
  async currentSizeBytes(): Promise<number> {
    return (await this.handle.stat()).size;
  }

  async close(): Promise<void> {
    this.chunk = Buffer.alloc(0);
    await this.handle.close();
  }

  /** Fills `target` from `position`, or less when the file ends (shrank) first. */
  private async readUntilEnd(target: Buffer, position: number): Promise<number> {
    let filledBytes = 0;
    // Each round reads at least one byte or stops, so the target's size bounds the rounds.
    while (filledBytes < target.length) {
      const { bytesRead } = await this.handle.read(
        target,
        filledBytes,
        target.length - filledBytes,
        position + filledBytes,
      );
      if (bytesRead === 0) break;
      filledBytes += bytesRead;
    }
    return filledBytes;
  }
}
