// The access-control core (API.md, Roles, Scope, Segregation of duties) as given/when/then
// specifications over pure functions: what each role may do, which objects a scope
// admits (out of scope reads as absent), when a grant is in force (expiry at an instant,
// with no job), and the four-eyes and separation-of-duties refusals.
import { describe, expect, it } from 'vitest';
import {
  decideAdjustmentApproval, decideApproval, decideGrant, decideRevocation, grantFor, inForce, type Grant, type GrantRequest,
} from '../../src/access-control/grants.ts';
import { permissionTableMarkdown, permissions, rolePermissions, roles } from '../../src/access-control/permissions.ts';
import { allInScope, everything, inScope, parseScope, scopeCovers } from '../../src/access-control/scope.ts';

const at = new Date('2026-12-07T12:00:00Z');
const inAMonth = new Date('2027-01-07T12:00:00Z');
const alice = { id: 'alice', kind: 'person' as const, disabled: false };
const scheduler = { id: 'scheduler', kind: 'service' as const, disabled: false };

function request(overrides: Partial<GrantRequest> = {}): GrantRequest {
  return { actorId: 'root-admin', user: alice, role: 'finance', scope: everything, expiresAt: inAMonth,
    reason: 'month-end close', ...overrides };
}

function granted(overrides: Partial<GrantRequest> = {}, id = 'g1'): Grant {
  const decision = decideGrant(request(overrides), at);
  if (!decision.ok) throw new Error(decision.message);
  return { id, ...decision.value };
}

describe('roles and permissions (API.md table)', () => {
  it('gives each role exactly the permissions of API.md', () => {
    expect(rolePermissions).toEqual({
      viewer: ['reports:read'],
      finance: ['reports:read', 'reports:run', 'reports:download', 'lineage:read', 'ledger:read', 'reconciliation:read',
        'adjustments:request', 'adjustments:approve'],
      auditor: ['reports:read', 'reports:download', 'lineage:read', 'ledger:read', 'reconciliation:read', 'audit:read'],
      reconciler: ['reconciliation:read', 'reconciliation:resolve', 'reports:run'],
      admin: ['access:admin', 'audit:read', 'metrics:read'],
    });
  });

  it('keeps an admin away from financial data unless also granted a financial role', () => {
    for (const financial of ['reports:read', 'reports:download', 'lineage:read', 'ledger:read'] as const) {
      expect(rolePermissions.admin).not.toContain(financial);
    }
  });

  it('prints a table with a row per role and a column per permission', () => {
    const table = permissionTableMarkdown().split('\n');
    expect(table).toHaveLength(2 + roles.length);
    expect(table[0]?.split('|').length).toBe(permissions.length + 3);
    expect(table.find((row) => row.startsWith('| `admin` (privileged)'))).toBeDefined();
  });
});

describe('scope', () => {
  const cad = parseScope({ currencies: ['CAD'] });

  it('admits an object when its currency and market are in scope', () => {
    expect(inScope(cad, { currency: 'CAD', market: 'CA-ON' })).toBe(true);
    expect(inScope(cad, { currency: 'USD', market: 'CA-ON' })).toBe(false);
    expect(inScope(parseScope({ markets: ['US-CA'] }), { currency: 'USD', market: 'US-NY' })).toBe(false);
  });

  it('needs all markets for an object without a market (a processor payout)', () => {
    expect(inScope(cad, { currency: 'CAD', market: null })).toBe(true);
    expect(inScope(parseScope({ markets: ['CA-ON'] }), { currency: 'CAD', market: null })).toBe(false);
  });

  it('admits a run only when every figure is in scope', () => {
    const mixed = [{ currency: 'CAD' as const, market: 'CA-ON' }, { currency: 'USD' as const, market: 'US-CA' }];
    expect(allInScope(cad, mixed)).toBe(false);
    expect(allInScope(cad, mixed.slice(0, 1))).toBe(true);
    expect(allInScope(everything, mixed)).toBe(true);
  });

  it('knows which scope covers which', () => {
    expect(scopeCovers(everything, cad)).toBe(true);
    expect(scopeCovers(cad, everything)).toBe(false);
    expect(scopeCovers(parseScope({ currencies: ['CAD', 'USD'] }), cad)).toBe(true);
  });

  it('refuses a malformed scope, naming the field', () => {
    expect(() => parseScope({ currencies: ['EUR'] })).toThrow(/scope.currencies\[0\] "EUR" is not USD or CAD/);
    expect(() => parseScope({ currencies: [] })).toThrow(/scope.currencies must be a list of 1 to 64/);
    expect(() => parseScope({ region: ['x'] })).toThrow(/scope.region is not a scope key/);
    expect(() => parseScope('CAD')).toThrow(/scope must be an object/);
    expect(() => parseScope({ markets: ['us-ca'] })).toThrow(/scope.markets\[0\] "us-ca" is not a market code/);
  });
});

