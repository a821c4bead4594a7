// An adjustment's approval (EVENTS.md, adjustment.posted): `data.approval` is
// {approval_id, key_id, signature}, the signature Ed25519, base64, by one of the ledger's
// trusted keys, over the UTF-8 bytes of the RFC 8785 (JCS) canonical JSON of `data` with
// `approval.signature` left out. Anyone can write to the topic; only what two people
// approved through the service carries a signature that verifies.
//
// The signed bytes: canonicalJson (canonical.ts) is exactly JCS for every value JSON.parse
// gives whose strings are well-formed UTF-16: keys sorted by UTF-16 code units, numbers
// and strings as ECMAScript's JSON.stringify writes them (RFC 8785 §3.2.2 is defined by
// it), no whitespace (test/ledger/approval.unit.spec.ts holds RFC 8785's vectors). The
// one difference is a lone surrogate (`"\ud800"`), which I-JSON forbids and JCS cannot
// encode: data holding one has no signed form, so it is never approved.
//
// Pure but for verifying, which is computation: the keys come in as plain data
// (TrustedKeys) and are turned into KeyObjects once, by approvalKeys, per thread.
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { invariant } from '../errors.ts';
import type { SigningKey } from '../signing/keys.ts';
import type { TrustedKeys } from '../signing/trust.ts';
import { canonicalJson } from './canonical.ts';
import { reject, type Rejection } from './rejections.ts';

export type Approval = { readonly approval_id: string; readonly key_id: string; readonly signature: string };

/** What signing needs of a key (a SigningKey has it). */
export type ApprovalSigningKey = Pick<SigningKey, 'keyId' | 'privateKey'>;

/** Adds a signed approval to an adjustment's data: how the generator and the service approve. */
export type AdjustmentApprover = <T extends Record<string, unknown>>(
  data: T, approvalId: string,
) => T & { approval: Approval };

/** The trusted keys, each as a KeyObject ready to verify with. Built once per thread. */
export type ApprovalKeys = { readonly byKeyId: ReadonlyMap<string, KeyObject> };

const ed25519SignatureBytes = 64;
/** Lone surrogates: a high one not followed by a low one, or a low one not after a high one. */
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function approvalKeys(trusted: TrustedKeys): ApprovalKeys {
  const byKeyId = new Map<string, KeyObject>();
  for (const key of trusted.keys) {
    const publicKey = createPublicKey(key.publicKeyPem);
    invariant(publicKey.asymmetricKeyType === 'ed25519', `trusted key ${key.keyId} (${key.source}) is Ed25519`);
    byKeyId.set(key.keyId, publicKey);
  }
  return { byKeyId };
}

/**
 * The bytes an approval signs: JCS of `data` with `approval.signature` left out (any other
 * approval field stays in and is signed). Null when `data` has no JCS form (a lone
 * surrogate in a key or string).
 */
export function approvalSigningBytes(data: Readonly<Record<string, unknown>>): Buffer | null {
  const approval = data.approval;
  let unsigned: Record<string, unknown> = { ...data };
  if (approval !== null && typeof approval === 'object' && !Array.isArray(approval)) {
    const { signature: _signature, ...rest } = approval as Record<string, unknown>;
    unsigned = { ...data, approval: rest };
  }
  if (hasLoneSurrogate(unsigned)) return null;
  return Buffer.from(canonicalJson(unsigned), 'utf8');
}

/** `data` with an approval by `key` over it (any approval it carried is replaced). */
export function signAdjustmentApproval<T extends Record<string, unknown>>(
  data: T, key: ApprovalSigningKey, approvalId: string,
): T & { approval: Approval } {
  invariant(approvalId.length > 0, 'an approval has an id');
  const unsigned = { ...data, approval: { approval_id: approvalId, key_id: key.keyId } };
  const bytes = approvalSigningBytes(unsigned);
  if (bytes === null) throw new Error('the adjustment holds a lone surrogate, which RFC 8785 cannot encode');
  const signature = sign(null, bytes, key.privateKey).toString('base64');
  return { ...data, approval: { approval_id: approvalId, key_id: key.keyId, signature } };
}

export function approverFor(key: ApprovalSigningKey): AdjustmentApprover {
  return (data, approvalId) => signAdjustmentApproval(data, key, approvalId);
}

/**
 * Null when `data.approval` is a signature by a trusted key over this very data; else the
 * `unapproved_adjustment` rejection, naming what is wrong.
 */
export function checkApproval(data: Readonly<Record<string, unknown>>, keys: ApprovalKeys): Rejection | null {
  const approval = data.approval;
  if (approval === undefined) {
    return unapproved('data.approval is missing: an adjustment posts only with the signed approval ' +
      'the service adds when a second person approves it');
  }
  const shapeProblem = approvalShapeProblem(approval);
  if (shapeProblem !== null) return unapproved(shapeProblem);
  const { approval_id: approvalId, key_id: keyId, signature } = approval as Approval;
  const publicKey = keys.byKeyId.get(keyId);
  if (publicKey === undefined) {
    return unapproved(`data.approval.key_id ${JSON.stringify(keyId)} is not a key this ledger trusts ` +
      '(its own signing key or LEDGER_TRUSTED_KEYS)');
  }
  const bytes = approvalSigningBytes(data);
  if (bytes === null) {
    return unapproved('data holds a lone UTF-16 surrogate, which RFC 8785 cannot encode: no approval can cover it');
  }
  if (!verify(null, bytes, publicKey, Buffer.from(signature, 'base64'))) {
    return unapproved(`data.approval.signature of approval ${JSON.stringify(approvalId)} does not verify with ` +
      `key ${keyId}: the adjustment is not the one that was approved`);
  }
  return null;
}

function approvalShapeProblem(approval: unknown): string | null {
  if (approval === null || typeof approval !== 'object' || Array.isArray(approval)) {
    return `data.approval ${JSON.stringify(approval)} is not an object {approval_id, key_id, signature}`;
  }
  const record = approval as Record<string, unknown>;
  for (const field of ['approval_id', 'key_id'] as const) {
    const value = record[field];
    if (typeof value !== 'string' || value.length === 0) {
      return `data.approval.${field} ${JSON.stringify(value) ?? 'missing'} is not a non-empty string`;
    }
  }
  if (!isSignatureBase64(record.signature)) {
    return `data.approval.signature ${JSON.stringify(record.signature) ?? 'missing'} is not the base64 of a ` +
      `${ed25519SignatureBytes}-byte Ed25519 signature`;
  }
  return null;
}

/** Canonical padded base64 of exactly 64 bytes: Buffer.from is lenient, so the text is read back. */
function isSignatureBase64(value: unknown): value is string {
  if (typeof value !== 'string' || value.length !== 88) return false;
  const bytes = Buffer.from(value, 'base64');
  return bytes.length === ed25519SignatureBytes && bytes.toString('base64') === value;
}

function hasLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return loneSurrogate.test(value);
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(hasLoneSurrogate);
  for (const key of Object.keys(value)) {
    if (loneSurrogate.test(key) || hasLoneSurrogate((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

function unapproved(message: string): Rejection {
  return reject('unapproved_adjustment', message);
}
