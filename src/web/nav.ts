// The navigation bar's links, one per area, each shown only to a caller holding a grant
// in force with its permission (a link that would answer 403 is not shown). To add an
// area: append an entry here; `section` groups links, `path` prefix marks the current one.
import type { Permission } from '../access-control/permissions.ts';

export type NavLink = { readonly href: string; readonly label: string; readonly permission: Permission };

export const navLinks: readonly NavLink[] = [
  { href: '/runs', label: 'Report runs', permission: 'reports:read' },
  { href: '/runs/new', label: 'Run a report', permission: 'reports:run' },
  { href: '/reconciliation', label: 'Reconciliation', permission: 'reconciliation:read' },
  { href: '/verification', label: 'Verification', permission: 'lineage:read' },
  { href: '/trail', label: 'Audit trail', permission: 'audit:read' },
  { href: '/admin/users', label: 'Users', permission: 'access:admin' },
  { href: '/admin/grants', label: 'Grants', permission: 'access:admin' },
];
