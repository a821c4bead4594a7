// The bytes of the embedded log, in one place. Everything here is pure: no I/O.
//
// Layout under the log's root directory:
//
//   writer.lock                          JSON {pid, hostname, acquiredAt}: the one writer
//   <topic>/topic.json                   JSON {formatVersion: 1, partitions: N}
//   <topic>/partition-<p>/committed.bin  the partition's committed end offset (below)
//   <topic>/partition-<p>/<base>.log     segments, named by their first offset, 20 digits
//
// Record, format version 1. All integers big-endian, as Kafka writes them:
//
//   bytes  field
//   4      bodyBytes      u32, the bytes after the CRC field (from recordVersion to the end)
//   4      crc32          u32, zlib's CRC-32 of those bodyBytes
//   1      recordVersion  u8, 1
//   1      attributes     u8, 0 (reserved; a reader refuses any other value)
//   8      offset         u64, dense per partition, starting at 0
//   8      timestampMs    u64, milliseconds since the epoch (Kafka's CreateTime)
//   4      keyBytes       i32, -1 for a null key, then the key's bytes
//   4      valueBytes     i32, -1 for a null value, then the value's bytes
//   2      headerCount    u16, then per header:
//            2 keyBytes u16 + the key in UTF-8,
//            4 valueBytes i32 (-1 for null) + the value's bytes
//
// committed.bin, format version 1, 16 bytes: u32 formatVersion (1), u64 endOffset (the
// offset the next record will get), u32 CRC-32 of the first 12 bytes. The writer replaces
// it (write + rename) after each fsync'd append; readers never read past it, so they see
// only whole, durable records.
import { crc32 } from 'node:zlib';
import { invariant } from '../../errors.ts';
import type { LogMessage, PublishRecord } from '../types.ts';

export const logFormatVersion = 1;
export const recordVersion = 1;
/** bodyBytes + crc32. */
export const frameHeaderBytes = 8;
/** Enough of a record to read its length and its offset without the rest. */
export const frameScanBytes = frameHeaderBytes + 1 + 1 + 8;
const bodyFixedBytes = 1 + 1 + 8 + 8 + 4 + 4 + 2;
/** The largest record the format accepts; a larger length field is a torn or bad write. */
export const recordBytesMax = 256 * 1024 * 1024;
export const headerCountMax = 0xffff;
export const committedFileBytes = 16;
export const segmentNameDigits = 20;

const uint32Range = 2 ** 32;

export type RecordInput = {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: ReadonlyArray<{ readonly key: string; readonly value: Buffer | null }>;
  readonly timestampMs: number;
};

export function recordInputOf(record: PublishRecord, timestampMsDefault: number): RecordInput {
  return {
    key: record.key,
    value: record.value,
    headers: record.headers ?? [],
    timestampMs: record.timestampMs ?? timestampMsDefault,
  };
}

/** The whole frame's size, header included. */
export function encodedRecordBytes(record: RecordInput): number {
  let bodyBytes = bodyFixedBytes + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const header of record.headers) {
    bodyBytes += 2 + Buffer.byteLength(header.key, 'utf8') + 4 + (header.value?.length ?? 0);
  }
  return frameHeaderBytes + bodyBytes;
}

