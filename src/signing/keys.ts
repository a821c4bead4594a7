// The Ed25519 signing key for checkpoints and report manifests: LEDGER_SIGNING_KEY (PEM)
// when set, else a key kept under LEDGER_DATA_DIR/keys (created on a ledger's first start,
// mode 0600; a file other accounts may read is refused). Never in the repository. Auditors
// get the public key from `ledger keys export`. Whether a key may sign for a given ledger
// is ledger-key.ts; which keys verify trusts is trust.ts.
import {
  createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject,
} from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256Hex } from '../ledger/canonical.ts';
import { UserError } from '../errors.ts';

export type SigningKey = {
  readonly keyId: string;
  readonly privateKey: KeyObject;
  readonly publicKeyPem: string;
};

/** The data dir's key: read when it exists, else created (a first start). See ledger-key.ts for the guard. */
export async function loadSigningKey(dataDir: string, pemFromEnv: string | null): Promise<SigningKey> {
  return await readSigningKey(dataDir, pemFromEnv) ?? await createSigningKey(dataDir);
}

/** The key LEDGER_SIGNING_KEY or the data dir holds; null when there is none (never creates one). */
export async function readSigningKey(dataDir: string, pemFromEnv: string | null): Promise<SigningKey | null> {
  if (pemFromEnv !== null) return fromPrivatePem(pemFromEnv, 'LEDGER_SIGNING_KEY');
  const file = signingKeyFile(dataDir);
  if (!existsSync(file)) return null;
  await refuseSharedKeyFile(file);
  return fromPrivatePem(await readFile(file, 'utf8'), file);
}

export function signingKeyFile(dataDir: string): string {
  return path.join(dataDir, 'keys', 'signing-ed25519.pem');
}

/** Public keys of the data dir's earlier signing keys, kept by `ledger keys rotate` (trusted: trust.ts). */
export function retiredKeysDir(dataDir: string): string {
  return path.join(dataDir, 'keys', 'retired');
}

/** A new key in the data dir, mode 0600; when another process made one first, theirs. */
export async function createSigningKey(dataDir: string): Promise<SigningKey> {
  const file = signingKeyFile(dataDir);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, newPrivateKeyPem(), { mode: 0o600, flag: 'wx' }).catch(async (error: { code?: string }) => {
    if (error.code !== 'EEXIST') throw error; // another process made it first: use theirs
  });
  await chmod(file, 0o600);
  await refuseSharedKeyFile(file);
  return fromPrivatePem(await readFile(file, 'utf8'), file);
}

export function newPrivateKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * A private key other accounts may read is no longer the service's alone: refused, so that
 * the operator narrows it rather than the ledger signing with a key anyone may have copied.
 */
async function refuseSharedKeyFile(file: string): Promise<void> {
  const mode = (await stat(file)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new UserError('key_mode', `the signing key ${file} is readable by other accounts ` +
      `(mode ${mode.toString(8).padStart(4, '0')}); run: chmod 600 ${file}`);
  }
}

export function privateKeyFromPem(pem: string, source: string): SigningKey {
  return fromPrivatePem(pem, source);
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

/**
 * The key id checkpoints and manifests carried before the id was the DER's (16 hex digits
 * of the SHA-256 of the PEM text as this program exported it): still recognised for those,
 * never for adjustment approvals (trust.ts).
 */
export function legacyKeyIdOf(publicKeyPem: string): string {
  const pem = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'pem' }).toString();
  return sha256Hex(pem.trim()).slice(0, 16);
}

/** An Ed25519 public key (PEM, SPKI; a private key's public half is refused) as this program writes it. */
export function ed25519PublicKeyPem(pem: string, source: string): string {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new UserError('bad_key', `${source} is not a PEM public key`);
  }
  if (!/-----BEGIN PUBLIC KEY-----/.test(pem)) throw new UserError('bad_key', `${source} is not a PEM public key (SPKI)`);
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new UserError('bad_key', `${source} is a ${key.asymmetricKeyType} key; Ed25519 is required`);
  }
  return key.export({ type: 'spki', format: 'pem' }).toString();
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
