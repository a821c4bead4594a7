// The access use cases, shared by the HTTP API and the `ledger access` commands: each
// checks its input, asks the pure decisions (grants.ts), writes, and appends its trail
// record in the same transaction. A refusal is recorded too, in a transaction of its
// own, then thrown as a UserError whose code the API maps to a status.
import { randomBytes } from 'node:crypto';
import { withTransaction, type Client, type Pool } from '../db/database.ts';
import { UserError } from '../errors.ts';
import { decideApproval, decideGrant, decideRevocation, type Grant, type IdentityKind, type Refusal } from './grants.ts';
import { isRole } from './permissions.ts';
import { parseScope, scopeJson } from './scope.ts';
import {
  adminsInForce, findGrant, findIdentity, insertApproval, insertGrant, insertIdentity, insertRevocation, insertToken,
  type GrantRecord, type IdentityRecord,
} from './store.ts';
import { issueToken, tokenDurationMsDefault, tokenDurationMsMax } from './tokens.ts';
import { appendTrail, type TrailRecord } from './trail.ts';

export type Clock = () => Date;

/** Who acts: an identity, from where, under which grant (null for operators on the host). */
export type Actor = { readonly identityId: string; readonly source: string; readonly grantId: string | null };

export type AccessContext = { readonly pool: Pool; readonly clock: Clock };

type Detail = TrailRecord['detail'];

function trailOf(actor: Actor, at: Date, action: string, object: string | null, detail: Detail): TrailRecord {
  return { at, actor: actor.identityId, action, object, grantId: actor.grantId, source: actor.source, detail };
}

/** Records a refusal (committed on its own), then throws it for the caller to answer. */
async function refuse(ctx: AccessContext, actor: Actor, action: string, object: string | null, refusal: Refusal): Promise<never> {
  await withTransaction(ctx.pool, (client) => appendTrail(client, trailOf(actor, ctx.clock(), action, object,
    { code: refusal.code, message: refusal.message })));
  throw new UserError(refusal.code, refusal.message, refusal.field);
}

const bootstrapLockKey = 7_347_011;
const idPattern = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const emailPattern = /^[^@\s]+@[^@\s]+$/;

export type NewIdentity = { name: unknown; email?: unknown; kind: unknown; id?: unknown };

function checkNewIdentity(input: NewIdentity): { name: string; email: string | null; kind: IdentityKind; id: string | null } {
  if (typeof input.name !== 'string' || input.name.trim() === '' || input.name.length > 200) {
    throw new UserError('invalid_field', 'name must be 1 to 200 characters', 'name');
  }
  if (input.email !== undefined && input.email !== null
    && (typeof input.email !== 'string' || !emailPattern.test(input.email) || input.email.length > 320)) {
    throw new UserError('invalid_field', `email ${JSON.stringify(input.email)} is not an email address`, 'email');
  }
  if (input.kind !== 'person' && input.kind !== 'service') {
    throw new UserError('invalid_field', 'kind must be "person" or "service"', 'kind');
  }
  if (input.id !== undefined && (typeof input.id !== 'string' || !idPattern.test(input.id))) {
    throw new UserError('invalid_field', 'id must be lower-case letters, digits, ".", "-" or "_", at most 63', 'id');
  }
  return { name: input.name.trim(), email: typeof input.email === 'string' ? input.email : null, kind: input.kind,
    id: typeof input.id === 'string' ? input.id : null };
}

/** A readable id from the email's local part or the name: alice, alice-2, … */
function idCandidates(name: string, email: string | null): string[] {
  const base = (email?.split('@')[0] ?? name).toLowerCase().normalize('NFKD').replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '').slice(0, 50) || 'user';
  return [base, ...Array.from({ length: 20 }, (_, n) => `${base}-${n + 2}`), `${base}-${randomBytes(4).toString('hex')}`];
}

export async function createIdentity(ctx: AccessContext, actor: Actor, input: NewIdentity): Promise<IdentityRecord> {
  const checked = checkNewIdentity(input);
  return withTransaction(ctx.pool, async (client) => {
    const at = ctx.clock();
    const id = checked.id ?? await firstFreeId(client, idCandidates(checked.name, checked.email));
    if (checked.id !== null && await findIdentity(client, id) !== null) {
      throw new UserError('conflict', `identity ${id} exists`, 'id');
    }
    if (checked.email !== null) {
      const taken = await client.query('SELECT 1 FROM access.identities WHERE lower(email) = lower($1)', [checked.email]);
      if (taken.rowCount !== 0) throw new UserError('conflict', `an identity with email ${checked.email} exists`, 'email');
    }
    const identity = { id, name: checked.name, email: checked.email, kind: checked.kind, oidcSubject: null,
      createdAt: at, createdBy: actor.identityId };
    await insertIdentity(client, identity);
    await appendTrail(client, trailOf(actor, at, 'identity.create', id, { kind: checked.kind, name: checked.name }));
    return { ...identity, disabled: false };
  });
}

