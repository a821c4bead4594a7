// Browser journeys 1, 3, 4 and 5 of issue 14, in a real headless Chromium against the
// service on a real socket (test/support/browser.ts): finance downloads the scheduled
// revenue run's xlsx and its SHA-256 is the manifest's; an admin grants the auditor role,
// it shows pending, a second admin approves it in another browser context and the user
// then opens lineage pages; a CAD-scoped finance user sees no USD run, figure or event
// anywhere; logout ends the session, a form without its CSRF token is refused with
// nothing written, and an idle session goes back to the login page. Every page visited
// is checked with axe-core and saved under test-output/screenshots/<journey>/.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPage, launchBrowser, newContext } from '../support/browser.ts';
import { createWebWorld, type WebWorld } from '../support/web.ts';

describe('browser journeys: finance, admin, scope, sessions', () => {
  let world: WebWorld;
  let browser: Browser;
  let base: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    world = await createWebWorld();
    base = await world.listen();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await world?.close();
  });

  /** A new browser (its own cookies) logged in as `who` through the login form. */
  async function loggedIn(who: string, journey: string, step?: string): Promise<Page> {
    const context = await newContext(browser, base);
    contexts.push(context);
    const page = await context.newPage();
    await page.goto('/login');
    if (step !== undefined) await checkPage(page, journey, step);
    await page.getByLabel('API token').fill(world.tokens[who] as string);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL((url) => url.pathname !== '/login');
    return page;
  }
  const text = async (page: Page, selector = 'main') => (await page.locator(selector).textContent()) ?? '';

  it('1: finance opens the scheduled revenue run and downloads the xlsx, whose SHA-256 is the manifest\'s', async () => {
    const journey = 'finance';
    const page = await loggedIn('fin', journey, '01-login');
    expect(new URL(page.url()).pathname).toBe('/runs');
    await checkPage(page, journey, '02-runs');
    const row = page.locator('tbody tr', { hasText: 'scheduled' }).filter({ hasText: /period 2026-10$/m })
      .filter({ hasNotText: 'currency' });
    await row.getByRole('link', { name: 'revenue' }).click();
    await page.waitForURL(`${base}/runs/${world.usdRunId}`);
    expect(await text(page, 'h1')).toContain('period 2026-10');
    expect(await page.locator('figure.chart svg').count()).toBeGreaterThanOrEqual(2);
    await checkPage(page, journey, '03-run');
    const [download] = await Promise.all([page.waitForEvent('download'),
      page.getByRole('link', { name: /^XLSX/ }).click()]);
    const xlsx = await readFile(await download.path());
    const manifest = await (await page.request.get(`/api/report-runs/${world.usdRunId}/files/manifest`)).json() as {
      manifest: { files: { xlsx: { sha256: string } } } };
    expect(createHash('sha256').update(xlsx).digest('hex')).toBe(manifest.manifest.files.xlsx.sha256);
    expect(download.suggestedFilename()).toMatch(/^revenue-.*\.xlsx$/);
  });

  it('3: an admin grants the auditor role, a second admin approves it, and the user opens lineage pages', async () => {
    const journey = 'admin';
    const newbie = await loggedIn('newbie', journey);
    expect(await text(newbie, 'main')).toContain('You hold no grant in force');
    await checkPage(newbie, journey, '01-newbie-without-grant');
    const figure = await world.ledger.db.adminPool.query<{ figure_id: string }>(`SELECT figure_id FROM ledger.report_figures
      WHERE run_id = $1 AND key = 'net_revenue' AND value <> '0.00' LIMIT 1`, [world.usdRunId]);
    const figureUrl = `/figures/${figure.rows[0]?.figure_id}`;
    expect((await newbie.goto(figureUrl))?.status()).toBe(403);

    const admin = await loggedIn('admin', journey, '02-login');
    await admin.getByRole('link', { name: 'Users' }).click();
    await admin.waitForURL(`${base}/admin/users`);
    await checkPage(admin, journey, '03-users');
    await admin.getByRole('link', { name: 'Grants' }).click();
    await admin.locator('#g-user').selectOption('newbie');
    await admin.locator('#g-role').selectOption('auditor');
    await admin.getByLabel('Reason', { exact: true }).fill('quarter-end audit');
    await admin.getByRole('button', { name: 'Grant', exact: true }).click();
    await admin.waitForURL(`${base}/admin/grants`);
    const pending = admin.locator('table', { hasText: 'Privileged grants waiting' }).locator('tbody tr', { hasText: 'newbie' });
    await expect.poll(() => pending.count()).toBe(1);
    expect(await pending.textContent()).toContain('pending');
    expect(await pending.getByRole('button', { name: /^Approve/ }).count()).toBe(0);
    expect(await pending.textContent()).toContain('you made this grant');
    await checkPage(admin, journey, '04-grant-pending');

    const second = await loggedIn('admin2', journey);
    await second.goto('/admin/grants');
    const toApprove = second.locator('table', { hasText: 'Privileged grants waiting' }).locator('tbody tr', { hasText: 'newbie' });
    await checkPage(second, journey, '05-second-admin');
    await toApprove.getByRole('button', { name: /^Approve/ }).click();
    await second.waitForURL(`${base}/admin/grants`);
    expect(await second.locator('table', { hasText: 'Privileged grants waiting' }).count()).toBe(0);
    await checkPage(second, journey, '06-approved');

    expect((await newbie.goto(figureUrl))?.status()).toBe(200);
    expect(await text(newbie, 'h1')).toMatch(/^Net revenue — /);
    expect(await newbie.locator('tbody a[href^="/entries/"]').count()).toBeGreaterThan(0);
    await checkPage(newbie, journey, '07-lineage');
    const grant = await world.ledger.db.adminPool.query(`SELECT a.approved_by FROM access.grants g
      JOIN access.grant_approvals a USING (grant_id) WHERE g.identity_id = 'newbie' AND g.role = 'auditor'`);
    expect(grant.rows).toEqual([{ approved_by: 'admin2' }]);
  });

  it('4: a CAD-scoped finance user sees no USD run, figure or event anywhere; a USD figure is a not-found page', async () => {
    const journey = 'cad-scope';
    const page = await loggedIn('cadfin', journey);
    await checkPage(page, journey, '01-runs');
    const runLinks = await page.locator('tbody a[href^="/runs/"]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(runLinks).toEqual([`/runs/${world.cadRunId}`]);
    expect(await text(page)).not.toMatch(/\bUSD\b/);
    await page.goto(`/runs/${world.cadRunId}`);
    expect(await text(page)).not.toMatch(/\bUSD\b/);
    await checkPage(page, journey, '02-cad-run');
    await page.locator('main tbody a[href^="/figures/"]').first().click();
    await page.waitForURL(/\/figures\//);
    expect(await text(page)).not.toMatch(/\bUSD\b/);
    await checkPage(page, journey, '03-cad-figure');
    await page.goto('/reconciliation');
    expect(await text(page)).not.toMatch(/\bUSD\b/);
    await checkPage(page, journey, '04-reconciliation');

    const usdFigure = await world.ledger.db.adminPool.query<{ figure_id: string }>(`SELECT figure_id FROM ledger.report_figures
      WHERE run_id = $1 AND dims->>'currency' = 'USD' LIMIT 1`, [world.usdRunId]);
    const usdEvent = await world.ledger.db.adminPool.query<{ event_id: string }>(`SELECT e.event_id FROM ledger.journal_entries e
      WHERE EXISTS (SELECT 1 FROM ledger.journal_lines l WHERE l.entry_id = e.entry_id AND l.currency = 'USD') LIMIT 1`);
    for (const [url, step] of [[`/figures/${usdFigure.rows[0]?.figure_id}`, '05-usd-figure'],
      [`/runs/${world.usdRunId}`, '06-usd-run'], [`/events/${usdEvent.rows[0]?.event_id}`, '07-usd-event']] as const) {
      const response = await page.goto(url);
      expect(response?.status(), url).toBe(404);
      expect(await text(page, 'h1')).toBe('Not found');
      expect(await text(page)).not.toMatch(/\b\d+\.\d\d USD\b/);
      await checkPage(page, journey, step);
    }
  });

  it('5: logout ends the session; a form without its CSRF token is refused; an idle session goes to login', async () => {
    const journey = 'sessions';
    const page = await loggedIn('fin', journey);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${base}/login`);
    await checkPage(page, journey, '01-logged-out');
    await page.goto('/runs');
    expect(new URL(page.url()).pathname).toBe('/login');
    const ended = await world.ledger.db.adminPool.query(`SELECT end_reason FROM access.sessions
      WHERE identity_id = 'fin' AND ended_at IS NOT NULL`);
    expect(ended.rows.map((r) => r.end_reason)).toContain('logout');

    const again = await loggedIn('fin', journey);
    await again.goto('/runs/new');
    await checkPage(again, journey, '02-run-form');
    const runsBefore = await world.ledger.db.adminPool.query('SELECT count(*)::int AS n FROM ledger.report_runs');
    await again.getByLabel('Period').fill('2026-10');
    await again.locator('form[action="/runs/new"] input[name="_csrf"]').evaluate((input) => input.remove());
    const [refused] = await Promise.all([again.waitForResponse((r) => r.url().endsWith('/runs/new') && r.request().method() === 'POST'),
      again.getByRole('button', { name: 'Run the report' }).click()]);
    expect(refused.status()).toBe(403);
    expect(await text(again)).toContain('this form was not sent from its page here');
    await checkPage(again, journey, '03-csrf-refused');
    const runsAfter = await world.ledger.db.adminPool.query('SELECT count(*)::int AS n FROM ledger.report_runs');
    expect(runsAfter.rows[0].n).toBe(runsBefore.rows[0].n);

    world.now = new Date(world.now.getTime() + 31 * 60_000);
    await again.goto('/runs');
    expect(new URL(again.url()).pathname).toBe('/login');
    expect(new URL(again.url()).searchParams.get('next')).toBe('/runs');
    await checkPage(again, journey, '04-idle-back-to-login');
    const idle = await world.ledger.db.adminPool.query(`SELECT end_reason FROM access.sessions WHERE end_reason = 'idle'`);
    expect(idle.rows.length).toBe(1);
  });
});
