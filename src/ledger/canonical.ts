// Canonical JSON, version 1: object keys sorted by UTF-16 code units, no whitespace,
// primitives as JSON.stringify writes them. Every hashed or signed byte sequence in this
// program (entry hashes, payload hashes, checkpoints, manifests) is built with it, so the
// offline verifier can recompute the same bytes. Changing it changes every hash: don't.
import { hash } from 'node:crypto';

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
    let text = '[';
    for (let index = 0; index < value.length; index += 1) {
      text += (index === 0 ? '' : ',') + canonicalJson(value[index]);
    }
    return `${text}]`;
  }
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    let text = '{';
    for (const key of keys) {
      const member = record[key];
      if (member === undefined) continue;
      text += `${text.length === 1 ? '' : ','}${jsonString(key)}:${canonicalJson(member)}`;
    }
    return `${text}}`;
  }
  throw new Error(`canonicalJson: cannot encode a ${typeof value}`);
}

/** Characters JSON.stringify escapes in a string: quote, backslash, controls, surrogates. */
const needsEscape = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A string as JSON.stringify writes it; most strings here need no escape, so skip its work. */
export function jsonString(value: string): string {
  return needsEscape.test(value) ? JSON.stringify(value) : `"${value}"`;
}

// crypto.hash is the one-shot form (Node >= 20.12): no Hash object per digest.
export function sha256Hex(data: string | Buffer): string {
  return hash('sha256', data, 'hex');
}

export function sha256(data: string | Buffer): Buffer {
  return hash('sha256', data, 'buffer');
}

/** The digest as a binary string, a byte per character: far less heap than a Buffer (StagedCopy.binaryString). */
export function sha256Binary(data: string | Buffer): string {
  return hash('sha256', data, 'binary');
}
