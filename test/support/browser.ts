// A real headless Chromium for the browser journeys (playwright-core), with the pages'
// Content-Security-Policy enforced as for anyone. Its binary comes
// without manual steps: CHROME_PATH when set, else the one the npm package
// @sparticuz/chromium unpacks. Each page a journey visits is checked with axe-core run
// inside the page (no serious or critical violation may pass) and saved as a screenshot
// under test-output/screenshots/<journey>/<step>.png, so a reviewer can look without
// running anything.
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const screenshotsDir = path.resolve('test-output', 'screenshots');
const require = createRequire(import.meta.url);

export async function launchBrowser(): Promise<Browser> {
  const sparticuz = process.env.CHROME_PATH === undefined ? (await import('@sparticuz/chromium')).default : null;
  const executablePath = process.env.CHROME_PATH ?? await (sparticuz as NonNullable<typeof sparticuz>).executablePath();
  // Its args are made for AWS Lambda; --single-process there makes the browser die when a
  // context closes (measured here: the next newPage fails), and journeys use several contexts.
  const args = sparticuz === null ? [] : sparticuz.args.filter((arg) => arg !== '--single-process');
  return chromium.launch({ executablePath, headless: true, args });
}

/** A fresh context (its own cookies) whose relative URLs resolve against the service. */
export async function newContext(browser: Browser, baseURL: string): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 900 }, acceptDownloads: true,
    timezoneId: 'UTC', locale: 'en-US' });
  // A page that waits for a missing element fails in seconds, not at the test's timeout.
  context.setDefaultTimeout(15_000);
  return context;
}

type AxeViolation = { id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[] }> };

let axeSource: string | null = null;

/** Runs axe-core in the page; throws naming every serious or critical violation. */
export async function checkAccessibility(page: Page): Promise<void> {
  axeSource ??= await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated through the DevTools protocol, not as a <script> tag: the pages' strict
  // Content-Security-Policy (script-src 'self') stays in force, and refuses inline tags.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(
    'axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations)') as AxeViolation[];
  const grave = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (grave.length > 0) {
    const listed = grave.map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    throw new Error(`accessibility violations on ${page.url()}:\n${listed.join('\n')}`);
  }
}

/** Saves the whole page as test-output/screenshots/<journey>/<step>.png. */
export async function screenshot(page: Page, journey: string, step: string): Promise<string> {
  const file = path.join(screenshotsDir, journey, `${step}.png`);
  await mkdir(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Both checks on the page as it stands: what every step of a journey does once it has loaded. */
export async function checkPage(page: Page, journey: string, step: string): Promise<void> {
  await checkAccessibility(page);
  await screenshot(page, journey, step);
}
