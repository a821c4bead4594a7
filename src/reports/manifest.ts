// The signed manifest of a run (REPORTS.md): the run, its parameters and watermark, every
// figure with its hash, and every file's SHA-256, signed with Ed25519 so that a copy can
// be checked offline with the public key alone (`ledger report verify`). Format version 1,
// canonical JSON: changing it breaks every manifest already handed out.
import { canonicalJson, sha256Hex } from '../ledger/canonical.ts';
import { UserError } from '../errors.ts';
import { signBytes, verifySignature, type SigningKey } from '../signing/keys.ts';
import { describeTrusted, findTrustedSigner, type TrustedKeys } from '../signing/trust.ts';
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

/** Whether the check proved who signed: 'not checked' without a trusted key to check against. */
export type ManifestOrigin = 'proved' | 'not proved' | 'not checked';

export type ManifestCheck = {
  ok: boolean; reasons: string[]; format: string | null; origin: ManifestOrigin;
  /** The trusted key that signed, when origin is proved: `id (source)`. */
  signer: string | null;
};

/**
 * Checks a file's SHA-256 against a manifest and the manifest's signature. With trusted
 * keys (the auditor's `--public-key`, or trust.ts's list), the manifest's key must be one
 * of them: that proves origin. Without, the signature is checked with the key the manifest
 * carries, which anyone who changed the manifest could have replaced: integrity, not origin.
 */
export function checkFileAgainstManifest(
  fileSha256: string, file: ManifestFile, trusted: TrustedKeys | null,
): ManifestCheck {
  const reasons: string[] = [];
  const bytes = canonicalJson(file.manifest);
  const signature = Buffer.from(file.signature, 'base64');
  const runId = file.manifest.run.run_id;
  let origin: ManifestOrigin = 'not checked';
  let signer: string | null = null;
  if (trusted === null || trusted.keys.length === 0) {
    if (!verifySignature(file.public_key_pem, bytes, signature)) reasons.push('the manifest signature does not verify');
  } else {
    const key = findTrustedSigner(trusted, file.manifest.key_id);
    origin = 'not proved';
    if (key === undefined) {
      reasons.push(`run ${runId}: the manifest is signed by key ${file.manifest.key_id}, which is not a trusted key ` +
        `(trusted: ${describeTrusted(trusted)})`);
    } else if (!verifySignature(key.publicKeyPem, bytes, signature)) {
      reasons.push(`run ${runId}: the manifest signature does not verify with the trusted key ${key.keyId} (${key.source})`);
    } else {
      origin = 'proved';
      signer = `${key.keyId} (${key.source})`;
    }
  }
  for (const f of file.manifest.figures) {
    if (figureHash(f) !== f.sha256) reasons.push(`figure ${f.id}: its hash does not match its value`);
  }
  const match = Object.entries(file.manifest.files).find(([, entry]) => entry.sha256 === fileSha256);
  if (match === undefined) reasons.push(`the file's SHA-256 ${fileSha256} is not one the manifest lists`);
  return { ok: reasons.length === 0, reasons, format: match?.[0] ?? null, origin, signer };
}

/**
 * A manifest file as `ledger report run` writes it, or a one-line error naming the first
 * thing missing: a file someone hands over is input, and a wrong one is their mistake.
 */
export function manifestFileFrom(value: unknown, source: string): ManifestFile {
  const bad = (what: string): never => {
    throw new UserError('bad_file', `${source} is not a report manifest: ${what}`);
  };
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(value)) bad('not a JSON object');
  const top = value as Record<string, unknown>;
  if (!isObject(top.manifest)) bad('no "manifest" object');
  if (typeof top.signature !== 'string') bad('no "signature"');
  if (typeof top.public_key_pem !== 'string') bad('no "public_key_pem"');
  const manifest = top.manifest as Record<string, unknown>;
  if (manifest.format !== 'ledger-report-manifest/1') bad(`format ${JSON.stringify(manifest.format ?? null)} is not ledger-report-manifest/1`);
  if (!isObject(manifest.run)) bad('no "run"');
  if (typeof (manifest.run as Record<string, unknown>).run_id !== 'string') bad('its "run" has no "run_id"');
  if (typeof manifest.key_id !== 'string') bad('no "key_id"');
  if (!Array.isArray(manifest.figures)) bad('no "figures" list');
  for (const [index, f] of (manifest.figures as unknown[]).entries()) {
    if (!isObject(f) || typeof f.id !== 'string' || typeof f.key !== 'string' || !isObject(f.dims) ||
      typeof f.value !== 'string' || typeof f.sha256 !== 'string') bad(`figure ${index + 1} lacks id, key, dims, value or sha256`);
  }
  if (!isObject(manifest.files)) bad('no "files"');
  for (const [format, entry] of Object.entries(manifest.files as Record<string, unknown>)) {
    if (!isObject(entry) || typeof entry.sha256 !== 'string') bad(`files.${format} has no "sha256"`);
  }
  return value as ManifestFile;
}
