// The service's own login cannot escape. It is a LOGIN role that owns nothing and holds only
// ledger_writer's rights, so `SET ROLE NONE` or `RESET ROLE` on the service's connection
// leaves it as confined as before: UPDATE, DELETE and ALTER TABLE … DISABLE TRIGGER on
// every journal table are refused for want of privilege (not merely by the append-only
// trigger, which an owner could disable). It cannot become the owner, read the stored
// password, or reach another ledger's database on the same server. A login that could
// escape is refused at start with one line, and `ledger verify` names it.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/database.ts';
import { urlAs } from '../../src/db/service-login.ts';
import { verifyLedger } from '../../src/integrity/verify.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { captureLine, createTestLedger, type TestLedger } from '../support/ledger.ts';

const journalTables = ['raw_messages', 'journal_entries', 'journal_lines', 'quarantine', 'duplicate_deliveries',
  'signing_keys', 'checkpoints', 'closed_periods', 'report_runs', 'report_figures', 'report_files',
  'reconciliation_runs', 'reconciliation_items', 'projection_state', 'log_partitions'];
/** The projector's own position and state: updated in place by design (0001_journal.sql), never deleted. */
const updatedInPlace = new Set(['projection_state', 'log_partitions']);

/** Runs `sql` on one connection of the service's own pool after `escape`, and returns the error. */
async function refusal(pool: pg.Pool, escape: string, sql: string): Promise<{ code?: string; message: string }> {
  const client = await pool.connect();
  try {
    await client.query(escape);
    await client.query(sql);
    return { message: 'no error' };
  } catch (error) {
    return error as { code?: string; message: string };
  } finally {
    await client.query('RESET ROLE').catch(() => undefined);
    client.release();
  }
}

describe('the service login', () => {
  let ledger: TestLedger;
  beforeAll(async () => {
    ledger = await createTestLedger({ partitions: 2 });
    await ledger.publish(Array.from({ length: 6 }, (_, n) => captureLine(n)));
    await ledger.project();
  });
  afterAll(async () => ledger.close());

  it('is its own role: no superuser, no role or database creation, not the owner', async () => {
    const me = await ledger.db.pool.query<{ session_user: string; current_user: string; rolsuper: boolean;
      rolcreaterole: boolean; rolcreatedb: boolean }>(
      `SELECT session_user, current_user, rolsuper, rolcreaterole, rolcreatedb
         FROM pg_roles WHERE rolname = session_user`);
    expect(me.rows[0]).toEqual({ session_user: ledger.db.serviceRole, current_user: ledger.db.serviceRole,
      rolsuper: false, rolcreaterole: false, rolcreatedb: false });
    expect(ledger.db.serviceRole).toMatch(/^ledger_test_[0-9a-f]+_service$/);
  });

  for (const escape of ['SET ROLE NONE', 'RESET ROLE']) {
    it(`after ${escape}, may not UPDATE, DELETE or disable a trigger on any journal table`, async () => {
      for (const table of journalTables) {
        const column = (await ledger.db.adminPool.query<{ name: string }>(`SELECT attname AS name FROM pg_attribute
          WHERE attrelid = $1::regclass AND attnum > 0 AND attidentity = '' AND attgenerated = '' ORDER BY attnum LIMIT 1`, [`ledger.${table}`])).rows[0]?.name as string;
        const update = await refusal(ledger.db.pool, escape,
          `UPDATE ledger.${table} SET "${column}" = "${column}" WHERE false`);
        expect(update.message, table).toMatch(updatedInPlace.has(table) ? /no error/
          : new RegExp(`permission denied for table ${table}`));
        const deleted = await refusal(ledger.db.pool, escape, `DELETE FROM ledger.${table}`);
        expect(deleted.message, table).toMatch(new RegExp(`permission denied for table ${table}`));
        const disable = await refusal(ledger.db.pool, escape, `ALTER TABLE ledger.${table} DISABLE TRIGGER ALL`);
        expect(disable.message, table).toMatch(new RegExp(`must be owner of table ${table}`));
      }
    });
  }

  it('cannot become the owner, a superuser, or read its own stored password', async () => {
    const owner = new URL(ledger.db.url).username || 'postgres';
    expect((await refusal(ledger.db.pool, 'SELECT 1', `SET ROLE ${owner}`)).message)
      .toMatch(/permission denied to set role/);
    expect((await refusal(ledger.db.pool, 'SELECT 1', `SET SESSION AUTHORIZATION ${owner}`)).message)
      .toMatch(/permission denied to set session authorization/);
    expect((await refusal(ledger.db.pool, 'SELECT 1', 'SELECT password FROM ledger_meta.service_logins')).message)
      .toMatch(/permission denied for schema ledger_meta/);
    expect((await refusal(ledger.db.pool, 'SELECT 1', 'CREATE ROLE intruder')).message)
      .toMatch(/permission denied to create role/);
  });

  it('still appends and reads: the journal it projected verifies', async () => {
    const report = await verifyLedger(ledger.db.pool);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.checks.find((c) => c.name === 'service_login')?.detail)
      .toMatch(new RegExp(`logs in as ${ledger.db.serviceRole}`));
  });

  it('cannot reach another ledger\'s database on the same server', async () => {
    const other: TestDatabase = await createTestDatabase();
    try {
      const intruder = new pg.Client({ connectionString: urlAs(other.url, ledger.db.serviceRole,
        new URL(ledger.db.serviceUrl).password) });
      const error = await intruder.connect().then(() => null, (e: Error) => e);
      await intruder.end().catch(() => undefined);
      expect(error?.message).toMatch(/permission denied for database/);
    } finally {
      await other.drop();
    }
  });

  it('is named by verify when it was made able to escape', async () => {
    const owner = new URL(ledger.db.url).username || 'postgres';
    await ledger.db.adminPool.query(`GRANT ${owner} TO ${ledger.db.serviceRole}`).catch(async () => {
      // The owner is a superuser here: membership of a superuser role is the escape to test.
      await ledger.db.adminPool.query(`ALTER ROLE ${ledger.db.serviceRole} CREATEROLE`);
    });
    try {
      const report = await verifyLedger(ledger.db.pool);
      const failed = report.checks.find((c) => c.name === 'service_login');
      expect(failed?.ok).toBe(false);
      expect(failed?.detail).toMatch(new RegExp(`the service login ${ledger.db.serviceRole} ` +
        '(is a member of the schema owner|may create roles)'));
      expect(report.ok).toBe(false);
    } finally {
      await ledger.db.adminPool.query(`REVOKE ${owner} FROM ${ledger.db.serviceRole}`).catch(() => undefined);
      await ledger.db.adminPool.query(`ALTER ROLE ${ledger.db.serviceRole} NOCREATEROLE`);
    }
  });
});

