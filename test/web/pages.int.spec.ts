// The finance and admin pages as each role sees them, through app.inject with a session
// from the login form: what renders, what is absent, and scope exactly as in the API
// (a CAD-scoped finance user sees no USD run anywhere, counts included, and a USD run's
// URL is the not-found page).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebWorld, loginByForm, type CookieJar, type WebWorld } from '../support/web.ts';

describe('web pages by role', () => {
  let world: WebWorld;
  const jars: Record<string, CookieJar> = {};
  beforeAll(async () => {
    world = await createWebWorld();
    for (const who of ['admin', 'admin2', 'fin', 'cadfin', 'aud', 'view', 'newbie']) {
      jars[who] = await loginByForm(world.app, world.tokens[who] as string);
    }
  });
  afterAll(async () => world?.close());

  const page = (who: string, url: string) => world.app.inject({ method: 'GET', url,
    headers: { cookie: (jars[who] as CookieJar).header() } });

  it('lists runs newest first and shows a run with its figures, charts and downloads', async () => {
    const list = await page('fin', '/runs');
    expect(list.statusCode).toBe(200);
    expect(list.headers['content-type']).toMatch(/^text\/html/);
    expect(list.body).toContain(`/runs/${world.usdRunId}`);
    expect(list.body).toContain(`/runs/${world.cadRunId}`);
    const run = await page('fin', `/runs/${world.usdRunId}`);
    expect(run.statusCode).toBe(200);
    expect(run.body).toContain('Net revenue by market across months, USD');
    expect(run.body).toContain('Deferred balance roll-forward, USD');
    expect(run.body).toContain(`/api/report-runs/${world.usdRunId}/files/xlsx`);
    expect(run.body).toMatch(/<td class="amount">[\d,]+\.\d\d <abbr class="ccy">USD<\/abbr><\/td>/);
    expect(run.body).toContain('UTC</time>');
  });

  it('shows a CAD-scoped user no USD run anywhere, and a USD run as not found', async () => {
    const list = await page('cadfin', '/runs');
    expect(list.body).toContain(`/runs/${world.cadRunId}`);
    expect(list.body).not.toContain(world.usdRunId);
    expect(list.body).not.toMatch(/\bUSD\b/);
    const usd = await page('cadfin', `/runs/${world.usdRunId}`);
    expect(usd.statusCode).toBe(404);
    expect(usd.headers['content-type']).toMatch(/^text\/html/);
    expect(usd.body).toContain(`no report run ${world.usdRunId}`);
    const cad = await page('cadfin', `/runs/${world.cadRunId}`);
    expect(cad.statusCode).toBe(200);
    expect(cad.body).not.toMatch(/\bUSD\b/);
  });
});
