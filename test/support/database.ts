// Each test file gets a database of its own on the suite's server, migrated, and a pool
// working as the service's role: tests never see each other's rows.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createPool, type Pool } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { ensureServiceLogin } from '../../src/db/service-login.ts';

export type TestDatabase = {
  /** Owner's URL (migrations, superuser tampering in tests). */
  readonly url: string;
  /** Logged in as the service's own login role (`<database>_service`), like the service. */
  readonly pool: Pool;
  /** The service login's URL (worker threads, child processes given LEDGER_SERVICE_DATABASE_URL). */
  readonly serviceUrl: string;
  readonly serviceRole: string;
  /** Works as the connecting (owner, superuser) role. */
  readonly adminPool: Pool;
  drop(): Promise<void>;
};

export function urlWithDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('adminDatabaseUrl');
  const name = `ledger_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = urlWithDatabase(adminUrl, name);
  await migrate(url);
  const login = await ensureServiceLogin(url, { role: null, serviceUrl: null });
  const pool = createPool(login.url, null, 4);
  const adminPool = createPool(url, null, 2);
  return {
    url,
    pool,
    serviceUrl: login.url,
    serviceRole: login.role,
    adminPool,
    async drop() {
      await pool.end();
      await adminPool.end();
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      // Roles are the server's, not the database's: the test's service login goes too.
      await client.query(`DROP ROLE IF EXISTS ${login.role}`);
      await client.end();
    },
  };
}