async function firstFreeId(client: Client, candidates: string[]): Promise<string> {
  const taken = await client.query<{ identity_id: string }>(
    'SELECT identity_id FROM access.identities WHERE identity_id = ANY($1)', [candidates]);
  const used = new Set(taken.rows.map((r) => r.identity_id));
  return candidates.find((c) => !used.has(c)) as string;
}

export type GrantInput = { user: unknown; role: unknown; scope?: unknown; expires_at: unknown; reason: unknown };

export async function grantRole(ctx: AccessContext, actor: Actor, input: GrantInput): Promise<GrantRecord> {
  if (typeof input.user !== 'string') throw new UserError('invalid_field', 'user must be an identity id', 'user');
  if (!isRole(input.role)) {
    throw new UserError('invalid_field', 'role must be one of viewer, finance, auditor, reconciler, admin', 'role');
  }
  const scope = parseScope(input.scope);
  const expiresAt = parseInstant(input.expires_at, 'expires_at');
  if (typeof input.reason !== 'string') throw new UserError('invalid_field', 'reason must say why', 'reason');
  const user = await findIdentity(ctx.pool, input.user);
  if (user === null) throw new UserError('not_found', `no identity ${input.user}`, 'user');
  const at = ctx.clock();
  const decision = decideGrant({ actorId: actor.identityId, user, role: input.role, scope, expiresAt,
    reason: input.reason }, at);
  if (!decision.ok) return refuse(ctx, actor, 'grant.refuse', user.id, decision);
  const grant: Grant = { id: `grt_${randomBytes(12).toString('hex')}`, ...decision.value };
  await withTransaction(ctx.pool, async (client) => {
    await insertGrant(client, grant, at);
    await appendTrail(client, trailOf(actor, at, 'grant.create', grant.id, { user: user.id, role: grant.role,
      scope: JSON.stringify(scopeJson(scope)), expires_at: expiresAt.toISOString(), reason: grant.reason,
      status: grant.status }));
  });
  return { ...grant, grantedAt: at, seq: 0 };
}

export async function approveGrant(
  ctx: AccessContext, actor: Actor, grantId: string, options: { reason: string | null; breakGlass: boolean },
): Promise<GrantRecord> {
  const grant = await findGrant(ctx.pool, grantId);
  if (grant === null) throw new UserError('not_found', `no grant ${grantId}`);
  const at = ctx.clock();
  const decision = decideApproval(grant, actor.identityId, at, options.breakGlass);
  if (!decision.ok) return refuse(ctx, actor, 'grant.refuse_approval', grantId, decision);
  if (options.breakGlass) {
    const admins = await adminsInForce(ctx.pool, at);
    if (admins.length > 1) {
      return refuse(ctx, actor, 'grant.refuse_approval', grantId, { ok: false, code: 'separation_of_duties',
        message: `break-glass is only for a single admin; ${admins.length} admins can approve` });
    }
  }
  return withTransaction(ctx.pool, async (client) => {
    const locked = await findGrant(client, grantId, { lock: true });
    if (locked?.status !== 'pending') throw new UserError('grant_not_pending', `grant ${grantId} is no longer pending`);
    await insertApproval(client, grantId, actor.identityId, at, options.breakGlass, options.reason);
    await appendTrail(client, trailOf(actor, at, options.breakGlass ? 'grant.approve_break_glass' : 'grant.approve',
      grantId, { user: grant.userId, role: grant.role, reason: options.reason }));
    return { ...locked, status: 'active', approvedBy: actor.identityId };
  });
}

