// The tests' fixed signing key: adjustments in test streams are approved with it, and
// every test projector trusts it, as a deployment trusts its own key. Fixed (derived from
// a constant seed), so that a generated stream is byte-identical from run to run and
// across processes: a child `ledger` process is given the same key as LEDGER_SIGNING_KEY.
// A test key only: nothing outside test/ trusts it.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { approverFor, type AdjustmentApprover } from '../../src/ledger/approval.ts';
import { sha256 } from '../../src/ledger/canonical.ts';
import { keyIdOf, type SigningKey } from '../../src/signing/keys.ts';
import type { TrustedKeys } from '../../src/signing/trust.ts';

/** PKCS#8 DER of an Ed25519 private key is this prefix and the 32-byte seed (RFC 8410). */
const ed25519Pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');

export function ed25519KeyFromSeed(seedText: string): SigningKey {
  const der = Buffer.concat([ed25519Pkcs8Prefix, sha256(seedText)]);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  return { keyId: keyIdOf(publicKeyPem), privateKey, publicKeyPem };
}

export const testSigningKey: SigningKey = ed25519KeyFromSeed('marketplace-ledger test signing key');

/** The key as LEDGER_SIGNING_KEY takes it, for child processes. */
export const testSigningKeyPem: string = testSigningKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

export const testTrustedKeys: TrustedKeys = {
  keys: [{ keyId: testSigningKey.keyId, publicKeyPem: testSigningKey.publicKeyPem, source: 'test key' }],
};

/** Signs a generated stream's adjustments, as `ledger events generate` does with the data dir's key. */
export const testApprover: AdjustmentApprover = approverFor(testSigningKey);

/** A second key no test projector trusts. */
export const untrustedKey: SigningKey = ed25519KeyFromSeed('marketplace-ledger untrusted key');
