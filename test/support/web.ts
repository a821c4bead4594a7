// A ledger with people and report runs, and the app that serves its web pages, for the
// web tests (app.inject) and the browser journeys (a real socket). People: two admins
// (`admin` from bootstrap, `admin2`), `fin` (finance, everything), `cadfin` (finance,
// CAD only), `aud` (auditor), `view` (viewer), and `newbie` with no grant; each has an
// API token in `tokens`. Runs: revenue 2026-10 for USD (as the schedule makes it, by
// `scheduler`) and for CAD. The app's clock is `world.now`, which tests move forward.
import { approveGrant, bootstrapAdmin, createIdentity, grantRole, issueTokenFor } from '../../src/access-control/service.ts';
import { buildApp } from '../../src/app/http.ts';
import { loadConfig } from '../../src/config.ts';
import { generateEventStream } from '../../src/generator/index.ts';
import type { HttpApp } from '../../src/http/server.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { createRun } from '../../src/reports/runs.ts';
import { testApprover } from './keys.ts';
import { createTestLedger, type TestLedger } from './ledger.ts';
import { reportContext } from './reports.ts';

export type WebWorld = {
  readonly ledger: TestLedger;
  readonly app: HttpApp;
  readonly tokens: Record<string, string>;
  readonly usdRunId: string;
  readonly cadRunId: string;
  /** The app's clock: move it to test idle timeouts. */
  now: Date;
  /** Listens on 127.0.0.1 (browser tests); the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
};

export type WebWorldOptions = { readonly env?: Record<string, string>; readonly rentals?: number };

export async function createWebWorld(options: WebWorldOptions = {}): Promise<WebWorld> {
  const ledger = await createTestLedger();
  await ledger.publish(generateEventStream({ seed: 11, rentals: options.rentals ?? 120, month: '2026-10',
    approve: testApprover }));
  await ledger.project();
  const reports = await reportContext(ledger);
  const made = new Date('2026-11-01T06:00:00Z');
  const usd = await createRun(reports, { report: 'revenue', params: { period: '2026-10' }, requestedBy: 'scheduler', now: made });
  const cad = await createRun(reports, { report: 'revenue', params: { period: '2026-10', currency: 'CAD' },
    requestedBy: 'scheduler', now: made });
  const tokens: Record<string, string> = {};
  const ctx = { pool: ledger.db.pool, clock: () => new Date() };
  const admin = await bootstrapAdmin(ctx, 'test', { name: 'Ada Admin', email: 'admin@example.com' });
  tokens[admin.user.id] = admin.token;
  const as = { identityId: admin.user.id, source: 'test', grantId: null };
  const expires = new Date(Date.now() + 30 * 86_400_000).toISOString();
  const people = [['admin2', 'Bea Admin', 'admin', undefined], ['fin', 'Finn Finance', 'finance', undefined],
    ['cadfin', 'Carla CAD', 'finance', { currencies: ['CAD'] }], ['aud', 'Otto Auditor', 'auditor', undefined],
    ['view', 'Vera Viewer', 'viewer', undefined], ['newbie', 'Nina New', null, undefined]] as const;
  let second: string | null = null;
  for (const [id, name, role, scope] of people) {
    await createIdentity(ctx, as, { id, name, email: `${id}@example.com`, kind: 'person' });
    if (role !== null) {
      const grant = await grantRole(ctx, as, { user: id, role, scope, expires_at: expires, reason: 'test world' });
      if (grant.status === 'pending') {
        await approveGrant(ctx, second === null ? as : { identityId: second, source: 'test', grantId: null }, grant.id,
          { reason: 'test world', breakGlass: second === null });
      }
    }
    if (id === 'admin2') second = id;
    tokens[id] = (await issueTokenFor(ctx, as, { user: id })).token;
  }
  const config = loadConfig({ DATABASE_URL: ledger.db.url, LEDGER_DATA_DIR: ledger.dataDir, PORT: '0',
    ...options.env });
  const world: WebWorld = {
    ledger, tokens, usdRunId: usd.run_id, cadRunId: cad.run_id, now: new Date(),
    app: undefined as unknown as HttpApp,
    async listen() {
      await world.app.listen({ port: 0, host: '127.0.0.1' });
      return `http://127.0.0.1:${(world.app.server.address() as { port: number }).port}`;
    },
    async close() {
      await world.app.close();
      await ledger.close();
    },
  };
  (world as { app: HttpApp }).app = await buildApp(config, { pool: ledger.db.pool, metrics: createMetrics(ledger.db.pool),
    clock: () => world.now, reports }, { logger: false });
  return world;
}

/** Session cookies as a browser keeps them, for app.inject: login, then send them back. */
export class CookieJar {
  readonly cookies = new Map<string, string>();
  take(setCookie: string | string[] | undefined): void {
    for (const line of [setCookie ?? []].flat()) {
      const [pair] = line.split(';');
      const at = (pair ?? '').indexOf('=');
      const name = (pair ?? '').slice(0, at).trim();
      const value = (pair ?? '').slice(at + 1).trim();
      if (/Expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** The CSRF token a page's form carries. */
export function csrfOf(page: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(page);
  if (match === null) throw new Error('the page has no form with a CSRF token');
  return match[1] as string;
}

/** Logs in through the login form with `who`'s token; returns the jar holding the session. */
export async function loginByForm(app: HttpApp, token: string): Promise<CookieJar> {
  const jar = new CookieJar();
  const form = await app.inject({ method: 'GET', url: '/login' });
  jar.take(form.headers['set-cookie']);
  const posted = await app.inject({ method: 'POST', url: '/login', headers: { cookie: jar.header(),
    'content-type': 'application/x-www-form-urlencoded' },
  payload: new URLSearchParams({ token, _csrf: csrfOf(form.body), next: '/' }).toString() });
  if (posted.statusCode !== 303) throw new Error(`login answered ${posted.statusCode}: ${posted.body.slice(0, 500)}`);
  jar.take(posted.headers['set-cookie']);
  return jar;
}
