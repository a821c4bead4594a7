// Each test file gets a database of its own on the suite's server, migrated, and a pool
// working as the service's role: tests never see each other's rows.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createPool, type Pool } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';

export type TestDatabase = {
  /** Owner's URL (migrations, superuser tampering in tests). */
  readonly url: string;
  /** Works as ledger_writer, like the service. */
  readonly pool: Pool;
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
  const pool = createPool(url, 'ledger_writer', 4);
  const adminPool = createPool(url, null, 2);
  return {
    url,
    pool,
    adminPool,
    async drop() {
      await pool.end();
      await adminPool.end();
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
