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
  private sizeBytes = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly readChunkBytes: number,
  ) {}

  static async open(path: string, readChunkBytes = readChunkBytesDefault): Promise<FileWindow> {
    invariant(readChunkBytes >= 64, 'a read chunk holds at least a frame header');
    const handle = await open(path, 'r');
    const window = new FileWindow(path, handle, readChunkBytes);
    window.sizeBytes = (await handle.stat()).size;
    return window;
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
   * file may grow (another process appends), so its size is checked again before giving up.
   */
  async load(position: number, lengthBytes: number): Promise<Buffer | null> {
    invariant(Number.isSafeInteger(position) && position >= 0, 'position is valid');
    invariant(lengthBytes > 0, 'a read asks for at least one byte');
    const cachedBytes = this.cached(position, lengthBytes);
    if (cachedBytes !== undefined) return cachedBytes;
    if (position + lengthBytes > this.sizeBytes) {
      this.sizeBytes = (await this.handle.stat()).size;
      if (position + lengthBytes > this.sizeBytes) return null;
    }
    const wantedBytes = Math.max(lengthBytes, this.readChunkBytes);
    const readBytes = Math.min(wantedBytes, this.sizeBytes - position);
    const chunk = Buffer.allocUnsafe(readBytes);
    await this.readFully(chunk, position);
    this.chunk = chunk;
    this.chunkPosition = position;
    return chunk.subarray(0, lengthBytes);
  }

  /** The file's size now, read from the file system rather than remembered. */
  async currentSizeBytes(): Promise<number> {
    this.sizeBytes = (await this.handle.stat()).size;
    return this.sizeBytes;
  }

  async close(): Promise<void> {
    this.chunk = Buffer.alloc(0);
    await this.handle.close();
  }

  private async readFully(target: Buffer, position: number): Promise<void> {
    let filledBytes = 0;
    // Each read returns at least one byte or the file shrank; the loop is bounded by the size.
    while (filledBytes < target.length) {
      const { bytesRead } = await this.handle.read(
        target,
        filledBytes,
        target.length - filledBytes,
        position + filledBytes,
      );
      if (bytesRead === 0) {
        throw new Error(`${this.path} shrank while being read at byte ${position + filledBytes}`);
      }
      filledBytes += bytesRead;
    }
  }
}
