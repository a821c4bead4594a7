// CSV records (RFC 4180: commas, double quotes, "" inside quotes, CRLF or LF) split from
// a stream of text chunks, one record at a time, each with the physical line it starts
// on. A record that cannot be split (a stray quote, an unclosed quote, more characters
// than the bound) comes out as an error record with its line, the column where the parser
// saw the fault (when it knows one) and a reason, and splitting picks up again at the next
// line, so one bad row never stops the rest of the file.
import { reconLimits } from './limits.ts';

export type CsvRecord =
  | { readonly line: number; readonly fields: string[]; readonly error?: undefined }
  | { readonly line: number; readonly column: number | null; readonly error: string };

const quote = 0x22;
const comma = 0x2c;
const lineFeed = 0x0a;
const carriageReturn = 0x0d;

export class CsvSplitter {
  #line = 1;
  #recordLine = 1;
  #fields: string[] = [];
  #field = '';
  #recordChars = 0;
  #inQuotes = false;
  #afterQuote = false;
  #error: string | null = null;
  /** Where the fault is: its physical line and column (null: the record as a whole). */
  #errorLine = 0;
  #errorColumn: number | null = null;
  /** Characters in earlier chunks, and where the current physical line starts among all. */
  #consumed = 0;
  #lineStart = 0;
  /** The opening quote of the quoted field being read, for a quote never closed. */
  #quoteLine = 0;
  #quoteColumn = 0;
  readonly #recordCharsMax: number;

  constructor(recordCharsMax: number = reconLimits.rowCharsMax) {
    this.#recordCharsMax = recordCharsMax;
  }

  /** Splits one chunk; complete records are appended to `out`. */
  push(chunk: string, out: CsvRecord[]): void {
    let start = 0;
    for (let index = 0; index < chunk.length; index += 1) {
      const code = chunk.charCodeAt(index);
      if (this.#inQuotes) {
        if (code === quote) {
          this.#append(chunk, start, index);
          start = index + 1;
          this.#inQuotes = false;
          this.#afterQuote = true;
        } else if (code === lineFeed) {
          this.#line += 1;
          this.#lineStart = this.#consumed + index + 1;
          // An unclosed quote would swallow the rest of the file: past the bound, resync here.
          if (this.#error !== null) {
            this.#inQuotes = false;
            this.#endRecord(out);
            start = index + 1;
          }
        }
        continue;
      }
      if (code === lineFeed) {
        this.#append(chunk, start, index);
        start = index + 1;
        this.#line += 1;
        this.#lineStart = this.#consumed + index + 1;
        this.#endRecord(out);
      } else if (code === comma) {
        this.#append(chunk, start, index);
        start = index + 1;
        this.#fields.push(this.#field);
        this.#field = '';
        this.#afterQuote = false;
      } else if (code === quote) {
        start = this.#openQuote(start, index, this.#consumed + index - this.#lineStart + 1);
      } else if (this.#afterQuote && code === carriageReturn) {
        // The line ending after a quoted field: not part of the field.
        this.#append(chunk, start, index);
        start = index + 1;
      } else if (this.#afterQuote) {
        this.#fail('a character follows a closing quote', this.#consumed + index - this.#lineStart + 1);
      }
    }
    this.#append(chunk, start, chunk.length);
    this.#consumed += chunk.length;
  }

  /** The last record, when the file does not end with a line break. */
  end(out: CsvRecord[]): void {
    if (this.#inQuotes) {
      this.#fail('a quoted field is not closed before the end of the file', this.#quoteColumn, this.#quoteLine);
    }
    this.#inQuotes = false;
    if (this.#fields.length > 0 || this.#field !== '' || this.#error !== null) this.#endRecord(out);
  }

  #openQuote(start: number, index: number, column: number): number {
    if (this.#afterQuote) {
      // `""` inside a quoted field: one quote character, and the field goes on quoted.
      this.#field += '"';
      this.#afterQuote = false;
      this.#inQuotes = true;
      return index + 1;
    }
    if (this.#field === '' && start === index) {
      this.#inQuotes = true;
      this.#quoteLine = this.#line;
      this.#quoteColumn = column;
      return index + 1;
    }
    this.#fail('a quote inside an unquoted field', column);
    return start;
  }

  #append(chunk: string, start: number, end: number): void {
    if (end <= start) return;
    this.#recordChars += end - start;
    if (this.#recordChars > this.#recordCharsMax) {
      this.#fail(`the row is longer than ${this.#recordCharsMax} characters`, null);
      return;
    }
    if (this.#error === null) this.#field += chunk.slice(start, end);
  }

  #fail(reason: string, column: number | null, line: number = this.#line): void {
    if (this.#error === null) {
      this.#error = reason;
      this.#errorLine = column === null ? this.#recordLine : line;
      this.#errorColumn = column;
    }
    this.#field = '';
    this.#fields = [];
  }

  #endRecord(out: CsvRecord[]): void {
    if (this.#error !== null) {
      out.push({ line: this.#errorLine, column: this.#errorColumn, error: this.#error });
    } else {
      const last = this.#field.endsWith('\r') && !this.#afterQuote ? this.#field.slice(0, -1) : this.#field;
      this.#fields.push(last);
      const blank = this.#fields.length === 1 && this.#fields[0] === '';
      if (!blank) out.push({ line: this.#recordLine, fields: this.#fields });
    }
    this.#fields = [];
    this.#field = '';
    this.#recordChars = 0;
    this.#afterQuote = false;
    this.#error = null;
    this.#recordLine = this.#line;
  }
}

/** Records of a stream of text, in order; memory holds one chunk and its records. */
export async function* csvRecords(chunks: AsyncIterable<string>): AsyncGenerator<CsvRecord> {
  const splitter = new CsvSplitter();
  const out: CsvRecord[] = [];
  for await (const chunk of chunks) {
    splitter.push(chunk, out);
    yield* out;
    out.length = 0;
  }
  splitter.end(out);
  yield* out;
}
