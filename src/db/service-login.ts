// The service logs in as a role that owns nothing: a LOGIN role whose only rights are
// those of ledger_writer (read and append). It is not a superuser, cannot create roles or
// databases, and is not a member of the schema's owner, so `SET ROLE NONE` or `RESET
// ROLE` leaves it exactly as confined as before: it may never disable a trigger or
// rewrite the journal. Migrations run as the owner, on their own connection, and only
// there (migrate.ts); worker threads get this role's URL, never the owner's.
//
// Two ways to get the login:
// - managed (the default): the owner creates the role `<database>_service` (or
//   LEDGER_DB_ROLE), with a random password kept in ledger_meta.service_logins, a table
//   only the owner can read, so every process that can migrate can also log in as the
//   service, on any machine. The owner needs CREATEROLE (the embedded server's superuser
//   has it); `ledger migrate --print-roles-sql` prints what a DBA runs once.
// - given: LEDGER_SERVICE_DATABASE_URL names a login a DBA made; it is checked the same way.
//
// Either way the role is checked before the service uses it, and a role that could
// escape is refused with a one-line error naming why.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { UserError } from '../errors.ts';
import { describeConnectionError, redactUrl } from './database.ts';

export type ServiceLogin = { readonly role: string; readonly url: string };

export type ServiceLoginOptions = {
  /** LEDGER_DB_ROLE: the login role's name; null for `<database>_service`. */
  readonly role: string | null;
  /** LEDGER_SERVICE_DATABASE_URL: a login made by a DBA; null to manage one. */
  readonly serviceUrl: string | null;
};

/** The group role every migration grants the service's rights to (0001_journal.sql). */
export const privilegeRole = 'ledger_writer';

const serviceLoginLockKey = 7_347_002; // pg_advisory_lock key: one process sets a password at a time

export function defaultServiceRole(database: string): string {
  const base = database.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 63 - '_service'.length);
  return `${/^[a-z_]/.test(base) ? base : `_${base}`.slice(0, 63 - '_service'.length)}_service`;
}

/** Makes (or finds) the service login with the owner's connection, checks it, and returns its URL. */
export async function ensureServiceLogin(ownerUrl: string, options: ServiceLoginOptions): Promise<ServiceLogin> {
  const owner = new pg.Client({ connectionString: ownerUrl });
  try {
    await owner.connect();
  } catch (error) {
    throw describeConnectionError(error, ownerUrl);
  }
  try {
    const login = options.serviceUrl === null
      ? await managedLogin(owner, ownerUrl, options.role)
      : await givenLogin(options.serviceUrl);
    await refuseEscapes(owner, login.role);
    return login;
  } finally {
    await owner.end().catch(() => undefined);
  }
}

