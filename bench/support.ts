// What the benchmarks share: a PostgreSQL server with production settings (fsync on),
// a fresh migrated database, and a clock in milliseconds.
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { copyBinary, sendCopy } from '../src/db/copy.ts';
import { createPool, type Pool } from '../src/db/database.ts';
import { startEmbeddedPostgres } from '../src/db/embedded.ts';
import { migrate } from '../src/db/migrate.ts';
import { ensureServiceLogin } from '../src/db/service-login.ts';
import { approverFor } from '../src/ledger/approval.ts';
import { batchesInFlightPerThread } from '../src/projector/batch-workers.ts';
import { keyIdOf } from '../src/signing/keys.ts';
import type { TrustedKeys } from '../src/signing/trust.ts';

/** This run's key: it approves the streams' adjustments, and the projectors trust it. */
const benchKey = (() => {
  const { privateKey } = generateKeyPairSync('ed25519');
  const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  return { keyId: keyIdOf(publicKeyPem), privateKey, publicKeyPem };
})();
export const benchApprover = approverFor(benchKey);
/** The same key as a report signer (api bench). */
export const benchSigningKey = benchKey;
export const benchTrustedKeys: TrustedKeys = {
  keys: [{ keyId: benchKey.keyId, publicKeyPem: benchKey.publicKeyPem, source: 'bench key' }],
};

/** Projector threads in the ingest benchmarks: as `ledger project` runs by default (config.ts). */
export const projectorThreads = 2;
/** The connections those threads write on: the baseline COPYs on as many. */
export const projectorConnections = projectorThreads * batchesInFlightPerThread;

export type BenchDatabase = {
  url: string; serviceUrl: string; pool: Pool; adminPool: Pool; dataDir: string;
  /** Another fresh, migrated database on the same server, dropped by close(). */
  sibling(label: string): Promise<{ url: string; serviceUrl: string; pool: Pool; adminPool: Pool }>;
  close(): Promise<void>;
};

