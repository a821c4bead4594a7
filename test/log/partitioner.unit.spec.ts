// Proves that our murmur2 and partitionForKey put every key on the partition Kafka's
// default partitioner would, so a log published by `ledger events publish` and one
// published by a Java or kafkajs producer agree. Method: compare with kafkajs's own
// implementation (loaded from node_modules, CommonJS) on many random keys and partition
// counts, and with hash values printed by Java's Utils.murmur2 (quoted with their source).
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey, toPositive } from '../../src/log/partitioner.ts';

const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (
  key: Buffer,
) => number;
type KafkajsPartitioner = (args: {
  topic: string;
  partitionMetadata: { partitionId: number; leader: number }[];
  message: { key: Buffer; value: Buffer };
}) => number;
const createKafkajsDefaultPartitioner = require(
  'kafkajs/src/producer/partitioners/default/index.js',
) as () => KafkajsPartitioner;

/** A deterministic source of keys, so a failure can be replayed. */
function keysForSeed(seed: number, count: number): Buffer[] {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
  const keys: Buffer[] = [];
  for (let index = 0; index < count; index++) {
    const key = Buffer.alloc(next() % 64);
    for (let byte = 0; byte < key.length; byte++) key[byte] = next() >>> 24;
    keys.push(key);
  }
  return keys;
}

describe('murmur2', () => {
  it('matches the values in Kafka\'s UtilsTest.testMurmur2 (apache/kafka)', () => {
    const cases: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, hash] of cases) expect(murmur2(Buffer.from(key)), key).toBe(hash);
  });

  it('matches the Java-generated values in kafkajs\'s defaultJava/murmur2.spec.js', () => {
    const cases: [string, number][] = [
      ['0', 971027396],
      ['1', -1993445489],
      ['128', -326012175],
      ['2187', -1508407203],
      ['16384', -325739742],
      ['78125', -1654490814],
      ['279936', 1462227128],
      ['823543', -2014198330],
      ['2097152', 607668903],
      ['4782969', -1182699775],
      ['10000000', -1830336757],
      ['19487171', -1603849305],
      ['35831808', -857013643],
      ['62748517', -1167431028],
      ['105413504', -381294639],
      ['170859375', -1658323481],
      ['100:48069', 1009543857],
    ];
    for (const [key, hash] of cases) expect(murmur2(Buffer.from(key)), key).toBe(hash);
  });

  it('equals kafkajs\'s murmur2 on 5,000 random keys of 0 to 63 bytes and the empty key', () => {
    for (const key of [Buffer.alloc(0), ...keysForSeed(20_260_401, 5_000)]) {
      expect(murmur2(key), key.toString('hex')).toBe(kafkajsMurmur2(key));
    }
  });

  it('equals kafkajs on UTF-8 keys such as rental ids, and on high bytes', () => {
    const keys = ['rental-0001', 'R-ÉTÉ-42', '🚗', 'CA-ON', '3f1c2a9e-6a57-4c1e-9f0e-2d7b1e8a4c10'];
    for (const text of keys) {
      expect(murmur2(Buffer.from(text))).toBe(kafkajsMurmur2(Buffer.from(text)));
    }
    const highBytes = Buffer.from([0xff, 0x80, 0x7f, 0xfe, 0x81, 0xff, 0xff]);
    expect(murmur2(highBytes)).toBe(kafkajsMurmur2(highBytes));
  });
});

describe('partitionForKey', () => {
  it('picks the partition kafkajs\'s DefaultPartitioner picks, for random keys and counts', () => {
    const partitioner = createKafkajsDefaultPartitioner();
    const keys = keysForSeed(7, 2_000).concat(Array.from({ length: 200 }, () => randomBytes(16)));
    for (const partitionCount of [1, 2, 3, 6, 7, 12, 50, 100, 1024]) {
      const partitionMetadata = Array.from({ length: partitionCount }, (_, partitionId) => ({
        partitionId,
        leader: 0,
      }));
      for (const key of keys) {
        const message = { key, value: key };
        const expected = partitioner({ topic: 't', partitionMetadata, message });
        expect(partitionForKey(key, partitionCount)).toBe(expected);
      }
    }
  });

  it('puts a null key on partition 0, our rule for a key that cannot be read', () => {
    expect(partitionForKey(null, 6)).toBe(0);
  });

  it('clears the sign bit as Java\'s toPositive does, rather than taking an absolute value', () => {
    expect(toPositive(-1)).toBe(0x7fffffff);
    expect(toPositive(-2147483648)).toBe(0);
    expect(toPositive(5)).toBe(5);
  });

  it('refuses a partition count below one', () => {
    expect(() => partitionForKey(Buffer.from('k'), 0)).toThrow(/at least one partition/);
  });
});
