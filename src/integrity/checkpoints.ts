// Signed checkpoints: every partition's chain head, a Merkle root over them, an Ed25519
// signature; written to the database and exported as a file an auditor can keep. A
// later rewrite of the whole chain (hashes recomputed by someone with the database)
// disagrees with the files the auditor holds.
//
// The file is written after the checkpoint commits, so a folder that cannot be written
// (read-only, full) must not undo or stop the projector's work: the failure is logged, and
// every later checkpoint (each projector run ends with one, `ledger checkpoint` too)
// first exports what the database has and the folder lacks.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { canonicalJson } from '../ledger/canonical.ts';
import { checkpointBody, type ChainHead, type CheckpointBody } from '../ledger/merkle.ts';
import type { Pool } from '../db/database.ts';
import { withTransaction } from '../db/database.ts';
import { signBytes, type SigningKey } from '../signing/keys.ts';
import { writePrivateFileAtomic } from '../storage/files.ts';

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
  pool: Pool, key: SigningKey, dataDir: string, now: Date, options: { log?: (line: string) => void } = {},
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
  const exported = await exportMissingCheckpoints(pool, checkpointsDir(dataDir));
  if (exported.failed !== null) {
    const log = options.log ?? ((line: string) => process.stderr.write(`ledger: ${line}\n`));
    const { ids } = exported.failed;
    const named = ids.slice(0, 10).join(', ') + (ids.length > 10 ? ` and ${ids.length - 10} more` : '');
    log(`checkpoint ${named}: file not written to ${checkpointsDir(dataDir)} ` +
      `(${exported.failed.reason}); written at the next checkpoint or start`);
  }
  return file;
}

export function checkpointsDir(dataDir: string): string {
  return path.join(dataDir, 'checkpoints');
}

export function checkpointFileName(checkpointId: number): string {
  return `checkpoint-${String(checkpointId).padStart(8, '0')}.json`;
}

export type ExportResult = { written: number[]; failed: { ids: number[]; reason: string } | null };

/**
 * Writes the file of every checkpoint in the database that `dir` lacks. Never throws for
 * the folder: a failure is returned (the first write that fails stops the rest; they are
 * all retried next time).
 */
export async function exportMissingCheckpoints(pool: Pool, dir: string): Promise<ExportResult> {
  const present = new Set(await checkpointFileNames(dir).catch(() => [] as string[]));
  const ids = await pool.query<{ checkpoint_id: string }>(
    'SELECT checkpoint_id FROM ledger.checkpoints ORDER BY checkpoint_id');
  const missing = ids.rows.map((r) => Number(r.checkpoint_id)).filter((id) => !present.has(checkpointFileName(id)));
  const result: ExportResult = { written: [], failed: null };
  if (missing.length === 0) return result;
  const rows = await pool.query<{ checkpoint_id: string; body: string; signature: Buffer; public_key_pem: string | null }>(
    `SELECT c.checkpoint_id, c.body, c.signature, k.public_key_pem FROM ledger.checkpoints c
       LEFT JOIN ledger.signing_keys k USING (key_id) WHERE c.checkpoint_id = ANY($1::bigint[])
      ORDER BY c.checkpoint_id`, [missing]);
  for (const [index, row] of rows.rows.entries()) {
    const file: CheckpointFile = {
      format: 'ledger-checkpoint/1', checkpoint_id: Number(row.checkpoint_id),
      body: JSON.parse(row.body) as CheckpointBody, signature: row.signature.toString('base64'),
      public_key_pem: row.public_key_pem ?? '',
    };
    try {
      await exportCheckpointFile(dir, file);
      result.written.push(file.checkpoint_id);
    } catch (error) {
      const reason = (error as { code?: string }).code ?? (error as Error).message;
      result.failed = { ids: rows.rows.slice(index).map((r) => Number(r.checkpoint_id)), reason };
      break;
    }
  }
  return result;
}

async function exportCheckpointFile(dir: string, file: CheckpointFile): Promise<string> {
  const name = path.join(dir, checkpointFileName(file.checkpoint_id));
  await writePrivateFileAtomic(name, `${JSON.stringify(file, null, 2)}\n`);
  return name;
}

/** The checkpoint file names in `dir`, sorted; throws as readdir does (ENOENT: no folder). */
export async function checkpointFileNames(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => /^checkpoint-\d+\.json$/.test(n)).sort();
}

export async function readCheckpointFiles(dir: string): Promise<Array<{ name: string; file: CheckpointFile }>> {
  const names = await checkpointFileNames(dir);
  const files: Array<{ name: string; file: CheckpointFile }> = [];
  for (const name of names) {
    files.push({ name, file: JSON.parse(await readFile(path.join(dir, name), 'utf8')) as CheckpointFile });
  }
  return files;
}
