// What the benchmarks share: a PostgreSQL server with production settings (fsync on),
// a fresh migrated database, and a clock in milliseconds.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { copyBinary } from '../src/db/copy.ts';
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
 * trigger or constraint, in one transaction, through the same binary COPY writer the
 * projector uses. Returns its milliseconds.
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
    await copyBinary(client, 'bench_copy_baseline',
      [['topic', 'text'], ['partition', 'int4'], ['offset', 'int8'], ['value', 'bytea']], rows);
    await client.query('COMMIT');
    return nowMs() - started;
  } finally {
    client.release();
  }
}

/**
 * Runs `work` under the V8 sampling profiler when BENCH_CPU_PROFILE names a file, so a
 * benchmark's measured phase alone (not its setup) can be read in Chrome DevTools.
 */
export async function profiled<T>(work: () => Promise<T>): Promise<T> {
  const file = process.env.BENCH_CPU_PROFILE;
  if (file === undefined || file === '') return work();
  const { Session } = await import('node:inspector/promises');
  const { writeFile } = await import('node:fs/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    await writeFile(file, JSON.stringify(profile));
    session.disconnect();
  }
}

/**
 * CPU time spent so far by this process (all its threads) and by the PostgreSQL server
 * (the postmaster's children: backends, WAL writer, checkpointer, autovacuum), in µs.
 * Wall-clock figures move with whatever else the machine runs; CPU per event does much
 * less, so the benchmarks print both. Reads /proc: the server must run on this machine.
 */
export async function cpuSnapshot(pool: Pool): Promise<{ nodeUs: number; postgresUs: number }> {
  const { readdir, readFile } = await import('node:fs/promises');
  const own = process.cpuUsage();
  const backend = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const ticksPerSecond = 100; // USER_HZ on Linux
  const statOf = async (pid: string) => {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return {
      ppid: fields[1] ?? '',
      ticks: Number(fields[11] ?? 0) + Number(fields[12] ?? 0),
      // Children that exited and were reaped (a closed connection's backend) count here.
      reapedTicks: Number(fields[13] ?? 0) + Number(fields[14] ?? 0),
    };
  };
  const postmaster = (await statOf(String(backend.rows[0]?.pid))).ppid;
  let ticks = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await statOf(pid);
    if (stat.ppid === postmaster) ticks += stat.ticks;
    if (pid === postmaster) ticks += stat.ticks + stat.reapedTicks;
  }
  return { nodeUs: own.user + own.system, postgresUs: (ticks * 1_000_000) / ticksPerSecond };
}

export function cpuPerItemLine(
  before: { nodeUs: number; postgresUs: number }, after: { nodeUs: number; postgresUs: number }, items: number, unit: string,
): string {
  const nodeUs = (after.nodeUs - before.nodeUs) / items;
  const postgresUs = (after.postgresUs - before.postgresUs) / items;
  return `cpu per ${unit}: node ${nodeUs.toFixed(0)} µs + postgres ${postgresUs.toFixed(0)} µs = ` +
    `${(nodeUs + postgresUs).toFixed(0)} µs (this machine's ${os.cpus().length} cores allow ` +
    `${Math.round((os.cpus().length * 1_000_000) / (nodeUs + postgresUs))} ${unit}s/s at that cost)`;
}
