// Versioned migrations: src/db/migrations/NNNN_name.sql, applied in order, each in its own
// transaction, under an advisory lock so that two processes starting at once do not race.
// An applied migration whose file has changed since is refused: history is not rewritten.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { sha256Hex } from '../ledger/canonical.ts';
import { describeConnectionError } from './database.ts';

const migrationsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
const lockKey = 7_347_001; // pg_advisory_lock key for migrations

export type MigrationResult = { applied: string[] };

export async function migrate(url: string): Promise<MigrationResult> {
  const client = new pg.Client({ connectionString: url, options: '-c TimeZone=UTC' });
  try {
    await client.connect();
  } catch (error) {
    throw describeConnectionError(error, url);
  }
  try {
    await client.query('SELECT pg_advisory_lock($1)', [lockKey]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ledger_meta;
      CREATE TABLE IF NOT EXISTS ledger_meta.schema_migrations (
        version text PRIMARY KEY, sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = await client.query<{ version: string; sha256: string }>(
      'SELECT version, sha256 FROM ledger_meta.schema_migrations');
    const appliedBefore = new Map(done.rows.map((r) => [r.version, r.sha256]));
    const applied: string[] = [];
    for (const file of await migrationFiles()) {
      const sql = await readFile(path.join(migrationsDir, file), 'utf8');
      const version = file.replace(/\.sql$/, '');
      const digest = sha256Hex(sql);
      const previous = appliedBefore.get(version);
      if (previous !== undefined) {
        if (previous !== digest) throw new Error(`migration ${version} changed after it was applied`);
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO ledger_meta.schema_migrations (version, sha256) VALUES ($1, $2)',
          [version, digest]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${version} failed: ${(error as Error).message}`);
      }
      applied.push(version);
    }
    return { applied };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [lockKey]).catch(() => undefined);
    await client.end();
  }
}

async function migrationFiles(): Promise<string[]> {
  const files = (await readdir(migrationsDir)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f));
  return files.sort();
}
