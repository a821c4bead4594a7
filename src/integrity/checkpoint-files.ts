// `ledger verify`, checkpoint_files: every checkpoint in the database has its exported file
// in the data dir, and each file there says what the database says (same body, same
// signature). A file that could not be written (a read-only folder) is named until a later
// checkpoint or start writes it (checkpoints.ts); a file whose checkpoint the database no
// longer has, or no longer has as written, is named too.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Pool } from '../db/database.ts';
import { canonicalJson } from '../ledger/canonical.ts';
import { check, problemsShownMax, type Check } from './chain-checks.ts';
import { Problems } from './chains.ts';
import { checkpointFileName, checkpointFileNames, type CheckpointFile } from './checkpoints.ts';

export async function checkCheckpointFiles(pool: Pool, dir: string): Promise<Check> {
  let unreadable: string | null = null;
  const names = new Set(await checkpointFileNames(dir).catch((error: { code?: string }) => {
    if (error.code !== 'ENOENT') unreadable = error.code ?? 'error';
    return [] as string[];
  }));
  const rows = await pool.query<{ checkpoint_id: string; body: string; signature: Buffer }>(
    'SELECT checkpoint_id, body, signature FROM ledger.checkpoints ORDER BY checkpoint_id');
  const problems = new Problems(problemsShownMax);
  if (unreadable !== null) problems.add(`cannot read ${dir} (${unreadable})`);
  for (const row of rows.rows) {
    const name = checkpointFileName(Number(row.checkpoint_id));
    if (!names.delete(name)) {
      problems.add(`checkpoint ${row.checkpoint_id} has no exported file (${name} in ${dir}); ` +
        'the next checkpoint or start writes it');
      continue;
    }
    const file = await readExported(path.join(dir, name));
    if (file === null) problems.add(`checkpoint ${row.checkpoint_id}: its file ${name} is not a checkpoint file`);
    else if (file.checkpoint_id !== Number(row.checkpoint_id) || canonicalJson(file.body) !== row.body ||
      file.signature !== row.signature.toString('base64')) {
      problems.add(`checkpoint ${row.checkpoint_id}: its file ${name} differs from the database's checkpoint`);
    }
  }
  for (const name of names) problems.add(`${name} in ${dir}: the database has no such checkpoint`);
  return check('checkpoint_files', problems, `${rows.rows.length} checkpoints exported to ${dir}`);
}

async function readExported(file: string): Promise<CheckpointFile | null> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<CheckpointFile>;
    return parsed.format === 'ledger-checkpoint/1' && typeof parsed.signature === 'string' &&
      typeof parsed.body === 'object' && parsed.body !== null ? parsed as CheckpointFile : null;
  } catch {
    return null;
  }
}
