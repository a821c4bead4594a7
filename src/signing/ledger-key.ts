// The signing key as a ledger sees it. A first start creates one silently; after that, a
// new key is an explicit, recorded act (`ledger keys rotate`): a command that would sign
// with a key this ledger has never signed with (the data dir lost its key, or
// LEDGER_SIGNING_KEY names another) refuses, saying how to go on. This is a guard against
// accidents, not the trust model: `ledger verify` trusts only pinned keys (trust.ts).
import { rename, writeFile } from 'node:fs/promises';
import type { Config } from '../config.ts';
import { withTransaction, type Pool } from '../db/database.ts';
import { UserError } from '../errors.ts';
import { writePrivateFileAtomic } from '../storage/files.ts';
import {
  createSigningKey, keyIdOf, newPrivateKeyPem, privateKeyFromPem, readSigningKey, retiredKeysDir,
  signingKeyFile, type SigningKey,
} from './keys.ts';
import path from 'node:path';

/** A key that signed checkpoints or report manifests here, as the database names it. */
type SignedBy = { key_id: string; public_key_pem: string };

/** The key commands that sign use: the ledger's own, or a one-line refusal. */
export async function signingKeyForLedger(pool: Pool, config: Config): Promise<SigningKey> {
  const key = await readSigningKey(config.dataDir, config.signingKeyPem);
  const signed = await keysThatSigned(pool);
  if (key === null) {
    if (signed.length > 0) {
      throw new UserError('no_signing_key', `no signing key in ${signingKeyFile(config.dataDir)}, but this ledger ` +
        `holds signatures by key ${idsOf(signed)}: restore that key file (mode 0600), or run \`ledger keys rotate\` ` +
        'to start a new key');
    }
    return createSigningKey(config.dataDir);
  }
  if (signed.length > 0 && !await isLedgerKey(pool, key, signed)) {
    const source = config.signingKeyPem !== null ? 'LEDGER_SIGNING_KEY' : signingKeyFile(config.dataDir);
    throw new UserError('unknown_signing_key', `the signing key ${key.keyId} (${source}) has never signed for ` +
      `this ledger, which holds signatures by key ${idsOf(signed)}: restore the ledger's key, or run ` +
      '`ledger keys rotate` to adopt a new one');
  }
  return key;
}

export type Rotation = {
  key_id: string;
  previous_key_id: string | null;
  previous_key: 'retired' | 'replaced' | 'none';
  /** Where the retired key's public half is kept (trusted from there on). */
  retired_file: string | null;
  signed_before: string[];
};

/**
 * `ledger keys rotate`. With the data dir's key: a new key replaces it, and the old one's
 * public key is kept under keys/retired (still trusted for what it signed; its private key
 * is gone). Without one: a new key, and what the lost key signed fails verify until its
 * public key is pinned (LEDGER_TRUSTED_KEYS). With LEDGER_SIGNING_KEY: that key is adopted.
 */
export async function rotateSigningKey(
  pool: Pool, config: Config, rotatedBy: string, now: Date,
): Promise<Rotation> {
  const signed = await keysThatSigned(pool);
  const fromEnv = config.signingKeyPem !== null;
  const current = fromEnv ? null : await readSigningKey(config.dataDir, null);
  const pem = fromEnv ? config.signingKeyPem as string : newPrivateKeyPem();
  const next = privateKeyFromPem(pem, fromEnv ? 'LEDGER_SIGNING_KEY' : 'the new key');
  if (fromEnv && await isLedgerKey(pool, next, signed)) {
    throw new UserError('nothing_to_rotate', `LEDGER_SIGNING_KEY holds key ${next.keyId}, already this ledger's ` +
      'signing key: set it to the new key first, then run `ledger keys rotate`');
  }
  let retiredFile: string | null = null;
  if (current !== null) {
    retiredFile = path.join(retiredKeysDir(config.dataDir), `${current.keyId}.pem`);
    await writePrivateFileAtomic(retiredFile, current.publicKeyPem); // trusted before anything is replaced
  }
  const file = signingKeyFile(config.dataDir);
  const staged = `${file}.new`;
  if (!fromEnv) await writeFile(staged, pem, { mode: 0o600 });
  const rotation: Rotation = {
    key_id: next.keyId, previous_key_id: current?.keyId ?? null,
    previous_key: current !== null ? 'retired' : signed.length > 0 || fromEnv ? 'replaced' : 'none',
    retired_file: retiredFile, signed_before: signed.map((s) => s.key_id),
  };
  await recordRotation(pool, rotation, next, current, rotatedBy, now);
  if (!fromEnv) await rename(staged, file);
  return rotation;
}

async function recordRotation(
  pool: Pool, rotation: Rotation, next: SigningKey, current: SigningKey | null, rotatedBy: string, now: Date,
): Promise<void> {
  await withTransaction(pool, async (client) => {
    for (const key of current === null ? [next] : [next, current]) {
      await client.query(`INSERT INTO ledger.signing_keys (key_id, algorithm, public_key_pem)
        VALUES ($1, 'ed25519', $2) ON CONFLICT DO NOTHING`, [key.keyId, key.publicKeyPem]);
    }
    await client.query(`INSERT INTO ledger.key_rotations (rotated_at, key_id, previous_key_id, previous_key,
        signed_before, rotated_by) VALUES ($1, $2, $3, $4, $5, $6)`,
    [now.toISOString(), rotation.key_id, rotation.previous_key_id, rotation.previous_key, rotation.signed_before,
      rotatedBy]);
  });
}

async function keysThatSigned(pool: Pool): Promise<SignedBy[]> {
  const rows = await pool.query<SignedBy>(
    `SELECT k.key_id, k.public_key_pem FROM ledger.signing_keys k
      WHERE EXISTS (SELECT 1 FROM ledger.checkpoints c WHERE c.key_id = k.key_id)
         OR EXISTS (SELECT 1 FROM ledger.report_runs r WHERE r.key_id = k.key_id)
      ORDER BY k.key_id`);
  return rows.rows;
}

/** The key signed here before (under its id or its legacy id: the same public key), or was rotated to. */
async function isLedgerKey(pool: Pool, key: SigningKey, signed: readonly SignedBy[]): Promise<boolean> {
  if (signed.some((s) => sameKey(s.public_key_pem, key.keyId))) return true;
  const rotated = await pool.query('SELECT 1 FROM ledger.key_rotations WHERE key_id = $1 LIMIT 1', [key.keyId]);
  return rotated.rows.length > 0;
}

function sameKey(publicKeyPem: string, keyId: string): boolean {
  try {
    return keyIdOf(publicKeyPem) === keyId;
  } catch {
    return false; // a row that is not a key (the table is the database's word, not ours)
  }
}

function idsOf(signed: readonly SignedBy[]): string {
  const ids = signed.map((s) => s.key_id);
  return ids.slice(0, 5).join(', ') + (ids.length > 5 ? ` and ${ids.length - 5} more` : '');
}
