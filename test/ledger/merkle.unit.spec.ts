// Proves merkleTreeHash is the Merkle Tree Hash of RFC 6962 §2.1. Three ways: (1) the
// tree for 1, 2, 3 and 5 leaves written out node by node from the RFC's definition (0x00
// prefix for a leaf, 0x01 for a node, split at the largest power of two below n); (2) an
// independent bottom-up implementation, where an odd node at the end of a level is
// carried up unhashed, compared for 0..33 leaves; (3) the Certificate Transparency
// reference vectors for the leaves "", 00, 10, 2021, 3031, 40414243, 50..57, 60..6f
// (as reproduced in e.g. thenativeweb/eventsourcingdb-auditing's merkle tests). Also
// pins headsRoot's leaf encoding and the order of heads.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/ledger/canonical.ts';
import { checkpointBody, headsRoot, merkleTreeHash, sortHeads, type ChainHead } from '../../src/ledger/merkle.ts';

const sha256 = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
const leafHash = (data: Buffer) => sha256(Buffer.from([0x00]), data);
const nodeHash = (left: Buffer, right: Buffer) => sha256(Buffer.from([0x01]), left, right);

/** Bottom-up: hash pairs level by level; an unpaired last node moves up as it is. */
function bottomUpRoot(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return sha256();
  let level: Buffer[] = leaves.map(leafHash);
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let index = 0; index < level.length; index += 2) {
      const left = level[index] as Buffer;
      const right = level[index + 1];
      next.push(right === undefined ? left : nodeHash(left, right));
    }
    level = next;
  }
  return level[0] as Buffer;
}

const data = (count: number) => Array.from({ length: count }, (_, index) => Buffer.from(`leaf ${index}`, 'utf8'));

describe('RFC 6962 structure, written out', () => {
  it('1 leaf: SHA-256(0x00 || d0)', () => {
    const [d0] = data(1) as [Buffer];
    expect(merkleTreeHash([d0]).equals(leafHash(d0))).toBe(true);
  });

  it('2 leaves: SHA-256(0x01 || leaf(d0) || leaf(d1))', () => {
    const [d0, d1] = data(2) as [Buffer, Buffer];
    expect(merkleTreeHash([d0, d1]).equals(nodeHash(leafHash(d0), leafHash(d1)))).toBe(true);
  });

  it('3 leaves: node(node(d0, d1), leaf(d2)) — split at 2', () => {
    const [d0, d1, d2] = data(3) as [Buffer, Buffer, Buffer];
    const expected = nodeHash(nodeHash(leafHash(d0), leafHash(d1)), leafHash(d2));
    expect(merkleTreeHash([d0, d1, d2]).equals(expected)).toBe(true);
  });

  it('5 leaves: node(node(node(d0, d1), node(d2, d3)), leaf(d4)) — split at 4', () => {
    const [d0, d1, d2, d3, d4] = data(5) as [Buffer, Buffer, Buffer, Buffer, Buffer];
    const left = nodeHash(nodeHash(leafHash(d0), leafHash(d1)), nodeHash(leafHash(d2), leafHash(d3)));
    expect(merkleTreeHash([d0, d1, d2, d3, d4]).equals(nodeHash(left, leafHash(d4)))).toBe(true);
  });

  it('0 leaves: SHA-256 of the empty string', () => {
    expect(merkleTreeHash([]).toString('hex'))
      .toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('does not confuse a leaf with a node (second-preimage resistance of the prefixes)', () => {
    const [d0, d1] = data(2) as [Buffer, Buffer];
    const forged = Buffer.concat([leafHash(d0), leafHash(d1)]);
    expect(merkleTreeHash([forged]).equals(merkleTreeHash([d0, d1]))).toBe(false);
  });
});

describe('against an independent bottom-up implementation', () => {
  it('agrees for every size from 0 to 33 leaves', () => {
    for (let count = 0; count <= 33; count++) {
      expect(merkleTreeHash(data(count)).toString('hex'), `${count} leaves`)
        .toBe(bottomUpRoot(data(count)).toString('hex'));
    }
  });
});

describe('Certificate Transparency reference vectors', () => {
  const leaves = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657',
    '606162636465666768696a6b6c6d6e6f'].map((hex) => Buffer.from(hex, 'hex'));
  const roots = [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
    '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
    'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
    '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
  ];
  it.each(roots.map((root, index) => [index + 1, root] as const))('MTH of the first %i leaves is %s', (count, root) => {
    expect(merkleTreeHash(leaves.slice(0, count)).toString('hex')).toBe(root);
  });
});

describe('checkpoint heads', () => {
  const heads: ChainHead[] = [
    { topic: 'marketplace.events', partition: 1, chainSeq: 4, hash: 'b'.repeat(64) },
    { topic: 'a.events', partition: 0, chainSeq: 1, hash: 'c'.repeat(64) },
    { topic: 'marketplace.events', partition: 0, chainSeq: 9, hash: 'a'.repeat(64) },
  ];

  it('orders heads by topic, then partition', () => {
    expect(sortHeads(heads).map((h) => `${h.topic}/${h.partition}`))
      .toEqual(['a.events/0', 'marketplace.events/0', 'marketplace.events/1']);
  });

  it('roots the canonical JSON [topic, partition, chainSeq, hash] of each sorted head', () => {
    const leaves = sortHeads(heads)
      .map((h) => Buffer.from(canonicalJson([h.topic, h.partition, h.chainSeq, h.hash]), 'utf8'));
    expect(headsRoot(heads)).toBe(bottomUpRoot(leaves).toString('hex'));
    expect(headsRoot([...heads].reverse())).toBe(headsRoot(heads));
    expect(checkpointBody(heads, '2026-11-01T00:00:00.000000Z', 'k1')).toEqual({
      version: 1, created_at: '2026-11-01T00:00:00.000000Z', heads: sortHeads(heads),
      merkle_root: headsRoot(heads), key_id: 'k1',
    });
  });
});