async function givenLogin(serviceUrl: string): Promise<ServiceLogin> {
  const client = new pg.Client({ connectionString: serviceUrl });
  try {
    await client.connect();
    const result = await client.query<{ role: string }>('SELECT session_user AS role');
    return { role: result.rows[0]?.role as string, url: serviceUrl };
  } catch (error) {
    throw describeConnectionError(error, serviceUrl);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function managedLogin(owner: pg.Client, ownerUrl: string, configured: string | null): Promise<ServiceLogin> {
  const facts = await owner.query<{ database: string; owner: string; can_create_role: boolean }>(
    `SELECT current_database() AS database, current_user AS owner,
            (rolsuper OR rolcreaterole) AS can_create_role FROM pg_roles WHERE rolname = current_user`);
  const { database, owner: ownerRole, can_create_role: canCreateRole } = facts.rows[0] as {
    database: string; owner: string; can_create_role: boolean };
  const role = configured ?? defaultServiceRole(database);
  if (role === ownerRole) {
    throw new UserError('database_role', `LEDGER_DB_ROLE=${role} is the schema owner (the login of DATABASE_URL); ` +
      'the service must log in as a role that owns nothing');
  }
  await owner.query('SELECT pg_advisory_lock($1)', [serviceLoginLockKey]);
  try {
    const stored = await owner.query<{ password: string }>(
      'SELECT password FROM ledger_meta.service_logins WHERE role = $1', [role]).catch((error: { code?: string }) => {
      if (error.code === '42P01') {
        throw new UserError('database_role', `the database at ${redactUrl(ownerUrl)} is not migrated: run \`ledger migrate\``);
      }
      throw error;
    });
    const exists = (await owner.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount === 1;
    let password = stored.rows[0]?.password;
    if (password === undefined || !exists) {
      if (!canCreateRole) {
        throw new UserError('database_role', `${ownerRole} may not create the service login ${role}: give it ` +
          'CREATEROLE, or create the login as `ledger migrate --print-roles-sql` shows and set LEDGER_SERVICE_DATABASE_URL');
      }
      password = password ?? randomBytes(24).toString('base64url');
      await createOrResetLogin(owner, role, password, exists);
      await owner.query(`INSERT INTO ledger_meta.service_logins (role, password) VALUES ($1, $2)
        ON CONFLICT (role) DO UPDATE SET password = EXCLUDED.password`, [role, password]);
    }
    await grantConnect(owner, database, role);
    return { role, url: urlAs(ownerUrl, role, password) };
  } finally {
    await owner.query('SELECT pg_advisory_unlock($1)', [serviceLoginLockKey]).catch(() => undefined);
  }
}

async function createOrResetLogin(owner: pg.Client, role: string, password: string, exists: boolean): Promise<void> {
  const id = pg.escapeIdentifier(role);
  const literal = pg.escapeLiteral(password);
  const attributes = 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT';
  await owner.query(exists ? `ALTER ROLE ${id} ${attributes} PASSWORD ${literal}`
    : `CREATE ROLE ${id} ${attributes} PASSWORD ${literal}`).catch((error: { code?: string }) => {
    if (error.code !== '42710') throw error; // made meanwhile by a process on another server's lock
  });
  await owner.query(`GRANT ${pg.escapeIdentifier(privilegeRole)} TO ${id}`);
}

/**
 * The login may connect to this database; nobody else by default. Two ledgers on one
 * server share the ledger_writer group, so a service login must not reach the other's
 * database: PUBLIC's CONNECT is taken away where the owner may (it owns the database).
 */
async function grantConnect(owner: pg.Client, database: string, role: string): Promise<void> {
  const db = pg.escapeIdentifier(database);
  await owner.query(`GRANT CONNECT ON DATABASE ${db} TO ${pg.escapeIdentifier(role)}`);
  const mine = await owner.query<{ may: boolean }>(
    `SELECT pg_has_role(current_user, datdba, 'USAGE') OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS may
       FROM pg_database WHERE datname = current_database()`);
  if (mine.rows[0]?.may === true) {
    await owner.query(`GRANT CONNECT ON DATABASE ${db} TO CURRENT_USER`);
    await owner.query(`REVOKE CONNECT ON DATABASE ${db} FROM PUBLIC`);
  }
}

export type EscapeFinding = { readonly role: string; readonly problems: readonly string[] };

/** What would let `role` escape: attributes, membership of the owner, anything it owns here. */
export async function findEscapes(client: pg.ClientBase | pg.Pool, role: string): Promise<EscapeFinding> {
  const result = await client.query<{ problem: string }>(`
    WITH r AS (SELECT * FROM pg_roles WHERE rolname = $1),
         owners AS (SELECT DISTINCT nspowner AS oid FROM pg_namespace WHERE nspname IN ('ledger', 'ledger_meta'))
    SELECT 'is a superuser' AS problem FROM r WHERE rolsuper
    UNION ALL SELECT 'may create roles' FROM r WHERE rolcreaterole
    UNION ALL SELECT 'may create databases' FROM r WHERE rolcreatedb
    UNION ALL SELECT 'may bypass row security' FROM r WHERE rolbypassrls
    UNION ALL SELECT 'is a replication role' FROM r WHERE rolreplication
    UNION ALL SELECT 'is a member of the schema owner ' || pg_get_userbyid(o.oid)
      FROM r, owners o WHERE pg_has_role(r.oid, o.oid, 'MEMBER')
    UNION ALL SELECT 'owns ' || count(*) || ' tables, views or sequences'
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, r
     -- its own sessions' temporary tables (the projector's staging) vanish with them: not an escape
     WHERE c.relowner = r.oid AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
    HAVING count(*) > 0
    UNION ALL SELECT 'owns ' || count(*) || ' schemas' FROM pg_namespace n, r WHERE n.nspowner = r.oid HAVING count(*) > 0
    UNION ALL SELECT 'owns ' || count(*) || ' functions' FROM pg_proc p, r WHERE p.proowner = r.oid HAVING count(*) > 0
    UNION ALL SELECT 'does not exist' WHERE NOT EXISTS (SELECT 1 FROM r)`, [role]);
  return { role, problems: result.rows.map((r) => r.problem) };
}

async function refuseEscapes(owner: pg.Client, role: string): Promise<void> {
  const finding = await findEscapes(owner, role);
  if (finding.problems.length > 0) {
    throw new UserError('database_role', `the service login ${role} could undo the journal's guards: it ` +
      `${finding.problems.join(', ')}; use a login role that owns nothing (ledger migrate --print-roles-sql)`);
  }
}

export function urlAs(url: string, role: string, password: string): string {
  const parsed = new URL(url);
  parsed.username = encodeURIComponent(role);
  parsed.password = encodeURIComponent(password);
  parsed.searchParams.delete('user');
  parsed.searchParams.delete('password');
  return parsed.toString();
}

/** The SQL a DBA runs once when the owner may not create roles itself (CLI: migrate --print-roles-sql). */
export function rolesSql(database: string, ownerRole: string, serviceRole: string): string {
  const db = pg.escapeIdentifier(database);
  const ownerId = pg.escapeIdentifier(ownerRole);
  const service = pg.escapeIdentifier(serviceRole);
  return [
    `-- Run once as a superuser. Then DATABASE_URL logs in as ${ownerRole} (migrations only) and`,
    `-- LEDGER_SERVICE_DATABASE_URL as ${serviceRole} (the service): replace both passwords.`,
    `CREATE ROLE ${ownerId} LOGIN CREATEROLE PASSWORD 'change-me-owner';`,
    `CREATE DATABASE ${db} OWNER ${ownerId};`,
    `REVOKE CONNECT ON DATABASE ${db} FROM PUBLIC;`,
    `CREATE ROLE ${pg.escapeIdentifier(privilegeRole)} NOLOGIN;`,
    `GRANT ${pg.escapeIdentifier(privilegeRole)} TO ${ownerId} WITH ADMIN OPTION;`,
    `CREATE ROLE ${service} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT`,
    `  PASSWORD 'change-me-service';`,
    `GRANT ${pg.escapeIdentifier(privilegeRole)} TO ${service};`,
    `GRANT CONNECT ON DATABASE ${db} TO ${ownerId}, ${service};`,
    `-- Or leave out the service role and LEDGER_SERVICE_DATABASE_URL: the owner, holding CREATEROLE,`,
    `-- then makes ${serviceRole} itself at \`ledger migrate\` and keeps its password where only it can read.`,
    '',
  ].join('\n');
}
