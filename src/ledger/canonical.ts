// Canonical JSON, version 1: object keys sorted by UTF-16 code units, no whitespace,
// primitives as JSON.stringify writes them. Every hashed or signed byte sequence in this
// program (entry hashes, payload hashes, checkpoints, manifests) is built with it, so the
// offline verifier can recompute the same bytes. Changing it changes every hash: don't.
import { createHash } from 'node:crypto';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') {
    return JSON.stringify(value);
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('canonicalJson: non-finite number');
    return JSON.stringify(value);
  }
  if (typeof value === 'bigint') {
    throw new Error('canonicalJson: bigint must be written as a decimal string first');
  }
  if (Array.isArray(value)) {
    return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  }
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
  }
  throw new Error(`canonicalJson: cannot encode a ${typeof value}`);
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256(data: string | Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}
