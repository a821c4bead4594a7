// PostgreSQL for identities, grants and tokens (0010_access.sql). Every table is
// append-only: a grant's status is derived from its approval and revocation rows here,
// in one place, never stored and overwritten.
import type { Client, Pool } from '../db/database.ts';
import type { Grant, GrantStatus, Identity, IdentityKind } from './grants.ts';
import { isRole, type Role } from './permissions.ts';
import { parseScope, scopeJson } from './scope.ts';

type Queryable = Pool | Client;

export type IdentityRecord = Identity & {
  readonly name: string;
  readonly email: string | null;
  readonly oidcSubject: string | null;
  readonly createdAt: Date;
  readonly createdBy: string;
};

type IdentityRow = {
  identity_id: string; name: string; email: string | null; kind: IdentityKind; oidc_subject: string | null;
  created_at: Date; created_by: string;
};

const identityColumns = 'identity_id, name, email, kind, oidc_subject, created_at, created_by';

function identityFrom(row: IdentityRow): IdentityRecord {
  return { id: row.identity_id, name: row.name, email: row.email, kind: row.kind, oidcSubject: row.oidc_subject,
    createdAt: row.created_at, createdBy: row.created_by, disabled: false };
}

export async function insertIdentity(client: Client, identity: Omit<IdentityRecord, 'disabled'>): Promise<void> {
  await client.query(`INSERT INTO access.identities (${identityColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [identity.id, identity.name, identity.email, identity.kind, identity.oidcSubject, identity.createdAt,
      identity.createdBy]);
}

export async function findIdentity(db: Queryable, id: string): Promise<IdentityRecord | null> {
  const result = await db.query<IdentityRow>(`SELECT ${identityColumns} FROM access.identities WHERE identity_id = $1`,
    [id]);
  return result.rows[0] === undefined ? null : identityFrom(result.rows[0]);
}

/** OIDC: the identity a verified JWT names, by its subject first, else by its verified email. */
export async function findIdentityForOidc(db: Queryable, subject: string, email: string | null): Promise<IdentityRecord | null> {
  const result = await db.query<IdentityRow>(`SELECT ${identityColumns} FROM access.identities
     WHERE oidc_subject = $1 OR ($2::text IS NOT NULL AND lower(email) = lower($2)) ORDER BY oidc_subject = $1 DESC LIMIT 1`,
  [subject, email]);
  return result.rows[0] === undefined ? null : identityFrom(result.rows[0]);
}

export async function listIdentities(db: Queryable, afterId: string | null, limit: number): Promise<IdentityRecord[]> {
  const result = await db.query<IdentityRow>(`SELECT ${identityColumns} FROM access.identities
     WHERE $1::text IS NULL OR identity_id > $1 ORDER BY identity_id LIMIT $2`, [afterId, limit]);
  return result.rows.map(identityFrom);
}

type GrantRow = {
  grant_id: string; identity_id: string; role: string; scope: unknown; expires_at: Date; reason: string;
  granted_by: string; granted_at: Date; status: GrantStatus; approved_by: string | null; grant_seq: string;
};

const grantSelect = `SELECT g.grant_id, g.identity_id, g.role, g.scope, g.expires_at, g.reason, g.granted_by,
    g.granted_at, g.grant_seq, a.approved_by,
    CASE WHEN r.grant_id IS NOT NULL THEN 'revoked' WHEN g.privileged AND a.grant_id IS NULL THEN 'pending'
         ELSE 'active' END AS status
  FROM access.grants g
  LEFT JOIN access.grant_approvals a USING (grant_id)
  LEFT JOIN access.grant_revocations r USING (grant_id)`;

const grantLockClass = 7_347_012;

export type GrantRecord = Grant & { readonly grantedAt: Date; readonly seq: number };

function grantFrom(row: GrantRow): GrantRecord {
  if (!isRole(row.role)) throw new Error(`invariant violated: grant ${row.grant_id} has role ${row.role}`);
  return {
    id: row.grant_id, userId: row.identity_id, role: row.role as Role, scope: parseScope(row.scope),
    expiresAt: row.expires_at, reason: row.reason, grantedBy: row.granted_by, status: row.status,
    approvedBy: row.approved_by, grantedAt: row.granted_at, seq: Number(row.grant_seq),
  };
}

export async function insertGrant(client: Client, grant: Grant, grantedAt: Date): Promise<void> {
  await client.query(`INSERT INTO access.grants (grant_id, identity_id, role, scope, expires_at, reason, granted_by,
      granted_at, privileged) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
  [grant.id, grant.userId, grant.role, JSON.stringify(scopeJson(grant.scope)), grant.expiresAt, grant.reason,
    grant.grantedBy, grantedAt, grant.role === 'admin' || grant.role === 'auditor']);
}

