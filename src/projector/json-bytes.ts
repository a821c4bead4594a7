// JSON written straight into a reused byte buffer, for the projector's hot path
// (hot-path.ts, message-bytes.ts): the payload's canonical JSON to hash, the entry hash's
// input, the states' JSON. The same bytes as the defining writers (ledger/canonical.ts canonicalJson,
// ledger/entry.ts entryHashInput, ledger/state.ts encodeState) without a string per
// member: test/projector/hot-path.unit.spec.ts holds them equal.
import { hash } from 'node:crypto';

/** A value the writer cannot give the defining writer's bytes for: the batch fails rather than write other bytes. */
export class NotWritable extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'NotWritable';
  }
}

const bufferBytesMax = 4 * 1024 * 1024;
/** Views kept by JsonBytes.view: messages' canonical JSON and entries' hash input are shorter. */
const viewsKeptMax = 8 * 1024;

export class JsonBytes {
  buffer = Buffer.allocUnsafe(16 * 1024);
  at = 0;

  reset(): void {
    this.at = 0;
  }

  /**
   * Views of the buffer's first bytes, by length, made once: crypto.hash takes exactly the
   * bytes to digest, and a view per digest was a sixth of what an event allocated.
   */
  private views: Buffer[] = [];

  /** The bytes written since `start`, not copied: valid until the next reset(). */
  view(start = 0): Buffer {
    if (start !== 0 || this.at >= viewsKeptMax) return this.buffer.subarray(start, this.at);
    return this.views[this.at] ?? (this.views[this.at] = this.buffer.subarray(0, this.at));
  }

  /** The digest as a binary string, a byte per character (StagedCopy.binaryString). */
  sha256Binary(start = 0): string {
    return hash('sha256', this.view(start), 'binary');
  }

  sha256Hex(start = 0): string {
    return hash('sha256', this.view(start), 'hex');
  }

  reserve(bytes: number): void {
    if (this.at + bytes <= this.buffer.length) return;
    const size = Math.max(this.buffer.length * 2, this.at + bytes);
    if (size > bufferBytesMax) throw new NotWritable('more JSON than the scratch buffer holds');
    const grown = Buffer.allocUnsafe(size);
    this.buffer.copy(grown, 0, 0, this.at);
    this.buffer = grown;
    this.views = [];
  }

  byte(code: number): void {
    this.reserve(1);
    this.buffer[this.at++] = code;
  }

  /** ASCII text known to need no escape (punctuation, digits, hex). */
  ascii(text: string): void {
    const length = text.length;
    this.reserve(length);
    const buffer = this.buffer;
    let at = this.at;
    for (let index = 0; index < length; index += 1) buffer[at++] = text.charCodeAt(index);
    this.at = at;
  }

  /** Text as UTF-8, unquoted and unescaped. */
  utf8(text: string): void {
    const length = text.length;
    this.reserve(length * 3);
    const buffer = this.buffer;
    let at = this.at;
    for (let index = 0; index < length; index += 1) {
      const code = text.charCodeAt(index);
      if (code >= 0x80) {
        this.at += buffer.write(text, this.at, 'utf8');
        return;
      }
      buffer[at++] = code;
    }
    this.at = at;
  }

  /** A string as JSON.stringify writes it, as UTF-8. */
  string(value: string): void {
    const length = value.length;
    this.reserve(length + 2);
    const buffer = this.buffer;
    let at = this.at;
    buffer[at++] = 0x22;
    for (let index = 0; index < length; index += 1) {
      const code = value.charCodeAt(index);
      if (code < 0x20 || code > 0x7e || code === 0x22 || code === 0x5c) {
        // Escapes and non-ASCII: JSON.stringify's own text, as UTF-8 (it escapes lone
        // surrogates, so the UTF-8 is well formed).
        // this.at is still where the string began: it is written again, whole.
        const text = JSON.stringify(value);
        this.reserve(text.length * 3);
        this.at += this.buffer.write(text, this.at, 'utf8');
        return;
      }
      buffer[at++] = code;
    }
    buffer[at++] = 0x22;
    this.at = at;
  }

