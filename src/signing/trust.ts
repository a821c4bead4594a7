// The keys the ledger trusts (CLI.md, LEDGER_TRUSTED_KEYS): the service's own signing key
// plus the public keys an operator pinned. Nothing the database says adds to this list:
// a key found only in ledger.signing_keys is not trusted. Used to verify adjustment
// approvals (EVENTS.md), checkpoints and report manifests.
import type { Config } from '../config.ts';
import type { SigningKey } from './keys.ts';

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

/** The service's own key plus each file of LEDGER_TRUSTED_KEYS. (Filled in by the keys work.) */
export async function loadTrustedKeys(_config: Config, own: SigningKey): Promise<TrustedKeys> {
  return { keys: [{ keyId: own.keyId, publicKeyPem: own.publicKeyPem, source: 'service key' }] };
}
