// A small seeded pseudo-random generator (sfc32, seeded through splitmix32) so that the
// same options always give the same stream, byte for byte. It hands out integers only:
// choices, counts and times. Amounts are drawn as bigint minor units (`minorBetween`)
// and every later calculation on them goes through money.ts, never through a float.
import { invariant } from '../errors.ts';

const uint32Range = 0x1_0000_0000;

/** Mixes a 32-bit state into a well-spread 32-bit value (splitmix32's finaliser). */
function splitmix32(state: number): number {
  let z = (state + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a of a stream name, so that each part of the generator gets its own sequence. */
function hashStreamName(name: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < name.length; index += 1) {
    hash = Math.imul(hash ^ name.charCodeAt(index), 0x01000193);
  }
  return hash >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /**
   * Independent streams per concern (rentals, envelopes, redeliveries, bad messages): a
   * change in how one part draws numbers does not shift what another part produces.
   */
  constructor(seed: number, streamName: string) {
    invariant(Number.isSafeInteger(seed), `seed must be a safe integer, got ${seed}`);
    const low = seed >>> 0;
    const high = Math.floor(seed / uint32Range) >>> 0;
    const stream = hashStreamName(streamName);
    this.a = splitmix32(low ^ stream);
    this.b = splitmix32(high ^ 0x5bd1e995);
    this.c = splitmix32(stream ^ 0x27d4eb2f);
    this.d = 1;
    // Warm-up: sfc32's first outputs still show the seed's structure.
    for (let round = 0; round < 15; round += 1) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** An integer in [0, count), without modulo bias (rejection sampling). */
  below(count: number): number {
    // Checked with a plain `if`: this runs millions of times, and a template message
    // would be built on every call.
    if (!Number.isSafeInteger(count) || count <= 0 || count > uint32Range) {
      throw new Error(`invariant violated: below() count out of range: ${count}`);
    }
    const limit = uint32Range - (uint32Range % count);
    for (let attempt = 0; attempt < 64; attempt += 1) {
      const value = this.nextUint32();
      if (value < limit) return value % count;
    }
    // 64 rejections in a row has probability below 2^-64: only a broken generator gets here.
    throw new Error('invariant violated: rejection sampling did not converge');
  }

  /** An integer in [min, max], both ends included. */
  between(min: number, max: number): number {
    if (max < min) throw new Error(`invariant violated: between(${min}, ${max}) is empty`);
    return min + this.below(max - min + 1);
  }

  /** An amount in minor units in [minMinor, maxMinor], both ends included. */
  minorBetween(minMinor: bigint, maxMinor: bigint): bigint {
    invariant(maxMinor >= minMinor, 'minorBetween() range is empty');
    const span = maxMinor - minMinor + 1n;
    invariant(span <= BigInt(uint32Range), 'minorBetween() span fits in 32 bits');
    return minMinor + BigInt(this.below(Number(span)));
  }

  /** True with probability permille / 1000. */
  chancePermille(permille: number): boolean {
    return this.below(1000) < permille;
  }

  pick<T>(items: readonly T[]): T {
    invariant(items.length > 0, 'pick() from an empty list');
    return items[this.below(items.length)] as T;
  }

  /** Picks by integer weights: `[['a', 3], ['b', 1]]` gives 'a' three times as often. */
  weighted<T>(choices: ReadonlyArray<readonly [T, number]>): T {
    let weightTotal = 0;
    for (const [, weight] of choices) weightTotal += weight;
    invariant(weightTotal > 0, 'weighted() needs a positive total weight');
    let ticket = this.below(weightTotal);
    for (const [value, weight] of choices) {
      if (ticket < weight) return value;
      ticket -= weight;
    }
    throw new Error('invariant violated: weighted() ticket beyond total weight');
  }

  /** A version 4, variant 1 UUID in lower case, drawn from this stream. */
  uuid(): string {
    uuidScratch.writeUInt32BE(this.nextUint32(), 0);
    uuidScratch.writeUInt32BE(((this.nextUint32() & 0xffff0fff) | 0x00004000) >>> 0, 4);
    uuidScratch.writeUInt32BE(((this.nextUint32() & 0x3fffffff) | 0x80000000) >>> 0, 8);
    uuidScratch.writeUInt32BE(this.nextUint32(), 12);
    const hex = uuidScratch.toString('hex');
    // Joined, not concatenated: join gives a flat string, concatenation a rope of pieces.
    return [
      hex.slice(0, 8),
      hex.slice(8, 12),
      hex.slice(12, 16),
      hex.slice(16, 20),
      hex.slice(20),
    ].join('-');
  }
}

/** Scratch space for uuid(): its bytes are read out as hex before the next call. */
const uuidScratch = Buffer.alloc(16);
