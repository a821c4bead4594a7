// Bulk writes with COPY FROM STDIN: one round trip per table per batch. The text format
// (copyRows: reconciliation's rows) is escaped here, once; the binary format (copyBinary,
// StagedCopy: the journal's rows) is written here, typed column by column. Bulk reads
// with COPY TO STDOUT (copyOutText: gl-detail's million lines) are decoded here too.
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { invariant, invariantFailed } from '../errors.ts';
import type { Client } from './database.ts';

export type CopyValue = string | number | bigint | boolean | Buffer | null;

const chunkBytesMax = 1024 * 1024;

export async function copyRows(
  client: Client,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly CopyValue[])[],
): Promise<void> {
  if (rows.length === 0) return;
  const columnList = columns.map((c) => `"${c}"`).join(', ');
  const { stream, done } = startCopy(client, `COPY ${table} (${columnList}) FROM STDIN`);
  let parts: string[] = [];
  let partsLength = 0;
  for (const row of rows) {
    if (row.length !== columns.length) throw new Error(`copyRows ${table}: row has ${row.length} values`);
    let text = encodeValue(row[0] as CopyValue);
    for (let index = 1; index < row.length; index += 1) text += `\t${encodeValue(row[index] as CopyValue)}`;
    parts.push(text);
    partsLength += text.length + 1;
    if (partsLength >= chunkBytesMax) {
      if (!stream.write(`${parts.join('\n')}\n`)) await drained(stream, done);
      parts = [];
      partsLength = 0;
    }
  }
  stream.end(parts.length === 0 ? '' : `${parts.join('\n')}\n`);
  await done;
}

/** Sends data already in the COPY statement's format, chunk by chunk, as the socket takes it. */
export async function sendCopy(client: Client, sql: string, chunks: readonly Buffer[]): Promise<void> {
  const { stream, done } = startCopy(client, sql);
  for (const chunk of chunks) {
    if (!stream.write(chunk)) await drained(stream, done);
  }
  stream.end();
  await done;
}

/** A COPY FROM STDIN begun: its stream, and a promise settled when the server has it all. */
function startCopy(client: Client, sql: string): { stream: NodeJS.WritableStream; done: Promise<void> } {
  const stream = client.query(copyFrom(sql));
  const done = new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
  });
  return { stream, done };
}

/**
 * Waits until the stream takes more, or until the COPY fails (a connection cut while we
 * wait): then `done` rejects here, where it is awaited, instead of going unhandled.
 */
async function drained(stream: NodeJS.WritableStream, done: Promise<void>): Promise<void> {
  let onDrain = (): void => undefined;
  const drain = new Promise<void>((resolve) => {
    onDrain = resolve;
    stream.once('drain', onDrain);
  });
  try {
    await Promise.race([drain, done]);
  } finally {
    stream.removeListener('drain', onDrain);
  }
}

function encodeValue(value: CopyValue): string {
  if (value === null) return '\\N';
  if (typeof value === 'string') return escapeText(value);
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (Buffer.isBuffer(value)) return `\\\\x${value.toString('hex')}`;
  return value.toString();
}