export async function revokeGrant(ctx: AccessContext, actor: Actor, grantId: string, reason: unknown): Promise<GrantRecord> {
  if (typeof reason !== 'string') throw new UserError('invalid_field', 'reason must say why', 'reason');
  return withTransaction(ctx.pool, async (client) => {
    const grant = await findGrant(client, grantId, { lock: true });
    if (grant === null) throw new UserError('not_found', `no grant ${grantId}`);
    const decision = decideRevocation(grant, reason);
    if (!decision.ok) throw new UserError(decision.code, decision.message, decision.field);
    const at = ctx.clock();
    await insertRevocation(client, grantId, actor.identityId, at, reason.trim());
    await appendTrail(client, trailOf(actor, at, 'grant.revoke', grantId, { user: grant.userId, role: grant.role,
      reason: reason.trim() }));
    return decision.value as GrantRecord;
  });
}

export async function issueTokenFor(
  ctx: AccessContext, actor: Actor, input: { user: unknown; expires_at?: unknown },
): Promise<{ token: string; tokenId: string; expiresAt: Date }> {
  if (typeof input.user !== 'string') throw new UserError('invalid_field', 'user must be an identity id', 'user');
  const at = ctx.clock();
  const expiresAt = input.expires_at === undefined ? new Date(at.getTime() + tokenDurationMsDefault)
    : parseInstant(input.expires_at, 'expires_at');
  if (expiresAt.getTime() <= at.getTime() || expiresAt.getTime() - at.getTime() > tokenDurationMsMax) {
    throw new UserError('invalid_field', 'expires_at must be in the future and within 366 days', 'expires_at');
  }
  return withTransaction(ctx.pool, async (client) => {
    const user = await findIdentity(client, input.user as string);
    if (user === null) throw new UserError('not_found', `no identity ${String(input.user)}`, 'user');
    const issued = issueToken();
    await insertToken(client, { tokenId: issued.tokenId, identityId: user.id, secretSha256: issued.secretSha256,
      expiresAt, createdBy: actor.identityId }, at);
    await appendTrail(client, trailOf(actor, at, 'token.issue', issued.tokenId, { user: user.id,
      expires_at: expiresAt.toISOString() }));
    return { token: issued.secret, tokenId: issued.tokenId, expiresAt };
  });
}

/** The first admin, with a token shown once; refused when an admin exists (CLI: access bootstrap). */
export async function bootstrapAdmin(
  ctx: AccessContext, source: string, input: { name: string; email: string | null },
): Promise<{ user: IdentityRecord; token: string; expiresAt: Date }> {
  const at = ctx.clock();
  const actor: Actor = { identityId: 'bootstrap', source, grantId: null };
  return withTransaction(ctx.pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [bootstrapLockKey]); // two bootstraps at once: one wins
    const admins = await adminsInForce(client, at);
    if (admins.length > 0) {
      throw new UserError('conflict', `an admin exists (${admins.join(', ')}); grants go through them now`);
    }
    const id = await firstFreeId(client, idCandidates(input.name, input.email));
    const user = { id, name: input.name, email: input.email, kind: 'person' as const, oidcSubject: null, createdAt: at,
      createdBy: actor.identityId };
    await insertIdentity(client, user);
    const grant: Grant = { id: `grt_${randomBytes(12).toString('hex')}`, userId: id, role: 'admin',
      scope: parseScope(undefined), expiresAt: new Date(at.getTime() + 365 * 24 * 3600 * 1000),
      reason: 'first admin (ledger access bootstrap)', grantedBy: actor.identityId, status: 'active', approvedBy: null };
    await insertGrant(client, grant, at);
    await insertApproval(client, grant.id, actor.identityId, at, true, 'bootstrap: no admin existed');
    const issued = issueToken();
    const expiresAt = new Date(at.getTime() + tokenDurationMsDefault);
    await insertToken(client, { tokenId: issued.tokenId, identityId: id, secretSha256: issued.secretSha256, expiresAt,
      createdBy: actor.identityId }, at);
    await appendTrail(client, trailOf(actor, at, 'access.bootstrap', id, { grant: grant.id, token: issued.tokenId }));
    return { user: { ...user, disabled: false }, token: issued.secret, expiresAt };
  });
}

const instantPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 instant that exists (no 30 February), or a 400 naming the field. */
export function parseInstant(value: unknown, field: string): Date {
  if (typeof value !== 'string' || !instantPattern.test(value)) {
    throw new UserError('invalid_field', `${field} must be an RFC 3339 time such as 2027-01-31T00:00:00Z`, field);
  }
  const date = new Date(value);
  const [year, month, day] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (Number.isNaN(date.getTime()) || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) {
    throw new UserError('invalid_field', `${field} ${JSON.stringify(value)} is not a real time`, field);
  }
  return date;
}