describe('opening the database', () => {
  let db: TestDatabase;
  let dataDir: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'ledger-login-'));
  });
  afterAll(async () => {
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const ledgerCommand = (args: string[], extraEnv: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, ['bin/ledger.mjs', ...args], {
      env: { ...process.env, DATABASE_URL: db.url, LEDGER_DATA_DIR: dataDir, KAFKA_BROKERS: '', ...extraEnv },
      encoding: 'utf8',
    });

  it('works as the login LEDGER_DB_ROLE names, made by the owner with a password only it can read', async () => {
    const role = `${new URL(db.url).pathname.slice(1)}_other`;
    const opened = await openDatabase(loadConfig({ DATABASE_URL: db.url, LEDGER_DATA_DIR: dataDir,
      LEDGER_DB_ROLE: role }), { migrate: true });
    try {
      const me = await opened.pool.query<{ role: string }>('SELECT session_user AS role');
      expect(me.rows[0]?.role).toBe(role);
      expect(opened.serviceUrl).not.toBe(opened.ownerUrl);
      const stored = await db.adminPool.query('SELECT role FROM ledger_meta.service_logins WHERE role = $1', [role]);
      expect(stored.rowCount).toBe(1);
    } finally {
      await opened.close();
      await db.adminPool.query(`REVOKE CONNECT ON DATABASE ${new URL(db.url).pathname.slice(1)} FROM ${role}`);
      await db.adminPool.query(`DROP ROLE ${role}`);
    }
  });

  it('refuses a login that could escape, and a bad or reserved role name, in one line', () => {
    const superuserUrl = db.url; // the test server's owner is a superuser
    for (const [extraEnv, pattern] of [
      [{ LEDGER_SERVICE_DATABASE_URL: superuserUrl }, /the service login \w+ could undo the journal's guards: it is a superuser/],
      [{ LEDGER_DB_ROLE: 'postgres' }, /LEDGER_DB_ROLE="postgres" is reserved/],
      [{ LEDGER_DB_ROLE: 'ledger_writer' }, /LEDGER_DB_ROLE="ledger_writer" is reserved/],
      [{ LEDGER_DB_ROLE: 'Robert"; DROP' }, /LEDGER_DB_ROLE="Robert\\"; DROP" is not a role name/],
    ] as const) {
      const result = ledgerCommand(['migrate', '--json'], extraEnv);
      expect(result.status, result.stderr).toBe(2);
      expect(result.stderr.trim().split('\n'), result.stderr).toHaveLength(1);
      expect(result.stderr).toMatch(pattern);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('migrates as the owner and says which login the service uses', () => {
    const result = ledgerCommand(['migrate', '--json'], {});
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ applied: [], service_role: db.serviceRole });
  });

  it('prints the roles a DBA creates for DATABASE_URL, without connecting', () => {
    const result = ledgerCommand(['migrate', '--print-roles-sql'],
      { DATABASE_URL: 'postgres://acme_owner:secret@db.invalid:5432/acme_ledger' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('CREATE ROLE "acme_owner" LOGIN CREATEROLE');
    expect(result.stdout).toContain('CREATE ROLE "acme_ledger_service" LOGIN NOSUPERUSER');
    expect(result.stdout).toContain('REVOKE CONNECT ON DATABASE "acme_ledger" FROM PUBLIC;');
    expect(result.stdout).not.toContain('secret');
  });
});