function escapeText(value: string): string {
  if (!/[\\\t\n\r]/.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r');
}

/** PostgreSQL types the binary COPY writer encodes (their binary send/recv formats). */
export type CopyType = 'text' | 'int2' | 'int4' | 'int8' | 'bool' | 'bytea' | 'uuid' | 'timestamptz' | 'date' | 'jsonb';
export type CopyColumn = readonly [name: string, type: CopyType];

const binarySignature = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** 2000-01-01T00:00:00Z, PostgreSQL's epoch for dates and timestamps, in ms since 1970. */
export const postgresEpochMs = Date.UTC(2000, 0, 1);
const twoTo32 = 2 ** 32;
const maxSafeBigInt = BigInt(Number.MAX_SAFE_INTEGER);
/** Made once: `-maxSafeBigInt` in a comparison made a new BigInt per field. */
const minSafeBigInt = -maxSafeBigInt;
const shortStringMax = 64;
const msPerDay = 86_400_000;

/**
 * Bulk writes in COPY's binary format: no text to escape on our side and none to parse
 * on the server's (timestamps, UUIDs and bytea hex were a fifth of the server's time on
 * the projector's path). Each column names its type; rows given as arrays are encoded
 * through StagedCopy, below, which the projector fills row by row.
 */
export async function copyBinary(
  client: Client,
  table: string,
  columns: readonly CopyColumn[],
  rows: readonly (readonly CopyValue[])[],
): Promise<void> {
  // Every row is encoded before the COPY starts: a value of the wrong shape is refused
  // with nothing sent. The encoded rows are smaller than the arrays they come from.
  const staged = new StagedCopy(table, columns);
  for (const row of rows) {
    if (row.length !== columns.length) throw new Error(`copyBinary ${table}: row has ${row.length} values`);
    staged.row();
    for (const value of row) staged.value(value);
  }
  await staged.send(client);
}

/**
 * Microseconds as the high and low halves of their 64-bit two's complement, each a signed
 * 32-bit integer (StagedCopy.postgresMicros); exact for every safe integer.
 */
export function microsHalves(micros: number, into: Int32Array): void {
  if (!Number.isSafeInteger(micros)) throw new Error(`a timestamp of ${micros} µs is not a safe integer`);
  const high = Math.floor(micros / twoTo32);
  into[0] = high;
  into[1] = (micros - high * twoTo32) | 0;
}

/**
 * Rows encoded as they are decided and sent later in one COPY: the projector writes each
 * message's rows here the moment it decides them, so a batch's rows live in one off-heap
 * buffer instead of as arrays and strings that survive young-generation collections (a
 * fifth of the projector's time was the collector copying them). Values go in column
 * order through `value`, checked against the column's type as in copyBinary. The buffer
 * is bounded by what calls it: one batch (limits.batchMessagesMax) of rows.
 */
export class StagedCopy {
  private readonly writer = new BinaryRowWriter();
  private column: number;
  private rowCount = 0;
  private sent = false;

  constructor(readonly table: string, private readonly columns: readonly CopyColumn[]) {
    this.column = columns.length;
    this.writer.header();
  }

  /** Starts a row; its values follow, one per column, in order. */
  row(): void {
    // Checked before the message is built: these run once per row and per value.
    if (this.sent) invariantFailed(`${this.table}: no rows after the COPY was sent`);
    if (this.column !== this.columns.length) invariantFailed(`${this.table}: a row has a value for every column`);
    this.writer.int16(this.columns.length);
    this.column = 0;
    this.rowCount += 1;
  }

  value(value: CopyValue): void {
    const column = this.columns[this.column];
    if (column === undefined) invariantFailed(`${this.table}: no more values than columns`);
    this.writer.field(column[1], value, this.table, column[0]);
    this.column += 1;
  }

  /** A timestamptz given in milliseconds since the epoch (a log timestamp): no string made. */
  millis(value: number): void {
    const column = this.columns[this.column];
    if (column === undefined || column[1] !== 'timestamptz') invariantFailed(`${this.table}: millis() fills a timestamptz`);
    if (!Number.isSafeInteger(value)) throw wrongValue(this.table, column[0], 'timestamptz', value);
    this.writer.timestampMicros((value - postgresEpochMs) * 1000);
    this.column += 1;
  }

  /**
   * A timestamptz given in microseconds since PostgreSQL's epoch, 2000-01-01 UTC, as its
   * two 32-bit halves (microsHalves): a double past 2^31 passed to a method is boxed, a
   * heap number per call, and an entry writes its timestamp once per line.
   */
  postgresMicros(high: number, low: number): void {
    const column = this.columns[this.column];
    if (column === undefined || column[1] !== 'timestamptz') invariantFailed(`${this.table}: postgresMicros() fills a timestamptz`);
    this.writer.int32(8);
    this.writer.int32(high);
    this.writer.int32(low);
    this.column += 1;
  }

  /** A date given in days since PostgreSQL's epoch, 2000-01-01. */
  postgresDays(value: number): void {
    const column = this.columns[this.column];
    if (column === undefined || column[1] !== 'date') invariantFailed(`${this.table}: postgresDays() fills a date`);
    if (!Number.isSafeInteger(value)) throw wrongValue(this.table, column[0], 'date', value);
    this.writer.int32(4);
    this.writer.int32(value);
    this.column += 1;
  }

  /**
   * A text, jsonb or bytea value given as its bytes (UTF-8 for text and jsonb), written
   * elsewhere first (the projector's hot path writes JSON into a scratch buffer): no string made.
   */
  bytes(value: Buffer): void {
    const column = this.columns[this.column];
    const type = column?.[1];
    if (type !== 'text' && type !== 'jsonb' && type !== 'bytea') invariantFailed(`${this.table}: bytes() fills a text, jsonb or bytea`);
    this.writer.rawField(value, type === 'jsonb' ? 1 : -1);
    this.column += 1;
  }

  /**
   * A bytea given as a binary string, a byte per character (a digest as crypto.hash writes
   * it with the 'latin1' encoding: 48 bytes of heap where a Buffer took about 230).
   */
  binaryString(value: string): void {
    const column = this.columns[this.column];
    if (column?.[1] !== 'bytea') invariantFailed(`${this.table}: binaryString() fills a bytea`);
    this.writer.binaryStringField(value);
    this.column += 1;
  }

  /** A uuid given as its 16 bytes. */
  uuidBytes(value: Buffer): void {
    const column = this.columns[this.column];
    if (column?.[1] !== 'uuid' || value.length !== 16) invariantFailed(`${this.table}: uuidBytes() fills a uuid with 16 bytes`);
    this.writer.rawField(value, -1);
    this.column += 1;
  }

  /** The rows so far as they would be sent, copied (the hot path's equality test compares them). */
  encoded(): Buffer {
    return Buffer.from(this.writer.written());
  }

  /** Drops the rows unsent (the ingest benchmark measures encoding without the server). */
  discard(): void {
    invariant(!this.sent, `${this.table}: a staged COPY is sent or discarded once`);
    this.sent = true;
    this.writer.release();
  }

  /** Sends the rows in one COPY (nothing when there are none). */
  async send(client: Client): Promise<void> {
    invariant(!this.sent, `${this.table}: a staged COPY is sent once`);
    this.sent = true;
    if (this.rowCount === 0) {
      this.writer.release();
      return;
    }
    invariant(this.column === this.columns.length, `${this.table}: the last row is complete`);
    const columnList = this.columns.map(([name]) => `"${name}"`).join(', ');
    this.writer.int16(-1);
    const bytes = this.writer.written();
    // Views, not copies: the socket holds them until written, and the buffer is reused
    // only after the server has answered the COPY, so after all of it was read.
    const chunks: Buffer[] = [];
    for (let start = 0; start < bytes.length; start += chunkBytesMax) {
      chunks.push(bytes.subarray(start, Math.min(start + chunkBytesMax, bytes.length)));
    }
    await sendCopy(client, `COPY ${this.table} (${columnList}) FROM STDIN (FORMAT binary)`, chunks);
    this.writer.release();
  }
}

/**
 * Buffers of finished COPYs, kept for the next: a batch's staged rows reach megabytes,
 * and fresh memory costs a page fault on every first touch (a tenth of the encoding time
 * went to them). Bounded in count and in the size of a buffer kept.
 */
const spareBuffers: Buffer[] = [];
/** Enough for every table of the batches a projector thread has in flight (7 tables, 2 batches). */
const spareBuffersMax = 16;
const spareBufferBytesMax = 16 * 1024 * 1024;
const spareBytesMax = 64 * 1024 * 1024;

/**
 * The largest spare buffer, or a new one: a large table's COPY then rarely grows (each
 * doubling copied what was written so far, a sixtieth of a projector thread's time).
 */
function takeBuffer(): Buffer {
  let largest = -1;
  for (let index = 0; index < spareBuffers.length; index += 1) {
    if (largest === -1 || (spareBuffers[index] as Buffer).length > (spareBuffers[largest] as Buffer).length) largest = index;
  }
  if (largest === -1) return Buffer.allocUnsafe(64 * 1024);
  const buffer = spareBuffers[largest] as Buffer;
  spareBuffers[largest] = spareBuffers[spareBuffers.length - 1] as Buffer;
  spareBuffers.pop();
  return buffer;
}

function spareBytes(): number {
  let bytes = 0;
  for (const buffer of spareBuffers) bytes += buffer.length;
  return bytes;
}

class BinaryRowWriter {
  // Grows by doubling: a small table's COPY stays small.
  private buffer = takeBuffer();
  private at = 0;
  private lastUuidText = '';
  private readonly lastUuidBytes = Buffer.alloc(16);
  private lastTimestampText = '';
  private lastTimestampMicros: number | bigint = 0;
  private lastDateText = '';
  private lastDateDays = 0;

  get length(): number {
    return this.at;
  }

  /** The bytes written so far, not copied: valid until release(). */
  written(): Buffer {
    return this.buffer.subarray(0, this.at);
  }

  /** Gives the buffer back for another COPY; the writer is not used after this. */
  release(): void {
    if (spareBuffers.length < spareBuffersMax && this.buffer.length <= spareBufferBytesMax &&
      spareBytes() + this.buffer.length <= spareBytesMax) {
      spareBuffers.push(this.buffer);
    }
    this.buffer = Buffer.alloc(0);
    this.at = 0;
  }

  header(): void {
    this.reserve(19);
    binarySignature.copy(this.buffer, this.at);
    this.at += binarySignature.length;
    this.int32(0); // flags
    this.int32(0); // header extension length
  }

  int16(value: number): void {
    this.reserve(2);
    this.at = this.buffer.writeInt16BE(value, this.at);
  }

  int32(value: number): void {
    this.reserve(4);
    this.at = this.buffer.writeInt32BE(value, this.at);
  }

  field(type: CopyType, value: CopyValue, table: string, column: string): void {
    if (value === null) {
      this.int32(-1);
      return;
    }
    switch (type) {
      case 'text': {
        if (typeof value !== 'string') throw wrongValue(table, column, type, value);
        this.string(value, '');
        return;
      }
      case 'jsonb': {
        if (typeof value !== 'string') throw wrongValue(table, column, type, value);
        this.string(value, '\u0001'); // jsonb's binary format: version 1, then the text
        return;
      }
      case 'int2':
      case 'int4': {
        if (typeof value !== 'number' || !Number.isInteger(value)) throw wrongValue(table, column, type, value);
        this.int32(type === 'int2' ? 2 : 4);
        this.reserve(4);
        this.at = type === 'int2' ? this.buffer.writeInt16BE(value, this.at) : this.buffer.writeInt32BE(value, this.at);
        return;
      }
      case 'int8': {
        if (typeof value === 'number' && !Number.isSafeInteger(value)) throw wrongValue(table, column, type, value);
        if (typeof value !== 'number' && typeof value !== 'bigint') throw wrongValue(table, column, type, value);
        this.int64(value);
        return;
      }
      case 'bool': {
        if (typeof value !== 'boolean') throw wrongValue(table, column, type, value);
        this.int32(1);
        this.reserve(1);
        this.buffer[this.at++] = value ? 1 : 0;
        return;
      }
      case 'bytea': {
        if (typeof value === 'string') { // hex digits, as hashes are carried: no Buffer made for them
          const bytes = value.length / 2;
          this.int32(bytes);
          this.reserve(bytes);
          if (!Number.isInteger(bytes) || this.buffer.write(value, this.at, 'hex') !== bytes) {
            throw wrongValue(table, column, type, value);
          }
          this.at += bytes;
          return;
        }
        if (!Buffer.isBuffer(value)) throw wrongValue(table, column, type, value);
        this.int32(value.length);
        this.reserve(value.length);
        this.buffer.set(value, this.at); // Buffer.copy made a view of the source per call
        this.at += value.length;
        return;
      }
      case 'uuid': {
        if (typeof value !== 'string' || value.length !== 36) throw wrongValue(table, column, type, value);
        this.int32(16);
        this.reserve(16);
        if (value === this.lastUuidText) { // the lines of one entry repeat its id
          this.buffer.set(this.lastUuidBytes, this.at);
          this.at += 16;
          return;
        }
        const start = this.at;
        for (let index = 0; index < 36; index += 1) {
          if (index === 8 || index === 13 || index === 18 || index === 23) {
            if (value.charCodeAt(index) !== 0x2d) throw wrongValue(table, column, type, value);
            continue;
          }
          const high = hexValue(value.charCodeAt(index));
          const low = hexValue(value.charCodeAt(index + 1));
          if (high < 0 || low < 0) throw wrongValue(table, column, type, value);
          this.buffer[this.at++] = high * 16 + low;
          index += 1;
        }
        this.lastUuidText = value;
        for (let index = 0; index < 16; index += 1) this.lastUuidBytes[index] = this.buffer[start + index] as number;
        return;
      }
      case 'timestamptz': {
        if (typeof value !== 'string') throw wrongValue(table, column, type, value);
        if (value !== this.lastTimestampText) { // the lines of one entry repeat its time
          const micros = microsSincePostgresEpoch(value);
          if (micros === null) throw new Error(`copyBinary ${table}.${column}: ${JSON.stringify(value)} is not a UTC timestamp`);
          this.lastTimestampText = value;
          this.lastTimestampMicros = micros;
        }
        this.int64(this.lastTimestampMicros);
        return;
      }
      case 'date': {
        if (typeof value !== 'string') throw wrongValue(table, column, type, value);
        if (value !== this.lastDateText) {
          const ms = datePattern.test(value) ? Date.parse(`${value}T00:00:00Z`) : Number.NaN;
          if (Number.isNaN(ms)) throw wrongValue(table, column, type, value);
          this.lastDateText = value;
          this.lastDateDays = (ms - postgresEpochMs) / msPerDay;
        }
        this.int32(4);
        this.int32(this.lastDateDays);
        return;
      }
      default: {
        const unknown: never = type;
        throw new Error(`copyBinary: unknown type ${String(unknown)}`);
      }
    }
  }

  /** A field's length and bytes, after a one-byte prefix when `prefix` is not -1 (jsonb's version). */
  rawField(value: Buffer, prefix: number): void {
    const length = value.length + (prefix === -1 ? 0 : 1);
    this.reserve(4 + length);
    this.at = this.buffer.writeInt32BE(length, this.at);
    if (prefix !== -1) this.buffer[this.at++] = prefix;
    if (value.length <= shortStringMax) {
      // Hashes, ids, short JSON: a loop costs less than a call into C++.
      const buffer = this.buffer;
      let at = this.at;
      for (let index = 0; index < value.length; index += 1) buffer[at++] = value[index] as number;
      this.at = at;
    } else {
      this.buffer.set(value, this.at); // Buffer.copy made a view of the source per call
      this.at += value.length;
    }
  }

  binaryStringField(value: string): void {
    const length = value.length;
    this.reserve(4 + length);
    this.at = this.buffer.writeInt32BE(length, this.at);
    const buffer = this.buffer;
    let at = this.at;
    for (let index = 0; index < length; index += 1) {
      const code = value.charCodeAt(index);
      if (code > 0xff) invariantFailed('a binary string holds a byte per character');
      buffer[at++] = code;
    }
    this.at = at;
  }

  timestampMicros(micros: number): void {
    this.int64(micros);
  }

  /**
   * As two 32-bit halves, from plain number arithmetic: a BigInt made per value (and
   * BigInt shifts in writeBigInt64BE) cost more than the rest of the field. Exact for
   * every integer a double holds, so timestamps far before 2000 too.
   */
  private int64(value: number | bigint): void {
    this.int32(8);
    this.reserve(8);
    let number: number;
    if (typeof value === 'bigint') {
      if (value > maxSafeBigInt || value < minSafeBigInt) {
        this.at = this.buffer.writeBigInt64BE(value, this.at);
        return;
      }
      number = Number(value);
    } else {
      number = value;
    }
    const high = Math.floor(number / twoTo32);
    const low = number - high * twoTo32;
    // Byte by byte: a double past 2^31 passed to writeUInt32BE was boxed, a heap number per field.
    const buffer = this.buffer;
    const at = this.at;
    buffer[at] = (high >> 24) & 0xff;
    buffer[at + 1] = (high >> 16) & 0xff;
    buffer[at + 2] = (high >> 8) & 0xff;
    buffer[at + 3] = high & 0xff;
    buffer[at + 4] = (low >>> 24) & 0xff;
    buffer[at + 5] = (low >>> 16) & 0xff;
    buffer[at + 6] = (low >>> 8) & 0xff;
    buffer[at + 7] = low & 0xff;
    this.at = at + 8;
  }

  /**
   * A length-prefixed UTF-8 string, after an optional one-byte prefix (jsonb's version).
   * Short ASCII strings (accounts, currencies, ids) are copied a character at a time: a
   * call into C++ per field cost more than the copy.
   */
  private string(value: string, prefix: string): void {
    const length = value.length;
    this.reserve(4 + prefix.length + length * 3);
    const start = this.at + 4;
    let end = start;
    if (prefix !== '') this.buffer[end++] = prefix.charCodeAt(0); // one byte (jsonb's version): no call into C++
    let copied = 0;
    if (length <= shortStringMax) {
      const buffer = this.buffer;
      for (; copied < length; copied += 1) {
        const code = value.charCodeAt(copied);
        if (code >= 0x80) break;
        buffer[end + copied] = code;
      }
    }
    if (copied === length) end += length;
    else end += this.buffer.write(value, end, 'utf8');
    this.buffer.writeInt32BE(end - start, this.at);
    this.at = end;
  }

  private reserve(bytes: number): void {
    if (this.at + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.at + bytes));
    this.buffer.copy(grown, 0, 0, this.at);
    this.buffer = grown;
  }
}