/** Writes one record frame at `position`; returns the position after it. */
export function encodeRecord(
  target: Buffer,
  position: number,
  record: RecordInput,
  offset: number,
): number {
  assertOffset(offset);
  invariant(Number.isSafeInteger(record.timestampMs), 'timestamp is an integer');
  invariant(record.timestampMs >= 0, 'timestamp is after the epoch');
  invariant(record.headers.length <= headerCountMax, 'header count fits in a u16');
  const frameBytes = encodedRecordBytes(record);
  invariant(frameBytes <= recordBytesMax, 'a record is at most recordBytesMax bytes');
  const bodyStart = position + frameHeaderBytes;
  let cursor = bodyStart;
  cursor = target.writeUInt8(recordVersion, cursor);
  cursor = target.writeUInt8(0, cursor);
  cursor = writeUint64(target, offset, cursor);
  cursor = writeUint64(target, record.timestampMs, cursor);
  cursor = writeNullableBytes(target, record.key, cursor);
  cursor = writeNullableBytes(target, record.value, cursor);
  cursor = target.writeUInt16BE(record.headers.length, cursor);
  for (const header of record.headers) {
    const keyBytes = Buffer.byteLength(header.key, 'utf8');
    invariant(keyBytes <= 0xffff, 'a header key fits in a u16 length');
    cursor = target.writeUInt16BE(keyBytes, cursor);
    cursor += target.write(header.key, cursor, keyBytes, 'utf8');
    cursor = writeNullableBytes(target, header.value, cursor);
  }
  invariant(cursor === position + frameBytes, 'encoded size matches the computed size');
  target.writeUInt32BE(cursor - bodyStart, position);
  target.writeUInt32BE(crc32(target.subarray(bodyStart, cursor)), position + 4);
  return cursor;
}

/** What a frame header says, before the body is read or checked. */
export type FrameHeader = { readonly frameBytes: number; readonly crc32: number };

/** Null when the length field cannot belong to a record: a torn write or garbage. */
export function decodeFrameHeader(header: Buffer): FrameHeader | null {
  invariant(header.length >= frameHeaderBytes, 'a frame header is 8 bytes');
  const frameBytes = frameBytesOf(header.readUInt32BE(0));
  if (frameBytes === null) return null;
  return { frameBytes, crc32: header.readUInt32BE(4) };
}

/** The whole frame's size from its length field, or null when no record has that length. */
export function frameBytesOf(bodyBytes: number): number | null {
  if (bodyBytes < bodyFixedBytes || bodyBytes > recordBytesMax - frameHeaderBytes) return null;
  return frameHeaderBytes + bodyBytes;
}

/** The offset field of a frame, from its first `frameScanBytes` bytes; null if unreadable. */
export function frameOffset(frameStart: Buffer): number | null {
  invariant(frameStart.length >= frameScanBytes, 'enough bytes to read the offset');
  return readUint64(frameStart, frameHeaderBytes + 2);
}

export function frameCrcMatches(frame: Buffer, header: FrameHeader): boolean {
  invariant(frame.length === header.frameBytes, 'the whole frame is given');
  return crc32(frame.subarray(frameHeaderBytes)) === header.crc32;
}

/**
 * Decodes a whole frame whose CRC already matched. Returns a reason instead of a message
 * when the fields do not fit the frame: that is corruption (or a newer format), since a
 * CRC-correct record can only be malformed if its writer was.
 */
export function decodeRecord(
  frame: Buffer,
  topic: string,
  partition: number,
): LogMessage | string {
  let cursor = frameHeaderBytes;
  if (frame.readUInt8(cursor) !== recordVersion) return `unknown record version ${frame[cursor]}`;
  if (frame.readUInt8(cursor + 1) !== 0) return 'unknown record attributes';
  cursor += 2;
  const offset = readUint64(frame, cursor);
  const timestampMs = readUint64(frame, cursor + 8);
  if (offset === null || timestampMs === null) return 'offset or timestamp beyond 2^53';
  cursor += 16;
  const key = readNullableBytes(frame, cursor);
  if (key === undefined) return 'key length past the record end';
  cursor = key.end;
  const value = readNullableBytes(frame, cursor);
  if (value === undefined) return 'value length past the record end';
  cursor = value.end;
  const headers = decodeHeaders(frame, cursor);
  if (typeof headers === 'string') return headers;
  return { topic, partition, offset, key: key.bytes, value: value.bytes, headers, timestampMs };
}

