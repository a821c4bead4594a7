// An input file read once, as a stream: its text in chunks (strict UTF-8, decoded across
// chunk boundaries) and, as the same bytes go by, its SHA-256 and size for the run record.
// The file is never held whole, so memory stays bounded whatever its size. A file that
// cannot be read (not there, a folder, no permission, not UTF-8) is an InputFileError
// that names the file and, where one is known, the line and column: the run records it.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { UserError } from '../errors.ts';

/** Where in a file reading stopped: 1-based line and column (characters). */
export type TextPosition = { readonly line: number; readonly column: number };

/**
 * A file the run could not read (missing, unreadable, not UTF-8, not well-formed, no usable
 * header). Its message starts `file:line:column: ` when the position is known.
 */
export class InputFileError extends UserError {
  readonly position: TextPosition | null;
  constructor(message: string, position: TextPosition | null = null) {
    super('bad_input_file', message);
    this.name = 'InputFileError';
    this.position = position;
  }

  static at(file: string, position: TextPosition | null, reason: string): InputFileError {
    const where = position === null ? file : `${file}:${position.line}:${position.column}`;
    return new InputFileError(`${where}: ${reason}`, position);
  }
}

export type InputDigest = { readonly sha256: string; readonly bytes: number };

export type InputText = {
  readonly chunks: AsyncIterable<string>;
  /** Known once `chunks` has been read to the end. */
  digest(): InputDigest;
};

const chunkBytes = 256 * 1024;

/** Why the operating system would not let us read, in words; the code too for a search. */
const readRefusals: Readonly<Record<string, string>> = {
  EACCES: 'permission denied', EPERM: 'operation not permitted', EISDIR: 'it is a directory, not a file',
  ENOENT: 'no such file', ELOOP: 'too many symbolic links', EIO: 'input/output error',
};

export function readRefusal(error: unknown): string {
  const code = (error as { code?: string }).code ?? 'unreadable';
  return `cannot read the file: ${readRefusals[code] ?? 'the system refused'} (${code})`;
}

export function openInputText(filePath: string, displayName: string): InputText {
  const hash = createHash('sha256');
  let bytes = 0;
  let digest: InputDigest | null = null;
  async function* chunks(): AsyncGenerator<string> {
    const decoder = new StringDecoder('utf8');
    const stream = createReadStream(filePath, { highWaterMark: chunkBytes });
    const iterator = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    const utf8 = new Utf8Check(filePath, displayName);
    let first = true;
    try {
      for (;;) {
        let next: IteratorResult<Buffer>;
        try {
          next = await iterator.next();
        } catch (error) {
          throw InputFileError.at(displayName, null, readRefusal(error));
        }
        if (next.done === true) break;
        hash.update(next.value);
        bytes += next.value.length;
        let text = await utf8.checked(decoder.write(next.value));
        // A byte-order mark is not part of the first header name.
        if (first && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        first = false;
        if (text.length > 0) yield text;
      }
    } finally {
      // A reader that stops early (a refused file) closes the file here.
      await iterator.return?.();
    }
    const rest = await utf8.checked(decoder.end());
    if (rest.length > 0) yield rest;
    digest = { sha256: hash.digest('hex'), bytes };
  }
  return {
    chunks: chunks(),
    digest() {
      if (digest === null) throw new Error(`${displayName}: digest asked for before the file was read to its end`);
      return digest;
    },
  };
}

/**
 * Strict UTF-8 at the cost of a search: the decoder turns a byte that is not UTF-8 into
 * U+FFFD, so text without one is valid (a strict decoder costs twice the time on a large
 * file). On the first U+FFFD the file is read again to find a bad byte: there is one (a
 * refusal naming its place), or the U+FFFD was the file's own and the file is all UTF-8.
 */
class Utf8Check {
  #verified = false;
  readonly #filePath: string;
  readonly #displayName: string;
  constructor(filePath: string, displayName: string) {
    this.#filePath = filePath;
    this.#displayName = displayName;
  }

  async checked(text: string): Promise<string> {
    if (this.#verified || text.indexOf('\uFFFD') < 0) return text;
    const found = await locateInvalidUtf8(this.#filePath);
    if (found === null) {
      this.#verified = true;
      return text;
    }
    throw InputFileError.at(this.#displayName, found.position,
      `the file is not UTF-8: ${found.what} at byte ${found.offset}; the rest of the file was not read`);
  }
}

export type Utf8Fault = { readonly offset: number; readonly position: TextPosition; readonly what: string };

/**
 * The first byte that does not start or continue valid UTF-8 (WHATWG's decoder: no
 * overlongs, no surrogates, nothing above U+10FFFF), with its line and column; null
 * when the whole file is UTF-8.
 */
export async function locateInvalidUtf8(filePath: string): Promise<Utf8Fault | null> {
  let needed = 0;
  let seen = 0;
  let lower = 0x80;
  let upper = 0xbf;
  let offset = 0;
  let start = 0;
  let line = 1;
  let column = 0; // characters before the current one on its line
  const fault = (at: number, what: string): Utf8Fault => ({ offset: at, position: { line, column: column + 1 }, what });
  for await (const chunk of createReadStream(filePath, { highWaterMark: chunkBytes }) as AsyncIterable<Buffer>) {
    for (let index = 0; index < chunk.length; index += 1, offset += 1) {
      const byte = chunk[index] as number;
      if (needed === 0) {
        start = offset;
        if (byte <= 0x7f) {
          if (byte === 0x0a) { line += 1; column = 0; } else column += 1;
          continue;
        }
        if (byte >= 0xc2 && byte <= 0xdf) needed = 1;
        else if (byte >= 0xe0 && byte <= 0xef) {
          needed = 2;
          if (byte === 0xe0) lower = 0xa0;
          if (byte === 0xed) upper = 0x9f;
        } else if (byte >= 0xf0 && byte <= 0xf4) {
          needed = 3;
          if (byte === 0xf0) lower = 0x90;
          if (byte === 0xf4) upper = 0x8f;
        } else return fault(offset, `byte 0x${hex(byte)} cannot start a character`);
        continue;
      }
      if (byte < lower || byte > upper) return fault(start, `a character broken off at byte 0x${hex(byte)}`);
      lower = 0x80;
      upper = 0xbf;
      seen += 1;
      if (seen === needed) {
        needed = 0;
        seen = 0;
        column += 1;
      }
    }
  }
  return needed === 0 ? null : fault(start, 'the file ends inside a character');
}

function hex(byte: number): string {
  return byte.toString(16).toUpperCase().padStart(2, '0');
}

/** The SHA-256 and size of a whole file, read again; null when it cannot be read. */
export async function digestFile(filePath: string): Promise<InputDigest | null> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of createReadStream(filePath, { highWaterMark: chunkBytes }) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      bytes += chunk.length;
    }
  } catch {
    return null;
  }
  return { sha256: hash.digest('hex'), bytes };
}
