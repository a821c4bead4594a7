// Logging in to the web pages with an API token, through the form, as a browser would
// (app.inject with the cookies it was given): the session cookie's flags, the trail's
// record of logins, failures and logouts, the idle timeout on the app's own clock, CSRF
// refusal with nothing written, the security headers, and the 429 limiter on the form.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebWorld, csrfOf, CookieJar, loginByForm, type WebWorld } from '../support/web.ts';

describe('web sessions', () => {
  let world: WebWorld;
  beforeAll(async () => {
    world = await createWebWorld({ env: { LEDGER_SESSION_IDLE_MINUTES: '30' } });
  });
  afterAll(async () => world?.close());

  const trail = async (action: string) => (await world.ledger.db.adminPool.query<{ actor: string; object: string;
    detail: Record<string, unknown> }>('SELECT actor, object, detail FROM access.audit_trail WHERE action = $1 ORDER BY seq',
  [action])).rows;

  it('logs in with a token: an HTTP-only, SameSite=Strict cookie, recorded in the trail', async () => {
    const form = await world.app.inject({ method: 'GET', url: '/login' });
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('<label for="token">');
    const jar = await loginByForm(world.app, world.tokens.fin as string);
    const session = jar.cookies.get('ledger_session');
    expect(session).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const home = await world.app.inject({ method: 'GET', url: '/', headers: { cookie: jar.header() } });
    expect(home.statusCode).toBe(303);
    expect(home.headers.location).toBe('/runs');
    const logins = await trail('session.login');
    expect(logins.at(-1)).toMatchObject({ actor: 'fin', detail: { via: 'token', idle_seconds: 1800 } });
    const stored = await world.ledger.db.adminPool.query('SELECT encode(secret_sha256, \'hex\') AS h FROM access.sessions');
    expect(stored.rows.map((r) => r.h)).not.toContain(session);
  });

  it('sets the cookie HTTP-only, SameSite=Strict, for the whole site, without Secure over plain HTTP', async () => {
    const form = await world.app.inject({ method: 'GET', url: '/login' });
    const jar = new CookieJar();
    jar.take(form.headers['set-cookie']);
    const posted = await world.app.inject({ method: 'POST', url: '/login', headers: { cookie: jar.header(),
      'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ token: world.tokens.view as string, _csrf: csrfOf(form.body) }).toString() });
    const cookie = [posted.headers['set-cookie']].flat().find((c) => c?.startsWith('ledger_session=')) as string;
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).not.toMatch(/Secure/);
    expect(cookie).not.toMatch(/Max-Age|Expires/);
  });

  it('refuses a wrong token on the form, in the trail, with no session made', async () => {
    const sessionsBefore = await world.ledger.db.adminPool.query('SELECT count(*)::int AS n FROM access.sessions');
    const form = await world.app.inject({ method: 'GET', url: '/login', remoteAddress: '10.9.0.1' });
    const jar = new CookieJar();
    jar.take(form.headers['set-cookie']);
    const posted = await world.app.inject({ method: 'POST', url: '/login', remoteAddress: '10.9.0.1',
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ token: `ldg_${'x'.repeat(43)}`, _csrf: csrfOf(form.body) }).toString() });
    expect(posted.statusCode).toBe(401);
    expect(posted.body).toContain('That token did not work: unknown, expired or revoked token.');
    expect(posted.headers['set-cookie']?.toString() ?? '').not.toContain('ledger_session=');
    expect((await trail('auth.failure')).at(-1)).toMatchObject({ actor: 'anonymous', object: '/login' });
    const sessionsAfter = await world.ledger.db.adminPool.query('SELECT count(*)::int AS n FROM access.sessions');
    expect(sessionsAfter.rows[0].n).toBe(sessionsBefore.rows[0].n);
  });

  it('answers 429 on the login form after too many failures from one address', async () => {
    const address = '10.9.0.2';
    const form = await world.app.inject({ method: 'GET', url: '/login', remoteAddress: address });
    const jar = new CookieJar();
    jar.take(form.headers['set-cookie']);
    const attempt = (token: string) => world.app.inject({ method: 'POST', url: '/login', remoteAddress: address,
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ token, _csrf: csrfOf(form.body) }).toString() });
    for (let i = 0; i < 10; i += 1) expect((await attempt('ldg_wrong')).statusCode).toBe(401);
    const limited = await attempt(world.tokens.fin as string);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toMatch(/^\d+$/);
  });

  it('ends the session on logout: the cookie no longer opens a page, and the trail says so', async () => {
    const jar = await loginByForm(world.app, world.tokens.aud as string);
    const runs = await world.app.inject({ method: 'GET', url: '/runs', headers: { cookie: jar.header() } });
    expect(runs.statusCode).toBe(200);
    const stale = jar.header();
    const out = await world.app.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header(),
      'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${encodeURIComponent(csrfOf(runs.body))}` });
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe('/login');
    const after = await world.app.inject({ method: 'GET', url: '/runs', headers: { cookie: stale } });
    expect(after.statusCode).toBe(303);
    expect(after.headers.location).toBe('/login?next=%2Fruns');
    expect((await trail('session.logout')).at(-1)).toMatchObject({ actor: 'aud' });
    const api = await world.app.inject({ method: 'GET', url: '/api/report-runs', headers: { cookie: stale } });
    expect(api.statusCode).toBe(401);
  });

  it('ends a session idle longer than LEDGER_SESSION_IDLE_MINUTES, by the app\'s clock; use keeps it alive', async () => {
    const start = world.now;
    try {
      const jar = await loginByForm(world.app, world.tokens.fin as string);
      const open = (minutes: number) => {
        world.now = new Date(world.now.getTime() + minutes * 60_000);
        return world.app.inject({ method: 'GET', url: '/runs', headers: { cookie: jar.header() } });
      };
      expect((await open(29)).statusCode).toBe(200);
      expect((await open(29)).statusCode).toBe(200); // 58 minutes in, but never 30 idle
      const idle = await open(31);
      expect(idle.statusCode).toBe(303);
      expect(idle.headers.location).toBe('/login?next=%2Fruns');
      expect((await open(0)).statusCode).toBe(303); // ended stays ended
      const ended = await world.ledger.db.adminPool.query(`SELECT end_reason FROM access.sessions
        WHERE identity_id = 'fin' ORDER BY created_at DESC LIMIT 1`);
      expect(ended.rows[0]).toEqual({ end_reason: 'idle' });
      expect((await trail('auth.failure')).slice(-2).map((r) => r.detail.reason))
        .toEqual(['session idle for too long', 'session ended (idle)']);
    } finally {
      world.now = start;
    }
  });

  it('refuses a form posted without its CSRF token or with another session\'s, and writes nothing', async () => {
    const jar = await loginByForm(world.app, world.tokens.admin as string);
    const other = await loginByForm(world.app, world.tokens.admin2 as string);
    const othersPage = await world.app.inject({ method: 'GET', url: '/admin/grants', headers: { cookie: other.header() } });
    const grantsBefore = await world.ledger.db.adminPool.query('SELECT count(*)::int AS n FROM access.grants');
    const body = { user: 'newbie', role: 'viewer', expires: '2030-01-01', reason: 'csrf test' };
    for (const token of [undefined, csrfOf(othersPage.body)]) {
      const posted = await world.app.inject({ method: 'POST', url: '/admin/grants', headers: { cookie: jar.header(),
        'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ ...body, ...(token === undefined ? {} : { _csrf: token }) }).toString() });
      expect(posted.statusCode).toBe(403);
      expect(posted.headers['content-type']).toMatch(/^text\/html/);
      expect(posted.body).toContain('this form was not sent from its page here');
    }
    const grantsAfter = await world.ledger.db.adminPool.query('SELECT count(*)::int AS n FROM access.grants');
    expect(grantsAfter.rows[0].n).toBe(grantsBefore.rows[0].n);
  });

  it('sends a strict Content-Security-Policy and the usual security headers with pages, errors and redirects', async () => {
    const jar = await loginByForm(world.app, world.tokens.fin as string);
    for (const response of [await world.app.inject({ method: 'GET', url: '/login' }),
      await world.app.inject({ method: 'GET', url: '/runs', headers: { cookie: jar.header() } }),
      await world.app.inject({ method: 'GET', url: '/runs' }),
      await world.app.inject({ method: 'GET', url: '/no-such-page' })]) {
      const csp = response.headers['content-security-policy'] as string;
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(response.headers['referrer-policy']).toBe('same-origin');
      expect(response.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    }
    const page = await world.app.inject({ method: 'GET', url: '/runs', headers: { cookie: jar.header() } });
    expect(page.body).not.toMatch(/<script(?![^>]*\ssrc=)/);
    expect(page.body).not.toMatch(/\sstyle="/);
    expect(page.body).not.toMatch(/\son[a-z]+="/);
  });

  it('serves the stylesheet with an ETag, and for a year when asked by its version', async () => {
    const login = await world.app.inject({ method: 'GET', url: '/login' });
    const href = /<link rel="stylesheet" href="([^"]+)"/.exec(login.body)?.[1] as string;
    const css = await world.app.inject({ method: 'GET', url: href });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const again = await world.app.inject({ method: 'GET', url: href, headers: { 'if-none-match': css.headers.etag as string } });
    expect(again.statusCode).toBe(304);
  });

  it('keeps sessions against the service\'s own login: no delete, no rewrite, no reopening, no going back in time', async () => {
    const jar = await loginByForm(world.app, world.tokens.view as string);
    const runs = await world.app.inject({ method: 'GET', url: '/runs', headers: { cookie: jar.header() } });
    await world.app.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header(),
      'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${encodeURIComponent(csrfOf(runs.body))}` });
    const service = world.ledger.db.pool;
    const id = (await service.query<{ session_id: string }>(`SELECT session_id FROM access.sessions
      WHERE identity_id = 'view' AND end_reason = 'logout' ORDER BY created_at DESC LIMIT 1`)).rows[0]?.session_id;
    expect(id).toMatch(/^ses_/);
    const refused = async (sql: string) => expect(service.query(sql, [id])).rejects.toThrow();
    await refused('DELETE FROM access.sessions WHERE session_id = $1');
    await refused('UPDATE access.sessions SET ended_at = NULL, end_reason = NULL WHERE session_id = $1');
    await refused('UPDATE access.sessions SET identity_id = \'admin\' WHERE session_id = $1');
    await refused('UPDATE access.sessions SET expires_at = expires_at + interval \'1 year\' WHERE session_id = $1');
    await refused('UPDATE access.sessions SET last_seen_at = last_seen_at - interval \'1 hour\' WHERE session_id = $1');
    await expect(service.query('TRUNCATE access.sessions')).rejects.toThrow();
  });
});
