// Browser journey 6 (issue 14): OIDC login through a real OpenID provider that the test
// starts (oidc-provider, test/support/oidc-provider.ts) lands on the runs page as the
// mapped user. The person signs in at the provider as a subject the ledger has never
// seen, with a verified email that is the auditor's, so the ledger maps them by email as
// it maps a bearer JWT; the session is the same kind as a token login's, recorded in the
// trail with via "oidc". A subject with no known identity and no email is refused with a
// plain message, and that failure is in the trail; a callback without this browser's
// signed flow cookie (a forged or replayed one) begins nothing. Real headless Chromium; the ledger's
// pages are checked with axe-core and saved under test-output/screenshots/oidc/ (the
// provider's own development forms are not ours, and are only filled in).
import { createServer } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPage, launchBrowser, newContext } from '../support/browser.ts';
import { startOpenIdProvider, type TestOpenIdProvider } from '../support/oidc-provider.ts';
import { createWebWorld, type WebWorld } from '../support/web.ts';

const journey = 'oidc';

/** A loopback port free now: the provider must know the ledger's callback URL before the ledger listens. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('journey: OIDC login', () => {
  let world: WebWorld;
  let provider: TestOpenIdProvider;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    provider = await startOpenIdProvider({ ledgerUrl: base, subject: 'idp|otto', email: 'aud@example.com' });
    world = await createWebWorld({ env: { PORT: String(port), LEDGER_PUBLIC_URL: base,
      LEDGER_OIDC_ISSUER: provider.issuer, LEDGER_OIDC_AUDIENCE: provider.clientId, LEDGER_OIDC_CLIENT_ID: provider.clientId } });
    await world.app.listen({ port, host: '127.0.0.1' });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await world?.close();
    await provider?.close();
  });

  const trail = async (action: string) => (await world.ledger.db.adminPool.query<{ actor: string;
    detail: Record<string, unknown> }>('SELECT actor, detail FROM access.audit_trail WHERE action = $1 ORDER BY seq',
  [action])).rows;

  /** At the provider: its development sign-in form (any password), then its consent form. */
  async function signInAtProvider(page: Page, login: string): Promise<void> {
    await page.waitForURL(`${provider.issuer}/**`);
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('any password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
  }

  it('lands on the runs page as the person the verified email maps to', async () => {
    const context = await newContext(browser, base);
    const page = await context.newPage();
    await page.goto('/login');
    const button = page.getByRole('link', { name: `Sign in with ${new URL(provider.issuer).host}` });
    await expect.poll(() => button.count()).toBe(1);
    await checkPage(page, journey, '01-login');
    await button.click();
    await signInAtProvider(page, provider.login);
    await page.waitForURL(`${base}/runs`);
    expect(await page.locator('h1').textContent()).toBe('Report runs');
    expect(await page.locator('.who').textContent()).toContain('Signed in as Otto Auditor (aud)');
    await checkPage(page, journey, '02-runs');
    expect((await trail('session.login')).at(-1)).toMatchObject({ actor: 'aud', detail: { via: 'oidc' } });
    await context.close();
  });

  it('refuses a subject the ledger does not know, in plain words, and records it', async () => {
    const failuresBefore = (await trail('auth.failure')).length;
    const context = await newContext(browser, base);
    const page = await context.newPage();
    await page.goto('/login');
    await page.getByRole('link', { name: /^Sign in with / }).click();
    await signInAtProvider(page, 'idp|stranger');
    await page.waitForURL(`${base}/login/oidc/callback**`);
    expect(await page.locator('[role="alert"]').textContent()).toContain('OIDC subject is not a known identity');
    expect(await context.cookies()).not.toContainEqual(expect.objectContaining({ name: 'ledger_session' }));
    await checkPage(page, journey, '03-unknown-subject');
    const failures = await trail('auth.failure');
    expect(failures.length).toBe(failuresBefore + 1);
    expect(failures.at(-1)?.detail).toMatchObject({ reason: expect.stringContaining('OIDC subject is not a known identity') });
    await context.close();
  });

  it('refuses a callback that this browser did not start (no signed flow cookie), beginning no session', async () => {
    const forged = await world.app.inject({ method: 'GET', url: '/login/oidc/callback?code=stolen&state=guessed',
      headers: { cookie: 'ledger_oidc=e30.forged' } });
    expect(forged.statusCode).toBe(400);
    expect(forged.body).toContain('this sign-in began too long ago, or in another browser');
    expect(String(forged.headers['set-cookie'] ?? '')).not.toContain('ledger_session=');
  });
});
