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

  it('renders the pages each role may open, with a nav of only those, and a 403 page for the rest', async () => {
    const allowed: Record<string, string[]> = {
      fin: ['/runs', '/runs/new', '/reconciliation'], cadfin: ['/runs', '/runs/new', '/reconciliation'],
      aud: ['/runs', '/reconciliation'], view: ['/runs'], admin: ['/admin/users', '/admin/grants'],
    };
    const every = ['/runs', '/runs/new', '/reconciliation', '/admin/users', '/admin/grants'];
    for (const [who, urls] of Object.entries(allowed)) {
      for (const url of every) {
        const response = await page(who, url);
        if (urls.includes(url)) {
          expect(response.statusCode, `${who} ${url}`).toBe(200);
          expect(response.body).toContain(`<a href="${url}" aria-current="page">`);
        } else {
          expect(response.statusCode, `${who} ${url}`).toBe(403);
          expect(response.body).toMatch(/holds no grant in force with [a-z]+:[a-z]+/);
          expect(response.body).not.toContain(`<a href="${url}"`);
        }
      }
    }
    const none = await page('newbie', '/');
    expect(none.statusCode).toBe(200);
    expect(none.body).toContain('You hold no grant in force');
  });

  it('shows an admin the approve button only for someone else\'s pending grant', async () => {
    const made = await world.app.inject({ method: 'GET', url: '/admin/grants', headers: { cookie: jars.admin?.header() ?? '' } });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(made.body)?.[1] as string;
    const posted = await world.app.inject({ method: 'POST', url: '/admin/grants', headers: { cookie: jars.admin?.header() ?? '',
      'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ user: 'view', role: 'auditor', expires: new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10), reason: 'audit', _csrf: csrf }).toString() });
    expect(posted.statusCode).toBe(303);
    const pendingRow = (body: string) => /<tr><td class="mono">(grt_[0-9a-f]{24})<\/td><td>view<\/td><td>auditor<\/td>[\s\S]*?<\/tr>/.exec(body);
    const mine = pendingRow((await page('admin', '/admin/grants')).body);
    expect(mine?.[0]).toContain('you made this grant');
    expect(mine?.[0]).not.toContain('/approve');
    const theirs = pendingRow((await page('admin2', '/admin/grants')).body);
    expect(theirs?.[0]).toContain(`action="/admin/grants/${mine?.[1]}/approve"`);
  });

  it('says what to do when a list is empty', async () => {
    const filtered = await page('fin', '/runs?report=gl-detail');
    expect(filtered.body).toContain('No runs match these filters.');
    const recon = await page('fin', '/reconciliation');
    expect(recon.body).toContain('No reconciliation run in your scope yet.');
  });
});