function decodeHeaders(frame: Buffer, start: number): LogMessage['headers'] | string {
  let cursor = start;
  const headerCount = frame.readUInt16BE(cursor);
  cursor += 2;
  const headers: { key: string; value: Buffer | null }[] = [];
  for (let headerIndex = 0; headerIndex < headerCount; headerIndex++) {
    if (cursor + 2 > frame.length) return 'header past the record end';
    const keyBytes = frame.readUInt16BE(cursor);
    cursor += 2;
    if (cursor + keyBytes > frame.length) return 'header key past the record end';
    const key = frame.toString('utf8', cursor, cursor + keyBytes);
    const value = readNullableBytes(frame, cursor + keyBytes);
    if (value === undefined) return 'header value past the record end';
    headers.push({ key, value: value.bytes });
    cursor = value.end;
  }
  if (cursor !== frame.length) return 'bytes left after the last header';
  return headers;
}

export function encodeCommitted(endOffset: number): Buffer {
  assertOffset(endOffset);
  const bytes = Buffer.alloc(committedFileBytes);
  bytes.writeUInt32BE(logFormatVersion, 0);
  writeUint64(bytes, endOffset, 4);
  bytes.writeUInt32BE(crc32(bytes.subarray(0, 12)), 12);
  return bytes;
}

/** Null when the file is not a whole, CRC-correct committed record. */
export function decodeCommitted(bytes: Buffer): number | null {
  if (bytes.length !== committedFileBytes) return null;
  if (bytes.readUInt32BE(12) !== crc32(bytes.subarray(0, 12))) return null;
  if (bytes.readUInt32BE(0) !== logFormatVersion) return null;
  return readUint64(bytes, 4);
}

export function segmentFileName(baseOffset: number): string {
  assertOffset(baseOffset);
  return `${String(baseOffset).padStart(segmentNameDigits, '0')}.log`;
}

const segmentNamePattern = new RegExp(`^([0-9]{${segmentNameDigits}})\\.log$`);

/** The base offset a segment's file name carries, or null for any other file. */
export function parseSegmentFileName(name: string): number | null {
  const match = segmentNamePattern.exec(name);
  if (match === null) return null;
  const baseOffset = Number(match[1]);
  return Number.isSafeInteger(baseOffset) ? baseOffset : null;
}

export function assertOffset(offset: number): void {
  // Checked per record, so the message is only built when the check fails.
  if (!Number.isSafeInteger(offset)) invariant(false, `offset ${offset} is a safe integer`);
  if (offset < 0) invariant(false, `offset ${offset} is not negative`);
}

function writeUint64(target: Buffer, value: number, position: number): number {
  invariant(Number.isSafeInteger(value) && value >= 0, 'a u64 field holds a safe integer');
  target.writeUInt32BE(Math.floor(value / uint32Range), position);
  target.writeUInt32BE(value % uint32Range, position + 4);
  return position + 8;
}

/** Reads a u64 field; null beyond 2^53, which no writer of this format produces. */
function readUint64(source: Buffer, position: number): number | null {
  const value = source.readUInt32BE(position) * uint32Range + source.readUInt32BE(position + 4);
  return Number.isSafeInteger(value) ? value : null;
}

function writeNullableBytes(target: Buffer, bytes: Buffer | null, position: number): number {
  if (bytes === null) return target.writeInt32BE(-1, position);
  const cursor = target.writeInt32BE(bytes.length, position);
  return cursor + bytes.copy(target, cursor);
}

/** Undefined when the length runs past the frame. The bytes share the frame's memory. */
function readNullableBytes(
  frame: Buffer,
  position: number,
): { bytes: Buffer | null; end: number } | undefined {
  if (position + 4 > frame.length) return undefined;
  const length = frame.readInt32BE(position);
  if (length === -1) return { bytes: null, end: position + 4 };
  if (length < 0 || position + 4 + length > frame.length) return undefined;
  return { bytes: frame.subarray(position + 4, position + 4 + length), end: position + 4 + length };
}