  /** A finite number as JSON.stringify writes it. */
  number(value: number): void {
    if (!Number.isFinite(value)) throw new NotWritable('a non-finite number');
    if (Number.isSafeInteger(value) && value >= 0) this.unsigned(value);
    else this.ascii(JSON.stringify(value));
  }

  /** A non-negative safe integer's decimal digits. */
  unsigned(value: number): void {
    if (value < 10) {
      this.byte(0x30 + value);
      return;
    }
    let digits = 1;
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits += 1;
    this.reserve(digits);
    const end = this.at + digits;
    let rest = value;
    for (let at = end - 1; at >= this.at; at -= 1) {
      const next = Math.floor(rest / 10);
      this.buffer[at] = 0x30 + (rest - next * 10);
      rest = next;
    }
    this.at = end;
  }

  /** A binary string's bytes (a character each) as lower-case hex digits. */
  hexOfBinary(bytes: string): void {
    this.reserve(bytes.length * 2);
    const buffer = this.buffer;
    let at = this.at;
    for (let index = 0; index < bytes.length; index += 1) {
      const byte = bytes.charCodeAt(index);
      buffer[at++] = hexDigits[byte >> 4] as number;
      buffer[at++] = hexDigits[byte & 15] as number;
    }
    this.at = at;
  }

  /**
   * JSON.stringify of state.ts's jsonReady copy: members in for-in order, undefined ones
   * left out, bigints as decimal strings.
   */
  plain(value: unknown): void {
    switch (typeof value) {
      case 'string': this.string(value); return;
      case 'number': this.number(value); return;
      case 'boolean': this.ascii(value ? 'true' : 'false'); return;
      case 'bigint': this.bigintString(value); return;
      case 'object': break;
      default: throw new NotWritable(`a ${typeof value}`);
    }
    if (value === null) {
      this.ascii('null');
      return;
    }
    if (Array.isArray(value)) {
      this.byte(0x5b);
      for (let index = 0; index < value.length; index += 1) {
        if (index > 0) this.byte(0x2c);
        const item = value[index];
        if (item === undefined) this.ascii('null');
        else this.plain(item);
      }
      this.byte(0x5d);
      return;
    }
    this.byte(0x7b);
    let first = true;
    const record = value as Record<string, unknown>;
    for (const key in record) {
      const member = record[key];
      if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
      if (!first) this.byte(0x2c);
      first = false;
      this.string(key);
      this.byte(0x3a);
      this.plain(member);
    }
    this.byte(0x7d);
  }

  /** A bigint as a JSON string of its decimal digits. */
  bigintString(value: bigint): void {
    this.byte(0x22);
    this.bigint(value);
    this.byte(0x22);
  }

  bigint(value: bigint): void {
    if (value >= 0n && value <= maxSafeBigInt) this.unsigned(Number(value));
    else this.ascii(value.toString());
  }

  /** Minor units as money.ts minorToDecimalString writes them with an exponent of 2. */
  amount2(minor: bigint): void {
    if (minor < 0n || minor > maxSafeBigInt) {
      const digits = (minor < 0n ? -minor : minor).toString().padStart(3, '0');
      this.ascii(`${minor < 0n ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`);
      return;
    }
    const number = Number(minor);
    const whole = Math.floor(number / 100);
    const cents = number - whole * 100;
    this.unsigned(whole);
    this.reserve(3);
    this.buffer[this.at++] = 0x2e;
    this.buffer[this.at++] = 0x30 + Math.floor(cents / 10);
    this.buffer[this.at++] = 0x30 + (cents % 10);
  }
}

const maxSafeBigInt = BigInt(Number.MAX_SAFE_INTEGER);
const hexDigits = Buffer.from('0123456789abcdef', 'latin1');
