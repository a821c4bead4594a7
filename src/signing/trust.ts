// The keys the ledger trusts (CLI.md, LEDGER_TRUSTED_KEYS): the service's own signing key,
// the public keys of the data dir's earlier keys (kept by `ledger keys rotate` under
// keys/retired), plus the public keys an operator pinned. Nothing the database says adds to
// this list: a key found only in ledger.signing_keys is not trusted. Used to verify
// adjustment approvals (EVENTS.md), checkpoints and report manifests.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.ts';
import { UserError } from '../errors.ts';
import { ed25519PublicKeyPem, keyIdOf, legacyKeyIdOf, retiredKeysDir, type SigningKey } from './keys.ts';

export type TrustedKey = {
  /** keyIdOf(publicKeyPem): 16 hex digits of the SHA-256 of the DER SPKI bytes. */
  readonly keyId: string;
  readonly publicKeyPem: string;
  /** Where it came from, for messages: 'service key' or the file's path. */
  readonly source: string;
};

/** Serializable (plain data), so that it can be handed to projector worker threads. */
export type TrustedKeys = { readonly keys: readonly TrustedKey[] };

export function findTrustedKey(trusted: TrustedKeys, keyId: string): TrustedKey | undefined {
  return trusted.keys.find((key) => key.keyId === keyId);
}

/**
 * For checkpoints and report manifests only: the key by its id, or by the id they carried
 * before the id was the DER's (keys.ts legacyKeyIdOf), so that what an earlier version
 * signed still verifies. Adjustment approvals name keys by the DER id alone (EVENTS.md).
 */
export function findTrustedSigner(trusted: TrustedKeys, keyId: string): TrustedKey | undefined {
  return findTrustedKey(trusted, keyId) ?? trusted.keys.find((key) => legacyKeyIdOf(key.publicKeyPem) === keyId);
}

/**
 * The service's own key (null: this machine has none, as for an auditor), the retired keys
 * the data dir keeps, and each file of LEDGER_TRUSTED_KEYS; a file that cannot be read or
 * is not an Ed25519 public key is the operator's mistake, named.
 */
export async function loadTrustedKeys(
  config: Pick<Config, 'dataDir' | 'trustedKeyFiles'>, own: SigningKey | null,
): Promise<TrustedKeys> {
  const keys: TrustedKey[] = [];
  const add = (publicKeyPem: string, source: string) => {
    const keyId = keyIdOf(publicKeyPem);
    if (!keys.some((k) => k.keyId === keyId)) keys.push({ keyId, publicKeyPem, source });
  };
  if (own !== null) add(own.publicKeyPem, 'service key');
  for (const file of await retiredKeyFiles(config.dataDir)) add(await readPublicKey(file, 'retired key'), file);
  for (const file of config.trustedKeyFiles) add(await readPublicKey(file, 'LEDGER_TRUSTED_KEYS'), file);
  return { keys };
}

/** Public keys given by the operator (LEDGER_TRUSTED_KEYS, `--public-key`): a one-line error naming the file. */
export async function readPublicKey(file: string, what: string): Promise<string> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (error) {
    throw new UserError('bad_key', `${what}: cannot read ${file} (${(error as { code?: string }).code ?? 'error'})`);
  }
  return ed25519PublicKeyPem(pem, `${what}: ${file}`);
}

async function retiredKeyFiles(dataDir: string): Promise<string[]> {
  const dir = retiredKeysDir(dataDir);
  const names = await readdir(dir).catch((error: { code?: string }) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw new UserError('bad_key', `cannot read the retired keys in ${dir} (${error.code ?? 'error'})`);
  });
  return names.filter((n) => /^[0-9a-f]{16}\.pem$/.test(n)).sort().map((n) => path.join(dir, n));
}

/** How a message lists the trusted keys: `id (source)`, or that there are none. */
export function describeTrusted(trusted: TrustedKeys): string {
  return trusted.keys.length === 0 ? 'no trusted keys'
    : trusted.keys.map((k) => `${k.keyId} (${k.source})`).join(', ');
}
