// The route matrix (issue 13): every route the application registers is enumerated from
// the server itself; each must declare a permission (or be public), and each is called as
// every role, with no token and with a forged one. The expected status comes from one
// table, the roles' permissions in code: without a token or with a forged one 401; with a
// role that lacks the permission 403; with one that has it, anything but 401 and 403 (the
// request itself may still be a 400 or a 404, with the placeholder ids used here). Web
// pages are routes too: the same table, except that no session redirects to the login page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app/http.ts';
import { roleAllows, roles, type Permission, type Role } from '../../src/access-control/permissions.ts';
import { approveGrant, bootstrapAdmin, createIdentity, grantRole, issueTokenFor } from '../../src/access-control/service.ts';
import { loadConfig } from '../../src/config.ts';
import type { HttpApp } from '../../src/http/server.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { testSigningKey } from '../support/keys.ts';

type Route = { method: string; url: string; permission: string; page: boolean };

const placeholders: Record<string, string> = {
  id: '00000000-0000-4000-8000-000000000000', figureId: `fig_${'0'.repeat(24)}`,
  eventId: '00000000-0000-4000-8000-000000000000', format: 'json', code: '1000',
};

function concreteUrl(route: Route): string {
  if (/\/grants\/:id/.test(route.url)) return route.url.replace(':id', `grt_${'0'.repeat(24)}`);
  if (/breaks\/:id/.test(route.url)) return route.url.replace(':id', `brk_${'0'.repeat(24)}`);
  return route.url.replace(/:(\w+)/g, (_, name: string) => placeholders[name] ?? 'x');
}

describe('the route matrix', () => {
  let db: TestDatabase;
  let app: HttpApp;
  const routes: Route[] = [];
  const tokens = new Map<Role, string>();
  let address = 0;
  const nextClient = () => { address += 1; return `10.7.${Math.floor(address / 250)}.${address % 250}`; };

  beforeAll(async () => {
    db = await createTestDatabase();
    const config = loadConfig({ DATABASE_URL: db.url, LEDGER_DATA_DIR: '/nonexistent' });
    app = await buildApp(config, { pool: db.pool, metrics: createMetrics(db.pool), clock: () => new Date(),
      reports: { pool: db.pool, key: testSigningKey, dataDir: '/nonexistent', lineageBaseUrl: 'http://x/api/figures' } },
    { logger: false, onRoute: (route) => routes.push(route) });
    const ctx = { pool: db.pool, clock: () => new Date() };
    const root = await bootstrapAdmin(ctx, 'test', { name: 'Root', email: null });
    const as = { identityId: root.user.id, source: 'test', grantId: null };
    const second = await createIdentity(ctx, as, { name: 'Second', kind: 'person' });
    const expires = new Date(Date.now() + 86_400_000).toISOString();
    const secondAdmin = await grantRole(ctx, as, { user: second.id, role: 'admin', expires_at: expires, reason: 'x' });
    await approveGrant(ctx, as, secondAdmin.id, { reason: 'sole admin', breakGlass: true });
    for (const role of roles) {
      const person = await createIdentity(ctx, as, { name: `only ${role}`, kind: role === 'reconciler' ? 'service' : 'person' });
      const grant = await grantRole(ctx, as, { user: person.id, role, expires_at: expires, reason: 'matrix' });
      if (grant.status === 'pending') {
        await approveGrant(ctx, { identityId: second.id, source: 'test', grantId: null }, grant.id, { reason: null, breakGlass: false });
      }
      tokens.set(role, (await issueTokenFor(ctx, as, { user: person.id })).token);
    }
  });
  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  it('has a declared permission on every route', () => {
    expect(routes.length).toBeGreaterThan(10);
    for (const route of routes) expect(route.permission, `${route.method} ${route.url}`).toMatch(/^(public|[a-z]+:[a-z]+)$/);
  });

  it('answers every route as the one table says, for every role, no token and a forged one', async () => {
    const table: string[] = [];
    for (const route of routes.filter((r) => r.method !== 'HEAD' && r.permission !== 'public')) {
      const url = concreteUrl(route);
      const call = (authorization?: string) => app.inject({ method: route.method as 'GET', url, payload: route.method === 'GET' ? undefined : {},
        remoteAddress: nextClient(), headers: authorization === undefined ? {} : { authorization } });
      // A web page sends a browser without a session to the login page instead.
      const unauthenticated = route.page ? 303 : 401;
      expect((await call()).statusCode, `${route.method} ${route.url} without a token`).toBe(unauthenticated);
      expect((await call(`Bearer ldg_${'F'.repeat(43)}`)).statusCode, `${route.method} ${route.url} forged`)
        .toBe(unauthenticated);
      for (const role of roles) {
        const status = (await call(`Bearer ${tokens.get(role)}`)).statusCode;
        const allowed = roleAllows(role, route.permission as Permission);
        table.push(`${route.method} ${route.url} ${role}: ${status}`);
        if (allowed || (route.url === '/api/access/tokens' && route.method === 'POST')) {
          expect([401, 403], `${route.method} ${route.url} as ${role} (allowed)`).not.toContain(status);
        } else {
          expect(status, `${route.method} ${route.url} as ${role} (not allowed)`).toBe(403);
        }
      }
    }
    expect(table.length).toBe(routes.filter((r) => r.method !== 'HEAD' && r.permission !== 'public').length * roles.length);
  });
});
