// The one database layer: a pg pool working as the service's role, transactions, COPY.
// PostgreSQL is DATABASE_URL when set, otherwise an embedded server (embedded.ts).
import pg from 'pg';
import { UserError } from '../errors.ts';
import type { Config } from '../config.ts';
import { startEmbeddedPostgres, type EmbeddedServer } from './embedded.ts';

export type Pool = pg.Pool;
export type Client = pg.PoolClient;

export type Database = {
  /** Connections working as the service's role (append and read, never rewrite). */
  readonly pool: Pool;
  /** The connection string as given (its user owns the schema; migrations use it). */
  readonly url: string;
  close(): Promise<void>;
};

export type OpenOptions = {
  readonly log?: (line: string) => void;
  readonly poolSize?: number;
  /** Extra server settings for an embedded server started here (tests turn fsync off). */
  readonly embeddedServerSettings?: Readonly<Record<string, string>>;
};

/** Statements run longer than this are cancelled: no query may hang the projector. */
export const statementTimeoutMs = 10 * 60 * 1000;

export async function openDatabase(config: Config, options: OpenOptions = {}): Promise<Database> {
  let embedded: EmbeddedServer | null = null;
  let url = config.databaseUrl;
  if (url === null) {
    embedded = await startEmbeddedPostgres(config.dataDir, {
      log: options.log ?? (() => undefined),
      settings: options.embeddedServerSettings ?? {},
    });
    url = embedded.url;
  }
  // Reachability is checked as the connecting user: the service role may not exist
  // before the first migration.
  const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: 30_000 });
  try {
    await probe.connect();
    await probe.query('SELECT 1');
  } catch (error) {
    await embedded?.stop();
    throw describeConnectionError(error, url);
  } finally {
    await probe.end().catch(() => undefined);
  }
  const pool = createPool(url, config.databaseRole, options.poolSize ?? 4);
  return {
    pool,
    url,
    async close() {
      await pool.end();
      await embedded?.stop();
    },
  };
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
      '(run `ledger migrate`, which creates the service role)');
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