export async function benchDatabase(): Promise<BenchDatabase> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ledger-bench-'));
  let adminUrl = process.env.DATABASE_URL ?? '';
  let stopServer = async (): Promise<void> => undefined;
  if (adminUrl === '') {
    const server = await startEmbeddedPostgres(dataDir, { log: () => undefined, settings: {}, databaseName: 'postgres' });
    adminUrl = server.url;
    stopServer = () => server.stop();
  }
  const databases: Array<{ name: string; role: string; pools: Pool[] }> = [];
  const create = async (name: string) => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const parsed = new URL(adminUrl);
    parsed.pathname = `/${name}`;
    const url = parsed.toString();
    await migrate(url);
    const login = await ensureServiceLogin(url, { role: null, serviceUrl: null });
    const pool = createPool(login.url, null, 4);
    const adminPool = createPool(url, null, 4);
    databases.push({ name, role: login.role, pools: [pool, adminPool] });
    return { url, serviceUrl: login.url, pool, adminPool };
  };
  const name = `ledger_bench_${Date.now()}`;
  const main = await create(name);
  return {
    ...main, dataDir,
    sibling: (label) => create(`${name}_${label}`),
    async close() {
      for (const database of databases) for (const pool of database.pools) await pool.end();
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      for (const database of databases) {
        await client.query(`DROP DATABASE IF EXISTS ${database.name} WITH (FORCE)`);
        await client.query(`DROP ROLE IF EXISTS ${database.role}`);
      }
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

/** The tables the projector writes rows into, in the order it writes them. */
const journalTables = ['raw_messages', 'journal_entries', 'journal_lines', 'quarantine',
  'duplicate_deliveries', 'projection_state'] as const;

export type SameRowsBaseline = { ms: number; rows: number; rowsByTable: string };

/**
 * The baseline the ingest benchmarks are measured against (README, "Benchmarks"): a plain
 * COPY of the very rows the projector wrote (every table it appends to, as the run left
 * them) into bare tables with no index, trigger or constraint but NOT NULL, on as many
 * connections as the projector writes on, each in one transaction. The rows are read
 * out first (binary COPY TO, split by a hash into one share per connection); only the
 * writes are timed. So the ratio says what share of the time is spent beyond writing
 * the journal's bytes: parsing, rules, hashing, indexes, constraints and round trips.
 */
export async function sameRowsBaseline(pool: Pool, connections: number): Promise<SameRowsBaseline> {
  const shares: Array<Array<{ table: string; bytes: Buffer[] }>> = [];
  const counts: string[] = [];
  let rows = 0;
  for (const table of journalTables) {
    await pool.query(`CREATE TABLE bench_bare_${table} (LIKE ledger.${table})`);
    const count = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ledger.${table}`);
    rows += Number(count.rows[0]?.n);
    counts.push(`${table} ${count.rows[0]?.n}`);
  }
  for (let share = 0; share < connections; share += 1) {
    const tables: Array<{ table: string; bytes: Buffer[] }> = [];
    for (const table of journalTables) {
      tables.push({ table, bytes: await copyOut(pool,
        `SELECT * FROM ledger.${table} t WHERE abs(hashtext(t::text)) % ${connections} = ${share}`) });
    }
    shares.push(tables);
  }
  const started = nowMs();
  await Promise.all(shares.map(async (tables) => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      for (const { table, bytes } of tables) {
        await sendCopy(client, `COPY bench_bare_${table} FROM STDIN (FORMAT binary)`, bytes);
      }
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  }));
  return { ms: nowMs() - started, rows, rowsByTable: counts.join(', ') };
}

export async function copyOut(pool: Pool, select: string): Promise<Buffer[]> {
  const client = await pool.connect();
  try {
    const chunks: Buffer[] = [];
    const stream = client.query(copyTo(`COPY (${select}) TO STDOUT (FORMAT binary)`));
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return chunks;
  } finally {
    client.release();
  }
}

/**
 * The earlier, cruder reference, still printed: one row per event (its position and
 * bytes) COPYed into a bare table on one connection. Returns its milliseconds.
 */
export async function oneRowPerEventCopy(
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
 * benchmark's measured phase alone (not its setup) can be read in Chrome DevTools. A
 * bench that profiles several phases gives each a label, which goes into the file's name
 * (`run.cpuprofile` → `run.kafka.cpuprofile`). The main thread only: worker threads are not sampled.
 */
export async function profiled<T>(work: () => Promise<T>, label?: string): Promise<T> {
  const given = process.env.BENCH_CPU_PROFILE;
  if (given === undefined || given === '') return work();
  const file = label === undefined ? given : given.replace(/(\.cpuprofile)?$/, `.${label}$1`);
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
  const { readdir } = await import('node:fs/promises');
  const own = process.cpuUsage();
  const backend = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const postmaster = (await processStat(String(backend.rows[0]?.pid))).ppid;
  let us = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await processStat(pid);
    if (stat.ppid === postmaster) us += stat.cpuUs;
    if (pid === postmaster) us += stat.cpuUs + stat.reapedCpuUs;
  }
  return { nodeUs: own.user + own.system, postgresUs: us };
}

/** CPU time so far of one process (all its threads, e.g. a broker's JVM) by its id, in µs; 0 when it is gone. */
export async function processCpuUs(pid: number): Promise<number> {
  return (await processStat(String(pid))).cpuUs;
}

/** CPU time so far of the server process behind `client`'s connection (its backend), in µs. */
export async function backendCpuUs(client: { query: Pool['query'] }): Promise<number> {
  const backend = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return (await processStat(String(backend.rows[0]?.pid))).cpuUs;
}

const ticksPerSecond = 100; // USER_HZ on Linux

async function processStat(pid: string): Promise<{ ppid: string; cpuUs: number; reapedCpuUs: number }> {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const us = (ticks: number) => (ticks * 1_000_000) / ticksPerSecond;
  return {
    ppid: fields[1] ?? '',
    cpuUs: us(Number(fields[11] ?? 0) + Number(fields[12] ?? 0)),
    // Children that exited and were reaped (a closed connection's backend) count here.
    reapedCpuUs: us(Number(fields[13] ?? 0) + Number(fields[14] ?? 0)),
  };
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
