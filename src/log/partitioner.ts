// Which partition a keyed message goes to. The embedded log and Kafka must agree to the
// partition, because EVENTS.md fixes positions by Kafka's default partitioner: a log
// published here and one published by a Java or kafkajs producer hold the same events
// in the same partitions. Pure: no I/O, no clock.
import { invariant } from '../errors.ts';

// Kafka's constants (clients/.../common/utils/Utils.java#murmur2). Changing any of them
// moves every keyed event to another partition.
const murmur2Seed = 0x9747b28c;
const murmur2Multiplier = 0x5bd1e995;
const murmur2Shift = 24;

/** Kafka's murmur2 of a key's bytes, as the signed 32-bit int that Java returns. */
export function murmur2(key: Buffer): number {
  const length = key.length;
  // Java's int arithmetic wraps at 32 bits: Math.imul and `| 0` do the same here.
  let hash = (murmur2Seed ^ length) | 0;
  const wordCount = length >>> 2;
  for (let wordIndex = 0; wordIndex < wordCount; wordIndex++) {
    const i4 = wordIndex * 4;
    let word =
      (key[i4]! & 0xff) |
      ((key[i4 + 1]! & 0xff) << 8) |
      ((key[i4 + 2]! & 0xff) << 16) |
      ((key[i4 + 3]! & 0xff) << 24);
    word = Math.imul(word, murmur2Multiplier);
    word ^= word >>> murmur2Shift;
    word = Math.imul(word, murmur2Multiplier);
    hash = Math.imul(hash, murmur2Multiplier);
    hash ^= word;
  }
  // The tail bytes fall through exactly as Java's switch does.
  const tail = length & ~3;
  const tailBytes = length % 4;
  if (tailBytes >= 3) hash ^= (key[tail + 2]! & 0xff) << 16;
  if (tailBytes >= 2) hash ^= (key[tail + 1]! & 0xff) << 8;
  if (tailBytes >= 1) {
    hash ^= key[tail]! & 0xff;
    hash = Math.imul(hash, murmur2Multiplier);
  }
  hash ^= hash >>> 13;
  hash = Math.imul(hash, murmur2Multiplier);
  hash ^= hash >>> 15;
  return hash | 0;
}

/** Kafka's `Utils.toPositive`: clears the sign bit (not Math.abs, which differs for MIN_VALUE). */
export function toPositive(value: number): number {
  return value & 0x7fffffff;
}

/**
 * The partition Kafka's default partitioner (Java, and kafkajs's DefaultPartitioner) picks
 * for a keyed message. A null key goes to partition 0: our contract's rule for a line
 * whose key cannot be read, where Kafka itself would spread such messages around.
 */
export function partitionForKey(key: Buffer | null, partitionCount: number): number {
  invariant(Number.isSafeInteger(partitionCount), 'partition count is an integer');
  invariant(partitionCount > 0, 'a topic has at least one partition');
  if (key === null) return 0;
  const partition = toPositive(murmur2(key)) % partitionCount;
  invariant(partition >= 0 && partition < partitionCount, 'partition is in range');
  return partition;
}
