// Merkle tree hash of RFC 6962 (Certificate Transparency), section 2.1: leaves hashed
// with a 0x00 prefix, nodes with 0x01, split at the largest power of two below n. Pure.
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical.ts';

export function merkleTreeHash(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) {
    return createHash('sha256').update(Buffer.from([0])).update(leaves[0] as Buffer).digest();
  }
  let split = 1;
  while (split * 2 < leaves.length) split *= 2;
  const left = merkleTreeHash(leaves.slice(0, split));
  const right = merkleTreeHash(leaves.slice(split));
  return createHash('sha256').update(Buffer.from([1])).update(left).update(right).digest();
}

/** A partition's chain head at a checkpoint. */
export type ChainHead = { topic: string; partition: number; chainSeq: number; hash: string };

/** Checkpoint body, format version 1: what the signature covers, canonical JSON. */
export type CheckpointBody = {
  version: 1;
  created_at: string;
  heads: ChainHead[];
  merkle_root: string;
  key_id: string;
};

export function sortHeads(heads: readonly ChainHead[]): ChainHead[] {
  return [...heads].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
}

/** Leaves are the canonical JSON of each head, in (topic, partition) order. */
export function headsRoot(heads: readonly ChainHead[]): string {
  const leaves = sortHeads(heads).map((h) =>
    Buffer.from(canonicalJson([h.topic, h.partition, h.chainSeq, h.hash]), 'utf8'));
  return merkleTreeHash(leaves).toString('hex');
}

export function checkpointBody(heads: readonly ChainHead[], createdAt: string, keyId: string): CheckpointBody {
  const sorted = sortHeads(heads);
  return { version: 1, created_at: createdAt, heads: sorted, merkle_root: headsRoot(sorted), key_id: keyId };
}