// A function, not a closure in field(): tsx names every closure it creates (a call per field).
function wrongValue(table: string, column: string, type: CopyType, value: CopyValue): Error {
  return new Error(`copyBinary ${table}.${column}: ${typeof value} is not a ${type}`);
}

const datePattern = /^\d{4}-\d{2}-\d{2}$/;
const utcTimestampPattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z$/;

/**
 * A UTC timestamp as we write them (envelope.ts, toISOString) → µs since 2000-01-01; a
 * BigInt where that is beyond a double's exact integers (before about 1715 or after 2285,
 * times RFC 3339 allows and the ledger must post to the microsecond).
 */
function microsSincePostgresEpoch(value: string): number | bigint | null {
  const match = utcTimestampPattern.exec(value);
  if (match === null) return null;
  // Date.parse, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999.
  const ms = Date.parse(`${value.slice(0, 19)}Z`);
  if (Number.isNaN(ms)) return null;
  const micros = Number(((match[7] ?? '') + '000000').slice(0, 6));
  const total = (ms - postgresEpochMs) * 1000 + micros;
  return Number.isSafeInteger(total) ? total : BigInt(ms - postgresEpochMs) * 1000n + BigInt(micros);
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x61 + 10;
  if (code >= 0x41 && code <= 0x46) return code - 0x41 + 10;
  return -1;
}

