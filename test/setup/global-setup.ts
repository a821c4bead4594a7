// Starts what the whole suite needs, once: a PostgreSQL server. DATABASE_URL when set
// (CI machines have one on 127.0.0.1:5432), else an embedded server in a temporary
// directory, with durability settings off because a test never outlives its server.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.DATABASE_URL;
  if (given !== undefined && given !== '') {
    project.provide('adminDatabaseUrl', given);
    return async () => undefined;
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ledger-test-pg-'));
  const server = await startEmbeddedPostgres(dataDir, {
    log: () => undefined,
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
    databaseName: 'postgres',
  });
  project.provide('adminDatabaseUrl', server.url);
  return async () => {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
