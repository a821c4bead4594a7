// Signed checkpoints: every partition's chain head, a Merkle root over them, an Ed25519
// signature; written to the database and exported as a file an auditor can keep. A
// later rewrite of the whole chain (hashes recomputed by someone with the database)
// disagrees with the files the auditor holds.
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { canonicalJson } from '../ledger/canonical.ts';
import { checkpointBody, type ChainHead, type CheckpointBody } from '../ledger/merkle.ts';
import type { Pool } from '../db/database.ts';
import { withTransaction } from '../db/database.ts';
import { signBytes, type SigningKey } from '../signing/keys.ts';

/** The exported file, format version 1. */
export type CheckpointFile = {
  format: 'ledger-checkpoint/1';
  checkpoint_id: number;
  body: CheckpointBody;
  signature: string; // base64 of the Ed25519 signature over canonicalJson(body)
  public_key_pem: string;
};

export async function readHeads(pool: Pool): Promise<ChainHead[]> {
  const result = await pool.query<{ topic: string; partition: number; chain_seq: string; chain_head: Buffer }>(
    'SELECT topic, partition, chain_seq, chain_head FROM ledger.log_partitions ORDER BY topic, partition');
  return result.rows.map((r) => ({
    topic: r.topic, partition: r.partition, chainSeq: Number(r.chain_seq), hash: r.chain_head.toString('hex'),
  }));
}

/**
 * Writes a checkpoint of the current heads unless nothing moved since the last one.
 * Returns the file written, or null when there was nothing new.
 */
export async function writeCheckpoint(
  pool: Pool, key: SigningKey, dataDir: string, now: Date,
): Promise<CheckpointFile | null> {
  const file = await withTransaction(pool, async (client) => {
    const heads = await client.query<{ topic: string; partition: number; chain_seq: string; chain_head: Buffer }>(
      `SELECT topic, partition, chain_seq, chain_head FROM ledger.log_partitions
        ORDER BY topic, partition FOR SHARE`);
    const current: ChainHead[] = heads.rows.map((r) => ({
      topic: r.topic, partition: r.partition, chainSeq: Number(r.chain_seq), hash: r.chain_head.toString('hex'),
    }));
    const last = await client.query<{ body: string }>(
      'SELECT body FROM ledger.checkpoints ORDER BY checkpoint_id DESC LIMIT 1');
    if (last.rows[0] !== undefined) {
      const previous = JSON.parse(last.rows[0].body) as CheckpointBody;
      if (canonicalJson(previous.heads) === canonicalJson(current)) return null;
    }
    const body = checkpointBody(current, now.toISOString(), key.keyId);
    const bytes = canonicalJson(body);
    const signature = signBytes(key, bytes);
    await client.query(`INSERT INTO ledger.signing_keys (key_id, algorithm, public_key_pem)
      VALUES ($1, 'ed25519', $2) ON CONFLICT DO NOTHING`, [key.keyId, key.publicKeyPem]);
    const inserted = await client.query<{ checkpoint_id: string }>(
      `INSERT INTO ledger.checkpoints (created_at, body, merkle_root, key_id, signature)
       VALUES ($1, $2, $3, $4, $5) RETURNING checkpoint_id`,
      [body.created_at, bytes, Buffer.from(body.merkle_root, 'hex'), key.keyId, signature]);
    const checkpointFile: CheckpointFile = {
      format: 'ledger-checkpoint/1',
      checkpoint_id: Number(inserted.rows[0]?.checkpoint_id),
      body,
      signature: signature.toString('base64'),
      public_key_pem: key.publicKeyPem,
    };
    return checkpointFile;
  });
  if (file !== null) await exportCheckpointFile(checkpointsDir(dataDir), file);
  return file;
}

export function checkpointsDir(dataDir: string): string {
  return path.join(dataDir, 'checkpoints');
}

async function exportCheckpointFile(dir: string, file: CheckpointFile): Promise<string> {
  await mkdir(dir, { recursive: true });
  const name = path.join(dir, `checkpoint-${String(file.checkpoint_id).padStart(8, '0')}.json`);
  const temporary = `${name}.tmp`;
  await writeFile(temporary, `${JSON.stringify(file, null, 2)}\n`);
  await rename(temporary, name); // a reader never sees half a file
  return name;
}

export async function readCheckpointFiles(dir: string): Promise<Array<{ name: string; file: CheckpointFile }>> {
  const names = (await readdir(dir)).filter((n) => /^checkpoint-\d+\.json$/.test(n)).sort();
  const files: Array<{ name: string; file: CheckpointFile }> = [];
  for (const name of names) {
    files.push({ name, file: JSON.parse(await readFile(path.join(dir, name), 'utf8')) as CheckpointFile });
  }
  return files;
}