/** Rows of one COPY TO STDOUT in text format: each row its fields, `\N` as null. */
export type CopiedRow = (string | null)[];

/**
 * Streams the rows of `COPY (query) TO STDOUT` (text format), decoded, in batches as they
 * arrive: one statement, no per-row protocol message or type parsing in the driver. `sql` is
 * the whole COPY statement (COPY takes no bind parameters: see inlineLiterals).
 * Stopping early (a `return` from the consumer) ends the COPY by destroying the
 * connection's stream: the caller must then discard the client, not reuse it.
 */
export async function* copyOutText(client: Client, sql: string): AsyncGenerator<CopiedRow[]> {
  const stream = client.query(copyTo(sql));
  let carry: Buffer | null = null;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const bytes: Buffer = carry === null ? chunk : Buffer.concat([carry, chunk]);
    // A row ends at LF, which never occurs inside a UTF-8 sequence, and inside a field
    // only as `\\n`: everything up to the last LF is whole rows.
    const end = bytes.lastIndexOf(0x0a);
    if (end < 0) {
      carry = bytes;
      continue;
    }
    carry = end + 1 < bytes.length ? bytes.subarray(end + 1) : null;
    yield decodeCopyText(bytes.toString('utf8', 0, end));
  }
  invariant(carry === null, 'a COPY TO STDOUT ends with a whole row');
}

