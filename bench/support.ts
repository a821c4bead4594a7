// What the benchmarks share: a PostgreSQL server with production settings (fsync on),
// a fresh migrated database, and a clock in milliseconds.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { copyRows } from '../src/db/copy.ts';
import { createPool, type Pool } from '../src/db/database.ts';
import { startEmbeddedPostgres } from '../src/db/embedded.ts';
import { migrate } from '../src/db/migrate.ts';

export type BenchDatabase = { url: string; pool: Pool; adminPool: Pool; dataDir: string; close(): Promise<void> };

export async function benchDatabase(): Promise<BenchDatabase> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ledger-bench-'));
  let adminUrl = process.env.DATABASE_URL ?? '';
  let stopServer = async (): Promise<void> => undefined;
  if (adminUrl === '') {
    const server = await startEmbeddedPostgres(dataDir, { log: () => undefined, settings: {}, databaseName: 'postgres' });
    adminUrl = server.url;
    stopServer = () => server.stop();
  }
  const name = `ledger_bench_${Date.now()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const parsed = new URL(adminUrl);
  parsed.pathname = `/${name}`;
  const url = parsed.toString();
  await migrate(url);
  const pool = createPool(url, 'ledger_writer', 4);
  const adminPool = createPool(url, null, 2);
  return {
    url, pool, adminPool, dataDir,
    async close() {
      await pool.end();
      await adminPool.end();
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
      await stopServer();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function nowMs(): number {
  return Number(process.hrtime.bigint() / 1_000_000n);
}

export function perSecond(count: number, ms: number): number {
  return Math.round((count * 1000) / Math.max(ms, 1));
}

/**
 * The baseline the ingest benchmarks are measured against: a plain COPY of the same
 * number of rows (each message's position and bytes) into a bare table with no index,
 * trigger or constraint, in one transaction. Returns its milliseconds.
 */
export async function copyBaseline(
  pool: Pool, topic: string, partitions: number, lines: readonly string[],
): Promise<number> {
  await pool.query(`CREATE TABLE bench_copy_baseline (topic text, partition integer, "offset" bigint, value bytea)`);
  const rows = lines.map((line, index) => [topic, index % partitions, index, Buffer.from(line, 'utf8')]);
  const client = await pool.connect();
  try {
    const started = nowMs();
    await client.query('BEGIN');
    await copyRows(client, 'bench_copy_baseline', ['topic', 'partition', 'offset', 'value'], rows);
    await client.query('COMMIT');
    return nowMs() - started;
  } finally {
    client.release();
  }
}
