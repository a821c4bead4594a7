// Roles and their permissions (API.md, Roles): one table, in code. The README's
// permission table is printed from it (`ledger access roles --markdown`), and every HTTP
// route declares one of these permissions, so the three cannot drift apart.

export const permissions = [
  'reports:read',
  'reports:run',
  'reports:download',
  'lineage:read',
  'ledger:read',
  'reconciliation:read',
  'reconciliation:resolve',
  'adjustments:request',
  'adjustments:approve',
  'access:admin',
  'audit:read',
  'metrics:read',
] as const;
export type Permission = (typeof permissions)[number];

export const roles = ['viewer', 'finance', 'auditor', 'reconciler', 'admin'] as const;
export type Role = (typeof roles)[number];

export const rolePermissions: Readonly<Record<Role, readonly Permission[]>> = {
  viewer: ['reports:read'],
  finance: ['reports:read', 'reports:run', 'reports:download', 'lineage:read', 'ledger:read', 'reconciliation:read',
    'adjustments:request', 'adjustments:approve'],
  auditor: ['reports:read', 'reports:download', 'lineage:read', 'ledger:read', 'reconciliation:read', 'audit:read'],
  reconciler: ['reconciliation:read', 'reconciliation:resolve', 'reports:run'],
  admin: ['access:admin', 'audit:read', 'metrics:read'],
};

/** A grant of these takes effect only when a second admin approves it (API.md). */
export const privilegedRoles: ReadonlySet<Role> = new Set<Role>(['admin', 'auditor']);

/** The roles a service identity (the scheduler, the nightly job) may hold; people may hold any. */
export const serviceRoles: ReadonlySet<Role> = new Set<Role>(['reconciler', 'viewer']);

/**
 * Permissions that never depend on scope: administering access, reading the trail and
 * metrics concern no currency or market. Every other permission reads financial data
 * and is confined to the grant's scope.
 */
export const unscopedPermissions: ReadonlySet<Permission> = new Set<Permission>(['access:admin', 'audit:read',
  'metrics:read']);

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (roles as readonly string[]).includes(value);
}

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && (permissions as readonly string[]).includes(value);
}

export function roleAllows(role: Role, permission: Permission): boolean {
  return rolePermissions[role].includes(permission);
}

/** The README's table: a row per role, a column per permission. */
export function permissionTableMarkdown(): string {
  const header = `| role | ${permissions.map((p) => `\`${p}\``).join(' | ')} |`;
  const rule = `| --- | ${permissions.map(() => ':---:').join(' | ')} |`;
  const rows = roles.map((role) => {
    const marks = permissions.map((p) => (roleAllows(role, p) ? '✓' : ''));
    const note = privilegedRoles.has(role) ? ' (privileged)' : '';
    return `| \`${role}\`${note} | ${marks.join(' | ')} |`;
  });
  return [header, rule, ...rows].join('\n');
}