/** Rows (without the last LF) of COPY's text format, split and unescaped. */
export function decodeCopyText(text: string): CopiedRow[] {
  const rows: CopiedRow[] = [];
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const fields: CopiedRow = text.slice(start, end).split('\t');
    for (let index = 0; index < fields.length; index += 1) {
      const field = fields[index] as string;
      if (field.includes('\\')) fields[index] = field === '\\N' ? null : unescapeCopyText(field);
    }
    rows.push(fields);
    start = end + 1;
  }
  return rows;
}

const copyEscapes: Readonly<Record<string, string>> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** The escapes PostgreSQL writes in COPY's text format: `\b \f \n \r \t \v`, and `\c` for c itself (`\\`). */
function unescapeCopyText(field: string): string {
  return field.replace(/\\(.)/gs, (_match, escaped: string) => copyEscapes[escaped] ?? escaped);
}

/**
 * A statement with its `$n` parameters written in as quoted literals, for COPY, which
 * takes no bind parameters. Each value is quoted by the driver's escapeLiteral (standard
 * strings: quotes doubled, and an `E''` literal when a backslash is in it).
 */
export function inlineLiterals(client: Client, sql: string, values: readonly unknown[]): string {
  return sql.replace(/\$([0-9]+)/g, (_match, digits: string) => {
    const value = values[Number(digits) - 1];
    invariant(typeof value === 'string' || (typeof value === 'number' && Number.isSafeInteger(value)),
      `parameter $${digits} is a string or an integer`);
    return client.escapeLiteral(String(value));
  });
}
