// The signed manifest of a run (REPORTS.md): the run, its parameters and watermark, every
// figure with its hash, and every file's SHA-256, signed with Ed25519 so that a copy can
// be checked offline with the public key alone (`ledger report verify`). Format version 1,
// canonical JSON: changing it breaks every manifest already handed out.
import { canonicalJson, sha256Hex } from '../ledger/canonical.ts';
import { signBytes, verifySignature, type SigningKey } from '../signing/keys.ts';
import type { Figure } from './figures.ts';
import type { RunHeader } from './render/types.ts';

export type Manifest = {
  format: 'ledger-report-manifest/1';
  run: RunHeader;
  figures: Array<Figure & { sha256: string }>;
  files: Record<string, { name: string; sha256: string }>;
  key_id: string;
};

/** What `ledger report run` writes beside the files: the manifest, its signature, the public key. */
export type ManifestFile = { manifest: Manifest; signature: string; public_key_pem: string };

export function figureHash(f: Figure): string {
  return sha256Hex(canonicalJson([f.id, f.key, f.dims, f.value]));
}

export function buildManifest(
  header: RunHeader, figures: readonly Figure[], files: Manifest['files'], keyId: string,
): Manifest {
  return {
    format: 'ledger-report-manifest/1',
    run: header,
    figures: figures.map((f) => ({ id: f.id, key: f.key, dims: f.dims, value: f.value, sha256: figureHash(f) })),
    files,
    key_id: keyId,
  };
}

export function signManifest(manifest: Manifest, key: SigningKey): ManifestFile {
  const signature = signBytes(key, canonicalJson(manifest));
  return { manifest, signature: signature.toString('base64'), public_key_pem: key.publicKeyPem };
}

export type ManifestCheck = { ok: boolean; reasons: string[]; format: string | null };

/**
 * Checks a file's SHA-256 against a manifest and the manifest's signature against a public
 * key: the auditor's own when given (trusted), else the one the manifest carries (which
 * proves integrity, not origin: said in the result).
 */
export function checkFileAgainstManifest(
  fileSha256: string, file: ManifestFile, trustedPublicKeyPem: string | null,
): ManifestCheck {
  const reasons: string[] = [];
  const pem = trustedPublicKeyPem ?? file.public_key_pem;
  if (!verifySignature(pem, canonicalJson(file.manifest), Buffer.from(file.signature, 'base64'))) {
    reasons.push(trustedPublicKeyPem === null
      ? 'the manifest signature does not verify' : 'the manifest is not signed by the given public key');
  }
  for (const f of file.manifest.figures) {
    if (figureHash(f) !== f.sha256) reasons.push(`figure ${f.id}: its hash does not match its value`);
  }
  const match = Object.entries(file.manifest.files).find(([, entry]) => entry.sha256 === fileSha256);
  if (match === undefined) reasons.push(`the file's SHA-256 ${fileSha256} is not one the manifest lists`);
  return { ok: reasons.length === 0, reasons, format: match?.[0] ?? null };
}