describe('granting', () => {
  it('makes an ordinary grant active at once', () => {
    expect(granted().status).toBe('active');
  });

  it('holds a privileged grant (admin, auditor) pending until a second admin approves', () => {
    for (const role of ['admin', 'auditor'] as const) {
      const grant = granted({ role });
      expect(grant.status).toBe('pending');
      expect(inForce(grant, at)).toBe(false);
      expect(grantFor([grant], 'lineage:read', null, at)).toBeNull();
    }
  });

  it('refuses a grant to oneself as separation_of_duties', () => {
    expect(decideGrant(request({ actorId: 'alice' }), at)).toMatchObject({ ok: false, code: 'separation_of_duties' });
  });

  it('refuses grants without a reason, in the past, for over a year, or a person\'s role to a service', () => {
    expect(decideGrant(request({ reason: '  ' }), at)).toMatchObject({ ok: false, field: 'reason' });
    expect(decideGrant(request({ expiresAt: at }), at)).toMatchObject({ ok: false, field: 'expires_at' });
    expect(decideGrant(request({ expiresAt: new Date('2028-01-01T00:00:00Z') }), at))
      .toMatchObject({ ok: false, field: 'expires_at' });
    expect(decideGrant(request({ user: scheduler, role: 'finance' }), at)).toMatchObject({ ok: false, field: 'role' });
    expect(decideGrant(request({ user: scheduler, role: 'reconciler' }), at)).toMatchObject({ ok: true });
  });
});

describe('approving', () => {
  const pending = granted({ role: 'auditor' });

  it('activates a pending grant approved by a second admin', () => {
    expect(decideApproval(pending, 'second-admin', at)).toMatchObject({ ok: true,
      value: { status: 'active', approvedBy: 'second-admin' } });
  });

  it('refuses approval by the grantee or by the admin who granted it', () => {
    expect(decideApproval(pending, 'alice', at)).toMatchObject({ ok: false, code: 'separation_of_duties' });
    expect(decideApproval(pending, 'root-admin', at)).toMatchObject({ ok: false, code: 'separation_of_duties' });
  });

  it('refuses to approve what is not pending, or what expired while waiting', () => {
    expect(decideApproval(granted(), 'second-admin', at)).toMatchObject({ ok: false, code: 'grant_not_pending' });
    expect(decideApproval(pending, 'second-admin', inAMonth)).toMatchObject({ ok: false, code: 'grant_not_pending' });
  });

  it('refuses an adjustment approved by its requester', () => {
    expect(decideAdjustmentApproval('alice', 'alice')).toMatchObject({ ok: false, code: 'separation_of_duties' });
    expect(decideAdjustmentApproval('alice', 'bob')).toEqual({ ok: true, value: null });
  });
});

describe('a grant in force', () => {
  const cadFinance = granted({ scope: parseScope({ currencies: ['CAD'] }) });

  it('stops at its expiry instant, with no job', () => {
    const justBefore = new Date(inAMonth.getTime() - 1);
    expect(grantFor([cadFinance], 'reports:read', null, justBefore)).toBe(cadFinance);
    expect(grantFor([cadFinance], 'reports:read', null, inAMonth)).toBeNull();
  });

  it('stops when revoked, and a revocation says why', () => {
    expect(decideRevocation(cadFinance, '')).toMatchObject({ ok: false, field: 'reason' });
    const revoked = decideRevocation(cadFinance, 'left the team');
    if (!revoked.ok) throw new Error(revoked.message);
    expect(grantFor([revoked.value], 'reports:read', null, at)).toBeNull();
  });

  it('allows only its role\'s permissions, and only in its scope', () => {
    expect(grantFor([cadFinance], 'audit:read', null, at)).toBeNull();
    expect(grantFor([cadFinance], 'lineage:read', { currency: 'CAD', market: 'CA-ON' }, at)).toBe(cadFinance);
    expect(grantFor([cadFinance], 'lineage:read', { currency: 'USD', market: 'US-CA' }, at)).toBeNull();
  });

  it('needs no subject for administering access', () => {
    const admin: Grant = { ...granted({ role: 'admin', scope: parseScope({ currencies: ['CAD'] }) }), status: 'active' };
    expect(grantFor([admin], 'access:admin', { currency: 'USD', market: 'US-CA' }, at)).toBe(admin);
  });
});

describe('break-glass', () => {
  const pending = granted({ role: 'admin' });
  it('lets the only admin approve what they granted, never for themselves', () => {
    expect(decideApproval(pending, 'root-admin', at, true)).toMatchObject({ ok: true, value: { status: 'active' } });
    expect(decideApproval(pending, 'alice', at, true)).toMatchObject({ ok: false, code: 'separation_of_duties' });
  });
});
