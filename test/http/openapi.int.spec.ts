// The OpenAPI document the service serves (GET /api/openapi.json, public) validates as
// OpenAPI 3 against the official schema, documents every route the application
// registered, and every documented route that needs a permission answers 401 to a call
// without a token (so the document describes routes that exist and are guarded).
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { buildApp } from '../../src/app/http.ts';
import type { HttpApp } from '../../src/http/server.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { testSigningKey } from '../support/keys.ts';

describe('the OpenAPI document', () => {
  let db: TestDatabase;
  let app: HttpApp;
  const routes: Array<{ method: string; url: string; permission: string }> = [];
  beforeAll(async () => {
    db = await createTestDatabase();
    const config = loadConfig({ DATABASE_URL: db.url, LEDGER_DATA_DIR: '/nonexistent' });
    const reports = { pool: db.pool, key: testSigningKey, dataDir: '/nonexistent', lineageBaseUrl: 'http://x/api/figures' };
    app = await buildApp(config, { pool: db.pool, metrics: createMetrics(db.pool), clock: () => new Date(), reports },
      { logger: false, onRoute: (route) => routes.push(route) });
  });
  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  it('validates as OpenAPI 3 and lists every registered route', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(response.statusCode).toBe(200);
    const document = response.json();
    const result = await new Validator().validate(document);
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.openapi).toMatch(/^3\./);
    const documented = Object.entries(document.paths as Record<string, Record<string, unknown>>)
      .flatMap(([url, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${url}`)).sort();
    // The API and /metrics; the web pages under / are pages, not API operations.
    const registered = routes.filter((r) => r.method !== 'HEAD' && r.url !== '/api/openapi.json'
      && (r.url.startsWith('/api/') || r.url === '/metrics'))
      .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`).sort();
    expect(documented).toEqual(registered);
  });

  it('guards every documented route that needs a permission', async () => {
    expect(routes.length).toBeGreaterThan(5);
    // The web pages are not in the document; the route matrix covers them (303 to the login page).
    for (const route of routes.filter((r) => r.permission !== 'public' && r.method !== 'HEAD'
      && (r.url.startsWith('/api/') || r.url === '/metrics'))) {
      const url = route.url.replace(/grants\/:id/, 'grants/grt_000000000000000000000000')
        .replace(/:id/, '00000000-0000-4000-8000-000000000000').replace(/:figureId/, `fig_${'0'.repeat(24)}`)
        .replace(/:eventId/, '00000000-0000-4000-8000-000000000000').replace(/:format/, 'json').replace(/:(\w+)/g, 'x');
      const response = await app.inject({ method: route.method as 'GET', url, remoteAddress: `10.0.${routes.indexOf(route)}.1` });
      expect(response.statusCode, `${route.method} ${route.url}`).toBe(401);
    }
  });
});
