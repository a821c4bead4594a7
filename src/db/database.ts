// The one database layer: a pg pool logged in as the service's own role, transactions, COPY.
// PostgreSQL is DATABASE_URL when set, otherwise an embedded server (embedded.ts).
import pg from 'pg';
import { UserError } from '../errors.ts';
import type { Config } from '../config.ts';
import { startEmbeddedPostgres, type EmbeddedServer } from './embedded.ts';
import { migrate, type MigrationResult } from './migrate.ts';
import { ensureServiceLogin } from './service-login.ts';

export type Pool = pg.Pool;
export type Client = pg.PoolClient;

export type Database = {
  /** Connections as the service's login: read and append, never rewrite (service-login.ts). */
  readonly pool: Pool;
  /** The owner's connection string (DATABASE_URL, or the embedded superuser): migrations only. */
  readonly ownerUrl: string;
  /** The service login's connection string: for the pool and for worker threads. */
  readonly serviceUrl: string;
  readonly serviceRole: string;
  /** What `migrate` applied when the database was opened with it; null when not asked. */
  readonly migration: MigrationResult | null;
  close(): Promise<void>;
};

export type OpenOptions = {
  readonly log?: (line: string) => void;
  readonly poolSize?: number;
  /** Extra server settings for an embedded server started here (tests turn fsync off). */
  readonly embeddedServerSettings?: Readonly<Record<string, string>>;
  /** Apply migrations (as the owner, on a connection of their own) before the service logs in. */
  readonly migrate?: boolean;
};

/** Statements run longer than this are cancelled: no query may hang the projector. */
export const statementTimeoutMs = 10 * 60 * 1000;

export async function openDatabase(config: Config, options: OpenOptions = {}): Promise<Database> {
  let embedded: EmbeddedServer | null = null;
  let ownerUrl = config.databaseUrl;
  if (ownerUrl === null) {
    embedded = await startEmbeddedPostgres(config.dataDir, {
      log: options.log ?? (() => undefined),
      settings: options.embeddedServerSettings ?? {},
    });
    ownerUrl = embedded.url;
  }
  try {
    await probe(ownerUrl);
    const migration = options.migrate === false ? null : await migrate(ownerUrl);
    const login = await ensureServiceLogin(ownerUrl, {
      role: config.databaseRole, serviceUrl: config.serviceDatabaseUrl,
    });
    const pool = createPool(login.url, null, options.poolSize ?? 4);
    return {
      pool, ownerUrl, serviceUrl: login.url, serviceRole: login.role, migration,
      async close() {
        await pool.end();
        await embedded?.stop();
      },
    };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}

async function probe(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 30_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw describeConnectionError(error, url);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function createPool(url: string, role: string | null, size: number): Pool {
  const settings = [`-c statement_timeout=${statementTimeoutMs}`, '-c TimeZone=UTC'];
  if (role !== null) settings.push(`-c role=${role}`);
  const pool = new pg.Pool({
    connectionString: url,
    max: size,
    options: settings.join(' '),
    connectionTimeoutMillis: 30_000,
    idleTimeoutMillis: 30_000,
    application_name: 'ledger',
  });
  // An idle client that errors (server restart) is dropped by the pool; say so, don't crash.
  pool.on('error', (error) => process.stderr.write(`database: idle connection lost: ${error.message}\n`));
  // A connection the server ends while a transaction is open between two queries (a
  // failover, pg_terminate_backend) emits 'error' on the checked-out client, where pg-pool
  // does not listen, and Node would end the process. Heard here, the loss surfaces as the
  // failed query it also is: the transaction rolls back, and the batch is tried again.
  pool.on('connect', (client) => { client.on('error', () => undefined); });
  return pool;
}

export function describeConnectionError(error: unknown, url: string): Error {
  const code = (error as { code?: string }).code;
  const where = redactUrl(url);
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT') {
    return new UserError('database_unreachable', `cannot reach PostgreSQL at ${where} (${code})`);
  }
  if (code === '3D000' || code === '28P01' || code === '28000') {
    return new UserError('database_unreachable', `PostgreSQL at ${where} refused: ${(error as Error).message}`);
  }
  if (code === '22023' || code === '42704') {
    return new UserError('database_role', `PostgreSQL at ${where}: ${(error as Error).message} ` +
      '(run `ledger migrate`, which creates the service login)');
  }
  return error as Error;
}

/**
 * A URL, or any text holding URLs, with their passwords hidden: in the user part and as a
 * query parameter (libpq's ?password= and ?sslpassword=).
 */
export function redactUrl(text: string): string {
  return text.replace(/\/\/([^:@/\s]+):[^@/\s]*@/g, '//$1:***@').replace(/([?&](?:ssl)?password=)[^&#\s]*/gi, '$1***');
}

const retryableCodes = new Set(['40001', '40P01']);

/**
 * Runs `work` in one transaction: all or nothing. A serialization failure or deadlock is
 * retried a bounded number of times; any other error rolls back and propagates.
 */
export async function withTransaction<T>(
  pool: Pool,
  work: (client: Client) => Promise<T>,
  options: { isolation?: 'read committed' | 'repeatable read'; attemptsMax?: number } = {},
): Promise<T> {
  const attemptsMax = options.attemptsMax ?? 3;
  for (let attempt = 1; ; attempt += 1) {
    const client = await pool.connect();
    try {
      await client.query(`BEGIN ISOLATION LEVEL ${(options.isolation ?? 'read committed').toUpperCase()}`);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      const code = (error as { code?: string }).code ?? '';
      if (!retryableCodes.has(code) || attempt >= attemptsMax) throw error;
    } finally {
      client.release();
    }
  }
}
