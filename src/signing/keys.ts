// The Ed25519 signing key for checkpoints and report manifests: LEDGER_SIGNING_KEY (PEM)
// when set, else a key kept under LEDGER_DATA_DIR/keys (created on first use, mode 0600).
// Never in the repository. Auditors get the public key from `ledger keys export`.
import {
  createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject,
} from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256Hex } from '../ledger/canonical.ts';
import { UserError } from '../errors.ts';

export type SigningKey = {
  readonly keyId: string;
  readonly privateKey: KeyObject;
  readonly publicKeyPem: string;
};

export async function loadSigningKey(dataDir: string, pemFromEnv: string | null): Promise<SigningKey> {
  if (pemFromEnv !== null) return fromPrivatePem(pemFromEnv, 'LEDGER_SIGNING_KEY');
  const file = path.join(dataDir, 'keys', 'signing-ed25519.pem');
  if (existsSync(file)) return fromPrivatePem(await readFile(file, 'utf8'), file);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  await writeFile(file, pem, { mode: 0o600, flag: 'wx' }).catch(async (error: { code?: string }) => {
    if (error.code !== 'EEXIST') throw error; // another process made it first: use theirs
  });
  await chmod(file, 0o600);
  return fromPrivatePem(await readFile(file, 'utf8'), file);
}

function fromPrivatePem(pem: string, source: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new UserError('bad_key', `${source} is not a PEM private key`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new UserError('bad_key', `${source} is a ${privateKey.asymmetricKeyType} key; Ed25519 is required`);
  }
  const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  return { keyId: keyIdOf(publicKeyPem), privateKey, publicKeyPem };
}

/**
 * The first 16 hex digits of the SHA-256 of the public key's DER SPKI bytes (EVENTS.md,
 * adjustment approvals): one key id for approvals, checkpoints and manifests, computable by
 * an auditor from the PEM with `openssl pkey -pubin -outform DER | sha256sum`.
 */
export function keyIdOf(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return sha256Hex(der).slice(0, 16);
}

export function signBytes(key: SigningKey, data: string): Buffer {
  return sign(null, Buffer.from(data, 'utf8'), key.privateKey);
}

export function verifySignature(publicKeyPem: string, data: string, signature: Buffer): boolean {
  try {
    return verify(null, Buffer.from(data, 'utf8'), createPublicKey(publicKeyPem), signature);
  } catch {
    return false;
  }
}
