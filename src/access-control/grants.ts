// Grant decisions (API.md, Roles and Segregation of duties), pure: a function of the
// request, the facts it needs and the instant, returning the new grant or a refusal with
// a catalogued code. No clock is read here: `at` is given, so an expired grant stops at
// its expiry to the microsecond, with no job needed, and tests control time.
import { privilegedRoles, rolePermissions, serviceRoles, unscopedPermissions, type Permission, type Role } from './permissions.ts';
import { inScope, type Scope, type Subject } from './scope.ts';

export type IdentityKind = 'person' | 'service';

export type Identity = {
  readonly id: string;
  readonly kind: IdentityKind;
  readonly disabled: boolean;
};

/** As API.md shows it: `pending` until a second admin approves a privileged grant. */
export type GrantStatus = 'pending' | 'active' | 'revoked' | 'refused';

export type Grant = {
  readonly id: string;
  readonly userId: string;
  readonly role: Role;
  readonly scope: Scope;
  readonly expiresAt: Date;
  readonly reason: string;
  readonly grantedBy: string;
  readonly status: GrantStatus;
  readonly approvedBy: string | null;
};

export type Refusal = {
  readonly ok: false;
  readonly code: 'separation_of_duties' | 'invalid_grant' | 'grant_not_pending' | 'not_found';
  readonly message: string;
  readonly field?: string;
};

export type Decision<T> = { readonly ok: true; readonly value: T } | Refusal;

const reasonLengthMax = 1_000;
/** A grant lasts at most this long: access is re-certified, never granted for ever. */
export const grantDurationMsMax = 366 * 24 * 60 * 60 * 1000;

export type GrantRequest = {
  readonly actorId: string;
  readonly user: Identity;
  readonly role: Role;
  readonly scope: Scope;
  readonly expiresAt: Date;
  readonly reason: string;
};

/** A new grant: active at once, or pending a second admin's approval when privileged. */
export function decideGrant(request: GrantRequest, at: Date): Decision<Omit<Grant, 'id'>> {
  if (request.actorId === request.user.id) {
    return refuse('separation_of_duties', 'nobody grants a role to themselves');
  }
  if (request.user.disabled) return refuse('invalid_grant', `user ${request.user.id} is disabled`, 'user');
  if (request.user.kind === 'service' && !serviceRoles.has(request.role)) {
    return refuse('invalid_grant', `a service identity may hold only ${[...serviceRoles].join(' or ')}`, 'role');
  }
  if (request.expiresAt.getTime() <= at.getTime()) {
    return refuse('invalid_grant', 'expires_at must be in the future', 'expires_at');
  }
  if (request.expiresAt.getTime() - at.getTime() > grantDurationMsMax) {
    return refuse('invalid_grant', 'expires_at must be within 366 days: grants are re-certified', 'expires_at');
  }
  const reason = request.reason.trim();
  if (reason === '' || reason.length > reasonLengthMax) {
    return refuse('invalid_grant', `reason must say why, in 1 to ${reasonLengthMax} characters`, 'reason');
  }
  return {
    ok: true,
    value: {
      userId: request.user.id, role: request.role, scope: request.scope, expiresAt: request.expiresAt, reason,
      grantedBy: request.actorId, status: privilegedRoles.has(request.role) ? 'pending' : 'active', approvedBy: null,
    },
  };
}

/**
 * A second admin approves a pending grant: never the grantee, never the one who granted
 * it. Break-glass (API.md: on the server host, while only one admin exists) lets that one
 * admin approve what they granted, still never for themselves; the trail says so.
 */
export function decideApproval(grant: Grant, approverId: string, at: Date, breakGlass = false): Decision<Grant> {
  if (grant.status !== 'pending') {
    return refuse('grant_not_pending', `grant ${grant.id} is ${grant.status}, not pending`);
  }
  if (approverId === grant.userId) return refuse('separation_of_duties', 'nobody approves a grant for themselves');
  if (approverId === grant.grantedBy && !breakGlass) {
    return refuse('separation_of_duties', 'the admin who granted it cannot also approve it: a second admin must');
  }
  if (grant.expiresAt.getTime() <= at.getTime()) {
    return refuse('grant_not_pending', `grant ${grant.id} expired at ${grant.expiresAt.toISOString()} before approval`);
  }
  return { ok: true, value: { ...grant, status: 'active', approvedBy: approverId } };
}

export function decideRevocation(grant: Grant, reason: string): Decision<Grant> {
  if (grant.status === 'revoked') return refuse('grant_not_pending', `grant ${grant.id} is already revoked`);
  if (reason.trim() === '' || reason.length > reasonLengthMax) {
    return refuse('invalid_grant', `reason must say why, in 1 to ${reasonLengthMax} characters`, 'reason');
  }
  return { ok: true, value: { ...grant, status: 'revoked' } };
}

/** In force at `at`: active and not yet expired. Expiry needs no job: it is read here. */
export function inForce(grant: Grant, at: Date): boolean {
  return grant.status === 'active' && at.getTime() < grant.expiresAt.getTime();
}

/**
 * The grants in force that allow `permission`, oldest expiry last. Empty means 403
 * (or 401 for no identity, decided by the caller).
 */
export function grantsAllowing(grants: readonly Grant[], permission: Permission, at: Date): Grant[] {
  return grants.filter((g) => inForce(g, at) && rolePermissions[g.role].includes(permission))
    .sort((a, b) => b.expiresAt.getTime() - a.expiresAt.getTime());
}

/**
 * The grant under which `permission` on `subject` is allowed, or null: out of scope
 * reads as absent. Unscoped permissions (access:admin, audit:read, metrics:read) need
 * no subject.
 */
export function grantFor(grants: readonly Grant[], permission: Permission, subject: Subject | null, at: Date): Grant | null {
  for (const grant of grantsAllowing(grants, permission, at)) {
    if (unscopedPermissions.has(permission) || subject === null || inScope(grant.scope, subject)) return grant;
  }
  return null;
}

/** Everything a caller may see with `permission`: the union of its grants' scopes (for filtering lists). */
export function scopesFor(grants: readonly Grant[], permission: Permission, at: Date): Scope[] {
  return grantsAllowing(grants, permission, at).map((g) => g.scope);
}

/** Adjustments: the requester never approves their own. */
export function decideAdjustmentApproval(requestedBy: string, approverId: string): Decision<null> {
  if (requestedBy === approverId) {
    return refuse('separation_of_duties', 'the person who requested an adjustment cannot approve it');
  }
  return { ok: true, value: null };
}

function refuse(code: Refusal['code'], message: string, field?: string): Refusal {
  return { ok: false, code, message, ...(field === undefined ? {} : { field }) };
}
