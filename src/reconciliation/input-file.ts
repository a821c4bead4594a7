// An input file read once, as a stream: its text in chunks (UTF-8, decoded across chunk
// boundaries) and, as the same bytes go by, its SHA-256 and size for the run record. The
// file is never held whole, so memory stays bounded whatever its size.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { UserError } from '../errors.ts';

/** A file the run could not read at all (missing, unreadable, no usable header). */
export class InputFileError extends UserError {
  constructor(message: string) {
    super('bad_input_file', message);
    this.name = 'InputFileError';
  }
}

export type InputDigest = { readonly sha256: string; readonly bytes: number };

export type InputText = {
  readonly chunks: AsyncIterable<string>;
  /** Known once `chunks` has been read to the end. */
  digest(): InputDigest;
};

const chunkBytes = 256 * 1024;

export function openInputText(filePath: string, displayName: string): InputText {
  const hash = createHash('sha256');
  let bytes = 0;
  let digest: InputDigest | null = null;
  async function* chunks(): AsyncGenerator<string> {
    const decoder = new StringDecoder('utf8');
    const stream = createReadStream(filePath, { highWaterMark: chunkBytes });
    let first = true;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        hash.update(chunk);
        bytes += chunk.length;
        let text = decoder.write(chunk);
        // A byte-order mark is not part of the first header name.
        if (first && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        first = false;
        if (text.length > 0) yield text;
      }
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'unreadable';
      throw new InputFileError(`${displayName}: cannot read the file (${code})`);
    }
    const rest = decoder.end();
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
