// Where a rendering's bytes go: through a SHA-256 on their way to the file, so that the
// hash the run records is the hash of exactly the bytes written, taken while writing
// (no second read of a file of a million rows). The file is written as `PATH.partial`
// and takes its final name only once complete, so a crash never leaves half a file under
// the name a run records. Text renderers (json, csv) write through a TextWriter, which
// batches small strings into large chunks and waits when the file falls behind.
import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { invariant } from '../../errors.ts';
import { privateFileMode } from '../../storage/files.ts';

/** Characters gathered before one write to the stream: large enough that 1M rows are ~1k writes. */
const textChunkCharsMax = 256 * 1024;

function hashingPassThrough(hash: Hash): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
}

export class HashedFile {
  /** Producers write (or pipe) the file's bytes here, then end it. */
  readonly input: Writable;
  private readonly hash = createHash('sha256');
  private readonly written: Promise<void>;
  private readonly partialPath: string;

  private constructor(private readonly path: string) {
    this.partialPath = `${path}.partial`;
    const hasher = hashingPassThrough(this.hash);
    this.input = hasher;
    // Reports hold tax identities: 0640 at creation (the umask may narrow it), as files.ts writes.
    this.written = pipeline(hasher, createWriteStream(this.partialPath, { flags: 'w', mode: privateFileMode }));
    // A failure surfaces from finish(); this keeps it from also being reported as unhandled.
    this.written.catch(() => undefined);
  }

  static create(path: string): HashedFile {
    invariant(path.length > 0, 'a rendering has a path');
    return new HashedFile(path);
  }

  /** Waits for the last byte to reach the disk, names the file, and returns its SHA-256 (hex). */
  async finish(): Promise<string> {
    await this.written;
    await rename(this.partialPath, this.path);
    return this.hash.digest('hex');
  }

  /** Stops writing after a failure and removes the partial file. */
  async abort(): Promise<void> {
    this.input.destroy();
    await this.written.catch(() => undefined);
    // A partial file that cannot be removed must not hide the error that stopped it.
    await rm(this.partialPath, { force: true }).catch(() => undefined);
  }

  /** Runs `produce` against the file and returns the SHA-256, or removes the file and rethrows. */
  static async write(path: string, produce: (input: Writable) => Promise<void>): Promise<string> {
    const file = HashedFile.create(path);
    const producing = produce(file.input);
    // A producer whose file failed may never finish (exceljs waits for a 'finish' that
    // will not come), so a failure of the file ends the wait; the producer's own later
    // failure is then expected and not reported twice.
    producing.catch(() => undefined);
    try {
      await Promise.race([producing, file.written.then(() => producing)]);
      return await file.finish();
    } catch (error) {
      await file.abort();
      throw error;
    }
  }
}

/** A Writable that only hashes: the SHA-256 a rendering would have, without a file. */
export function hashOnlyWritable(): { input: Writable; digest: () => Promise<string> } {
  const hash = createHash('sha256');
  const input = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback();
    },
  });
  const finished = once(input, 'finish');
  return { input, digest: async () => { await finished; return hash.digest('hex'); } };
}

/** Batches strings into UTF-8 chunks and honours the stream's back-pressure. */
export class TextWriter {
  private pending: string[] = [];
  private pendingChars = 0;

  constructor(private readonly output: Writable) {}

  async write(text: string): Promise<void> {
    this.push(text);
    await this.flushIfFull();
  }

  /** Adds text without waiting: a caller writing many rows then calls flushIfFull once per batch. */
  push(text: string): void {
    this.pending.push(text);
    this.pendingChars += text.length;
  }

  async flushIfFull(): Promise<void> {
    if (this.pendingChars >= textChunkCharsMax) await this.flush();
  }

  async end(): Promise<void> {
    await this.flush();
    this.output.end();
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const chunk = Buffer.from(this.pending.join(''), 'utf8');
    this.pending = [];
    this.pendingChars = 0;
    if (!this.output.write(chunk)) await once(this.output, 'drain');
  }
}