export async function findGrant(db: Queryable, grantId: string, options: { lock?: boolean } = {}): Promise<GrantRecord | null> {
  if (options.lock === true) {
    // Two admins approving or revoking one grant at once: the second waits, then sees the
    // first's row. An advisory lock, because the service may not UPDATE (so not FOR UPDATE).
    await db.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [grantLockClass, grantId]);
  }
  const result = await db.query<GrantRow>(`${grantSelect} WHERE g.grant_id = $1`, [grantId]);
  return result.rows[0] === undefined ? null : grantFrom(result.rows[0]);
}

export async function grantsOf(db: Queryable, identityId: string): Promise<GrantRecord[]> {
  const result = await db.query<GrantRow>(`${grantSelect} WHERE g.identity_id = $1 ORDER BY g.grant_seq`, [identityId]);
  return result.rows.map(grantFrom);
}

export async function listGrants(db: Queryable, afterSeq: number | null, limit: number): Promise<GrantRecord[]> {
  const result = await db.query<GrantRow>(`${grantSelect} WHERE $1::bigint IS NULL OR g.grant_seq < $1
     ORDER BY g.grant_seq DESC LIMIT $2`, [afterSeq, limit]);
  return result.rows.map(grantFrom);
}

export async function insertApproval(
  client: Client, grantId: string, approvedBy: string, at: Date, breakGlass: boolean, reason: string | null,
): Promise<void> {
  await client.query(`INSERT INTO access.grant_approvals (grant_id, approved_by, approved_at, break_glass, reason)
    VALUES ($1, $2, $3, $4, $5)`, [grantId, approvedBy, at, breakGlass, reason]);
}

export async function insertRevocation(client: Client, grantId: string, revokedBy: string, at: Date, reason: string) {
  await client.query(`INSERT INTO access.grant_revocations (grant_id, revoked_by, revoked_at, reason)
    VALUES ($1, $2, $3, $4)`, [grantId, revokedBy, at, reason]);
}

/** Identities holding an admin grant in force at `at` (for bootstrap and break-glass). */
export async function adminsInForce(db: Queryable, at: Date): Promise<string[]> {
  const result = await db.query<{ identity_id: string }>(`SELECT DISTINCT identity_id FROM (${grantSelect}) s
     WHERE role = 'admin' AND status = 'active' AND expires_at > $1 ORDER BY identity_id`, [at]);
  return result.rows.map((r) => r.identity_id);
}

export async function insertToken(
  client: Client, token: { tokenId: string; identityId: string; secretSha256: Buffer; expiresAt: Date; createdBy: string },
  at: Date,
): Promise<void> {
  await client.query(`INSERT INTO access.tokens (token_id, identity_id, secret_sha256, expires_at, created_at, created_by)
    VALUES ($1, $2, $3, $4, $5, $6)`,
  [token.tokenId, token.identityId, token.secretSha256, token.expiresAt, at, token.createdBy]);
}

/** The identity a token's hash names, when the token is unexpired and unrevoked at `at`. */
/**
 * The identity a token names and all its grants, in one round trip (every authenticated
 * request asks): null when the token is unknown, expired or revoked.
 */
export async function callerForToken(
  db: Queryable, secretSha256: Buffer, at: Date,
): Promise<{ identity: IdentityRecord; tokenId: string; grants: GrantRecord[] } | null> {
  // Named, so each connection plans it once: planning six joins cost more than running them.
  const result = await db.query<IdentityRow & { token_id: string } & Partial<GrantRow>>({ name: 'access.caller_for_token',
    text: `SELECT t.token_id,
      ${identityColumns.split(', ').map((c) => `i.${c}`).join(', ')}, g.grant_id, g.role, g.scope, g.expires_at,
      g.reason, g.granted_by, g.granted_at, g.grant_seq, g.approved_by, g.status
      FROM access.tokens t JOIN access.identities i USING (identity_id)
      LEFT JOIN access.token_revocations r USING (token_id)
      LEFT JOIN LATERAL (${grantSelect} WHERE g.identity_id = i.identity_id) g ON true
     WHERE t.secret_sha256 = $1 AND t.expires_at > $2 AND r.token_id IS NULL
     ORDER BY g.grant_seq`, values: [secretSha256, at] });
  const first = result.rows[0];
  if (first === undefined) return null;
  const grants = result.rows.filter((row) => row.grant_id != null).map((row) => grantFrom(row as GrantRow));
  return { identity: identityFrom(first), tokenId: first.token_id, grants };
}

export async function identityForToken(
  db: Queryable, secretSha256: Buffer, at: Date,
): Promise<{ identity: IdentityRecord; tokenId: string } | null> {
  const result = await db.query<IdentityRow & { token_id: string }>(`SELECT t.token_id, ${identityColumns
    .split(', ').map((c) => `i.${c}`).join(', ')}
      FROM access.tokens t JOIN access.identities i USING (identity_id)
      LEFT JOIN access.token_revocations r USING (token_id)
     WHERE t.secret_sha256 = $1 AND t.expires_at > $2 AND r.token_id IS NULL`, [secretSha256, at]);
  const row = result.rows[0];
  return row === undefined ? null : { identity: identityFrom(row), tokenId: row.token_id };
}
