// The access part of the HTTP API (API.md), through Fastify's inject against real
// PostgreSQL: 401 without a token or with a forged one, 429 with Retry-After after
// repeated failures, 403 without the permission, 400 naming the field for unknown fields,
// wrong types and bad cursors, 413 over the body limit, and the four-eyes flow of a
// privileged grant, each act in the trail. A route that declares no permission stops
// the application from starting.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdmin } from '../../src/access-control/service.ts';
import { buildHttpServer, type HttpApp } from '../../src/http/server.ts';
import { accessRoutes } from '../../src/http/routes/access.ts';
import { auditRoutes } from '../../src/http/routes/audit.ts';
import { healthRoutes } from '../../src/http/routes/health.ts';
import { metricsRoutes } from '../../src/http/routes/metrics.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

describe('the access API', () => {
  let db: TestDatabase;
  let app: HttpApp;
  let now = new Date('2026-12-07T10:00:00.000Z');
  let rootToken: string;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    db = await createTestDatabase();
    const ctx = { pool: db.pool, clock: () => now };
    app = await buildHttpServer({ pool: db.pool, clock: ctx.clock, logger: false, oidc: null, version: 'test',
      authFailuresMax: 5, metricsScrapeToken: 'scrape-secret-0123456789',
      routes: [healthRoutes(db.pool, 'test'), accessRoutes(ctx), auditRoutes(db.pool), metricsRoutes(createMetrics(db.pool))] });
    rootToken = (await bootstrapAdmin(ctx, 'cli:test', { name: 'Root', email: 'root@example.com' })).token;
  });
  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  it('answers health without a token', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', database: 'ok', version: 'test' });
  });

  it('is 401 without a token and with a forged one, and records each failure', async () => {
    const none = await app.inject({ method: 'GET', url: '/api/access/users', remoteAddress: '10.9.9.1' });
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('unauthenticated');
    const forged = await app.inject({ method: 'GET', url: '/api/access/users', remoteAddress: '10.9.9.1',
      headers: bearer(`ldg_${'A'.repeat(43)}`) });
    expect(forged.statusCode).toBe(401);
    const failures = await db.adminPool.query(
      `SELECT count(*)::int AS n FROM access.audit_trail WHERE action = 'auth.failure' AND source = '10.9.9.1'`);
    expect(failures.rows[0]?.n).toBe(2);
  });

  it('answers 429 with Retry-After once a client failed too often, and other clients still pass', async () => {
    for (let n = 0; n < 5; n += 1) {
      const response = await app.inject({ method: 'GET', url: '/api/access/users', remoteAddress: '10.9.9.2',
        headers: bearer('ldg_wrong') });
      expect(response.statusCode).toBe(401);
    }
    const blocked = await app.inject({ method: 'GET', url: '/api/access/users', remoteAddress: '10.9.9.2',
      headers: bearer(rootToken) });
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    const other = await app.inject({ method: 'GET', url: '/api/access/users', headers: bearer(rootToken) });
    expect(other.statusCode).toBe(200);
    now = new Date(now.getTime() + 61_000);
    const later = await app.inject({ method: 'GET', url: '/api/access/users', remoteAddress: '10.9.9.2',
      headers: bearer(rootToken) });
    expect(later.statusCode).toBe(200);
  });

  it('refuses unknown fields, wrong types, bad cursors and oversized bodies, writing nothing', async () => {
    const before = await db.adminPool.query('SELECT count(*)::int AS n FROM access.identities');
    const unknown = await app.inject({ method: 'POST', url: '/api/access/users', headers: bearer(rootToken),
      payload: { name: 'Eve', kind: 'person', admin: true } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error).toMatchObject({ code: 'invalid_request', field: 'admin' });
    const wrongType = await app.inject({ method: 'POST', url: '/api/access/users', headers: bearer(rootToken),
      payload: { name: 'Eve', kind: 'robot' } });
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.json().error.field).toBe('kind');
    const badCursor = await app.inject({ method: 'GET', url: '/api/access/users?cursor=bm90LW91cnM',
      headers: bearer(rootToken) });
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json().error).toMatchObject({ code: 'invalid_cursor', field: 'cursor' });
    const huge = await app.inject({ method: 'POST', url: '/api/access/users', headers: bearer(rootToken),
      payload: { name: 'x'.repeat(300 * 1024), kind: 'person' } });
    expect(huge.statusCode).toBe(413);
    const badDate = await app.inject({ method: 'POST', url: '/api/access/grants', headers: bearer(rootToken),
      payload: { user: 'root', role: 'viewer', expires_at: '2027-02-30T00:00:00Z', reason: 'x' } });
    expect(badDate.statusCode).toBe(400);
    expect(badDate.json().error.field).toBe('expires_at');
    const after = await db.adminPool.query('SELECT count(*)::int AS n FROM access.identities');
    expect(after.rows[0]?.n).toBe(before.rows[0]?.n);
  });

  it('holds a privileged grant pending until a second admin approves it, and refuses self-approval', async () => {
    const post = (token: string, url: string, payload: object) =>
      app.inject({ method: 'POST', url, headers: bearer(token), payload });
    const second = (await post(rootToken, '/api/access/users', { name: 'Second Admin', email: 'second@example.com',
      kind: 'person' })).json();
    const adminGrant = (await post(rootToken, '/api/access/grants', { user: second.id, role: 'admin',
      expires_at: '2027-06-01T00:00:00Z', reason: 'four eyes' })).json();
    expect(adminGrant.status).toBe('pending');
    const secondToken = (await post(rootToken, '/api/access/tokens', { user: second.id })).json().token;
    const stillForbidden = await app.inject({ method: 'GET', url: '/api/access/users', headers: bearer(secondToken) });
    expect(stillForbidden.statusCode).toBe(403);
    const selfApproval = await post(rootToken, `/api/access/grants/${adminGrant.id}/approve`, {});
    expect(selfApproval.statusCode).toBe(403);
    expect(selfApproval.json().error.code).toBe('separation_of_duties');
    const selfGrant = await post(rootToken, '/api/access/grants', { user: 'root', role: 'finance',
      expires_at: '2027-06-01T00:00:00Z', reason: 'me' });
    expect(selfGrant.json().error.code).toBe('separation_of_duties');

    const finance = (await post(rootToken, '/api/access/users', { name: 'Fran', email: 'fran@example.com',
      kind: 'person' })).json();
    const financeGrant = (await post(rootToken, '/api/access/grants', { user: finance.id, role: 'finance',
      scope: { currencies: ['CAD'] }, expires_at: '2027-06-01T00:00:00Z', reason: 'CAD close' })).json();
    expect(financeGrant).toMatchObject({ status: 'active', scope: { currencies: ['CAD'] }, granted_by: 'root' });
    const franToken = (await post(rootToken, '/api/access/tokens', { user: finance.id })).json().token;
    const franAdmin = await app.inject({ method: 'GET', url: '/api/access/users', headers: bearer(franToken) });
    expect(franAdmin.statusCode).toBe(403);
    const franAudit = await app.inject({ method: 'GET', url: '/api/audit', headers: bearer(franToken) });
    expect(franAudit.statusCode).toBe(403);

    const trail = await app.inject({ method: 'GET', url: '/api/audit?action=grant.refuse_approval&limit=5',
      headers: bearer(rootToken) });
    expect(trail.statusCode).toBe(200);
    expect(trail.json().items[0]).toMatchObject({ actor: 'root', action: 'grant.refuse_approval', object: adminGrant.id });
  });

  it('revokes with a reason, and the grant stops at once', async () => {
    const users = (await app.inject({ method: 'GET', url: '/api/access/grants', headers: bearer(rootToken) })).json();
    const active = users.items.find((g: { role: string; status: string }) => g.role === 'finance' && g.status === 'active');
    const noReason = await app.inject({ method: 'DELETE', url: `/api/access/grants/${active.id}`, headers: bearer(rootToken),
      payload: {} });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json().error.field).toBe('reason');
    const revoked = await app.inject({ method: 'DELETE', url: `/api/access/grants/${active.id}`,
      headers: bearer(rootToken), payload: { reason: 'moved teams' } });
    expect(revoked.json()).toEqual({ id: active.id, status: 'revoked' });
  });

  it('serves Prometheus metrics to metrics:read or the scrape token, and to nobody else', async () => {
    const admin = await app.inject({ method: 'GET', url: '/metrics', headers: bearer(rootToken) });
    expect(admin.statusCode).toBe(200);
    expect(admin.body).toMatch(/^ledger_reconciliation_breaks_open 0$/m);
    expect(admin.body).toMatch(/ledger_http_request_duration_seconds_count\{method="GET",route="\/api\/access\/users",status="200"\}/);
    const scraper = await app.inject({ method: 'GET', url: '/metrics', headers: bearer('scrape-secret-0123456789') });
    expect(scraper.statusCode).toBe(200);
    const scrapeElsewhere = await app.inject({ method: 'GET', url: '/api/access/users',
      headers: bearer('scrape-secret-0123456789') });
    expect(scrapeElsewhere.statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
  });

  it('will not start with a route that declares no permission', async () => {
    await expect(buildHttpServer({ pool: db.pool, clock: () => now, logger: false, oidc: null, version: 'test',
      routes: [(a) => { a.get('/api/leaky', async () => ({})); }] })).rejects.toThrow(/GET \/api\/leaky declares no permission/);
  });

  it('will not start with an API route whose answers are not documented', async () => {
    await expect(buildHttpServer({ pool: db.pool, clock: () => now, logger: false, oidc: null, version: 'test',
      routes: [(a) => { a.get('/api/undocumented', { config: { permission: 'reports:read' } }, async () => ({})); }] }))
      .rejects.toThrow(/GET \/api\/undocumented has no documented answers/);
  });
});
